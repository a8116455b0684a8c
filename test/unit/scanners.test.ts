/**
 * The hand-written pre-tokenizer scanners (src/core/tokenizers/scanners.ts) cut text exactly where the
 * patterns' exact RegExp does (the reference's Unicode tables, which the parity tests tie to tiktoken and the
 * Rust binding): the same pieces on a fuzzed corpus built to hit every alternative and every backtracking
 * path (letters of each case class, marks, Lm/Lo/Lt, astral letters and digits, every White_Space character,
 * U+FEFF, line breaks, contractions with `ſ`, slashes, code points newer than the reference's tables) plus the
 * shared hard strings. SCANNER_CASES sets the number of fuzzed strings per pattern.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSplitPattern } from '../../src/core/tokenizers/regex';
import { CL100K_PATTERN_SOURCE, GPT2_PATTERN_SOURCE, O200K_PATTERN, QWEN2_PATTERN, scannerForPattern, type PieceScanner } from '../../src/core/tokenizers/scanners';
import { classBits, CharClass, hasUnsafeCodePoints, parseClassRanges } from '../../src/core/tokenizers/unicodeClasses';
import { REFERENCE_UNICODE_CLASSES, REFERENCE_UNSAFE_CLASS } from '../../src/core/tokenizers/unicodeTables';
import { escapeForDisplay, hardStringAt, mulberry32, type Rng } from '../harness/hardStrings';

const CASES = Number(process.env.SCANNER_CASES ?? 20_000);
const SEED = Number(process.env.PARITY_SEED ?? 20261128);

/** Character pools, each chosen on purpose; astral ones as surrogate pairs. */
const POOLS: readonly (readonly string[])[] = [
  [...'abcdefghijklmnopqrstuvwxyz'],
  [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'],
  [...'0123456789'],
  [...' '.repeat(6), '\t', '\n', '\r', '\v', '\f', '\u0085', '\u00a0', '\u1680', '\u2000', '\u2009', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\u200b'],
  ["'", "'", "'", 's', 'S', 't', 'T', 'r', 'e', 'E', 'v', 'm', 'M', 'l', 'L', 'd', 'D', '\u017f', '\u212a', 'k'],
  [...'/\\/.,;:!?()[]{}<>"#$%&*+-=@^_`|~', '/', '/'],
  ['\u0301', '\u0308', '\u0327', '\u20dd', '\u0903', '\u093f', '\u0e31', '\u302a', '\u3099'],
  ['\u02b0', '\u02c6', '\u3005', '\u3041', '\u4e2d', '\u6587', '\u05d0', '\u0627', '\u0e01', '\uac00', '\u01c5', '\u01c8', '\u1f88'],
  ['\u00e9', '\u00c9', '\u00df', '\u0131', '\u0130', '\u03a9', '\u03c9', '\u0416', '\u0436', '\u0531', '\u0561', '\u1e9e', '\u2c6f'],
  ['\u00b2', '\u00bd', '\u2460', '\u0663', '\u0966', '\u2167', '\u3007', '\uff11', '\u1040'],
  ['\u{1f600}', '\u{1f468}\u200d\u{1f469}', '\u{1f1fa}\u{1f1f8}', '\u{1d7ce}', '\u{10400}', '\u{10428}', '\u{1d400}', '\u{20000}', '\u{1f3fb}', '\u{e0061}', '\u{10107}'],
  ['\u00ad', '\u0600', '\u061c', '\u200e', '\u2066', '\ue000', '\ufffd', '\u{f0000}', '\u0000', '\u001b', '\u007f'],
];

/** Code points V8 and the reference may classify differently (newer than the reference's tables): 40 of them, spread. */
const NEW_CODE_POINTS: readonly string[] = (() => {
  const ranges = parseClassRanges(REFERENCE_UNSAFE_CLASS);
  const step = Math.max(2, Math.floor(ranges.length / 80) * 2);
  const out: string[] = [];
  for (let r = 0; r < ranges.length; r += step) out.push(String.fromCodePoint(ranges[r]));
  return out;
})();

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)];
}

function fuzzString(rng: Rng): string {
  const n = 1 + Math.floor(rng() * 24);
  // A few pools per string, so that runs of one class form and meet runs of another.
  const pools = [pick(rng, POOLS), pick(rng, POOLS), pick(rng, POOLS)];
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rng();
    if (r < 0.03) s += pick(rng, NEW_CODE_POINTS);
    else if (r < 0.05) {
      let cp = Math.floor(rng() * 0x110000);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x20;
      s += String.fromCodePoint(cp);
    } else s += pick(rng, pools[Math.floor(rng() * pools.length)]);
  }
  return s;
}

