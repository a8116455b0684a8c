/**
 * Efficiency measures (src/core/analysis/metrics.ts) against values worked out by hand: tiny token
 * streams built here, and short texts whose GPT-2 / o200k_base tokens are well known.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  continuedWordCount,
  lineStartBytes,
  perLineCounts,
  perLineRelativeCost,
  relativeCost,
  renyiEfficiency,
  textMetrics,
  wordByteSpans,
} from '../../src/core/analysis/metrics';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import type { TokenStream } from '../../src/core/tokenizers/types';

/** A stream over `text` with the given byte boundaries (n+1 of them) and ids (default 0..n-1). */
function stream(text: string, boundaries: number[], ids?: number[]): TokenStream {
  const n = boundaries.length - 1;
  const bytes = new TextEncoder().encode(text);
  assert.equal(boundaries[0], 0);
  assert.equal(boundaries[n], bytes.length);
  // UTF-16 offsets: count the code units of whole characters before each boundary (rounded down).
  const utf16 = boundaries.map((b) => new TextDecoder().decode(bytes.subarray(0, b)).replace(/\uFFFD$/, '').length);
  return {
    count: n,
    ids: Uint32Array.from(ids ?? boundaries.slice(1).map((_, i) => i)),
    byteOffsets: Uint32Array.from(boundaries),
    utf16Offsets: Uint32Array.from(utf16),
    flags: new Uint8Array(n),
    byteIntoChar: new Uint8Array(n + 1),
    byteLength: bytes.length,
    utf16Length: text.length,
    addedTokens: [],
  };
}

const close = (actual: number | null, expected: number, eps = 1e-9) => {
  assert.ok(actual !== null && Math.abs(actual - expected) <= eps, `${actual} ≉ ${expected}`);
};

test('textMetrics on a hand-built stream: "ab cd" as ab | " c" | d', () => {
  // Bytes 5, chars 5, words "ab" [0,2) and "cd" [3,5). Tokens [0,2) [2,4) [4,5).
  // "ab": 1 token. "cd": " c" overlaps [3,5) (2 < 5 and 4 > 3) and "d" does: 2 tokens, continued.
  const m = textMetrics('ab cd', stream('ab cd', [0, 2, 4, 5]), 16);
  assert.equal(m.count, 3);
  assert.equal(m.bytes, 5);
  assert.equal(m.chars, 5);
  assert.equal(m.words, 2);
  close(m.bytesPerToken, 5 / 3);
  close(m.charsPerToken, 5 / 3);
  close(m.fertility, 3 / 2);
  close(m.continuedWordShare, 1 / 2);
  // Ids 0,1,2 each once: uniform over 3, H_α = ln 3 for every α; / ln 16.
  close(m.renyiEfficiency, Math.log(3) / Math.log(16));
});

test('a leading space belongs to no word: " hello" as one token or as " " + "hello" is not a continued word', () => {
  const text = ' hello';
  assert.equal(textMetrics(text, stream(text, [0, 6])).continuedWordShare, 0);
  assert.equal(textMetrics(text, stream(text, [0, 1, 6])).continuedWordShare, 0);
  // " hel" + "lo": both overlap the word's bytes [1,6): continued.
  assert.equal(textMetrics(text, stream(text, [0, 4, 6])).continuedWordShare, 1);
  // Fertility counts every token, the whitespace-only one too: 2 tokens / 1 word.
  assert.equal(textMetrics(text, stream(text, [0, 1, 6])).fertility, 2);
});

test('a superword token counts once for each word it covers', () => {
  // "a b" as one token: two words, each covered by 1 token → none continued; fertility 1/2.
  const m = textMetrics('a b', stream('a b', [0, 3]));
  assert.equal(m.words, 2);
  assert.equal(m.fertility, 0.5);
  assert.equal(m.continuedWordShare, 0);
  // "a b" + "c" over "a bc": word "bc" [2,4) is covered by "a b" and "c" → 1 of 2 continued.
  assert.equal(textMetrics('a bc', stream('a bc', [0, 3, 4])).continuedWordShare, 0.5);
});

