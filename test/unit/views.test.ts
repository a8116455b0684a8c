import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeIds, MAX_PASTED_IDS, parseTokenIds } from '../../src/core/analysis/tokenIds';
import { formatPercent } from '../../src/core/lm/formatProbability';
import { rankBucket, rankHistogram } from '../../src/core/lm/rankHistogram';
import { findModel } from '../../src/core/models/catalog';
import { countFigures, formatShare, formatUsd } from '../../src/core/models/countFigures';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import { isWebviewToHost, MAX_SCRATCH_UTF16 } from '../../src/protocol';
import { WORKSPACE_WORKER } from '../../src/protocol/workspaceWorker';

test('pasted ids: brackets, commas and white space are read as ids; anything else is text', () => {
  assert.deepEqual(parseTokenIds('[9906, 11, 1917]'), [9906, 11, 1917]);
  assert.deepEqual(parseTokenIds('9906 11 1917'), [9906, 11, 1917]);
  assert.deepEqual(parseTokenIds(' 9906,11,\n1917 '), [9906, 11, 1917]);
  assert.deepEqual(parseTokenIds('[9906, 11, 1917,]'), [9906, 11, 1917]);
  assert.deepEqual(parseTokenIds('42'), [42]);
  for (const text of ['', 'hello', '12 apples', '[1, 2', '1.5 2', '-1 2', '[]', '1,,2', '0x10']) assert.equal(parseTokenIds(text), null, JSON.stringify(text));
  assert.equal(parseTokenIds(Array(MAX_PASTED_IDS + 1).fill('1').join(' ')), null, 'more ids than the bound');
  assert.equal(parseTokenIds('1 2 3', 2), null, 'a smaller bound');
});

test('decoding ids gives back the text they were encoded from, emoji split across tokens included', async () => {
  const text = 'Hello, 世界! 👨‍👩‍👧 naïve\tcafé\r\nمرحبا';
  for (const id of ['o200k_base', 'cl100k_base', 'llama3', 'gpt2']) {
    const { tokenizer } = await loadTokenizer(id);
    const ids = [...tokenizer.encodeIds(text)];
    const d = decodeIds(tokenizer, ids);
    assert.equal(d.text, text, id);
    assert.deepEqual(
      d.tokens.map((t) => t.id),
      ids,
    );
    assert.equal(
      d.tokens.reduce((n, t) => n + t.byteLength, 0),
      Buffer.byteLength(text),
      `${id}: the tokens' bytes add up to the text's`,
    );
    assert.deepEqual(d.unknownIds, []);
  }
});

test('decoding ids: an id outside the vocabulary is named, not decoded', async () => {
  const { tokenizer } = await loadTokenizer('gpt2');
  const d = decodeIds(tokenizer, [15496, 50257, 995, 50257, 99999999]);
  assert.equal(d.text, 'Hello world');
  assert.deepEqual(d.unknownIds, [50257, 99999999]);
  assert.deepEqual(
    d.tokens.map((t) => t.unknown),
    [false, true, false, true, true],
  );
  // A lone byte of a character decodes to U+FFFD in the text, and reads as an escape in its chip.
  const split = tokenizer.encodeIds('👨');
  assert.ok(split.length > 1, 'gpt2 splits 👨');
  const one = decodeIds(tokenizer, [split[0]]);
  assert.match(one.text, /\uFFFD/);
  assert.match(one.tokens[0].text, /\\x[0-9a-f]{2}/i);
});

test("GLTR's rank histogram counts each bucket as a brute-force count does; NaN ranks are left out", () => {
  let seed = 7;
  const rng = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const ranks = Float64Array.from({ length: 5000 }, () => (rng() < 0.05 ? NaN : 1 + Math.floor(rng() ** 3 * 5000)));
  const h = rankHistogram(ranks);
  const expected = [0, 0, 0, 0];
  let ranked = 0;
  for (const r of ranks) {
    if (Number.isNaN(r)) continue;
    ranked++;
    expected[r <= 10 ? 0 : r <= 100 ? 1 : r <= 1000 ? 2 : 3]++;
  }
  assert.deepEqual(h.counts, expected);
  assert.equal(h.ranked, ranked);
  assert.deepEqual(
    [1, 10, 11, 100, 101, 1000, 1001].map(rankBucket),
    [0, 0, 1, 1, 2, 2, 3],
  );
  assert.deepEqual(rankHistogram(Float64Array.of(1, 2, 500, 2000), 1, 3).counts, [1, 0, 1, 0], 'a range of tokens');
});

