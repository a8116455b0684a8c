import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { OnnxCausalLM } from '../../src/core/lm/onnx';
import { isHostToModelWorker, isModelWorkerToHost, type HostToModelWorker, type ModelWorkerToHost } from '../../src/modelProtocol';

const FIXTURE = join(__dirname, '..', 'fixtures', 'tiny-gpt2');
const scratch = mkdtempSync(join(tmpdir(), 'ti-mw-'));
const hubOff = { allowDownloads: false, cacheDir: join(scratch, 'cache') };

let worker: Worker;
const inbox: ModelWorkerToHost[] = [];
const waiters: (() => void)[] = [];

before(() => {
  // The TypeScript entry through tsx's require hook (the bundled dist/modelWorker.js runs as it is).
  const entry = join(__dirname, '..', '..', 'src', 'worker', 'modelWorker.ts');
  worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true });
  worker.on('error', (e) => {
    throw e;
  });
  worker.on('message', (m: unknown) => {
    assert.ok(isModelWorkerToHost(m), `the worker sent a valid message: ${JSON.stringify(m)}`);
    inbox.push(m);
    for (const w of waiters.splice(0)) w();
  });
});
after(async () => {
  await worker.terminate();
  rmSync(scratch, { recursive: true, force: true });
});

function send(msg: HostToModelWorker, transfer: ArrayBuffer[] = []): void {
  assert.ok(isHostToModelWorker(msg));
  worker.postMessage(msg, transfer);
}

/** The final answer to a request (skipping progress). */
async function reply(requestId: number, timeoutMs = 60_000): Promise<ModelWorkerToHost> {
  const t0 = Date.now();
  for (;;) {
    const i = inbox.findIndex((m) => m.requestId === requestId && m.kind !== 'progress' && m.kind !== 'downloadProgress');
    if (i >= 0) return inbox.splice(i, 1)[0];
    if (Date.now() - t0 > timeoutMs) throw new Error(`no reply to ${requestId}`);
    await new Promise<void>((r) => {
      waiters.push(r);
      setTimeout(r, 200);
    });
  }
}

test('the worker loads a model folder, scores ids (transferred arrays) and answers next-token requests like the core', async () => {
  const local = await OnnxCausalLM.load(FIXTURE, { threads: 1 });
  try {
    const model = { spec: FIXTURE, threads: 1 };
    send({ kind: 'load', requestId: 1, model, hub: hubOff });
    const loaded = await reply(1);
    assert.equal(loaded.kind, 'loaded');
    if (loaded.kind === 'loaded') {
      assert.equal(loaded.model.vocabSize, 50257);
      assert.equal(loaded.model.contextLength, 1024);
      assert.deepEqual(loaded.model.startContext, [50256]);
      assert.equal(loaded.model.runtime, 'onnxruntime-node');
    }
    // The one runtime notice (request id 0) names the native runtime and where it came from.
    const notices = inbox.filter((m) => m.kind === 'runtime');
    assert.deepEqual(notices.map((m) => m.kind === 'runtime' && [m.requestId, m.runtime]), [[0, 'native']]);
    inbox.splice(inbox.indexOf(notices[0]), 1);
    const ids = local.tokenizer.tokenizer.encodeIds('Hello, world! The quick brown fox.');
    const want = await local.score(ids, { topK: 3 });
    const sent = ids.slice();
    send({ kind: 'score', requestId: 2, model, hub: hubOff, ids: sent, topK: 3 }, [sent.buffer as ArrayBuffer]);
    const scored = await reply(2);
    assert.equal(scored.kind, 'scored');
    if (scored.kind === 'scored') {
      assert.equal(scored.scores.count, ids.length);
      for (let i = 0; i < ids.length; i++) {
        assert.ok(Math.abs(scored.scores.logProbs[i] - want.logProbs[i]) < 1e-5);
        assert.equal(scored.scores.ranks?.[i], want.ranks[i]);
      }
      assert.deepEqual(Array.from(scored.scores.topIds), Array.from(want.topIds));
    }
    assert.ok(inbox.length === 0 || inbox.every((m) => m.kind === 'progress'));
    inbox.length = 0;

    send({ kind: 'next', requestId: 3, model, hub: hubOff, context: ids.slice(0, 4), topK: 5, dense: true });
    const next = await reply(3);
    assert.equal(next.kind, 'next');
    const d = await local.nextDistribution(ids.slice(0, 4));
    if (next.kind === 'next') {
      assert.deepEqual(
        next.result.top.map((t) => t.id),
        d.top(5).map((t) => t.id),
      );
      assert.equal(next.result.logProbs?.length, 50257);
      assert.ok(Math.abs((next.result.logProbs?.[ids[4]] ?? 0) - d.logProb(ids[4])) < 1e-5);
    }
  } finally {
    await local.dispose();
  }
});

