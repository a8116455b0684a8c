/**
 * Downloads from the Hugging Face hub (or a mirror laid out like it) into the Hugging Face cache layout, only
 * when the caller allows downloads. Per file: a HEAD request for the hub's metadata (`X-Linked-Etag` and
 * `X-Linked-Size` for LFS files, else `ETag` and `Content-Length`; `X-Repo-Commit`), a streamed GET into a
 * temporary file in `blobs/`, verification (size; sha256 for LFS ETags, the git blob sha1 for others), an
 * atomic rename to `blobs/<etag>`, and a link from `snapshots/<commit>/<file>`; `refs/<revision>` is written
 * last. A download that fails, times out or is cancelled leaves the cache as it found it.
 *
 * Hostile hosts (issue 17): every hop, HEAD and GET alike, goes to the configured hub (or huggingface.co's own
 * CDNs); a file is cached only when it can be verified (a sha256 or git-sha1 ETag, or a stated size that the
 * bytes match); no file over `maxFileBytes` (by its stated size or by what arrives); each file has an overall
 * deadline besides the idle timer (a host trickling a byte a second is stopped); `*.incomplete` files left by a
 * process that died mid-download are removed on the next download into the same repo.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { formatBytes } from '../files/boundedRead';
import { GRAPH_BASES, onnxFileName, ONNX_DTYPES, type GraphBase, type OnnxDtype } from '../lm/onnx/folder';
import { checkRepoFile, checkRepoId, checkRevision, findCachedSnapshot, insideCache, isValidRepoId, isValidRevision, repoPaths } from './hubCache';

export const DEFAULT_HUB_HOST = 'https://huggingface.co';
const DEFAULT_TIMEOUT_MS = 30_000;
/** No single file over this (the largest ONNX graphs with their external data are a few GB). */
export const DEFAULT_MAX_FILE_BYTES = 32 * 2 ** 30;
/** The overall deadline of one file: at least 10 minutes, else its stated size at this rate; 2 hours when unstated. */
const MIN_BYTES_PER_SECOND = 256 * 1024;
const MIN_FILE_DEADLINE_MS = 10 * 60_000;
const UNSIZED_FILE_DEADLINE_MS = 2 * 3600_000;
/** An `.incomplete` file untouched this long belongs to a download that died (a live one writes within the idle timeout). */
const STALE_INCOMPLETE_MS = 10 * 60_000;
const PROGRESS_INTERVAL_MS = 100;

/** A download that could not be done, with a message for the user; `kind` tells callers what happened. */
export class DownloadError extends Error {
  override readonly name: string;
  constructor(
    message: string,
    readonly kind: 'disabled' | 'unreachable' | 'timeout' | 'http' | 'verification' | 'cancelled' | 'protocol' | 'not-found',
  ) {
    super(message);
    // A cancelled download reads as an AbortError to code that checks for one.
    this.name = kind === 'cancelled' ? 'AbortError' : 'DownloadError';
  }
}

export interface DownloadProgress {
  readonly file: string;
  readonly fileBytes: number;
  readonly fileTotal: number | undefined;
  /** Bytes received in this download, all files. */
  readonly bytes: number;
  /** All files' bytes, when the hub gave every size (files already cached included). */
  readonly total: number | undefined;
  readonly filesDone: number;
  readonly files: number;
}

export interface HubOptions {
  /** The cache folder (see `defaultHubCacheDir`). */
  readonly cacheDir: string;
  /** Must be true for anything to touch the network. */
  readonly allowDownloads: boolean;
  /** `https://huggingface.co` by default; a mirror with the same layout (`/{repo}/resolve/{revision}/{file}`). */
  readonly host?: string;
  readonly revision?: string;
  /** A hub access token for gated or private repos (sent to the hub host only). */
  readonly token?: string;
  /** No answer, or no bytes, for this long fails the download (default 30 s). */
  readonly timeoutMs?: number;
  /** One file taking longer than this fails the download, however steadily bytes arrive (default: see fileDeadlineMs). */
  readonly fileDeadlineMs?: number;
  /** Files larger than this are refused (default 32 GB). */
  readonly maxFileBytes?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Replaces the global fetch (tests). */
  readonly fetch?: typeof fetch;
}

