/**
 * The exact next-byte distribution against an independent brute force (helpers/nextByteOracle.ts: it shares
 * nothing with src/core/lm/nextByte but the tokenizer's `encode`/`tokenBytes` and the model's next-token
 * probabilities), for every bundled tokenizer, on random short texts (whitespace runs, newlines, blank lines,
 * multi-byte and partial characters, digits, punctuation, added-token look-alikes) and random small models
 * restricted to a support the brute force can enumerate (the workspace n-gram renormalised, a random bigram).
 *
 * What each check catches:
 * - distributions agree to 1e-9 and P(x) agrees: a valid token sequence missed or an invalid one counted
 *   (the old rule "t is the canonical encoding of its own bytes" fails here on GPT-2's `end\n\n`);
 * - `exact: true` only where the analysis claims it: an inexact case reported as exact;
 * - the chain rule P(w) = Π P(w[..i+1]) / P(w[..i]) over every byte of w, inside characters too, against the
 *   brute force's P(w): masses of the next byte inconsistent with the masses of the longer prefix;
 * - the issue's repro (GPT-2, a workspace that always continues `end\n` with `\n`).
 *
 * Tokenizers without a regex pre-tokenizer (Gemma 3, Mistral) are checked the same way: the text is passed as
 * typed, and the bytes compared are those the model reads (a space is `▁`; Mistral puts one before the text);
 * the brute force decodes a token sequence as their decoders do (`▁` is a space, Mistral's first one dropped).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LanguageModel } from '../../src/core/lm/model';
import { trainNgram } from '../../src/core/lm/ngram';
import { nextByteDistribution } from '../../src/core/lm/nextByte';
import { patternContextOf } from '../../src/core/lm/nextByte/contexts';
import { PatternAnalysis } from '../../src/core/lm/nextByte/patternAnalysis';
import { SegmentAnalysis } from '../../src/core/lm/nextByte/segmentAnalysis';
import { segmentContextOf } from '../../src/core/lm/nextByte/segmentContext';
import { BUNDLED_TOKENIZERS } from '../../src/core/tokenizers/catalog';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import type { Tokenizer } from '../../src/core/tokenizers/types';
import { mulberry32, type Rng } from '../harness/hardStrings';
import { randomText, randomWorkspace, supportFor } from './helpers/nextByteCases';
import { concatBytes, NextByteOracle } from './helpers/nextByteOracle';
import { randomBigram, restrictedModel } from './helpers/supportModels';

const enc = new TextEncoder();
const CASES = Number(process.env.TI_NEXT_BYTE_CASES ?? 2);
const NO_PATTERN = new Set(['gemma3', 'mistral']);

/** The text as the tokenizer reads it (its normalizer applied): the bytes whose next byte is asked. */
function normalizedText(tok: Tokenizer, text: string): string {
  const parts = Array.from(tok.encode(text).ids, (id) => tok.tokenBytes(id));
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return new TextDecoder().decode(out);
}

function normalize(v: Float64Array): Float64Array {
  let z = 0;
  for (const q of v) z += q;
  return v.map((q) => q / z);
}

function maxDiff(a: Float64Array, b: Float64Array): { diff: number; at: number } {
  let diff = 0;
  let at = -1;
  for (let k = 0; k < a.length; k++) {
    const d = Math.abs(a[k] - b[k]);
    if (d > diff) {
      diff = d;
      at = k;
    }
  }
  return { diff, at };
}

/** A support-restricted model for the case: the workspace n-gram or a random bigram. */
function caseModel(tok: Tokenizer, support: Set<number>, rng: Rng, seed: number): LanguageModel {
  if (rng() < 0.5) {
    const files = randomWorkspace(seed).map((t, i) => ({ key: `f${i}`, ids: tok.encodeIds(t) }));
    return restrictedModel(trainNgram(tok.vocabSize, files, { order: 3 }).languageModel, support);
  }
  return randomBigram(tok.vocabSize, support, seed);
}

