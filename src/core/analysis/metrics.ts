/**
 * Tokenizer efficiency measures over one text and its token stream(s)
 * (docs/ALGORITHMS.md#tokenizer-efficiency-and-premiums). Pure functions over the stream's typed arrays: no
 * object per token.
 *
 * Conventions:
 * - Bytes are UTF-8 bytes of the well-formed text (a lone surrogate counts as U+FFFD, 3 bytes), as in the
 *   stream; chars are Unicode code points; words are maximal runs of non-whitespace (JavaScript `\s`).
 * - A ratio whose denominator is 0 (an empty text, a text without words) is 0, except relative cost,
 *   which is null when the reference has no tokens (0 would read as "free").
 * - A word's tokens are the tokens whose byte span overlaps the word's bytes. Whitespace belongs to no word,
 *   so a token that spans a leading space and the word (GPT-2's `Ġhello`) counts once for that word and
 *   `" hello"` as one token is not a continued word; a token that is only whitespace counts for no word;
 *   a token spanning two words (a superword token) counts for each. A zero-width token counts for a word
 *   when it sits inside it or at its end (the 2nd token of an NFKC expansion sits at the end of the
 *   character it expands: `ǆ` → `d` + zero-width `ž` is 2 tokens), not at its start (a prepended `▁`).
 * - Lines end at "\n", "\r\n" or "\r"; the line break belongs to the line it ends. A token counts for the
 *   line where its first byte is, so a token spanning lines (`".\n\n"`) counts once, for the line it starts on.
 */
import { utf8LengthOfCodePoint } from '../text/utf8';
import type { TokenStream } from '../tokenizers/types';
import { grownTo } from '../typedArrays';

interface TextMetrics {
  /** Tokens in the stream (without the BOS/EOS a model adds). */
  readonly count: number;
  readonly bytes: number;
  /** Unicode code points. */
  readonly chars: number;
  /** Whitespace-separated words. */
  readonly words: number;
  readonly bytesPerToken: number;
  readonly charsPerToken: number;
  /** Tokens per whitespace word (all tokens, whitespace-only ones included). */
  readonly fertility: number;
  /** Share of words covered by two or more tokens (0..1). */
  readonly continuedWordShare: number;
  /** Rényi entropy (α = 2.5) of the token unigram distribution over log |V| (0..1); null without a vocabulary size > 1. */
  readonly renyiEfficiency: number | null;
}

const RENYI_ALPHA = 2.5;

function isWhitespaceCode(c: number): boolean {
  // Exactly the code units JavaScript's \s matches.
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    (c >= 0x80 &&
      (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff))
  );
}

/** Byte spans of whitespace-separated words, as [start0, end0, start1, end1, ...], and the code-point count. */
export function wordByteSpans(text: string): { spans: Uint32Array; chars: number; bytes: number } {
  let spans = new Uint32Array(64);
  let n = 0;
  let chars = 0;
  let byte = 0;
  let wordStart = -1;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    // ASCII inline (most text); other characters through codePointAt, where a lone surrogate is its own
    // code point: 3 bytes (as U+FFFD), 1 unit.
    const cp = c < 0x80 ? c : (text.codePointAt(i) as number);
    const ws = isWhitespaceCode(c);
    if (!ws && wordStart < 0) wordStart = byte;
    else if (ws && wordStart >= 0) {
      if (n + 2 > spans.length) spans = grownTo(spans, spans.length * 2);
      spans[n++] = wordStart;
      spans[n++] = byte;
      wordStart = -1;
    }
    byte += utf8LengthOfCodePoint(cp);
    i += cp > 0xffff ? 2 : 1;
    chars++;
  }
  if (wordStart >= 0) {
    if (n + 2 > spans.length) spans = grownTo(spans, spans.length * 2);
    spans[n++] = wordStart;
    spans[n++] = byte;
  }
  return { spans: spans.subarray(0, n), chars, bytes: byte };
}

/**
 * How many words are covered by two or more tokens. `spans` as from wordByteSpans. One sweep: tokens and
 * words are both in byte order, and a token's end never decreases.
 */
export function continuedWordCount(stream: TokenStream, spans: Uint32Array): number {
  const b = stream.byteOffsets;
  const n = stream.count;
  let first = 0;
  let continued = 0;
  for (let w = 0; w < spans.length; w += 2) {
    const ws = spans[w];
    const we = spans[w + 1];
    while (first < n && b[first + 1] <= ws) first++;
    let k = 0;
    // Tokens from `first` on end after ws; they overlap while they start before we. A zero-width token
    // exactly at we also counts (the 2nd token of an NFKC expansion sits at the end of its character).
    for (let t = first; t < n && k < 2 && (b[t] < we || (b[t] === we && b[t + 1] === we)); t++) k++;
    if (k >= 2) continued++;
  }
  return continued;
}

