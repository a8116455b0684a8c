/**
 * Random cases for the next-byte property tests: short texts built from the fragments that move pre-token
 * boundaries (whitespace runs, newlines, blank lines, multi-byte and partial characters, digits, punctuation,
 * contractions, camel case, added-token look-alikes), supports for the support-restricted models (every token
 * that can lie over the end of the text, sampled where there are many), and small random workspaces.
 *
 * Shares nothing with src/core/lm/nextByte: it uses the tokenizer's `encode` and `tokenBytes` only.
 */
import type { Tokenizer } from '../../../src/core/tokenizers/types';
import { mulberry32, type Rng } from '../../harness/hardStrings';

const WORDS = ['end', 'ok', 'the', 'a', 'x', 'cat', 'getValue', 'HTTPServer', 'foo_bar', 'Ab', 'café', 'naïve', 'Ünï', '中文', '日本語', 'ア', 'й', 'ß', 'ǅ', 'ﬁ', 'e\u0301', '😀', '\u{1d400}'];
const SPACES = [' ', '  ', '   ', '\t', '\n', '\n\n', '\n\n\n', ' \n', '\n ', '\n  ', '\r\n', '\u00a0', '\u3000', ' \t'];
const DIGITS = ['1', '12', '123', '1234', '٣', '²', '7'];
const PUNCT = ['.', ',', '(', ')', '//', '==', '->', "'", "'s", "'LL", '"', '...', '#', '_', '$', '€', '{', '}', ';\n'];
const ADDED = ['<|endoftext|>', '<|end', '<think>', '</think>', '<s>', '</s>', '<|im_start|>', '<|im_', '<mask>', '<unused1>', '[multimodal]', '<｜end▁of▁sentence｜>', '<|fim_'];

function pick<T>(rng: Rng, a: readonly T[]): T {
  return a[Math.floor(rng() * a.length)];
}

/** A short random text (1 to `maxParts` fragments). */
export function randomText(rng: Rng, maxParts = 4): string {
  const n = 1 + Math.floor(rng() * maxParts);
  let s = '';
  for (let k = 0; k < n; k++) {
    const r = rng();
    s += r < 0.3 ? pick(rng, WORDS) : r < 0.58 ? pick(rng, SPACES) : r < 0.7 ? pick(rng, DIGITS) : r < 0.92 ? pick(rng, PUNCT) : pick(rng, ADDED).slice(0, 2 + Math.floor(rng() * 12));
  }
  return s;
}

/** A small random workspace (for the n-gram), from the same fragments. */
export function randomWorkspace(seed: number, files = 6): string[] {
  const rng = mulberry32(seed);
  const out: string[] = [];
  for (let f = 0; f < files; f++) {
    let s = '';
    for (let k = 0; k < 12; k++) s += randomText(rng, 3);
    out.push(s);
  }
  return out;
}

const enc = new TextEncoder();

/**
 * Ids a support-restricted model gives probability to, for analysing the bytes `x` (possibly ending inside a
 * character): the encodings of x and of x followed by common continuations, the tokens whose bytes agree with
 * x from each of its last positions (sampled down to `perPosition`), tokens that start with each byte of a
 * small set, and `random` others.
 */
export function supportFor(tokenizer: Tokenizer, bytesOf: (id: number) => Uint8Array, x: Uint8Array, texts: readonly string[], rng: Rng, options: { perPosition?: number; random?: number } = {}): Set<number> {
  const perPosition = options.perPosition ?? 24;
  const V = tokenizer.vocabSize;
  const S = new Set<number>();
  for (const t of texts) {
    for (const c of ['', ' ', '\n', 'a', 'e', '.', '1', ' the', '\n\n', 'ok', "'s"]) for (const id of tokenizer.encode(t + c).ids) S.add(id);
  }
  const byPosition: number[][] = Array.from({ length: x.length }, () => []);
  const maxLen = 24;
  for (let id = 0; id < V; id++) {
    const b = bytesOf(id);
    if (b.length === 0) continue;
    for (let i = Math.max(0, x.length - maxLen); i < x.length; i++) {
      let ok = true;
      for (let k = 0; k < b.length && i + k < x.length && ok; k++) if (b[k] !== x[i + k]) ok = false;
      if (ok) byPosition[i].push(id);
    }
  }
  for (const ids of byPosition) {
    if (ids.length <= perPosition) for (const id of ids) S.add(id);
    else for (let k = 0; k < perPosition; k++) S.add(ids[Math.floor(rng() * ids.length)]);
  }
  const random = options.random ?? 60;
  for (let k = 0; k < random; k++) S.add(Math.floor(rng() * V));
  // Tokens that begin with the bytes a text often goes on with, so the masses after x are rich.
  const starts = new Map<number, number[]>();
  for (let id = 0; id < V; id++) {
    const b = bytesOf(id);
    if (b.length === 0) continue;
    let list = starts.get(b[0]);
    if (!list) starts.set(b[0], (list = []));
    list.push(id);
  }
  for (const b of enc.encode(' \n\tae1.\'(é中')) {
    const list = starts.get(b) ?? [];
    for (let k = 0; k < Math.min(6, list.length); k++) S.add(list[Math.floor(rng() * list.length)]);
  }
  return S;
}
