/**
 * Every token's first-symbol chain (TokenChains) as a trie, laid out so that the tokens that cross a boundary
 * after a given head are a few ranges of one array: the boundary test of BoundaryCrossings run for the whole
 * vocabulary at once, in time proportional to the head's merge partners instead of to the vocabulary.
 *
 * BoundaryCrossings applies a crossing pair (σ_j, π_k) with merge rank μ iff every chain element up to π_k was
 * made before r_{j+1} (its loop stops at the first that is not), E = max(μ, r_j, ρ_k) < r_{j+1}, and
 * E ≤ ρ_{k+1} (+∞ when π_k ends the chain). Tokens whose chains share their first k + 1 elements share a trie
 * node n, and the first two conditions depend on n alone (its symbol π_k, its rank ρ_k and the largest rank on
 * its path). The third depends on the next element only: the tokens whose chain ends at n, and those below
 * the children of n made at rank ≥ E. Laid out depth first, own tokens first, children by rank descending,
 * those tokens are one range: [lo(n), end of the last child with rank ≥ E).
 */
export class FirstChainTrie {
  /** Each token's place in the layout (-1: no chain). */
  readonly position: Int32Array;
  /** Number of places (tokens with a chain). */
  readonly size: number;
  private readonly nodeRank: Float64Array;
  private readonly nodeMaxRank: Float64Array;
  private readonly nodeLo: Int32Array;
  private readonly nodeOwnEnd: Int32Array;
  private readonly childStart: Int32Array;
  private readonly childRank: Float64Array;
  private readonly childEnd: Int32Array;
  /** The nodes holding each symbol (CSR over symbol ids). */
  private readonly bySymbolStart: Int32Array;
  private readonly bySymbol: Int32Array;

  /** `start[t]..start[t + 1]` index token t's chain in `ids` / `ranks`. */
  constructor(start: Int32Array, ids: Int32Array, ranks: Float64Array, symbolCount: number) {
    const V = start.length - 1;
    // Build: node 0 is the root; a child is found by (parent, symbol) (the pair fixes the rank: one merge).
    const key = (parent: number, symbol: number): number => parent * 0x100000000 + symbol;
    const childOf = new Map<number, number>();
    const parentOf: number[] = [-1];
    const symbolOf: number[] = [-1];
    const rankOf: number[] = [-Infinity];
    const endsAt = new Int32Array(V).fill(-1);
    for (let t = 0; t < V; t++) {
      let n = 0;
      for (let k = start[t]; k < start[t + 1]; k++) {
        const kk = key(n, ids[k]);
        let c = childOf.get(kk);
        if (c === undefined) {
          c = parentOf.length;
          parentOf.push(n);
          symbolOf.push(ids[k]);
          rankOf.push(ranks[k]);
          childOf.set(kk, c);
        }
        n = c;
      }
      if (n > 0) endsAt[t] = n;
    }
    const N = parentOf.length;
    const children: number[][] = Array.from({ length: N }, () => []);
    for (let n = 1; n < N; n++) children[parentOf[n]].push(n);
    const own: number[][] = Array.from({ length: N }, () => []);
    for (let t = 0; t < V; t++) if (endsAt[t] > 0) own[endsAt[t]].push(t);
    this.nodeRank = Float64Array.from(rankOf);
    this.nodeMaxRank = new Float64Array(N);
    this.nodeLo = new Int32Array(N);
    this.nodeOwnEnd = new Int32Array(N);
    this.childStart = new Int32Array(N + 1);
    this.childRank = new Float64Array(N);
    this.childEnd = new Int32Array(N);
    this.position = new Int32Array(V).fill(-1);
    for (let n = 0; n < N; n++) {
      children[n].sort((a, b) => rankOf[b] - rankOf[a]);
      this.childStart[n + 1] = this.childStart[n] + children[n].length;
    }
    // Depth first without recursion (chains can be long): enter a node, place its own tokens, then its children.
    let placed = 0;
    const stack: number[] = [0];
    const nextChild = new Int32Array(N);
    this.nodeMaxRank[0] = -Infinity;
    while (stack.length) {
      const n = stack[stack.length - 1];
      if (nextChild[n] === 0) {
        this.nodeLo[n] = placed;
        for (const t of own[n]) this.position[t] = placed++;
        this.nodeOwnEnd[n] = placed;
      }
      const cs = children[n];
      if (nextChild[n] > 0) this.childEnd[this.childStart[n] + nextChild[n] - 1] = placed;
      if (nextChild[n] < cs.length) {
        const c = cs[nextChild[n]];
        this.childRank[this.childStart[n] + nextChild[n]] = rankOf[c];
        this.nodeMaxRank[c] = Math.max(this.nodeMaxRank[n], rankOf[c]);
        nextChild[n]++;
        stack.push(c);
      } else stack.pop();
    }
    this.size = placed;
    if (placed >= PACK) throw new Error(`first-chain trie: ${placed} tokens exceed the layout bound`);
    const count = new Int32Array(symbolCount + 1);
    for (let n = 1; n < N; n++) count[symbolOf[n] + 1]++;
    for (let s = 0; s < symbolCount; s++) count[s + 1] += count[s];
    this.bySymbolStart = count;
    this.bySymbol = new Int32Array(count[symbolCount]);
    const fill = count.slice(0, symbolCount);
    for (let n = 1; n < N; n++) this.bySymbol[fill[symbolOf[n]]++] = n;
  }

