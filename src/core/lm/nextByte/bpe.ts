/**
 * BPE inside one pre-token as the next-byte analysis needs it (byte-level vocabularies): the canonical
 * tokens of a complete piece, the merges-only tokens of a piece that goes on past the cursor, and whether
 * two segments of one piece keep the boundary between them.
 *
 * Two facts carry the analysis (both checked by the tests against BPE of the whole string):
 * - Locality: while no merge crosses a boundary, the symbols on each side evolve exactly as they would alone
 *   (a merge only involves adjacent symbols, and BpeMerger's order, lowest rank then leftmost, is the same
 *   on either side). So if BPE of a string keeps a boundary at byte k, the tokens before k are the
 *   merges-only BPE of the bytes before k, whatever follows.
 * - Boundary test (BoundaryCrossings): whether BPE of h·t keeps the boundary between h and t is decided by
 *   the chain of h's last symbol and the chain of t's first symbol alone. Applied at every boundary, this is
 *   the "valid covering tree" test of Hayase et al. 2025: a tokenization is BPE's iff every token is BPE of
 *   its own bytes and every adjacent boundary survives.
 * With the whole-word rule (tiktoken, Llama 3: a piece that is itself in the vocabulary is one token) the
 * merges decide everything except a complete piece found in the vocabulary.
 */
import { BpeMerger, MERGE_ID_BITS } from '../../tokenizers/bpe';
import { BYTE_TO_CHAR } from '../../tokenizers/byteLevel';
import type { EngineConfig } from '../../tokenizers/engine';
import type { TokenTable } from './tokenTable';

/** A symbol at the edge of a word during BPE: the ids it takes and the rank of the merge that made each (-Infinity: a byte). */
export interface EdgeChain {
  readonly ids: Int32Array;
  readonly ranks: Float64Array;
}

/** The result of simulating BPE (merges only) on one word: its tokens and the chains of its first and last symbols. */
export interface BpeTrace {
  readonly tokens: Int32Array;
  readonly first: EdgeChain;
  readonly last: EdgeChain;
}

export function spelling(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += BYTE_TO_CHAR[bytes[i]];
  return s;
}

/** BPE over raw bytes for byte-level tokenizers, as the engine's computeWord does for `symbols: 'bytes'`. */
export class ByteBpe {
  private readonly merger: BpeMerger;
  private readonly byteToId = new Int32Array(256).fill(-1);
  private ids = new Int32Array(64);
  private lens = new Int32Array(64);
  private readonly wholeCache = new Map<string, Int32Array>();
  private readonly traceCache = new Map<string, BpeTrace>();
  /** Pair lookup (rank · 2^20 + new id, or -1); for tiktoken ranks a bounded memo of our own. */
  readonly lookup: (left: number, right: number) => number;
  private readonly spellings: string[] = [];

  constructor(readonly cfg: EngineConfig) {
    for (const [sp, id] of cfg.vocab) this.spellings[id] = sp;
    if (cfg.algorithm === 'tiktoken-bpe') {
      // The engine memoizes every pair it is asked; the analysis asks many, so keep a bounded memo instead.
      const memo = new Map<number, number>();
      this.lookup = (l, r) => {
        const key = l * MERGE_ID_BITS + r;
        let v = memo.get(key);
        if (v === undefined) {
          const id = cfg.vocab.get((this.spellings[l] ?? '') + (this.spellings[r] ?? ''));
          v = id === undefined ? -1 : id * MERGE_ID_BITS + id;
          if (memo.size > 400_000) memo.clear();
          memo.set(key, v);
        }
        return v;
      };
    } else this.lookup = cfg.pairLookup;
    this.merger = new BpeMerger(this.lookup);
    for (let b = 0; b < 256; b++) this.byteToId[b] = cfg.vocab.get(BYTE_TO_CHAR[b]) ?? -1;
  }

  /** The vocabulary id of a byte string spelled in the byte-level alphabet, if it is one token. */
  idOf(bytes: Uint8Array, start = 0, end = bytes.length): number | undefined {
    return this.cfg.vocab.get(spelling(bytes, start, end));
  }

  /** Canonical tokens of the complete piece bytes[start, end): the whole-word rule, then merges. */
  encodeWhole(bytes: Uint8Array, start = 0, end = bytes.length): Int32Array {
    const key = latin1Key(bytes, start, end);
    const hit = this.wholeCache.get(key);
    if (hit) return hit;
    let out: Int32Array;
    const whole = this.cfg.ignoreMerges ? this.idOf(bytes, start, end) : undefined;
    if (whole !== undefined) out = Int32Array.of(whole);
    else out = this.encodeMerges(bytes, start, end);
    if (this.wholeCache.size > 50_000) this.wholeCache.clear();
    this.wholeCache.set(key, out);
    return out;
  }

