/**
 * Hand-written pre-tokenizer scanners for the regex patterns of the bundled tokenizers (o200k, cl100k and
 * its Llama 3 / Qwen2 variants, GPT-2 / p50k). Each returns, for a start position, the end of the match the
 * pattern's regex would find there, following its alternation order and backtracking exactly, with the
 * reference engines' Unicode tables (unicodeClasses.ts): the same pieces as the exact RegExp, without a
 * regex, a match object or a string per piece. `test/unit/scanners.test.ts` proves them equal to the regex on
 * a large fuzzed corpus. Any other pattern keeps the RegExp.
 *
 * Positions are UTF-16 indices; like the `u` flag, the scanners step over whole code points. `end` bounds
 * every look, lookaheads included (a piece is scanned as if it were the whole string).
 */
import { BMP_CLASS_BITS, CharClass, classBits } from './unicodeClasses';

// Module-local aliases: an imported binding read in a hot loop costs a getter call per read in the CommonJS
// form that tsx (the benchmark, the tests) runs; the bundle does not care either way.
const CLASS_BITS: Uint8Array = BMP_CLASS_BITS;
const astralClassBits: (cp: number) => number = classBits;

/** The end of the match at `pos` (> pos), or -1 when the pattern matches nothing there. */
export type PieceScanner = (s: string, pos: number, end: number) => number;

const L = CharClass.Letter;
const N = CharClass.Number;
const WS = CharClass.Space;
const UP = CharClass.Upper;
const LO = CharClass.Lower;

const CR = 13;
const LF = 10;
const SPACE = 32;
const APOSTROPHE = 39;
const SLASH = 47;

/** Class bits of the code point at i (its first unit; a lone surrogate has none). */
function bitsAt(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff) return CLASS_BITS[c];
  if (i + 1 < end) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return astralClassBits(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
  }
  return 0;
}

/** UTF-16 length of the code point at i. */
function unitsAt(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/** The end of the run of code points from i that have any of `bits`. */
function runOf(s: string, i: number, end: number, bits: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) {
      if ((CLASS_BITS[c] & bits) === 0) return i;
      i++;
    } else {
      if ((bitsAt(s, i, end) & bits) === 0) return i;
      i += unitsAt(s, i, end);
    }
  }
  return i;
}

/** The end of a run of at most `max` code points from i that have `bits`. */
function boundedRunOf(s: string, i: number, end: number, bits: number, max: number): number {
  for (let k = 0; k < max && i < end && (bitsAt(s, i, end) & bits) !== 0; k++) i += unitsAt(s, i, end);
  return i;
}

/** `[^\s\p{L}\p{N}]`: a code point in none of these classes (punctuation, symbols, marks, controls...). */
function isOther(bits: number): boolean {
  return (bits & (WS | L | N)) === 0;
}

