/**
 * The SAE encoders against torch (test/fixtures/make_sae_fixtures.py computed every fixture's reference
 * outputs in float32), and the allocation invariants: TopK selects exactly k per token, Feature Choice at
 * most m tokens per feature, Mutual Choice exactly k·n entries; ties go to the lower index.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import {
  encodeHiddenStates,
  encodeHiddenStatesAsync,
  EncodeCancelledError,
  featureAcrossTokens,
  featureTotals,
  loadSae,
  planEncoding,
  readNpy,
  fileSource,
  selectedCount,
  tokenFeatures,
  wasmSimdAvailable,
  type EncoderKind,
  type SaeEncoding,
  type SparseAutoencoder,
} from '../../src/core/sae';
import { packEncoder } from '../../src/core/sae/kernel';

const FIXTURES = join(__dirname, '..', 'fixtures', 'sae');
const TOLERANCE = 1e-5;

interface ExpectedCase {
  readonly encoder: EncoderKind;
  readonly k: number | null;
  readonly m: number | null;
  readonly selected: [number, number][][];
  readonly reconstruction: number[][];
  readonly normalizedMse: number[];
  readonly varianceExplained: number[];
}
interface Expected {
  readonly format: string;
  readonly input: string;
  readonly dIn: number;
  readonly dSae: number;
  readonly tokens: number;
  readonly cases: ExpectedCase[];
}

/** Every fixture SAE: how to load it. */
const CASES: { readonly name: string; readonly path: string; readonly subfolder?: string }[] = [
  { name: 'SAELens standard (6.x config, F32)', path: 'saelens-standard' },
  { name: 'SAELens jumprelu (BF16)', path: 'saelens-jumprelu' },
  { name: 'SAELens topk + layer_norm (F16, OpenAI-style)', path: 'saelens-topk' },
  { name: 'SAELens flat config, relu + constant_norm_rescale', path: 'saelens-flat-relu' },
  { name: 'SAELens flat config, topk via activation_fn_str', path: 'saelens-flat-topk' },
  { name: 'sparsify layers.0 (HF cache, BF16)', path: 'hf-cache/models--fixture--sparsify-tiny-gpt2', subfolder: 'layers.0' },
  { name: 'sparsify layers.1 (HF cache, BF16)', path: 'hf-cache/models--fixture--sparsify-tiny-gpt2', subfolder: 'layers.1' },
  { name: 'Gemma Scope params.npz (HF cache, stored zip64 entries)', path: 'hf-cache/models--fixture--gemma-scope-tiny-res' },
  { name: 'Gemma Scope params.npz (deflated, w_enc keys)', path: 'gemma-scope-compressed' },
];

function expectedFor(sae: SparseAutoencoder): { expected: Expected; input: Float32Array } {
  const folder = statSync(sae.path).isDirectory() ? sae.path : dirname(sae.path);
  const expected = JSON.parse(readFileSync(join(folder, 'expected.json'), 'utf8')) as Expected;
  const src = fileSource(join(folder, expected.input));
  try {
    const npy = readNpy(src);
    assert.deepEqual(npy.shape, [expected.tokens, expected.dIn]);
    return { expected, input: npy.data };
  } finally {
    src.close();
  }
}

function close(actual: number, wanted: number | null, what: string): void {
  if (wanted === null) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  assert.ok(Math.abs(actual - wanted) <= TOLERANCE * Math.max(1, Math.abs(wanted)), `${what}: ${actual} vs torch ${wanted}`);
}

function checkAgainstTorch(enc: SaeEncoding, c: ExpectedCase, label: string): void {
  assert.equal(enc.tokenCount, c.selected.length);
  let selectedTotal = 0;
  for (let t = 0; t < enc.tokenCount; t++) {
    const ours = tokenFeatures(enc, t).sort((a, b) => a.index - b.index);
    const theirs = c.selected[t];
    assert.deepEqual(
      ours.map((f) => f.index),
      theirs.map(([f]) => f),
      `${label}: token ${t} selects other features`,
    );
    ours.forEach((f, i) => close(f.activation, theirs[i][1], `${label}: token ${t} feature ${f.index}`));
    assert.equal(enc.activeCount[t], theirs.filter(([, a]) => a > 0).length, `${label}: token ${t} active count`);
    for (let j = 0; j < enc.dIn; j++) close(enc.reconstruction[t * enc.dIn + j], c.reconstruction[t][j], `${label}: x̂[${t}, ${j}]`);
    close(enc.normalizedMse[t], c.normalizedMse[t], `${label}: normalized MSE of token ${t}`);
    close(enc.varianceExplained[t], c.varianceExplained[t], `${label}: variance explained of token ${t}`);
    selectedTotal += theirs.length;
  }
  assert.equal(enc.featureIndex.length, selectedTotal);
}

