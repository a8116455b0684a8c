/** Feature labels (Neuronpedia exports, plain JSON) and the SAE-against-model checks. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  checkLabelsFit,
  featureDisplayName,
  hookName,
  loadFeatureLabels,
  loadSae,
  parseFeatureLabels,
  parseHookName,
  residualHooks,
  SaeError,
  validateAgainstModel,
} from '../../src/core/sae';

const FIXTURES = join(__dirname, '..', 'fixtures', 'sae');
const EXPORT = join(FIXTURES, 'labels', 'neuronpedia-explanations.jsonl');
const tmp = mkdtempSync(join(tmpdir(), 'sae-labels-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a Neuronpedia export: rows of the SAE picked by neuronpedia_id, the first explanation of a feature kept', () => {
  const sae = loadSae(join(FIXTURES, 'saelens-standard'));
  const labels = loadFeatureLabels(EXPORT, { neuronpediaId: sae.neuronpediaId });
  assert.equal(labels.neuronpediaId, 'tiny-gpt2/1-res-fixture');
  assert.equal(labels.get(0), 'fixture feature 0');
  assert.equal(labels.get(3), 'fixture feature 3');
  assert.equal(labels.get(4), undefined);
  assert.equal(labels.get(63), 'fixture feature 63');
  assert.equal(labels.count, 64 - 12); // every fifth feature has no explanation
  assert.equal(featureDisplayName(labels, 4), '#4');
  assert.equal(featureDisplayName(undefined, 7), '#7');
  checkLabelsFit(labels, 64);
  const other = loadFeatureLabels(EXPORT, { neuronpediaId: 'tiny-gpt2/0-res-other' });
  assert.equal(other.get(2), 'other feature 2');
  assert.equal(other.maxIndex, 15);
  assert.throws(() => loadFeatureLabels(EXPORT), (e: unknown) => e instanceof SaeError && /holds labels of 2 SAEs \(tiny-gpt2\/1-res-fixture, tiny-gpt2\/0-res-other\) and the SAE names none/.test(e.message));
  assert.throws(() => loadFeatureLabels(EXPORT, { neuronpediaId: 'gpt2-small/8-res-jb' }), /has no labels for gpt2-small\/8-res-jb \(the SAE's neuronpedia_id\); it holds tiny-gpt2\/1-res-fixture, tiny-gpt2\/0-res-other/);
  assert.throws(() => checkLabelsFit(labels, 32), /labels feature 63 but the SAE has 32 features: these are the labels of another SAE/);
});

test('gzipped exports, JSON arrays, one-row files and plain {index: label} maps', () => {
  const gz = join(tmp, 'batch-0.jsonl.gz');
  writeFileSync(gz, gzipSync(readFileSync(EXPORT)));
  assert.equal(loadFeatureLabels(gz, { neuronpediaId: 'tiny-gpt2/1-res-fixture' }).get(10), 'fixture feature 10');
  const arr = parseFeatureLabels(JSON.stringify([{ modelId: 'm', layer: 's', index: 3, description: ' three ' }, { modelId: 'm', layer: 's', index: '5', description: '' }]), 'a.json');
  assert.equal(arr.get(3), 'three');
  assert.equal(arr.get(5), undefined);
  assert.equal(arr.neuronpediaId, 'm/s');
  assert.equal(parseFeatureLabels('{"modelId": "m", "layer": "s", "index": "9", "description": "nine"}\n', 'one.jsonl').get(9), 'nine');
  const plain = loadFeatureLabels(join(FIXTURES, 'labels', 'plain.json'));
  assert.equal(plain.get(3), 'plain label 3');
  assert.equal(plain.get(4), undefined);
  assert.throws(() => parseFeatureLabels('{"x": "y"}', 'p.json'), /key "x" is not a feature index/);
  assert.throws(() => parseFeatureLabels('{"1": 2}', 'p.json'), /the label of feature 1 is not a string/);
  assert.throws(() => parseFeatureLabels('{"index": 1, "description": "a"}\n{"index": 2, "description": "b"}\nnot json\n', 'l.jsonl'), /l\.jsonl: line 3 is not JSON/);
  assert.throws(() => parseFeatureLabels('{"description": "a"}\n{"description": "b"}\n', 'l.jsonl'), /line 1 has no feature index/);
  assert.throws(() => parseFeatureLabels('  \n', 'e.json'), /is empty/);
  assert.throws(() => loadFeatureLabels(join(tmp, 'none.json')), /none\.json does not exist$/);
});

test('hook names', () => {
  assert.deepEqual(parseHookName('blocks.12.hook_resid_pre'), { name: 'blocks.12.hook_resid_pre', site: 'resid_pre', layer: 12 });
  assert.deepEqual(parseHookName('blocks.0.attn.hook_z'), { name: 'blocks.0.attn.hook_z', site: 'attn_z', layer: 0 });
  assert.equal(parseHookName('blocks.1.hook_resid_mid'), undefined);
  assert.equal(hookName(3, 'mlp_out'), 'blocks.3.hook_mlp_out');
  assert.deepEqual(residualHooks(2), [
    'blocks.0.hook_resid_pre',
    'blocks.0.hook_resid_post',
    'blocks.0.hook_mlp_out',
    'blocks.1.hook_resid_pre',
    'blocks.1.hook_resid_post',
    'blocks.1.hook_mlp_out',
  ]);
});

test('validateAgainstModel: the hook must exist and d_in must be the width there', () => {
  const sae = loadSae(join(FIXTURES, 'saelens-topk')); // blocks.1.hook_mlp_out, d_in 32, tiny-gpt2
  const tiny = { dModel: 32, availableHooks: residualHooks(2), modelName: 'tiny-gpt2' };
  assert.deepEqual(validateAgainstModel(sae, tiny), []);
  assert.throws(() => validateAgainstModel(sae, { ...tiny, dModel: 768, modelName: 'gpt2' }), /the SAE reads vectors of width 32 \(d_in\) but gpt2's hidden state at blocks\.1\.hook_mlp_out has width 768: it belongs to another model \(it was trained on tiny-gpt2\)/);
  assert.throws(() => validateAgainstModel(sae, { ...tiny, availableHooks: residualHooks(1) }), /reads blocks\.1\.hook_mlp_out, which tiny-gpt2 does not have; it has blocks\.0\.\.0 × hook_resid_pre\|hook_resid_post\|hook_mlp_out/);
  assert.throws(() => validateAgainstModel({ ...sae, hook: 'blocks.1.hook_resid_mid' }, tiny), /reads blocks\.1\.hook_resid_mid \(not a TransformerLens hook name this tool knows\)/);
  assert.deepEqual(validateAgainstModel(sae, { ...tiny, modelName: 'pythia-70m' }), ['the SAE was trained on tiny-gpt2, not pythia-70m: the widths match but its features may mean nothing here']);
  assert.deepEqual(validateAgainstModel(sae, { ...tiny, modelName: 'fixture/Tiny-GPT2' }), []);
});