function regexPieces(re: RegExp, s: string): number[] {
  const out: number[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    out.push(m.index, m.index + m[0].length);
  }
  return out;
}

function scannerPieces(scan: PieceScanner, s: string): number[] {
  const out: number[] = [];
  for (let p = 0; p < s.length; ) {
    const e = scan(s, p, s.length);
    if (e < 0) {
      const c = s.charCodeAt(p);
      p += c >= 0xd800 && c <= 0xdbff && p + 1 < s.length && (s.charCodeAt(p + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
      continue;
    }
    assert.ok(e > p, `scanner returned an empty piece at ${p} of ${escapeForDisplay(s)}`);
    out.push(p, e);
    p = e;
  }
  return out;
}

function show(s: string, pieces: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < pieces.length; i += 2) parts.push(escapeForDisplay(s.slice(pieces[i], pieces[i + 1]), 40));
  return parts.join(' | ');
}

const PATTERNS: ReadonlyArray<[string, string]> = [
  ['o200k', O200K_PATTERN],
  ['cl100k / Llama 3', CL100K_PATTERN_SOURCE],
  ['Qwen2 / Qwen3', QWEN2_PATTERN],
  ['GPT-2 / p50k', GPT2_PATTERN_SOURCE],
];

for (const [name, pattern] of PATTERNS) {
  test(`${name} scanner: the same pieces as the exact regex on ${CASES} fuzzed strings and 3,000 hard strings`, () => {
    const scan = scannerForPattern(pattern);
    assert.ok(scan, 'no scanner for the pattern');
    const re = compileSplitPattern(pattern).exactPattern;
    const rng = mulberry32(SEED ^ pattern.length);
    const failures: string[] = [];
    const check = (s: string): void => {
      const want = regexPieces(re, s);
      const got = scannerPieces(scan, s);
      if (want.length !== got.length || want.some((v, i) => v !== got[i])) {
        if (failures.length < 5) failures.push(`${escapeForDisplay(s, 120)}\n  regex:   ${show(s, want)}\n  scanner: ${show(s, got)}`);
      }
    };
    for (let i = 0; i < CASES; i++) check(fuzzString(rng));
    for (let i = 0; i < 3000; i++) check(hardStringAt(SEED, i));
    // Slices end where a lookahead would look: the bound is the end of the text for the scanner too.
    const long = Array.from({ length: 200 }, () => fuzzString(rng)).join('');
    for (let end = 0; end <= long.length; end += 7) check(long.slice(0, end));
    assert.deepEqual(failures, [], `${failures.length} strings cut differently:\n${failures.join('\n')}`);
  });
}

test('the class table agrees with the reference tables on every code point', () => {
  const props: Array<[string[], number]> = [
    [['L'], CharClass.Letter],
    [['N'], CharClass.Number],
    [['White_Space'], CharClass.Space],
    [['Lu', 'Lt', 'Lm', 'Lo', 'M'], CharClass.Upper],
    [['Ll', 'Lm', 'Lo', 'M'], CharClass.Lower],
    [['M'], CharClass.Mark],
    [['P'], CharClass.Punct],
    [['S'], CharClass.Symbol],
  ];
  for (const [names, bit] of props) {
    const re = new RegExp(`[${names.map((n) => REFERENCE_UNICODE_CLASSES[n]).join('')}]`, 'u');
    for (let cp = 0; cp <= 0x10ffff; cp += cp < 0x30000 ? 1 : 97) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const want = re.test(String.fromCodePoint(cp));
      if (want !== ((classBits(cp) & bit) !== 0)) assert.fail(`U+${cp.toString(16)}: \\p{${names.join('|')}} is ${want} in the reference table`);
    }
  }
});

test('the unsafe-text check finds exactly the code points the reference has not assigned', () => {
  assert.equal(hasUnsafeCodePoints('plain ASCII, Latin-1 é, 中文, 😀'), false);
  for (const c of NEW_CODE_POINTS) assert.equal(hasUnsafeCodePoints(`abc ${c} def`), true, `U+${c.codePointAt(0)?.toString(16)}`);
  const unsafe = NEW_CODE_POINTS[NEW_CODE_POINTS.length - 1];
  assert.equal(hasUnsafeCodePoints(`x${unsafe}`, 0, 1), false, 'the range bound is respected');
  // The table walk says what the regex of the same ranges says, on the hard strings.
  const re = new RegExp(`[${REFERENCE_UNSAFE_CLASS}]`, 'u');
  for (let i = 0; i < 5000; i++) {
    const s = hardStringAt(SEED, i);
    assert.equal(hasUnsafeCodePoints(s), re.test(s), escapeForDisplay(s));
  }
});
