/**
 * The exact next-byte distribution at a position of a text, from a token-level language model (the
 * Byte-Token Representation Lemma, Phan et al. 2024, "Exact Byte-Level Probabilities from Tokenized Language
 * Models"; docs/ALGORITHMS.md#exact-next-byte-probabilities), beside two baselines.
 *
 * Definitions (bytes are the text's UTF-8; x = the bytes before the cursor):
 * - A token sequence t is valid iff it is the canonical encoding of its own bytes: encode(decode(t)) == t.
 *   For bytes that end inside a character (the last token stops mid-character) the whole characters are
 *   pre-tokenized as text, and the trailing bytes either make a pre-token of their own or join the last one
 *   (which of the two depends on the character they start, which is not known yet): such a sequence is valid
 *   when it is canonical under either reading.
 * - cover(x): valid t₁..t_k with decode(t₁..t_{k-1}) a strict prefix of x and x a prefix of decode(t₁..t_k).
 * - P(x) = Σ_{t ∈ cover(x)} P_model(t), P_model(t) = Π p(t_j | t_<j): the product of next-token probabilities
 *   as the model gives them, no renormalisation per step.
 * - P(next = b | x) = P(x·b) / Z with Z = Σ_{b'} P(x·b') over the 256 byte values and end-of-text,
 *   P(x·end) = P(canonical(x) + END): normalised once, at the end. (Z is not P(x): invalid continuations
 *   are masked.)
 * Splitting the covers of x·b by where their last token starts: it starts before the end of x (then it is a
 * cover of x whose last token continues with b), or exactly at the end of x (then t₁..t_{k-1} decodes to x,
 * and t_k is any token starting with b such that the whole is valid; t₁..t_{k-1} is usually canonical(x) but
 * need not be: BPE is not prefix-closed).
 *
 * Where covers can differ: tokens never cross a pre-token boundary, so only the pre-tokens that text after
 * the cursor could change matter. The analysis starts at a restart point R (Tokenizer.restartRules; the
 * tokens before it cannot change whatever follows, the property the incremental tokenizer is tested on) and
 * then moves to the first pre-token that is still "undecided" at the cursor: an automaton of the split
 * pattern tells whether a match attempt from a piece's start could read past the cursor; pieces before the
 * first undecided one are fixed. Covers are enumerated inside that region (usually the last word).
 *
 * Work per position: the tokens that end past the cursor starting at each byte of the region (a prefix
 * range of the vocabulary sorted by bytes), and every token starting at the cursor. Tokens are grouped by
 * the pattern's class of their first character (and, where that does not settle it, of their second):
 * - "separable": the class's stand-in starts a new pre-token that no later text can change (the automaton
 *   says every match attempt before it is settled). Then each token of the class is valid iff it is the
 *   canonical encoding of its own bytes (precomputed once per tokenizer), after the same tokens; with a sparse
 *   distribution the sum per byte is the base distribution's per-class (or per-range, via prefix sums over
 *   the byte-sorted vocabulary) sum plus the explicit part: no per-token work.
 * - "join": the stand-in continues the last pre-token h. A token t is valid iff h·t stays one pre-token and
 *   BPE(h·t) = BPE(h)+[t]; the latter is decided without running BPE, from the merge ranks of the symbols on
 *   either side of the boundary (BoundaryCrossings in preTokens.ts), and when the pattern surely runs past the
 *   first character (runsPast) a BPE refusal settles it without the pattern.
 * - otherwise each token is re-encoded (pre-tokens, then BPE) in full.
 * Tokenizers with several split steps (DeepSeek-V3) have no automaton of the whole: there the pieces before
 * the cursor are probed with one more character of every class, and the result is marked inexact.
 *
 * exact: true for byte-level BPE tokenizers split by one pattern, without a normalizer, without added tokens
 * that match inside text (o200k_base, cl100k_base, p50k_base, o200k_harmony, GPT-2, Llama 3). Otherwise
 * `exact: false` with the reason and `window`:
 * - a normalizer (Qwen3's NFC, which is not prefix-preserving), added tokens that match inside text (Qwen3,
 *   DeepSeek-V3), several split steps (DeepSeek-V3), or no restart point within `maxLookback`: the same
 *   analysis, reading the text as if unnormalized and without those added tokens;
 * - no pattern pre-tokenizer (Mistral, Gemma 3): covers are enumerated within `windowBytes` (default 32)
 *   before the cursor, validity checked by re-encoding the window for the tokens the model gives explicit
 *   probability (and up to 4000 of those that end past the cursor); the rest count as valid. Characters
 *   after the cursor are not expanded beyond their first byte there.
 *
 * Cost: per tokenizer, once: the sorted vocabulary, classes and self-validity (0.5 s GPT-2, 1.5 s o200k);
 * per call: see the report in test and CLI measurements (tens of milliseconds for o200k on a 10 KB file).
 *
 * Baselines: naive = the next-token distribution after canonical(x), each token's probability on its first
 * byte (special tokens left out, end-of-text on 256). Token healing = back off the last token of
 * canonical(x) and take the next token among those starting with its bytes: a longer one puts its
 * probability on its byte after those; the same token puts its probability on the naive distribution.
 */
import { restartExtent } from '../../analysis/documentTokens';
import { utf8Encode, wellFormed, utf8Length } from '../../text/utf8';
import { BYTE_TO_CHAR } from '../../tokenizers/byteLevel';
import type { RestartRules, TokenStream, Tokenizer } from '../../tokenizers/types';
import { BoundaryCrossings } from '../preTokens';
import { formProb, throwIfAborted, type DistributionForm, type LanguageModel, type NextTokenDistribution } from '../model';
import {
  codePoints,
  latin1,
  utf8SequenceLength,
  vocabIndex,
  type VocabIndex,
} from '../vocabIndex';
import { lowerBound } from '../../sortedSearch';