const KERNELS = wasmSimdAvailable() ? (['wasm', 'js'] as const) : (['js'] as const);

for (const fx of CASES) {
  test(`matches torch within ${TOLERANCE}: ${fx.name}, every encoder`, () => {
    const sae = loadSae(join(FIXTURES, fx.path), { subfolder: fx.subfolder });
    const { expected, input } = expectedFor(sae);
    assert.equal(sae.dIn, expected.dIn);
    assert.equal(sae.dSae, expected.dSae);
    assert.ok(expected.cases.length >= 5);
    for (const c of expected.cases) {
      for (const kernel of KERNELS) {
        for (const decoder of ['sparse', 'dense'] as const) {
          const enc = encodeHiddenStates(sae, input, { encoder: c.encoder, k: c.k ?? undefined, m: c.encoder === 'feature-choice' && c.m !== null ? c.m : undefined, kernel, decoder });
          assert.equal(enc.kernel, kernel);
          checkAgainstTorch(enc, c, `${fx.path} ${c.encoder}${c.k ? ` k=${c.k}` : ''}${c.m ? ` m=${c.m}` : ''} (${kernel} kernel, ${decoder} decoder)`);
        }
      }
    }
    if (!sae.threshold) assert.throws(() => encodeHiddenStates(sae, input, { encoder: 'jumprelu' }), /jumprelu encoder needs per-feature thresholds/);
  });
}

test('the SAE default encoder is its architecture', () => {
  for (const [path, encoder] of [['saelens-standard', 'relu'], ['saelens-jumprelu', 'jumprelu'], ['saelens-topk', 'topk']] as const) {
    const sae = loadSae(join(FIXTURES, path));
    const { input } = expectedFor(sae);
    assert.equal(encodeHiddenStates(sae, input).encoder, encoder);
  }
});

// ---------------------------------------------------------------------------------------------- invariants

/** A deterministic random SAE with dIn and dSae not multiples of the kernel's panel or token block. */
function randomSae(dIn: number, dSae: number, seed: number, extra: Partial<SparseAutoencoder> = {}): SparseAutoencoder {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const wEnc = Float32Array.from({ length: dIn * dSae }, rnd);
  const bEnc = Float32Array.from({ length: dSae }, () => rnd() * 0.2);
  return {
    format: 'saelens',
    architecture: 'standard',
    dIn,
    dSae,
    encoder: packEncoder(wEnc, bEnc, dIn, dSae, 'in-sae'),
    wDec: Float32Array.from({ length: dSae * dIn }, rnd),
    bDec: Float32Array.from({ length: dIn }, () => rnd() * 0.1),
    applyBDecToInput: true,
    normalization: 'none',
    storedDtype: 'F32',
    path: 'random',
    ...extra,
  };
}

function randomRows(n: number, d: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n * d }, () => {
    s = (Math.imul(s, 22695477) + 1) >>> 0;
    return (s / 2 ** 32 - 0.5) * 4;
  });
}

