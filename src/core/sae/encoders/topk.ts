/** TopK: each token selects its k largest pre-activations (ties: the lower feature index). */
import { SaeError } from '../errors';
import { BestHeaps } from './bestHeaps';
import { defineEncoder, type EncoderBudgets, type EncoderRun } from './definition';
import type { SelectedEntries } from './selectedEntries';

/** TopK keeps k entries per token of a block: the block shrinks for very large k. */
const MAX_BLOCK_ENTRIES = 2 ** 22;

/** A k-heap per token of the block, emptied into the selection at the block's end. */
class TopKRun implements EncoderRun {
  private readonly heaps: BestHeaps;
  constructor(
    private readonly selected: SelectedEntries,
    blockTokens: number,
    k: number,
  ) {
    this.heaps = new BestHeaps(blockTokens, k);
  }
  take(pre: Float32Array, width: number, valid: number, _t0: number, count: number, f0: number): void {
    const heaps = this.heaps;
    for (let i = 0; i < count; i++) {
      const o = i * width;
      for (let c = 0; c < valid; c++) heaps.offer(i, pre[o + c], f0 + c);
    }
  }
  endBlock(t0: number, count: number): void {
    const heaps = this.heaps;
    const cap = heaps.capacity;
    for (let i = 0; i < count; i++) {
      for (let e = 0; e < heaps.sizes[i]; e++) {
        const v = heaps.values[i * cap + e];
        this.selected.push(t0 + i, heaps.keys[i * cap + e], v > 0 ? v : 0);
      }
    }
    heaps.reset();
  }
}

export const topk = defineEncoder({
  id: 'topk',
  label: 'TopK',
  budgetHint: 'k per token',
  help: 'the k strongest features of each token',
  budgets: { k: "the SAE's own k" },
  plan(sae, _tokenCount, { k }) {
    if (k === undefined) throw new SaeError(`the topk encoder needs k (this ${sae.architecture} SAE has none of its own)`);
    return { k };
  },
  maxBlockTokens: (plan: EncoderBudgets) => Math.floor(MAX_BLOCK_ENTRIES / (plan.k as number)),
  start: (plan, context) => new TopKRun(context.selected, context.blockTokens, plan.k as number),
});
