/**
 * The workspace feature index on the tiny GPT-2 fixture and the fixture SAE (core/sae/workspaceIndex):
 * - every feature's top contexts, firing count and histogram equal a brute-force scan of every token of the
 *   workspace, after a build and after an edit to one file (which reads only that file through the model);
 * - the index reads back from its file unchanged, and refuses files that are not an index;
 * - the logit effects equal W_dec[f] · W_U computed naively from the graph's raw initializers;
 * - the CLI's `features-index` and `feature` print the same.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { onnx } from 'onnx-proto';
import { makeFeatureCommand, makeFeaturesIndexCommand } from '../../src/cli/commands/featureIndex';
import { OnnxHiddenStates, loadOnnxHiddenStates } from '../../src/core/lm/onnx';
import { documentFeatures } from '../../src/core/sae/documentFeatures';
import { loadSae } from '../../src/core/sae/loader';
import type { SparseAutoencoder } from '../../src/core/sae/types';
import {
  allFeatureEffects,
  FeatureIndex,
  HISTOGRAM_BINS,
  histogramBin,
  indexFromJson,
  indexToJson,
  listIndexFiles,
  logitEffectVector,
  readUnembedding,
  updateIndex,
  type IndexModel,
} from '../../src/core/sae/workspaceIndex';
import { decodeFileBytes } from '../../src/core/text/readFile';

const ROOT = join(__dirname, '..', '..');
const SAE_DIR = join(ROOT, 'test', 'fixtures', 'sae', 'saelens-standard');
const scratch = mkdtempSync(join(tmpdir(), 'ti-featindex-'));
const workspace = join(scratch, 'ws');
const CAPACITY = 4;

let hidden: OnnxHiddenStates;
let sae: SparseAutoencoder;
let model: IndexModel;

function write(rel: string, text: string): void {
  mkdirSync(join(workspace, rel, '..'), { recursive: true });
  writeFileSync(join(workspace, rel), text);
}

before(async () => {
  const modelDir = join(scratch, 'tiny-gpt2');
  cpSync(join(ROOT, 'test', 'fixtures', 'tiny-gpt2'), modelDir, { recursive: true });
  hidden = await loadOnnxHiddenStates(modelDir, { allowDownloads: false, dtype: 'fp32' });
  sae = loadSae(SAE_DIR);
  model = { tokenizer: hidden.tokenizer.tokenizer, source: hidden, sae };
  const tree = join(ROOT, 'test', 'fixtures', 'folder-tree');
  write('src/util.ts', readFileSync(join(tree, 'src', 'deep', 'util.ts'), 'utf8'));
  write('src/main.ts', readFileSync(join(tree, 'src', 'main.ts'), 'utf8'));
  write('docs/guide.md', readFileSync(join(tree, 'docs', 'guide.md'), 'utf8'));
  write('notes.txt', 'export const total = items.reduce((a, b) => a + b, 0);\n// the total of the items\n');
  write('empty.txt', '');
  write('.gitignore', 'ignored.txt\n');
  write('ignored.txt', 'never indexed\n');
  write('out/bundle.js', 'excluded by files.exclude\n');
  writeFileSync(join(workspace, 'image.bin'), Buffer.from([0, 1, 2, 3]));
});

after(async () => {
  await hidden?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

interface Hit {
  activation: number;
  path: string;
  byteStart: number;
}

/** Every token's activation for every feature, from the model pipeline, in plain arrays: the brute force. */
async function bruteForce(paths: readonly string[]): Promise<{ hits: Hit[][]; tokens: number }> {
  const hits: Hit[][] = Array.from({ length: sae.dSae }, () => []);
  let tokens = 0;
  for (const path of paths) {
    const text = decodeFileBytes(readFileSync(join(workspace, path)), path).text;
    if (!text) continue;
    const r = await documentFeatures(text, model.tokenizer, hidden, sae);
    for (let row = 0; row < r.tokens.length; row++) {
      const t = r.tokens[row].streamIndex;
      if (t === undefined) continue;
      tokens++;
      for (let e = r.encoding.rowStart[row]; e < r.encoding.rowStart[row + 1]; e++) {
        const a = r.encoding.activation[e];
        if (a > 0) hits[r.encoding.featureIndex[e]].push({ activation: a, path, byteStart: r.stream.byteOffsets[t] });
      }
    }
  }
  for (const h of hits) h.sort((x, y) => y.activation - x.activation || (x.path < y.path ? -1 : x.path > y.path ? 1 : x.byteStart - y.byteStart));
  return { hits, tokens };
}

const INDEXED = ['docs/guide.md', 'empty.txt', 'notes.txt', 'src/main.ts', 'src/util.ts'];