export interface NextByteOptions {
  readonly signal?: AbortSignal;
  /** Characters listed in topCharacters (default 10). */
  readonly topCharacters?: number;
  /** A character prefix with at least this probability is expanded byte by byte into characters (default 0.002). */
  readonly expandThreshold?: number;
  /** Window before the cursor for tokenizers without pattern pre-tokenization (default 32 bytes). */
  readonly windowBytes?: number;
  /** How far back to look for a restart point before giving up exactness (default 4096 UTF-16 units). */
  readonly maxLookback?: number;
  /**
   * The document's token stream (tokenizer.encode of the whole text), when the caller has it: the tokens
   * before a restart point are taken from it instead of encoding the text before the cursor again.
   */
  readonly documentStream?: TokenStream;
}

/** Tokens of the text before the cursor, with absolute offsets, possibly starting at a restart point. */
interface PrefixTokens {
  readonly ids: Uint32Array;
  readonly byteOffsets: Uint32Array;
  readonly utf16Offsets: Uint32Array;
  readonly byteIntoChar: Uint8Array;
  readonly count: number;
  readonly byteLength: number;
}

export interface CharacterProbability {
  readonly text: string;
  readonly probability: number;
}

export interface NextByteResult {
  /** The UTF-16 offset used (moved back to a character start if it split a surrogate pair). */
  readonly offset: number;
  readonly byteOffset: number;
  readonly exact: boolean;
  /** Why the result is not exact. */
  readonly inexactReason?: string;
  /** Bytes before the cursor in which covers were enumerated. */
  readonly window: number;
  /** Z / P(canonical(x)): the mass of all next bytes relative to the canonical encoding's probability. */
  readonly total: number;
  /** P(x) / P(canonical(x)) (≥ 1): how much more probable the bytes are than their canonical tokenization. */
  readonly prefixRatio: number;
  /** 257 probabilities: bytes 0..255, then end-of-text. */
  readonly distribution: Float64Array;
  readonly naive: Float64Array;
  readonly healing: Float64Array;
  /** The most probable next characters (bytes combined into characters where they complete one). */
  readonly topCharacters: CharacterProbability[];
  /** Valid token sequences enumerated (covers of x and continuations), and candidate sequences checked. */
  readonly covers: number;
  readonly candidates: number;
  readonly ms: number;
}

const END = 256;

interface Contribution {
  readonly seq: number[];
  /** Token, next-byte index (0..255), and 1 when the cover is a cover of the prefix itself (last token ends past it). */
  readonly tokens: number[];
  readonly bytes: number[];
  readonly ofPrefix: number[];
}

const enum JoinStatus {
  Invalid,
  Joined,
  OwnPiece,
  Undecided,
}

type ClassAnalysis =
  | { readonly kind: 'separable'; readonly prefix: number[]; readonly key: string }
  | {
      readonly kind: 'join';
      readonly prefix: number[];
      readonly key: string;
      readonly a: number;
      readonly aByte: number;
      /** The pre-token from `a` surely ends past the token's first character, whatever follows. */
      readonly runsPast: boolean;
    }
  | { readonly kind: 'other' };

const OTHER: ClassAnalysis = { kind: 'other' };

/** Covers whose last token starts at one byte of the region, summed by range (see addRangeMass). */
interface RangePart {
  readonly seq: number[];
  /** The bytes the tokens start with (z from their start to its end), latin1. */
  readonly key: string;
  readonly lo: number;
  readonly hi: number;
  /** key's length: the next byte is the token's byte at this index. */
  readonly skip: number;
}

interface BulkPart {
  readonly seq: number[];
  readonly classes: Set<number>;
}

/** One analysis of one prefix: the region, the fixed tokens, memoized probabilities. */
class PrefixAnalysis {
  readonly x: string;
  readonly index: VocabIndex;
  fixed: Uint32Array = new Uint32Array(0);
  regionText = '';
  regionBytes: Uint8Array = new Uint8Array(0);
  /** For each region byte position, the UTF-16 index when it starts a character, else -1. */
  charAt: Int32Array = new Int32Array(1);
  regionTokens: number[] = [];
  exact = true;
  inexactReason: string | undefined;
  windowed = false;
  continuation = false;
  covers = 0;
  candidates = 0;
  private readonly dists = new Map<string, NextTokenDistribution>();
  private readonly probs = new Map<string, number>();

  constructor(
    readonly model: LanguageModel,
    readonly tokenizer: Tokenizer,
    text: string,
    readonly options: NextByteOptions,
    /** Encode the whole prefix (the fixed tokens from the text's start: needed for absolute probabilities). */
    fullPrefix = false,
  ) {
    this.x = text;
    this.index = vocabIndex(tokenizer);
    const m = this.index.machinery;
    const stream = prefixTokens(tokenizer, model, text, options, fullPrefix);
    let start: number; // UTF-16 index where the region starts
    let startToken: number;
    if (m) {
      if (m.inexactReasons.length) this.inexact(m.inexactReasons[0]);
      const lookback = options.maxLookback ?? 4096;
      const rules = tokenizer.restartRules;
      let R = -1;
      for (let p = text.length - 1; p >= 1 && p >= text.length - lookback; p--) {
        if (restartExtent(text, p, rules) >= 0) {
          R = p;
          break;
        }
      }
      if (R < 0) {
        if (text.length <= lookback) R = 0;
        else {
          R = text.length - lookback;
          if (R > 0 && text.charCodeAt(R) >= 0xdc00 && text.charCodeAt(R) <= 0xdfff) R--;
          this.inexact(`no restart point within ${lookback} characters before the cursor`);
        }
      }
      start = R;
      const tail = text.slice(R);
      if (m.automaton && tail.length) {
        const pieces = m.pieces(tail);
        const { cps, utf16 } = codePoints(tail);
        const cpAt = new Map<number, number>();
        utf16.forEach((u, k) => cpAt.set(u, k));
        let rho = pieces[pieces.length - 2];
        for (let p = pieces.length - 4; p >= 0; p -= 2) {
          if (!m.settled(cps, cpAt.get(pieces[p]) as number, cps.length)) rho = pieces[p];
        }
        start = R + rho;
      }
      const startByte = utf8Encode(text.slice(0, start)).length;
      startToken = boundaryIndex(stream.byteOffsets, stream.count, startByte);
      if (startToken < 0) {
        // Not a token boundary (cannot happen for a piece start); fall back to the restart point.
        start = R;
        startToken = boundaryIndex(stream.byteOffsets, stream.count, utf8Encode(text.slice(0, R)).length);
        if (startToken < 0) throw new Error('the restart point is not a token boundary');
      }
    } else {
      this.windowed = true;
      const W = options.windowBytes ?? 32;
      this.inexact(`the tokenizer has no pre-tokenization pattern: covers within the last ${W} bytes`);
      startToken = 0;
      for (let k = stream.count; k >= 0; k--) {
        if (stream.byteLength - stream.byteOffsets[k] > W) break;
        if (stream.byteIntoChar[k] === 0 && (k === 0 || stream.byteOffsets[k] > stream.byteOffsets[k - 1] || k === stream.count)) startToken = k;
      }
      start = stream.utf16Offsets[startToken];
      this.continuation = startToken > 0;
    }
    this.fixed = stream.ids.slice(0, startToken);
    this.regionTokens = Array.from(stream.ids.subarray(startToken));
    this.regionText = text.slice(start);
    this.regionBytes = utf8Encode(this.regionText);
    this.charAt = new Int32Array(this.regionBytes.length + 1).fill(-1);
    let b = 0;
    for (let u = 0; u < this.regionText.length; ) {
      this.charAt[b] = u;
      const cp = this.regionText.codePointAt(u) as number;
      b += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      u += cp > 0xffff ? 2 : 1;
    }
    this.charAt[b] = this.regionText.length;
  }