export interface RepoFile {
  readonly name: string;
  /** A missing optional file (404) is skipped. */
  readonly optional?: boolean;
}

export interface DownloadResult {
  readonly repoId: string;
  readonly commit: string;
  /** The snapshot folder holding the files. */
  readonly folder: string;
  readonly files: readonly string[];
  /** Bytes received (files already in the cache are not fetched again). */
  readonly downloadedBytes: number;
}

interface FileMeta {
  readonly name: string;
  readonly url: string;
  readonly etag: string | undefined;
  readonly size: number | undefined;
  readonly commit: string | undefined;
  /** sha256 (LFS) or git-sha1 (regular git file) */
  readonly hashKind: 'sha256' | 'git-sha1' | undefined;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

function hostOf(options: HubOptions): string {
  const host = (options.host ?? DEFAULT_HUB_HOST).replace(/\/+$/, '');
  let u: URL;
  try {
    u = new URL(host);
  } catch {
    throw new DownloadError(`the model hub host "${host}" is not a URL`, 'protocol');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new DownloadError(`the model hub host must be http(s): ${host}`, 'protocol');
  return host;
}

function requireAllowed(options: HubOptions, what: string): void {
  if (options.allowDownloads !== true) {
    throw new DownloadError(`${what} needs a download, and downloads are off (allow them with the tokenInspector.allowDownloads setting or the CLI's --allow-downloads, or give a local model folder)`, 'disabled');
  }
}

function normalizeEtag(raw: string | null): string | undefined {
  if (!raw) return undefined;
  const e = raw.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  return e.length ? e : undefined;
}

function encodePath(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}

/** One request with the caller's signal plus a timeout; `idle` restarts the timer (call it per chunk). */
class Deadline {
  readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onOuterAbort = () => this.controller.abort(new DownloadError('download cancelled', 'cancelled'));

  constructor(
    private readonly ms: number,
    private readonly what: string,
    private readonly outer: AbortSignal | undefined,
  ) {
    if (outer?.aborted) this.onOuterAbort();
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    this.idle();
  }

  idle(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new DownloadError(`no answer from ${this.what} within ${formatMs(this.ms)}`, 'timeout')), this.ms);
    this.timer.unref?.();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  done(): void {
    if (this.timer) clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }

  /** The error to report for a failure while this deadline ran. */
  explain(e: unknown, host: string): DownloadError {
    const reason: unknown = this.controller.signal.reason;
    if (this.controller.signal.aborted && reason instanceof DownloadError) return reason;
    if (e instanceof DownloadError) return e;
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const code = err.cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new DownloadError(`cannot reach ${host} (${code}${err.cause?.message ? `: ${err.cause.message}` : ''})`, 'unreachable');
    }
    return new DownloadError(`download from ${host} failed: ${err.message}${err.cause?.message ? ` (${err.cause.message})` : ''}`, 'unreachable');
  }
}

function httpError(status: number, what: string, repoId: string): DownloadError {
  if (status === 401 || status === 403) return new DownloadError(`${repoId} is gated or private (HTTP ${status}): accept its terms on the hub and give an access token`, 'http');
  if (status === 404) return new DownloadError(`${what} was not found on the hub (HTTP 404): check the repo id, revision and file name`, 'not-found');
  return new DownloadError(`${what}: the hub answered HTTP ${status}`, 'http');
}

/**
 * Lists a repo's files with the hub API (`/api/models/{repo}/revision/{rev}`): the commit and file names, or
 * undefined when the host has no such API (a plain mirror).
 */
