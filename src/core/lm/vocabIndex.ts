/**
 * A tokenizer's vocabulary arranged for the next-byte analysis, built once per tokenizer and cached:
 * - each id's decoded bytes (byte-level: its raw bytes; SentencePiece: `▁` read as a space, `<0xNN>` as the byte),
 *   its text when those bytes are whole UTF-8 characters, and its first byte;
 * - ids sorted by bytes, so the tokens that start with given bytes are one range (binary search);
 * - for pattern-pre-tokenized byte-level tokenizers, the "first-character class" of each id: the set of the
 *   pattern's character predicates its first character satisfies (the pattern cannot tell apart two characters
 *   of one class), and whether the token is canonical on its own (one pre-token, and BPE of it gives it back).
 * Ids that can never be part of a canonical encoding of text are "unusable": special added tokens (text never
 * encodes to them unless special tokens are allowed), ids without bytes.
 */
import { utf8Length } from '../text/utf8';
import type { Tokenizer } from '../tokenizers/types';
import type { EngineConfig } from '../tokenizers/engine';
import { BYTE_TO_CHAR } from '../tokenizers/byteLevel';
import { preTokenize } from '../tokenizers/preTokenizer';
import { ByteBpe, codePoints, engineConfig, PatternAutomaton, type EdgeChain } from './preTokens';
import type { BaseDistribution } from './model';
import { lowerBound } from '../sortedSearch';

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 length announced by a lead byte (0 for a continuation or invalid byte). */
export function utf8SequenceLength(b: number): number {
  return b < 0x80 ? 1 : b < 0xc2 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 0;
}

/** Whether byte c may follow lead byte `lead` as its first continuation (UTF-8's ranges: no overlongs, no surrogates, ≤ U+10FFFF). */
export function validSecondByte(lead: number, c: number): boolean {
  if (lead === 0xe0) return c >= 0xa0 && c <= 0xbf;
  if (lead === 0xed) return c >= 0x80 && c <= 0x9f;
  if (lead === 0xf0) return c >= 0x90 && c <= 0xbf;
  if (lead === 0xf4) return c >= 0x80 && c <= 0x8f;
  return c >= 0x80 && c <= 0xbf;
}

/** Whether bytes[start, end) (1 to 3 bytes) are the beginning of one valid UTF-8 character, not all of it. */
export function isCharacterStart(bytes: Uint8Array, start: number, end: number): boolean {
  const n = utf8SequenceLength(bytes[start]);
  if (n === 0 || end - start >= n) return false;
  for (let k = start + 1; k < end; k++) {
    if (k === start + 1 ? !validSecondByte(bytes[start], bytes[k]) : (bytes[k] & 0xc0) !== 0x80) return false;
  }
  return true;
}

/** Length of the longest prefix of bytes[start, end) made of whole, valid UTF-8 characters. */
export function completeUtf8Length(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let i = start;
  while (i < end) {
    const n = utf8SequenceLength(bytes[i]);
    if (n === 0 || i + n > end) break;
    let ok = true;
    for (let k = 1; k < n; k++) if (k === 1 ? !validSecondByte(bytes[i], bytes[i + 1]) : (bytes[i + k] & 0xc0) !== 0x80) ok = false;
    if (!ok) break;
    i += n;
  }
  return i - start;
}

export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** Class markers for tokens that do not start with a whole character. */
export const CONTINUATION_INITIAL = -1;
export const PARTIAL_INITIAL = -2;
export const UNUSABLE = -3;
/** Second-character group markers. */
export const SINGLE_CHARACTER = -1;
export const PARTIAL_SECOND = -2;

export interface CharClass {
  /** A character of the class (pieces are computed with it standing in for the class). */
  readonly rep: string;
  /** Usable ids whose first character is in the class. */
  readonly ids: Int32Array;
}