function checkAgainst(index: FeatureIndex, brute: { hits: Hit[][]; tokens: number }, exactLength: boolean): number {
  assert.equal(index.tokens, brute.tokens);
  let full = 0;
  for (let f = 0; f < sae.dSae; f++) {
    const s = index.feature(f, CAPACITY);
    const got = s.contexts.map((c) => ({ activation: c.activation, path: c.path, byteStart: c.byteStart }));
    const want = brute.hits[f].map((h) => ({ activation: Math.fround(h.activation), path: h.path, byteStart: h.byteStart }));
    if (exactLength) assert.deepEqual(got, want.slice(0, CAPACITY), `feature ${f}`);
    else assert.deepEqual(got, want.slice(0, got.length), `feature ${f}`);
    if (got.length === Math.min(CAPACITY, want.length)) full++;
    assert.equal(s.firingTokens, brute.hits[f].length, `feature ${f} firing tokens`);
    const bins = new Array<number>(HISTOGRAM_BINS).fill(0);
    for (const h of brute.hits[f]) bins[histogramBin(h.activation)]++;
    assert.deepEqual(s.histogram, bins, `feature ${f} histogram`);
    // The context's window holds the token itself with its activation.
    for (const c of s.contexts) assert.equal(c.activations[c.focus], c.activation);
  }
  return full;
}

let built: FeatureIndex;

test('the files are the workspace n-gram’s, less files.exclude', () => {
  const files = listIndexFiles(workspace, { exclude: ['out'] }).map((f) => f.relativePath);
  assert.deepEqual(files, ['.gitignore', ...INDEXED].sort());
});

test('top contexts, firing counts and histograms equal a brute-force scan of every token', async () => {
  const files = listIndexFiles(workspace, { exclude: ['out', '.gitignore'] });
  assert.deepEqual(files.map((f) => f.relativePath), INDEXED);
  built = new FeatureIndex({ model: 'tiny-gpt2', sae: SAE_DIR, hook: sae.hook as string, dSae: sae.dSae, encoder: 'relu' }, CAPACITY);
  const progress: number[] = [];
  const r = await updateIndex(built, files, model, { complete: true, onProgress: (p) => progress.push(p.filesDone) });
  assert.equal(r.filesIndexed, INDEXED.length);
  assert.equal(progress.at(-1), INDEXED.length);
  const brute = await bruteForce(INDEXED);
  assert.ok(brute.tokens > 60);
  checkAgainst(built, brute, true);
  // The workspace has more contexts than the lists keep: the bound is exercised.
  assert.ok(brute.hits.some((h) => h.length > CAPACITY * 4));
  // The window shows the token's text where it is in the file.
  const c = built.feature(0).contexts[0];
  const text = readFileSync(join(workspace, c.path), 'utf8');
  assert.equal(c.tokens[c.focus], text.slice(c.utf16Start, c.utf16End));
});

test('an edit to one file re-reads only that file, and the index stays exact', async () => {
  write('notes.txt', 'export function sum(items: number[]): number {\n  return items.reduce((a, b) => a + b, 0);\n}\n');
  const files = listIndexFiles(workspace, { exclude: ['out', '.gitignore'] });
  const r = await updateIndex(built, files, model, { complete: true });
  assert.equal(r.filesIndexed, 1);
  assert.equal(r.filesUnchanged, INDEXED.length - 1);
  const brute = await bruteForce(INDEXED);
  const full = checkAgainst(built, brute, false);
  // Most lists keep their full length through one edit (40 kept per feature by default makes this rarer still).
  assert.ok(full > sae.dSae / 2, `${full} of ${sae.dSae} lists full after the edit`);
  // A deleted file leaves the index.
  rmSync(join(workspace, 'docs', 'guide.md'));
  const r2 = await updateIndex(built, listIndexFiles(workspace, { exclude: ['out', '.gitignore'] }), model, { complete: true });
  assert.equal(r2.filesRemoved, 1);
  assert.equal(r2.filesIndexed, 0);
  checkAgainst(built, await bruteForce(INDEXED.filter((p) => p !== 'docs/guide.md')), false);
  write('docs/guide.md', readFileSync(join(ROOT, 'test', 'fixtures', 'folder-tree', 'docs', 'guide.md'), 'utf8'));
});

test('the index reads back from its file as it was; other files are refused with their name', () => {
  const json = indexToJson({ index: built, root: workspace });
  const back = indexFromJson(json, 'x.json');
  assert.equal(back.root, workspace);
  assert.equal(indexToJson(back), json);
  for (let f = 0; f < sae.dSae; f++) assert.deepEqual(back.index.feature(f), built.feature(f));
  assert.throws(() => indexFromJson('{"format":"other"}', '/tmp/x.json'), /\/tmp\/x\.json is not a feature index/);
  assert.throws(() => indexFromJson('{', '/tmp/y.json'), /\/tmp\/y\.json .*not JSON/);
  const broken = JSON.parse(json) as { features: { contexts: { focus: number }[] }[] };
  broken.features[0].contexts[0].focus = 999;
  assert.throws(() => indexFromJson(JSON.stringify(broken), 'z.json'), /z\.json .*malformed/);
});