  /** Merges-only BPE of bytes[start, end). */
  encodeMerges(bytes: Uint8Array, start = 0, end = bytes.length): Int32Array {
    const n = end - start;
    if (this.ids.length < n) {
      this.ids = new Int32Array(n * 2);
      this.lens = new Int32Array(n * 2);
    }
    for (let i = 0; i < n; i++) {
      this.ids[i] = this.byteToId[bytes[start + i]];
      this.lens[i] = 1;
    }
    const m = this.merger.merge(this.ids, this.lens, n);
    return this.ids.slice(0, m);
  }

  /**
   * Merges-only BPE of bytes[start, end), recording how the first and the last symbol changed: the same
   * order as BpeMerger (lowest rank first, then leftmost), one merge at a time. Cached.
   */
  trace(bytes: Uint8Array, start = 0, end = bytes.length): BpeTrace {
    const key = latin1Key(bytes, start, end);
    const hit = this.traceCache.get(key);
    if (hit) return hit;
    const n = end - start;
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(this.byteToId[bytes[start + i]]);
    const firstIds = [ids[0]];
    const firstRanks = [-Infinity];
    const lastIds = [ids[n - 1]];
    const lastRanks = [-Infinity];
    const pair: number[] = [];
    for (let i = 0; i + 1 < ids.length; i++) pair.push(this.lookup(ids[i], ids[i + 1]));
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      let bestId = -1;
      for (let i = 0; i < pair.length; i++) {
        const m = pair[i];
        if (m < 0) continue;
        const rank = Math.floor(m / MERGE_ID_BITS);
        if (rank < bestRank) {
          bestRank = rank;
          best = i;
          bestId = m % MERGE_ID_BITS;
        }
      }
      if (best < 0) break;
      ids.splice(best, 2, bestId);
      pair.splice(best, 1);
      if (best > 0) pair[best - 1] = this.lookup(ids[best - 1], bestId);
      if (best < pair.length) pair[best] = this.lookup(bestId, ids[best + 1]);
      if (best === 0) {
        firstIds.push(bestId);
        firstRanks.push(bestRank);
      }
      if (best === ids.length - 1) {
        lastIds.push(bestId);
        lastRanks.push(bestRank);
      }
    }
    const result: BpeTrace = {
      tokens: Int32Array.from(ids),
      first: { ids: Int32Array.from(firstIds), ranks: Float64Array.from(firstRanks) },
      last: { ids: Int32Array.from(lastIds), ranks: Float64Array.from(lastRanks) },
    };
    if (this.traceCache.size > 50_000) this.traceCache.clear();
    this.traceCache.set(key, result);
    return result;
  }

  /** Rank of the merge of two adjacent symbols, or -1. */
  rank(left: number, right: number): number {
    const m = this.lookup(left, right);
    return m < 0 ? -1 : Math.floor(m / MERGE_ID_BITS);
  }
}

