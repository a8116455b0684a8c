/**
 * The exact next-byte masses for BPE without a splitting pre-tokenizer (Mistral, Gemma 3; segmentContext.ts
 * says which tokenizers and what they read), in the normalized text: the bytes the model reads.
 *
 * Why the covers below are all of them:
 * 1. Pair rule. Inside one BPE segment a token sequence is BPE's iff every token is BPE of its own text and
 *    every adjacent pair keeps its boundary when the two are BPE'd alone (Berglund & van der Merwe 2023;
 *    Hayase et al. 2025's valid covering tree; Vieira et al. 2025). Locality gives it: a merge involves two
 *    adjacent symbols and BpeMerger applies the lowest rank, leftmost first, so until the first merge that
 *    crosses a boundary each token's symbols evolve as they would alone; that first crossing merge is then
 *    the lowest pending one with only two tokens' symbols around it, so it also crosses when the pair is BPE'd
 *    alone. Byte-fallback tokens take part in no merge (checked per tokenizer), so their boundaries always
 *    survive, and a character without a token of its own is always exactly its fallback bytes.
 * 2. Valid = canonical of its own text. If t is a prefix of encode(r·s) and ends on a character boundary, no
 *    added-token match crosses the end of r (a token of t ends there), so the matches inside r are those of r
 *    alone; the segment BPE'd last is cut at r's end, and its tokens so far have canonical pairs, so they are
 *    BPE of their own text (rule 1). Conversely encode(r) = t with s empty. So the cover of x whose last token
 *    t starts at byte j < |x| is canonical(x[..j]) + [t], with j within the longest token of the end, and
 *    t after canonical(x[..j]) is valid iff encode(text(x[..j]) + text(t)) = canonical(x[..j]) + [t]; at
 *    j = |x| the same with every token.
 * 3. That check without encoding: the added-token matches of text(x[..j]) + text(t) are those of x[..j] and
 *    of text(t) alone, unless t's text starts with what a content begun before j still needs (`remainders`,
 *    from a scan of x[..j]; such t are encoded). With no match inside t (AddedKind.Plain), t must be BPE of
 *    itself and keep the boundary with the token before it when that token is a plain token of the same
 *    segment (rule 1); a whole added token is valid after any canonical prefix.
 * 4. Partial characters. Vocabulary tokens are whole characters, so a token sequence ends inside a character
 *    only with fallback bytes of that character: canonical(x[..c]) followed by the character's bytes so far,
 *    valid iff some character with those first bytes has no token of its own (then s completes it with one);
 *    a fallback lead byte at a character boundary likewise.
 *
 * Masses (relative to the fixed tokens before the region), for z = the region's bytes, maybe followed by the
 * first bytes of a character: mass[b] = Σ P(u)·p(t|u) over valid u·[t] covering z·b, mass[END] =
 * P(canonical(z))·p(END|canonical(z)), prefixMass = P(z). Tokens laid at the end of z are summed in bulk: the
 * ids valid at a segment's start, less those whose boundary with the token before is crossed (a set cached per
 * left token), from per-first-byte sums of the sparse distribution's base plus its explicit ids.
 */
import { formProb, type LanguageModel, type NextTokenDistribution } from '../model';
import type { BoundaryCrossings } from './bpe';
import { END } from './baselines';
import { PrefixProbabilities } from './modelQueries';
import { AddedKind, type SegmentContext } from './segmentContext';
import { latin1, validSecondByte } from './tokenTable';
import { indexInSorted } from '../../sortedSearch';

const MARK = '\u2581';
const encoder = new TextEncoder();

export interface Masses {
  readonly mass: Float64Array;
  readonly prefixMass: number;
  readonly covers: number;
  readonly candidates: number;
}

interface RangeBulk {
  readonly u: Int32Array;
  /** The plain token before, whose boundary the tokens must keep, or -1. */
  readonly left: number;
  readonly lo: number;
  readonly hi: number;
  readonly key: string;
  readonly skip: number;
}