test('logit effects equal W_dec[f] · W_U from the raw initializers, through ln_f’s centring and scale', () => {
  const graph = onnx.ModelProto.decode(readFileSync(hidden.graphPath)).graph as onnx.IGraphProto;
  const raw = (name: string): Float32Array => {
    // The exporter stores identical weights once and names the copies with Identity nodes.
    const alias = (graph.node ?? []).find((n) => n.opType === 'Identity' && n.output?.[0] === name);
    if (alias?.input?.[0]) return raw(alias.input[0]);
    const t = (graph.initializer ?? []).find((i) => i.name === name) as onnx.ITensorProto;
    const b = t.rawData as Uint8Array;
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  const wte = raw('inner.wte.weight'); // [V, d]: GPT-2's head is the tied embedding
  const gamma = raw('inner.ln_f.weight');
  const d = sae.dIn;
  const V = wte.length / d;
  const u = readUnembedding(hidden.graphPath);
  assert.equal(u.vocabSize, V);
  assert.equal(u.tied, true);
  assert.equal(u.norm, 'layernorm');
  for (const f of [0, 7, 63]) {
    const dir = Array.from(sae.wDec.subarray(f * d, (f + 1) * d));
    const mean = dir.reduce((s, x) => s + x, 0) / d;
    const v = dir.map((x, i) => (x - mean) * gamma[i]);
    const naive = new Float64Array(V);
    for (let j = 0; j < V; j++) for (let i = 0; i < d; i++) naive[j] += v[i] * wte[j * d + i];
    const got = logitEffectVector(u, sae.wDec.subarray(f * d, (f + 1) * d));
    let maxErr = 0;
    for (let j = 0; j < V; j++) maxErr = Math.max(maxErr, Math.abs(got[j] - naive[j]));
    assert.ok(maxErr < 1e-9, `feature ${f}: max error ${maxErr}`);
    const order = Array.from({ length: V }, (_, j) => j).sort((a, b) => naive[b] - naive[a] || a - b);
    const effects = allFeatureEffects(u, sae, model.tokenizer)?.features[f];
    assert.deepEqual(effects?.promoted.map((t) => t.id), order.slice(0, 10));
    assert.deepEqual(effects?.suppressed.map((t) => t.id), order.slice(-10).reverse().sort((a, b) => naive[a] - naive[b] || a - b));
  }
});

test('the CLI: features-index builds and then updates by file, feature N prints one feature', async () => {
  const outFile = join(scratch, 'index.json');
  const modelDir = join(scratch, 'tiny-gpt2');
  const lines: string[] = [];
  const featuresIndexCommand = makeFeaturesIndexCommand({ write: (l) => lines.push(l) });
  const featureCommand = makeFeatureCommand({ write: (l) => lines.push(l) });
  await featuresIndexCommand.run([workspace, '--model', modelDir, '--sae', SAE_DIR, '--out', outFile, '--exclude', 'out', '--json']);
  const first = JSON.parse(lines.pop() as string) as { files: number; filesIndexed: number; tokens: number; features: { index: number; label: { source: string } }[] };
  assert.equal(first.filesIndexed, first.files);
  assert.ok(first.features.length > 0 && first.features.every((f) => f.label.source === 'automatic'));
  write('src/util.ts', 'export const double = (x: number): number => 2 * x;\n');
  await featuresIndexCommand.run([workspace, '--model', modelDir, '--sae', SAE_DIR, '--out', outFile, '--exclude', 'out', '--json']);
  const second = JSON.parse(lines.pop() as string) as { filesIndexed: number; filesUnchanged: number };
  assert.equal(second.filesIndexed, 1);
  assert.equal(second.filesUnchanged, first.files - 1);
  const f = first.features[0].index;
  await featureCommand.run([String(f), '--index', outFile, '--json']);
  const one = JSON.parse(lines.pop() as string) as { index: number; contexts: { path: string; tokens: string[] }[]; histogram: { count: number }[]; firingTokens: number; logitEffects: { promoted: unknown[]; suppressed: unknown[] }; label: { source: string } };
  assert.equal(one.index, f);
  assert.ok(one.contexts.length > 0);
  assert.equal(one.histogram.reduce((s, b) => s + b.count, 0), one.firingTokens);
  assert.equal(one.logitEffects.promoted.length, 10);
  assert.equal(one.label.source, 'automatic');
  // With a labels file, the label is the file's.
  const labelsFile = join(scratch, 'labels.json');
  writeFileSync(labelsFile, JSON.stringify({ [f]: 'sums of items' }));
  await featureCommand.run([String(f), '--index', outFile, '--labels', labelsFile, '--json']);
  assert.deepEqual((JSON.parse(lines.pop() as string) as { label: unknown }).label, { text: 'sums of items', source: 'file' });
  await assert.rejects(featureCommand.run(['9999', '--index', outFile]), /feature 9999 is not in this SAE/);
  // An index without stored effects (too many features to store them all) computes the feature's from the model.
  const withoutEffects = JSON.parse(readFileSync(outFile, 'utf8')) as { logitEffects: unknown };
  withoutEffects.logitEffects = null;
  writeFileSync(outFile, JSON.stringify(withoutEffects));
  await featureCommand.run([String(f), '--index', outFile, '--json']);
  const onDemand = JSON.parse(lines.pop() as string) as typeof one;
  assert.deepEqual(onDemand.logitEffects, one.logitEffects);
});