  private inexact(reason: string): void {
    this.exact = false;
    this.inexactReason ??= reason;
  }

  // ------------------------------------------------------------------------------------------------------
  // Probabilities of region token sequences (relative to the fixed tokens)

  private context(seq: readonly number[]): Uint32Array {
    const n = this.model.contextTokens;
    const fromFixed = Math.max(0, n - seq.length);
    const f = this.fixed.subarray(Math.max(0, this.fixed.length - fromFixed));
    const s = seq.slice(Math.max(0, seq.length - n));
    const ctx = new Uint32Array(f.length + s.length);
    ctx.set(f);
    ctx.set(s, f.length);
    return ctx;
  }

  async dist(seq: readonly number[]): Promise<NextTokenDistribution> {
    const key = seq.join(',');
    let d = this.dists.get(key);
    if (!d) {
      throwIfAborted(this.options.signal);
      const r = this.model.nextDistribution(this.context(seq), this.options.signal);
      d = r instanceof Promise ? await r : r;
      this.dists.set(key, d);
    }
    return d;
  }

  /** P(seq | fixed tokens). */
  async prob(seq: readonly number[]): Promise<number> {
    const key = seq.join(',');
    let p = this.probs.get(key);
    if (p === undefined) {
      p = seq.length === 0 ? 1 : (await this.prob(seq.slice(0, -1))) * (await this.dist(seq.slice(0, -1))).prob(seq[seq.length - 1]);
      this.probs.set(key, p);
    }
    return p;
  }

  // ------------------------------------------------------------------------------------------------------
  // Covers

  /** Valid sequences (region tokens) whose last token is `t` starting at region byte `i` of z·bytes(t). */
  coversOf(z: Uint8Array, i: number, t: number): number[][] {
    const tb = this.index.bytes[t];
    if (this.windowed) {
      const u = this.charAt[i];
      const tt = this.index.text[t];
      if (u < 0 || i > this.regionBytes.length || tt === undefined) return [];
      const s = this.tokenizer.encode(this.regionText.slice(0, u) + tt, { continuation: this.continuation });
      const n = s.count;
      if (n === 0 || s.ids[n - 1] !== t || s.byteOffsets[n - 1] !== i || s.byteOffsets[n] !== i + tb.length) return [];
      return [Array.from(s.ids)];
    }
    const m = this.index.machinery as NonNullable<VocabIndex['machinery']>;
    let c = Math.min(i, this.regionBytes.length);
    while (c > 0 && this.charAt[c] < 0) c--;
    const y = new Uint8Array(i + tb.length);
    y.set(z.subarray(0, i));
    y.set(tb, i);
    return m.encodeTail(y, c, this.regionText.slice(0, this.charAt[c]), i, t);
  }

