/**
 * Token totals of a folder (or the files of a folder that match globs) under one or more tokenizers: the walk
 * that lists the files to count, then the count of each.
 *
 * - Walks the folder through a FolderFs (../files/folderFs.ts). Paths in results are relative to the folder,
 *   with `/`.
 * - Respects `.gitignore` files (../files/gitignore.ts): the folder's own and nested ones (each relative to its
 *   directory, deeper files taking precedence), plus ancestors' and `.git/info/exclude` when given
 *   (findParentIgnoreFiles). A file inside an ignored directory cannot be re-included (the directory is not
 *   walked). `.git` folders are never walked. .gitignore files are honoured even outside a git repository.
 * - An extra exclude list of VS Code-style globs (`files.exclude`, ../files/glob.ts), matched against the path
 *   relative to where they are rooted (`excludeBase`); a matching folder is not walked.
 * - Files are read as VS Code reads them (decodeFileBytes: BOMs, UTF-16, invalid UTF-8 as U+FFFD, the
 *   dominant line ending); a NUL byte in the first 512 bytes (without a UTF-16 BOM) means binary: skipped
 *   and counted in `skippedBinary`.
 * - Memory stays bounded: text is counted in chunks split at restart points (chunkedCount.ts); files over
 *   `maxFileBytes` (default 50 MB) are not read whole but decoded as a stream (../files/decodeStream.ts).
 * - Progress through a callback (a scan phase, then a count phase with the total bytes known), cancellation
 *   through an AbortSignal (checked between files and chunks; the promise rejects with the signal's reason).
 *
 * Token counts are of the text alone: without the BOS/EOS a model adds around a prompt, as in the editor.
 */
import { breathe } from '../eventLoop';
import { decodedTextPieces } from '../files/decodeStream';
import type { FolderEntry, FolderFs } from '../files/folderFs';
import { globMatcher } from '../files/glob';
import { isIgnored, parseGitignore, type RuleSet } from '../files/gitignore';
import type { ParentIgnoreFile } from '../files/parentIgnoreFiles';
import { BinaryFileError, decodeFileBytes } from '../text/readFile';
import type { Tokenizer } from '../tokenizers/types';
import { ChunkedTokenCounter, countTextTokens } from './chunkedCount';
import { countInBatches, fileBatches, type FileBatchCounter, type FileOutcome, type ListedFile } from './fileBatches';

interface NamedTokenizer {
  readonly id: string;
  readonly tokenizer: Tokenizer;
}

export interface FileTokens {
  readonly path: string;
  /** Size on disk. */
  readonly bytes: number;
  /** Tokens per tokenizer id. */
  readonly tokens: Readonly<Record<string, number>>;
  /** Read as a stream (over maxFileBytes). */
  readonly streamed: boolean;
  /** Split somewhere other than a restart point (see the file comment). */
  readonly approximate: boolean;
}

export interface SkippedFile {
  readonly path: string;
  readonly reason: 'binary' | 'unreadable' | 'other';
  readonly message?: string;
}

interface FolderTotalsSummary {
  /** Files counted. */
  readonly files: number;
  readonly skippedBinary: number;
  /** Files excluded by .gitignore or the exclude globs. */
  readonly skippedIgnored: number;
  /** Folders excluded by .gitignore, the exclude globs or `.git` (not walked, so their files are not counted). */
  readonly skippedIgnoredFolders: number;
  /** Files that could not be read, and entries that are neither files nor folders (sockets, links to folders). */
  readonly skippedUnreadable: number;
  readonly skippedOther: number;
  /** Bytes on disk of the files counted. */
  readonly bytes: number;
  readonly tokens: Readonly<Record<string, number>>;
}

export interface FolderTotals {
  readonly files: readonly FileTokens[];
  /** Binary, unreadable and other skipped entries (ignored ones are only counted). */
  readonly skipped: readonly SkippedFile[];
  readonly totals: FolderTotalsSummary;
}

export interface FolderProgress {
  readonly phase: 'scan' | 'count';
  /** Files found so far (scan) / to count (count). */
  readonly filesFound: number;
  readonly filesDone: number;
  readonly bytesDone: number;
  /** Known in the count phase. */
  readonly bytesTotal: number;
  readonly path?: string;
}

