/**
 * The Hugging Face cache on disk, read and managed without the network:
 *
 *   <cache>/models--org--name/blobs/<etag>             file contents, named by their hub ETag
 *   <cache>/models--org--name/snapshots/<commit>/<file> links (or, without symlinks, the files themselves)
 *   <cache>/models--org--name/refs/<revision>          the commit a revision (`main`) pointed to
 *
 * the layout `huggingface_hub` writes, so models downloaded with Python are found here and the other way
 * round. Every path built from a repo id, revision or file name goes through the validators below: nothing is
 * ever read, written or removed outside the cache folder.
 */
import { lstatSync, readdirSync, readFileSync, rmSync, statSync, existsSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** A repo id, revision or file name that is not allowed, or a cache entry that is not there. */
export class HubCacheError extends Error {
  override readonly name = 'HubCacheError';
}

/** The standard cache folder: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
export function defaultHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface', 'hub');
}

const NAME_PART = /^\w(?:[\w.-]{0,94}\w)?$/;

/**
 * `org/name` (or a legacy single `name`) as the hub accepts them: letters, digits, `.`, `_`, `-`, starting and
 * ending with a letter, digit or `_`; no `..`, no `--` (the cache uses it as the separator), no `.git` ending.
 */
export function isValidRepoId(id: string): boolean {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) return false;
  const parts = id.split('/');
  if (parts.length > 2) return false;
  for (const p of parts) {
    if (!NAME_PART.test(p) || p.includes('..') || p.includes('--') || p.endsWith('.git')) return false;
  }
  return true;
}

export function checkRepoId(id: string): string {
  if (!isValidRepoId(id)) throw new HubCacheError(`"${id}" is not a Hugging Face repo id (expected org/name: letters, digits, '.', '_', '-')`);
  return id;
}

/** A branch or tag name or a commit hash: one path segment, no `..`. */
export function isValidRevision(rev: string): boolean {
  return typeof rev === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(rev) && !rev.includes('..');
}

export function checkRevision(rev: string): string {
  if (!isValidRevision(rev)) throw new HubCacheError(`"${rev}" is not a revision this cache accepts (a branch, tag or commit hash)`);
  return rev;
}

/**
 * A file path inside a repo: `/`-separated segments of letters, digits, `.`, `_`, `-`, `+`, `@`, `=`, space;
 * no empty, `.` or `..` segment, no backslash, no absolute path or drive letter, no control characters.
 */
export function isValidRepoFile(file: string): boolean {
  if (typeof file !== 'string' || file.length === 0 || file.length > 512) return false;
  if (file.startsWith('/') || file.includes('\\') || /^[A-Za-z]:/.test(file) || isAbsolute(file)) return false;
  return file.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..' && /^[A-Za-z0-9._\-+@= ]+$/.test(seg) && !seg.startsWith(' ') && !seg.endsWith(' '));
}

export function checkRepoFile(file: string): string {
  if (!isValidRepoFile(file)) throw new HubCacheError(`"${file}" is not a file name this cache accepts`);
  return file;
}

/** `models--org--name`. */
export function repoFolderName(repoId: string): string {
  return `models--${checkRepoId(repoId).replace('/', '--')}`;
}

/** The repo id of a cache folder name, or undefined. */
export function repoIdOfFolder(folderName: string): string | undefined {
  const m = /^models--(.+)$/.exec(folderName);
  if (!m) return undefined;
  const parts = m[1].split('--');
  const id = parts.length === 1 ? parts[0] : parts.length === 2 ? `${parts[0]}/${parts[1]}` : undefined;
  return id !== undefined && isValidRepoId(id) ? id : undefined;
}

/** Joins under `root` and refuses any result outside it (defence in depth after validation). */
export function insideCache(root: string, ...parts: string[]): string {
  const base = resolve(root);
  const p = resolve(base, ...parts);
  const rel = relative(base, p);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) throw new HubCacheError(`refusing a path outside the cache: ${parts.join('/')}`);
  return p;
}

interface RepoPaths {
  readonly repo: string;
  readonly blobs: string;
  readonly snapshots: string;
  readonly refs: string;
}

export function repoPaths(cacheDir: string, repoId: string): RepoPaths {
  const repo = insideCache(cacheDir, repoFolderName(repoId));
  return { repo, blobs: join(repo, 'blobs'), snapshots: join(repo, 'snapshots'), refs: join(repo, 'refs') };
}

/** The commit `refs/<revision>` names, if any. */
function readRef(cacheDir: string, repoId: string, revision = 'main'): string | undefined {
  const p = join(repoPaths(cacheDir, repoId).refs, checkRevision(revision));
  if (!existsSync(p)) return undefined;
  const commit = readFileSync(p, 'utf8').trim();
  return isValidRevision(commit) ? commit : undefined;
}

/**
 * The snapshot folder of a cached repo at `revision` (a ref such as `main`, or a commit), if it holds every
 * file of `required`; undefined when not cached (or incomplete).
 */
