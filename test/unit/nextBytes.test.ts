/**
 * The exact next-byte distribution (src/core/lm/nextByte/) against brute force: on short strings, every
 * token sequence whose bytes start with the prefix is enumerated, the valid ones (prefixes of a canonical
 * encoding: helpers/nextByteOracle.ts decides it from the definition with the real tokenizer) summed, and compared with the implementation: P(prefix), the
 * distribution over the 256 bytes and end-of-text (normalised once), the chain of next-byte probabilities,
 * and the next characters. With a tiny BPE vocabulary (a tokenizer.json trained here, read by the real
 * loader) and two models (the built-in n-gram and a random bigram), and with GPT-2. Also: exact and naive
 * agree where the definition says they must, the boundary-crossing shortcut equals BPE of the whole word,
 * and the inexact modes say so.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenseDistribution, type LanguageModel, type NextTokenDistribution } from '../../src/core/lm/model';
import { trainNgram } from '../../src/core/lm/ngram';
import { bytePrefixLogProb, nextByteDistribution, type NextByteResult } from '../../src/core/lm/nextByte';
import { BoundaryCrossings, PieceBpe, TokenChains } from '../../src/core/lm/nextByte/bpe';
import { inRanges } from '../../src/core/lm/nextByte/firstChainTrie';
import { TokenTable } from '../../src/core/lm/nextByte/tokenTable';
import { trainTinyByteLevelBpe } from '../../src/core/lm/tinyBpe';
import { BpeTokenizer } from '../../src/core/tokenizers/engine';
import { loadHfTokenizer } from '../../src/core/tokenizers/hfLoader';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import type { Tokenizer } from '../../src/core/tokenizers/types';
import { mulberry32 } from '../harness/hardStrings';
import { NextByteOracle } from './helpers/nextByteOracle';

const CORPUS = [
  'def f(x):\n    return x + 1\n',
  'def g(a, b):\n    return a * b  # product\n',
  "the cat sat on the mat. it's the cat's mat.\n",
  'café naïve — 5 € for a coffee 😀\n',
  'x = 12\ny = 345\nprint(x, y)\n',
  'the cafe and the café are the same\n',
  '    if x:\n        return the_value\n',
];

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Brute force over a tokenizer and a model. */
class Brute {
  readonly bytes: Uint8Array[] = [];
  readonly usable: number[] = [];
  private readonly oracle: NextByteOracle;
  private readonly probMemo = new Map<string, number>();
  private readonly distMemo = new Map<string, NextTokenDistribution>();