export class VocabIndex {
  readonly vocabSize: number;
  /** Decoded bytes of each id. */
  readonly bytes: Uint8Array[];
  /** The id's text when its bytes are whole characters. */
  readonly text: (string | undefined)[];
  readonly usable: Uint8Array;
  readonly firstByte: Int16Array;
  readonly maxTokenBytes: number;
  /** Ids sorted by their bytes (latin1 keys), and those keys. */
  private readonly sortedIds: Int32Array;
  private readonly sortedKeys: string[];
  /** First-character class of each id, or one of the markers. */
  readonly firstClass: Int32Array;
  readonly classes: CharClass[] = [];
  readonly continuationInitial: Int32Array;
  readonly partialInitial: Int32Array;
  /** Stand-ins of the classes of second characters (same predicates as first characters). */
  readonly secondReps: string[] = [];
  /** Per first-character class: its ids grouped by the class of their second character (SINGLE_CHARACTER: none; PARTIAL_SECOND: incomplete). */
  readonly classGroups: Map<number, Int32Array>[] = [];
  private selfValidCache: Uint8Array | undefined;
  private readonly naiveSums = new WeakMap<BaseDistribution, Float64Array>();
  private readonly sortedSums = new WeakMap<BaseDistribution, Float64Array>();
  private sortedValidCounts: Uint32Array | undefined;
  /** Byte-level spelling of each id (for whole-word vocabulary lookups). */
  private spellings: string[] | undefined;
  private readonly classSums = new WeakMap<BaseDistribution, Float64Array>();

  constructor(
    readonly tokenizer: Tokenizer,
    readonly machinery: ExactMachinery | undefined,
  ) {
    const V = tokenizer.vocabSize;
    this.vocabSize = V;
    const cfg = engineConfig(tokenizer);
    const special = new Set<number>();
    for (const t of cfg?.addedTokens ?? []) if (t.special) special.add(t.id);
    const sentencePiece = tokenizer.algorithm === 'sentencepiece-bpe';
    this.bytes = new Array<Uint8Array>(V);
    this.text = new Array<string | undefined>(V);
    this.usable = new Uint8Array(V);
    this.firstByte = new Int16Array(V).fill(-1);
    this.firstClass = new Int32Array(V).fill(UNUSABLE);
    let maxLen = 0;
    const keys = new Array<string>(V);
    for (let id = 0; id < V; id++) {
      let b = tokenizer.tokenBytes(id);
      if (sentencePiece) b = metaspaceToSpace(b);
      this.bytes[id] = b;
      keys[id] = latin1(b);
      if (b.length === 0 || special.has(id)) continue;
      this.usable[id] = 1;
      this.firstByte[id] = b[0];
      if (b.length > maxLen) maxLen = b.length;
      try {
        this.text[id] = strictDecoder.decode(b);
      } catch {
        this.text[id] = undefined;
      }
    }
    this.maxTokenBytes = maxLen;
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
    this.sortedIds = Int32Array.from(order);
    this.sortedKeys = order.map((i) => keys[i]);
    // First-character classes.
    const cont: number[] = [];
    const partial: number[] = [];
    const classIndex = new Map<string, number>();
    const members: number[][] = [];
    const classKey = (cp: number): string => machinery?.classKey(cp) ?? '';
    for (let id = 0; id < V; id++) {
      if (!this.usable[id]) continue;
      const b = this.bytes[id];
      const n = utf8SequenceLength(b[0]);
      if (n === 0) {
        this.firstClass[id] = CONTINUATION_INITIAL;
        cont.push(id);
        continue;
      }
      if (completeUtf8Length(b, 0, Math.min(n, b.length)) !== n) {
        // Starts a character it does not finish (or an invalid one: such a token is never valid).
        if (!isCharacterStart(b, 0, b.length)) continue;
        this.firstClass[id] = PARTIAL_INITIAL;
        partial.push(id);
        continue;
      }
      const first = strictDecoder.decode(b.subarray(0, n));
      const cp = first.codePointAt(0) as number;
      const key = classKey(cp);
      let c = classIndex.get(key);
      if (c === undefined) {
        c = members.length;
        classIndex.set(key, c);
        members.push([]);
        this.classes.push({ rep: first, ids: new Int32Array(0) });
      }
      members[c].push(id);
      this.firstClass[id] = c;
    }
    for (let c = 0; c < members.length; c++) (this.classes[c] as { ids: Int32Array }).ids = Int32Array.from(members[c]);
    // Second characters.
    const secondIndex = new Map<string, number>();
    for (let c = 0; c < members.length; c++) {
      const groups = new Map<number, number[]>();
      for (const id of members[c]) {
        const b = this.bytes[id];
        const n1 = utf8SequenceLength(b[0]);
        let g: number;
        if (b.length === n1) g = SINGLE_CHARACTER;
        else {
          const n2 = utf8SequenceLength(b[n1]);
          if (n2 === 0 || n1 + n2 > b.length || completeUtf8Length(b, n1, n1 + n2) !== n2) g = PARTIAL_SECOND;
          else {
            const second = strictDecoder.decode(b.subarray(n1, n1 + n2));
            const key = classKey(second.codePointAt(0) as number);
            let k = secondIndex.get(key);
            if (k === undefined) {
              k = this.secondReps.length;
              secondIndex.set(key, k);
              this.secondReps.push(second);
            }
            g = k;
          }
        }
        let list = groups.get(g);
        if (!list) groups.set(g, (list = []));
        list.push(id);
      }
      const out = new Map<number, Int32Array>();
      for (const [g, list] of groups) out.set(g, Int32Array.from(list));
      this.classGroups.push(out);
    }
    this.continuationInitial = Int32Array.from(cont);
    this.partialInitial = Int32Array.from(partial);
  }