/** The end of a run of code points that are none of \s, \p{L}, \p{N}. */
function otherRun(s: string, i: number, end: number): number {
  while (i < end && isOther(bitsAt(s, i, end))) i += unitsAt(s, i, end);
  return i;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/**
 * `'s|'t|'re|'ve|'m|'ll|'d` at i (i holds the apostrophe): the end of the first alternative that matches, or
 * -1. Case-insensitive with the Rust engines' extra fold (ſ for s) when `foldCase`.
 */
function contractionAt(s: string, i: number, end: number, foldCase: boolean): number {
  if (i + 1 >= end || s.charCodeAt(i) !== APOSTROPHE) return -1;
  const raw1 = s.charCodeAt(i + 1);
  const c1 = foldCase ? (raw1 === 0x17f ? 115 : lower(raw1)) : raw1;
  if (c1 === 115 || c1 === 116 || c1 === 109 || c1 === 100) return i + 2; // s t m d
  if (i + 2 >= end) return -1;
  const raw2 = s.charCodeAt(i + 2);
  const c2 = foldCase ? lower(raw2) : raw2;
  if ((c1 === 114 || c1 === 118) && c2 === 101) return i + 3; // re ve
  if (c1 === 108 && c2 === 108) return i + 3; // ll
  return -1;
}

/** An optional case-insensitive contraction after a word that ends at e. */
function withContraction(s: string, e: number, end: number): number {
  const c = contractionAt(s, e, end, true);
  return c < 0 ? e : c;
}

/**
 * The whitespace alternatives at i (which holds \s), in pattern order:
 * `\s*[\r\n]+` (when `newlineRun`), `\s+(?!\S)`, `\s+`.
 */
function whitespace(s: string, i: number, end: number, newlineRun: boolean): number {
  // White_Space has no astral code points: unit steps.
  let j = i;
  let afterNewline = -1;
  while (j < end) {
    const c = s.charCodeAt(j);
    if ((CLASS_BITS[c] & WS) === 0) break;
    j++;
    if (c === LF || c === CR) afterNewline = j;
  }
  // \s*[\r\n]+ : the greedy \s* backs off to the last line break of the run.
  if (newlineRun && afterNewline > 0) return afterNewline;
  // \s+(?!\S): the whole run at the end of the text; else all but its last character, if that leaves one.
  if (j === end) return j;
  return j - i > 1 ? j - 1 : j;
}

/** `[^\r\n\p{L}\p{N}]`: the optional character before a word. */
function isWordPrefix(s: string, i: number, end: number): boolean {
  const c = s.charCodeAt(i);
  return c !== CR && c !== LF && (bitsAt(s, i, end) & (L | N)) === 0;
}

/** `[Upper]*[Lower]+` from i: the end, or -1. */
function upperStarLowerPlus(s: string, i: number, end: number): number {
  let j = i;
  let lastLowerEnd = -1;
  while (j < end) {
    const bits = bitsAt(s, j, end);
    if ((bits & UP) === 0) break;
    j += unitsAt(s, j, end);
    if ((bits & LO) !== 0) lastLowerEnd = j;
  }
  if (j < end && (bitsAt(s, j, end) & LO) !== 0) return runOf(s, j, end, LO);
  // [Lower]+ cannot start after the upper run: the upper run gives back down to its last lower character.
  return lastLowerEnd;
}

/** `[Upper]+[Lower]*` from i: the end, or -1. */
function upperPlusLowerStar(s: string, i: number, end: number): number {
  if (i >= end || (bitsAt(s, i, end) & UP) === 0) return -1;
  return runOf(s, runOf(s, i, end, UP), end, LO);
}

/**
 * o200k_base / o200k_harmony:
 * `[^\r\n\p{L}\p{N}]?[Upper]*[Lower]+(?i:'s|...)?|[^\r\n\p{L}\p{N}]?[Upper]+[Lower]*(?i:'s|...)?|\p{N}{1,3}|
 *  ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
 */
export const scanO200k: PieceScanner = (s, pos, end) => {
  const c0 = s.charCodeAt(pos);
  const bits0 = bitsAt(s, pos, end);
  const units0 = unitsAt(s, pos, end);
  const prefixed = pos + units0 < end && isWordPrefix(s, pos, end);
  if ((bits0 & (UP | LO)) === 0 && c0 < 0x80) {
    // ASCII fast path for characters that cannot start a word themselves (they can only prefix one).
    if (prefixed) {
      const e = upperStarLowerPlus(s, pos + 1, end);
      if (e >= 0) return withContraction(s, e, end);
      const e2 = upperPlusLowerStar(s, pos + 1, end);
      if (e2 >= 0) return withContraction(s, e2, end);
    }
  } else {
    let e = prefixed ? upperStarLowerPlus(s, pos + units0, end) : -1;
    if (e < 0) e = upperStarLowerPlus(s, pos, end);
    if (e >= 0) return withContraction(s, e, end);
    e = prefixed ? upperPlusLowerStar(s, pos + units0, end) : -1;
    if (e < 0) e = upperPlusLowerStar(s, pos, end);
    if (e >= 0) return withContraction(s, e, end);
  }
  if ((bits0 & N) !== 0) return boundedRunOf(s, pos, end, N, 3);
  const other = c0 === SPACE && pos + 1 < end && isOther(bitsAt(s, pos + 1, end)) ? pos + 1 : isOther(bits0) ? pos : -1;
  if (other >= 0) {
    let j = otherRun(s, other, end);
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c !== CR && c !== LF && c !== SLASH) break;
      j++;
    }
    return j;
  }
  if ((bits0 & WS) !== 0) return whitespace(s, pos, end, true);
  return -1;
};