export async function listRepo(repoId: string, options: HubOptions): Promise<{ commit: string | undefined; files: string[] } | undefined> {
  const host = hostOf(options);
  const revision = options.revision ?? 'main';
  const url = `${host}/api/models/${repoId}/revision/${encodeURIComponent(revision)}`;
  const deadline = new Deadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, host, options.signal);
  const doFetch = options.fetch ?? fetch;
  try {
    const res = await doFetch(url, { headers: headers(options, url), signal: deadline.signal });
    if (res.status === 401 || res.status === 403) throw httpError(res.status, repoId, repoId);
    if (res.status === 404) {
      // Either no API here or no such repo: the file requests will tell.
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (typeof body !== 'object' || body === null) return undefined;
    const b = body as { sha?: unknown; siblings?: unknown };
    const files = Array.isArray(b.siblings) ? b.siblings.map((s: unknown) => (typeof s === 'object' && s !== null ? (s as { rfilename?: unknown }).rfilename : undefined)).filter((f): f is string => typeof f === 'string') : [];
    return { commit: typeof b.sha === 'string' && isValidRevision(b.sha) ? b.sha : undefined, files };
  } catch (e) {
    throw deadline.explain(e, host);
  } finally {
    deadline.done();
  }
}

function offHub(name: string, host: string, target: URL): DownloadError {
  return new DownloadError(`${name}: ${host} sent the download to ${target.origin}, which is not the configured hub; downloads go to the configured host only (set tokenInspector.modelHubHost to a mirror that serves its files itself)`, 'protocol');
}

/** The overall deadline for one file (see HubOptions.fileDeadlineMs). */
export function fileDeadlineMs(size: number | undefined, options: Pick<HubOptions, 'fileDeadlineMs'> = {}): number {
  if (options.fileDeadlineMs !== undefined) return options.fileDeadlineMs;
  if (size === undefined) return UNSIZED_FILE_DEADLINE_MS;
  return Math.max(MIN_FILE_DEADLINE_MS, Math.ceil((size / MIN_BYTES_PER_SECOND) * 1000));
}

/** Removes `*.incomplete` files that no live download has touched for a while (a crash or a kill mid-download). */
function removeStaleIncomplete(blobs: string): void {
  let names: string[];
  try {
    names = readdirSync(blobs);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    if (!name.endsWith('.incomplete')) continue;
    const p = join(blobs, name);
    try {
      if (now - statSync(p).mtimeMs > STALE_INCOMPLETE_MS) rmSync(p, { force: true });
    } catch {
      // gone already
    }
  }
}

/** Where a hub may send a file download: the hub itself, and for huggingface.co its own CDNs (`*.hf.co`, `*.huggingface.co`, over https). */
export function redirectAllowed(target: URL, host: string): boolean {
  const hub = new URL(host);
  if (target.origin === hub.origin) return true;
  const official = hub.hostname === 'huggingface.co' || hub.hostname === 'hf.co';
  const t = target.hostname;
  return official && target.protocol === 'https:' && (t === 'hf.co' || t.endsWith('.hf.co') || t.endsWith('.huggingface.co'));
}

function headers(options: HubOptions, url: string): Record<string, string> {
  const h: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'token-inspector' };
  // The token goes to the configured hub host only (redirects to a CDN drop it: fetch removes Authorization across origins).
  if (options.token && url.startsWith(hostOf(options) + '/')) h.authorization = `Bearer ${options.token}`;
  return h;
}

