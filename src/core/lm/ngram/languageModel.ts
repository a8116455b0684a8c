/**
 * A view of an NgramModel as a LanguageModel: interpolated Kneser-Ney (Chen & Goodman 1998, one discount per
 * order) over the tables, with one training document's counts subtracted when it leaves one out
 * (docs/ALGORITHMS.md#the-workspace-n-gram). For a history h of N-1 symbols:
 *   P_N(w|h)  = max(c(hw) - D_N, 0) / c(h·)        + D_N · N1+(h·) / c(h·)        · P_{N-1}(w|h')
 *   P_k(w|g)  = max(N1+(·gw) - D_k, 0) / N1+(·g·)   + D_k · N1+(g·) / N1+(·g·)     · P_{k-1}(w|g')   (1 < k < N)
 *   P_1(w)    = max(N1+(·w) - D_1, 0) / N1+(··)     + D_1 · N1+(•) / N1+(··)       · 1/(V+1)
 * where h' drops the oldest symbol, c are raw counts, N1+(·gw) the number of distinct symbols seen before gw
 * (continuation counts; BOS counts as one), N1+(g·) the number of distinct w that follow g, and a context never
 * seen is skipped (its level contributes nothing and passes its whole weight down). The top level uses raw
 * counts, every lower level continuation counts, also when it is the longest context found.
 *
 * The model predicts V + 1 ids: the tokenizer's and END = V (its end-of-text id).
 */
import type { LanguageModel } from '../model';
import { NgramDistribution, type ActiveLevel } from './distribution';
import { KnBase } from './knBase';
import { overlaidCount, type Overlay } from './leaveOneOut';
import type { NgramModel } from './model';
import { bosSymbol } from './tables';

export const NGRAM_MODEL_ID = 'workspace-ngram';

export class NgramLanguageModel implements LanguageModel {
  readonly id = NGRAM_MODEL_ID;
  readonly description: string;
  readonly vocabSize: number;
  readonly endOfTextId: number;
  readonly contextTokens: number;
  private baseCache: KnBase | undefined;

  constructor(
    readonly model: NgramModel,
    private readonly overlay: Overlay | undefined,
  ) {
    this.vocabSize = model.vocabSize + 1;
    this.endOfTextId = model.vocabSize;
    this.contextTokens = model.order - 1;
    const st = model.stats();
    this.description = `token ${model.order}-gram, interpolated Kneser-Ney, ${st.documents} files, ${st.tokens} tokens${overlay ? ', this file left out' : ''}`;
  }

  /** True when this view leaves a document out. */
  get leavesOut(): boolean {
    return this.overlay !== undefined;
  }

  rawCount(node: number): number {
    return overlaidCount(this.overlay, 'raw', this.model.tables.raw, node);
  }

  contCount(node: number): number {
    return overlaidCount(this.overlay, 'cont', this.model.tables.cont, node);
  }

  /** The count a level of order k reads for a node: raw at the top order, continuation below. */
  levelCount(node: number, order: number): number {
    return order === this.model.order ? this.rawCount(node) : this.contCount(node);
  }

  private denomOf(node: number): number {
    return this.overlay?.denom.get(node) ?? this.model.tables.denom[node];
  }

  private followersOf(node: number): number {
    return this.overlay?.followers.get(node) ?? this.model.tables.followers[node];
  }

  /** P_1, the unigram Kneser-Ney distribution of this view. */
  get base(): KnBase {
    if (this.baseCache) return this.baseCache;
    const t = this.model.tables;
    const size = this.vocabSize;
    const D = t.discounts[0];
    const denom = this.denomOf(0);
    const follow = this.followersOf(0);
    const typeIds: number[] = [];
    const typeProbs: number[] = [];
    let rest: number;
    if (denom === 0) {
      rest = 1 / size;
    } else {
      rest = (D * follow) / denom / size;
      for (let c = t.firstChild[0]; c < t.firstChild[1]; c++) {
        const s = t.sym[c];
        if (s >= size) continue; // BOS
        const n = this.levelCount(c, 1);
        if (n <= 0) continue;
        typeIds.push(s);
        typeProbs.push(Math.max(n - D, 0) / denom + rest);
      }
    }
    this.baseCache = new KnBase(size, typeIds, typeProbs, rest);
    return this.baseCache;
  }

  /** Context nodes for levels N..2 (index = order of the predicted n-gram), -1 where unseen. */
  private contextNodes(context: Uint32Array): Int32Array {
    const N = this.model.order;
    const nodes = new Int32Array(N + 1).fill(-1);
    const L = context.length;
    const bos = bosSymbol(this.model.vocabSize);
    // Level k conditions on the last k-1 symbols (BOS before the text's start).
    for (let k = 2; k <= N; k++) {
      let node = 0;
      for (let j = k - 1; j >= 1 && node >= 0; j--) {
        const pos = L - j;
        const s = pos >= 0 ? context[pos] : bos;
        node = this.model.child(node, s);
      }
      nodes[k] = node;
    }
    nodes[1] = 0;
    return nodes;
  }

  nextDistribution(context: Uint32Array): NgramDistribution {
    const N = this.model.order;
    const t = this.model.tables;
    const nodes = this.contextNodes(context.length > N - 1 ? context.subarray(context.length - (N - 1)) : context);
    const levels: ActiveLevel[] = [];
    let weight = 1;
    for (let k = N; k >= 2; k--) {
      const node = nodes[k];
      if (node < 0) continue;
      const denom = this.denomOf(node);
      if (denom <= 0) continue;
      const D = t.discounts[k - 1];
      levels.push({ node, order: k, discount: D, denom, scale: weight / denom });
      weight *= (D * this.followersOf(node)) / denom;
    }
    return new NgramDistribution(this, levels, weight);
  }

  /** Count of the follower `sym` of a context node at a level, 0 if unseen. */
  followerCount(node: number, order: number, sym: number): number {
    const c = this.model.child(node, sym);
    return c < 0 ? 0 : this.levelCount(c, order);
  }
}
