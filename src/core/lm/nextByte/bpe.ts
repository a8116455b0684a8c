/**
 * BPE inside one pre-token (or one segment, for tokenizers without a pre-tokenizer) as the next-byte analysis
 * needs it: the canonical tokens of a complete piece, the merges-only tokens of a piece that goes on past the
 * cursor, and whether two segments of one piece keep the boundary between them.
 *
 * Two facts carry the analysis (both checked by the tests against BPE of the whole string):
 * - Locality: while no merge crosses a boundary, the symbols on each side evolve exactly as they would alone
 *   (a merge only involves adjacent symbols, and BpeMerger's order, lowest rank then leftmost, is the same
 *   on either side). So if BPE of a string keeps a boundary at byte k, the tokens before k are the
 *   merges-only BPE of the bytes before k, whatever follows.
 * - Boundary test (BoundaryCrossings): whether BPE of h·t keeps the boundary between h and t is decided by
 *   the chain of h's last symbol and the chain of t's first symbol alone. Applied at every boundary, this is
 *   the "valid covering tree" test of Hayase et al. 2025: a tokenization is BPE's iff every token is BPE of
 *   its own bytes and every adjacent boundary survives (induction on the first merge that crosses a
 *   boundary: before it every token evolves as alone, so the same merge crosses in the pair alone).
 * With the whole-word rule (tiktoken, Llama 3: a piece that is itself in the vocabulary is one token) the
 * merges decide everything except a complete piece found in the vocabulary.
 *
 * Symbols: byte-level vocabularies start from one symbol per byte; SentencePiece-style ones from one symbol
 * per character (a space read as `▁`), or the `<0xNN>` byte tokens of a character not in the vocabulary.
 */
import { MERGE_ID_BITS } from '../../tokenizers/bpe';
import { BYTE_TO_CHAR } from '../../tokenizers/byteLevel';
import type { EngineConfig } from '../../tokenizers/engine';
import { FirstChainTrie } from './firstChainTrie';
import type { TokenTable } from './tokenTable';

/** A symbol at the edge of a word during BPE: the ids it takes and the rank of the merge that made each (-Infinity: an initial symbol). */
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

/**
 * Every merge of a vocabulary as a table: for each left symbol, its right partners (sorted by id) with the
 * merge's rank and result. Built once from the vocabulary (each token's splits into two tokens, kept where
 * the tokenizer's pair lookup makes that very token from them; for tiktoken ranks any such split merges,
 * with the token's id as its rank).
 */
export class MergeTable {
  private readonly start: Int32Array;
  private readonly right: Int32Array;
  private readonly ranks: Int32Array;
  private readonly made: Int32Array;