  /**
   * Unnormalized P(z·b) for the 256 bytes and end (relative to the fixed tokens), and P(z), where
   * z = region bytes followed by `extra` (bytes of a character begun after the cursor).
   */
  async masses(extra: Uint8Array): Promise<{ mass: Float64Array; prefixMass: number }> {
    const idx = this.index;
    const z = new Uint8Array(this.regionBytes.length + extra.length);
    z.set(this.regionBytes);
    z.set(extra, this.regionBytes.length);
    const Z = z.length;
    const R = this.regionBytes.length;
    const complete = extra.length === 0;
    const contributions = new Map<string, Contribution>();
    const entry = (prefix: number[], key = prefix.join(',')): Contribution => {
      let c = contributions.get(key);
      if (!c) {
        c = { seq: prefix, tokens: [], bytes: [], ofPrefix: [] };
        contributions.set(key, c);
      }
      return c;
    };
    const push = (c: Contribution, t: number, byte: number, ofPrefix: boolean): void => {
      c.tokens.push(t);
      c.bytes.push(byte);
      c.ofPrefix.push(ofPrefix ? 1 : 0);
      this.covers++;
    };
    const add = (seq: number[], byte: number, ofPrefix: boolean): void => push(entry(seq.slice(0, -1)), seq[seq.length - 1], byte, ofPrefix);
    const signal = this.options.signal;
    const sv = idx.selfValid();
    const rangeParts: RangePart[] = [];
    const joinEntries = new Map<string, Contribution>();
    /** Checks token t starting at byte i (a character start in the region) using its class's analysis there. */
    const checkAt = (i: number, t: number, byte: number, ofPrefix: boolean, known?: ClassAnalysis): void => {
      this.candidates++;
      const k = idx.firstClass[t];
      const ca = known ?? (k >= 0 && i <= R && this.charAt[i] >= 0 ? this.classAt(i, k) : undefined);
      if (ca?.kind === 'separable') {
        if (sv[t]) push(entry(ca.prefix, ca.key), t, byte, ofPrefix);
        return;
      }
      if (ca?.kind === 'join') {
        const status = this.joinCover(i, ca, t);
        if (status === JoinStatus.Invalid) return;
        if (status !== JoinStatus.Undecided) {
          const cacheKey = `${i}|${ca.a}|${status}`;
          let e = joinEntries.get(cacheKey);
          if (!e) {
            const prefix = this.joinPrefix(i, ca, status);
            e = entry(prefix);
            joinEntries.set(cacheKey, e);
          }
          push(e, t, byte, ofPrefix);
          return;
        }
      }
      for (const seq of this.coversOf(z, i, t)) add(seq, byte, ofPrefix);
    };
    // Covers of z: the last token starts at byte i < Z and ends past Z. When z[i..Z) begins with a whole
    // character, every token of the range shares that first character, so its class; a separable class is
    // summed per next byte from prefix sums over the byte-sorted vocabulary (rangeParts), not token by token.
    let windowChecks = 4000;
    for (let i = Math.max(0, Z - idx.maxTokenBytes + 1); i < Z; i++) {
      const key = latin1(z, i, Z);
      const [lo, hi] = idx.prefixRange(key);
      if (lo >= hi) continue;
      if (!this.windowed && i <= R && this.charAt[i] >= 0) {
        const n = utf8SequenceLength(z[i]);
        if (n > 0 && n <= Z - i) {
          const k = idx.firstClass[idx.sortedId(lo)];
          const ca = k >= 0 ? this.classAt(i, k) : OTHER;
          if (ca.kind === 'separable') {
            rangeParts.push({ seq: ca.prefix, key, lo, hi, skip: Z - i });
            continue;
          }
        }
      }
      for (let pos = lo; pos < hi; pos++) {
        const t = idx.sortedId(pos);
        if (!idx.usable[t] || idx.bytes[t].length <= Z - i) continue;
        if (this.windowed) {
          if (windowChecks-- <= 0) break;
          this.candidates++;
          for (const seq of this.coversOf(z, i, t)) add(seq, idx.bytes[t][Z - i], true);
        } else checkAt(i, t, idx.bytes[t][Z - i], true);
      }
      throwIfAborted(signal);
    }
    // Tokens starting at the end of z.
    const bulk = new Map<string, BulkPart>();
    let windowedBulk = false;
    if (!complete) {
      for (const t of idx.continuationInitial) {
        this.candidates++;
        for (const seq of this.coversOf(z, Z, t)) add(seq, idx.firstByte[t], false);
      }
    } else if (this.windowed) {
      windowedBulk = true;
    } else {
      for (let k = 0; k < idx.classes.length; k++) {
        const ca = this.classAt(Z, k);
        if (ca.kind === 'separable') {
          let part = bulk.get(ca.key);
          if (!part) {
            part = { seq: ca.prefix, classes: new Set() };
            bulk.set(ca.key, part);
          }
          part.classes.add(k);
        } else {
          // Refine by the second character: often it settles the pre-token (a space, then a letter).
          for (const [g, ids] of idx.classGroups[k]) {
            const c2 = g >= 0 ? this.classAt2(Z, k, g) : OTHER;
            if (c2.kind === 'separable') {
              const e = entry(c2.prefix, c2.key);
              for (const t of ids) {
                this.candidates++;
                if (sv[t]) push(e, t, idx.firstByte[t], false);
              }
            } else for (const t of ids) checkAt(Z, t, idx.firstByte[t], false, ca);
          }
        }
        throwIfAborted(signal);
      }
      for (const t of idx.partialInitial) checkAt(Z, t, idx.firstByte[t], false);
    }
    // Probabilities.
    const mass = new Float64Array(257);
    let prefixMass = 0;
    for (const c of contributions.values()) {
      const P = await this.prob(c.seq);
      if (P === 0) continue;
      const d = await this.dist(c.seq);
      const form = d.form();
      for (let j = 0; j < c.tokens.length; j++) {
        const q = P * formProb(form, c.tokens[j]);
        mass[c.bytes[j]] += q;
        if (c.ofPrefix[j]) prefixMass += q;
      }
    }
    for (const part of rangeParts) {
      const P = await this.prob(part.seq);
      if (P === 0) continue;
      const form = (await this.dist(part.seq)).form();
      prefixMass += this.addRangeMass(mass, P, form, part);
    }
    for (const part of bulk.values()) {
      const P = await this.prob(part.seq);
      if (P === 0) continue;
      const form = (await this.dist(part.seq)).form();
      this.addClassMass(mass, P, form, part.classes, sv);
    }
    if (complete) {
      const T = this.regionTokens;
      const PT = await this.prob(T);
      prefixMass += PT;
      const dT = await this.dist(T);
      mass[END] += PT * dT.prob(this.model.endOfTextId);
      if (windowedBulk) await this.windowedNext(mass, z, PT, dT);
    }
    return { mass, prefixMass };
  }

  private readonly classCache = new Map<number, ClassAnalysis>();

  /**
   * How a token whose first character is of class k fares when it starts at region byte i (a character
   * start): 'separable' when the class's stand-in starts a pre-token there and no match attempt before it can
   * change with more text (then every such token is valid iff it is canonical on its own, after `prefix`);
   * 'join' when the stand-in joins a pre-token that starts at UTF-16 index `a` and the attempts before `a`
   * cannot change (then each token is checked by BPE of the joined pre-token); else 'other'.
   */
  classAt(i: number, k: number): ClassAnalysis {
    const cacheKey = i * this.index.classes.length + k;
    const hit = this.classCache.get(cacheKey);
    if (hit) return hit;
    const r = this.analyzeClass(i, k);
    this.classCache.set(cacheKey, r);
    return r;
  }

  /** As classAt, for tokens whose first two characters are of classes k and g. */
  classAt2(i: number, k: number, g: number): ClassAnalysis {
    const cacheKey = `${i},${k},${g}`;
    const hit = this.class2Cache.get(cacheKey);
    if (hit) return hit;
    const r = this.analyzeStandIn(i, this.index.classes[k].rep + this.index.secondReps[g]);
    this.class2Cache.set(cacheKey, r);
    return r;
  }

  private readonly class2Cache = new Map<string, ClassAnalysis>();

  private analyzeClass(i: number, k: number): ClassAnalysis {
    return this.analyzeStandIn(i, this.index.classes[k].rep);
  }