  /** Ids whose bytes start with `prefix` (a latin1 key), as a range of sortedId positions. */
  prefixRange(prefix: string): [number, number] {
    return [lowerBound(this.sortedKeys, prefix), lowerBound(this.sortedKeys, prefix + '\u0100')];
  }

  sortedId(position: number): number {
    return this.sortedIds[position];
  }

  /**
   * For each usable id: is it the canonical encoding of its own bytes as a whole text (one pre-token, and
   * BPE of it gives it back)? A token ending inside a character counts when its whole characters are one
   * pre-token that, with the partial bytes joined or on their own, encodes to it (see nextByte.ts).
   */
  selfValid(): Uint8Array {
    if (this.selfValidCache) return this.selfValidCache;
    const m = this.machinery;
    const out = new Uint8Array(this.vocabSize);
    if (m) {
      for (let id = 0; id < this.vocabSize; id++) {
        if (!this.usable[id] || this.firstClass[id] < 0) continue;
        const covers = m.encodeTail(this.bytes[id], 0, '', 0, id, false);
        if (covers.length === 1 && covers[0].length === 1) out[id] = 1;
      }
    }
    this.selfValidCache = out;
    return out;
  }

  /**
   * Prefix sums, in byte-sorted order, of base.prob over self-valid ids: the sum over sorted positions
   * [lo, hi) is at(hi) - at(lo).
   */
  sortedBaseSums(base: BaseDistribution): Float64Array {
    let s = this.sortedSums.get(base);
    if (!s) {
      const sv = this.selfValid();
      s = new Float64Array(this.vocabSize + 1);
      for (let pos = 0; pos < this.vocabSize; pos++) {
        const id = this.sortedIds[pos];
        s[pos + 1] = s[pos] + (sv[id] ? base.prob(id) : 0);
      }
      this.sortedSums.set(base, s);
    }
    return s;
  }

  private readonly usableSums = new WeakMap<BaseDistribution, Float64Array>();

  /** Prefix sums, in byte-sorted order, of base.prob over usable ids. */
  sortedUsableBaseSums(base: BaseDistribution): Float64Array {
    let s = this.usableSums.get(base);
    if (!s) {
      s = new Float64Array(this.vocabSize + 1);
      for (let pos = 0; pos < this.vocabSize; pos++) {
        const id = this.sortedIds[pos];
        s[pos + 1] = s[pos] + (this.usable[id] ? base.prob(id) : 0);
      }
      this.usableSums.set(base, s);
    }
    return s;
  }

  /** Prefix counts, in byte-sorted order, of self-valid ids. */
  sortedValid(): Uint32Array {
    if (!this.sortedValidCounts) {
      const sv = this.selfValid();
      const c = new Uint32Array(this.vocabSize + 1);
      for (let pos = 0; pos < this.vocabSize; pos++) c[pos + 1] = c[pos] + sv[this.sortedIds[pos]];
      this.sortedValidCounts = c;
    }
    return this.sortedValidCounts;
  }

  private probes: string[] | undefined;

  /**
   * One character of every class of the pattern's predicates that some token starts with or has second,
   * plus the characters the patterns single out (newline, space, tab, apostrophe, slash): stand-ins for
   * "any next character".
   */
  probeCharacters(): string[] {
    if (!this.probes) {
      const seen = new Set<string>();
      const out: string[] = [];
      const m = this.machinery;
      for (const ch of [...this.classes.map((c) => c.rep), ...this.secondReps, '\n', '\r', ' ', '\t', "'", '/', 'a', 'A', '0', '.', '\u00a0', '\u3000', 'é', '中']) {
        const key = m ? m.classKey(ch.codePointAt(0) as number) : ch;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(ch);
      }
      this.probes = out;
    }
    return this.probes;
  }