  constructor(cfg: EngineConfig, vocabSize: number) {
    const spellings: string[] = new Array<string>(vocabSize);
    for (const [sp, id] of cfg.vocab) if (id < vocabSize) spellings[id] = sp;
    const tiktoken = cfg.algorithm === 'tiktoken-bpe';
    const ls: number[] = [];
    const rs: number[] = [];
    const ks: number[] = [];
    const ms: number[] = [];
    for (let m = 0; m < vocabSize; m++) {
      const s = spellings[m];
      if (s === undefined || s.length < 2) continue;
      for (let k = 1; k < s.length; k++) {
        const c = s.charCodeAt(k);
        if (c >= 0xdc00 && c <= 0xdfff) continue; // inside a surrogate pair
        const l = cfg.vocab.get(s.slice(0, k));
        if (l === undefined) continue;
        const r = cfg.vocab.get(s.slice(k));
        if (r === undefined) continue;
        let rank: number;
        if (tiktoken) rank = m;
        else {
          const v = cfg.pairLookup(l, r);
          if (v < 0 || v % MERGE_ID_BITS !== m) continue;
          rank = Math.floor(v / MERGE_ID_BITS);
        }
        ls.push(l);
        rs.push(r);
        ks.push(rank);
        ms.push(m);
      }
    }
    // Counting sort by left id, then each left's partners by right id (short lists).
    const n = ls.length;
    this.start = new Int32Array(vocabSize + 1);
    for (let j = 0; j < n; j++) this.start[ls[j] + 1]++;
    for (let id = 0; id < vocabSize; id++) this.start[id + 1] += this.start[id];
    const fill = this.start.slice(0, vocabSize);
    this.right = new Int32Array(n);
    this.ranks = new Int32Array(n);
    this.made = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const at = fill[ls[j]]++;
      this.right[at] = rs[j];
      this.ranks[at] = ks[j];
      this.made[at] = ms[j];
    }
    for (let id = 0; id < vocabSize; id++) {
      const a = this.start[id];
      const b = this.start[id + 1];
      if (b - a < 2) continue;
      const idx = Array.from({ length: b - a }, (_, k) => a + k).sort((x, y) => this.right[x] - this.right[y]);
      const r = idx.map((k) => this.right[k]);
      const k2 = idx.map((k) => this.ranks[k]);
      const m2 = idx.map((k) => this.made[k]);
      this.right.set(r, a);
      this.ranks.set(k2, a);
      this.made.set(m2, a);
    }
  }

  /** rank · 2^20 + the merged id, or -1 when the two symbols do not merge. */
  lookup(left: number, right: number): number {
    if (left < 0 || left + 1 >= this.start.length) return -1;
    let lo = this.start[left];
    let hi = this.start[left + 1];
    const rs = this.right;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const x = rs[mid];
      if (x < right) lo = mid + 1;
      else if (x > right) hi = mid;
      else return this.ranks[mid] * MERGE_ID_BITS + this.made[mid];
    }
    return -1;
  }

  /** Rank of the merge of two adjacent symbols, or -1. */
  rank(left: number, right: number): number {
    const m = this.lookup(left, right);
    return m < 0 ? -1 : Math.floor(m / MERGE_ID_BITS);
  }

  /** The right partners of a symbol (sorted ids) and their merge ranks. */
  partners(left: number): { readonly ids: Int32Array; readonly ranks: Int32Array } {
    const a = this.start[left];
    const b = this.start[left + 1];
    return { ids: this.right.subarray(a, b), ranks: this.ranks.subarray(a, b) };
  }
}

/** A byte string's spelling in the byte-level alphabet (the vocabulary's keys). */
export function spelling(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += BYTE_TO_CHAR[bytes[i]];
  return s;
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * BPE as the engine's computeWord does it, on the bytes a piece stands for: one symbol per byte (byte-level
 * vocabularies), or per character with byte fallback (SentencePiece-style: bytes as the text has them, a
 * space standing for `▁`).
 */
export class PieceBpe {
  readonly merges: MergeTable;
  private readonly byteToId = new Int32Array(256).fill(-1);
  private readonly fallbackIds = new Int32Array(256).fill(-1);
  private readonly wholeCache = new Map<string, Int32Array>();
  private readonly traceCache = new Map<string, BpeTrace>();
  private readonly chars: boolean;