export interface FolderTotalsOptions {
  readonly tokenizers: readonly NamedTokenizer[];
  /** Respect .gitignore files (default true). */
  readonly gitignore?: boolean;
  /** Ignore files from above the folder (findParentIgnoreFiles), outermost first. */
  readonly parentIgnoreFiles?: readonly Pick<ParentIgnoreFile, 'text' | 'prefix'>[];
  /** VS Code-style globs of paths to leave out (files.exclude). */
  readonly exclude?: readonly string[];
  /** The folder's path relative to where the exclude globs are rooted (the workspace folder), with `/`; '' by default. */
  readonly excludeBase?: string;
  /** Only count files whose path (relative to the folder) matches one of these globs. */
  readonly include?: readonly string[];
  /** Files larger than this are read as a stream (default 50 MB). */
  readonly maxFileBytes?: number;
  /** Bytes per read when streaming a large file (default 4 MB). */
  readonly streamChunkBytes?: number;
  /** Text chunk for tokenization, in UTF-16 units (default 1M). */
  readonly chunkUnits?: number;
  /** Match special tokens in the text (default false, as in the editor). */
  readonly allowSpecial?: boolean;
  readonly onProgress?: (progress: FolderProgress) => void;
  readonly signal?: AbortSignal;
  /**
   * Counts batches of files elsewhere (a pool of workers: src/worker/countPool.ts), `concurrency` batches at
   * once. By default the files are counted here, one after another.
   */
  readonly counter?: FileBatchCounter;
  readonly concurrency?: number;
  /** Folders with fewer bytes to count are counted here even with a `counter` (starting workers costs more). */
  readonly counterMinBytes?: number;
}

export const DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024;
const STREAM_CHUNK_BYTES = 4 * 1024 * 1024;

interface Counted {
  readonly tokens: Record<string, number>;
  readonly approximate: boolean;
}

function countDecoded(text: string, options: FolderTotalsOptions): Counted {
  const tokens: Record<string, number> = {};
  let approximate = false;
  for (const t of options.tokenizers) {
    const r = countTextTokens(t.tokenizer, text, { chunkUnits: options.chunkUnits, allowSpecial: options.allowSpecial });
    tokens[t.id] = r.count;
    approximate ||= r.approximate;
  }
  return { tokens, approximate };
}

async function countStreamed(fs: FolderFs, path: string, readChunks: NonNullable<FolderFs['readChunks']>, options: FolderTotalsOptions): Promise<Counted> {
  const source = (): AsyncIterable<Uint8Array> => readChunks.call(fs, path, options.streamChunkBytes ?? STREAM_CHUNK_BYTES);
  const counters = options.tokenizers.map((t) => new ChunkedTokenCounter(t.tokenizer, options.chunkUnits, options.allowSpecial === true));
  for await (const text of decodedTextPieces(source, path, options.signal)) for (const c of counters) c.push(text);
  const tokens: Record<string, number> = {};
  options.tokenizers.forEach((t, i) => (tokens[t.id] = counters[i].finish()));
  return { tokens, approximate: counters.some((c) => c.approximate) };
}

/**
 * Counts one file of `fs`. Throws BinaryFileError for a binary file, and the file system's error when it
 * cannot be read.
 */
export async function countFile(
  fs: FolderFs,
  path: string,
  size: number,
  options: FolderTotalsOptions,
): Promise<FileTokens> {
  const max = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (size > max && fs.readChunks) {
    const r = await countStreamed(fs, path, fs.readChunks, options);
    return { path, bytes: size, tokens: r.tokens, streamed: true, approximate: r.approximate };
  }
  const bytes = await fs.readFile(path);
  const text = decodeFileBytes(bytes, path).text;
  const r = countDecoded(text, options);
  return { path, bytes: bytes.length, tokens: r.tokens, streamed: false, approximate: r.approximate };
}

interface FolderListing {
  /** Files to count, in path order, with their sizes on disk. */
  readonly files: { readonly path: string; readonly size: number }[];
  /** Unreadable folders or files, and entries that are neither files nor folders. */
  readonly skipped: SkippedFile[];
  /** Files excluded by .gitignore or the exclude globs. */
  ignored: number;
  /** Folders excluded (not walked). */
  ignoredFolders: number;
}

/** Lists the files to count (phase 1): .gitignore, excludes and includes applied, in path order. */
export async function listFolderFiles(fs: FolderFs, options: Omit<FolderTotalsOptions, 'tokenizers'> = {}): Promise<FolderListing> {
  const useGitignore = options.gitignore !== false;
  const sets: RuleSet[] = useGitignore ? (options.parentIgnoreFiles ?? []).map((f) => ({ rules: parseGitignore(f.text), dir: '', prefix: f.prefix })) : [];
  const excluded = globMatcher(options.exclude ?? []);
  const base = (options.excludeBase ?? '').replace(/\\/g, '/').replace(/^\/+|\/+$/g, '');
  const excludePath = (p: string): string => (base ? `${base}/${p}` : p);
  const included = options.include && options.include.length ? globMatcher(options.include) : undefined;
  const out: FolderListing = { files: [], skipped: [], ignored: 0, ignoredFolders: 0 };

  const walk = async (dir: string, inherited: readonly RuleSet[]): Promise<void> => {
    await breathe(options.signal);
    let entries: readonly FolderEntry[];
    try {
      entries = await fs.readDir(dir);
    } catch (e) {
      out.skipped.push({ path: dir || '.', reason: 'unreadable', message: (e as Error).message });
      return;
    }
    let rules = inherited;
    if (useGitignore && entries.some((e) => e.name === '.gitignore' && e.type === 'file')) {
      const p = dir ? `${dir}/.gitignore` : '.gitignore';
      try {
        const text = decodeFileBytes(await fs.readFile(p), p).text;
        rules = [...inherited, { rules: parseGitignore(text), dir, prefix: '' }];
      } catch {
        // an unreadable or binary .gitignore is no rules
      }
    }
    const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of sorted) {
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (e.type === 'directory') {
        if (e.name === '.git' || isIgnored(rules, path, true) || excluded(excludePath(path))) {
          out.ignoredFolders++;
          continue;
        }
        await walk(path, rules);
      } else if (e.type === 'file') {
        if (isIgnored(rules, path, false) || excluded(excludePath(path))) {
          out.ignored++;
          continue;
        }
        if (included && !included(path)) continue;
        let size: number;
        try {
          size = (await fs.stat(path)).size;
        } catch (err) {
          out.skipped.push({ path, reason: 'unreadable', message: (err as Error).message });
          continue;
        }
        out.files.push({ path, size });
        options.onProgress?.({ phase: 'scan', filesFound: out.files.length, filesDone: 0, bytesDone: 0, bytesTotal: 0, path });
      } else {
        if (isIgnored(rules, path, false) || excluded(excludePath(path))) {
          out.ignored++;
          continue;
        }
        out.skipped.push({ path, reason: 'other', message: 'neither a file nor a folder (or a link to a folder, which is not followed)' });
      }
    }
  };
  await walk('', sets);
  return out;
}