interface Entry {
  readonly u: Int32Array;
  readonly t: number;
  /** The next byte (the token's byte after z), or -1 (the token ends at z's end). */
  readonly byte: number;
  readonly coversZ: boolean;
}

/** The region's normalized text: a space read as `▁`, and Mistral's `▁` before a document's non-empty text. */
export function normalizedRegion(ctx: SegmentContext, rawRegion: string, documentStart: boolean): string {
  return (documentStart && ctx.prepends && rawRegion.length > 0 ? MARK : '') + rawRegion.replaceAll(' ', MARK);
}

function startsWithMark(pool: Uint8Array, start: number, length: number): boolean {
  return length >= 3 && pool[start] === 0xe2 && pool[start + 1] === 0x96 && pool[start + 2] === 0x81;
}

export class SegmentAnalysis {
  /** The region's normalized text (Mistral's `▁` before the document's start included). */
  readonly normalized: string;
  readonly bytes: Uint8Array;
  /** Per character k of `normalized`: its first byte and its UTF-16 index (one more entry for the end). */
  private readonly charByte: Int32Array;
  private readonly charUnit: Int32Array;
  /** canonical(z) for the whole region (the tokens after `fixed`). */
  readonly fullCanonical: Int32Array;
  /**
   * The tokens every cover shares at the region's start (set by the first `masses` call): the model is asked
   * after fixed·stem, so a long region costs no long prefixes. `canonical`, `fixed` and `probabilities` are
   * relative to it.
   */
  private stem = -1;
  private probs: PrefixProbabilities | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly prefixMemo = new Map<number, Int32Array>();
  private readonly remainderMemo = new Map<number, string[]>();
  /** Positions where the added-token scan of the whole region is free (not inside a match), ascending. */
  private readonly freeUnits: number[] = [0];

  constructor(
    readonly ctx: SegmentContext,
    readonly model: LanguageModel,
    /** The region's normalized text, from the restart point to the cursor (normalizedRegion). */
    normalizedText: string,
    /** The region starts the document and the normalizer puts `▁` there: every first token starts with it. */
    readonly firstMark: boolean,
    private readonly fixedBefore: Uint32Array,
    signal: AbortSignal | undefined,
  ) {
    this.signal = signal;
    this.normalized = normalizedText;
    this.bytes = encoder.encode(this.normalized);
    const cb: number[] = [];
    const cu: number[] = [];
    let b = 0;
    let u = 0;
    for (const ch of this.normalized) {
      cb.push(b);
      cu.push(u);
      const cp = ch.codePointAt(0) as number;
      b += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      u += ch.length;
    }
    cb.push(b);
    cu.push(u);
    this.charByte = Int32Array.from(cb);
    this.charUnit = Int32Array.from(cu);
    if (!ctx.matcher.empty) {
      const raw = this.rawOf(this.normalized.length);
      const { matches } = ctx.matcher.scan(raw);
      // Every position outside a match is reached free; a match's end is too.
      let at = 0;
      for (let k = 0; k < matches.length; k += 3) {
        for (let p = Math.max(at, 1); p < matches[k]; p++) this.freeUnits.push(p);
        this.freeUnits.push(matches[k + 1]);
        at = matches[k + 1] + 1;
      }
      for (let p = Math.max(at, 1); p <= raw.length; p++) this.freeUnits.push(p);
    }
    this.fullCanonical = this.prefix(this.charByte.length - 1);
  }

  /** The model's probabilities after fixed·stem (after the first `masses` call). */
  get probabilities(): PrefixProbabilities {
    if (!this.probs) throw new Error('masses first');
    return this.probs;
  }

  /** The tokens before the region's covers: the fixed tokens and the stem. */
  get fixed(): Uint32Array {
    if (this.stem < 0) throw new Error('masses first');
    const out = new Uint32Array(this.fixedBefore.length + this.stem);
    out.set(this.fixedBefore);
    out.set(this.fullCanonical.subarray(0, this.stem), this.fixedBefore.length);
    return out;
  }