const bytesOf = (tok: Tokenizer) => (id: number) => tok.tokenBytes(id);

/**
 * decode(t) for the definition, from `encode` alone: a vocabulary that reads a space as `▁` (encode(' ') holds
 * it) decodes `▁` to a space, and one that puts `▁` before the text (encode('a') starts with it) drops it
 * from the start, as the tokenizers' decoders (Replace ▁ → ' ', Strip) do.
 */
function decoderOf(tok: Tokenizer): (s: string) => string {
  const mark = '\u2581';
  const reads = (t: string): string => new TextDecoder().decode(concatBytes(Array.from(tok.encode(t).ids, (id) => tok.tokenBytes(id))));
  if (!reads(' ').includes(mark)) return (s) => s;
  const prepends = reads('a') === mark + 'a';
  return (s) => (prepends && s.startsWith(mark) ? s.slice(1) : s).replaceAll(mark, ' ');
}

for (const entry of BUNDLED_TOKENIZERS) {
  const id = entry.id;
  // Without a pattern the text is passed as typed and the bytes are what the model reads (`▁` for a space).
  const noPattern = NO_PATTERN.has(id);
  test(`next byte, ${id}: the distribution and P(x) agree with the brute force to 1e-9 on random texts`, async () => {
    const { tokenizer: tok } = await loadTokenizer(id);
    assert.ok(noPattern ? segmentContextOf(tok) : patternContextOf(tok), `${id} is analysed exactly`);
    for (let c = 0; c < CASES; c++) {
      const seed = 1000 * (id.length + 7 * id.charCodeAt(0)) + c;
      const rng = mulberry32(seed);
      const typed = randomText(rng);
      const text = noPattern ? typed : normalizedText(tok, typed);
      const read = normalizedText(tok, text);
      const x = enc.encode(read);
      const support = supportFor(tok, bytesOf(tok), x, [text], rng);
      const model = caseModel(tok, support, rng, seed);
      const oracle = new NextByteOracle(tok, { model, support: Array.from(support) }, undefined, decoderOf(tok));
      const want = await oracle.masses(x);
      const got = await nextByteDistribution(model, tok, text, text.length);
      const { diff, at } = maxDiff(got.distribution, normalize(want.mass));
      const label = `${id} ${JSON.stringify(text)} (seed ${seed})`;
      assert.ok(diff <= 1e-9, `${label}: byte ${at} differs by ${diff}`);
      assert.equal(got.exact, true, `${label}: exact`);
      // P(x) relative to P(canonical(x)), against the brute force's absolute masses.
      const canonical = Array.from(tok.encode(text).ids);
      const pCanonical = await oracle.prob(canonical);
      if (pCanonical > 0) assert.ok(Math.abs(got.prefixRatio - want.prefixMass / pCanonical) <= 1e-9 * Math.max(1, got.prefixRatio), `${label}: P(x)/P(canonical)`);
    }
  });

  test(`next byte, ${id}: the chain rule over every byte of a random text, inside characters too`, async () => {
    const { tokenizer: tok } = await loadTokenizer(id);
    const ctx = patternContextOf(tok);
    const sctx = segmentContextOf(tok);
    assert.ok(noPattern ? sctx : ctx);
    const seed = 77 + id.length;
    const rng = mulberry32(seed);
    // A multi-byte character in the middle so that the walk passes through partial characters.
    const typed = randomText(rng, 2) + 'é中' + randomText(rng, 2);
    const text = normalizedText(tok, typed);
    const w = enc.encode(text);
    const support = supportFor(tok, bytesOf(tok), w, [text], rng);
    const model = caseModel(tok, support, rng, seed);
    const oracle = new NextByteOracle(tok, { model, support: Array.from(support) }, undefined, decoderOf(tok));
    // x = the characters before byte i, extra = the bytes of the character byte i lies in before it.
    let logChain = 0;
    let charStart = 0;
    for (let i = 0; i < w.length; i++) {
      if ((w[i] & 0xc0) !== 0x80) charStart = i;
      const head = new TextDecoder().decode(w.subarray(0, charStart));
      const a = sctx
        ? new SegmentAnalysis(sctx, model, head, sctx.prepends, new Uint32Array(0), undefined)
        : new PatternAnalysis(ctx as NonNullable<typeof ctx>, model, head, false, new Uint32Array(0), undefined);
      const m = await a.masses(w.subarray(charStart, i));
      assert.ok(m.prefixMass > 0 && m.mass[w[i]] > 0, `${id} ${JSON.stringify(text)}: byte ${i} has mass`);
      logChain += Math.log(m.mass[w[i]]) - Math.log(m.prefixMass);
    }
    const { prefixMass } = await oracle.masses(w);
    assert.ok(Math.abs(logChain - Math.log(prefixMass)) <= 1e-9 * Math.max(1, Math.abs(logChain)), `${id} ${JSON.stringify(text)}: Π = ${Math.exp(logChain)}, brute force P(w) = ${prefixMass}`);
  });
}

