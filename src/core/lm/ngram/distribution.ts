/**
 * The next-token distribution after one context, with rank, entropy and top-k without O(vocabulary) work
 * (docs/ALGORITHMS.md#rank-entropy-and-top-k).
 *
 * For a context, P(w) = Σ_{k≥2} W_k·α_k(w) + W_1·P_1(w), where α_k(w) is level k's discounted term (non-zero
 * only for the followers of its context), W_k the product of the interpolation weights above level k. So
 * outside S = the union of the followers of the context's levels k ≥ 2 (a sparse set), P(w) = W_1·P_1(w): a
 * fixed base distribution scaled. The base P_1 is pre-sorted once (KnBase).
 *   rank(w)    = 1 + #{v ∈ S: P(v) > p} + #{v: P_1(v) > p/W_1} − #{v ∈ S: P_1(v) > p/W_1}
 *                (the middle count is a binary search in the sorted base)
 *   entropy    = −Σ_{v∈S} P(v) ln P(v) − [Σ_all f(W_1 P_1(v)) − Σ_{v∈S} f(W_1 P_1(v))],  f(p) = p ln p,
 *                with Σ_all f(W_1 P_1(v)) = W_1 ln W_1 − W_1·H(P_1)   (since Σ P_1 = 1)
 *   top-k      = the best of S and of the first k + |S| ids of the sorted base.
 * All exact, O(|S| + log V) per position.
 */
import { indexInSorted } from '../../sortedSearch';
import { plogp, type BaseDistribution, type DistributionForm, type NextTokenDistribution, type TokenAlternative } from '../model';
import type { NgramLanguageModel } from './languageModel';

/** One level of the interpolation for a context: its node and the factors that apply to its followers. */
export interface ActiveLevel {
  readonly node: number;
  /** Order of the predicted n-grams (context length + 1). */
  readonly order: number;
  readonly discount: number;
  readonly denom: number;
  /** W_k / denom: multiplies max(count - D, 0). */
  readonly scale: number;
}

/** Probabilities computed along different paths differ in the last bits; rank allows for it. */
const RANK_TOLERANCE = 1e-12;

export class NgramDistribution implements NextTokenDistribution {
  readonly vocabSize: number;
  private sparseIds: Int32Array | undefined;
  private sparseProbs: Float64Array | undefined;
  private entropy: number | undefined;

  constructor(
    private readonly lm: NgramLanguageModel,
    private readonly levels: readonly ActiveLevel[],
    /** W_1: the weight of the base distribution P_1. */
    readonly baseWeight: number,
  ) {
    this.vocabSize = lm.vocabSize;
  }

  get base(): BaseDistribution {
    return this.lm.base;
  }

  prob(id: number): number {
    if (id < 0 || id >= this.vocabSize) return 0;
    let p = this.baseWeight * this.lm.base.prob(id);
    for (const lv of this.levels) {
      const n = this.lm.followerCount(lv.node, lv.order, id);
      if (n > lv.discount) p += (n - lv.discount) * lv.scale;
    }
    return p;
  }

  logProb(id: number): number {
    return Math.log(this.prob(id));
  }

  /** The sparse set S (ascending ids) and each member's probability. */
  private sparse(): [Int32Array, Float64Array] {
    if (this.sparseIds && this.sparseProbs) return [this.sparseIds, this.sparseProbs];
    // Each level's followers are contiguous and sorted by symbol (the CSR layout): merge the lists.
    const t = this.lm.model.tables;
    const L = this.levels.length;
    const pos = new Int32Array(L);
    const end = new Int32Array(L);
    let total = 0;
    for (let l = 0; l < L; l++) {
      pos[l] = t.firstChild[this.levels[l].node];
      end[l] = t.firstChild[this.levels[l].node + 1];
      total += end[l] - pos[l];
    }
    const ids = new Int32Array(total);
    const acc = new Float64Array(total);
    let n = 0;
    const V = this.vocabSize;
    for (;;) {
      let sym = Infinity;
      for (let l = 0; l < L; l++) if (pos[l] < end[l] && t.sym[pos[l]] < sym) sym = t.sym[pos[l]];
      if (sym === Infinity || sym >= V) break;
      let add = 0;
      let any = false;
      for (let l = 0; l < L; l++) {
        if (pos[l] >= end[l] || t.sym[pos[l]] !== sym) continue;
        const lv = this.levels[l];
        const c = this.lm.levelCount(pos[l], lv.order);
        if (c > 0) {
          any = true;
          if (c > lv.discount) add += (c - lv.discount) * lv.scale;
        }
        pos[l]++;
      }
      if (!any) continue;
      ids[n] = sym;
      acc[n] = add;
      n++;
    }
    const base = this.lm.base;
    const outIds = ids.slice(0, n);
    const probs = new Float64Array(n);
    for (let i = 0; i < n; i++) probs[i] = acc[i] + this.baseWeight * base.prob(outIds[i]);
    this.sparseIds = outIds;
    this.sparseProbs = probs;
    return [outIds, probs];
  }

