/**
 * The workspace feature index through the model worker (from source, test/fixtures/workers/modelWorker.js),
 * driven by its typed client as the extension drives it: the build reports progress per file and can be
 * cancelled; a saved file updates only itself; `feature` is the CLI's report of the same index; Find Feature's
 * text search ranks the features that fire most on a text; a query before any index says to build one.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { modelWorkerClient, WorkerCancelledError, WorkerRequestError } from '../../src/extension/workerClient';
import { MODEL_WORKER, type FeatureIndexProgress } from '../../src/protocol/modelWorker';
import { makeFeatureCommand } from '../../src/cli/commands/featureIndex';
import { deadline } from '../harness/deadline';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'test', 'fixtures', 'workers', 'modelWorker.js');
const SAE = join(ROOT, 'test', 'fixtures', 'sae', 'saelens-standard');
const scratch = mkdtempSync(join(tmpdir(), 'ti-fiw-'));
const MODEL = join(scratch, 'tiny-gpt2');
cpSync(join(ROOT, 'test', 'fixtures', 'tiny-gpt2'), MODEL, { recursive: true });
const WS = join(scratch, 'ws');
mkdirSync(join(WS, 'src'), { recursive: true });
for (let i = 0; i < 6; i++) writeFileSync(join(WS, 'src', `f${i}.ts`), `export function f${i}(x: number): number {\n  return x * ${i} + ${i * 7}; // file ${i}\n}\n`);
writeFileSync(join(WS, 'README.md'), '# A small workspace\n\nSix functions that add and multiply.\n');
const client = modelWorkerClient(SCRIPT, { onIncident: () => undefined, log: () => undefined });
const within = <T>(p: Promise<T>, ms = 120_000): Promise<T> => deadline(p, ms);
const base = { model: { spec: MODEL, threads: 1 }, hub: { allowDownloads: false }, sae: { spec: SAE } };
const indexPath = join(scratch, 'storage', 'index.json');

after(async () => {
  await client.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

test('a feature query before the index exists says to build one', async () => {
  await assert.rejects(within(client.request('feature', { ...base, indexPath, feature: 0 })), (e: unknown) => e instanceof WorkerRequestError && /Index Workspace Features/.test(e.message));
});

test('a build reports each file, can be cancelled, and a later build completes and saves', async () => {
  const ac = new AbortController();
  const seen: FeatureIndexProgress[] = [];
  await assert.rejects(
    within(client.request('featureIndex', { ...base, root: WS, exclude: [], indexPath }, { signal: ac.signal, onProgress: (p) => (seen.push(p), p.stage === 'files' && p.done >= 1 && ac.abort()) })),
    WorkerCancelledError,
  );
  assert.ok(seen.some((p) => p.stage === 'files' && p.done >= 1));
  const progress: FeatureIndexProgress[] = [];
  const r = await within(client.request('featureIndex', { ...base, root: WS, exclude: ['README.md'], indexPath }, { onProgress: (p) => progress.push(p) }));
  assert.equal(r.files, 6, 'README.md is excluded');
  assert.equal(r.filesIndexed + r.filesUnchanged, 6);
  const files = progress.filter((p) => p.stage === 'files');
  assert.deepEqual(files.at(-1) && files.at(-1)?.stage === 'files' ? [files.at(-1)?.done, files.at(-1)?.total] : [], [6, 6]);
});

test('a saved file updates only itself; feature is the CLI’s report of the same index', async () => {
  writeFileSync(join(WS, 'src', 'f3.ts'), 'export const three = 3;\n');
  const r = await within(client.request('featureIndex', { ...base, root: WS, exclude: ['README.md'], indexPath, only: ['src/f3.ts'] }));
  assert.deepEqual([r.filesIndexed, r.filesUnchanged, r.files], [1, 0, 6]);
  const report = await within(client.request('feature', { ...base, indexPath, feature: 5 }));
  const lines: string[] = [];
  await makeFeatureCommand({ write: (l) => lines.push(l) }).run(['5', '--index', indexPath, '--json']);
  const cli = JSON.parse(lines[0]) as Record<string, unknown>;
  for (const k of ['index', 'label', 'firingTokens', 'workspaceTokens', 'frequency', 'histogram', 'contexts', 'logitEffects'] as const) assert.deepEqual(cli[k], JSON.parse(JSON.stringify(report[k])), k);
  assert.ok(report.contexts.some((c) => c.path === 'src/f3.ts') || report.contexts.every((c) => c.path !== 'src/f3.ts'));
});

test('Find Feature: by index, by label words, and the features firing most on a text', async () => {
  const byIndex = await within(client.request('findFeatures', { ...base, indexPath, query: '#7', allowSpecial: false }));
  assert.deepEqual(byIndex.matches.map((m) => m.index), [7]);
  const all = await within(client.request('findFeatures', { ...base, indexPath, query: '', allowSpecial: false }));
  assert.ok(all.matches.length > 0);
  const word = (all.matches[0].label?.text ?? '').split(/\s+/)[2] ?? '';
  const byLabel = await within(client.request('findFeatures', { ...base, indexPath, query: word, allowSpecial: false }));
  assert.ok(byLabel.matches.every((m) => (m.label?.text ?? '').toLowerCase().includes(word.toLowerCase())) && byLabel.matches.some((m) => m.index === all.matches[0].index));
  const onText = await within(client.request('findFeatures', { ...base, indexPath, text: 'return x * 2;', allowSpecial: false }));
  assert.ok(onText.matches.length > 0);
  const totals = onText.matches.map((m) => m.totalActivation ?? 0);
  assert.deepEqual(totals, [...totals].sort((a, b) => b - a), 'strongest on the text first');
});

test('the feature-index requests: valid params pass, malformed ones are refused', () => {
  const ok = { ...base, root: WS, exclude: ['**/out'], indexPath };
  assert.ok(MODEL_WORKER.params.featureIndex(ok));
  assert.ok(MODEL_WORKER.params.featureIndex({ ...ok, only: ['src/a.ts'] }));
  assert.equal(MODEL_WORKER.params.featureIndex({ ...ok, exclude: 'out' }), false);
  assert.equal(MODEL_WORKER.params.featureIndex({ ...ok, only: [3] }), false);
  assert.equal(MODEL_WORKER.params.featureIndex({ ...ok, root: undefined }), false);
  assert.ok(MODEL_WORKER.params.feature({ ...base, indexPath, feature: 3 }));
  assert.equal(MODEL_WORKER.params.feature({ ...base, indexPath, feature: -1 }), false);
  assert.equal(MODEL_WORKER.params.feature({ ...base, indexPath, feature: 1.5 }), false);
  assert.ok(MODEL_WORKER.params.findFeatures({ ...base, indexPath, query: '', allowSpecial: false }));
  assert.equal(MODEL_WORKER.params.findFeatures({ ...base, indexPath, query: 'x'.repeat(1001), allowSpecial: false }), false);
  assert.equal(MODEL_WORKER.params.findFeatures({ ...base, indexPath, text: 7, allowSpecial: false }), false);
  assert.ok(MODEL_WORKER.progress.featureIndex({ stage: 'files', done: 1, total: 2, path: 'a.ts' }));
  assert.equal(MODEL_WORKER.progress.featureIndex({ stage: 'files', done: 1 }), false);
  // A report whose context window does not hold its own token is refused.
  const report = { index: 0, label: null, firingTokens: 0, workspaceTokens: 0, frequency: 0, maxActivation: 0, histogram: [], logitEffects: null };
  const context = { activation: 1, path: 'a', byteStart: 0, byteEnd: 1, utf16Start: 0, utf16End: 1, tokens: ['a'], activations: [1], focus: 0 };
  assert.ok(MODEL_WORKER.results.feature({ ...report, contexts: [context] }));
  assert.equal(MODEL_WORKER.results.feature({ ...report, contexts: [{ ...context, focus: 1 }] }), false);
});