  /** canonical(z) after the stem. */
  get canonical(): Int32Array {
    if (this.stem < 0) throw new Error('masses first');
    return this.fullCanonical.subarray(this.stem);
  }

  /** The probabilities, given every sequence they will be asked about (the stem is fixed on the first call). */
  private async loaded(seqs: readonly Int32Array[]): Promise<PrefixProbabilities> {
    if (this.stem < 0) {
      let c = this.fullCanonical.length;
      for (const s of seqs) {
        let k = 0;
        while (k < c && k < s.length && s[k] === this.fullCanonical[k]) k++;
        c = k;
      }
      this.stem = c;
      this.probs = new PrefixProbabilities(this.model, this.fixed, this.signal);
    }
    const P = this.probabilities;
    const rel = new Set<Int32Array>();
    for (const s of seqs) {
      if (s.length < this.stem) throw new Error('a cover outside the stem');
      rel.add(s);
    }
    await P.load(Array.from(rel, (s) => s.subarray(this.stem)));
    return P;
  }

  /** The raw text of the first `units` UTF-16 units of the normalized region (`▁` read as a space). */
  private rawOf(units: number): string {
    return this.normalized.slice(0, units).replaceAll(MARK, ' ');
  }

  /** canonical(x[..char k]): the region's tokens up to its k-th character (encoded as it reads, `▁` included). */
  prefix(k: number): Int32Array {
    let p = this.prefixMemo.get(k);
    if (!p) {
      p = Int32Array.from(this.ctx.tokenizer.encode(this.rawOf(this.charUnit[k]), { continuation: true }).ids);
      this.prefixMemo.set(k, p);
    }
    return p;
  }

  /** What the added-token contents begun in x[..char k] still need (empty without added tokens). */
  private remainders(k: number): string[] {
    if (this.ctx.matcher.empty) return [];
    let r = this.remainderMemo.get(k);
    if (!r) {
      const units = this.charUnit[k];
      // The scan up to a free position at least maxLength before the end is the same for every continuation.
      const limit = units - this.ctx.matcher.maxLength;
      // A content can still grow only from a position within maxLength of the end that starts one.
      if (!this.ctx.matcher.mayMatch(this.normalized.slice(Math.max(0, limit), units))) {
        this.remainderMemo.set(k, (r = []));
        return r;
      }
      let from = 0;
      for (const f of this.freeUnits) if (f <= limit) from = f;
      r = this.ctx.matcher.scan(this.rawOf(units), from).remainders;
      this.remainderMemo.set(k, r);
    }
    return r;
  }

  /** Rule 2 checked by encoding: encode(text(x[..k]) + text(t)) = u + [t]. */
  private encodedValid(k: number, u: Int32Array, t: number, tText: string): boolean {
    const ids = this.ctx.tokenizer.encode(this.rawOf(this.charUnit[k]) + tText.replaceAll(MARK, ' '), { continuation: true }).ids;
    if (ids.length !== u.length + 1 || ids[u.length] !== t) return false;
    for (let i = 0; i < u.length; i++) if (ids[i] !== u[i]) return false;
    return true;
  }

  /** Whether u + [t] is valid, t a vocabulary token (whole characters) laid after character k. */
  private valid(k: number, u: Int32Array, t: number, rem: readonly string[], bc?: BoundaryCrossings): boolean {
    const ctx = this.ctx;
    const kind = ctx.addedKind[t];
    if (kind === AddedKind.Never) return false;
    if (rem.length) {
      const text = ctx.table.text(t) as string;
      const raw = text.replaceAll(MARK, ' ');
      if (rem.some((r) => raw.startsWith(r))) return this.encodedValid(k, u, t, text);
    }
    if (!ctx.startValid[t]) return false;
    if (kind === AddedKind.Whole) return true;
    if (bc) return !bc.crosses(ctx.chains.first(t));
    const left = this.leftOf(u);
    return left < 0 || ctx.keeps(left, t);
  }

