import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitByTokenBudget } from '../../src/core/analysis/budget';
import { loadTokenizer } from '../../src/core/tokenizers/loader';

test('chunks hold at most N tokens, cover the range exactly and are cut at token boundaries', async () => {
  const { tokenizer } = await loadTokenizer('gpt2');
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(20) + '🦜'.repeat(5);
  const s = tokenizer.encode(text);
  for (const budget of [1, 2, 3, 7, 50, 10_000]) {
    const chunks = splitByTokenBudget(s, 0, text.length, budget);
    assert.equal(chunks.map((c) => text.slice(c.utf16Start, c.utf16End)).join(''), text);
    assert.equal(chunks.reduce((n, c) => n + c.tokens, 0), s.count);
    for (const c of chunks) {
      assert.ok(c.tokens <= Math.max(budget, 4), `chunk of ${c.tokens} tokens with budget ${budget}`); // a split emoji (3 tokens) stays whole
      assert.ok(s.utf16Offsets.includes(c.utf16Start) || c.utf16Start === 0);
      assert.ok(!/[\uD800-\uDBFF]$/.test(text.slice(c.utf16Start, c.utf16End)), 'no chunk ends inside a surrogate pair');
    }
    if (budget >= 3) for (const c of chunks.slice(0, -1)) assert.ok(c.tokens <= budget);
  }
  // gpt2 splits the parrot into 3 byte tokens: a budget of 1 keeps them together.
  const parrot = splitByTokenBudget(s, text.indexOf('🦜'), text.length, 1);
  assert.ok(parrot.every((c) => [...text.slice(c.utf16Start, c.utf16End)].every((ch) => ch === '🦜')));
});

test('a selection is split on its own range; a bad budget is refused', async () => {
  const { tokenizer } = await loadTokenizer('o200k_base');
  const text = 'alpha beta gamma delta epsilon zeta eta theta';
  const s = tokenizer.encode(text);
  const a = text.indexOf('beta');
  const b = text.indexOf('eta theta');
  const chunks = splitByTokenBudget(s, a, b, 2);
  assert.equal(chunks[0].utf16Start, a);
  assert.equal(chunks[chunks.length - 1].utf16End, b);
  assert.equal(chunks.map((c) => text.slice(c.utf16Start, c.utf16End)).join(''), text.slice(a, b));
  assert.ok(chunks.every((c) => c.tokens <= 2 && c.tokens >= 1));
  // Inner cuts sit on token boundaries of the document stream.
  for (const c of chunks.slice(1)) assert.ok(s.utf16Offsets.includes(c.utf16Start));
  assert.throws(() => splitByTokenBudget(s, 0, 1, 0), /budget/);
});
