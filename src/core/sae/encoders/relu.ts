/** ReLU: token t selects feature f when its pre-activation is positive (a standard SAE's own activation). */
import { defineEncoder, type EncoderRun } from './definition';
import type { SelectedEntries } from './selectedEntries';

class ReluRun implements EncoderRun {
  constructor(private readonly selected: SelectedEntries) {}
  take(pre: Float32Array, width: number, valid: number, t0: number, count: number, f0: number): void {
    const selected = this.selected;
    for (let i = 0; i < count; i++) {
      const o = i * width;
      for (let c = 0; c < valid; c++) {
        const v = pre[o + c];
        if (v > 0) selected.push(t0 + i, f0 + c, v);
      }
    }
  }
}

export const relu = defineEncoder({
  id: 'relu',
  label: 'ReLU',
  help: 'every feature with a positive pre-activation',
  budgets: {},
  plan: () => ({}),
  start: (_plan, context) => new ReluRun(context.selected),
});