  constructor(
    readonly tokenizer: Tokenizer,
    readonly model: LanguageModel,
  ) {
    assert.ok(tokenizer instanceof BpeTokenizer);
    const cfg = tokenizer.config;
    const special = new Set(cfg.addedTokens.filter((t) => t.special).map((t) => t.id));
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      const b = tokenizer.tokenBytes(id);
      this.bytes.push(b);
      if (b.length && !special.has(id)) this.usable.push(id);
    }
    // The tiny vocabularies and GPT-2 prefixes here need few continuations to find a witness (short lists keep
    // the enumeration over every cover fast); the full list is exercised by nextBytesOracle.test.ts.
    this.oracle = new NextByteOracle(tokenizer, { model, support: this.usable }, ['', ' ', '  ', 'a', 'A', '1', '.', '\n', ' a', '  a', '\n\na', ' \na', "'s", "'t", 'é', '(', ')', ':', '#', '/', 'aB', ' 1', '1234']);
  }

  private dist(seq: readonly number[]): NextTokenDistribution {
    const key = seq.join(',');
    let d = this.distMemo.get(key);
    if (!d) {
      const ctx = Uint32Array.from(seq.slice(Math.max(0, seq.length - this.model.contextTokens)));
      d = this.model.nextDistribution(ctx) as NextTokenDistribution;
      this.distMemo.set(key, d);
    }
    return d;
  }

  prob(seq: readonly number[]): number {
    const key = seq.join(',');
    let p = this.probMemo.get(key);
    if (p === undefined) {
      p = seq.length === 0 ? 1 : this.prob(seq.slice(0, -1)) * this.dist(seq.slice(0, -1)).prob(seq[seq.length - 1]);
      this.probMemo.set(key, p);
    }
    return p;
  }

  /** The definition: some continuation makes seq a prefix of the canonical encoding (decided by the oracle). */
  valid(seq: readonly number[]): boolean {
    return this.oracle.valid(seq);
  }

  /** The valid covers of x: t₁..t_k with decode(t₁..t_{k-1}) a strict prefix of x and x a prefix of decode(t). */
  covers(x: Uint8Array): number[][] {
    const out: number[][] = [];
    if (x.length === 0) return [[]];
    const rec = (seq: number[], d: number): void => {
      for (const t of this.usable) {
        const tb = this.bytes[t];
        const n = Math.min(tb.length, x.length - d);
        let ok = true;
        for (let k = 0; k < n && ok; k++) if (tb[k] !== x[d + k]) ok = false;
        if (!ok) continue;
        // Validity is prefix-closed (a prefix of a canonical encoding's prefix is one): prune early.
        const next = [...seq, t];
        if (!this.valid(next)) continue;
        if (d + tb.length >= x.length) out.push(next);
        else rec(next, d + tb.length);
      }
    };
    rec([], 0);
    return out;
  }

  /** P(x) = Σ over valid covers. */
  prefixProb(x: Uint8Array): number {
    let p = 0;
    for (const c of this.covers(x)) if (c.length === 0 || this.valid(c)) p += this.prob(c);
    return p;
  }

  /** P(x·b) for the 256 bytes, and P(x·end) = P(canonical(x) + END) when x is whole characters. */
  nextMasses(x: Uint8Array): Float64Array {
    const out = new Float64Array(257);
    const xb = new Uint8Array(x.length + 1);
    xb.set(x);
    for (let b = 0; b < 256; b++) {
      xb[x.length] = b;
      out[b] = this.prefixProb(xb);
    }
    try {
      const canon = Array.from(this.tokenizer.encode(fatal.decode(x)).ids);
      out[256] = this.prob(canon) * this.dist(canon).prob(this.model.endOfTextId);
    } catch {
      out[256] = 0;
    }
    return out;
  }
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** The same model, answering asynchronously (as a neural model in a worker would). */
function asAsync(model: LanguageModel): LanguageModel {
  return { ...model, nextDistribution: async (ctx) => model.nextDistribution(ctx) };
}

/** A bigram model with random probabilities over the tokenizer's ids and END (dense). */
function randomBigram(vocab: number, seed: number): LanguageModel {
  const V = vocab + 1;
  const cache = new Map<number, Float64Array>();
  return {
    id: 'random-bigram',
    description: 'random bigram',
    vocabSize: V,
    endOfTextId: vocab,
    contextTokens: 1,
    nextDistribution(context) {
      const prev = context.length ? context[context.length - 1] : -1;
      let p = cache.get(prev);
      if (!p) {
        const rng = mulberry32(seed * 7919 + prev + 2);
        p = new Float64Array(V);
        let z = 0;
        for (let i = 0; i < V; i++) z += p[i] = -Math.log(1 - rng()) * (rng() < 0.05 ? 30 : 1);
        for (let i = 0; i < V; i++) p[i] /= z;
        cache.set(prev, p);
      }
      return new DenseDistribution(p);
    },
  };
}

function checkAgainstBrute(brute: Brute, r: NextByteResult, x: Uint8Array, what: string): void {
  const masses = brute.nextMasses(x);
  const Z = sum(masses);
  assert.ok(Z > 0, `${what}: brute-force total`);
  assert.ok(Math.abs(sum(r.distribution) - 1) < 1e-9, `${what}: sums to 1`);
  for (let b = 0; b < 257; b++) {
    const expected = masses[b] / Z;
    assert.ok(Math.abs(r.distribution[b] - expected) <= 1e-9 + 1e-6 * expected, `${what}: byte ${b}: ${r.distribution[b]} vs ${expected}`);
  }
  const canon = Array.from(brute.tokenizer.encode(fatal.decode(x)).ids);
  const PT = brute.prob(canon);
  assert.ok(Math.abs(r.total - Z / PT) <= 1e-6 * (Z / PT), `${what}: total ${r.total} vs ${Z / PT}`);
  const Px = brute.prefixProb(x);
  assert.ok(Math.abs(r.prefixRatio - Px / PT) <= 1e-6 * (Px / PT), `${what}: P(x)/P(T) ${r.prefixRatio} vs ${Px / PT}`);
}