  /** The plain token before the end of u in the same segment, or -1 when a segment starts at u's end. */
  private leftOf(u: Int32Array): number {
    if (u.length === 0) return -1;
    const last = u[u.length - 1];
    if (this.ctx.isFallback[last] || this.ctx.addedKind[last] === AddedKind.Whole) return -1;
    return last;
  }

  async masses(extra: Uint8Array): Promise<Masses> {
    const ctx = this.ctx;
    const T = ctx.table;
    const base = this.bytes;
    const z = new Uint8Array(base.length + extra.length);
    z.set(base);
    z.set(extra, base.length);
    const Z = z.length;
    const nChars = this.charByte.length - 1;
    const entries: Entry[] = [];
    const ranges: RangeBulk[] = [];
    let candidates = 0;
    // Covers whose last token starts at a character boundary before the end of z and runs past it.
    for (let k = nChars; k >= 0; k--) {
      const j = this.charByte[k];
      if (Z - j >= T.maxTokenBytes) break;
      if (j === Z) continue;
      const [lo, hi] = T.prefixRange(latin1(z, j, Z));
      if (lo >= hi) continue;
      const u = this.prefix(k);
      const rem = this.remainders(k);
      const left = this.leftOf(u);
      if (hi - lo > 64 && rem.length === 0 && !(j === 0 && this.firstMark)) {
        // Many tokens (those that start with a space, say): summed by range (rule 3 with its cached crossed set).
        ranges.push({ u, left, lo, hi, key: latin1(z, j, Z), skip: Z - j });
        candidates += hi - lo;
        continue;
      }
      const bc = left >= 0 ? ctx.chains.crossingsAfter(ctx.chains.last(left)) : undefined;
      for (let pos = lo; pos < hi; pos++) {
        const t = T.sortedIds[pos];
        if (!T.usable[t] || ctx.isFallback[t] || T.byteLength[t] <= Z - j) continue;
        if (j === 0 && this.firstMark && !startsWithMark(T.pool, T.byteStart[t], T.byteLength[t])) continue;
        candidates++;
        if (this.valid(k, u, t, rem, bc)) entries.push({ u, t, byte: T.pool[T.byteStart[t] + Z - j], coversZ: true });
      }
    }
    let exactTiling: Int32Array | undefined;
    let bulk: { u: Int32Array; left: number; exclude: Set<number> } | undefined;
    if (extra.length > 0) {
      // z ends inside a character: its bytes so far as fallback tokens, then the next one (rule 4).
      const canonical = this.fullCanonical;
      const tiling = new Int32Array(canonical.length + extra.length);
      tiling.set(canonical);
      for (let i = 0; i < extra.length; i++) tiling[canonical.length + i] = ctx.fallbackOf[extra[i]];
      if (ctx.outsideCompletion(extra) && !(this.firstMark && base.length === 0)) {
        exactTiling = tiling;
        const need = extra.length === 1 ? (b: number): boolean => validSecondByte(extra[0], b) : (b: number): boolean => (b & 0xc0) === 0x80;
        const next = new Uint8Array(extra.length + 1);
        next.set(extra);
        for (let b = 0x80; b < 0xc0; b++) {
          if (!need(b)) continue;
          next[extra.length] = b;
          candidates++;
          if (ctx.outsideCompletion(next)) entries.push({ u: tiling, t: ctx.fallbackOf[b], byte: b, coversZ: false });
        }
      }
    } else if (Z === 0 && this.firstMark) {
      // The document's first token: the text starts with `▁`, so every first token does.
      const [lo, hi] = T.prefixRange(latin1(encoder.encode(MARK)));
      const u = new Int32Array(0);
      for (let pos = lo; pos < hi; pos++) {
        const t = T.sortedIds[pos];
        if (!T.usable[t] || ctx.isFallback[t]) continue;
        candidates++;
        if (ctx.startValid[t]) entries.push({ u, t, byte: T.firstByte[t], coversZ: false });
      }
    } else {
      const u = this.fullCanonical;
      exactTiling = Z > 0 ? u : undefined;
      const rem = this.remainders(nChars);
      const exclude = new Set<number>();
      // Tokens whose text a content begun before the end could swallow: encoded one by one (rule 3).
      for (const r of rem) {
        const [lo, hi] = T.prefixRange(latin1(encoder.encode(r)));
        for (let pos = lo; pos < hi; pos++) {
          const t = T.sortedIds[pos];
          if (!T.usable[t] || ctx.isFallback[t] || exclude.has(t)) continue;
          exclude.add(t);
          candidates++;
          if (this.valid(nChars, u, t, rem)) entries.push({ u, t, byte: T.firstByte[t], coversZ: false });
        }
      }
      // Fallback lead bytes: a character without a token of its own starts here (rule 4).
      for (let b = 0; b < 0xf5; b++) {
        const t = ctx.fallbackOf[b];
        if (b >= 0x80 && b < 0xc2) continue;
        candidates++;
        if (b < 0x80) {
          const ch = String.fromCharCode(b);
          if (ctx.cfg.vocab.get(ch === ' ' ? MARK : ch) !== undefined) continue;
          if (ctx.matcher.mayMatch(ch) || rem.some((r) => ch.startsWith(r))) {
            if (this.encodedValidFallback(nChars, u, t, ch)) entries.push({ u, t, byte: b, coversZ: false });
          } else entries.push({ u, t, byte: b, coversZ: false });
        } else if (ctx.outsideCompletion(Uint8Array.of(b))) entries.push({ u, t, byte: b, coversZ: false });
      }
      bulk = { u, left: this.leftOf(u), exclude };
    }
    const wanted: Int32Array[] = entries.map((e) => e.u);
    for (const r of ranges) wanted.push(r.u);
    if (bulk) wanted.push(bulk.u);
    if (exactTiling) wanted.push(exactTiling);
    wanted.push(this.fullCanonical);
    const P = await this.loaded(wanted);
    const rel = (u: Int32Array): Int32Array => u.subarray(this.stem);
    const mass = new Float64Array(257);
    let prefixMass = Z === 0 ? 1 : 0;
    if (exactTiling) prefixMass += P.prob(rel(exactTiling));
    const byU = new Map<Int32Array, { p: number; d: NextTokenDistribution }>();
    for (const e of entries) {
      let r = byU.get(e.u);
      if (!r) byU.set(e.u, (r = { p: P.prob(rel(e.u)), d: P.dist(rel(e.u)) }));
      if (r.p === 0) continue;
      const q = r.p * r.d.prob(e.t);
      if (e.byte >= 0) mass[e.byte] += q;
      if (e.coversZ) prefixMass += q;
    }
    let covers = entries.length;
    for (const r of ranges) {
      const m = this.addRange(mass, r);
      prefixMass += m.total;
      covers += m.count;
    }
    if (bulk) covers += this.addBulk(mass, bulk.u, bulk.left, bulk.exclude);
    if (extra.length === 0) {
      const pT = P.prob(this.canonical);
      mass[END] += pT * formProb(P.dist(this.canonical).form(), this.model.endOfTextId);
    }
    return { mass, prefixMass, covers, candidates };
  }

