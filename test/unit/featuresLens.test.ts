/**
 * The features lens between the model worker and the editor: the payload's spans and rows (BOS row, a token
 * that splits a character), its bound on entries, what the hover finds under the mouse, and the validators of
 * every features message.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { tokenUtf16Range } from '../../src/core/analysis/stream';
import { documentFeatures } from '../../src/core/sae/documentFeatures';
import { encodeHiddenStates } from '../../src/core/sae/encode';
import type { HiddenStateSource } from '../../src/core/sae/hidden';
import { parseFeatureLabels } from '../../src/core/sae/labels';
import { loadSae } from '../../src/core/sae/loader';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import { featureAcrossTokens } from '../../src/core/sae/rows';
import { featuresMarkdown, featureTokensAt } from '../../src/extension/featureView';
import { MODEL_WORKER } from '../../src/protocol/modelWorker';
import { isWebviewToHost } from '../../src/protocol';
import { featuresPayload } from '../../src/worker/featuresPayload';
import { mulberry32 } from '../harness/hardStrings';

const SAE_DIR = join(__dirname, '..', 'fixtures', 'sae', 'saelens-topk');
const TEXT = 'A parrot 🦜 says: ﬁne\n';

/** Seeded hidden states, the same for the same ids (a stand-in for the ONNX model). */
function fakeSource(dModel: number): HiddenStateSource & { lastIds?: Uint32Array } {
  const src: HiddenStateSource & { lastIds?: Uint32Array } = {
    modelName: 'tiny-gpt2',
    availableHooks: ['blocks.1.hook_mlp_out'],
    async hiddenStates(ids) {
      src.lastIds = ids;
      const data = new Float32Array(ids.length * dModel);
      ids.forEach((id, t) => {
        const rng = mulberry32(id * 31 + t);
        for (let j = 0; j < dModel; j++) data[t * dModel + j] = rng() * 4 - 2;
      });
      return { data, dModel };
    },
  };
  return src;
}

async function run(encoder?: 'relu') {
  const tok = (await loadTokenizer('gpt2')).tokenizer;
  const sae = loadSae(SAE_DIR);
  const source = fakeSource(sae.dIn);
  const r = await documentFeatures(TEXT, tok, source, sae, { encoder });
  return { tok, sae, source, r };
}

test('the payload: one row per token the model read (BOS first), spans as the stream has them, rows as the encoder gives them', async () => {
  const { sae, source, r } = await run();
  assert.equal(sae.prependBos, true);
  const p = featuresPayload(TEXT, 'tiny', sae, r, undefined, 1);
  assert.equal(p.tokenCount, r.stream.count + 1);
  assert.equal(p.ids[0], 50256, 'the BOS the SAE was trained with');
  assert.equal(p.added[0], 1);
  assert.deepEqual([p.utf16Start[0], p.utf16End[0]], [0, 0]);
  assert.deepEqual(Array.from(source.lastIds ?? []), Array.from(p.ids), 'the model read exactly these ids');
  for (let i = 0; i < r.stream.count; i++) {
    const [u0, u1] = tokenUtf16Range(r.stream, TEXT, i);
    assert.deepEqual([p.utf16Start[i + 1], p.utf16End[i + 1], p.byteStart[i + 1], p.byteEnd[i + 1]], [u0, u1, r.stream.byteOffsets[i], r.stream.byteOffsets[i + 1]]);
  }
  // The rows equal a direct encoding of the same hidden states.
  const direct = encodeHiddenStates(sae, (await source.hiddenStates(p.ids, sae.hook as string)).data);
  assert.deepEqual(Array.from(p.rowStart), Array.from(direct.rowStart));
  assert.deepEqual(Array.from(p.featureIndex), Array.from(direct.featureIndex));
  assert.deepEqual(Array.from(p.activation), Array.from(direct.activation));
  assert.equal(p.truncated, false);
  for (let t = 0; t < p.tokenCount; t++) assert.equal(p.selected[t], sae.k, 'TopK selects k per token');
  assert.ok(MODEL_WORKER.results.features(p));
});