/**
 * Counts one file: its tokens, or why it is skipped (binary, unreadable). Rethrows a cancellation.
 */
export async function countFileOutcome(fs: FolderFs, path: string, size: number, options: FolderTotalsOptions): Promise<FileOutcome> {
  try {
    return { counted: await countFile(fs, path, size, options) };
  } catch (e) {
    if (options.signal?.aborted) throw options.signal.reason;
    if ((e as Error).name === 'AbortError') throw e;
    if (e instanceof BinaryFileError) return { skipped: { path, reason: 'binary' } };
    return { skipped: { path, reason: 'unreadable', message: (e as Error).message } };
  }
}

/** The in-process counter: the batch's files one after another, yielding to the event loop between them. */
export function localBatchCounter(fs: FolderFs, options: FolderTotalsOptions): FileBatchCounter {
  return async (batch, signal) => {
    const out: FileOutcome[] = [];
    for (const f of batch) {
      await breathe(signal);
      out.push(await countFileOutcome(fs, f.path, f.size, options));
    }
    return out;
  };
}

/** Token totals of a folder under each tokenizer (see the file comment). */
export async function countFolder(fs: FolderFs, options: FolderTotalsOptions): Promise<FolderTotals> {
  if (options.tokenizers.length === 0) throw new Error('countFolder needs at least one tokenizer');
  const listed = await listFolderFiles(fs, options);
  const bytesTotal = listed.files.reduce((s, f) => s + f.size, 0);
  const filesFound = listed.files.length;
  let filesDone = 0;
  let bytesDone = 0;
  options.onProgress?.({ phase: 'count', filesFound, filesDone, bytesDone, bytesTotal });
  const onBatch = (batch: readonly ListedFile[]): void => {
    filesDone += batch.length;
    for (const f of batch) bytesDone += f.size;
    options.onProgress?.({ phase: 'count', filesFound, filesDone, bytesDone, bytesTotal, path: batch[batch.length - 1].path });
  };
  // Counted here, a file is a batch: progress and cancellation per file, as before there were pools.
  const outcomes =
    options.counter && bytesTotal >= (options.counterMinBytes ?? 0)
      ? await countInBatches(fileBatches(listed.files), options.counter, options.concurrency ?? 1, onBatch, options.signal)
    : await countInBatches(fileBatches(listed.files, 0, 1), localBatchCounter(fs, options), 1, onBatch, options.signal);
  return folderTotalsOf(options.tokenizers.map((t) => t.id), listed, outcomes);
}

/** Sums the outcomes (in the listing's order) into the folder's totals. */
function folderTotalsOf(tokenizerIds: readonly string[], listed: FolderListing, outcomes: readonly FileOutcome[]): FolderTotals {
  const files: FileTokens[] = [];
  const skipped: SkippedFile[] = [...listed.skipped];
  const tokens: Record<string, number> = Object.fromEntries(tokenizerIds.map((id) => [id, 0]));
  let bytes = 0;
  for (const o of outcomes) {
    if ('skipped' in o) {
      skipped.push(o.skipped);
      continue;
    }
    files.push(o.counted);
    bytes += o.counted.bytes;
    for (const id of tokenizerIds) tokens[id] += o.counted.tokens[id];
  }
  const count = (reason: SkippedFile['reason']): number => skipped.filter((s) => s.reason === reason).length;
  return {
    files,
    skipped,
    totals: {
      files: files.length,
      skippedBinary: count('binary'),
      skippedIgnored: listed.ignored,
      skippedIgnoredFolders: listed.ignoredFolders,
      skippedUnreadable: count('unreadable'),
      skippedOther: count('other'),
      bytes,
      tokens,
    },
  };
}