  /** An ASCII character's fallback token after character k, checked by encoding. */
  private encodedValidFallback(k: number, u: Int32Array, t: number, ch: string): boolean {
    const ids = this.ctx.tokenizer.encode(this.rawOf(this.charUnit[k]) + ch, { continuation: true }).ids;
    if (ids.length !== u.length + 1 || ids[u.length] !== t) return false;
    for (let i = 0; i < u.length; i++) if (ids[i] !== u[i]) return false;
    return true;
  }

  /**
   * The tokens of sorted positions [lo, hi) (they start with `key`, z's bytes from j) laid after u, valid by
   * rule 3 (start-valid, boundary with `left` kept): masses by their byte after the key, and their total.
   */
  private addRange(mass: Float64Array, r: RangeBulk): { total: number; count: number } {
    const ctx = this.ctx;
    const T = ctx.table;
    const P = this.probabilities;
    const rel = r.u.subarray(this.stem);
    const p = P.prob(rel);
    if (p === 0) return { total: 0, count: 0 };
    const form = P.dist(rel).form();
    const crossed = r.left >= 0 ? ctx.crossed(r.left) : new Int32Array(0);
    const inRange = (t: number): boolean => {
      const pos = T.sortedPosition[t];
      return pos >= r.lo && pos < r.hi && T.byteLength[t] > r.skip && ctx.startValid[t] === 1;
    };
    let total = 0;
    let count = 0;
    const add = (b: number, q: number): void => {
      mass[b] += q;
      total += q;
    };
    if (form.kind === 'sparse') {
      const w = p * form.baseWeight;
      const base = form.base;
      const S = ctx.sortedStartSums(base);
      for (let b = 0; b < 256; b++) {
        const [l, h] = T.prefixRange(r.key + String.fromCharCode(b));
        if (l < h) add(b, w * (S[h] - S[l]));
      }
      for (const t of crossed) if (inRange(t)) add(T.pool[T.byteStart[t] + r.skip], -w * base.prob(t));
      for (let k = 0; k < form.ids.length; k++) {
        const t = form.ids[k];
        if (t < T.vocabSize && inRange(t) && indexInSorted(crossed, t) < 0) add(T.pool[T.byteStart[t] + r.skip], p * (form.probs[k] - form.baseWeight * base.prob(t)));
      }
      count = r.hi - r.lo;
    } else {
      for (let pos = r.lo; pos < r.hi; pos++) {
        const t = T.sortedIds[pos];
        if (!inRange(t) || indexInSorted(crossed, t) >= 0) continue;
        add(T.pool[T.byteStart[t] + r.skip], p * form.probs[t]);
        count++;
      }
    }
    return { total, count };
  }

