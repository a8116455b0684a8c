/**
 * Every message handler's validator accepts the messages the code sends and rejects everything else:
 * random payloads, wrong types, out-of-range numbers (the webview and worker handlers act only on valid ones).
 * The type-level checks at the end fail `npm run typecheck` if the tables stop catching what they must: a
 * kind without a validator or handler, a progress callback on a kind that reports none, and the download
 * progress read by the wrong names (the bug that showed 0 of 0).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelWorkerClient, type ModelWorkerClient, type TokenWorkerClient, type WorkerHooks } from '../../src/extension/workerClient';
import { isWebviewToHost } from '../../src/protocol';
import { MODEL_WORKER, type ModelEvents, type ModelRequests } from '../../src/protocol/modelWorker';
import { isWorkerMessage, parseHostMessage, parseWorkerEvent, type EventTable, type NotificationTable, type RequestTable, type WorkerMessage, type WorkerProtocol } from '../../src/protocol/requests';
import { TOKEN_WORKER, type TokenNotifications, type TokenRequests } from '../../src/protocol/tokenWorker';
import { WORKSPACE_WORKER, type WorkspaceRequests } from '../../src/protocol/workspaceWorker';
import type { RequestHandlers } from '../../src/worker/serve';
import { mulberry32 } from '../harness/hardStrings';

function randomValue(rng: () => number, depth = 0): unknown {
  const r = rng();
  if (depth > 2 || r < 0.15) return null;
  if (r < 0.3) return Math.floor(rng() * 2 ** 33) - 2 ** 32;
  if (r < 0.4) return rng() * 10 - 5;
  if (r < 0.55) return ['ready', 'selectToken', 'scrolled', 'mode', 'compare', 'premiums', 'setTokenizer', 'run', 'analyze', 'count', 'request', 'result', 'event', '__proto__', 'x'][Math.floor(rng() * 15)];
  if (r < 0.65) return rng() < 0.5;
  if (r < 0.8) return Array.from({ length: Math.floor(rng() * 4) }, () => randomValue(rng, depth + 1));
  const o: Record<string, unknown> = {};
  for (const k of ['type', 'kind', 'id', 'params', 'result', 'progress', 'event', 'runtime', 'origin', 'index', 'line', 'mode', 'tokenizers', 'scope', 'command', 'text', 'docKey', 'version', 'tokenizer', 'allowSpecial', 'utf16Length']) {
    if (rng() < 0.4) o[k] = randomValue(rng, depth + 1);
  }
  return o;
}

const PROTOCOLS = [TOKEN_WORKER, WORKSPACE_WORKER, MODEL_WORKER] as unknown as WorkerProtocol<RequestTable, NotificationTable, EventTable>[];

/** A worker message the host acts on is a reply with a request id, or an event of a kind the protocol declares. */
function assertWellFormed(v: WorkerMessage, protocol: WorkerProtocol<RequestTable, NotificationTable, EventTable>): void {
  if (v.type !== 'event') return assert.ok(Number.isInteger(v.id) && v.id >= 0);
  // Only the model worker declares an event; for the others none passes, whatever its kind ('__proto__' too).
  if (Object.keys(protocol.events).length === 0) assert.equal(parseWorkerEvent(protocol, v), undefined, JSON.stringify(v).slice(0, 200));
}

