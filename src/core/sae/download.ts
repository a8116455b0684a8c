/**
 * SAEs by Hugging Face repo id: looked up in the Hugging Face cache and, only when downloads are allowed,
 * fetched into it with the model downloader's machinery (host handling, verification, atomic writes, cancel,
 * timeouts, path checks). Only the files of the one SAE asked for are fetched, not the repo (SAE repos hold
 * hundreds): SAELens `cfg.json` + `sae_weights.safetensors` (+ `sparsity.safetensors`), sparsify `cfg.json` +
 * `sae.safetensors`, Gemma Scope `params.npz`, in the repo's `subfolder`.
 */
import { DEFAULT_HUB_HOST, DownloadError, downloadRepoFiles, listRepo, looksLikePath, type DownloadResult, type HubOptions, type RepoFile } from '../models/download';
import { checkRepoId, checkRevision, findCachedSnapshot, isValidRepoFile, isValidRepoId } from '../models/hubCache';
import { SaeError } from './errors';
import { findSaeFolders, GEMMA_SCOPE_PARAMS, SAELENS_WEIGHTS, SPARSIFY_WEIGHTS } from './loader';
import type { SaeFormat } from './types';

interface SaeDownloadOptions extends HubOptions {
  /** The folder inside the repo that holds the SAE, e.g. `blocks.8.hook_resid_pre` or `layer_20/width_16k/average_l0_71`. */
  readonly subfolder?: string;
}

interface SaeLayout {
  readonly format: SaeFormat;
  readonly required: readonly string[];
  readonly optional: readonly string[];
}

/** The files of one SAE, by format, in the loader's order of preference. */
const SAE_LAYOUTS: readonly SaeLayout[] = [
  { format: 'saelens', required: ['cfg.json', SAELENS_WEIGHTS], optional: ['sparsity.safetensors'] },
  { format: 'sparsify', required: ['cfg.json', SPARSIFY_WEIGHTS], optional: [] },
  { format: 'gemma-scope', required: [GEMMA_SCOPE_PARAMS], optional: [] },
];

const inFolder = (folder: string, file: string) => (folder ? `${folder}/${file}` : file);

/** `a/b/` → `a/b`; undefined for none; refused when it could leave the repo. */
function normalizeSubfolder(subfolder: string | undefined): string | undefined {
  if (subfolder === undefined) return undefined;
  const s = subfolder.replace(/^\/+|\/+$/g, '');
  if (s === '' || s === '.') return undefined;
  if (!isValidRepoFile(s)) throw new SaeError(`"${subfolder}" is not a folder name inside a repository (letters, digits, '.', '_', '-', '/'; no '..')`);
  return s;
}

/** The SAE folders a repo listing holds (folder → layout; '' for the repo's root). */
export function saeFoldersInListing(files: readonly string[]): Map<string, SaeLayout> {
  const byFolder = new Map<string, Set<string>>();
  for (const f of files) {
    const cut = f.lastIndexOf('/');
    const folder = cut < 0 ? '' : f.slice(0, cut);
    let names = byFolder.get(folder);
    if (!names) byFolder.set(folder, (names = new Set()));
    names.add(f.slice(cut + 1));
  }
  const out = new Map<string, SaeLayout>();
  for (const [folder, names] of [...byFolder].sort(([a], [b]) => a.localeCompare(b))) {
    const layout = SAE_LAYOUTS.find((l) => l.required.every((r) => names.has(r)));
    if (layout) out.set(folder, layout);
  }
  return out;
}

function listFolders(folders: Iterable<string>, limit = 8): string {
  const all = [...folders].map((f) => f || '(the root)');
  return all.slice(0, limit).join(', ') + (all.length > limit ? `, … (${all.length} in all)` : '');
}

/** The cached snapshot holding the SAE (in `subfolder`), if the cache has it. */
function cachedSae(repoId: string, subfolder: string | undefined, options: SaeDownloadOptions): string | undefined {
  const revision = options.revision ?? 'main';
  if (subfolder === undefined) {
    const snapshot = findCachedSnapshot(options.cacheDir, repoId, revision, []);
    return snapshot && findSaeFolders(snapshot, 1).length ? snapshot : undefined;
  }
  for (const layout of SAE_LAYOUTS) {
    const snapshot = findCachedSnapshot(
      options.cacheDir,
      repoId,
      revision,
      layout.required.map((f) => inFolder(subfolder, f)),
    );
    if (snapshot) return snapshot;
  }
  return undefined;
}