test('zero-width tokens: a prepended ▁ at a word start does not count, an expansion token at its end does', () => {
  // "hi": zero-width ▁ at 0, then "hi" [0,2) → 1 token in the word.
  assert.equal(textMetrics('hi', stream('hi', [0, 0, 2])).continuedWordShare, 0);
  // "ǆ" (2 bytes) → "d" [0,2) + zero-width "ž" at 2 (NFKC expansion): 2 tokens in the word.
  assert.equal(textMetrics('ǆ z', stream('ǆ z', [0, 2, 2, 4])).continuedWordShare, 0.5);
  assert.equal(continuedWordCount(stream('ǆ', [0, 2, 2]), wordByteSpans('ǆ').spans), 1);
});

test('bytes, characters and words of non-ASCII text', () => {
  // "😀 x": 😀 is 4 bytes and 1 code point (2 UTF-16 units); total 6 bytes, 3 chars, 2 words.
  const w = wordByteSpans('😀 x');
  assert.deepEqual([...w.spans], [0, 4, 5, 6]);
  assert.equal(w.chars, 3);
  assert.equal(w.bytes, 6);
  // A lone surrogate is U+FFFD in the stream: 3 bytes, 1 char.
  assert.equal(wordByteSpans('a\uD800b').bytes, 5);
  assert.equal(wordByteSpans('a\uD800b').chars, 3);
  // Unicode whitespace (ideographic space, no-break space, tab, newline) separates words.
  assert.equal(wordByteSpans('a\u3000b\u00a0c\td\ne').spans.length / 2, 5);
  // "é" [0,2) split into two 1-byte partial tokens: 2 tokens for 1 char → chars/token 0.5, continued.
  const m = textMetrics('é', stream('é', [0, 1, 2]));
  assert.equal(m.charsPerToken, 0.5);
  assert.equal(m.bytesPerToken, 1);
  assert.equal(m.continuedWordShare, 1);
});

test('an empty text: every ratio is 0, Rényi efficiency 0 (null without a vocabulary size)', () => {
  const m = textMetrics('', stream('', [0]), 100);
  assert.deepEqual(m, { count: 0, bytes: 0, chars: 0, words: 0, bytesPerToken: 0, charsPerToken: 0, fertility: 0, continuedWordShare: 0, renyiEfficiency: 0 });
  assert.equal(textMetrics('', stream('', [0])).renyiEfficiency, null);
});

test('Rényi efficiency (α = 2.5): hand-computed distributions', () => {
  // Uniform over k types: H_α = ln k. Four types, |V| = 16 → ln 4 / ln 16 = 1/2.
  close(renyiEfficiency(Uint32Array.from([1, 2, 3, 4]), 16), 0.5);
  // [1,1,2,2] over |V| = 4: uniform over 2 → ln 2 / ln 4 = 1/2; order does not matter.
  close(renyiEfficiency(Uint32Array.from([2, 1, 2, 1]), 4), 0.5);
  // One type only: H = 0.
  close(renyiEfficiency(Uint32Array.from([7, 7, 7]), 10), 0);
  // p = (3/4, 1/4): Σp^2.5 = 0.5625·√0.75 + 1/32 = 0.487139 + 0.03125 = 0.518389;
  // H = ln(0.518389) / (1 − 2.5) = 0.657029 / 1.5 = 0.438019; over ln 2 = 0.693147 → 0.63193.
  close(renyiEfficiency(Uint32Array.from([5, 5, 5, 9]), 2), 0.63193, 1e-5);
  assert.equal(renyiEfficiency(Uint32Array.from([1]), 1), null);
});

test('relativeCost: a ratio, null when the reference has no tokens', () => {
  assert.equal(relativeCost(6, 4), 1.5);
  assert.equal(relativeCost(0, 4), 0);
  assert.equal(relativeCost(3, 0), null);
  assert.equal(relativeCost(0, 0), null);
});

