/**
 * The model worker from source (test/fixtures/workers/modelWorker.js), driven through its typed client as the
 * extension drives it: loading and scoring like the core, the one event naming the ONNX Runtime, errors with their
 * codes, cancellation, and download progress in bytes of the total from a local fake hub.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { OnnxCausalLM } from '../../src/core/lm/onnx';
import { modelWorkerClient, WorkerCancelledError, WorkerRequestError, type WorkerIncident } from '../../src/extension/workerClient';
import { MODEL_WORKER, type ModelEvents, type ModelProgress, type ModelRequests } from '../../src/protocol/modelWorker';
import { isWorkerMessage, parseHostMessage, parseWorkerEvent } from '../../src/protocol/requests';
import { deadline } from '../harness/deadline';
import { startFakeHub, type FakeHub } from '../harness/fakeHub';

const FIXTURE = join(__dirname, '..', 'fixtures', 'tiny-gpt2');
const SCRIPT = join(__dirname, '..', 'fixtures', 'workers', 'modelWorker.js');
const scratch = mkdtempSync(join(tmpdir(), 'ti-mw-'));
const hubOff = { allowDownloads: false, cacheDir: join(scratch, 'cache') };
const incidents: WorkerIncident[] = [];
const runtimes: ModelEvents['runtime'][] = [];
const client = modelWorkerClient(SCRIPT, { onIncident: (i) => incidents.push(i), log: () => undefined }, { onEvent: { runtime: (e) => runtimes.push(e) } });
const within = <T>(p: Promise<T>, ms = 120_000): Promise<T> => deadline(p, ms);

const REPO = 'test-org/tiny-gpt2';
const FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'];
const contents = new Map<string, Buffer>(FILES.map((f) => [f, readFileSync(join(FIXTURE, f))]));
let hub: FakeHub;

before(async () => {
  hub = await startFakeHub(new Map([[REPO, contents]]));
});
after(async () => {
  await client.dispose();
  await hub.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('the worker loads a model folder, says once which ONNX Runtime runs it, and scores ids (transferred arrays) like the core', async () => {
  const local = await OnnxCausalLM.load(FIXTURE, { threads: 1 });
  try {
    const model = { spec: FIXTURE, threads: 1 };
    const loaded = await within(client.request('load', { model, hub: hubOff }));
    assert.equal(loaded.vocabSize, 50257);
    assert.equal(loaded.contextLength, 1024);
    assert.deepEqual(loaded.startContext, [50256]);
    assert.equal(loaded.runtime, 'onnxruntime-node');
    // The one runtime event names the native runtime (this source tree's onnxruntime-node) and where it came from.
    assert.deepEqual(runtimes.map((r) => r.runtime), ['native']);
    assert.match(runtimes[0].origin, /onnxruntime-node/);
    const ids = local.tokenizer.tokenizer.encodeIds('Hello, world! The quick brown fox.');
    const want = await local.score(ids, { topK: 3 });
    const sent = ids.slice();
    const progress: ModelProgress[] = [];
    const scored = await within(client.request('score', { model, hub: hubOff, ids: sent, topK: 3 }, { transfer: [sent.buffer as ArrayBuffer], onProgress: (p) => progress.push(p) }));
    assert.equal(sent.length, 0, 'the ids were transferred, not copied');
    assert.equal(scored.scores.count, ids.length);
    for (let i = 0; i < ids.length; i++) {
      assert.ok(Math.abs(scored.scores.logProbs[i] - want.logProbs[i]) < 1e-5);
      assert.equal(scored.scores.ranks?.[i], want.ranks[i]);
    }
    assert.deepEqual(Array.from(scored.scores.topIds), Array.from(want.topIds));
    assert.ok(progress.every((p) => p.stage === 'tokens' && p.done <= p.total && p.total === ids.length), JSON.stringify(progress));
    assert.equal(runtimes.length, 1, 'the runtime is told once per worker, not per request');
  } finally {
    await local.dispose();
  }
});

test('errors come back with a code: a bad folder, a repo id with downloads off, a cancelled request, a repo not in the cache', async () => {
  await assert.rejects(within(client.request('load', { model: { spec: join(scratch, 'missing') }, hub: hubOff })), (e: Error) => e instanceof WorkerRequestError && e.code === 'model' && /does not exist/.test(e.message));
  await assert.rejects(within(client.request('load', { model: { spec: 'openai-community/gpt2' }, hub: hubOff })), (e: Error) => e instanceof WorkerRequestError && e.code === 'downloads-off' && /downloads are off/.test(e.message));

  // Cancel a long score right away: rejected at once, and the worker goes on.
  const long = new Uint32Array(3000).map((_, i) => (i * 7919) % 50000);
  const ac = new AbortController();
  const scoring = client.request('score', { model: { spec: FIXTURE, threads: 1 }, hub: hubOff, ids: long, topK: 1 }, { signal: ac.signal });
  ac.abort();
  await assert.rejects(within(scoring), WorkerCancelledError);

  const list = await within(client.request('listCache', { cacheDir: join(scratch, 'cache') }));
  assert.equal(list.models.length, 0);
  await assert.rejects(within(client.request('removeCached', { cacheDir: join(scratch, 'cache'), repoId: 'a/b' })), (e: Error) => e instanceof WorkerRequestError && e.code === 'model' && /not in the cache/.test(e.message));
  assert.deepEqual(incidents, []);
});

test('a model downloaded by the worker reports its progress in bytes of the total (not 0 of 0)', async () => {
  hub.reset();
  const cacheDir = join(scratch, 'download-cache');
  const seen: ModelProgress[] = [];
  const loaded = await within(client.request('load', { model: { spec: REPO, threads: 1 }, hub: { allowDownloads: true, host: hub.url, cacheDir } }, { onProgress: (p) => seen.push(p) }));
  assert.equal(loaded.vocabSize, 50257);
  const downloads = seen.flatMap((p) => (p.stage === 'download' ? [p.download] : []));
  const totalBytes = [...contents.values()].reduce((n, b) => n + b.length, 0);
  assert.ok(downloads.length > 0, 'download progress reached the caller');
  const last = downloads[downloads.length - 1];
  assert.equal(last.bytes, totalBytes, 'every byte of the repository counted');
  assert.equal(last.total, totalBytes, 'of the total the hub announced');
  assert.ok(downloads.some((d) => d.bytes > 0 && d.bytes < totalBytes), 'progress along the way');
  for (let i = 1; i < downloads.length; i++) assert.ok(downloads[i].bytes >= downloads[i - 1].bytes, 'bytes only grow');
});

test('the worker refuses malformed requests with an error (no silent wait) and ignores other junk', async () => {
  // Raw messages, as a buggy host could send them, to the worker itself.
  const w = new Worker(SCRIPT);
  const inbox: unknown[] = [];
  w.on('message', (m: unknown) => inbox.push(m));
  try {
    for (const m of [
      { type: 'request', id: 1, kind: 'score', params: { model: { spec: FIXTURE }, hub: hubOff, ids: [1, 2, 3], topK: 3 } },
      { type: 'request', id: 2, kind: 'load', params: { model: { spec: '' }, hub: hubOff } },
      { type: 'request', id: 3, kind: 'next', params: { model: { spec: FIXTURE }, hub: hubOff } },
      'nonsense',
      { type: 'request', id: -1, kind: 'load' },
    ])
      w.postMessage(m);
    await within(
      new Promise<void>((resolve) => {
        const check = setInterval(() => inbox.length >= 3 && (clearInterval(check), resolve()), 50);
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(inbox.every(isWorkerMessage));
    assert.deepEqual(
      inbox.map((m) => m as { type: string; id: number; code: string; message: string }),
      [
        { type: 'error', id: 1, code: 'input', message: 'the model worker refused an invalid request (score)' },
        { type: 'error', id: 2, code: 'input', message: 'the model worker refused an invalid request (load)' },
        { type: 'error', id: 3, code: 'input', message: 'the model worker refused an invalid request (next)' },
      ],
    );
  } finally {
    await w.terminate();
  }
});

test('model protocol validators: what the host sends passes, malformed params do not', () => {
  const hub = { allowDownloads: false };
  const request = (kind: string, params: unknown) => parseHostMessage<ModelRequests, Record<never, never>>(MODEL_WORKER, { type: 'request', id: 1, kind, params });
  assert.ok(request('score', { model: { spec: 'x' }, hub, ids: new Uint32Array(2), topK: 5 }));
  assert.ok(request('remoteScore', { endpoint: { url: 'http://x', topK: 20 }, tokenizer: { id: 'gpt2' }, ids: new Uint32Array(1) }));
  for (const [kind, params] of [
    ['score', { model: { spec: 'x' }, hub, ids: [1, 2], topK: 5 }],
    ['score', { model: { spec: 'x', dtype: 'fp64' }, hub, ids: new Uint32Array(2), topK: 5 }],
    ['score', { model: { spec: 'x' }, hub: { allowDownloads: 'yes' }, ids: new Uint32Array(2), topK: 5 }],
    ['load', { model: { spec: '' }, hub }],
    // Removed kinds: declared and validated before, never sent.
    ['next', { model: { spec: 'x' }, hub, context: new Uint32Array(1), topK: 5, dense: false }],
    ['download', { repoId: 'a/b', hub }],
    ['unload', { model: { spec: 'x' } }],
    ['remoteScore', { endpoint: { url: 'http://x', topK: 50 }, tokenizer: { id: 'gpt2' }, ids: new Uint32Array(1) }],
    ['bogus', {}],
    ['__proto__', {}],
  ] as const) {
    assert.equal(request(kind, params), undefined, `${kind} ${JSON.stringify(params)}`);
  }
  const scores = { count: 2, topK: 1, logProbs: new Float64Array(2), ranks: null, entropies: null, topIds: new Int32Array(2), topLogProbs: new Float64Array(2) };
  assert.ok(MODEL_WORKER.results.score({ model: 'm', scores, elapsedMs: 3 }));
  assert.equal(MODEL_WORKER.results.score({ model: 'm', scores: { ...scores, topIds: new Int32Array(3) }, elapsedMs: 3 }), false);
  assert.equal(isWorkerMessage({ type: 'error', id: 1, code: 'oops', message: 'x' }), false);
  // The worker's one event: its kind and fields checked, as a reply's are.
  const event = (x: unknown) => (isWorkerMessage(x) ? parseWorkerEvent<ModelEvents>(MODEL_WORKER, x) : undefined);
  assert.ok(event({ type: 'event', kind: 'runtime', event: { runtime: 'wasm', origin: '/ext/dist/ort' } }));
  for (const bad of [
    { type: 'event', kind: 'runtime', event: { runtime: 'gpu', origin: '/x' } },
    { type: 'event', kind: 'runtime', event: { runtime: 'native', origin: '' } },
    { type: 'event', kind: 'runtime', event: { runtime: 'native' } },
    { type: 'event', kind: 'runtime' },
    { type: 'event', kind: 'loaded', event: {} },
    { type: 'event', kind: '__proto__', event: {} },
  ])
    assert.equal(event(bad), undefined, JSON.stringify(bad));
});
