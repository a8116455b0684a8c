import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitByTokenBudget } from '../../src/core/analysis/budget';
import { loadTokenizer } from '../../src/core/tokenizers/loader';

test('chunks hold at most N tokens, cover the range exactly and are cut at token boundaries', async () => {
  const { tokenizer } = await loadTokenizer('gpt2');
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(20) + '🦜'.repeat(5);
  const s = tokenizer.encode(text);
  for (const budget of [1, 2, 3, 7, 50, 10_000]) {
    const chunks = splitByTokenBudget(s, text, 0, text.length, budget);
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
  const parrot = splitByTokenBudget(s, text, text.indexOf('🦜'), text.length, 1);
  assert.ok(parrot.every((c) => [...text.slice(c.utf16Start, c.utf16End)].every((ch) => ch === '🦜')));
});

test('a selection is split on its own range; a bad budget is refused', async () => {
  const { tokenizer } = await loadTokenizer('o200k_base');
  const text = 'alpha beta gamma delta epsilon zeta eta theta';
  const s = tokenizer.encode(text);
  const a = text.indexOf('beta');
  const b = text.indexOf('eta theta');
  const chunks = splitByTokenBudget(s, text, a, b, 2);
  assert.equal(chunks[0].utf16Start, a);
  assert.equal(chunks[chunks.length - 1].utf16End, b);
  assert.equal(chunks.map((c) => text.slice(c.utf16Start, c.utf16End)).join(''), text.slice(a, b));
  assert.ok(chunks.every((c) => c.tokens <= 2 && c.tokens >= 1));
  // Inner cuts sit on token boundaries of the document stream.
  for (const c of chunks.slice(1)) assert.ok(s.utf16Offsets.includes(c.utf16Start));
  assert.throws(() => splitByTokenBudget(s, text, 0, 1, 0), /budget/);
  assert.throws(() => splitByTokenBudget(s, text, 0, 1, 1, 1), /adds to every text/);
});

// Thai writes vowels and tone marks as combining characters after their consonant: "ดี" is ด + ี.
const THAI = 'ข้อ ๑ มนุษย์ทั้งหลายเกิดมามีอิสระและเสมอกันในเกียรติศักดิ์และสิทธิ ต่างมีเหตุผลและมโนธรรม และควรปฏิบัติต่อกันด้วยเจตนารมณ์แห่งภราดรภาพ';

test('no chunk starts inside a grapheme cluster (Thai combining vowels and tone marks stay on their consonant)', async () => {
  for (const id of ['o200k_base', 'gpt2', 'llama3']) {
    const { tokenizer } = await loadTokenizer(id);
    const s = tokenizer.encode(THAI);
    // The stream itself cuts between a consonant and its mark somewhere, or the test would prove nothing.
    const inner = Array.from(s.utf16Offsets.subarray(1, s.count)).filter((o) => /^\p{M}/u.test(THAI.slice(o)));
    assert.ok(inner.length > 0, `${id} never cuts before a combining mark in the sample`);
    const segments = new Set([...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(THAI)].map((g) => g.index));
    for (const budget of [1, 2, 3, 5, 8]) {
      const chunks = splitByTokenBudget(s, THAI, 0, THAI.length, budget);
      assert.equal(chunks.map((c) => THAI.slice(c.utf16Start, c.utf16End)).join(''), THAI);
      for (const c of chunks) {
        assert.ok(segments.has(c.utf16Start), `${id} budget ${budget}: a chunk starts inside a grapheme cluster: ${JSON.stringify(THAI.slice(c.utf16Start, c.utf16Start + 3))}`);
        assert.ok(!/^\p{M}/u.test(THAI.slice(c.utf16Start, c.utf16End)), `${id} budget ${budget}: a chunk starts with a combining mark`);
        if (!c.over) assert.ok(c.tokens <= budget);
        else assert.ok(c.tokens > budget && !/^\p{M}/u.test(THAI.slice(c.utf16End)));
      }
    }
  }
});

test("the tokens the model adds count against each chunk's budget (Llama 3's BOS: 300 means 299 of the text)", async () => {
  const { tokenizer } = await loadTokenizer('llama3');
  const text = 'All human beings are born free and equal in dignity and rights. '.repeat(40);
  const s = tokenizer.encode(text);
  const added = s.addedTokens.length;
  assert.equal(added, 1);
  const chunks = splitByTokenBudget(s, text, 0, text.length, 30, added);
  assert.ok(chunks.length > 1);
  for (const c of chunks) {
    assert.ok(c.tokens <= 29, `chunk of ${c.tokens} + ${added} added tokens with a budget of 30`);
    // Tokenized on its own, as the model receives it, the chunk fits the budget.
    const alone = tokenizer.encode(text.slice(c.utf16Start, c.utf16End));
    assert.ok(alone.count + alone.addedTokens.length <= 30, `chunk is ${alone.count} + ${alone.addedTokens.length} tokens on its own`);
  }
  assert.ok(chunks.slice(0, -1).some((c) => c.tokens === 29), 'chunks are filled up to the budget less the BOS');
});