const tinyJson = trainTinyByteLevelBpe(CORPUS.join(''), 120);

/** o200k_base's split pattern (camelCase words, case-insensitive contractions, digits by three, `/` runs). */
const O200K_PATTERN =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const FIXTURES: Record<string, () => string> = {
  'GPT-2 pattern, merges': () => tinyJson,
  'GPT-2 pattern, whole-word rule': () => trainTinyByteLevelBpe(CORPUS.join(''), 120, { ignoreMerges: true }),
  'o200k pattern, whole-word rule': () => trainTinyByteLevelBpe(CORPUS.join('') + 'getValue fooBar HTTPServer x//y 1234567\n', 120, { ignoreMerges: true, pattern: O200K_PATTERN }),
};

const PREFIXES = ['', 'd', 'def', 'def f', 'the ca', 'caf', 'café', 'x  ', "it'", "It'S", 'a\n', 'a \n ', '\n\n', ' 12', '1234', '€', 'the_v', 'getV', 'fooB', 'x//', '(x'];

test('tiny BPE fixture: loads through the real loader and round-trips the corpus', () => {
  const tok = loadHfTokenizer(tinyJson, { sourceName: 'tiny' });
  const merges = (JSON.parse(tinyJson) as { model: { merges: string[] } }).model.merges.length;
  assert.ok(merges >= 90, `${merges} merges`);
  assert.equal(tok.vocabSize, 256 + merges);
  for (const line of CORPUS) {
    const ids = tok.encode(line).ids;
    const bytes = Array.from(ids).flatMap((id) => Array.from(tok.tokenBytes(id)));
    assert.deepEqual(bytes, Array.from(enc(line)));
  }
  assert.ok(tok.encode('the cat').count < 7, 'merges happen');
});

for (const [modelName, makeModel] of [
  ['n-gram', (tok: Tokenizer) => trainNgram(tok.vocabSize, CORPUS.map((t, i) => ({ key: `f${i}`, ids: tok.encodeIds(t) })), { order: 3 }).languageModel],
  ['random bigram', (tok: Tokenizer) => randomBigram(tok.vocabSize, 3)],
] as const) {
  for (const [fixture, json] of Object.entries(FIXTURES)) {
    test(`brute force, tiny vocabulary (${fixture}), ${modelName}: P(prefix), the next-byte distribution, total`, async () => {
      const tok = loadHfTokenizer(json(), { sourceName: 'tiny' });
      const model = makeModel(tok);
      const brute = new Brute(tok, model);
      const lm = modelName === 'random bigram' ? asAsync(model) : model;
      for (const x of PREFIXES) {
        const r = await nextByteDistribution(lm, tok, x, x.length);
        assert.equal(r.exact, true);
        checkAgainstBrute(brute, r, enc(x), `${JSON.stringify(x)}`);
        if (x) {
          const lp = await bytePrefixLogProb(lm, tok, x);
          const bf = brute.prefixProb(enc(x));
          assert.ok(Math.abs(Math.exp(lp.logProb) - bf) <= 1e-6 * bf, `P(${JSON.stringify(x)}) ${Math.exp(lp.logProb)} vs ${bf}`);
        }
      }
    });
  }
}