  /** The analysis with `standIn` (the stand-in characters of a token's start) placed at region byte i. */
  private analyzeStandIn(i: number, standIn: string): ClassAnalysis {
    const m = this.index.machinery;
    if (!m || (!m.automaton && m.automata.length === 0)) return OTHER;
    const u = this.charAt[i];
    const before = this.regionText.slice(0, u);
    const y = before + standIn;
    const pieces = m.pieces(y);
    let p = -1;
    for (let j = 0; j < pieces.length; j += 2) if (pieces[j] <= u && u < pieces[j + 1]) p = j;
    if (p < 0) return OTHER;
    if (m.automaton) {
      const { cps, utf16 } = codePoints(y);
      const cpAt = new Map<number, number>();
      utf16.forEach((v, j) => cpAt.set(v, j));
      for (let j = 0; j < p; j += 2) if (!m.settled(cps, cpAt.get(pieces[j]) as number, cps.length)) return OTHER;
    } else {
      // Several split steps: no automaton of the whole; the pieces before u must stay the same with one more
      // character of every class after the stand-in (a probe, not a proof: such results are marked inexact).
      this.inexact('the tokenizer splits in several steps: pre-token boundaries are checked by probing');
      for (const d of this.index.probeCharacters()) {
        const q = m.pieces(y + d);
        for (let j = 0; j <= p; j++) if (q[j] !== pieces[j]) return OTHER;
        if (!(q[p + 1] > u)) return OTHER;
      }
    }
    const prefix: number[] = [];
    let b = 0;
    let v = 0;
    for (let j = 0; j < p; j += 2) {
      const start = b + utf8Length(before, v, pieces[j]);
      const end = start + utf8Length(before, pieces[j], pieces[j + 1]);
      for (const id of m.bpe.encode(this.regionBytes, start, end)) prefix.push(id);
      b = end;
      v = pieces[j + 1];
    }
    if (pieces[p] === u) return { kind: 'separable', prefix, key: prefix.join(',') };
    if (pieces[p + 1] !== y.length) return OTHER;
    const a = pieces[p];
    return { kind: 'join', prefix, key: '', a, aByte: b + utf8Length(before, v, a), runsPast: this.runsPast(y.slice(a), u - a + [...standIn][0].length) };
  }

  private sticky: RegExp | undefined;

  /**
   * True when the pattern's match from the start of `text` ends at or past `minEnd` whatever follows `text`.
   * The match on `text` reaches its end; with lookaheads of one character (checked by the automaton), a path
   * that accepted at the end stays acceptable after any next character that its lookahead allows, so it is
   * enough that the match still reaches minEnd after one more character of every class.
   */
  private runsPast(text: string, minEnd: number): boolean {
    const m = this.index.machinery as NonNullable<VocabIndex['machinery']>;
    if (!m.automaton?.singleCharLookaheads) return false;
    if (!this.sticky) this.sticky = new RegExp((m.cfg.splits[0].pattern as RegExp).source, 'uy');
    const probes = this.index.probeCharacters();
    for (const d of ['', ...probes]) {
      this.sticky.lastIndex = 0;
      const match = this.sticky.exec(text + d);
      if (!match || match[0].length < minEnd) return false;
    }
    return true;
  }

  /**
   * The cover for token t starting at region byte i when its class joins the pre-token starting at `ca.a`:
   * [] when t is not valid there, undefined when the joined text does not make one pre-token (then the
   * general check decides).
   */
  joinCover(i: number, ca: Extract<ClassAnalysis, { kind: 'join' }>, t: number): JoinStatus {
    const m = this.index.machinery as NonNullable<VocabIndex['machinery']>;
    const idx = this.index;
    const tt = idx.text[t];
    if (tt === undefined) return JoinStatus.Undecided;
    // BPE side, for the reading where h·t is one pre-token: with the whole-word rule a joined word that is
    // itself a token is that token; else BPE keeps the boundary iff no merge crosses it (BoundaryCrossings),
    // and t must be BPE of its own bytes.
    let joined = true;
    const chain = m.chainOf(t, idx.bytes[t]);
    if (chain < 0) joined = false;
    const crossings = this.crossingsFor(ca.aByte, i);
    if (joined && crossings.crossesAt(m.chainIds, m.chainRanks, chain, m.chainLengthOf(t))) joined = false;
    if (joined && m.cfg.ignoreMerges) {
      const tails = this.wholeWordTails(ca.aByte, i);
      if (tails ? tails.has(t) : m.cfg.vocab.get(this.headSpelling(ca.aByte, i) + idx.spelling(t)) !== undefined) joined = false;
    }
    // When the pre-token surely runs past t's first character (ca.runsPast), only "one pre-token h·t" can
    // make t valid, so a BPE refusal settles it without the pattern.
    if (!joined && ca.runsPast) return JoinStatus.Invalid;
    const s = this.headText(ca.a, this.charAt[i]) + tt;
    let e: number;
    if (m.automaton) {
      if (!this.sticky) {
        const re = m.cfg.splits[0].pattern as RegExp;
        this.sticky = new RegExp(re.source, 'uy');
      }
      this.sticky.lastIndex = 0;
      const match = this.sticky.exec(s);
      e = match ? match[0].length : 0;
    } else e = m.pieces(s)[1] ?? 0;
    const headChars = this.charAt[i] - ca.a;
    if (e === headChars) {
      // The pre-token ends where t starts: t begins a pre-token of its own, read as it reads alone.
      return idx.selfValid()[t] ? JoinStatus.OwnPiece : JoinStatus.Invalid;
    }
    if (e > headChars && e < s.length) return JoinStatus.Invalid; // t would span two pre-tokens
    if (e !== s.length) return JoinStatus.Undecided;
    return joined ? JoinStatus.Joined : JoinStatus.Invalid;
  }

  /** The tokens before t for a JoinStatus.Joined (h·t one pre-token) or OwnPiece (h a pre-token) at (i, ca). */
  joinPrefix(i: number, ca: Extract<ClassAnalysis, { kind: 'join' }>, status: JoinStatus): number[] {
    const m = this.index.machinery as NonNullable<VocabIndex['machinery']>;
    const head = status === JoinStatus.Joined ? this.crossingsFor(ca.aByte, i).head.tokens : m.bpe.encode(this.regionBytes, ca.aByte, i);
    return [...ca.prefix, ...head];
  }