/** HEAD for one file's metadata, following the hub's relative redirects (renamed repos) but not the CDN's. */
async function fileMeta(repoId: string, file: RepoFile, options: HubOptions): Promise<FileMeta | undefined> {
  const host = hostOf(options);
  const revision = options.revision ?? 'main';
  let url = `${host}/${repoId}/resolve/${encodeURIComponent(revision)}/${encodePath(file.name)}`;
  const doFetch = options.fetch ?? fetch;
  for (let hop = 0; hop < 5; hop++) {
    const deadline = new Deadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, host, options.signal);
    let res: Response;
    try {
      res = await doFetch(url, { method: 'HEAD', redirect: 'manual', headers: headers(options, url), signal: deadline.signal });
    } catch (e) {
      throw deadline.explain(e, host);
    } finally {
      deadline.done();
    }
    const linkedEtag = normalizeEtag(res.headers.get('x-linked-etag'));
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && !linkedEtag && location) {
      // The hub's own redirects (a renamed repo) are followed; anything else, `//otherhost/…` included, is refused.
      let target: URL;
      try {
        target = new URL(location, url);
      } catch {
        throw new DownloadError(`${repoId}/${file.name}: ${host} answered with a redirect that is not a URL`, 'protocol');
      }
      if (target.origin !== new URL(host).origin) throw offHub(file.name, host, target);
      url = target.toString();
      continue;
    }
    if (res.status === 404 && file.optional) return undefined;
    if (res.status >= 400) throw httpError(res.status, `${repoId}/${file.name}`, repoId);
    const etag = linkedEtag ?? normalizeEtag(res.headers.get('etag'));
    const sizeHeader = res.headers.get('x-linked-size') ?? (res.status < 300 ? res.headers.get('content-length') : null);
    const size = sizeHeader !== null && /^\d+$/.test(sizeHeader.trim()) ? Number(sizeHeader.trim()) : undefined;
    const commitHeader = res.headers.get('x-repo-commit');
    const commit = commitHeader && isValidRevision(commitHeader.trim()) ? commitHeader.trim() : undefined;
    const hashKind = etag && /^[0-9a-f]{64}$/.test(etag) ? 'sha256' : etag && /^[0-9a-f]{40}$/.test(etag) ? 'git-sha1' : undefined;
    return { name: file.name, url, etag, size, commit, hashKind };
  }
  throw new DownloadError(`too many redirects for ${repoId}/${file.name}`, 'protocol');
}