test('TopK selects exactly k features per token; Feature Choice at most m tokens per feature; Mutual Choice exactly k·n entries', () => {
  const sae = randomSae(37, 203, 7);
  for (const n of [1, 3, 50, 600]) {
    const x = randomRows(n, sae.dIn, n);
    for (const k of [1, 4, 17]) {
      const top = encodeHiddenStates(sae, x, { encoder: 'topk', k });
      for (let t = 0; t < n; t++) assert.equal(selectedCount(top, t), k);
      assert.equal(top.featureIndex.length, k * n);

      const fc = encodeHiddenStates(sae, x, { encoder: 'feature-choice', k });
      const m = Math.min(n, Math.max(1, Math.ceil((k * n) / sae.dSae)));
      assert.equal(fc.m, m);
      const perFeature = new Uint32Array(sae.dSae);
      for (const f of fc.featureIndex) perFeature[f]++;
      assert.ok(perFeature.every((c) => c <= m));
      // Every feature has at least m tokens to choose from, so each takes exactly m.
      assert.equal(fc.featureIndex.length, m * sae.dSae);

      const mc = encodeHiddenStates(sae, x, { encoder: 'mutual-choice', k });
      assert.equal(mc.featureIndex.length, k * n);
    }
    const fc3 = encodeHiddenStates(sae, x, { encoder: 'feature-choice', m: 3 });
    const counts = new Uint32Array(sae.dSae);
    for (const f of fc3.featureIndex) counts[f]++;
    assert.ok(counts.every((c) => c === Math.min(3, n)));
  }
});

/** Pre-activations the slow way, in the kernels' float32 arithmetic (j ascending, then the bias). */
function bruteForcePre(sae: SparseAutoencoder, x: Float32Array, wEnc: Float32Array, bEnc: Float32Array): Float32Array {
  const n = x.length / sae.dIn;
  const out = new Float32Array(n * sae.dSae);
  for (let t = 0; t < n; t++) {
    for (let f = 0; f < sae.dSae; f++) {
      let s = 0;
      for (let j = 0; j < sae.dIn; j++) s = Math.fround(s + Math.fround(Math.fround(x[t * sae.dIn + j] - sae.bDec[j]) * wEnc[j * sae.dSae + f]));
      out[t * sae.dSae + f] = s + bEnc[f];
    }
  }
  return out;
}

test('every allocation equals a brute-force selection over the whole pre-activation matrix (several token blocks and feature chunks)', () => {
  const dIn = 600;
  const dSae = 900; // two chunks of panels at this width
  let s = 99;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const wEnc = Float32Array.from({ length: dIn * dSae }, rnd);
  const bEnc = Float32Array.from({ length: dSae }, () => rnd() * 0.5);
  const sae: SparseAutoencoder = { ...randomSae(dIn, dSae, 1), encoder: packEncoder(wEnc, bEnc, dIn, dSae, 'in-sae') };
  const n = 500; // two token blocks at this width
  const x = randomRows(n, dIn, 17);
  const pre = bruteForcePre(sae, x, wEnc, bEnc);
  const better = (v1: number, k1: number, v2: number, k2: number) => v1 > v2 || (v1 === v2 && k1 < k2);
  const want = (sel: Set<number>) => [...sel].sort((a, b) => a - b);
  const got = (enc: SaeEncoding) => {
    const out: number[] = [];
    for (let t = 0; t < enc.tokenCount; t++) for (const f of tokenFeatures(enc, t)) out.push(t * dSae + f.index);
    return out.sort((a, b) => a - b);
  };
  const k = 5;
  for (const kernel of KERNELS) {
    // TopK: per row.
    const topSel = new Set<number>();
    for (let t = 0; t < n; t++) {
      const order = Array.from({ length: dSae }, (_, f) => f).sort((a, b) => (better(pre[t * dSae + a], a, pre[t * dSae + b], b) ? -1 : 1));
      for (const f of order.slice(0, k)) topSel.add(t * dSae + f);
    }
    assert.deepEqual(got(encodeHiddenStates(sae, x, { encoder: 'topk', k, kernel })), want(topSel));
    // Feature Choice: per column.
    const m = Math.ceil((k * n) / dSae);
    const fcSel = new Set<number>();
    for (let f = 0; f < dSae; f++) {
      const order = Array.from({ length: n }, (_, t) => t).sort((a, b) => (better(pre[a * dSae + f], a, pre[b * dSae + f], b) ? -1 : 1));
      for (const t of order.slice(0, m)) fcSel.add(t * dSae + f);
    }
    const fc = encodeHiddenStates(sae, x, { encoder: 'feature-choice', k, kernel });
    assert.equal(fc.m, m);
    assert.deepEqual(got(fc), want(fcSel));
    // Mutual Choice: the whole matrix.
    const all = Array.from({ length: n * dSae }, (_, i) => i).sort((a, b) => (better(pre[a], a, pre[b], b) ? -1 : 1));
    assert.deepEqual(got(encodeHiddenStates(sae, x, { encoder: 'mutual-choice', k, kernel })), want(new Set(all.slice(0, k * n))));
    // ReLU: the positive entries, with their values.
    const relu = encodeHiddenStates(sae, x, { encoder: 'relu', kernel });
    assert.deepEqual(got(relu), want(new Set(all.filter((i) => pre[i] > 0))));
    for (let t = 0; t < 3; t++) for (const f of tokenFeatures(relu, t)) assert.equal(f.activation, pre[t * dSae + f.index]);
  }
});