test('webview messages: the valid ones pass, malformed ones are rejected', () => {
  const valid = [
    { type: 'ready' },
    { type: 'selectToken', index: 3 },
    { type: 'scrolled', line: 0 },
    { type: 'mode', mode: 'compare' },
    { type: 'compare', tokenizers: ['gpt2', 'llama3'], scope: 'document' },
    { type: 'premiums', tokenizers: ['gpt2'] },
    { type: 'setTokenizer', id: 'llama3' },
    { type: 'run', command: 'showPanel' },
    { type: 'nextBytePainted', drawId: 7, domMs: 1.5, paintMs: 14.2 },
  ];
  for (const m of valid) assert.ok(isWebviewToHost(m), JSON.stringify(m));
  const invalid = [
    null,
    'ready',
    { type: 'ready', extra: 1 },
    { type: 'selectToken', index: -1 },
    { type: 'selectToken', index: 1.5 },
    { type: 'selectToken', index: '3' },
    { type: 'scrolled', line: 2 ** 40 },
    { type: 'mode', mode: 'evil' },
    { type: 'compare', tokenizers: 'gpt2', scope: 'document' },
    { type: 'compare', tokenizers: [''], scope: 'document' },
    { type: 'compare', tokenizers: Array(33).fill('gpt2'), scope: 'document' },
    { type: 'compare', tokenizers: ['gpt2'], scope: 'everything' },
    { type: 'setTokenizer', id: 'x'.repeat(201) },
    { type: 'run', command: 'workbench.action.terminal.new' },
    { type: 'nextBytePainted', drawId: 7 },
    { type: 'nextBytePainted', drawId: -1, domMs: 1, paintMs: 1 },
    { type: 'nextBytePainted', drawId: 7, domMs: Number.NaN, paintMs: 1 },
    { type: 'nextBytePainted', drawId: 7, domMs: 1, paintMs: -3 },
    { type: '__proto__' },
    { type: 'toString' },
    { type: 'hasOwnProperty' },
  ];
  for (const m of invalid) assert.equal(isWebviewToHost(m), false, JSON.stringify(m));
});

test('100,000 random payloads: no validator throws, and whatever passes is well-formed', () => {
  const rng = mulberry32(7);
  let passed = 0;
  for (let i = 0; i < 100_000; i++) {
    const v = randomValue(rng);
    if (isWebviewToHost(v)) {
      passed++;
      const m = v as { type: string; index?: unknown };
      if (m.type === 'selectToken') assert.ok(Number.isInteger(m.index) && (m.index as number) >= 0);
    }
    for (const p of PROTOCOLS) {
      const msg = parseHostMessage(p, v);
      if (msg && msg.type !== 'notify') assert.ok(Number.isInteger(msg.id) && msg.id >= 0);
      for (const check of [...Object.values(p.results), ...Object.values(p.progress), ...Object.values(p.events)]) check?.(v);
      if (isWorkerMessage(v)) assertWellFormed(v, p);
    }
  }
  assert.ok(passed < 2000, `random payloads rarely form a valid message (${passed})`);
});