  constructor(
    readonly cfg: EngineConfig,
    vocabSize: number,
  ) {
    this.chars = cfg.symbols === 'chars';
    this.merges = new MergeTable(cfg, vocabSize);
    for (let b = 0; b < 256; b++) {
      this.byteToId[b] = cfg.vocab.get(BYTE_TO_CHAR[b]) ?? -1;
      if (cfg.byteFallback) this.fallbackIds[b] = cfg.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`) ?? -1;
    }
  }

  /** The vocabulary id of a byte string (one token), if any. */
  idOf(bytes: Uint8Array, start = 0, end = bytes.length): number | undefined {
    if (!this.chars) return this.cfg.vocab.get(spelling(bytes, start, end));
    return this.cfg.vocab.get(decoder.decode(bytes.subarray(start, end)).replace(/ /g, '\u2581'));
  }

  /** The initial symbols of bytes[start, end) (whole characters in the chars mode). */
  symbols(bytes: Uint8Array, start = 0, end = bytes.length): number[] {
    const out: number[] = [];
    if (!this.chars) {
      for (let i = start; i < end; i++) out.push(this.byteToId[bytes[i]]);
      return out;
    }
    const text = decoder.decode(bytes.subarray(start, end));
    for (const ch of text) {
      const id = this.cfg.vocab.get(ch === ' ' ? '\u2581' : ch);
      if (id !== undefined) out.push(id);
      else {
        const b = new TextEncoder().encode(ch);
        for (const byte of b) out.push(this.fallbackIds[byte] >= 0 ? this.fallbackIds[byte] : this.cfg.unkId);
      }
    }
    return out;
  }

  /** Canonical tokens of the complete piece bytes[start, end): the whole-word rule, then merges. */
  encodeWhole(bytes: Uint8Array, start = 0, end = bytes.length): Int32Array {
    const key = latin1Key(bytes, start, end);
    const hit = this.wholeCache.get(key);
    if (hit) return hit;
    const whole = this.cfg.ignoreMerges ? this.idOf(bytes, start, end) : undefined;
    const out = whole !== undefined ? Int32Array.of(whole) : this.trace(bytes, start, end).tokens;
    if (this.wholeCache.size > 50_000) this.wholeCache.clear();
    this.wholeCache.set(key, out);
    return out;
  }

  /** Merges-only BPE of bytes[start, end). */
  encodeMerges(bytes: Uint8Array, start = 0, end = bytes.length): Int32Array {
    return this.trace(bytes, start, end).tokens;
  }

  /**
   * Merges-only BPE of bytes[start, end), recording how the first and the last symbol changed: the same
   * order as BpeMerger (lowest rank first, then leftmost), one merge at a time. Cached.
   */
  trace(bytes: Uint8Array, start = 0, end = bytes.length): BpeTrace {
    const key = latin1Key(bytes, start, end);
    const hit = this.traceCache.get(key);
    if (hit) return hit;
    const result = this.traceSymbols(this.symbols(bytes, start, end));
    if (this.traceCache.size > 50_000) this.traceCache.clear();
    this.traceCache.set(key, result);
    return result;
  }

  private traceSymbols(ids: number[]): BpeTrace {
    const n = ids.length;
    const M = this.merges;
    const firstIds = [ids[0]];
    const firstRanks = [-Infinity];
    const lastIds = [ids[n - 1]];
    const lastRanks = [-Infinity];
    const pair: number[] = [];
    for (let i = 0; i + 1 < ids.length; i++) pair.push(M.lookup(ids[i], ids[i + 1]));
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
      if (best > 0) pair[best - 1] = M.lookup(ids[best - 1], bestId);
      if (best < pair.length) pair[best] = M.lookup(bestId, ids[best + 1]);
      if (best === 0) {
        firstIds.push(bestId);
        firstRanks.push(bestRank);
      }
      if (best === ids.length - 1) {
        lastIds.push(bestId);
        lastRanks.push(bestRank);
      }
    }
    return {
      tokens: Int32Array.from(ids),
      first: { ids: Int32Array.from(firstIds), ranks: Float64Array.from(firstRanks) },
      last: { ids: Int32Array.from(lastIds), ranks: Float64Array.from(lastRanks) },
    };
  }

  /** Rank of the merge of two adjacent symbols, or -1. */
  rank(left: number, right: number): number {
    return this.merges.rank(left, right);
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
  constructor(
    readonly left: EdgeChain,
    private readonly merges: MergeTable,
  ) {}

  /** True when some merge crosses the boundary, given the right side's first-symbol chain. */
  crosses(right: EdgeChain): boolean {
    const last = this.left;
    const nj = last.ids.length;
    const nk = right.ids.length;
    for (let j = 0; j < nj; j++) {
      const rj = last.ranks[j];
      const rNext = j + 1 < nj ? last.ranks[j + 1] : Infinity;
      for (let k = 0; k < nk; k++) {
        const rho = right.ranks[k];
        if (rho >= rNext) break; // π_k and later appear only after σ_j is gone
        const mu = this.merges.rank(last.ids[j], right.ids[k]);
        if (mu < 0) continue;
        const e = Math.max(mu, rj, rho);
        const rhoNext = k + 1 < nk ? right.ranks[k + 1] : Infinity;
        if (e < rNext && e <= rhoNext) return true;
      }
    }
    return false;
  }
}

/** A symbol's right merge partners as an open-addressing table (id → rank), for hot loops. */
export class PartnerTable {
  readonly keys: Int32Array;
  readonly vals: Int32Array;
  readonly mask: number;

  constructor(partners: { readonly ids: Int32Array; readonly ranks: Int32Array }) {
    let cap = 8;
    while (cap < partners.ids.length * 2) cap *= 2;
    this.keys = new Int32Array(cap).fill(-1);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    for (let k = 0; k < partners.ids.length; k++) {
      let h = Math.imul(partners.ids[k], 0x9e3779b1) >>> 0;
      for (;;) {
        const slot = h & this.mask;
        if (this.keys[slot] < 0) {
          this.keys[slot] = partners.ids[k];
          this.vals[slot] = partners.ranks[k];
          break;
        }
        h++;
      }
    }
  }

  /** The merge rank with partner `id`, or -1. */
  get(id: number): number {
    let h = Math.imul(id, 0x9e3779b1) >>> 0;
    const keys = this.keys;
    for (;;) {
      const slot = h & this.mask;
      const k = keys[slot];
      if (k === id) return this.vals[slot];
      if (k < 0) return -1;
      h++;
    }
  }
}

/**
 * Per-token merges-only facts for the whole vocabulary, computed together on first use (one pass of BPE over
 * every token's own bytes, into flat arrays): whether BPE of its bytes gives the token back, and the chains
 * of its first and last symbols.
 */
export class TokenChains {
  private computed = false;
  private self!: Uint8Array;
  private firstStart!: Int32Array;
  private lastStart!: Int32Array;
  /** Every token's first-symbol chain, flat (ids and ranks): token t's is [firstStart[t], firstStart[t + 1]). */
  firstPoolIds!: Int32Array;
  firstPoolRanks!: Float64Array;
  private lastIds!: Int32Array;
  private lastRanks!: Float64Array;
  private readonly partnerTables = new Map<number, PartnerTable>();

  constructor(
    readonly bpe: PieceBpe,
    private readonly table: TokenTable,
  ) {}

  private compute(): void {
    if (this.computed) return;
    this.computed = true;
    const V = this.table.vocabSize;
    const M = this.bpe.merges;
    this.self = new Uint8Array(V);
    this.firstStart = new Int32Array(V + 1);
    this.lastStart = new Int32Array(V + 1);
    let fIds = new Int32Array(V * 3);
    let fRanks = new Float64Array(V * 3);
    let lIds = new Int32Array(V * 3);
    let lRanks = new Float64Array(V * 3);
    let fn = 0;
    let ln = 0;
    let ids = new Int32Array(64);
    let pair = new Float64Array(64);
    for (let t = 0; t < V; t++) {
      this.firstStart[t] = fn;
      this.lastStart[t] = ln;
      const b = this.table.bytes[t];
      if (!this.table.usable[t] || b.length === 0) continue;
      const sym = this.bpe.symbols(b);
      let n = sym.length;
      if (n === 0) continue;
      if (ids.length < n) {
        ids = new Int32Array(n * 2);
        pair = new Float64Array(n * 2);
      }
      for (let k = 0; k < n; k++) ids[k] = sym[k];
      if (fn + 2 * n + 2 > fIds.length) {
        const grow = <A extends Int32Array | Float64Array>(a: A, make: (k: number) => A): A => {
          const c = make(a.length * 2);
          c.set(a);
          return c;
        };
        fIds = grow(fIds, (k) => new Int32Array(k));
        fRanks = grow(fRanks, (k) => new Float64Array(k));
      }
      if (ln + 2 * n + 2 > lIds.length) {
        const li = new Int32Array(lIds.length * 2);
        li.set(lIds);
        lIds = li;
        const lr = new Float64Array(lRanks.length * 2);
        lr.set(lRanks);
        lRanks = lr;
      }
      fIds[fn] = ids[0];
      fRanks[fn++] = -Infinity;
      lIds[ln] = ids[n - 1];
      lRanks[ln++] = -Infinity;
      for (let k = 0; k + 1 < n; k++) pair[k] = M.lookup(ids[k], ids[k + 1]);
      for (;;) {
        let best = -1;
        let bestRank = Infinity;
        for (let k = 0; k + 1 < n; k++) {
          const m = pair[k];
          if (m < 0) continue;
          const rank = Math.floor(m / MERGE_ID_BITS);
          if (rank < bestRank) {
            bestRank = rank;
            best = k;
          }
        }
        if (best < 0) break;
        const made = pair[best] % MERGE_ID_BITS;
        ids[best] = made;
        for (let k = best + 1; k + 1 < n; k++) {
          ids[k] = ids[k + 1];
          pair[k] = pair[k + 1];
        }
        n--;
        if (best > 0) pair[best - 1] = M.lookup(ids[best - 1], made);
        if (best + 1 < n) pair[best] = M.lookup(made, ids[best + 1]);
        if (best === 0) {
          fIds[fn] = made;
          fRanks[fn++] = bestRank;
        }
        if (best === n - 1) {
          lIds[ln] = made;
          lRanks[ln++] = bestRank;
        }
      }
      if (n === 1 && ids[0] === t) this.self[t] = 1;
    }
    this.firstStart[V] = fn;
    this.lastStart[V] = ln;
    this.firstPoolIds = fIds.slice(0, fn);
    this.firstPoolRanks = fRanks.slice(0, fn);
    this.lastIds = lIds.slice(0, ln);
    this.lastRanks = lRanks.slice(0, ln);
  }

  /** The chains of a token's first and last symbols (views into the flat arrays). */
  first(id: number): EdgeChain {
    this.compute();
    const a = this.firstStart[id];
    const b = this.firstStart[id + 1];
    return { ids: this.firstPoolIds.subarray(a, b), ranks: this.firstPoolRanks.subarray(a, b) };
  }

  last(id: number): EdgeChain {
    this.compute();
    const a = this.lastStart[id];
    const b = this.lastStart[id + 1];
    return { ids: this.lastIds.subarray(a, b), ranks: this.lastRanks.subarray(a, b) };
  }

  /** Offset of the token's first chain in firstPoolIds / firstPoolRanks (its length: firstLength). */
  firstOffset(id: number): number {
    this.compute();
    return this.firstStart[id];
  }

  firstLength(id: number): number {
    return this.firstStart[id + 1] - this.firstStart[id];
  }

  private trie: FirstChainTrie | undefined;

  /** The first chains as a trie, for the boundary test over the whole vocabulary at once (built on first use). */
  firstTrie(): FirstChainTrie {
    this.compute();
    this.trie ??= new FirstChainTrie(this.firstStart, this.firstPoolIds, this.firstPoolRanks, this.table.vocabSize);
    return this.trie;
  }

  /** A symbol's merge partners as a hash table (cached for the most recent symbols). */
  partnerTable(sigma: number): PartnerTable {
    let t = this.partnerTables.get(sigma);
    if (!t) {
      t = new PartnerTable(this.bpe.merges.partners(sigma));
      if (this.partnerTables.size >= 4096) this.partnerTables.delete(this.partnerTables.keys().next().value as number);
      this.partnerTables.set(sigma, t);
    }
    return t;
  }

  /** Merges-only BPE of the token's own bytes gives the token back. */
  mergesSelf(id: number): boolean {
    this.compute();
    return this.self[id] === 1;
  }

  /** The boundary test with `left` on the left. */
  crossingsAfter(left: EdgeChain): BoundaryCrossings {
    return new BoundaryCrossings(left, this.bpe.merges);
  }
}