test('rows list features by activation (descending), then index; selected ≥ active; totals and heatmaps agree', () => {
  const sae = randomSae(24, 90, 3);
  const x = randomRows(40, 24, 9);
  for (const encoder of ['relu', 'topk', 'feature-choice', 'mutual-choice'] as const) {
    const enc = encodeHiddenStates(sae, x, { encoder, k: 9 });
    for (let t = 0; t < enc.tokenCount; t++) {
      const fs = tokenFeatures(enc, t);
      for (let i = 1; i < fs.length; i++) {
        assert.ok(fs[i - 1].activation > fs[i].activation || (fs[i - 1].activation === fs[i].activation && fs[i - 1].index < fs[i].index));
      }
      assert.ok(enc.activeCount[t] <= fs.length);
      assert.equal(enc.activeCount[t], fs.filter((f) => f.activation > 0).length);
      assert.ok(fs.every((f) => f.activation >= 0));
    }
    const totals = featureTotals(enc);
    for (const ft of totals.slice(0, 5)) {
      const heat = featureAcrossTokens(enc, ft.index);
      assert.ok(Math.abs(heat.reduce((a, b) => a + b, 0) - ft.totalActivation) < 1e-3);
      assert.equal(heat.filter((v) => v > 0).length, ft.activeTokens);
    }
    for (let i = 1; i < totals.length; i++) assert.ok(totals[i - 1].totalActivation >= totals[i].totalActivation);
  }
});

test('ties: TopK keeps the lower feature index, Feature Choice the lower token, Mutual Choice the lower (token, feature)', () => {
  // Zero encoder weights: every pre-activation is its feature's bias, so ties are everywhere.
  const dIn = 4;
  const dSae = 10;
  const bias = Float32Array.from([1, 3, 3, 2, 3, 0, 3, 1, 2, 0]);
  const sae: SparseAutoencoder = {
    ...randomSae(dIn, dSae, 1),
    encoder: packEncoder(new Float32Array(dIn * dSae), bias, dIn, dSae, 'in-sae'),
  };
  const x = randomRows(5, dIn, 2);
  const top = encodeHiddenStates(sae, x, { encoder: 'topk', k: 3 });
  for (let t = 0; t < 5; t++) assert.deepEqual(tokenFeatures(top, t).map((f) => f.index), [1, 2, 4]); // four features tie at 3
  const fc = encodeHiddenStates(sae, x, { encoder: 'feature-choice', m: 2 });
  for (let t = 0; t < 5; t++) assert.equal(selectedCount(fc, t), t < 2 ? dSae : 0); // every column ties: tokens 0 and 1
  const mc = encodeHiddenStates(sae, x, { encoder: 'mutual-choice', k: 1 }); // 5 entries: the 3s, token 0 first
  assert.deepEqual(tokenFeatures(mc, 0).map((f) => f.index), [1, 2, 4, 6]);
  assert.deepEqual(tokenFeatures(mc, 1).map((f) => f.index), [1]);
  for (let t = 2; t < 5; t++) assert.equal(selectedCount(mc, t), 0);
  // A selected feature may be inactive: with k = 8, the zero-bias features are selected at activation 0.
  const wide = encodeHiddenStates(sae, x, { encoder: 'topk', k: 10 });
  assert.equal(selectedCount(wide, 0), 10);
  assert.equal(wide.activeCount[0], 8);
});

