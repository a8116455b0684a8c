/**
 * Writes compact vocabulary files (see compact.ts) from a Hugging Face tokenizer.json or a tiktoken source.
 * Build-time only (scripts/build-vocab.ts and tests): the extension never loads this module.
 */
import { MERGE_ID_BITS } from './bpe';
import {
  COMPACT_MAGIC,
  COMPACT_PREFIX_BYTES,
  COMPACT_VERSION,
  compactChecksum,
  compactEngineConfig,
  readCompact,
  type CompactEngineData,
  type CompactHeader,
  type CompactPipeline,
  type SectionRef,
} from './compact';
import { BpeTokenizer, type EngineConfig } from './engine';
import { TokenizerError } from './errors';
import { hfConfigFromJson, parseTokenizerJson, type HfLoadOptions } from './hfLoader';
import { tiktokenConfig, type TiktokenSource } from './tiktokenLoader';

/** Everything a compact file holds, before serialization. */
export interface CompactData {
  readonly id: string;
  readonly source: CompactHeader['source'];
  readonly engine: CompactEngineData;
  readonly pipeline: CompactPipeline;
  /** Entry spellings and ids (any order; written sorted by id). */
  readonly spellings: readonly string[];
  readonly ids: readonly number[];
  /** (left, right, new) triples in rank order. */
  readonly merges: Uint32Array;
  readonly rankIsNewId: boolean;
}

/** Compact data and the engine config the JSON loader built from the same source (to verify against). */
export interface BuiltCompact {
  readonly data: CompactData;
  readonly config: EngineConfig;
}

export interface CompactSourceInfo {
  readonly id: string;
  readonly source: CompactHeader['source'];
}

function engineData(cfg: EngineConfig): CompactEngineData {
  return {
    algorithm: cfg.algorithm,
    symbols: cfg.symbols,
    ignoreMerges: cfg.ignoreMerges,
    byteFallback: cfg.byteFallback,
    unkId: cfg.unkId,
    fuseUnk: cfg.fuseUnk,
    addedTokens: cfg.addedTokens.map((t) => ({ id: t.id, content: t.content, special: t.special, normalized: t.normalized })),
    postAdded: cfg.postAdded.map((t) => ({ id: t.id, text: t.text, position: t.position })),
  };
}

function vocabArrays(vocab: ReadonlyMap<string, number>): { spellings: string[]; ids: number[] } {
  const spellings: string[] = [];
  const ids: number[] = [];
  for (const [s, id] of vocab) {
    spellings.push(s);
    ids.push(id);
  }
  return { spellings, ids };
}

/** A Hugging Face tokenizer.json (text) as compact data. The engine config is built by hfLoader itself. */
export function compactFromHfJson(text: string, info: CompactSourceInfo, options: HfLoadOptions = {}): BuiltCompact {
  const json = parseTokenizerJson(text, options.sourceName);
  const cfg = hfConfigFromJson(json, options);
  const model = json.model as { merges: unknown[] };
  const merges = new Uint32Array(model.merges.length * 3);
  for (let rank = 0; rank < model.merges.length; rank++) {
    const m = model.merges[rank];
    let a: string;
    let b: string;
    if (typeof m === 'string') {
      const sp = m.indexOf(' ', 1);
      a = m.slice(0, sp);
      b = m.slice(sp + 1);
    } else {
      [a, b] = m as [string, string];
    }
    const ia = cfg.vocab.get(a) as number;
    const ib = cfg.vocab.get(b) as number;
    const ic = cfg.vocab.get(a + b) as number;
    // hfConfigFromJson validated the merges; check that this reading agrees with its pair table.
    const expected = cfg.pairLookup(ia, ib);
    if (expected % MERGE_ID_BITS !== ic || Math.floor(expected / MERGE_ID_BITS) > rank) {
      throw new TokenizerError(`${info.id}: merge ${rank} reads differently from the JSON loader`);
    }
    merges.set([ia, ib, ic], rank * 3);
  }
  const data: CompactData = {
    ...info,
    engine: engineData(cfg),
    pipeline: { kind: 'hf', normalizer: json.normalizer ?? null, pre_tokenizer: json.pre_tokenizer ?? null, decoder: json.decoder ?? null },
    ...vocabArrays(cfg.vocab),
    merges,
    rankIsNewId: false,
  };
  return { data, config: cfg };
}

/**
 * A tiktoken source as compact data. tiktoken merges a pair when the concatenation of its bytes is a token,
 * with that token's rank (= id): every such pair is listed, found by cutting each token at every byte.
 */