  /**
   * Every token laid at the end of z after u, in bulk: those valid at a segment's start, less the ones whose
   * boundary with `left` is crossed (when u ends with a plain token), less `exclude` (checked alone).
   */
  private addBulk(mass: Float64Array, u: Int32Array, left: number, exclude: ReadonlySet<number>): number {
    const ctx = this.ctx;
    const T = ctx.table;
    const P = this.probabilities;
    const p = P.prob(u.subarray(this.stem));
    if (p === 0) return 0;
    const form = P.dist(u.subarray(this.stem)).form();
    const crossed = left >= 0 ? ctx.crossed(left) : new Int32Array(0);
    const inBulk = (t: number): boolean => t < T.vocabSize && ctx.startValid[t] === 1 && !exclude.has(t) && indexInSorted(crossed, t) < 0;
    if (form.kind === 'sparse') {
      const w = p * form.baseWeight;
      const b0 = form.base;
      const all = ctx.startBaseSums(b0);
      const minus = left >= 0 ? ctx.crossedBaseSums(left, b0) : undefined;
      for (let b = 0; b < 256; b++) mass[b] += w * (all[b] - (minus ? minus[b] : 0));
      for (const t of exclude) if (ctx.startValid[t] && indexInSorted(crossed, t) < 0) mass[T.firstByte[t]] -= w * b0.prob(t);
      for (let k = 0; k < form.ids.length; k++) {
        const t = form.ids[k];
        if (inBulk(t)) mass[T.firstByte[t]] += p * (form.probs[k] - form.baseWeight * b0.prob(t));
      }
    } else {
      for (let t = 0; t < T.vocabSize; t++) if (inBulk(t)) mass[T.firstByte[t]] += p * form.probs[t];
    }
    return T.vocabSize - crossed.length - exclude.size;
  }
}
