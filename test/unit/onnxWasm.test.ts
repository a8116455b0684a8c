/**
 * The WASM fallback (core/lm/onnx/backend.ts): with the native runtime set aside, as in the universal package,
 * the tiny GPT-2 fixture runs on onnxruntime-web and gives torch's logits and residual stream, through the
 * same code as the native runtime (transformers.js for scores, tapped graphs for hidden states).
 * The packaged fallback itself (the bundle finding dist/ort/) is checked in test/e2e/package.e2e.js.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

// Before anything loads a model: the runtime is chosen once per process, on first use.
process.env.TOKEN_INSPECTOR_ONNX_RUNTIME = 'wasm';

import { onnxBackend } from '../../src/core/lm/onnx/backend';
import { OnnxCausalLM, OnnxHiddenStates } from '../../src/core/lm/onnx';

const FIXTURE = join(__dirname, '..', 'fixtures', 'tiny-gpt2');

interface RefSequence {
  ids: number[];
  logsumexp: number[];
  probeLogits: number[][];
  topIds: number[][];
  residPost?: number[][][];
}
const ref = JSON.parse(readFileSync(join(FIXTURE, 'reference_logits.json'), 'utf8')) as { probeIds: number[]; sequences: RefSequence[] };
const scratch = mkdtempSync(join(tmpdir(), 'ti-wasm-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('TOKEN_INSPECTOR_ONNX_RUNTIME=wasm picks onnxruntime-web, and the model says so', async () => {
  const backend = onnxBackend();
  assert.equal(backend.kind, 'wasm');
  assert.match(backend.origin.replace(/\\/g, '/'), /node_modules\/onnxruntime-web\/dist$/);
  assert.equal(backend.ort.env.versions.web, '1.30.0');
  const model = await OnnxCausalLM.load(FIXTURE, { threads: 1 });
  try {
    assert.equal(model.info.runtime, 'onnxruntime-web');
  } finally {
    await model.dispose();
  }
});

test('on WASM the logits match torch within 1e-5 and the top 5 ids are torch\'s, at every position', async () => {
  const bare = await OnnxCausalLM.load(FIXTURE, { threads: 1, startContext: [] });
  try {
    let worst = 0;
    for (const seq of ref.sequences) {
      const ids = Uint32Array.from(seq.ids);
      const dists = await bare.nextDistributions(ids, 1, ids.length + 1);
      for (let p = 0; p < ids.length; p++) {
        for (let j = 0; j < ref.probeIds.length; j++) {
          const err = Math.abs(dists[p].logProb(ref.probeIds[j]) - (seq.probeLogits[p][j] - seq.logsumexp[p]));
          worst = Math.max(worst, err);
          assert.ok(err < 1e-5, `${ids.length} tokens, position ${p}, id ${ref.probeIds[j]}: error ${err}`);
        }
        assert.deepEqual(
          dists[p].top(5).map((t) => t.id),
          seq.topIds[p],
        );
      }
    }
    console.log(`# WASM logits vs torch: max abs error ${worst.toExponential(2)}`);
  } finally {
    await bare.dispose();
  }
});

test('on WASM the tapped resid_post matches torch within 1e-4 for both blocks', async () => {
  const dir = join(scratch, 'tiny-gpt2');
  cpSync(FIXTURE, dir, { recursive: true });
  const states = await OnnxHiddenStates.open(dir, { threads: 1 });
  try {
    for (const seq of ref.sequences.filter((s) => s.residPost)) {
      for (let l = 0; l < 2; l++) {
        const h = await states.hiddenStates(Uint32Array.from(seq.ids), `blocks.${l}.hook_resid_post`);
        const want = (seq.residPost as number[][][])[l].flat();
        assert.equal(h.data.length, want.length);
        let err = 0;
        for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(h.data[i] - want[i]));
        assert.ok(err < 1e-4, `${seq.ids.length} tokens, block ${l}: max abs error ${err}`);
      }
    }
  } finally {
    await states.dispose();
  }
});