/** Downloads one SAE of `repoId` (in `options.subfolder`, or the repo's only one) into the cache. */
export async function downloadSae(repoId: string, options: SaeDownloadOptions): Promise<DownloadResult> {
  checkRepoId(repoId);
  checkRevision(options.revision ?? 'main');
  const subfolder = normalizeSubfolder(options.subfolder);
  if (options.allowDownloads !== true) {
    throw new DownloadError(`the SAE ${repoId} needs a download, and downloads are off (allow them with the tokenInspector.allowDownloads setting or the CLI's --allow-downloads, or give a local SAE folder)`, 'disabled');
  }
  const listing = await listRepo(repoId, options);
  if (!listing || listing.files.length === 0) return probeSae(repoId, subfolder, options);
  const folders = saeFoldersInListing(listing.files);
  let folder: string;
  if (subfolder !== undefined) {
    if (!folders.has(subfolder)) {
      const near = [...folders.keys()].filter((f) => f.startsWith(subfolder) || subfolder.startsWith(f));
      throw new DownloadError(
        `${repoId} has no SAE in ${subfolder}${folders.size ? `; it has SAEs in ${listFolders(near.length ? near : folders.keys())}` : ' (it holds no SAE files at all)'}`,
        'not-found',
      );
    }
    folder = subfolder;
  } else if (folders.size === 1) folder = [...folders.keys()][0];
  else if (folders.size === 0) {
    throw new DownloadError(`${repoId} holds no SAE (no ${SAELENS_WEIGHTS}, ${SPARSIFY_WEIGHTS} with a cfg.json, or ${GEMMA_SCOPE_PARAMS})`, 'not-found');
  } else {
    throw new SaeError(`${repoId} holds ${folders.size} SAEs; choose one by its folder (the CLI's --sae-id): ${listFolders(folders.keys())}`);
  }
  const layout = folders.get(folder) as SaeLayout;
  const present = new Set(listing.files);
  const files: RepoFile[] = [...layout.required.map((f) => ({ name: inFolder(folder, f) })), ...layout.optional.filter((f) => present.has(inFolder(folder, f))).map((f) => ({ name: inFolder(folder, f) }))];
  return downloadRepoFiles(repoId, files, { ...options, revision: options.revision ?? 'main' });
}

/**
 * A plain mirror without the listing API: each layout in turn, its required files asked for first (metadata
 * requests come before any body, so a layout that is not there writes nothing).
 */
async function probeSae(repoId: string, subfolder: string | undefined, options: SaeDownloadOptions): Promise<DownloadResult> {
  const folder = subfolder ?? '';
  for (const layout of SAE_LAYOUTS) {
    const files: RepoFile[] = [...layout.required.map((f) => ({ name: inFolder(folder, f) })), ...layout.optional.map((f) => ({ name: inFolder(folder, f), optional: true }))];
    try {
      return await downloadRepoFiles(repoId, files, { ...options, revision: options.revision ?? 'main' });
    } catch (e) {
      if (!(e instanceof DownloadError && e.kind === 'not-found')) throw e;
    }
  }
  throw new DownloadError(
    `${repoId}${subfolder ? ` has no SAE in ${subfolder}` : ' holds no SAE at its root'} (looked for ${SAE_LAYOUTS.map((l) => l.required.join(' + ')).join(', ')}); give the SAE's folder`,
    'not-found',
  );
}

/**
 * The local path to hand `loadSae` (with the same `subfolder`) for an SAE given by path or by repo id: a path
 * is returned as it is; a repo id is looked up in the cache and, only when downloads are allowed, downloaded.
 */
export async function resolveSaeSpec(spec: string, options: SaeDownloadOptions): Promise<string> {
  if (looksLikePath(spec)) return spec;
  if (!isValidRepoId(spec)) throw new DownloadError(`"${spec}" is neither an SAE folder or file nor a Hugging Face repo id (org/name)`, 'not-found');
  const subfolder = normalizeSubfolder(options.subfolder);
  const cached = cachedSae(spec, subfolder, options);
  if (cached) return cached;
  if (options.allowDownloads !== true) {
    const what = subfolder ? `${spec} (${subfolder})` : spec;
    throw new DownloadError(
      `the SAE ${what} is not in the cache (${options.cacheDir}) and downloads are off: allow them (the tokenInspector.allowDownloads setting, the CLI's --allow-downloads) to fetch it from ${options.host ?? DEFAULT_HUB_HOST}, or give a local SAE folder (there is no folder ${spec} here)`,
      'disabled',
    );
  }
  return (await downloadSae(spec, { ...options, subfolder })).folder;
}