  /**
   * The layout places of the tokens whose boundary after a head with last chain `last` does not survive, as
   * sorted disjoint ranges [lo, hi) flattened (lo0, hi0, lo1, hi1, …); `partners(σ)` gives σ's right merge
   * partners and their ranks.
   */
  crossing(last: { readonly ids: Int32Array; readonly ranks: Float64Array }, partners: (sigma: number) => { readonly ids: Int32Array; readonly ranks: Int32Array }): Int32Array {
    const found: number[] = [];
    const J = last.ids.length;
    for (let j = 0; j < J; j++) {
      const rj = last.ranks[j];
      const rNext = j + 1 < J ? last.ranks[j + 1] : Infinity;
      const p = partners(last.ids[j]);
      for (let q = 0; q < p.ids.length; q++) {
        const mu = p.ranks[q];
        if (mu >= rNext) continue;
        const s = p.ids[q];
        if (s >= this.bySymbolStart.length - 1) continue;
        for (let x = this.bySymbolStart[s]; x < this.bySymbolStart[s + 1]; x++) {
          const n = this.bySymbol[x];
          if (this.nodeMaxRank[n] >= rNext) continue;
          const rho = this.nodeRank[n];
          const e = mu > rj ? (mu > rho ? mu : rho) : rj > rho ? rj : rho;
          if (e >= rNext) continue;
          let hi = this.nodeOwnEnd[n];
          for (let c = this.childStart[n]; c < this.childStart[n + 1] && this.childRank[c] >= e; c++) hi = this.childEnd[c];
          if (hi > this.nodeLo[n]) found.push(this.nodeLo[n], hi);
        }
      }
    }
    return mergeRanges(found);
  }
}

/** Flattened ranges [lo, hi), in any order and overlapping, as sorted disjoint ones. */
function mergeRanges(flat: number[]): Int32Array {
  // Places are below 2^26: each range packed in one double sorts by lo without a comparator.
  const packed = new Float64Array(flat.length / 2);
  for (let k = 0; k < packed.length; k++) packed[k] = flat[2 * k] * PACK + flat[2 * k + 1];
  packed.sort();
  const out: number[] = [];
  for (let k = 0; k < packed.length; k++) {
    const lo = Math.floor(packed[k] / PACK);
    const hi = packed[k] - lo * PACK;
    if (out.length && lo <= out[out.length - 1]) out[out.length - 1] = Math.max(out[out.length - 1], hi);
    else out.push(lo, hi);
  }
  return Int32Array.from(out);
}

const PACK = 2 ** 26;

/** Whether place `at` lies in one of the sorted disjoint flattened ranges. */
export function inRanges(ranges: Int32Array, at: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[2 * mid + 1] <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo < ranges.length / 2 && ranges[2 * lo] <= at;
}
