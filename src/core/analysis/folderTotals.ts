/**
 * Token totals of a folder (or the files of a folder that match globs) under one or more tokenizers.
 *
 * - Walks the folder through a small file-system interface (`FolderFs`; `nodeFolderFs` for disk, and the
 *   extension can back it with `vscode.workspace.fs`). Paths in results are relative to the folder, with `/`.
 * - Respects `.gitignore` files: the folder's own and nested ones (each relative to its directory, deeper
 *   files taking precedence), plus ancestors' and `.git/info/exclude` when given (`findParentIgnoreFiles`).
 *   Implemented rules: comments and blank lines, trailing-space trimming and `\` escapes, `!` negation,
 *   directory-only patterns (`dir/`), patterns anchored by a `/` at the start or in the middle, patterns
 *   without a slash matching at any depth, `*`, `?`, `[...]` classes and the `**` forms (`**\/x`, `x/**`,
 *   `a/**\/b`). As in git, a file inside an ignored directory cannot be re-included (the directory is not
 *   walked). `.git` folders are never walked. .gitignore files are honoured even outside a git repository.
 * - An extra exclude list of VS Code-style globs (`files.exclude`: `**`, `*`, `?`, `[...]`, `{a,b}`), matched
 *   against the path relative to where they are rooted (`excludeBase`); a matching folder is not walked.
 * - Files are read as VS Code reads them (decodeFileBytes: BOMs, UTF-16, invalid UTF-8 as U+FFFD, the
 *   dominant line ending); a NUL byte in the first 512 bytes (without a UTF-16 BOM) means binary: skipped
 *   and counted in `skippedBinary`.
 * - Memory stays bounded: text is tokenized in chunks (default 1M UTF-16 units) split at the tokenizer's
 *   restart points (Tokenizer.restartRules, the same positions the incremental re-tokenizer relies on), so
 *   the chunked count equals the whole-text count. Files over `maxFileBytes` (default 50 MB) are not read
 *   whole: they are decoded as a stream, in two passes (the first counts line endings to choose the
 *   dominant one, as VS Code does). A text with no restart point for a long stretch (a multi-megabyte line
 *   with no `\n` followed by a line start) is split at a line break, or anywhere, and the file is flagged
 *   `approximate`.
 * - Progress through a callback (a scan phase, then a count phase with the total bytes known), cancellation
 *   through an AbortSignal (checked between files and chunks; the promise rejects with the signal's reason).
 *
 * Token counts are of the text alone: without the BOS/EOS a model adds around a prompt, as in the editor.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BinaryFileError, decodeFileBytes, LineBreakCounts, unifyLineBreaks, type DecodedText } from '../text/readFile';
import type { Tokenizer } from '../tokenizers/types';
import { ChunkedEncoder, type EncodedPart } from './chunkedEncoder';

// ---------------------------------------------------------------------------------------------------------
// Globs: gitignore patterns and VS Code globs, compiled to regular expressions over `/`-separated paths
// ---------------------------------------------------------------------------------------------------------

/** A literal character in a regular expression with the `u` flag (which allows escaping only syntax characters). */
function escapeRegex(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/** A literal character inside a `[...]` class. */
function escapeClassChar(c: string): string {
  return /[\\\]\[^-]/.test(c) ? `\\${c}` : c;
}

/** Parses `[...]` at i; returns the regex class and the index after `]`, or undefined if it is not a class. */
function charClass(p: string, i: number): { source: string; next: number } | undefined {
  let j = i + 1;
  let negate = false;
  if (p[j] === '!' || p[j] === '^') {
    negate = true;
    j++;
  }
  let body = '';
  let first = true;
  for (; j < p.length; j++) {
    const c = p[j];
    if (c === ']' && !first) return { source: negate ? `[^/${body}]` : `(?!/)[${body}]`, next: j + 1 };
    first = false;
    if (c === '\\' && j + 1 < p.length) {
      body += escapeClassChar(p[++j]);
    } else if (c === '-' && body !== '' && p[j + 1] !== ']' && j + 1 < p.length) {
      body += '-';
    } else body += escapeClassChar(c);
  }
  return undefined;
}

/**
 * A glob as a regular expression source matching a whole `/`-separated path. `**` as a whole segment
 * matches any number of segments (none included); elsewhere it is `*`. `braces`: `{a,b}` alternatives
 * (VS Code globs; literal in gitignore).
 */
function globSource(p: string, braces: boolean): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '*') {
      if (p[i + 1] === '*') {
        let j = i;
        while (p[j] === '*') j++;
        const segStart = i === 0 || p[i - 1] === '/';
        const segEnd = j === p.length || p[j] === '/';
        if (segStart && segEnd) {
          if (j === p.length) out += '.*';
          else {
            out += '(?:[^/]+/)*';
            j++; // the '/' after '**'
          }
          i = j - 1;
          continue;
        }
        i = j - 1;
      }
      out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const cls = charClass(p, i);
      if (cls) {
        out += cls.source;
        i = cls.next - 1;
      } else out += '\\[';
    } else if (c === '\\' && i + 1 < p.length) out += escapeRegex(p[++i]);
    else if (braces && c === '{') {
      out += '(?:';
      depth++;
    } else if (braces && c === '}' && depth > 0) {
      out += ')';
      depth--;
    } else if (braces && c === ',' && depth > 0) out += '|';
    else out += escapeRegex(c);
  }
  while (depth-- > 0) out += ')';
  return out;
}