export function compactFromTiktoken(src: TiktokenSource, info: CompactSourceInfo): BuiltCompact {
  const cfg = tiktokenConfig(src);
  const { ranks } = src;
  const triples: number[] = [];
  for (const [s, id] of ranks) {
    for (let k = 1; k < s.length; k++) {
      const l = ranks.get(s.slice(0, k));
      if (l === undefined) continue;
      const r = ranks.get(s.slice(k));
      if (r === undefined) continue;
      triples.push(l, r, id);
    }
  }
  const data: CompactData = {
    ...info,
    engine: engineData(cfg),
    pipeline: { kind: 'tiktoken', pattern: src.pattern },
    ...vocabArrays(ranks),
    merges: Uint32Array.from(triples),
    rankIsNewId: true,
  };
  return { data, config: cfg };
}

const align8 = (n: number): number => (n + 7) & ~7;

/** Serializes compact data into the file format compact.ts reads. */
export function encodeCompact(data: CompactData): Uint8Array {
  const n = data.spellings.length;
  if (n === 0) throw new TokenizerError(`${data.id}: empty vocabulary`);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => data.ids[x] - data.ids[y]);
  let maxLen = 0;
  let contiguous = true;
  let idLimit = 0;
  for (let k = 0; k < n; k++) {
    const e = order[k];
    const id = data.ids[e];
    if (!Number.isInteger(id) || id < 0 || id >= MERGE_ID_BITS) throw new TokenizerError(`${data.id}: id ${id} is out of range`);
    if (k > 0 && id === data.ids[order[k - 1]]) throw new TokenizerError(`${data.id}: id ${id} has two spellings`);
    if (id !== k) contiguous = false;
    idLimit = id + 1;
    if (data.spellings[e].length > maxLen) maxLen = data.spellings[e].length;
  }
  const text = Buffer.from(order.map((e) => data.spellings[e]).join(''), 'utf16le');
  const lensWidth: 1 | 2 | 4 = maxLen < 256 ? 1 : maxLen < 65536 ? 2 : 4;
  const lens = lensWidth === 1 ? new Uint8Array(n) : lensWidth === 2 ? new Uint16Array(n) : new Uint32Array(n);
  for (let k = 0; k < n; k++) lens[k] = data.spellings[order[k]].length;
  const ids = contiguous ? null : Uint32Array.from(order.map((e) => data.ids[e]));

  // The pair table: distinct (left, right) pairs, lowest rank first, grouped by left id and sorted by right id.
  const m = data.merges;
  const count = m.length / 3;
  const byPair = Array.from({ length: count }, (_, i) => i).sort((x, y) => m[3 * x] - m[3 * y] || m[3 * x + 1] - m[3 * y + 1] || x - y);
  const pairOffsets = new Uint32Array(idLimit + 1);
  const records: number[] = [];
  let prevL = -1;
  let prevR = -1;
  for (const i of byPair) {
    const l = m[3 * i];
    const r = m[3 * i + 1];
    const id = m[3 * i + 2];
    if (l >= idLimit || r >= idLimit || id >= idLimit) throw new TokenizerError(`${data.id}: merge ${i} uses an id beyond the vocabulary`);
    if (l === prevL && r === prevR) continue;
    prevL = l;
    prevR = r;
    pairOffsets[l + 1]++;
    records.push(r, data.rankIsNewId ? id : i, id);
  }
  for (let l = 0; l < idLimit; l++) pairOffsets[l + 1] += pairOffsets[l];
  const pairRecords = Uint32Array.from(records);

  const bytesOf = (a: Uint8Array | Uint16Array | Uint32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const blobs: Array<[keyof CompactHeader['sections'], Uint8Array]> = [
    ['vocabText', bytesOf(text)],
    ['vocabLens', bytesOf(lens)],
    ...(ids ? [['vocabIds', bytesOf(ids)] as [keyof CompactHeader['sections'], Uint8Array]] : []),
    ['pairOffsets', bytesOf(pairOffsets)],
    ['pairRecords', bytesOf(pairRecords)],
  ];
  // Section placement needs the header length, which holds the placement: iterate until it settles.
  const enc = new TextEncoder();
  let headerLen = 0;
  let headerBytes = new Uint8Array(0);
  let sections: Record<string, SectionRef> = {};
  let total = 0;
  for (let attempt = 0; attempt < 4; attempt++) {
    let off = COMPACT_PREFIX_BYTES + align8(headerLen);
    sections = {};
    for (const [name, blob] of blobs) {
      sections[name] = [off, blob.length];
      off = align8(off + blob.length);
    }
    total = off;
    const header: CompactHeader = {
      id: data.id,
      source: data.source,
      engine: data.engine,
      pipeline: data.pipeline,
      vocabCount: n,
      lensWidth,
      idLimit,
      pairCount: pairRecords.length / 3,
      sections: sections as unknown as CompactHeader['sections'],
    };
    headerBytes = enc.encode(JSON.stringify(header));
    if (align8(headerBytes.length) === align8(headerLen)) break;
    headerLen = headerBytes.length;
  }
  if (COMPACT_PREFIX_BYTES + headerBytes.length > sections.vocabText[0]) throw new TokenizerError(`${data.id}: header placement did not settle`);
  const out = new Uint8Array(total);
  for (let i = 0; i < 8; i++) out[i] = COMPACT_MAGIC.charCodeAt(i);
  out.set(headerBytes, COMPACT_PREFIX_BYTES);
  for (const [name, blob] of blobs) out.set(blob, sections[name][0]);
  const view = new DataView(out.buffer);
  view.setUint32(8, COMPACT_VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  view.setUint32(16, total, true);
  view.setUint32(20, compactChecksum(new Uint32Array(out.buffer, COMPACT_PREFIX_BYTES, (total - COMPACT_PREFIX_BYTES) / 4)), true);
  return out;
}

/** Texts every compact file is checked on at build time: code, prose in many scripts, emoji, odd whitespace. */
export const VERIFY_SAMPLES: readonly string[] = [
  'Hello, world! The quick brown fox jumps over the lazy dog.',
  "export function add(a: number, b: number): number {\n  return a + b; // sum\n}\n\n\tconst x = `${a}`;\n",
  "It's 12345 o'clock; they'll've DONE it... ok?!  \n\n\n   trailing   ",
  'Grüße aus Köln — naïve café, ﬁnancial Ⅻ, ſtraße, KELVIN',
  '日本語のテキストと中文文本，한국어 텍스트, ภาษาไทย, العربية, עברית, हिन्दी, Ελληνικά, русский',
  '🎉👩‍👩‍👧‍👦🏳️‍🌈 emoji 𝕏 \u{10FFFF} \uFFFD \u0085 \u00A0 \u200B\u200D \r\n\r\n',
  '<|endoftext|><s></s><bos><eos><|begin_of_text|><unk>[INST] <start_of_turn>user\n',
  '    indented\n        more\n\n\n\n    x = [1,2,3]\n',
  'a'.repeat(300) + ' ' + '=' .repeat(100) + ' ' + '\u00e9'.repeat(50),
];

/**
 * Checks that a compact file gives the same tokenizer as the JSON loader: every pair lookup of every merge,
 * random pairs, every token's name and bytes, added tokens, restart rules, and the sample texts' streams.
 * Throws TokenizerError naming the first difference.
 */
export function verifyCompact(bytes: Uint8Array, built: BuiltCompact, samples: readonly string[] = VERIFY_SAMPLES): void {
  const id = built.data.id;
  const cfg = compactEngineConfig(readCompact(bytes, id), id);
  const ref = built.config;
  const m = built.data.merges;
  for (let j = 0; j < m.length; j += 3) {
    if (cfg.pairLookup(m[j], m[j + 1]) !== ref.pairLookup(m[j], m[j + 1])) throw new TokenizerError(`${id}: pair ${m[j]},${m[j + 1]} differs`);
  }
  const ours = new BpeTokenizer(cfg);
  const theirs = new BpeTokenizer(ref);
  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % theirs.vocabSize;
  };
  for (let k = 0; k < 20000; k++) {
    const l = rand();
    const r = rand();
    if (cfg.pairLookup(l, r) !== ref.pairLookup(l, r)) throw new TokenizerError(`${id}: pair ${l},${r} differs`);
  }
  if (ours.vocabSize !== theirs.vocabSize) throw new TokenizerError(`${id}: vocabSize ${ours.vocabSize} != ${theirs.vocabSize}`);
  for (let t = 0; t < theirs.vocabSize; t++) {
    if (ours.tokenName(t) !== theirs.tokenName(t)) throw new TokenizerError(`${id}: token ${t} is named differently`);
    const a = ours.tokenBytes(t);
    const b = theirs.tokenBytes(t);
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) throw new TokenizerError(`${id}: token ${t} has different bytes`);
  }
  const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);
  if (!same(ours.addedTokens, theirs.addedTokens)) throw new TokenizerError(`${id}: added tokens differ`);
  if (!same(ours.restartRules, theirs.restartRules)) throw new TokenizerError(`${id}: restart rules differ`);
  if (ours.algorithm !== theirs.algorithm) throw new TokenizerError(`${id}: algorithm differs`);
  for (const text of samples) {
    for (const options of [{}, { allowSpecial: true }, { continuation: true }]) {
      const a = ours.encode(text, options);
      const b = theirs.encode(text, options);
      for (const key of ['ids', 'byteOffsets', 'utf16Offsets', 'flags', 'byteIntoChar'] as const) {
        if (a[key].length !== b[key].length || a[key].some((x, i) => x !== b[key][i])) {
          throw new TokenizerError(`${id}: ${key} differ on ${JSON.stringify(text.slice(0, 40))}`);
        }
      }
    }
  }
}