/**
 * Rényi efficiency H_α(p) / log|V| of the token unigram distribution of `ids` (Zouhar et al. 2023), with
 * H_α(p) = log(Σ p_i^α) / (1 − α); null when vocabSize ≤ 1. Counts types by sorting a copy of the ids.
 */
export function renyiEfficiency(ids: Uint32Array, vocabSize: number, alpha = RENYI_ALPHA): number | null {
  if (!(vocabSize > 1)) return null;
  if (ids.length === 0) return 0;
  const sorted = ids.slice().sort();
  const total = sorted.length;
  // Σ p^α over token types (α = 1: the Shannon limit, Σ −p ln p).
  let sum = 0;
  let run = 1;
  for (let i = 1; i <= total; i++) {
    if (i < total && sorted[i] === sorted[i - 1]) {
      run++;
      continue;
    }
    const p = run / total;
    sum += alpha === 1 ? -p * Math.log(p) : Math.pow(p, alpha);
    run = 1;
  }
  const h = alpha === 1 ? sum : Math.log(sum) / (1 - alpha);
  // H is ≥ 0 in theory; clamp the -0 / rounding noise of a one-token distribution.
  return Math.max(0, h) / Math.log(vocabSize);
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/** Every efficiency measure of one text under one tokenizer; `vocabSize` (the tokenizer's) for Rényi efficiency. */
export function textMetrics(text: string, stream: TokenStream, vocabSize?: number): TextMetrics {
  const { spans, chars, bytes } = wordByteSpans(text);
  const words = spans.length / 2;
  const count = stream.count;
  return {
    count,
    bytes,
    chars,
    words,
    bytesPerToken: ratio(bytes, count),
    charsPerToken: ratio(chars, count),
    fertility: ratio(count, words),
    continuedWordShare: ratio(continuedWordCount(stream, spans), words),
    renyiEfficiency: vocabSize === undefined ? null : renyiEfficiency(stream.ids.subarray(0, count), vocabSize),
  };
}

/** Tokens under T per token under the reference; null when the reference has none. */
export function relativeCost(countT: number, countRef: number): number | null {
  return countRef === 0 ? null : countT / countRef;
}

/** UTF-8 byte offset where each line starts (line 0 at 0). Lines end at "\n", "\r\n" or "\r". */
export function lineStartBytes(text: string): Uint32Array {
  let starts = new Uint32Array(16);
  let n = 1;
  let byte = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) {
      const crlf = c === 0x0d && text.charCodeAt(i + 1) === 0x0a;
      byte += crlf ? 2 : 1;
      i += crlf ? 2 : 1;
      if (n >= starts.length) starts = grownTo(starts, starts.length * 2);
      starts[n++] = byte;
      continue;
    }
    const cp = c < 0x80 ? c : (text.codePointAt(i) as number);
    byte += utf8LengthOfCodePoint(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return starts.subarray(0, n);
}

/** Tokens per line (index = 0-based line); a token counts for the line holding its first byte. */
export function perLineCounts(text: string, stream: TokenStream): Uint32Array {
  return countByLine(lineStartBytes(text), stream);
}

function countByLine(starts: Uint32Array, stream: TokenStream): Uint32Array {
  const counts = new Uint32Array(starts.length);
  const b = stream.byteOffsets;
  let line = 0;
  for (let t = 0; t < stream.count; t++) {
    const start = b[t];
    while (line + 1 < starts.length && starts[line + 1] <= start) line++;
    counts[line]++;
  }
  return counts;
}

export interface LineCost {
  /** 0-based line. */
  readonly line: number;
  readonly tokens: number;
  readonly referenceTokens: number;
  /** tokens / referenceTokens; null when the reference has no token starting on the line. */
  readonly relativeCost: number | null;
}

/** Per line: tokens under T and under the reference (both streams of `text`), and their ratio. */
export function perLineRelativeCost(text: string, streamT: TokenStream, streamRef: TokenStream): LineCost[] {
  const starts = lineStartBytes(text);
  const t = countByLine(starts, streamT);
  const r = countByLine(starts, streamRef);
  const out: LineCost[] = [];
  for (let i = 0; i < starts.length; i++) out.push({ line: i, tokens: t[i], referenceTokens: r[i], relativeCost: relativeCost(t[i], r[i]) });
  return out;
}