test('probabilities read as percentages everywhere, never in scientific notation', () => {
  assert.equal(formatPercent(0.5), '50.0%');
  assert.equal(formatPercent(0.0012), '0.12%');
  assert.equal(formatPercent(9.5e-4), '0.095%');
  assert.equal(formatPercent(1.234e-5), '0.0012%');
  assert.equal(formatPercent(1e-9), '<0.0001%');
  assert.equal(formatPercent(0), '0%');
  for (let e = -12; e <= 0; e += 0.25) {
    const s = formatPercent(10 ** e);
    assert.match(s, /^(<)?\d+(\.\d+)?%$/, `${10 ** e} reads ${s}`);
  }
});

test("a count's context share and cost read as the CLI's count --model gives them", () => {
  const gpt4o = findModel('gpt-4o');
  const llama = findModel('llama-3.1-8b');
  assert.ok(gpt4o && llama);
  const f = countFigures(12_800, gpt4o);
  assert.equal(f.fraction, 0.1);
  assert.equal(formatShare(f.fraction), '10.00%');
  assert.equal(formatUsd(f.inputCost), '$0.032');
  assert.equal(formatShare(countFigures(5, gpt4o).fraction), '0.0039%');
  assert.equal(formatUsd(countFigures(5, llama).inputCost), '-', 'no list price');
  assert.equal(formatUsd(1234.5), '$1234.50');
  assert.deepEqual(countFigures(5, undefined), { contextWindow: null, fraction: null, inputCost: null });
});

test('the scratch input and the side-by-side requests are bounded and checked', () => {
  assert.equal(isWebviewToHost({ type: 'scratch', input: '[1, 2]', tokenizer: 'gpt2', as: 'auto' }), true);
  assert.equal(isWebviewToHost({ type: 'scratch', input: 'text', tokenizer: 'gpt2', as: 'text' }), true);
  assert.equal(isWebviewToHost({ type: 'scratch', input: 'x'.repeat(MAX_SCRATCH_UTF16 + 1), tokenizer: 'gpt2', as: 'auto' }), false, 'too long');
  assert.equal(isWebviewToHost({ type: 'scratch', input: 'x', tokenizer: '', as: 'auto' }), false, 'no tokenizer');
  assert.equal(isWebviewToHost({ type: 'scratch', input: 'x', tokenizer: 'gpt2', as: 'bytes' }), false, 'unknown reading');
  assert.equal(isWebviewToHost({ type: 'scratch', input: 5, tokenizer: 'gpt2', as: 'auto' }), false);
  const { params } = WORKSPACE_WORKER;
  assert.equal(params.decodeIds({ tokenizer: { id: 'gpt2' }, ids: [1, 2, 3] }), true);
  assert.equal(params.decodeIds({ tokenizer: { id: 'gpt2' }, ids: [1, -2] }), false, 'a negative id');
  assert.equal(params.decodeIds({ tokenizer: { id: 'gpt2' }, ids: Array(MAX_PASTED_IDS + 1).fill(1) }), false, 'too many ids');
  assert.equal(params.tokenStreams({ text: 'a', tokenizers: [{ id: 'gpt2' }], allowSpecial: false }), true);
  assert.equal(params.tokenStreams({ text: 'a'.repeat(200_001), tokenizers: [{ id: 'gpt2' }], allowSpecial: false }), false, 'too long for chips');
  assert.equal(params.tokenStreams({ text: 'a', tokenizers: Array(17).fill({ id: 'gpt2' }), allowSpecial: false }), false, 'too many tokenizers');
});