  private readonly crossingCache = new Map<number, BoundaryCrossings>();

  /** The crossing candidates at the end of the head region bytes [from, to). */
  private crossingsFor(from: number, to: number): BoundaryCrossings {
    const key = from * 65536 + to;
    let c = this.crossingCache.get(key);
    if (!c) {
      const m = this.index.machinery as NonNullable<VocabIndex['machinery']>;
      c = new BoundaryCrossings(m.bpe.trace(this.regionBytes, from, to), m.bpe, (sigma) => this.index.partnersOf(sigma));
      this.crossingCache.set(key, c);
    }
    return c;
  }

  private readonly headTexts = new Map<number, string>();

  private headText(from: number, to: number): string {
    const key = from * 65536 + to;
    let s = this.headTexts.get(key);
    if (s === undefined) this.headTexts.set(key, (s = this.regionText.slice(from, to)));
    return s;
  }

  private readonly tails = new Map<number, Set<number> | undefined>();

  /**
   * Ids t such that the bytes [from, to) followed by t's bytes are one token (the whole-word rule), or
   * undefined when too many tokens start with those bytes to list them (then each is looked up).
   */
  private wholeWordTails(from: number, to: number): Set<number> | undefined {
    const key = from * 65536 + to;
    if (this.tails.has(key)) return this.tails.get(key);
    let set: Set<number> | undefined;
    const idx = this.index;
    const [lo, hi] = idx.prefixRange(latin1(this.regionBytes, from, to));
    if (hi - lo <= 4096) {
      set = new Set();
      const m = idx.machinery as NonNullable<VocabIndex['machinery']>;
      const n = to - from;
      for (let pos = lo; pos < hi; pos++) {
        const v = idx.bytes[idx.sortedId(pos)];
        if (v.length <= n) continue;
        const tail = m.cfg.vocab.get(idx.spellingOf(v, n));
        if (tail !== undefined) set.add(tail);
      }
    }
    this.tails.set(key, set);
    return set;
  }

  private headSpellings = new Map<number, string>();

  private headSpelling(from: number, to: number): string {
    const key = from * 65536 + to;
    let s = this.headSpellings.get(key);
    if (s === undefined) {
      s = '';
      for (let b = from; b < to; b++) s += BYTE_TO_CHAR[this.regionBytes[b]];
      this.headSpellings.set(key, s);
    }
    return s;
  }

  /**
   * Adds, per next byte b, P · Σ p(t | prefix) over the self-valid tokens that start with key·b (a range of
   * the byte-sorted vocabulary); returns the total added (these are covers of the prefix).
   */
  private addRangeMass(mass: Float64Array, P: number, form: DistributionForm, part: RangePart): number {
    const idx = this.index;
    const valid = idx.sortedValid();
    let total = 0;
    const sv = idx.selfValid();
    for (let b = 0; b < 256; b++) {
      const [lo, hi] = idx.prefixRange(part.key + String.fromCharCode(b));
      if (lo >= hi) continue;
      this.candidates += hi - lo;
      this.covers += valid[hi] - valid[lo];
      let q = 0;
      if (form.kind === 'sparse') {
        const sums = idx.sortedBaseSums(form.base);
        q = form.baseWeight * (sums[hi] - sums[lo]);
      } else {
        for (let pos = lo; pos < hi; pos++) {
          const t = idx.sortedId(pos);
          if (sv[t]) q += form.probs[t];
        }
      }
      mass[b] += P * q;
      total += P * q;
    }
    if (form.kind === 'sparse') {
      // The explicit part of the distribution, for the tokens of the range.
      const key = part.key;
      for (let j = 0; j < form.ids.length; j++) {
        const t = form.ids[j];
        if (t >= idx.vocabSize || !sv[t]) continue;
        const tb = idx.bytes[t];
        if (tb.length <= part.skip) continue;
        let match = true;
        for (let c = 0; c < part.skip && match; c++) if (tb[c] !== key.charCodeAt(c)) match = false;
        if (!match) continue;
        const d = P * (form.probs[j] - form.baseWeight * form.base.prob(t));
        mass[tb[part.skip]] += d;
        total += d;
      }
    }
    return total;
  }

  /** Adds Σ over self-valid tokens of the classes, by first byte, of P · p(t | prefix). */
  private addClassMass(mass: Float64Array, P: number, form: DistributionForm, classes: Set<number>, sv: Uint8Array): void {
    const idx = this.index;
    if (form.kind === 'sparse') {
      const sums = idx.classBaseSums(form.base);
      const w = P * form.baseWeight;
      for (const k of classes) for (let b = 0; b < 256; b++) mass[b] += w * sums[k * 256 + b];
      for (let j = 0; j < form.ids.length; j++) {
        const t = form.ids[j];
        if (t >= idx.vocabSize || !sv[t] || !classes.has(idx.firstClass[t])) continue;
        mass[idx.firstByte[t]] += P * (form.probs[j] - form.baseWeight * form.base.prob(t));
      }
    } else {
      for (const k of classes) for (const t of idx.classes[k].ids) if (sv[t]) mass[idx.firstByte[t]] += P * form.probs[t];
    }
  }

  /**
   * Windowed mode, tokens at the end of the region: the tokens with explicit probability are checked by
   * re-encoding; the rest count as valid after the canonical tokens.
   */
  private async windowedNext(mass: Float64Array, z: Uint8Array, PT: number, dT: NextTokenDistribution): Promise<void> {
    const idx = this.index;
    const form = dT.form();
    const explicit: number[] =
      form.kind === 'sparse' ? Array.from(form.ids).filter((t) => t < idx.vocabSize) : dT.top(512).map((a) => a.id).filter((t) => t < idx.vocabSize);
    const naive = naiveMass(idx, form, this.model.endOfTextId);
    for (let b = 0; b < 256; b++) mass[b] += PT * naive[b];
    for (const t of explicit) {
      if (!idx.usable[t]) continue;
      mass[idx.firstByte[t]] -= PT * formProb(form, t);
      this.candidates++;
      for (const seq of this.coversOf(z, z.length, t)) {
        const prefix = seq.slice(0, -1);
        const P = await this.prob(prefix);
        mass[idx.firstByte[t]] += P * (await this.dist(prefix)).prob(t);
        this.covers++;
      }
    }
  }