test('the hover finds every token under the mouse: the three that split 🦜 and none for the BOS', async () => {
  const { sae, r } = await run();
  const p = featuresPayload(TEXT, 'tiny', sae, r, parseFeatureLabels('{"3": "parrots"}', 'labels.json'), 1);
  const at = TEXT.indexOf('🦜');
  const rows = featureTokensAt(p, at + 1);
  assert.equal(rows.length, 3, 'gpt2 splits the parrot into three byte tokens');
  // The first also holds the space before it (gpt2's " \xf0"); each ends after the whole character.
  for (const t of rows) assert.ok(p.utf16Start[t] <= at && p.utf16End[t] === at + 2, `${p.utf16Start[t]}–${p.utf16End[t]}`);
  assert.deepEqual(featureTokensAt(p, 0), [1], 'offset 0 is the first text token, not the BOS');
  assert.deepEqual(featureTokensAt(p, TEXT.length), []);
  const md = featuresMarkdown({ docKey: 'd', version: 1, result: p }, rows, null);
  for (const t of rows) assert.match(md, new RegExp(`Token ${t} \\(id ${p.ids[t]}\\): ${p.active[t]} active of ${p.selected[t]} selected`));
  // A feature's activation across the document reads the rows back.
  const f = p.featureIndex[p.rowStart[1]];
  const acts = featureAcrossTokens(p, f);
  assert.equal(acts[1], p.activation[p.rowStart[1]]);
});

test('a bounded payload keeps each token\'s strongest features and still counts them all', async () => {
  // ReLU on this TopK SAE selects about half of its 128 features per token.
  const { sae, r } = await run('relu');
  const n = r.tokens.length;
  const p = featuresPayload(TEXT, 'tiny', sae, r, undefined, 1, n * 2);
  assert.equal(p.truncated, true);
  for (let t = 0; t < n; t++) {
    const all = r.encoding.rowStart[t + 1] - r.encoding.rowStart[t];
    const kept = p.rowStart[t + 1] - p.rowStart[t];
    assert.ok(all > 16);
    assert.equal(kept, 16, 'the floor per token');
    assert.equal(p.selected[t], all);
    const from = r.encoding.rowStart[t];
    assert.deepEqual(Array.from(p.featureIndex.subarray(p.rowStart[t], p.rowStart[t + 1])), Array.from(r.encoding.featureIndex.subarray(from, from + kept)));
  }
});

test('features messages: what the code sends passes, malformed ones are refused', async () => {
  const hub = { allowDownloads: false };
  const ok = { model: { spec: '/m' }, hub, sae: { spec: '/s', subfolder: 'layer_1' }, text: 'x', encoder: 'mutual-choice', k: 4, allowSpecial: false };
  assert.ok(MODEL_WORKER.params.features(ok));
  for (const bad of [
    { ...ok, encoder: 'softmax' },
    { ...ok, k: 0 },
    { ...ok, m: 1.5 },
    { ...ok, sae: { spec: '' } },
    { ...ok, sae: { spec: '/s', labels: 3 } },
    { ...ok, text: undefined },
    { ...ok, allowSpecial: 'no' },
  ])
    assert.equal(MODEL_WORKER.params.features(bad), false, JSON.stringify(bad));

  const { sae, r } = await run();
  const p = featuresPayload(TEXT, 'tiny', sae, r, undefined, 1);
  for (const bad of [
    { ...p, featureIndex: Uint32Array.from(p.featureIndex, () => sae.dSae) },
    { ...p, rowStart: p.rowStart.subarray(1) },
    { ...p, ids: new Uint32Array(p.tokenCount + 1) },
    { ...p, activation: new Float64Array(p.activation.length) },
    { ...p, encoder: 'x' },
    { ...p, labels: { 1: 5 } },
  ])
    assert.equal(MODEL_WORKER.results.features(bad), false);

  for (const m of [{ type: 'runFeatures', encoder: 'topk', k: 8, m: null }, { type: 'runFeatures', encoder: null, k: null, m: null }, { type: 'cancelFeatures' }, { type: 'highlightFeature', feature: 3 }, { type: 'highlightFeature', feature: null }, { type: 'selectFeatureToken', index: 0 }])
    assert.ok(isWebviewToHost(m), JSON.stringify(m));
  for (const m of [{ type: 'runFeatures', encoder: 'evil', k: null, m: null }, { type: 'runFeatures', encoder: null, k: 0, m: null }, { type: 'runFeatures' }, { type: 'cancelFeatures', x: 1 }, { type: 'highlightFeature', feature: -1 }, { type: 'selectFeatureToken', index: '1' }])
    assert.equal(isWebviewToHost(m), false, JSON.stringify(m));
});