test('lines: "\\n", "\\r\\n" and "\\r" end lines; a token counts for the line where it starts', () => {
  // "ab\n\ncd\r\ne": bytes a0 b1 \n2 \n3 c4 d5 \r6 \n7 e8. Lines start at 0, 3, 4, 8.
  const text = 'ab\n\ncd\r\ne';
  assert.deepEqual([...lineStartBytes(text)], [0, 3, 4, 8]);
  assert.deepEqual([...lineStartBytes('a\rb\r\n')], [0, 2, 5]);
  // T: "ab" "\n\n" "c" "d\r\n" "e". "\n\n" starts on line 0 (byte 2) → [2, 0, 2, 1].
  const t = stream(text, [0, 2, 4, 5, 8, 9]);
  // R: a b \n \n cd \r\n e → [3, 1, 2, 1].
  const r = stream(text, [0, 1, 2, 3, 4, 6, 8, 9]);
  assert.deepEqual([...perLineCounts(text, t)], [2, 0, 2, 1]);
  assert.deepEqual([...perLineCounts(text, r)], [3, 1, 2, 1]);
  assert.deepEqual(perLineRelativeCost(text, t, r), [
    { line: 0, tokens: 2, referenceTokens: 3, relativeCost: 2 / 3 },
    { line: 1, tokens: 0, referenceTokens: 1, relativeCost: 0 },
    { line: 2, tokens: 2, referenceTokens: 2, relativeCost: 1 },
    { line: 3, tokens: 1, referenceTokens: 1, relativeCost: 1 },
  ]);
  // Swapped: line 1 has no reference token → null.
  assert.equal(perLineRelativeCost(text, r, t)[1].relativeCost, null);
  // Multi-byte: "é\nü" → é [0,2) \n [2,3) ü [3,5). A partial token [1,3) starts inside é, on line 0.
  assert.deepEqual([...perLineCounts('é\nü', stream('é\nü', [0, 1, 3, 5]))], [2, 1]);
  // A text ending in a line break has an empty last line.
  assert.deepEqual([...perLineCounts('a\n', stream('a\n', [0, 1, 2]))], [2, 0]);
  assert.deepEqual([...perLineCounts('', stream('', [0]))], [0]);
});

test('GPT-2 on known texts', async () => {
  const gpt2 = (await loadTokenizer('gpt2')).tokenizer;
  // "hello" " world" " foo": 3 tokens, 15 bytes, 3 words, none continued.
  const a = textMetrics('hello world foo', gpt2.encode('hello world foo'), gpt2.vocabSize);
  assert.equal(a.count, 3);
  assert.equal(a.bytesPerToken, 5);
  assert.equal(a.charsPerToken, 5);
  assert.equal(a.fertility, 1);
  assert.equal(a.continuedWordShare, 0);
  // Three distinct ids: ln 3 / ln 50257.
  close(a.renyiEfficiency, Math.log(3) / Math.log(50257));
  // "token" "ization" " is" " fun": 4 tokens over 3 words, 1 continued word.
  const b = textMetrics('tokenization is fun', gpt2.encode('tokenization is fun'), gpt2.vocabSize);
  assert.equal(b.count, 4);
  close(b.fertility, 4 / 3);
  close(b.continuedWordShare, 1 / 3);
  close(b.bytesPerToken, 19 / 4);
  // "hello" "\n" "world": the newline token starts on line 0.
  assert.deepEqual([...perLineCounts('hello\nworld', gpt2.encode('hello\nworld'))], [2, 1]);
});

test('GPT-2 vs o200k_base per line: "\\n\\n" is one o200k token that starts on the line it ends', async () => {
  const gpt2 = (await loadTokenizer('gpt2')).tokenizer;
  const o200k = (await loadTokenizer('o200k_base')).tokenizer;
  // GPT-2: "a" "\n" "\n" "b"; o200k: "a" "\n\n" "b". Lines: "a", "", "b".
  const text = 'a\n\nb';
  assert.deepEqual(perLineRelativeCost(text, gpt2.encode(text), o200k.encode(text)), [
    { line: 0, tokens: 2, referenceTokens: 2, relativeCost: 1 },
    { line: 1, tokens: 1, referenceTokens: 0, relativeCost: null },
    { line: 2, tokens: 1, referenceTokens: 1, relativeCost: 1 },
  ]);
});

test('Rényi efficiency at α = 1 is Shannon entropy over log|V|', () => {
  // p = (1/2, 1/4, 1/4): H = ½ln2 + ½ln4 = 1.5 ln 2; over ln 8 = 3 ln 2 → 1/2.
  close(renyiEfficiency(Uint32Array.from([1, 1, 2, 3]), 8, 1), 0.5);
});