test('tokenization worker messages: analyze needs either the text or edits from a base version, and the document length', () => {
  const tokenizer = { id: 'gpt2' };
  const analyze = (params: unknown) => parseHostMessage<TokenRequests, TokenNotifications>(TOKEN_WORKER, { type: 'request', id: 1, kind: 'analyze', params });
  assert.ok(analyze({ docKey: 'a', version: 2, tokenizer, allowSpecial: false, text: 'hi', utf16Length: 2 }));
  assert.ok(analyze({ docKey: 'a', version: 3, tokenizer, allowSpecial: false, baseVersion: 2, changes: [{ rangeOffset: 0, rangeLength: 1, text: 'x' }], utf16Length: 2 }));
  assert.equal(analyze({ docKey: 'a', version: 3, tokenizer, allowSpecial: false, utf16Length: 2 }), undefined);
  assert.equal(analyze({ docKey: 'a', version: 3, tokenizer, allowSpecial: false, text: 'hi' }), undefined, 'no length');
  assert.equal(analyze({ docKey: 'a', version: 3, tokenizer, allowSpecial: false, baseVersion: 2, changes: [{ rangeOffset: -1, rangeLength: 1, text: 'x' }], utf16Length: 2 }), undefined);
  assert.equal(parseHostMessage<TokenRequests, TokenNotifications>(TOKEN_WORKER, { type: 'request', id: 1, kind: 'describe', params: { tokenizer: { id: '' } } }), undefined);
  assert.ok(parseHostMessage<TokenRequests, TokenNotifications>(TOKEN_WORKER, { type: 'notify', kind: 'close', params: { docKey: 'a' } }));
  assert.equal(parseHostMessage<TokenRequests, TokenNotifications>(TOKEN_WORKER, { type: 'notify', kind: 'analyze', params: {} }), undefined, 'a request kind is not a notification');
  assert.equal(parseHostMessage<TokenRequests, TokenNotifications>(TOKEN_WORKER, { type: 'request', id: 1, kind: 'score', params: {} }), undefined, 'scoring is not the tokenization worker\'s');
  const stream = { count: 1, ids: new Uint32Array(1), byteOffsets: new Uint32Array(2), utf16Offsets: new Uint32Array(2), flags: new Uint8Array(1), byteIntoChar: new Uint8Array(2), byteLength: 1, utf16Length: 1, addedTokens: [] };
  const description = { id: 'gpt2', name: 'GPT-2', algorithm: 'byte-level-bpe', vocabSize: 50257, loadMs: 1 };
  assert.ok(TOKEN_WORKER.results.analyze({ status: 'analysis', tokenizer: description, stream, elapsedMs: 1 }));
  assert.ok(TOKEN_WORKER.results.analyze({ status: 'needText' }));
  assert.equal(TOKEN_WORKER.results.analyze({ status: 'analysis', tokenizer: description, stream: { ...stream, ids: new Uint32Array(2) }, elapsedMs: 1 }), false);
  // The visible lines to tokenize first: a range inside the text sent with it.
  assert.ok(analyze({ docKey: 'a', version: 2, tokenizer, allowSpecial: false, text: 'hi', utf16Length: 2, visible: { utf16Start: 0, utf16End: 2 } }));
  assert.equal(analyze({ docKey: 'a', version: 2, tokenizer, allowSpecial: false, text: 'hi', utf16Length: 2, visible: { utf16Start: 0, utf16End: 3 } }), undefined, 'past the text');
  assert.equal(analyze({ docKey: 'a', version: 2, tokenizer, allowSpecial: false, text: 'hi', utf16Length: 2, visible: { utf16Start: 2, utf16End: 1 } }), undefined, 'reversed');
  // The region sent first: its stream's UTF-16 offsets are the document's, from its start to its end.
  const region = { ...stream, utf16Offsets: new Uint32Array([5, 6]) };
  assert.ok(TOKEN_WORKER.progress.analyze({ version: 2, utf16Start: 5, utf16End: 6, stream: region }));
  assert.equal(TOKEN_WORKER.progress.analyze({ version: 2, utf16Start: 0, utf16End: 6, stream: region }), false, 'offsets that do not start at the region');
  assert.equal(TOKEN_WORKER.progress.analyze({ version: 2, utf16Start: 5, utf16End: 9, stream: region }), false, 'offsets that do not end at the region');
  assert.equal(TOKEN_WORKER.progress.count, null, 'a count reports no progress');
});

test('workspace jobs: a document job carries a stream of its own text; progress is checked per kind', () => {
  const stream = { count: 1, ids: new Uint32Array(1), byteOffsets: new Uint32Array([0, 2]), utf16Offsets: new Uint32Array([0, 2]), flags: new Uint8Array(1), byteIntoChar: new Uint8Array(2), byteLength: 2, utf16Length: 2, addedTokens: [] };
  const job = { text: 'hi', stream, tokenizer: { id: 'gpt2' }, allowSpecial: false, workspaceRoot: '/ws', path: null, storageDir: null };
  assert.ok(WORKSPACE_WORKER.params.score(job));
  assert.equal(WORKSPACE_WORKER.params.score({ ...job, text: 'hi!' }), false, 'a stream of another text');
  assert.ok(WORKSPACE_WORKER.params.nextBytes({ ...job, utf16Offset: 2 }));
  assert.equal(WORKSPACE_WORKER.params.nextBytes({ ...job, utf16Offset: 3 }), false, 'an offset past the text');
  assert.ok(WORKSPACE_WORKER.progress.score({ stage: 'training', done: 1, total: 4 }));
  assert.equal(WORKSPACE_WORKER.progress.score({ done: 1, total: 4 }), false, 'a stage');
  assert.equal(WORKSPACE_WORKER.progress.compare, null, 'Compare reports no progress');
  assert.ok(MODEL_WORKER.progress.load({ stage: 'download', download: { file: 'onnx/model.onnx', fileBytes: 10, fileTotal: 20, bytes: 30, total: 100, filesDone: 1, files: 3 } }));
  assert.equal(MODEL_WORKER.progress.load({ stage: 'download', download: { receivedBytes: 30, totalBytes: 100 } }), false);
});