test('errors come back with a code: a bad folder, a repo id with downloads off, a cancelled request; malformed messages are ignored', async () => {
  send({ kind: 'load', requestId: 10, model: { spec: join(scratch, 'missing') }, hub: hubOff });
  const e1 = await reply(10);
  assert.ok(e1.kind === 'error' && e1.code === 'model' && /does not exist/.test(e1.message));

  send({ kind: 'load', requestId: 11, model: { spec: 'openai-community/gpt2' }, hub: hubOff });
  const e2 = await reply(11);
  assert.ok(e2.kind === 'error' && e2.code === 'downloads-off' && /downloads are off/.test(e2.message), JSON.stringify(e2));

  // Malformed: ignored (no reply), the worker keeps working.
  worker.postMessage({ kind: 'score', requestId: 12, model: { spec: FIXTURE }, hub: hubOff, ids: [1, 2, 3], topK: 3 });
  worker.postMessage({ kind: 'load', requestId: 13, model: { spec: '' }, hub: hubOff });
  worker.postMessage('nonsense');

  // Cancel a long score right away.
  const long = new Uint32Array(3000).map((_, i) => (i * 7919) % 50000);
  send({ kind: 'score', requestId: 14, model: { spec: FIXTURE, threads: 1 }, hub: hubOff, ids: long, topK: 1 });
  send({ kind: 'cancel', requestId: 14 });
  const e3 = await reply(14);
  assert.ok(e3.kind === 'error' && e3.code === 'cancelled', JSON.stringify(e3));

  send({ kind: 'listCache', requestId: 15, cacheDir: join(scratch, 'cache') });
  const list = await reply(15);
  assert.ok(list.kind === 'cache' && list.models.length === 0);
  send({ kind: 'removeCached', requestId: 16, cacheDir: join(scratch, 'cache'), repoId: 'a/b' });
  const e4 = await reply(16);
  assert.ok(e4.kind === 'error' && e4.code === 'model' && /not in the cache/.test(e4.message));
  assert.ok(!inbox.some((m) => m.requestId === 12 || m.requestId === 13));
});

test('protocol validators reject malformed messages', () => {
  const hub = { allowDownloads: false };
  assert.ok(isHostToModelWorker({ kind: 'score', requestId: 1, model: { spec: 'x' }, hub, ids: new Uint32Array(2), topK: 5 }));
  for (const bad of [
    null,
    { kind: 'score', requestId: 1, model: { spec: 'x' }, hub, ids: [1, 2], topK: 5 },
    { kind: 'score', requestId: -1, model: { spec: 'x' }, hub, ids: new Uint32Array(2), topK: 5 },
    { kind: 'score', requestId: 1, model: { spec: 'x', dtype: 'fp64' }, hub, ids: new Uint32Array(2), topK: 5 },
    { kind: 'score', requestId: 1, model: { spec: 'x' }, hub: { allowDownloads: 'yes' }, ids: new Uint32Array(2), topK: 5 },
    { kind: 'load', requestId: 1, model: { spec: '' }, hub },
    { kind: 'next', requestId: 1, model: { spec: 'x' }, hub, context: new Uint32Array(1), topK: 5 },
    { kind: 'remoteScore', requestId: 1, endpoint: { url: 'http://x', topK: 50 }, tokenizer: { id: 'gpt2' }, ids: new Uint32Array(1) },
    { kind: 'download', requestId: 1, repoId: '', hub },
    { kind: 'bogus', requestId: 1 },
  ]) {
    assert.equal(isHostToModelWorker(bad), false, JSON.stringify(bad));
  }
  const scores = { count: 2, topK: 1, logProbs: new Float64Array(2), ranks: null, entropies: null, topIds: new Int32Array(2), topLogProbs: new Float64Array(2) };
  assert.ok(isModelWorkerToHost({ kind: 'scored', requestId: 1, model: 'm', scores, elapsedMs: 3 }));
  assert.equal(isModelWorkerToHost({ kind: 'scored', requestId: 1, model: 'm', scores: { ...scores, topIds: new Int32Array(3) }, elapsedMs: 3 }), false);
  assert.equal(isModelWorkerToHost({ kind: 'error', requestId: 1, code: 'oops', message: 'x' }), false);
});