test('brute force: the chain of next-byte probabilities over a string, and the next characters', async () => {
  const tok = loadHfTokenizer(tinyJson, { sourceName: 'tiny' });
  const model = trainNgram(tok.vocabSize, CORPUS.map((t, i) => ({ key: `f${i}`, ids: tok.encodeIds(t) })), { order: 3 }).languageModel;
  const brute = new Brute(tok, model);
  const s = 'def f(x):';
  let chain = 1;
  let expected = 1;
  for (let i = 0; i <= s.length; i++) {
    const r = await nextByteDistribution(model, tok, s, i);
    const x = enc(s.slice(0, i));
    const masses = brute.nextMasses(x);
    const next = i < s.length ? s.charCodeAt(i) : 256;
    chain *= r.distribution[next];
    expected *= masses[next] / sum(masses);
  }
  assert.ok(Math.abs(chain - expected) <= 1e-9 * expected, `${chain} vs ${expected}`);
  // Characters: 'é' after "caf" is two bytes, c3 a9: its probability is the chain of the two conditionals.
  const r = await nextByteDistribution(model, tok, 'the caf', 7, { expandThreshold: 1e-6 });
  const x = enc('the caf');
  const m1 = brute.nextMasses(x);
  const xc3 = Uint8Array.from([...x, 0xc3]);
  const m2 = brute.nextMasses(xc3);
  assert.equal(m2[256], 0, 'a text does not end inside a character');
  const pE = (m1[0xc3] / sum(m1)) * (m2[0xa9] / sum(m2));
  const e = r.topCharacters.find((c) => c.text === 'é');
  assert.ok(e, `é among ${JSON.stringify(r.topCharacters)}`);
  assert.ok(Math.abs(e.probability - pE) <= 1e-9 + 1e-6 * pE, `${e.probability} vs ${pE}`);
  const eLetter = r.topCharacters.find((c) => c.text === 'e');
  assert.ok(eLetter && Math.abs(eLetter.probability - r.distribution[0x65]) < 1e-15);
  assert.ok(r.topCharacters[0].probability >= r.topCharacters[1].probability);
});

test('brute force with GPT-2 and the n-gram: P(prefix) and ratios of next bytes', async () => {
  const { tokenizer: tok } = await loadTokenizer('gpt2');
  const model = trainNgram(tok.vocabSize, CORPUS.map((t, i) => ({ key: `f${i}`, ids: tok.encodeIds(t) })), { order: 3 }).languageModel;
  const brute = new Brute(tok, model);
  for (const x of ['the ca', 'def f', 'it']) {
    const xb = enc(x);
    const lp = await bytePrefixLogProb(model, tok, x);
    const bf = brute.prefixProb(xb);
    assert.ok(Math.abs(Math.exp(lp.logProb) - bf) <= 1e-6 * bf, `P(${x}) ${Math.exp(lp.logProb)} vs ${bf}`);
    const r = await nextByteDistribution(model, tok, x, x.length);
    assert.equal(r.exact, true);
    // Unnormalized P(x·b) by brute force for a few bytes: their ratios are the distribution's.
    const bytes = [0x74, 0x20, 0x28, 0x2e, 0x73];
    const masses = bytes.map((b) => brute.prefixProb(Uint8Array.from([...xb, b])));
    for (let k = 1; k < bytes.length; k++) {
      const a = r.distribution[bytes[k]] / r.distribution[bytes[0]];
      const b = masses[k] / masses[0];
      assert.ok(Math.abs(a - b) <= 1e-6 * b, `${x}: ratio ${String.fromCharCode(bytes[k])}/t ${a} vs ${b}`);
    }
  }
});