/** A random model request envelope built from the model protocol's own kinds and fields, each valid, wrong or missing by chance. */
function randomModelMessage(rng: () => number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const maybe = (valid: () => unknown): unknown => (rng() < 0.6 ? valid() : rng() < 0.5 ? undefined : randomValue(rng));
  const str = () => pick(['', 'x', 'gpt2', 'org/name', '../../etc/passwd', 'x'.repeat(5000)]);
  const params: Record<string, unknown> = {
    model: maybe(() => ({ spec: str(), dtype: maybe(() => pick(['fp32', 'q8', 'fp64'])), threads: maybe(() => pick([1, 0, 300, 2.5])) })),
    hub: maybe(() => ({ allowDownloads: maybe(() => rng() < 0.5), host: maybe(str), cacheDir: maybe(str), token: maybe(str) })),
    ids: maybe(() => pick([new Uint32Array(3), new Int32Array(3), [1, 2, 3], new Float64Array(2)])),
    topK: maybe(() => pick([0, 5, 1000, 1001, -1, 2.5])),
    repoId: maybe(str),
    cacheDir: maybe(str),
    endpoint: maybe(() => ({ url: str(), topK: maybe(() => pick([1, 20, 21, 0])), timeoutMs: maybe(() => pick([1, 0, 1e9])) })),
    tokenizer: maybe(() => ({ id: str(), path: maybe(str) })),
    startContext: maybe(() => pick([[1, 2], Array(17).fill(1), [-1], 'x'])),
    sae: maybe(() => ({ spec: str(), subfolder: maybe(str), hook: maybe(str), labels: maybe(str) })),
    text: maybe(str),
    encoder: maybe(() => pick(['topk', 'nope', 3])),
    k: maybe(() => pick([1, 0, 2 ** 21, 4])),
    m: maybe(() => pick([1, 0, 2 ** 21])),
    allowSpecial: maybe(() => rng() < 0.5),
  };
  for (const k of Object.keys(params)) if (params[k] === undefined || rng() < 0.3) delete params[k];
  const o: Record<string, unknown> = {
    type: maybe(() => pick(['request', 'cancel', 'notify', 'result', 'progress', 'error', 'event'])),
    id: maybe(() => pick([0, 7, 2 ** 31, -1, 1.5, '3'])),
    kind: maybe(() => pick(['load', 'score', 'next', 'download', 'listCache', 'removeCached', 'remoteScore', 'features', 'unload', 'runtime', 'nope', '__proto__'])),
    event: maybe(() => ({ runtime: maybe(() => pick(['native', 'wasm', 'gpu'])), origin: maybe(str) })),
    params: maybe(() => params),
    code: maybe(() => pick(['model', 'cancelled', 'downloads-off', 'x'])),
    message: maybe(str),
  };
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

test("model worker messages: 100,000 random payloads from the protocol's own fields; no validator throws, and whatever passes is well-formed", () => {
  const rng = mulberry32(11);
  const passed = { host: 0, worker: 0, events: 0 };
  for (let i = 0; i < 100_000; i++) {
    const v = randomModelMessage(rng);
    const msg = parseHostMessage<ModelRequests, Record<never, never>>(MODEL_WORKER, v);
    if (msg) {
      passed.host++;
      assert.ok((msg.type as string) !== 'notify', 'the model worker takes no notifications');
      assert.ok(Number.isInteger(msg.id) && msg.id >= 0, JSON.stringify(msg).slice(0, 200));
      if (msg.type === 'request') {
        assert.ok(!['next', 'download', 'unload'].includes(msg.kind), 'removed kinds are refused');
        // The fields each kind acts on are the right type (other fields are never read).
        if (msg.kind === 'score' || msg.kind === 'remoteScore') assert.ok(msg.params.ids instanceof Uint32Array);
        if (msg.kind === 'load' || msg.kind === 'score' || msg.kind === 'features') assert.ok(msg.params.model.spec.length > 0 && msg.params.model.spec.length <= 4096);
      }
    }
    if (isWorkerMessage(v)) {
      passed.worker++;
      if (v.type !== 'event') assert.ok(Number.isInteger(v.id) && v.id >= 0);
      const event = v.type === 'event' ? parseWorkerEvent<ModelEvents>(MODEL_WORKER, v) : undefined;
      if (event) {
        passed.events++;
        assert.ok(event.kind === 'runtime' && ['native', 'wasm'].includes(event.event.runtime) && event.event.origin.length > 0 && event.event.origin.length <= 4096, JSON.stringify(event).slice(0, 200));
      }
    }
  }
  assert.ok(passed.host > 0 && passed.host < 20_000, JSON.stringify(passed));
  assert.ok(passed.events > 0 && passed.events < 20_000, JSON.stringify(passed));
});

// ---------- what must not compile (checked by `npm run typecheck`; never called) ----------

export function typeLevelChecks(tokens: TokenWorkerClient, models: ModelWorkerClient, hooks: WorkerHooks): void {
  // A protocol that lacks one kind's result validator.
  const partialResults = { analyze: TOKEN_WORKER.results.analyze, count: TOKEN_WORKER.results.count, describe: TOKEN_WORKER.results.describe };
  // @ts-expect-error: tokenTexts has no result validator
  void ({ ...TOKEN_WORKER, results: partialResults } satisfies WorkerProtocol<TokenRequests, TokenNotifications>);
  // A worker whose handler table lacks a kind.
  // @ts-expect-error: no handler for compare (and the rest)
  void ({ retrain: async () => ({ description: '' }) } satisfies RequestHandlers<WorkspaceRequests>);
  // The result is the kind's own: a count has no stream.
  void tokens.request('count', { tokenizer: { id: 'gpt2' }, text: '', allowSpecial: false }).then((r) => {
    // @ts-expect-error: count's result has no stream
    void r.stream;
  });
  // @ts-expect-error: describe reports no progress, so it takes no progress callback
  void tokens.request('describe', { tokenizer: { id: 'gpt2' } }, { onProgress: () => undefined });
  // Download progress has the core's names (bytes, total), not receivedBytes/totalBytes.
  void models.request('load', { model: { spec: 'x' }, hub: { allowDownloads: false } }, {
    onProgress: (p) => {
      if (p.stage !== 'download') return;
      void p.download.bytes;
      // @ts-expect-error: the name that made download progress 0 of 0
      void p.download.receivedBytes;
    },
  });
  // A worker's event handler: only the kinds its protocol declares, with that kind's fields.
  modelWorkerClient('modelWorker.js', hooks, { onEvent: { runtime: (e) => void e.origin } });
  // @ts-expect-error: the model worker sends no 'loaded' event
  modelWorkerClient('modelWorker.js', hooks, { onEvent: { loaded: () => undefined } });
  // @ts-expect-error: the runtime event has no 'version'
  modelWorkerClient('modelWorker.js', hooks, { onEvent: { runtime: (e) => void e.version } });
}