/**
 * cl100k_base and Llama 3 (`maxDigits` 3), Qwen2/Qwen3 (`maxDigits` 1):
 * `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
 */
function cl100kScanner(maxDigits: number): PieceScanner {
  return (s, pos, end) => {
    const c0 = s.charCodeAt(pos);
    if (c0 === APOSTROPHE) {
      const e = contractionAt(s, pos, end, true);
      if (e >= 0) return e;
    }
    const bits0 = bitsAt(s, pos, end);
    const units0 = unitsAt(s, pos, end);
    if (pos + units0 < end && isWordPrefix(s, pos, end) && (bitsAt(s, pos + units0, end) & L) !== 0) return runOf(s, pos + units0, end, L);
    if ((bits0 & L) !== 0) return runOf(s, pos, end, L);
    if ((bits0 & N) !== 0) return boundedRunOf(s, pos, end, N, maxDigits);
    const other = c0 === SPACE && pos + 1 < end && isOther(bitsAt(s, pos + 1, end)) ? pos + 1 : isOther(bits0) ? pos : -1;
    if (other >= 0) {
      let j = otherRun(s, other, end);
      while (j < end) {
        const c = s.charCodeAt(j);
        if (c !== CR && c !== LF) break;
        j++;
      }
      return j;
    }
    if ((bits0 & WS) !== 0) return whitespace(s, pos, end, true);
    return -1;
  };
}

export const scanCl100k: PieceScanner = cl100kScanner(3);
export const scanQwen2: PieceScanner = cl100kScanner(1);

/** GPT-2, p50k_base, r50k_base: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` */
export const scanGpt2: PieceScanner = (s, pos, end) => {
  const c0 = s.charCodeAt(pos);
  if (c0 === APOSTROPHE) {
    const e = contractionAt(s, pos, end, false);
    if (e >= 0) return e;
  }
  const bits0 = bitsAt(s, pos, end);
  const next = c0 === SPACE && pos + 1 < end ? bitsAt(s, pos + 1, end) : 0;
  if ((next & L) !== 0) return runOf(s, pos + 1, end, L);
  if ((bits0 & L) !== 0) return runOf(s, pos, end, L);
  if ((next & N) !== 0) return runOf(s, pos + 1, end, N);
  if ((bits0 & N) !== 0) return runOf(s, pos, end, N);
  if (c0 === SPACE && pos + 1 < end && isOther(next)) return otherRun(s, pos + 1, end);
  if (isOther(bits0)) return otherRun(s, pos, end);
  if ((bits0 & WS) !== 0) return whitespace(s, pos, end, false);
  return -1;
};

export const O200K_PATTERN =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
export const CL100K_PATTERN_SOURCE =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
export const QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
export const GPT2_PATTERN_SOURCE = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const SCANNERS: ReadonlyMap<string, PieceScanner> = new Map([
  [O200K_PATTERN, scanO200k],
  [CL100K_PATTERN_SOURCE, scanCl100k],
  [QWEN2_PATTERN, scanQwen2],
  [GPT2_PATTERN_SOURCE, scanGpt2],
]);

/** The scanner for a pre-tokenizer pattern (as written in tokenizer.json or a tiktoken file), if there is one. */
export function scannerForPattern(pattern: string): PieceScanner | undefined {
  return SCANNERS.get(pattern);
}

/** DeepSeek-V3's three split patterns (its regex path is fast enough: no scanner). */
export const DEEPSEEK_V3_PATTERNS: readonly string[] = [
  '\\p{N}{1,3}',
  '[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+',
  "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
];

const SPACE_BOUNDED: ReadonlySet<string> = new Set([...SCANNERS.keys(), ...DEEPSEEK_V3_PATTERNS]);

/**
 * True for the patterns known to cut before a space or an ASCII punctuation character other than the
 * apostrophe that follows a letter or digit (no piece holds a letter or digit followed by one of those), and
 * after a line break followed by a letter or digit (no piece holds a line break followed by one): the bundled
 * families, checked alternative by alternative. Restart points (RestartRules.lineStartWords, wordEnds) rely on
 * it; test/unit/restartPoints.test.ts checks the restart property at every such point.
 */
export function isSpaceBoundedPattern(pattern: string): boolean {
  return SPACE_BOUNDED.has(pattern);
}