test('options that do not fit are refused with the reason', () => {
  const sae = randomSae(8, 16, 5);
  const x = randomRows(3, 8, 1);
  assert.throws(() => encodeHiddenStates(sae, x, { encoder: 'topk' }), /topk encoder needs k/);
  assert.throws(() => encodeHiddenStates(sae, x, { encoder: 'mutual-choice' }), /mutual-choice encoder needs k/);
  assert.throws(() => encodeHiddenStates(sae, x, { encoder: 'feature-choice' }), /feature-choice encoder needs k or m/);
  assert.throws(() => encodeHiddenStates(sae, x, { encoder: 'topk', k: 17 }), /exceeds the SAE's 16 features/);
  assert.throws(() => encodeHiddenStates(sae, x, { encoder: 'topk', k: 0 }), /positive integer/);
  assert.throws(() => encodeHiddenStates(sae, x, { encoder: 'topk', k: 2.5 }), /positive integer/);
  assert.throws(() => encodeHiddenStates(sae, x.subarray(0, 20), { encoder: 'relu' }), /not rows of width 8/);
  const bad = x.slice();
  bad[9] = NaN;
  assert.throws(() => encodeHiddenStates(sae, bad, { encoder: 'relu' }), /token 1 holds a NaN/);
  assert.equal(encodeHiddenStates(sae, new Float32Array(0), { encoder: 'mutual-choice', k: 2 }).tokenCount, 0);
  // Feature and Mutual Choice keep their heaps bounded: a budget past 2^27 entries is refused up front.
  const wide = { architecture: 'standard', dSae: 2 ** 20, threshold: undefined, path: 'wide' } as const;
  assert.throws(() => planEncoding(wide, 1000, { encoder: 'feature-choice', m: 500 }), /keeps 524288000 entries \(1048576 features × m\); at most 134217728 are kept/);
  assert.throws(() => planEncoding(wide, 2_000_000, { encoder: 'mutual-choice', k: 100 }), /keeps 200000000 entries; at most 134217728 are kept/);
  assert.deepEqual(planEncoding(wide, 10, { encoder: 'feature-choice', k: 32 }), { encoder: 'feature-choice', k: 32, m: 1 });
});

test('TopK with a very large k shrinks the token block and still selects k per token', () => {
  const sae = randomSae(6, 5000, 21);
  const x = randomRows(900, 6, 5);
  const enc = encodeHiddenStates(sae, x, { encoder: 'topk', k: 5000 });
  for (let t = 0; t < 900; t++) assert.equal(selectedCount(enc, t), 5000);
});

test('progress and cancellation between token blocks; the async form yields', async () => {
  const sae = randomSae(16, 40, 8);
  const x = randomRows(5000, 16, 4);
  const seen: number[] = [];
  const enc = encodeHiddenStates(sae, x, { encoder: 'topk', k: 3, onProgress: (done, total) => seen.push(done / total) });
  assert.equal(seen[seen.length - 1], 1);
  assert.ok(seen.length > 1);
  assert.equal(enc.featureIndex.length, 15000);
  assert.throws(() => encodeHiddenStates(sae, x, { encoder: 'topk', k: 3, isCancelled: () => true }), EncodeCancelledError);
  const controller = new AbortController();
  let blocks = 0;
  const promise = encodeHiddenStatesAsync(sae, x, {
    encoder: 'relu',
    signal: controller.signal,
    onProgress: () => {
      if (++blocks === 2) controller.abort();
    },
  });
  await assert.rejects(promise, EncodeCancelledError);
  const asyncEnc = await encodeHiddenStatesAsync(sae, x, { encoder: 'topk', k: 3 });
  assert.deepEqual(asyncEnc.featureIndex, enc.featureIndex);
});

test('expected_average_only_in: scaling the input by the factor equals encoding the scaled input', () => {
  const base = randomSae(12, 30, 11, { applyBDecToInput: false });
  const scaled: SparseAutoencoder = { ...base, normalization: 'expected_average_only_in', normScalingFactor: 2.5 };
  const x = randomRows(7, 12, 3);
  const x2 = x.map((v) => v * 2.5);
  const a = encodeHiddenStates(scaled, x, { encoder: 'topk', k: 4 });
  const b = encodeHiddenStates(base, x2, { encoder: 'topk', k: 4 });
  assert.deepEqual(a.featureIndex, b.featureIndex);
  for (let i = 0; i < a.reconstruction.length; i++) assert.ok(Math.abs(a.reconstruction[i] - b.reconstruction[i] / 2.5) < 1e-5);
});