/** A matcher for VS Code-style globs (files.exclude): true when the path, or the folder it names, matches one. */
export function globMatcher(patterns: readonly string[]): (path: string) => boolean {
  const res = patterns
    .map((p) => p.trim().replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, ''))
    .filter((p) => p !== '')
    .map((p) => new RegExp(`^${globSource(p, true)}$`, 'u'));
  return (path) => res.some((r) => r.test(path));
}

export interface IgnoreRule {
  readonly pattern: string;
  readonly negate: boolean;
  readonly dirOnly: boolean;
  readonly regex: RegExp;
}

/** Parses a .gitignore file's text into rules, in file order. */
export function parseGitignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (let line of text.split(/\r?\n/)) {
    // Trailing spaces are dropped unless escaped with a backslash.
    line = line.replace(/(?<!\\)[ \t]+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1);
    let dirOnly = false;
    if (line.endsWith('/') && !line.endsWith('\\/')) {
      dirOnly = true;
      line = line.replace(/\/+$/, '');
    }
    if (line === '') continue;
    // A slash at the start or in the middle anchors the pattern to the .gitignore's directory;
    // otherwise it matches a name at any depth.
    const anchored = line.includes('/');
    const body = line.startsWith('/') ? line.slice(1) : line;
    const source = (anchored ? '' : '(?:[^/]+/)*') + globSource(body, false);
    rules.push({ pattern: line, negate, dirOnly, regex: new RegExp(`^${source}$`, 'u') });
  }
  return rules;
}

/** The rules of one ignore file and where they apply. */
export interface RuleSet {
  readonly rules: readonly IgnoreRule[];
  /** Folder of the file, relative to the walk root ('' = the root); for files above the root, ''. */
  readonly dir: string;
  /** For files above the root: the walk root's path relative to the file's folder. */
  readonly prefix: string;
}

function localPath(set: RuleSet, path: string): string | undefined {
  if (set.prefix) return `${set.prefix}/${path}`;
  if (!set.dir) return path;
  return path.startsWith(`${set.dir}/`) ? path.slice(set.dir.length + 1) : undefined;
}