  private readonly partnerCache = new Map<number, ReadonlyMap<number, number> | undefined>();

  /**
   * Every right merge partner of a symbol (π with σ·π a token, and the rank of merging σ with π), found from
   * the tokens that start with σ's bytes; undefined when more than 4096 tokens do (then ranks are asked pair
   * by pair). Cached (bounded).
   */
  partnersOf(sigma: number): ReadonlyMap<number, number> | undefined {
    if (this.partnerCache.has(sigma)) return this.partnerCache.get(sigma);
    const m = this.machinery;
    let out: Map<number, number> | undefined;
    const sb = this.bytes[sigma];
    const [lo, hi] = this.prefixRange(latin1(sb));
    if (m && hi - lo <= 4096) {
      out = new Map();
      for (let pos = lo; pos < hi; pos++) {
        const v = this.bytes[this.sortedIds[pos]];
        if (v.length <= sb.length) continue;
        const pi = m.cfg.vocab.get(this.spellingOf(v, sb.length));
        if (pi === undefined) continue;
        const mu = m.bpe.rank(sigma, pi);
        if (mu >= 0) out.set(pi, mu);
      }
    }
    if (this.partnerCache.size > 8192) this.partnerCache.clear();
    this.partnerCache.set(sigma, out);
    return out;
  }

  /** Byte-level spelling (GPT-2 alphabet) of bytes[start..]. */
  spellingOf(bytes: Uint8Array, start = 0): string {
    let s = '';
    for (let i = start; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]];
    return s;
  }

  /** Byte-level spelling of an id (GPT-2 alphabet), as the vocabulary spells it. */
  spelling(id: number): string {
    if (!this.spellings) {
      this.spellings = this.bytes.map((b) => {
        let s = '';
        for (let i = 0; i < b.length; i++) s += BYTE_TO_CHAR[b[i]];
        return s;
      });
    }
    return this.spellings[id];
  }

  /** Σ base.prob over usable ids, by first byte (the naive distribution's bulk). */
  naiveBaseSums(base: BaseDistribution): Float64Array {
    let s = this.naiveSums.get(base);
    if (!s) {
      s = new Float64Array(256);
      for (let id = 0; id < this.vocabSize; id++) if (this.usable[id]) s[this.firstByte[id]] += base.prob(id);
      this.naiveSums.set(base, s);
    }
    return s;
  }

  /** Σ base.prob over self-valid ids, by (first-character class, first byte). */
  classBaseSums(base: BaseDistribution): Float64Array {
    let s = this.classSums.get(base);
    if (!s) {
      const sv = this.selfValid();
      s = new Float64Array(this.classes.length * 256);
      for (let id = 0; id < this.vocabSize; id++) {
        const c = this.firstClass[id];
        if (c >= 0 && sv[id]) s[c * 256 + this.firstByte[id]] += base.prob(id);
      }
      this.classSums.set(base, s);
    }
    return s;
  }
}

/** SentencePiece spells a space `▁` (e2 96 81): decoded bytes read it as 0x20. */
function metaspaceToSpace(b: Uint8Array): Uint8Array {
  let found = false;
  for (let i = 0; i + 2 < b.length; i++) if (b[i] === 0xe2 && b[i + 1] === 0x96 && b[i + 2] === 0x81) found = true;
  if (!found) return b;
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0xe2 && b[i + 1] === 0x96 && b[i + 2] === 0x81) {
      out.push(0x20);
      i += 2;
    } else out.push(b[i]);
  }
  return Uint8Array.from(out);
}

/**
 * What the exact analysis needs of a byte-level tokenizer with pattern pre-tokenization: its configuration,
 * a BPE over raw bytes, the pattern's automaton (single-pattern tokenizers), and the reasons, if any, that
 * results are not exact (a normalizer, added tokens that match in text).
 */
