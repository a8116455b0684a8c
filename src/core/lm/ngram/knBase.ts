/**
 * P_1, the lowest-order Kneser-Ney distribution, pre-sorted once per view so that rank, entropy and top-k of
 * any context cost O(|followers| + log V) instead of O(V) (docs/ALGORITHMS.md#rank-entropy-and-top-k).
 * Ids with a continuation count of their own are sorted by probability; all others share `restProbability`.
 */
import { plogp, type BaseDistribution } from '../model';

export class KnBase implements BaseDistribution {
  readonly size: number;
  readonly sortedIds: Int32Array;
  readonly sortedProbs: Float64Array;
  readonly restProbability: number;
  readonly restCount: number;
  readonly entropyNats: number;
  private readonly probs: Float64Array;
  private readonly own: Uint8Array;

  constructor(size: number, typeIds: number[], typeProbs: number[], rest: number) {
    this.size = size;
    this.restProbability = rest;
    this.probs = new Float64Array(size).fill(rest);
    this.own = new Uint8Array(size);
    const idx = typeIds.map((_, i) => i).sort((a, b) => typeProbs[b] - typeProbs[a] || typeIds[a] - typeIds[b]);
    this.sortedIds = Int32Array.from(idx.map((i) => typeIds[i]));
    this.sortedProbs = Float64Array.from(idx.map((i) => typeProbs[i]));
    let h = 0;
    for (let i = 0; i < typeIds.length; i++) {
      this.probs[typeIds[i]] = typeProbs[i];
      this.own[typeIds[i]] = 1;
      h -= plogp(typeProbs[i]);
    }
    this.restCount = size - typeIds.length;
    h -= this.restCount * plogp(rest);
    this.entropyNats = h;
  }

  prob(id: number): number {
    return id >= 0 && id < this.size ? this.probs[id] : 0;
  }

  hasOwn(id: number): boolean {
    return this.own[id] === 1;
  }

  /** Number of ids with probability strictly greater than p. */
  countAbove(p: number): number {
    const s = this.sortedProbs;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid] > p) lo = mid + 1;
      else hi = mid;
    }
    return lo + (this.restProbability > p ? this.restCount : 0);
  }
}