/** Downloads files of one repo into the cache; see the file comment. */
export async function downloadRepoFiles(repoId: string, files: readonly RepoFile[], options: HubOptions): Promise<DownloadResult> {
  checkRepoId(repoId);
  const revision = checkRevision(options.revision ?? 'main');
  for (const f of files) checkRepoFile(f.name);
  requireAllowed(options, `${repoId}`);
  const host = hostOf(options);
  const paths = repoPaths(options.cacheDir, repoId);
  const createdRepo = !existsSync(paths.repo);
  const added: string[] = []; // paths this run created, removed again on failure
  const addedDirs: string[] = [];
  const mkdir = (d: string) => {
    if (!existsSync(d)) {
      mkdirSync(d, { recursive: true });
      addedDirs.push(d);
    }
  };
  try {
    const metas: FileMeta[] = [];
    const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    for (const f of files) {
      const m = await fileMeta(repoId, f, options);
      if (!m) continue;
      // Cached for good only what can be checked: a hash ETag, or at least a size the bytes must match.
      if (!m.hashKind && m.size === undefined) {
        throw new DownloadError(`${repoId}/${f.name}: ${host} gave neither a checksum ETag (sha256 or git) nor a size, so the file cannot be verified; nothing was downloaded`, 'verification');
      }
      if (m.size !== undefined && m.size > maxBytes) {
        throw new DownloadError(`${repoId}/${f.name}: ${host} announces ${formatBytes(m.size)}, over the ${formatBytes(maxBytes)} limit for one file; nothing was downloaded`, 'verification');
      }
      metas.push(m);
    }
    const commit = metas.find((m) => m.commit)?.commit ?? (/^[0-9a-f]{40}$/.test(revision) ? revision : undefined);
    if (!commit) throw new DownloadError(`${host} sent no commit (X-Repo-Commit) for ${repoId}: not a Hugging Face hub?`, 'protocol');
    if (metas.some((m) => m.commit && m.commit !== commit)) throw new DownloadError(`${repoId} changed on the hub during the download; try again`, 'protocol');
    mkdir(paths.blobs);
    removeStaleIncomplete(paths.blobs);
    const snapshot = insideCache(paths.snapshots, commit);
    mkdir(snapshot);

    const known = metas.every((m) => m.size !== undefined);
    const total = known ? metas.reduce((s, m) => s + (m.size ?? 0), 0) : undefined;
    let bytes = 0;
    let alreadyHere = 0;
    let filesDone = 0;
    let lastReport = 0;
    const report = (file: string, fileBytes: number, fileTotal: number | undefined, force = false) => {
      const now = Date.now();
      if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
      lastReport = now;
      options.onProgress?.({ file, fileBytes, fileTotal, bytes: bytes + alreadyHere, total, filesDone, files: metas.length });
    };

    for (const m of metas) {
      const target = insideCache(snapshot, m.name);
      let blobName = m.etag && /^[0-9A-Za-z._-]{1,128}$/.test(m.etag) && isValidRevision(m.etag) ? m.etag : undefined;
      const existing = blobName ? insideCache(paths.blobs, blobName) : undefined;
      if (existing && existsSync(existing) && (m.size === undefined || statSync(existing).size === m.size)) {
        alreadyHere += m.size ?? 0;
      } else {
        const tmp = insideCache(paths.blobs, `${blobName ?? 'download'}.${randomBytes(6).toString('hex')}.incomplete`);
        added.push(tmp);
        let fileBytes = 0;
        const got = await fetchToFile(m, tmp, options, host, (n) => {
          bytes += n;
          fileBytes += n;
          report(m.name, fileBytes, m.size);
        });
        verify(m, tmp, got, repoId);
        blobName ??= got.sha256;
        const blob = insideCache(paths.blobs, blobName);
        renameSync(tmp, blob);
        added[added.indexOf(tmp)] = blob;
      }
      mkdir(dirname(target));
      linkIntoSnapshot(insideCache(paths.blobs, blobName ?? ''), target, added);
      filesDone++;
      report(m.name, m.size ?? 0, m.size, true);
    }
    // The revision → commit ref, written last: until then the new snapshot is not what `main` means.
    if (revision !== commit) {
      mkdir(paths.refs);
      atomicWrite(insideCache(paths.refs, revision), commit);
    }
    return { repoId, commit, folder: snapshot, files: metas.map((m) => m.name), downloadedBytes: bytes };
  } catch (e) {
    for (const p of added.reverse()) rmSync(p, { force: true });
    for (const d of addedDirs.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // not empty: something else lives there
      }
    }
    if (createdRepo && existsSync(paths.repo)) pruneEmpty(paths.repo);
    if (e instanceof DownloadError) throw e;
    if ((e as Error).name === 'AbortError') throw new DownloadError('download cancelled', 'cancelled');
    throw e;
  }
}

function pruneEmpty(dir: string): void {
  try {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) pruneEmpty(p);
    }
    rmdirSync(dir);
  } catch {
    // keep what is not empty
  }
}

function atomicWrite(path: string, text: string): void {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** A link (symlink, else hard link, else a copy) from the snapshot to the blob, put in place by a rename. */
function linkIntoSnapshot(blob: string, target: string, added: string[]): void {
  const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    symlinkSync(relative(dirname(target), blob), tmp);
  } catch {
    try {
      linkSync(blob, tmp);
    } catch {
      copyFileSync(blob, tmp);
    }
  }
  if (!existsSync(target)) added.push(target);
  renameSync(tmp, target);
}

interface Received {
  readonly size: number;
  readonly sha256: string;
}

