/**
 * Every message handler's validator accepts the messages the code sends and rejects everything else:
 * random payloads, wrong types, out-of-range numbers (the webview and worker handlers act only on valid ones).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