/**
 * Texts that reach each rule of segmentAnalysis.ts: the document's start (Mistral's `▁`), a space or a run
 * of spaces before the cursor, newline and tab runs (Gemma 3's added tokens, which the next character can
 * lengthen), an HTML tag or `<unusedN>` begun (an added token the next characters can complete), characters
 * without a token of their own (byte fallback), and a text that ends inside such a character's bytes.
 */
const SEGMENT_TEXTS = ['', ' ', 'a', 'end\n', 'end\n\n', 'x\t', 'x\t\t', 'a <b', 'a <su', '<unused1', 'f(x) <', 'v[multi', 'ab\u0378', '\u0378', 'ab\u{10FFFF}', '中文 ', 'a  ', 'the cat', '\u00a0x', '½²'];

for (const id of NO_PATTERN) {
  test(`next byte, ${id}: hand-picked texts for each rule agree with the brute force to 1e-9`, async () => {
    const { tokenizer: tok } = await loadTokenizer(id);
    for (let c = 0; c < SEGMENT_TEXTS.length; c++) {
      const text = SEGMENT_TEXTS[c];
      const rng = mulberry32(5000 + c);
      const read = normalizedText(tok, text);
      const x = enc.encode(read);
      const support = supportFor(tok, bytesOf(tok), x, [text, read], rng);
      const model = caseModel(tok, support, rng, 5000 + c);
      const oracle = new NextByteOracle(tok, { model, support: Array.from(support) }, undefined, decoderOf(tok));
      const want = await oracle.masses(x);
      const got = await nextByteDistribution(model, tok, text, text.length);
      const { diff, at } = maxDiff(got.distribution, normalize(want.mass));
      assert.ok(diff <= 1e-9, `${id} ${JSON.stringify(text)}: byte ${at} differs by ${diff}`);
      assert.equal(got.exact, true);
      const pCanonical = await oracle.prob(Array.from(tok.encode(text).ids));
      if (pCanonical > 0) assert.ok(Math.abs(got.prefixRatio - want.prefixMass / pCanonical) <= 1e-9 * Math.max(1, got.prefixRatio), `${id} ${JSON.stringify(text)}: P(x)/P(canonical)`);
    }
  });
}

test('next byte, the issue repro: GPT-2 after `end\\n` with a workspace that always goes on with `\\n`', async () => {
  const { tokenizer: tok } = await loadTokenizer('gpt2');
  const lm = trainNgram(tok.vocabSize, [{ key: 'd', ids: tok.encodeIds('end\n\nok start\n'.repeat(8)) }], { order: 4 }).languageModel;
  const r = await nextByteDistribution(lm, tok, 'end\n', 4);
  assert.equal(r.exact, true);
  assert.ok(r.distribution[0x0a] > 0.5, `P(\\n) = ${r.distribution[0x0a]}`);
  assert.ok(Math.abs(r.distribution[0x0a] - r.naive[0x0a]) < 0.01, 'exact follows the naive column here');
});