export class ExactMachinery {
  readonly bpe: ByteBpe;
  /** Per id: where its first-symbol chain sits in the pools (-1: not traced yet), its length, and whether BPE gives it back. */
  private chainStart = new Int32Array(0);
  private chainLength = new Uint8Array(0);
  private chainSelf = new Uint8Array(0);
  chainIds = new Int32Array(1024);
  chainRanks = new Float64Array(1024);
  private chainUsed = 0;
  readonly automaton: PatternAutomaton | undefined;
  /** One automaton per split step (several steps: DeepSeek-V3), for character classes; empty if one fails. */
  readonly automata: PatternAutomaton[];
  /** Why results under this tokenizer are not exact ([] when they are). */
  readonly inexactReasons: string[] = [];

  private constructor(readonly cfg: EngineConfig) {
    this.bpe = new ByteBpe(cfg);
    const single = cfg.splits.length === 1 && cfg.splits[0].pattern instanceof RegExp ? cfg.splits[0].pattern : undefined;
    this.automaton = single ? PatternAutomaton.of(single) : undefined;
    const all = cfg.splits.map((st) => PatternAutomaton.of(st.pattern as RegExp));
    this.automata = all.every((a) => a !== undefined) ? (all as PatternAutomaton[]) : [];
    if (cfg.normalizer) this.inexactReasons.push('the tokenizer normalizes text (so a prefix of the text need not encode as a prefix)');
    if (cfg.addedTokens.some((t) => !t.special)) this.inexactReasons.push('the tokenizer has added tokens that match inside text');
  }

  /** The machinery for a tokenizer, or undefined when it is not a byte-level BPE split by patterns. */
  static of(tokenizer: Tokenizer): ExactMachinery | undefined {
    const cfg = engineConfig(tokenizer);
    if (!cfg || cfg.symbols !== 'bytes' || cfg.preNormalizer || cfg.splits.length === 0) return undefined;
    if (!cfg.splits.every((s) => s.pattern instanceof RegExp && s.behavior === 'Isolated' && !s.invert)) return undefined;
    return new ExactMachinery(cfg);
  }

  /**
   * Traces a token's BPE of its own bytes once: returns the index of its first-symbol chain in chainIds /
   * chainRanks (length chainLengthOf), or -1 when that BPE does not give the token back.
   */
  chainOf(id: number, bytes: Uint8Array): number {
    if (id >= this.chainStart.length) {
      const n = Math.max(id + 1, this.chainStart.length * 2, 1024);
      const s = new Int32Array(n).fill(-2);
      s.set(this.chainStart);
      this.chainStart = s;
      const l = new Uint8Array(n);
      l.set(this.chainLength);
      this.chainLength = l;
      const f = new Uint8Array(n);
      f.set(this.chainSelf);
      this.chainSelf = f;
    }
    if (this.chainStart[id] === -2) {
      const tr = this.bpe.trace(bytes);
      const first: EdgeChain = tr.first;
      const n = first.ids.length;
      if (this.chainUsed + n > this.chainIds.length) {
        const cap = Math.max(this.chainIds.length * 2, this.chainUsed + n);
        const a = new Int32Array(cap);
        a.set(this.chainIds);
        this.chainIds = a;
        const r = new Float64Array(cap);
        r.set(this.chainRanks);
        this.chainRanks = r;
      }
      this.chainIds.set(first.ids, this.chainUsed);
      this.chainRanks.set(first.ranks, this.chainUsed);
      this.chainStart[id] = this.chainUsed;
      this.chainLength[id] = Math.min(255, n);
      this.chainSelf[id] = tr.tokens.length === 1 && tr.tokens[0] === id ? 1 : 0;
      this.chainUsed += n;
    }
    return this.chainSelf[id] ? this.chainStart[id] : -1;
  }

  chainLengthOf(id: number): number {
    return this.chainLength[id];
  }

  /** Pre-token pieces of a string as flat [start, end) UTF-16 pairs. */
  pieces(text: string): number[] {
    const r = preTokenize(text, this.cfg.splits);
    const out: number[] = [];
    for (let i = 0; i < r.length; i += 3) out.push(r[i], r[i + 1]);
    return out;
  }