/** Whether the ignore files (outermost first) ignore a path: the last matching rule decides. */
export function isIgnored(sets: readonly RuleSet[], path: string, isDir: boolean): boolean {
  for (let s = sets.length - 1; s >= 0; s--) {
    const local = localPath(sets[s], path);
    if (local === undefined) continue;
    const rules = sets[s].rules;
    for (let r = rules.length - 1; r >= 0; r--) {
      const rule = rules[r];
      if (rule.dirOnly && !isDir) continue;
      if (rule.regex.test(local)) return !rule.negate;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// File system
// ---------------------------------------------------------------------------------------------------------

export type FolderEntryType = 'file' | 'directory' | 'other';

export interface FolderEntry {
  readonly name: string;
  readonly type: FolderEntryType;
}

/** What the walk needs from a file system. Paths are relative to the folder counted, with `/` ('' = the folder). */
export interface FolderFs {
  readDir(path: string): Promise<readonly FolderEntry[]>;
  stat(path: string): Promise<{ readonly type: FolderEntryType; readonly size: number }>;
  readFile(path: string): Promise<Uint8Array>;
  /** Reads a file in pieces (files over maxFileBytes); without it such files are read whole. */
  readChunks?(path: string, chunkBytes: number): AsyncIterable<Uint8Array>;
}

/**
 * The disk under `root`. Symbolic links to files are followed; links to folders are not walked (they can make
 * cycles) and show as 'other'.
 */
export function nodeFolderFs(root: string): FolderFs {
  const abs = (p: string): string => (p ? join(root, ...p.split('/')) : root);
  const typeOf = (s: { isFile(): boolean; isDirectory(): boolean }): FolderEntryType => (s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other');
  return {
    async readDir(path) {
      const entries = await readdir(abs(path), { withFileTypes: true });
      const out: FolderEntry[] = [];
      for (const e of entries) {
        let type = typeOf(e);
        if (e.isSymbolicLink()) {
          try {
            type = (await stat(join(abs(path), e.name))).isFile() ? 'file' : 'other';
          } catch {
            type = 'other';
          }
        }
        out.push({ name: e.name, type });
      }
      return out;
    },
    async stat(path) {
      const s = await stat(abs(path));
      return { type: typeOf(s), size: s.size };
    },
    async readFile(path) {
      return readFile(abs(path));
    },
    async *readChunks(path, chunkBytes) {
      for await (const chunk of createReadStream(abs(path), { highWaterMark: chunkBytes })) yield chunk as Uint8Array;
    },
  };
}

export interface ParentIgnoreFile {
  readonly text: string;
  /** The counted folder's path relative to the ignore file's folder, with `/`. */
  readonly prefix: string;
  readonly path: string;
}

/**
 * The ignore files above a folder that git applies to it: the .gitignore files between the repository's top
 * (the nearest folder holding `.git`) and the folder, and `.git/info/exclude`. Empty outside a repository.
 * Outermost first.
 */
export async function findParentIgnoreFiles(folder: string): Promise<ParentIgnoreFile[]> {
  const start = resolve(folder);
  const chain: string[] = [];
  let dir = start;
  let top: string | undefined;
  for (;;) {
    try {
      await lstat(join(dir, '.git'));
      top = dir;
      break;
    } catch {
      // not the top; go up
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
    chain.push(dir);
  }
  if (top === undefined) return [];
  const rel = (from: string): string => start.slice(from.length).split(/[\\/]/).filter(Boolean).join('/');
  const read = async (p: string): Promise<string | undefined> => {
    try {
      return await readFile(p, 'utf8');
    } catch {
      return undefined;
    }
  };
  const out: ParentIgnoreFile[] = [];
  const exclude = join(top, '.git', 'info', 'exclude');
  const excludeText = await read(exclude);
  if (excludeText !== undefined) out.push({ text: excludeText, prefix: rel(top), path: exclude });
  // chain holds the folders above `start` up to `top`, innermost first; the folder's own .gitignore is read by the walk.
  for (const d of chain.reverse()) {
    const p = join(d, '.gitignore');
    const text = await read(p);
    if (text !== undefined) out.push({ text, prefix: rel(d), path: p });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Counting text in bounded chunks
// ---------------------------------------------------------------------------------------------------------

export interface NamedTokenizer {
  readonly id: string;
  readonly tokenizer: Tokenizer;
}

/** Counts the tokens of a text fed in pieces in bounded memory (see ChunkedEncoder: exact at restart points). */
export class ChunkedTokenCounter {
  private readonly encoder: ChunkedEncoder;
  private total = 0;
  private approx = false;

  constructor(tokenizer: Tokenizer, chunkUnits = 1 << 20, allowSpecial = false) {
    this.encoder = new ChunkedEncoder(tokenizer, allowSpecial, chunkUnits * 8);
  }

  get count(): number {
    return this.total;
  }

  /** True when the text had to be split where the count may differ from the whole text's by a token or so. */
  get approximate(): boolean {
    return this.approx;
  }

  private add(parts: readonly EncodedPart[]): void {
    for (const p of parts) {
      this.total += p.stream.count;
      if (p.approximate) this.approx = true;
    }
  }

  push(text: string): void {
    this.add(this.encoder.push(text));
  }

  finish(): number {
    this.add(this.encoder.end());
    return this.total;
  }
}

/** Counts a whole text in bounded chunks (exactly the count of encoding it at once, see ChunkedTokenCounter). */
export function countTextTokens(tokenizer: Tokenizer, text: string, options: { chunkUnits?: number; allowSpecial?: boolean } = {}): { count: number; approximate: boolean } {
  const chunk = options.chunkUnits ?? 1 << 20;
  if (text.length <= chunk * 2) return { count: text.length ? tokenizer.encodeIds(text, { allowSpecial: options.allowSpecial === true }).length : 0, approximate: false };
  const counter = new ChunkedTokenCounter(tokenizer, chunk, options.allowSpecial === true);
  for (let i = 0; i < text.length; i += chunk) counter.push(text.slice(i, i + chunk));
  return { count: counter.finish(), approximate: counter.approximate };
}

// ---------------------------------------------------------------------------------------------------------
// Streaming decode of large files (the same rules as decodeFileBytes)
// ---------------------------------------------------------------------------------------------------------

type Encoding = DecodedText['encoding'];

function sniffEncoding(head: Uint8Array, path: string): Encoding {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf8bom';
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return 'utf16le';
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return 'utf16be';
  if (head.subarray(0, 512).includes(0)) throw new BinaryFileError(path);
  return 'utf8';
}

/** Decoded text pieces of a byte stream; a trailing `\r` is held back so that `\r\n` is never split. */
async function* decodePieces(chunks: AsyncIterable<Uint8Array>, encoding: Encoding): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding === 'utf16le' ? 'utf-16le' : encoding === 'utf16be' ? 'utf-16be' : 'utf-8');
  let carry = '';
  for await (const chunk of chunks) {
    let s = carry + decoder.decode(chunk, { stream: true });
    carry = '';
    if (s.endsWith('\r')) {
      carry = '\r';
      s = s.slice(0, -1);
    }
    if (s) yield s;
  }
  const last = carry + decoder.decode();
  if (last) yield last;
}

/** Reads a head of at least `n` bytes from a chunk stream, giving back the chunks read. */
async function readHead(chunks: AsyncIterator<Uint8Array>, n: number): Promise<{ head: Uint8Array; consumed: Uint8Array[]; done: boolean }> {
  const consumed: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const r = await chunks.next();
    if (r.done) {
      done = true;
      break;
    }
    consumed.push(r.value);
    size += r.value.length;
  }
  const head = new Uint8Array(size);
  let o = 0;
  for (const c of consumed) {
    head.set(c, o);
    o += c.length;
  }
  return { head, consumed, done };
}

async function* replay(first: readonly Uint8Array[], rest: AsyncIterator<Uint8Array>, done: boolean): AsyncGenerator<Uint8Array> {
  try {
    yield* first;
    if (done) return;
    for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
  } finally {
    // Stopped early (an abort): close the underlying stream.
    await rest.return?.();
  }
}

// ---------------------------------------------------------------------------------------------------------
// The walk and the totals
// ---------------------------------------------------------------------------------------------------------

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

export interface FolderTotalsSummary {
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

let lastYield = 0;
/** Lets other work (an abort, progress rendering) run during long counts. */
async function breathe(signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const now = Date.now();
  if (now - lastYield < 25) return;
  lastYield = now;
  await new Promise<void>((r) => setImmediate(r));
  signal?.throwIfAborted();
}

/**
 * The decoded text of a byte stream in pieces, as VS Code would read the file (see decodeFileBytes): the
 * encoding by BOM (binary by a NUL in the first 512 bytes), then line endings unified to the dominant one.
 * Two passes (`source` is called twice): the first counts the line endings. Memory stays at a few pieces.
 */
export async function* decodedTextPieces(source: () => AsyncIterable<Uint8Array>, path: string, signal?: AbortSignal): AsyncGenerator<string> {
  const it1 = source()[Symbol.asyncIterator]();
  const h = await readHead(it1, 512);
  let encoding: Encoding;
  try {
    encoding = sniffEncoding(h.head, path);
  } catch (e) {
    await it1.return?.();
    throw e;
  }
  // decodePieces never ends a piece between the CR and LF of a CRLF.
  const breaks = new LineBreakCounts();
  for await (const s of decodePieces(replay(h.consumed, it1, h.done), encoding)) {
    await breathe(signal);
    breaks.add(s);
  }
  const { eol, mixed } = breaks;
  for await (const s of decodePieces(source(), encoding)) {
    await breathe(signal);
    yield mixed ? unifyLineBreaks(s, eol) : s;
  }
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

export interface FolderListing {
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

/** Token totals of a folder under each tokenizer (see the file comment). */
export async function countFolder(fs: FolderFs, options: FolderTotalsOptions): Promise<FolderTotals> {
  if (options.tokenizers.length === 0) throw new Error('countFolder needs at least one tokenizer');
  const listed = await listFolderFiles(fs, options);
  const bytesTotal = listed.files.reduce((s, f) => s + f.size, 0);
  const files: FileTokens[] = [];
  const skipped: SkippedFile[] = [...listed.skipped];
  const tokens: Record<string, number> = Object.fromEntries(options.tokenizers.map((t) => [t.id, 0]));
  let bytesDone = 0;
  let bytes = 0;
  let binary = 0;
  for (let i = 0; i < listed.files.length; i++) {
    const f = listed.files[i];
    await breathe(options.signal);
    options.onProgress?.({ phase: 'count', filesFound: listed.files.length, filesDone: i, bytesDone, bytesTotal, path: f.path });
    try {
      const r = await countFile(fs, f.path, f.size, options);
      files.push(r);
      bytes += r.bytes;
      for (const t of options.tokenizers) tokens[t.id] += r.tokens[t.id];
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      if ((e as Error).name === 'AbortError') throw e;
      if (e instanceof BinaryFileError) {
        binary++;
        skipped.push({ path: f.path, reason: 'binary' });
      } else skipped.push({ path: f.path, reason: 'unreadable', message: (e as Error).message });
    }
    bytesDone += f.size;
  }
  options.onProgress?.({ phase: 'count', filesFound: listed.files.length, filesDone: listed.files.length, bytesDone, bytesTotal });
  const unreadable = skipped.filter((s) => s.reason === 'unreadable').length;
  const other = skipped.filter((s) => s.reason === 'other').length;
  return {
    files,
    skipped,
    totals: {
      files: files.length,
      skippedBinary: binary,
      skippedIgnored: listed.ignored,
      skippedIgnoredFolders: listed.ignoredFolders,
      skippedUnreadable: unreadable,
      skippedOther: other,
      bytes,
      tokens,
    },
  };
}