  /** The naive baseline (unnormalized, per first byte and end). */
  async naive(): Promise<Float64Array> {
    const d = await this.dist(this.regionTokens);
    return naiveMass(this.index, d.form(), this.model.endOfTextId);
  }

  /** Token healing (unnormalized). */
  async healing(naiveNormalized: Float64Array): Promise<Float64Array> {
    const idx = this.index;
    const full = [...this.fixed, ...this.regionTokens];
    const out = new Float64Array(257);
    if (full.length === 0) {
      out.set(naiveNormalized);
      return out;
    }
    const last = full[full.length - 1];
    const ctx = Uint32Array.from(full.slice(Math.max(0, full.length - 1 - this.model.contextTokens), full.length - 1));
    const r = this.model.nextDistribution(ctx, this.options.signal);
    const d = r instanceof Promise ? await r : r;
    const rb = idx.bytes[last];
    const key = latin1(rb);
    const [lo, hi] = idx.prefixRange(key);
    const form = d.form();
    // Per byte after r: the tokens that start with r·b; the tokens equal to r continue as the naive distribution.
    const longer = new Float64Array(256);
    let all = 0;
    if (form.kind === 'sparse') {
      const sums = idx.sortedUsableBaseSums(form.base);
      all = form.baseWeight * (sums[hi] - sums[lo]);
      for (let b = 0; b < 256; b++) {
        const [l, h] = idx.prefixRange(key + String.fromCharCode(b));
        if (l < h) longer[b] = form.baseWeight * (sums[h] - sums[l]);
      }
      for (let j = 0; j < form.ids.length; j++) {
        const t = form.ids[j];
        if (t >= idx.vocabSize || !idx.usable[t]) continue;
        const tb = idx.bytes[t];
        if (tb.length < rb.length) continue;
        let match = true;
        for (let c = 0; c < rb.length && match; c++) if (tb[c] !== rb[c]) match = false;
        if (!match) continue;
        const delta = form.probs[j] - form.baseWeight * form.base.prob(t);
        all += delta;
        if (tb.length > rb.length) longer[tb[rb.length]] += delta;
      }
    } else {
      for (let pos = lo; pos < hi; pos++) {
        const t = idx.sortedId(pos);
        if (!idx.usable[t]) continue;
        const p = form.probs[t];
        all += p;
        if (idx.bytes[t].length > rb.length) longer[idx.bytes[t][rb.length]] += p;
      }
    }
    let same = all;
    for (let b = 0; b < 256; b++) {
      out[b] += longer[b];
      same -= longer[b];
    }
    if (same > 0) for (let b = 0; b < 257; b++) out[b] += same * naiveNormalized[b];
    return out;
  }
}

/** The last restart point at or before `at` (its defining characters within `text`), or -1. */
function restartPointBefore(text: string, at: number, rules: RestartRules, limit: number): number {
  for (let p = Math.min(at, text.length - 1); p >= 1 && p >= limit; p--) if (restartExtent(text, p, rules) >= 0) return p;
  return -1;
}

/**
 * The tokens of `text` (the text before the cursor). Tokens before a restart point do not depend on what
 * follows it, so: from the caller's document stream up to a restart point, then the rest encoded; or, for a
 * model with a short context, only from a restart point far enough back to hold that context; else all.
 */
function prefixTokens(tokenizer: Tokenizer, model: LanguageModel, text: string, options: NextByteOptions, full: boolean): PrefixTokens {
  const rules = tokenizer.restartRules;
  const fromAnchor = (anchor: number, before: PrefixTokens | undefined): PrefixTokens | undefined => {
    const anchorByte = utf8Encode(text.slice(0, anchor)).length;
    let k0 = 0;
    if (before) {
      k0 = boundaryIndex(before.byteOffsets, before.count, anchorByte);
      if (k0 < 0) return undefined;
    }
    const rest = tokenizer.encode(text.slice(anchor), { continuation: anchor > 0 });
    const n = k0 + rest.count;
    const ids = new Uint32Array(n);
    const byteOffsets = new Uint32Array(n + 1);
    const utf16Offsets = new Uint32Array(n + 1);
    const byteIntoChar = new Uint8Array(n + 1);
    if (before) {
      ids.set(before.ids.subarray(0, k0));
      byteOffsets.set(before.byteOffsets.subarray(0, k0 + 1));
      utf16Offsets.set(before.utf16Offsets.subarray(0, k0 + 1));
      byteIntoChar.set(before.byteIntoChar.subarray(0, k0 + 1));
    }
    ids.set(rest.ids, k0);
    for (let k = 0; k <= rest.count; k++) {
      byteOffsets[k0 + k] = anchorByte + rest.byteOffsets[k];
      utf16Offsets[k0 + k] = anchor + rest.utf16Offsets[k];
      byteIntoChar[k0 + k] = rest.byteIntoChar[k];
    }
    return { ids, byteOffsets, utf16Offsets, byteIntoChar, count: n, byteLength: anchorByte + rest.byteLength };
  };
  if (!full && text.length > 256) {
    const doc = options.documentStream;
    if (doc) {
      const anchor = restartPointBefore(text, text.length - 1, rules, 0);
      const r = anchor > 0 ? fromAnchor(anchor, doc) : undefined;
      if (r) return r;
    } else if (model.contextTokens <= 1024) {
      // Enough text back for the model's context before the analysed region (which starts at a restart point
      // near the cursor): about 16 characters per token, with room to spare.
      let span = 16 * model.contextTokens + 4096;
      while (span < text.length) {
        const anchor = restartPointBefore(text, text.length - span, rules, 0);
        if (anchor <= 0) break;
        const r = fromAnchor(anchor, undefined);
        const near = restartPointBefore(text, text.length - 1, rules, Math.max(0, text.length - (options.maxLookback ?? 4096)));
        const nearByte = near > 0 ? utf8Encode(text.slice(0, near)).length : 0;
        let before = 0;
        if (r) while (before < r.count && r.byteOffsets[before + 1] <= nearByte) before++;
        if (r && before >= model.contextTokens) return r;
        span *= 2;
      }
    }
  }
  const s = tokenizer.encode(text);
  return { ids: s.ids, byteOffsets: s.byteOffsets, utf16Offsets: s.utf16Offsets, byteIntoChar: s.byteIntoChar, count: s.count, byteLength: s.byteLength };
}