test('exact and naive agree where the definition says they must (GPT-2, a prefix ending a pre-token)', async () => {
  const { tokenizer: tok } = await loadTokenizer('gpt2');
  const model = trainNgram(tok.vocabSize, CORPUS.map((t, i) => ({ key: `f${i}`, ids: tok.encodeIds(t) })), { order: 3 }).languageModel;
  const brute = new Brute(tok, model);
  const x = 'print(x';
  const xb = enc(x);
  const T = Array.from(tok.encode(x).ids);
  // Bytes b such that (1) no cover of x has a last token that continues with b, and (2) every token starting
  // with b is valid right after T (and T is what comes before it): then exact(b) ∝ P(T)·Σ p(t|T) = naive(b).
  const straddling = new Set<number>();
  for (const c of brute.covers(xb)) {
    const len = c.reduce((n, t) => n + brute.bytes[t].length, 0);
    if (len > xb.length && brute.valid(c)) {
      const last = brute.bytes[c[c.length - 1]];
      straddling.add(last[last.length - (len - xb.length)]);
    }
  }
  const agreeing: number[] = [];
  for (const b of [0x29, 0x2c, 0x5b, 0x2e, 0x3a, 0x20, 0x0a, 0x2b, 0x30, 0x31]) {
    if (straddling.has(b)) continue;
    let all = true;
    for (const t of brute.usable) {
      const tb = brute.bytes[t];
      if (tb[0] !== b) continue;
      let text: string;
      try {
        text = fatal.decode(tb);
      } catch {
        all = false;
        break;
      }
      const ids = Array.from(tok.encode(x + text).ids);
      if (ids.length !== T.length + 1 || ids[T.length] !== t || T.some((id, i) => ids[i] !== id)) {
        all = false;
        break;
      }
    }
    if (all) agreeing.push(b);
  }
  assert.ok(agreeing.length >= 3, `agreeing bytes: ${agreeing}`);
  const r = await nextByteDistribution(model, tok, x, x.length);
  const ratio = r.distribution[256] / r.naive[256];
  for (const b of agreeing) {
    const q = r.distribution[b] / r.naive[b];
    assert.ok(Math.abs(q - ratio) <= 1e-9 * ratio, `byte ${b}: exact/naive ${q} vs ${ratio}`);
  }
  // And where they differ: inside a word, the exact distribution knows the word can go on.
  const mid = await nextByteDistribution(model, tok, 'def g(a, b):\n    return a * b  # prod', 38);
  assert.ok(Math.abs(sum(mid.naive) - 1) < 1e-9 && Math.abs(sum(mid.healing) - 1) < 1e-9);
  assert.ok(mid.distribution[0x75] > mid.naive[0x75], 'u after "prod" is likelier under the exact distribution');
});

test('boundary crossings decide BPE of a joined word as BPE of the whole word does (GPT-2, o200k, Mistral, Gemma 3)', async () => {
  // The pair rule of the exact analyses rests on this: a wrong answer here is a cover counted or missed.
  for (const id of ['gpt2', 'o200k_base', 'mistral', 'gemma3']) {
    const loaded: Tokenizer = (await loadTokenizer(id)).tokenizer;
    assert.ok(loaded instanceof BpeTokenizer);
    const tokenizer: BpeTokenizer = loaded;
    const bpe = new PieceBpe(tokenizer.config, tokenizer.vocabSize);
    const rng = mulberry32(id.length);
    const chars = tokenizer.config.symbols === 'chars';
    const words = ['foo', 'Doc', ' lan', 'print', 'x', ' the', 'ing', 'é', ' 12', 'tion', 'qu', ' ', 'zz', '中', ' (', '  '].map((w) => (chars ? w.replaceAll(' ', '\u2581') : w));
    let checked = 0;
    for (let n = 0; n < 3000; n++) {
      const t = Math.floor(rng() * tokenizer.vocabSize);
      const tb: Uint8Array = tokenizer.tokenBytes(t);
      if (!tb.length) continue;
      const tr = bpe.trace(tb);
      if (tr.tokens.length !== 1 || tr.tokens[0] !== t) continue;
      const h = enc(words[n % words.length]);
      const crossings = new BoundaryCrossings(bpe.trace(h).last, bpe.merges);
      const whole = new Uint8Array(h.length + tb.length);
      whole.set(h);
      whole.set(tb, h.length);
      const direct = Array.from(bpe.trace(whole).tokens);
      const kept = [...Array.from(bpe.trace(h).tokens), t];
      const same = direct.length === kept.length && direct.every((v, i) => v === kept[i]);
      assert.equal(!crossings.crosses(tr.first), same, `${id}: ${JSON.stringify(words[n % words.length])} + token ${t}`);
      checked++;
    }
    assert.ok(checked > 500, `${id}: ${checked} pairs checked`);
  }
});