export function findCachedSnapshot(cacheDir: string, repoId: string, revision = 'main', required: readonly string[] = ['config.json']): string | undefined {
  const paths = repoPaths(cacheDir, repoId);
  const commit = readRef(cacheDir, repoId, revision) ?? (existsSync(join(paths.snapshots, checkRevision(revision))) ? revision : undefined);
  if (!commit) return undefined;
  const snap = insideCache(paths.snapshots, commit);
  for (const f of required) {
    try {
      if (!statSync(join(snap, checkRepoFile(f))).isFile()) return undefined; // follows the link to the blob
    } catch {
      return undefined;
    }
  }
  return snap;
}

export interface CachedModel {
  readonly repoId: string;
  /** The `models--org--name` folder. */
  readonly folder: string;
  /** Bytes on disk: blobs, and snapshot files that are not links (each file counted once). */
  readonly sizeBytes: number;
  /** Snapshot (commit) folder names. */
  readonly snapshots: readonly string[];
  /** revision → commit. */
  readonly refs: Readonly<Record<string, string>>;
  /** Whether the snapshot `main` points to (else the newest) has an ONNX graph under onnx/. */
  readonly hasOnnx: boolean;
  /** Files of that snapshot (relative paths). */
  readonly files: readonly string[];
  readonly modifiedMs: number;
  /** Unfinished downloads (`*.incomplete` blobs) present. */
  readonly incomplete: number;
}

function walkFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    let st: Stats;
    try {
      st = statSync(p);
    } catch {
      continue; // a dangling link
    }
    if (st.isDirectory()) out.push(...walkFiles(p, `${prefix}${name}/`));
    else out.push(`${prefix}${name}`);
  }
  return out;
}

/** Sums the bytes under `dir` without following links, counting each inode once. */
function diskUse(dir: string, seen: Set<string>): { bytes: number; newest: number } {
  let bytes = 0;
  let newest = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return { bytes, newest };
  }
  for (const name of entries) {
    const p = join(dir, name);
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    newest = Math.max(newest, st.mtimeMs);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) {
      const sub = diskUse(p, seen);
      bytes += sub.bytes;
      newest = Math.max(newest, sub.newest);
    } else {
      const key = `${st.dev}:${st.ino}`;
      if (!seen.has(key)) {
        seen.add(key);
        bytes += st.size;
      }
    }
  }
  return { bytes, newest };
}

/** One cached repo, or undefined when the cache has no folder for it. */
function describeCachedModel(cacheDir: string, repoId: string): CachedModel | undefined {
  const paths = repoPaths(cacheDir, repoId);
  if (!existsSync(paths.repo)) return undefined;
  const snapshots = existsSync(paths.snapshots) ? readdirSync(paths.snapshots).filter(isValidRevision).sort() : [];
  const refs: Record<string, string> = {};
  if (existsSync(paths.refs)) {
    for (const r of readdirSync(paths.refs)) {
      if (!isValidRevision(r)) continue;
      const c = readRef(cacheDir, repoId, r);
      if (c) refs[r] = c;
    }
  }
  const use = diskUse(paths.repo, new Set());
  const main = refs.main && snapshots.includes(refs.main) ? refs.main : snapshots.slice().sort((a, b) => statSync(join(paths.snapshots, b)).mtimeMs - statSync(join(paths.snapshots, a)).mtimeMs)[0];
  const files = main ? walkFiles(join(paths.snapshots, main)) : [];
  const incomplete = existsSync(paths.blobs) ? readdirSync(paths.blobs).filter((f) => f.endsWith('.incomplete')).length : 0;
  return {
    repoId,
    folder: paths.repo,
    sizeBytes: use.bytes,
    snapshots,
    refs,
    hasOnnx: files.some((f) => f.startsWith('onnx/') && f.endsWith('.onnx')),
    files,
    modifiedMs: use.newest,
    incomplete,
  };
}

/** Every model repo in the cache (datasets and spaces are left out), largest first. */
export function listCachedModels(cacheDir: string): CachedModel[] {
  if (!existsSync(cacheDir)) return [];
  const out: CachedModel[] = [];
  for (const name of readdirSync(cacheDir)) {
    const id = repoIdOfFolder(name);
    if (!id) continue;
    const d = describeCachedModel(cacheDir, id);
    if (d) out.push(d);
  }
  return out.sort((a, b) => b.sizeBytes - a.sizeBytes || a.repoId.localeCompare(b.repoId));
}

/** Removes a cached repo (all its revisions); returns the bytes freed. */
export function removeCachedModel(cacheDir: string, repoId: string): number {
  const d = describeCachedModel(cacheDir, repoId);
  if (!d) throw new HubCacheError(`${repoId} is not in the cache ${cacheDir}`);
  rmSync(d.folder, { recursive: true, force: true });
  return d.sizeBytes;
}