function naiveMass(idx: VocabIndex, form: DistributionForm, endId: number): Float64Array {
  const out = new Float64Array(257);
  if (form.kind === 'sparse') {
    const sums = idx.naiveBaseSums(form.base);
    for (let b = 0; b < 256; b++) out[b] = form.baseWeight * sums[b];
    for (let j = 0; j < form.ids.length; j++) {
      const t = form.ids[j];
      if (t >= idx.vocabSize || !idx.usable[t]) continue;
      out[idx.firstByte[t]] += form.probs[j] - form.baseWeight * form.base.prob(t);
    }
  } else {
    for (let t = 0; t < idx.vocabSize; t++) if (idx.usable[t]) out[idx.firstByte[t]] += form.probs[t];
  }
  out[END] = formProb(form, endId);
  return out;
}

function normalized(a: Float64Array): Float64Array {
  let s = 0;
  for (const v of a) s += v;
  const out = new Float64Array(a.length);
  if (s > 0) for (let i = 0; i < a.length; i++) out[i] = a[i] / s;
  return out;
}

/** Index k with byteOffsets[k] === byte (a token boundary), or -1. */
function boundaryIndex(byteOffsets: Uint32Array, count: number, byte: number): number {
  // Several boundaries can sit at one byte (zero-width tokens): take the first.
  const lo = lowerBound(byteOffsets, byte, 0, count);
  return byteOffsets[lo] === byte ? lo : -1;
}


/** The UTF-16 offset moved back to a character start, within the text. */
function clampOffset(text: string, offset: number): number {
  let o = Math.max(0, Math.min(text.length, Math.floor(offset)));
  const c = text.charCodeAt(o);
  if (o > 0 && o < text.length && c >= 0xdc00 && c <= 0xdfff) {
    const h = text.charCodeAt(o - 1);
    if (h >= 0xd800 && h <= 0xdbff) o--;
  }
  return o;
}

/**
 * The exact next-byte distribution at UTF-16 offset `utf16Offset` of `text` (the text after the cursor is
 * not looked at), with the naive and token-healing baselines and the most probable next characters.
 */
export async function nextByteDistribution(
  model: LanguageModel,
  tokenizer: Tokenizer,
  text: string,
  utf16Offset: number,
  options: NextByteOptions = {},
): Promise<NextByteResult> {
  const t0 = performance.now();
  const full = wellFormed(text);
  const offset = clampOffset(full, utf16Offset);
  const x = full.slice(0, offset);
  const a = new PrefixAnalysis(model, tokenizer, x, options);
  const { mass, prefixMass } = await a.masses(new Uint8Array(0));
  const distribution = normalized(mass);
  let Z = 0;
  for (const v of mass) Z += v;
  const PT = await a.prob(a.regionTokens);
  const naive = normalized(await a.naive());
  const healing = normalized(await a.healing(naive));
  const topCharacters = await characters(a, distribution, options);
  return {
    offset,
    byteOffset: utf8Encode(x).length,
    exact: a.exact,
    inexactReason: a.inexactReason,
    window: a.regionBytes.length,
    total: PT > 0 ? Z / PT : NaN,
    prefixRatio: PT > 0 ? prefixMass / PT : NaN,
    distribution,
    naive,
    healing,
    topCharacters,
    covers: a.covers,
    candidates: a.candidates,
    ms: performance.now() - t0,
  };
}

/** Characters from the byte distribution: ASCII bytes directly; lead bytes expanded byte by byte. */
async function characters(a: PrefixAnalysis, distribution: Float64Array, options: NextByteOptions): Promise<CharacterProbability[]> {
  const threshold = options.expandThreshold ?? 0.002;
  const out: CharacterProbability[] = [];
  for (let b = 0; b < 0x80; b++) if (distribution[b] > 0) out.push({ text: String.fromCharCode(b), probability: distribution[b] });
  let budget = 24;
  const expand = async (prefix: number[], p: number): Promise<void> => {
    if (budget-- <= 0) return;
    const { mass } = await a.masses(Uint8Array.from(prefix));
    const cond = normalized(mass.subarray(0, 256));
    for (let b = 0x80; b < 0xc0; b++) {
      const q = p * cond[b];
      if (q < threshold) continue;
      const next = [...prefix, b];
      if (next.length === utf8SequenceLength(next[0])) out.push({ text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(next)), probability: q });
      else await expand(next, q);
    }
  };
  const leads: number[] = [];
  for (let b = 0xc2; b < 0xf5; b++) if (distribution[b] >= threshold) leads.push(b);
  leads.sort((p, q) => distribution[q] - distribution[p]);
  for (const b of leads.slice(0, 6)) await expand([b], distribution[b]);
  out.sort((p, q) => q.probability - p.probability);
  return out.slice(0, options.topCharacters ?? 10);
}

/**
 * ln P(x) for the whole of `text` taken as a byte prefix (the cover sum, absolute: the fixed tokens'
 * probability included), and whether the analysis was exact. For tests and short texts.
 */
export async function bytePrefixLogProb(model: LanguageModel, tokenizer: Tokenizer, text: string, options: NextByteOptions = {}): Promise<{ logProb: number; exact: boolean; covers: number }> {
  const a = new PrefixAnalysis(model, tokenizer, wellFormed(text), options, true);
  const { prefixMass } = await a.masses(new Uint8Array(0));
  let logFixed = 0;
  for (let k = 0; k < a.fixed.length; k++) {
    const ctx = a.fixed.subarray(Math.max(0, k - model.contextTokens), k);
    const r = model.nextDistribution(ctx);
    const d = r instanceof Promise ? await r : r;
    logFixed += d.logProb(a.fixed[k]);
  }
  return { logProb: logFixed + Math.log(prefixMass), exact: a.exact, covers: a.covers };
}

