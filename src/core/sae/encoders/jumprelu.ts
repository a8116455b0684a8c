/** JumpReLU: token t selects feature f when its pre-activation is above the feature's threshold θ_f. */
import { SaeError } from '../errors';
import { defineEncoder, type EncoderRun } from './definition';
import type { SelectedEntries } from './selectedEntries';

class JumpReluRun implements EncoderRun {
  constructor(
    private readonly selected: SelectedEntries,
    private readonly threshold: Float32Array,
  ) {}
  take(pre: Float32Array, width: number, valid: number, t0: number, count: number, f0: number): void {
    const selected = this.selected;
    const th = this.threshold;
    for (let i = 0; i < count; i++) {
      const o = i * width;
      for (let c = 0; c < valid; c++) {
        const v = pre[o + c];
        // A negative θ can select a negative pre-activation: its activation is the ReLU's 0.
        if (v > th[f0 + c]) selected.push(t0 + i, f0 + c, v > 0 ? v : 0);
      }
    }
  }
}

export const jumprelu = defineEncoder({
  id: 'jumprelu',
  label: 'JumpReLU',
  help: "above each feature's threshold",
  budgets: {},
  plan(sae) {
    if (!sae.threshold) throw new SaeError(`${sae.path}: the jumprelu encoder needs per-feature thresholds, and this ${sae.architecture} SAE has none`);
    return {};
  },
  start(_plan, context) {
    if (!context.threshold) throw new SaeError('internal: jumprelu started without thresholds');
    return new JumpReluRun(context.selected, context.threshold);
  },
});
