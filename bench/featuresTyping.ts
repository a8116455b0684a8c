/**
 * Features while typing: the hidden states an SAE reads after a one-token edit near the end of a document,
 * computed from the first changed token on the KV cache of the layers before the hook (src/core/lm/onnx/
 * hiddenStates.ts), against computing every position again. Prints JSON: per model, the document's tokens,
 * the median time of a full computation and of an edit's, their ratio, and the largest difference between the
 * two results (they must agree to float32 rounding).
 *
 *   npm run bench:features-typing -- [--model DIR ...] [--tokens 768] [--runs 7] [--hook HOOK (default: the last block's resid_post)]
 */
import { join } from 'node:path';
import { OnnxHiddenStates } from '../src/core/lm/onnx';
import { median } from './stats';

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const models = process.argv.flatMap((a, i) => (a === '--model' ? [process.argv[i + 1]] : []));
if (models.length === 0) models.push(join(__dirname, '..', 'test', 'fixtures', 'tiny-gpt2'));

async function main(): Promise<void> {
  const tokens = Number(option('tokens') ?? 768);
  const runs = Number(option('runs') ?? 7);
  const out = [];
  for (const dir of models) {
    const inc = await OnnxHiddenStates.open(dir, { threads: 1 });
    const full = await OnnxHiddenStates.open(dir, { threads: 1 });
    // The last block's output by default: the deepest hook, the most layers to recompute.
    const hook = option('hook') ?? inc.availableHooks.filter((h) => h.endsWith('hook_resid_post')).at(-1) ?? inc.availableHooks[0];
    const base = Uint32Array.from({ length: tokens }, (_, i) => (i * 7919 + 13) % 50000);
    const fullMs: number[] = [];
    const editMs: number[] = [];
    let maxDiff = 0;
    for (let r = 0; r < runs; r++) {
      // An edit 5 tokens before the end (a keystroke in the last line), alternating so every run is an edit.
      const edited = base.slice();
      edited[tokens - 5] = 100 + r;
      await inc.hiddenStates(base, hook);
      let t0 = performance.now();
      const a = await inc.hiddenStates(edited, hook);
      editMs.push(performance.now() - t0);
      await full.hiddenStates(Uint32Array.of(1), hook);
      t0 = performance.now();
      const b = await full.hiddenStates(edited, hook);
      fullMs.push(performance.now() - t0);
      for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b.data[i]));
    }
    out.push({ model: dir, dModel: inc.dModel, hook, tokens, runs, fullMedianMs: +median(fullMs).toFixed(1), editMedianMs: +median(editMs).toFixed(1), editOverFull: +(median(editMs) / median(fullMs)).toFixed(3), maxAbsDiff: maxDiff });
    await inc.dispose();
    await full.dispose();
  }
  console.log(JSON.stringify(out, null, 2));
}

void main();
