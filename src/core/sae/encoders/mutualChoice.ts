/**
 * Mutual Choice: the k·n largest entries of the whole token × feature matrix (ties: the lower (token, feature)
 * index); the document shares one budget, so tokens get different numbers of features.
 */
import { SaeError } from '../errors';
import { BestHeaps, MAX_KEPT_ENTRIES } from './bestHeaps';
import { defineEncoder, type EncoderRun } from './definition';
import type { SelectedEntries } from './selectedEntries';

/** One heap of k·n entries keyed by t·F + f, emptied into the selection at the end. */
class MutualChoiceRun implements EncoderRun {
  private readonly heap: BestHeaps;
  constructor(
    private readonly selected: SelectedEntries,
    private readonly dSae: number,
    budget: number,
  ) {
    this.heap = new BestHeaps(1, budget);
  }
  take(pre: Float32Array, width: number, valid: number, t0: number, count: number, f0: number): void {
    const heap = this.heap;
    const F = this.dSae;
    for (let i = 0; i < count; i++) {
      const o = i * width;
      const keyBase = (t0 + i) * F + f0;
      for (let c = 0; c < valid; c++) heap.offer(0, pre[o + c], keyBase + c);
    }
  }
  drain(): void {
    const heap = this.heap;
    const F = this.dSae;
    for (let e = 0; e < heap.sizes[0]; e++) {
      const key = heap.keys[e];
      const v = heap.values[e];
      const t = Math.floor(key / F);
      this.selected.push(t, key - t * F, v > 0 ? v : 0);
    }
  }
}

/** An empty document: nothing to keep (a heap of capacity 0 has no root to compare with). */
const NOTHING: EncoderRun = { take: () => undefined };

export const mutualChoice = defineEncoder({
  id: 'mutual-choice',
  label: 'Mutual Choice',
  budgetHint: 'k·n in all',
  help: 'the k·n strongest (token, feature) entries of the whole document',
  budgets: { k: "the SAE's own k" },
  plan(sae, tokenCount, { k }) {
    if (k === undefined) throw new SaeError(`the mutual-choice encoder needs k (this ${sae.architecture} SAE has no k of its own)`);
    const budget = Math.min(k * tokenCount, tokenCount * sae.dSae);
    if (budget > MAX_KEPT_ENTRIES) throw new SaeError(`mutual-choice with k = ${k} over ${tokenCount} tokens keeps ${budget} entries; at most ${MAX_KEPT_ENTRIES} are kept: lower k or encode fewer tokens`);
    return { k, budget };
  },
  start: (plan, context) => ((plan.budget as number) > 0 ? new MutualChoiceRun(context.selected, context.dSae, plan.budget as number) : NOTHING),
});