  rank(id: number): number {
    // "Strictly greater" allows for rounding, so ids of equal probability (all unseen ids share one) share
    // the rank.
    const p = this.prob(id) * (1 + RANK_TOLERANCE);
    const [ids, probs] = this.sparse();
    const base = this.lm.base;
    let r = 1;
    for (let i = 0; i < ids.length; i++) if (probs[i] > p) r++;
    if (this.baseWeight > 0) {
      const theta = p / this.baseWeight;
      r += base.countAbove(theta);
      for (let i = 0; i < ids.length; i++) if (base.prob(ids[i]) > theta) r--;
    }
    return r;
  }

  get entropyNats(): number {
    if (this.entropy !== undefined) return this.entropy;
    const [ids, probs] = this.sparse();
    const w = this.baseWeight;
    const base = this.lm.base;
    let h = 0;
    for (let i = 0; i < probs.length; i++) h -= plogp(probs[i]);
    if (w > 0) {
      // Σ over ids outside S of f(w·P_1) = Σ_all f(w·P_1) − Σ_S f(w·P_1); Σ_all = w ln w − w·H(P_1).
      let all = w * Math.log(w) - w * base.entropyNats;
      for (let i = 0; i < ids.length; i++) all -= plogp(w * base.prob(ids[i]));
      h -= all;
    }
    this.entropy = Math.max(0, h);
    return this.entropy;
  }

  top(k: number): TokenAlternative[] {
    if (k <= 0) return [];
    const [ids, probs] = this.sparse();
    // The best k of: S, and the first ids of the sorted base that are not in S (then ids sharing the rest).
    const bestP = new Float64Array(k).fill(-1);
    const bestId = new Int32Array(k).fill(-1);
    const offer = (id: number, p: number): void => {
      // Keep bestP descending (ties: smaller id first).
      if (p < bestP[k - 1] || (p === bestP[k - 1] && id > bestId[k - 1])) return;
      let j = k - 1;
      while (j > 0 && (p > bestP[j - 1] || (p === bestP[j - 1] && id < bestId[j - 1]))) {
        bestP[j] = bestP[j - 1];
        bestId[j] = bestId[j - 1];
        j--;
      }
      bestP[j] = p;
      bestId[j] = id;
    };
    for (let i = 0; i < ids.length; i++) offer(ids[i], probs[i]);
    const base = this.lm.base;
    let taken = 0;
    for (let i = 0; i < base.sortedIds.length && taken < k; i++) {
      const id = base.sortedIds[i];
      if (indexInSorted(ids, id) >= 0) continue;
      offer(id, this.baseWeight * base.sortedProbs[i]);
      taken++;
    }
    for (let id = 0; taken < k && id < this.vocabSize; id++) {
      if (base.hasOwn(id) || indexInSorted(ids, id) >= 0) continue;
      offer(id, this.baseWeight * base.restProbability);
      taken++;
    }
    const out: TokenAlternative[] = [];
    for (let j = 0; j < k && bestId[j] >= 0; j++) out.push({ id: bestId[j], logProb: Math.log(bestP[j]) });
    return out;
  }

  form(): DistributionForm {
    const [ids, probs] = this.sparse();
    return { kind: 'sparse', ids, probs, baseWeight: this.baseWeight, base: this.lm.base };
  }
}