function latin1Key(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/**
 * Whether BPE of one word h·t, where each side alone evolves as its trace says, keeps the boundary between
 * them, decided from the edge chains only.
 *
 * While no merge crosses the boundary the two sides evolve as they would alone; BpeMerger applies the
 * lowest-ranked pending merge, leftmost first. Let h's last symbol be σ_j from rank r_j until rank r_{j+1}
 * (when it merges leftwards; r_0 = -∞, the last r = +∞) and t's first symbol π_k from ρ_k until ρ_{k+1}. A
 * crossing pair (σ_j, π_k) with merge rank μ becomes pending once both exist and is applied at
 * E = max(μ, r_j, ρ_k) unless a side changes first: it is applied iff E < r_{j+1} (a merge left of the
 * boundary wins a tie: it is further left) and E ≤ ρ_{k+1} (the crossing wins a tie against a merge right of
 * it). The boundary survives iff no pair (j, k) is applied.
 */
export class BoundaryCrossings {
  /** Per σ_j: all its merge partners π → rank, when known (else ranks are asked pair by pair). */
  private readonly partners: (ReadonlyMap<number, number> | undefined)[];

  constructor(
    readonly left: EdgeChain,
    private readonly bpe: ByteBpe,
    partnersOf?: (sigma: number) => ReadonlyMap<number, number> | undefined,
  ) {
    this.partners = Array.from(left.ids, (sigma) => partnersOf?.(sigma));
  }

  /** True when some merge crosses the boundary, given the right side's first-symbol chain. */
  crosses(right: EdgeChain): boolean {
    const last = this.left;
    const nj = last.ids.length;
    const nk = right.ids.length;
    for (let j = 0; j < nj; j++) {
      const rj = last.ranks[j];
      const rNext = j + 1 < nj ? last.ranks[j + 1] : Infinity;
      const partners = this.partners[j];
      for (let k = 0; k < nk; k++) {
        const rho = right.ranks[k];
        if (rho >= rNext) break; // π_k and later appear only after σ_j is gone
        const mu = partners ? (partners.get(right.ids[k]) ?? -1) : this.bpe.rank(last.ids[j], right.ids[k]);
        if (mu < 0) continue;
        const e = Math.max(mu, rj, rho);
        const rhoNext = k + 1 < nk ? right.ranks[k + 1] : Infinity;
        if (e < rNext && e <= rhoNext) return true;
      }
    }
    return false;
  }
}

/** Per-token merges-only facts, computed on first use and kept. */
export class TokenChains {
  private readonly traces: (BpeTrace | undefined)[];
  private readonly partnerCache = new Map<number, ReadonlyMap<number, number>>();

  constructor(
    readonly bpe: ByteBpe,
    private readonly table: TokenTable,
  ) {
    this.traces = new Array<BpeTrace | undefined>(table.vocabSize);
  }

  trace(id: number): BpeTrace {
    let t = this.traces[id];
    if (!t) {
      t = this.bpe.trace(this.table.bytes[id]);
      this.traces[id] = t;
    }
    return t;
  }

  /** Flat copies of every traced token's first-symbol chain (ids and ranks), for hot loops. */
  firstPoolIds = new Int32Array(1 << 16);
  firstPoolRanks = new Float64Array(1 << 16);
  private firstUsed = 0;
  /** Per id: offset in the pools (-1: not yet) and length. */
  private firstAt: Int32Array | undefined;

  /** Offset of the token's first chain in the pools (its length: firstLength). */
  firstOffset(id: number): number {
    if (!this.firstAt) this.firstAt = new Int32Array(this.table.vocabSize * 2).fill(-1);
    let at = this.firstAt[2 * id];
    if (at < 0) {
      const f = this.trace(id).first;
      const n = f.ids.length;
      if (this.firstUsed + n > this.firstPoolIds.length) {
        const cap = Math.max(this.firstPoolIds.length * 2, this.firstUsed + n);
        const ids = new Int32Array(cap);
        ids.set(this.firstPoolIds);
        this.firstPoolIds = ids;
        const ranks = new Float64Array(cap);
        ranks.set(this.firstPoolRanks);
        this.firstPoolRanks = ranks;
      }
      this.firstPoolIds.set(f.ids, this.firstUsed);
      this.firstPoolRanks.set(f.ranks, this.firstUsed);
      at = this.firstUsed;
      this.firstAt[2 * id] = at;
      this.firstAt[2 * id + 1] = n;
      this.firstUsed += n;
    }
    return at;
  }

  firstLength(id: number): number {
    return (this.firstAt as Int32Array)[2 * id + 1];
  }

  private readonly rankArrays = new Map<number, Int32Array>();

  /** partnersOf(σ) as an array over ids (rank, or -1), cached for the most recent symbols. */
  partnerRanks(sigma: number): Int32Array {
    let a = this.rankArrays.get(sigma);
    if (a) {
      this.rankArrays.delete(sigma);
      this.rankArrays.set(sigma, a);
      return a;
    }
    a = new Int32Array(this.table.vocabSize).fill(-1);
    for (const [pi, mu] of this.partnersOf(sigma) as ReadonlyMap<number, number>) a[pi] = mu;
    if (this.rankArrays.size >= 48) this.rankArrays.delete(this.rankArrays.keys().next().value as number);
    this.rankArrays.set(sigma, a);
    return a;
  }

  /** Merges-only BPE of the token's own bytes gives the token back. */
  mergesSelf(id: number): boolean {
    const t = this.trace(id);
    return t.tokens.length === 1 && t.tokens[0] === id;
  }

  /**
   * Every right merge partner of a symbol (π with σ·π a token reached by merging σ with π, and that merge's
   * rank), found from the tokens that start with σ's bytes. Cached (bounded).
   */
  partnersOf(sigma: number): ReadonlyMap<number, number> {
    const hit = this.partnerCache.get(sigma);
    if (hit) return hit;
    let out: Map<number, number>;
    const sb = this.table.bytes[sigma];
    const [lo, hi] = this.table.prefixRange(latinKey(sb));
    {
      out = new Map();
      for (let pos = lo; pos < hi; pos++) {
        const v = this.table.bytes[this.table.sortedIds[pos]];
        if (v.length <= sb.length) continue;
        const pi = this.bpe.idOf(v, sb.length);
        if (pi === undefined) continue;
        const mu = this.bpe.rank(sigma, pi);
        if (mu >= 0) out.set(pi, mu);
      }
    }
    if (this.partnerCache.size > 16384) this.partnerCache.clear();
    this.partnerCache.set(sigma, out);
    return out;
  }

  /** The boundary test with `left` on the left (partners listed in advance). */
  crossingsAfter(left: EdgeChain): BoundaryCrossings {
    return new BoundaryCrossings(left, this.bpe, (s) => this.partnersOf(s));
  }
}

function latinKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}