  /**
   * The canonical encodings of `prefixText` (whole characters, whose UTF-8 is `bytes[0, prefixBytes)`)
   * followed by the bytes `bytes[prefixBytes, end)` that end with token `last` starting at byte `startOfLast`
   * (relative to the start). `bytes` holds the whole byte string (prefix and rest), `prefixText` its whole-
   * character part up to `prefixBytes`. Returns the token sequences (0, 1 or 2 of them).
   *
   * Whole text: the canonical encoding (pre-tokens, then BPE of each). A byte string that ends inside a
   * character: its whole characters are pre-tokenized, and the trailing bytes either form a pre-token of their
   * own or join the last pre-token (the character they start is unknown; either is possible), so it has up
   * to two canonical encodings.
   */
  encodeTail(bytes: Uint8Array, prefixBytes: number, prefixText: string, startOfLast: number, last: number, cache = true): number[][] {
    const total = bytes.length;
    const whole = prefixBytes + completeUtf8Length(bytes, prefixBytes, total);
    let text = prefixText;
    if (whole > prefixBytes) {
      let add: string;
      try {
        add = strictDecoder.decode(bytes.subarray(prefixBytes, whole));
      } catch {
        return [];
      }
      text += add;
    }
    const tail = total - whole;
    // Trailing bytes must be the start of one character.
    if (tail > 0 && !isCharacterStart(bytes, whole, total)) return [];
    const pieces = this.pieces(text);
    // Byte offsets of the piece boundaries.
    const starts: number[] = [];
    const ends: number[] = [];
    let u = 0;
    let b = 0;
    for (let p = 0; p < pieces.length; p += 2) {
      b += utf8Length(text, u, pieces[p]);
      starts.push(b);
      b += utf8Length(text, pieces[p], pieces[p + 1]);
      ends.push(b);
      u = pieces[p + 1];
    }
    const options: [number[], number[]][] = [];
    if (tail === 0) options.push([starts, ends]);
    else {
      options.push([[...starts, whole], [...ends, total]]);
      if (starts.length) options.push([starts, [...ends.slice(0, -1), total]]);
    }
    const out: number[][] = [];
    for (const [st, en] of options) {
      const k = st.length - 1;
      if (k < 0 || st[k] > startOfLast) continue;
      const lastPiece = this.bpe.encode(bytes, st[k], en[k], cache);
      if (lastPiece[lastPiece.length - 1] !== last) continue;
      // The last token must start exactly at startOfLast.
      let len = 0;
      for (let j = 0; j < lastPiece.length - 1; j++) len += tokenLength(this, lastPiece[j]);
      if (st[k] + len !== startOfLast) continue;
      const seq: number[] = [];
      for (let p = 0; p < k; p++) for (const id of this.bpe.encode(bytes, st[p], en[p], cache)) seq.push(id);
      for (const id of lastPiece) seq.push(id);
      if (!out.some((o) => o.length === seq.length && o.every((v, j) => v === seq[j]))) out.push(seq);
    }
    return out;
  }

  /**
   * A key of the class of a code point under every step's predicates (no step can tell apart two code points
   * with one key), or '' when the patterns could not be analysed.
   */
  classKey(cp: number): string {
    if (this.automaton) return this.automaton.classKey(cp);
    let k = '';
    for (const a of this.automata) k += a.classKey(cp) + '|';
    return k;
  }

  /** Whether a match attempt of the pattern starting at each piece start before `to` is settled at `to`. */
  settled(cps: readonly number[], from: number, to: number): boolean {
    return this.automaton !== undefined && !this.automaton.undecidedAt(cps, from, to);
  }
}

/** Byte length of a token under the machinery's vocabulary. */
function tokenLength(m: ExactMachinery, id: number): number {
  return idLength(m, id);
}

const idLengths = new WeakMap<ExactMachinery, Int32Array>();

function idLength(m: ExactMachinery, id: number): number {
  let arr = idLengths.get(m);
  if (!arr) {
    let max = 0;
    for (const v of m.cfg.vocab.values()) if (v > max) max = v;
    for (const t of m.cfg.addedTokens) if (t.id > max) max = t.id;
    arr = new Int32Array(max + 1).fill(-1);
    for (const [s, v] of m.cfg.vocab) arr[v] = s.length; // byte-level spellings: one character per byte
    idLengths.set(m, arr);
  }
  return arr[id] ?? 0;
}


const indexCache = new WeakMap<Tokenizer, VocabIndex>();

/** The index of a tokenizer (built on first use, then cached). */
export function vocabIndex(tokenizer: Tokenizer): VocabIndex {
  let idx = indexCache.get(tokenizer);
  if (!idx) {
    idx = new VocabIndex(tokenizer, ExactMachinery.of(tokenizer));
    indexCache.set(tokenizer, idx);
  }
  return idx;
}

export { codePoints };
