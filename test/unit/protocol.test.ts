/**
 * Every message handler's validator accepts the messages the code sends and rejects everything else:
 * random payloads, wrong types, out-of-range numbers (the webview and worker handlers act only on valid ones).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHostToModelWorker, isModelWorkerToHost } from '../../src/modelProtocol';
import { isHostToTokenWorker, isTokenWorkerToHost, isWebviewToHost } from '../../src/protocol';
import { mulberry32 } from '../harness/hardStrings';

function randomValue(rng: () => number, depth = 0): unknown {
  const r = rng();
  if (depth > 2 || r < 0.15) return null;
  if (r < 0.3) return Math.floor(rng() * 2 ** 33) - 2 ** 32;
  if (r < 0.4) return rng() * 10 - 5;
  if (r < 0.55) return ['ready', 'selectToken', 'scrolled', 'mode', 'compare', 'premiums', 'setTokenizer', 'run', 'analyze', 'count', 'x'][Math.floor(rng() * 11)];
  if (r < 0.65) return rng() < 0.5;
  if (r < 0.8) return Array.from({ length: Math.floor(rng() * 4) }, () => randomValue(rng, depth + 1));
  const o: Record<string, unknown> = {};
  for (const k of ['type', 'kind', 'index', 'line', 'mode', 'tokenizers', 'scope', 'id', 'command', 'requestId', 'text', 'docKey', 'version', 'tokenizer', 'allowSpecial']) {
    if (rng() < 0.4) o[k] = randomValue(rng, depth + 1);
  }
  return o;
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
    { type: '__proto__' },
  ];
  for (const m of invalid) assert.equal(isWebviewToHost(m), false, JSON.stringify(m));
});

test('100,000 random payloads: no validator throws, and whatever passes is well-formed', () => {
  const rng = mulberry32(7);
  let passed = 0;
  for (let i = 0; i < 100_000; i++) {
    const v = randomValue(rng);
    const w = isWebviewToHost(v);
    if (w) {
      passed++;
      const m = v as { type: string; index?: unknown };
      if (m.type === 'selectToken') assert.ok(Number.isInteger(m.index) && (m.index as number) >= 0);
    }
    isHostToTokenWorker(v);
    isTokenWorkerToHost(v);
  }
  assert.ok(passed < 2000, `random payloads rarely form a valid message (${passed})`);
});

test('worker messages: analyze needs either the text or edits from a base version', () => {
  const tokenizer = { id: 'gpt2' };
  assert.ok(isHostToTokenWorker({ kind: 'analyze', requestId: 1, docKey: 'a', version: 2, tokenizer, allowSpecial: false, text: 'hi' }));
  assert.ok(isHostToTokenWorker({ kind: 'analyze', requestId: 1, docKey: 'a', version: 3, tokenizer, allowSpecial: false, baseVersion: 2, changes: [{ rangeOffset: 0, rangeLength: 1, text: 'x' }] }));
  assert.equal(isHostToTokenWorker({ kind: 'analyze', requestId: 1, docKey: 'a', version: 3, tokenizer, allowSpecial: false }), false);
  assert.equal(isHostToTokenWorker({ kind: 'analyze', requestId: 1, docKey: 'a', version: 3, tokenizer, allowSpecial: false, baseVersion: 2, changes: [{ rangeOffset: -1, rangeLength: 1, text: 'x' }] }), false);
  assert.equal(isHostToTokenWorker({ kind: 'describe', requestId: 1, tokenizer: { id: '' } }), false);
  const stream = { count: 1, ids: new Uint32Array(1), byteOffsets: new Uint32Array(2), utf16Offsets: new Uint32Array(2), flags: new Uint8Array(1), byteIntoChar: new Uint8Array(2), byteLength: 1, utf16Length: 1, addedTokens: [] };
  const description = { id: 'gpt2', name: 'GPT-2', algorithm: 'byte-level-bpe', vocabSize: 50257, loadMs: 1 };
  assert.ok(isTokenWorkerToHost({ kind: 'analysis', requestId: 1, docKey: 'a', version: 1, tokenizer: description, stream, elapsedMs: 1 }));
  assert.equal(isTokenWorkerToHost({ kind: 'analysis', requestId: 1, docKey: 'a', version: 1, tokenizer: description, stream: { ...stream, ids: new Uint32Array(2) }, elapsedMs: 1 }), false);
});

/** A random message built from the model protocol's own kinds and fields, each valid, wrong or missing by chance. */
function randomModelMessage(rng: () => number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const maybe = (valid: () => unknown): unknown => (rng() < 0.6 ? valid() : rng() < 0.5 ? undefined : randomValue(rng));
  const str = () => pick(['', 'x', 'gpt2', 'org/name', '../../etc/passwd', 'x'.repeat(5000)]);
  const o: Record<string, unknown> = {
    kind: pick(['load', 'score', 'next', 'download', 'listCache', 'removeCached', 'remoteScore', 'features', 'cancel', 'unload', 'loaded', 'scored', 'downloaded', 'cache', 'removed', 'progress', 'downloadProgress', 'error', 'nope']),
    requestId: maybe(() => pick([0, 7, 2 ** 31, -1, 1.5, '3'])),
    model: maybe(() => ({ spec: str(), dtype: maybe(() => pick(['fp32', 'q8', 'fp64'])), threads: maybe(() => pick([1, 0, 300, 2.5])) })),
    hub: maybe(() => ({ allowDownloads: maybe(() => rng() < 0.5), host: maybe(str), cacheDir: maybe(str), token: maybe(str) })),
    ids: maybe(() => pick([new Uint32Array(3), new Int32Array(3), [1, 2, 3], new Float64Array(2)])),
    context: maybe(() => pick([new Uint32Array(1), [1]])),
    topK: maybe(() => pick([0, 5, 1000, 1001, -1, 2.5])),
    dense: maybe(() => rng() < 0.5),
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
    message: maybe(str),
    code: maybe(() => pick(['model', 'cancelled', 'downloads-off', 'x'])),
    done: maybe(() => pick([0, 5, -1])),
    total: maybe(() => pick([0, 5, -1])),
  };
  for (const k of Object.keys(o)) if (o[k] === undefined || rng() < 0.3) delete o[k];
  return o;
}

test('model worker messages: 100,000 random payloads from the protocol\'s own fields; no validator throws, and whatever passes is well-formed', () => {
  const rng = mulberry32(11);
  const passed = { host: 0, worker: 0 };
  for (let i = 0; i < 100_000; i++) {
    const v = randomModelMessage(rng);
    if (isHostToModelWorker(v)) {
      passed.host++;
      const m = v as Record<string, unknown>;
      if (m.kind !== 'unload') assert.ok(Number.isInteger(m.requestId) && (m.requestId as number) >= 0, JSON.stringify(m).slice(0, 200));
      // The fields each kind acts on are the right type (other fields are never read).
      if (m.kind === 'score' || m.kind === 'remoteScore') assert.ok(m.ids instanceof Uint32Array);
      if (m.kind === 'load' || m.kind === 'score' || m.kind === 'next' || m.kind === 'features' || m.kind === 'unload') assert.ok(typeof (m.model as { spec: unknown }).spec === 'string' && (m.model as { spec: string }).spec.length > 0 && (m.model as { spec: string }).spec.length <= 4096);
    }
    if (isModelWorkerToHost(v)) {
      passed.worker++;
      assert.ok(Number.isInteger((v as { requestId: unknown }).requestId) && (v as { requestId: number }).requestId >= 0);
    }
  }
  assert.ok(passed.host > 0 && passed.host < 20_000, JSON.stringify(passed));
});