async function fetchToFile(meta: FileMeta, tmp: string, options: HubOptions, host: string, onBytes: (n: number) => void): Promise<Received> {
  const deadline = new Deadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, host, options.signal);
  const overallMs = fileDeadlineMs(meta.size, options);
  const overall = setTimeout(() => deadline.controller.abort(new DownloadError(`${meta.name}: the download from ${host} took longer than its overall deadline of ${formatMs(overallMs)} (the host sends too slowly); nothing was written`, 'timeout')), overallMs);
  overall.unref?.();
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const doFetch = options.fetch ?? fetch;
  const hash = createHash('sha256');
  let size = 0;
  const fh = await open(tmp, 'wx');
  try {
    let url = meta.url;
    if (!redirectAllowed(new URL(url), host)) throw offHub(meta.name, host, new URL(url));
    let res = await doFetch(url, { headers: headers(options, url), signal: deadline.signal, redirect: 'manual' });
    // Redirects are followed only to the hub itself (and, for huggingface.co, to its own CDN hosts).
    for (let hop = 0; res.status >= 300 && res.status < 400 && hop < 5; hop++) {
      const location = res.headers.get('location');
      await res.body?.cancel().catch(() => undefined);
      if (!location) throw new DownloadError(`${meta.name}: a redirect without a destination`, 'protocol');
      const target = new URL(location, url);
      if (!redirectAllowed(target, host)) throw offHub(meta.name, host, target);
      url = target.toString();
      res = await doFetch(url, { headers: headers(options, url), signal: deadline.signal, redirect: 'manual' });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw httpError(res.status, meta.name, meta.url);
    }
    if (!res.body) throw new DownloadError(`${meta.name}: empty answer`, 'protocol');
    const reader = res.body.getReader();
    for (;;) {
      deadline.idle();
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (meta.size !== undefined && size > meta.size) {
        await reader.cancel().catch(() => undefined);
        throw new DownloadError(`${meta.name}: the hub sent more than the ${meta.size} bytes it announced; nothing was written`, 'verification');
      }
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new DownloadError(`${meta.name}: the hub sent more than the ${formatBytes(maxBytes)} limit for one file; nothing was written`, 'verification');
      }
      hash.update(value);
      await fh.write(value);
      onBytes(value.byteLength);
    }
    await fh.sync();
  } catch (e) {
    throw deadline.explain(e, host);
  } finally {
    clearTimeout(overall);
    deadline.done();
    await fh.close();
  }
  return { size, sha256: hash.digest('hex') };
}