test('the first-chain trie marks exactly the tokens BoundaryCrossings finds crossing, over the whole vocabulary (GPT-2, o200k, Llama 3, Mistral, Gemma 3)', async () => {
  // joinAfterHead takes its boundary test from the trie: it must agree with the pair test token by token.
  for (const id of ['gpt2', 'o200k_base', 'llama3', 'mistral', 'gemma3']) {
    const loaded: Tokenizer = (await loadTokenizer(id)).tokenizer;
    assert.ok(loaded instanceof BpeTokenizer);
    const tokenizer: BpeTokenizer = loaded;
    const bpe = new PieceBpe(tokenizer.config, tokenizer.vocabSize);
    const chains = new TokenChains(bpe, new TokenTable(tokenizer.vocabSize, (t) => tokenizer.tokenBytes(t), new Set()));
    const trie = chains.firstTrie();
    const chars = tokenizer.config.symbols === 'chars';
    const heads = ['foo', ' lan', 'x', ' the', 'ing', 'é', ' 12', 'qu', ' ', 'zz', '中', ' (', '  ', 'argum', ' asynchronou', '\n\n'].map((w) => (chars ? w.replaceAll(' ', '\u2581') : w));
    let crossed = 0;
    let kept = 0;
    for (const h of heads) {
      const last = bpe.trace(enc(h)).last;
      const pair = new BoundaryCrossings(last, bpe.merges);
      const ranges = trie.crossing(last, (sigma) => bpe.merges.partners(sigma));
      for (let t = 0; t < tokenizer.vocabSize; t++) {
        const first = chains.first(t);
        const at = trie.position[t];
        assert.equal(at >= 0, first.ids.length > 0, `${id}: token ${t} placed iff it has a chain`);
        const expected = first.ids.length > 0 && pair.crosses(first);
        if ((at >= 0 && inRanges(ranges, at)) !== expected) assert.fail(`${id}: head ${JSON.stringify(h)}, token ${t}: trie says ${!expected}, pair test ${expected}`);
        if (expected) crossed++;
        else kept++;
      }
    }
    assert.ok(crossed > 1000 && kept > 1000, `${id}: ${crossed} crossing and ${kept} kept pairs`);
  }
});

test('no restart point within the lookback (Qwen3, Armenian lines): not exact, says why, and reads only the last 256 characters', async () => {
  // Qwen3's lines restart only before printable ASCII: 4096 characters of Armenian lines hold no restart point.
  const { tokenizer } = await loadTokenizer('qwen3');
  const line = 'Յուրաքանչյուր ոք ունի կրթության իրավունք, կրթությունը պետք է լինի անվճար։\n';
  const text = line.repeat(Math.ceil(5000 / line.length)) + 'Յուրաքանչյուր';
  const model = trainNgram(tokenizer.vocabSize, [{ key: 'a', ids: tokenizer.encodeIds(text) }], { order: 3 }).languageModel;
  const r = await nextByteDistribution(model, tokenizer, text, text.length);
  assert.equal(r.exact, false);
  assert.match(r.inexactReason ?? '', /no restart point within 4096 characters before the cursor: covers read within the last 256/);
  assert.ok(r.window <= 256 * 2 && r.window > 200, `window ${r.window} bytes`);
  assert.ok(Math.abs(sum(r.distribution) - 1) < 1e-9);
  // A line that starts with ASCII is a restart point: exact again.
  const ascii = text + '\nok ';
  const e = await nextByteDistribution(model, tokenizer, ascii, ascii.length);
  assert.equal(e.exact, true, e.inexactReason);
});

