/**
 * The engine's word cache (src/core/tokenizers/wordCache.ts) never answers with another word's tokens: over
 * 300,000 random words (more than it holds, so it starts over several times), with words that share prefixes,
 * differ in one code unit or only in length, and surrogates, a hit is always the word's own tokens, and a
 * word inserted is found until the cache starts over. An engine that outgrows its cache still tokenizes
 * exactly as a fresh one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newTokenRun, WordCache } from '../../src/core/tokenizers/wordCache';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import { loadHfTokenizer } from '../../src/core/tokenizers/hfLoader';
import { bundledFilePath } from '../../src/core/tokenizers/loader';
import { findBundled } from '../../src/core/tokenizers/catalog';
import { readFileSync } from 'node:fs';
import { mulberry32 } from '../harness/hardStrings';

/** A token run that encodes the word itself: ids are its code units, so a wrong hit shows. */
function runOf(word: string): { run: ReturnType<typeof newTokenRun>; n: number } {
  const run = newTokenRun(word.length);
  for (let i = 0; i < word.length; i++) {
    run.ids[i] = word.charCodeAt(i);
    run.endUtf16[i] = i + 1;
    run.endByte[i] = i + 1;
  }
  return { run, n: word.length };
}

test('WordCache: a hit is always the word itself, over 300,000 words and several restarts', () => {
  const cache = new WordCache();
  const rng = mulberry32(42);
  const alphabet = ['a', 'b', 'é', '中', '\ud83d\ude00', ' ', '\u2581', 'Z'];
  const recent: string[] = [];
  for (let k = 0; k < 300_000; k++) {
    let word = '';
    const len = 1 + Math.floor(rng() * 12);
    for (let i = 0; i < len; i++) word += alphabet[Math.floor(rng() * alphabet.length)];
    if (k % 7 === 0 && recent.length) word = recent[recent.length - 1] + 'a'; // one unit longer
    const text = `<<${word}>>`;
    let e = cache.find(text, 2, 2 + word.length);
    if (e < 0) {
      const { run, n } = runOf(word);
      e = cache.insert(text, 2, 2 + word.length, run, n);
    }
    const at = cache.tokenOffset(e);
    const n = cache.tokenLength(e);
    let got = '';
    for (let i = 0; i < n; i++) got += String.fromCharCode(cache.tokens.ids[at + i]);
    assert.equal(got, word, `word ${k}`);
    recent.push(word);
    if (recent.length > 50) recent.shift();
  }
  assert.ok(cache.size > 0);
});

test('an engine whose word cache started over tokenizes exactly as a fresh one', async () => {
  const { tokenizer } = await loadTokenizer('gpt2');
  // 150,000 distinct words: more than the cache holds.
  const words: string[] = [];
  for (let i = 0; i < 150_000; i++) words.push(`w${i.toString(36)}x${(i * 7919).toString(36)}`);
  tokenizer.encode(words.join(' '));
  const probe = 'the quick brown fox w1x7919 jumps over wzzx1 ünïcödé 中文 😀 and w1x7919 again';
  const entry = findBundled('gpt2');
  assert.ok(entry);
  const fresh = loadHfTokenizer(readFileSync(bundledFilePath(entry), 'utf8'));
  assert.deepEqual(Array.from(tokenizer.encode(probe).ids), Array.from(fresh.encode(probe).ids));
});