function gitBlobSha1(path: string, size: number): string {
  const h = createHash('sha1').update(`blob ${size}\0`);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

function verify(meta: FileMeta, tmp: string, got: Received, repoId: string): void {
  if (meta.size !== undefined && got.size !== meta.size) {
    throw new DownloadError(`${repoId}/${meta.name}: received ${got.size} bytes, the hub announced ${meta.size}; nothing was written`, 'verification');
  }
  if (meta.hashKind === 'sha256' && got.sha256 !== meta.etag) {
    throw new DownloadError(`${repoId}/${meta.name}: checksum mismatch (sha256 ${got.sha256}, the hub announced ${meta.etag}); nothing was written`, 'verification');
  }
  if (meta.hashKind === 'git-sha1') {
    // A regular (non-LFS) git file: its ETag is the git blob id, sha1("blob <size>\0" + content). Such files are small.
    // Read back in pieces: a host may put a git ETag on a large file.
    const sha1 = gitBlobSha1(tmp, got.size);
    if (sha1 !== meta.etag) throw new DownloadError(`${repoId}/${meta.name}: checksum mismatch (git blob ${sha1}, the hub announced ${meta.etag}); nothing was written`, 'verification');
  }
}

// ---------- ONNX causal LMs ----------

export interface ModelDownloadOptions extends HubOptions {
  /** Weight variant to fetch (default fp32: onnx/model.onnx). */
  readonly dtype?: OnnxDtype;
}

/** The files an ONNX causal LM needs (graph `base`), given the repo's file list when the hub gave one. */
function modelFiles(dtype: OnnxDtype, listing: readonly string[] | undefined, base: GraphBase = 'model'): RepoFile[] {
  const graph = onnxFileName(dtype, base);
  const out: RepoFile[] = [{ name: 'config.json' }, { name: 'tokenizer.json' }, { name: graph }];
  const optional = ['generation_config.json', 'tokenizer_config.json', 'special_tokens_map.json'];
  if (listing) {
    for (const f of optional) if (listing.includes(f)) out.push({ name: f });
    // External weights: onnx/model.onnx_data, onnx/model.onnx_data_1, …
    for (const f of listing) if (f.startsWith(`${graph}_data`)) out.push({ name: f });
  } else {
    for (const f of optional) out.push({ name: f, optional: true });
    out.push({ name: `${graph}_data`, optional: true });
  }
  return out;
}

/** Downloads the files of an ONNX causal LM (config, tokenizer, graph and its external data). */
export async function downloadModel(repoId: string, options: ModelDownloadOptions): Promise<DownloadResult> {
  checkRepoId(repoId);
  checkRevision(options.revision ?? 'main');
  requireAllowed(options, repoId);
  const dtype = options.dtype ?? 'fp32';
  const listing = await listRepo(repoId, options);
  let base: GraphBase | undefined;
  if (listing && listing.files.length) {
    base = GRAPH_BASES.find((b) => listing.files.includes(onnxFileName(dtype, b)));
    if (!base) {
      const graphs = listing.files.filter((f) => f.startsWith('onnx/') && f.endsWith('.onnx'));
      const dtypes = Object.entries(ONNX_DTYPES)
        .filter(([, suffix]) => GRAPH_BASES.some((b) => graphs.includes(`onnx/${b}${suffix}.onnx`)))
        .map(([d]) => d);
      throw new DownloadError(
        graphs.length
          ? `${repoId} has no ${onnxFileName(dtype)}; it has ${dtypes.length ? `the dtypes ${dtypes.join(', ')}` : graphs.join(', ')}`
          : `${repoId} has no ONNX export (no onnx/model.onnx): use a repository that has one (e.g. onnx-community/…, HuggingFaceTB/SmolLM2-135M-Instruct, Xenova/gpt2)`,
        'not-found',
      );
    }
  } else {
    // A plain mirror: ask for the current graph name, then the older one.
    const probe = await fileMeta(repoId, { name: onnxFileName(dtype, 'model'), optional: true }, options);
    base = probe ? 'model' : 'decoder_model_merged';
  }
  return downloadRepoFiles(repoId, modelFiles(dtype, listing?.files, base), { ...options, revision: options.revision ?? 'main' });
}

/** True when `spec` reads as a path rather than a repo id. */
export function looksLikePath(spec: string): boolean {
  return /^(\.{1,2}([\\/]|$)|~|[\\/])/.test(spec) || /^[A-Za-z]:[\\/]/.test(spec) || spec.includes('\\') || existsSync(spec);
}

/**
 * The local folder for a model given by path or by repo id: a path is returned as it is; a repo id is looked
 * up in the cache and, only when downloads are allowed, downloaded.
 */
export async function resolveModelSpec(spec: string, options: ModelDownloadOptions): Promise<string> {
  if (looksLikePath(spec)) return spec;
  if (!isValidRepoId(spec)) throw new DownloadError(`"${spec}" is neither a folder nor a Hugging Face repo id (org/name)`, 'not-found');
  const dtype = options.dtype ?? 'fp32';
  for (const base of GRAPH_BASES) {
    const cached = findCachedSnapshot(options.cacheDir, spec, options.revision ?? 'main', ['config.json', 'tokenizer.json', onnxFileName(dtype, base)]);
    if (cached) return cached;
  }
  if (options.allowDownloads !== true) {
    throw new DownloadError(
      `${spec} is not in the model cache (${options.cacheDir}) and downloads are off: allow them (the tokenInspector.allowDownloads setting, the CLI's --allow-downloads) to fetch it from ${options.host ?? DEFAULT_HUB_HOST}, or give a local folder`,
      'disabled',
    );
  }
  return (await downloadModel(spec, options)).folder;
}
