/**
 * The encoder's matrix-product kernels: WebAssembly SIMD (gemm.wat) and its TypeScript twin compute the
 * same float32 sums bit for bit; the embedded module is gemm.wat's build; and the speed at GPT-2-small SAE
 * scale (n × 768 × 24576; set SAE_BENCH=1 for n = 1024 and every encoder).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeHiddenStates, type SparseAutoencoder } from '../../src/core/sae';
import { GEMM_WASM_BASE64 } from '../../src/core/sae/gemmWasm';
import { createKernel, packEncoder, packedWeight, wasmSimdAvailable } from '../../src/core/sae/kernel';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

test('packing keeps every weight where packedWeight finds it, in both source layouts', () => {
  const rnd = lcg(4);
  const dIn = 5;
  const dSae = 13;
  const w = Float32Array.from({ length: dIn * dSae }, rnd);
  const bias = Float32Array.from({ length: dSae }, rnd);
  const a = packEncoder(w, bias, dIn, dSae, 'in-sae');
  assert.equal(a.panelCount, 2);
  for (let j = 0; j < dIn; j++) for (let f = 0; f < dSae; f++) assert.equal(packedWeight(a, j, f), w[j * dSae + f]);
  const b = packEncoder(w, bias, dIn, dSae, 'sae-in');
  for (let j = 0; j < dIn; j++) for (let f = 0; f < dSae; f++) assert.equal(packedWeight(b, j, f), w[f * dIn + j]);
  assert.deepEqual([...a.bias.subarray(dSae)], [0, 0, 0]);
});

test('the WebAssembly SIMD and TypeScript kernels agree bit for bit (ragged sizes, several blocks)', { skip: !wasmSimdAvailable() && 'no WebAssembly SIMD here' }, () => {
  const rnd = lcg(11);
  for (const [n, dIn, dSae] of [
    [1, 1, 1],
    [3, 7, 9],
    [13, 33, 70],
    [600, 40, 17],
    [9, 3000, 300],
  ]) {
    const enc = packEncoder(Float32Array.from({ length: dIn * dSae }, rnd), Float32Array.from({ length: dSae }, rnd), dIn, dSae, 'in-sae');
    const x = Float32Array.from({ length: n * dIn }, () => rnd() * 3);
    const wasm = createKernel(enc, 'wasm');
    const js = createKernel(enc, 'js');
    assert.equal(wasm.kind, 'wasm');
    assert.equal(wasm.maxTokens, js.maxTokens);
    for (let t0 = 0; t0 < n; t0 += wasm.maxTokens) {
      const count = Math.min(wasm.maxTokens, n - t0);
      wasm.setTokens(x.subarray(t0 * dIn), count);
      js.setTokens(x.subarray(t0 * dIn), count);
      for (let p0 = 0; p0 < enc.panelCount; p0 += wasm.maxPanels) {
        const p1 = Math.min(enc.panelCount, p0 + wasm.maxPanels);
        assert.deepEqual(wasm.compute(p0, p1), js.compute(p0, p1), `n=${n} d=${dIn} F=${dSae} block ${t0} panels ${p0}..${p1}`);
      }
    }
  }
});

test('the embedded module is the build of gemm.wat', (t) => {
  const wat = join(__dirname, '..', '..', 'src', 'core', 'sae', 'gemm.wat');
  const built = spawnSync('wat2wasm', [wat, '--output=-'], { encoding: 'buffer' });
  if (built.error || built.status !== 0) {
    t.skip('wat2wasm (Debian package wabt) is not installed');
    return;
  }
  assert.equal(Buffer.from(built.stdout).toString('base64'), GEMM_WASM_BASE64, 'rebuild gemmWasm.ts (see its header)');
});

test('speed at GPT-2-small SAE scale: d_in 768, 24576 features', (t) => {
  const full = process.env.SAE_BENCH === '1';
  const n = full ? 1024 : 128;
  const d = 768;
  const F = 24576;
  const rnd = lcg(1);
  const wEnc = new Float32Array(d * F);
  for (let i = 0; i < wEnc.length; i++) wEnc[i] = rnd() * 0.1;
  const wDec = new Float32Array(F * d);
  for (let i = 0; i < wDec.length; i++) wDec[i] = rnd() * 0.05;
  // b_enc puts ~50 of 24576 random pre-activations above zero per token, as a trained ReLU SAE's L0.
  const sae: SparseAutoencoder = {
    format: 'saelens',
    architecture: 'topk',
    dIn: d,
    dSae: F,
    encoder: packEncoder(wEnc, new Float32Array(F).fill(-2.65), d, F, 'in-sae'),
    wDec,
    bDec: new Float32Array(d),
    threshold: new Float32Array(F).fill(0.5),
    k: 32,
    applyBDecToInput: true,
    normalization: 'none',
    storedDtype: 'F32',
    path: 'bench',
  };
  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = rnd() * 4;
  const encoders = full ? (['topk', 'feature-choice', 'mutual-choice', 'relu', 'jumprelu'] as const) : (['topk', 'mutual-choice'] as const);
  for (const encoder of encoders) {
    const started = performance.now();
    const r = encodeHiddenStates(sae, x, { encoder, k: 32 });
    const ms = performance.now() - started;
    const gmacs = (n * d * F) / (r.encodeMs * 1e6);
    t.diagnostic(`${encoder}: n=${n} ${ms.toFixed(0)} ms (encode ${r.encodeMs.toFixed(0)} ms, ${gmacs.toFixed(1)} GMAC/s, ${r.kernel}), ${r.featureIndex.length} selected`);
    // Speed is the benchmark's business (npm run bench:sae); here only that the fast kernel was the one taken
    // (Node 20 and 24 both have WASM SIMD), which is what a speed floor used to stand in for.
    assert.equal(r.kernel, 'wasm');
  }
});
