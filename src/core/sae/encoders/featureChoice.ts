/**
 * Feature Choice: each feature selects its m largest pre-activations over the document (ties: the lower token
 * index), m = max(1, ⌈k·n/F⌉) unless given; so a token gets as many features as chose it.
 */
import { SaeError } from '../errors';
import { BestHeaps, MAX_KEPT_ENTRIES } from './bestHeaps';
import { defineEncoder, type EncoderRun } from './definition';
import type { SelectedEntries } from './selectedEntries';

/** An m-heap per feature over the whole document, emptied into the selection at the end. */
class FeatureChoiceRun implements EncoderRun {
  private readonly heaps: BestHeaps;
  constructor(
    private readonly selected: SelectedEntries,
    private readonly dSae: number,
    m: number,
  ) {
    this.heaps = new BestHeaps(dSae, m);
  }
  take(pre: Float32Array, width: number, valid: number, t0: number, count: number, f0: number): void {
    const heaps = this.heaps;
    for (let i = 0; i < count; i++) {
      const o = i * width;
      for (let c = 0; c < valid; c++) heaps.offer(f0 + c, pre[o + c], t0 + i);
    }
  }
  drain(): void {
    const heaps = this.heaps;
    const cap = heaps.capacity;
    for (let f = 0; f < this.dSae; f++) {
      for (let e = 0; e < heaps.sizes[f]; e++) {
        const v = heaps.values[f * cap + e];
        this.selected.push(heaps.keys[f * cap + e], f, v > 0 ? v : 0);
      }
    }
  }
}

export const featureChoice = defineEncoder({
  id: 'feature-choice',
  label: 'Feature Choice',
  budgetHint: 'm tokens per feature',
  help: 'each feature picks its m strongest tokens of the document',
  budgets: { k: "the SAE's own k", m: 'max(1, ⌈k·n/F⌉)' },
  plan(sae, tokenCount, { k, m }) {
    if (k === undefined && m === undefined) throw new SaeError(`the feature-choice encoder needs k or m (this ${sae.architecture} SAE has no k of its own)`);
    const F = sae.dSae;
    const mm = Math.min(m ?? Math.max(1, Math.ceil(((k as number) * tokenCount) / F)), Math.max(1, tokenCount));
    if (mm * F > MAX_KEPT_ENTRIES) throw new SaeError(`feature-choice with m = ${mm} keeps ${mm * F} entries (${F} features × m); at most ${MAX_KEPT_ENTRIES} are kept: lower m or k`);
    return { k, m: mm };
  },
  start: (plan, context) => new FeatureChoiceRun(context.selected, context.dSae, plan.m as number),
});