test('a tokenizer no exact analysis reads says so (Metaspace pre-tokenizer); Mistral, Gemma 3 and Qwen3 (NFC) are exact', async () => {
  const text = 'def add(a, b):\n    return a + b\n';
  for (const id of ['qwen3', 'mistral', 'gemma3']) {
    const { tokenizer } = await loadTokenizer(id);
    const model = trainNgram(tokenizer.vocabSize, [{ key: 'a', ids: tokenizer.encodeIds(text) }], { order: 3 }).languageModel;
    const r = await nextByteDistribution(model, tokenizer, text, 10);
    assert.equal(r.exact, true, `${id}: ${r.inexactReason}`);
    assert.ok(Math.abs(sum(r.distribution) - 1) < 1e-9, `${id} sums to 1`);
    assert.ok(Math.abs(sum(r.naive) - 1) < 1e-9);
    assert.ok(r.window > 0);
    // Mistral and Gemma 3 read a space as ▁: the result says so (the view and the CLI show it), Qwen3 does not.
    assert.equal(r.spaceAs, id === 'qwen3' ? undefined : '\u2581', id);
  }
  // A Metaspace pre-tokenizer (splits at ▁ before BPE): covers along its own tokens, not exact, still a distribution.
  const meta = loadHfTokenizer(JSON.stringify(metaspaceJson()), { sourceName: 'metaspace' });
  const model = randomBigram(meta.vocabSize, 3);
  const r = await nextByteDistribution(model, meta, 'ab ab', 4);
  assert.equal(r.exact, false);
  assert.match(r.inexactReason ?? '', /pre-tokenizer/);
  assert.ok(Math.abs(sum(r.distribution) - 1) < 1e-9);
  assert.ok(Math.abs(sum(r.healing) - 1) < 1e-9);
  const lp = await bytePrefixLogProb(model, meta, 'ab a');
  assert.equal(lp.exact, false);
  assert.ok(Number.isFinite(lp.logProb));
});

/** A tiny SentencePiece-style tokenizer.json with a Metaspace pre-tokenizer. */
function metaspaceJson(): unknown {
  const vocab: Record<string, number> = { '<unk>': 0, '\u2581': 1, a: 2, b: 3, '\u2581a': 4, ab: 5, '\u2581ab': 6 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 7 + b;
  return {
    version: '1.0',
    added_tokens: [{ id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    post_processor: null,
    decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: ['\u2581 a', 'a b', '\u2581a b'] },
  };
}

test('offsets: clamped into the text and moved off the middle of a surrogate pair; byteOffset in UTF-8', async () => {
  const tok = loadHfTokenizer(tinyJson, { sourceName: 'tiny' });
  const model = randomBigram(tok.vocabSize, 5);
  const r = await nextByteDistribution(model, tok, 'a😀b', 2);
  assert.equal(r.offset, 1);
  assert.equal(r.byteOffset, 1);
  const end = await nextByteDistribution(model, tok, 'café', 99);
  assert.equal(end.offset, 4);
  assert.equal(end.byteOffset, 5);
});

test('a long document: the same result from the caller\'s document stream, from a restart point, and from the whole prefix', async () => {
  const { tokenizer: tok } = await loadTokenizer('gpt2');
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) lines.push(CORPUS[i % CORPUS.length].trimEnd() + ` # ${i}`);
  const text = lines.join('\n');
  const ngram = trainNgram(tok.vocabSize, CORPUS.map((t, i) => ({ key: `f${i}`, ids: tok.encodeIds(t) })), { order: 4 }).languageModel;
  // The same model with a context window too long for the shortcut: the whole prefix is encoded.
  const wide: LanguageModel = { ...ngram, id: 'wide', contextTokens: 100_000, nextDistribution: (ctx) => ngram.nextDistribution(ctx.subarray(Math.max(0, ctx.length - 3))) };
  for (const off of [text.length - 3, Math.floor(text.length / 2) + 7]) {
    const viaAnchor = await nextByteDistribution(ngram, tok, text, off);
    const viaStream = await nextByteDistribution(ngram, tok, text, off, { documentStream: tok.encode(text) });
    const whole = await nextByteDistribution(wide, tok, text, off);
    assert.deepEqual(Array.from(viaAnchor.distribution), Array.from(whole.distribution));
    assert.deepEqual(Array.from(viaStream.distribution), Array.from(whole.distribution));
    assert.deepEqual(Array.from(viaAnchor.healing), Array.from(whole.healing));
  }
});
