/**
 * The ONE seeded generator of hard strings for parity and property tests.
 *
 * Every test in the project that needs "awkward input" draws it from here, so
 * that a newly discovered tricky case only has to be added once (to
 * CURATED_STRINGS, or to a category pool below) to be exercised everywhere.
 *
 * Determinism: everything is driven by `mulberry32` (32-bit integer arithmetic
 * via Math.imul, exact on every engine) and by fixed code point tables. There is
 * no Math.random, no Date, no String.prototype.normalize, no Intl and no
 * Unicode-property regex here, so the output does not depend on the machine, the
 * Node version or its ICU/Unicode data version.
 *
 * Reproducing a failure: random case `i` of seed `s` is `hardStringAt(s, i)`
 * (each index has its own derived PRNG stream, so it does not depend on `count`
 * or on the cases before it); `hardStringCases` yields an `id` such as
 * "seed=1#4821" or "curated#12" to put in assertion messages, and
 * `escapeForDisplay` makes invisible characters visible there.
 */

// ---------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------

/** A PRNG: returns a float in [0, 1) with 32 bits of randomness. */
export type Rng = () => number;

/** mulberry32: tiny, fast, good-enough 32-bit PRNG. Same sequence on every machine. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes (seed, index) into a well-spread 32-bit seed (murmur3 fmix32 of a combination). */
export function deriveSeed(seed: number, index: number): number {
  let h = (seed >>> 0) ^ Math.imul((index >>> 0) + 1, 0x9e3779b9);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Integer in [lo, hi] (inclusive). */
function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from empty list');
  return item;
}

/** Small lengths are much more likely than large ones (roughly log-uniform). */
function skewedInt(rng: Rng, lo: number, hi: number): number {
  const r = rng();
  return lo + Math.floor(r * r * r * (hi - lo + 1));
}

type Range = readonly [number, number];

/** One random code point from a set of inclusive [lo, hi] ranges (weighted by size). */
function fromRanges(rng: Rng, ranges: readonly Range[]): string {
  let total = 0;
  for (const [lo, hi] of ranges) total += hi - lo + 1;
  let k = Math.floor(rng() * total);
  for (const [lo, hi] of ranges) {
    const size = hi - lo + 1;
    if (k < size) return cp(lo + k);
    k -= size;
  }
  throw new Error('unreachable');
}

function repeatFn(n: number, f: () => string): string {
  let s = '';
  for (let i = 0; i < n; i++) s += f();
  return s;
}

/**
 * String.fromCodePoint, except that a surrogate code point (U+D800..U+DFFF)
 * yields that lone UTF-16 unit (fromCodePoint already does this; kept explicit).
 */
function cp(codePoint: number): string {
  return String.fromCodePoint(codePoint);
}

// ---------------------------------------------------------------------------
// Categories
// ---------------------------------------------------------------------------

export const HARD_STRING_CATEGORIES = [
  'ascii-text',
  'latin-greek-cyrillic',
  'punctuation',
  'emoji',
  'flags',
  'cjk-han',
  'kana',
  'hangul-syllables',
  'hangul-jamo',
  'combining',
  'indic',
  'thai',
  'rtl-bidi',
  'burmese',
  'amharic',
  'newlines',
  'tabs',
  'exotic-spaces',
  'invisibles',
  'lone-surrogates',
  'astral',
  'digits',
  'code',
  'long-words',
  'contractions',
  'nfkc',
  'special-token-lookalikes',
  'whitespace-runs',
  'sentencepiece-bytelevel-markers',
  'control-chars',
  'private-use',
  'noncharacters',
  'replacement-char',
] as const;

export type HardStringCategory = (typeof HARD_STRING_CATEGORIES)[number];

/** Size class of the string being generated: 'long' strings get a 2000-unit budget. */
type Size = 'normal' | 'long';

type FragmentGen = (rng: Rng, size: Size) => string;

// ----- pools ---------------------------------------------------------------

const ASCII_WORDS = [
  'the', 'The', 'THE', 'a', 'I', 'hello', 'Hello', 'world', 'World', 'token', 'Tokenizer', 'inspector',
  'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'is', 'it', 'of', 'and', 'to', 'in',
  'HTTPServer', 'XMLHttpRequest', 'camelCase', 'snake_case', 'kebab-case', 'iPhone', 'eBay', 'OK',
  'x', 'y', 'z', 'foo', 'bar', 'baz', 'lorem', 'ipsum', 'dolor', 'sit', 'amet', 'Zürich',
];
const ASCII_PUNCT = ['.', ',', '!', '?', ';', ':', '...', '!!', '?!', '-', '--', '(', ')', '"', "'", '/', '&'];

const LGC_WORDS = [
  'café', 'naïve', 'façade', 'Ελληνικά', 'ΣΊΣΥΦΟΣ', 'σίσυφος', 'Привет', 'мир', 'ЁЖИК', 'Україна',
  'İstanbul', 'ıIiİ', 'straße', 'STRASSE', 'ẞ', 'ß', 'Ǆǅǆ', 'ǈ', 'Tiếng Việt', 'Łódź', 'Ångström',
  'œuvre', 'Æsir', 'ŉ', 'ǰ', 'ΐ', 'ﬀ', 'Ω', 'µ', 'ſ', 'Đđ', 'Øresund', 'ỹ', 'ḱ', 'ǖ',
];

const UNICODE_PUNCT = [
  '—', '–', '‐', '‒', '…', '‹', '›', '«', '»', '“', '”', '‘', '’', '„', '‚', '¡', '¿', '‽', '·', '•',
  '∑', '∫', '≈', '≠', '≤', '≥', '→', '⇒', '€', '£', '¥', '₹', '₿', '§', '¶', '©', '®', '°', '±', '×',
  '÷', '─', '│', '┌', '╗', '█', '░', '★', '♪', '✓', '✗', '⟨', '⟩', '【', '】', '〜', '※',
];

const EMOJI_BASIC = [
  '😀', '😂', '🎉', '👍', '❤️', '❤', '🔥', '🚀', '✨', '🤔', '👋', '🙏', '💯', '☕', '⚽', '🐍', '🦀', '🤖',
  '☺︎', '☺️', '✌', '✌️', '™️', '©️', '⌚', '🫠', '🥲', '🪿',
];
const EMOJI_MODIFIABLE = ['👍', '👋', '🙏', '🧑', '👩', '👨', '✋', '🤙', '💪', '🧒', '👶', '🫶'];
const EMOJI_ZWJ = [
  '👩‍👩‍👧‍👦', '🏳️‍🌈', '🏳️‍⚧️', '👨‍💻', '🧑🏽‍🚀', '👁️‍🗨️', '❤️‍🔥', '🐻‍❄️', '👩🏻‍❤️‍💋‍👨🏿', '🧑‍🤝‍🧑',
  '👨‍👩‍👧', '🏴‍☠️', '😮‍💨', '🧔🏾‍♂️', '🫱🏼‍🫲🏿',
];
const EMOJI_KEYCAPS = ['1️⃣', '#️⃣', '*️⃣', '0⃣', '9️⃣'];
const EMOJI_BROKEN = ['\u200D', '👩\u200D', '\u200D👩', '👩\u200D\u200D👧', '\u{1F3FD}', '\uFE0F', '\u20E3', '🏳\u200D🌈'];
const EMOJI_RANGES: readonly Range[] = [
  [0x1f300, 0x1f5ff],
  [0x1f600, 0x1f64f],
  [0x1f680, 0x1f6c5],
  [0x1f900, 0x1f9ff],
  [0x1fa70, 0x1faf8],
  [0x2600, 0x26ff],
];

const TAG_FLAGS = ['🏴󠁧󠁢󠁳󠁣󠁴󠁿', '🏴󠁧󠁢󠁥󠁮󠁧󠁿', '🏴󠁧󠁢󠁷󠁬󠁳󠁿', '🏴󠁵󠁳󠁴󠁸󠁿'];

const HAN_PHRASES = ['中文', '我们', '今天天气很好', '汉字', '漢字', '東京', '北京大学', '人工智能', '你好，世界！', '「引用」', '《书名》', '一二三'];
const KANA_PHRASES = ['こんにちは', 'カタカナ', 'ひらがな', 'ありがとう', 'トークナイザー', 'ヴァイオリン', 'ゝゞヽヾ', 'ぱぴぷぺぽ', 'きゃきゅきょ', 'コーヒー'];
const HANGUL_PHRASES = ['한국어', '안녕하세요', '토크나이저', '값', '읽다', '똠방각하', '힣'];

const INDIC_WORDS = [
  'नमस्ते', 'क्षत्रिय', 'हिन्दी', 'श्रीमान', 'प्रेम', 'क्‍ष', 'क्‌ष', 'र्‍य', 'क़', 'क\u093C', 'ड़ी',
  'தமிழ்', 'ஸ்ரீ', 'க்ஷ', 'வணக்கம்', 'বাংলা', 'র‍্যাব', 'ক্ষ', 'জ্ঞান', 'য়', 'য\u09BC', 'ক্‌ষ', 'ৎ',
];
const INDIC_RANGES: readonly (readonly [Range, number])[] = [
  [[0x0915, 0x0939], 0x094d], // Devanagari consonants, virama
  [[0x0b95, 0x0bb9], 0x0bcd], // Tamil
  [[0x0995, 0x09b9], 0x09cd], // Bengali
];
const INDIC_VOWEL_SIGNS: readonly Range[] = [
  [0x093e, 0x094c],
  [0x0bbe, 0x0bcc],
  [0x09be, 0x09cc],
];

const THAI_WORDS = ['สวัสดี', 'ภาษาไทย', 'ครับ', 'ค่ะ', 'กรุงเทพมหานคร', 'น้ำ', 'ก็', 'ฯลฯ', '๑๒๓'];
const HEBREW_WORDS = ['שלום', 'עולם', 'עברית', 'שָׁלוֹם', 'בְּרֵאשִׁית', 'ירושלים'];
const ARABIC_WORDS = ['مرحبا', 'العربية', 'بالعالم', 'مَرْحَبًا', 'كتـــاب', 'ﻻ', 'ﷺ', 'لا', '٣٤٥', 'فارسی', 'اردو'];
const BIDI_MARKS = [
  '\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u061C',
];

const BURMESE_WORDS = ['မင်္ဂလာပါ', 'မြန်မာ', 'ကျေးဇူး', 'ဘာသာ', '၁၂၃'];
const AMHARIC_WORDS = ['ሰላም', 'አማርኛ', 'ኢትዮጵያ', 'ልዑል', '፩፪፫', '።'];

const EXOTIC_SPACES = [
  '\u00A0', '\u0085', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007',
  '\u2008', '\u2009', '\u200A', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000', '\u180E',
];
const INVISIBLES = [
  '\uFEFF', '\u200B', '\u200C', '\u200D', '\u2060', '\u00AD', '\u034F', '\u180B', '\u180D', '\uFE00', '\uFE0F',
  '\u{E0100}', '\u{E0001}', '\u115F', '\u1160', '\u3164', '\u2061', '\u2062', '\u2063', '\u2064',
];

const ASTRAL_RANGES: readonly Range[] = [
  [0x1d400, 0x1d454], // math bold / italic
  [0x1d7ce, 0x1d7ff], // math digits
  [0x10330, 0x1034a], // Gothic
  [0x10400, 0x1044f], // Deseret
  [0x10000, 0x1000b], // Linear B
  [0x12000, 0x12399], // Cuneiform
  [0x1d100, 0x1d126], // Musical symbols
  [0x20000, 0x2a6df], // CJK Ext B
  [0x1f100, 0x1f10c], // digit commas / parenthesized
  [0x13000, 0x1342e], // Egyptian hieroglyphs
];

const DIGIT_SETS: readonly Range[] = [
  [0x30, 0x39], // ASCII
  [0x0660, 0x0669], // Arabic-Indic
  [0x06f0, 0x06f9], // Extended Arabic-Indic
  [0x0966, 0x096f], // Devanagari
  [0xff10, 0xff19], // Fullwidth
  [0x1d7ce, 0x1d7d7], // Math bold digits (astral)
  [0x0e50, 0x0e59], // Thai
];

const CODE_SNIPPETS: readonly (readonly string[])[] = [
  ['function add(a, b) {', '\treturn a + b;', '}'],
  ['const x: Map<string, number[]> = new Map();', 'for (const [k, v] of x) {', '\tif (v.length > 0) {', '\t\tconsole.log(`${k}=${v.join(",")}`);', '\t}', '}'],
  ['export interface Foo<T extends object = {}> {', '\treadonly bar?: T | null;', '}'],
  ['def fib(n: int) -> int:', '\tif n < 2:', '\t\treturn n', '\treturn fib(n - 1) + fib(n - 2)'],
  ['class A(object):', '\tdef __init__(self, *args, **kwargs):', '\t\tsuper().__init__()', "\t\tself._x = {'a': 1, \"b\": [2, 3]}"],
  ['{', '\t"name": "token-inspector",', '\t"version": "0.1.0",', '\t"nested": {"a": [1, 2.5, -3e10, true, null]}', '}'],
  ['<!DOCTYPE html>', '<html lang="en">', '\t<body class="x">', '\t\t<p>&lt;b&gt; &amp;&nbsp;&#x1F600;</p>', '\t</body>', '</html>'],
  ['.a > .b:hover::before {', '\tcontent: "\\201C";', '\tmargin: 0 auto !important;', '}'],
  ['#!/usr/bin/env bash', 'set -euo pipefail', 'for f in *.ts; do', '\techo "$f" | sed -e \'s/\\.ts$//\'', 'done'],
  ['fn main() -> Result<(), Box<dyn std::error::Error>> {', "\tlet s: &'static str = \"hi\";", '\tprintln!("{s:?}");', '\tOk(())', '}'],
  ['SELECT id, COUNT(*) AS n', 'FROM t', "WHERE name LIKE '%x%'", 'GROUP BY id;'],
  ['x=1;y=2;if(x<y){z=x<<2|y>>>1}else{z=~x^y&0xFF}'],
  ['// TODO: fix', '/* block */ /** jsdoc @param {string} s */', '# comment', '-- sql comment'],
];

const URL_PARTS = ['api', 'v1', 'users', 'token-inspector', 'src', 'core', 'index.html', '%E4%B8%AD', 'a_b-c.d', '~user', 'ünïcode'];
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LONG_WORDS = [
  'supercalifragilisticexpialidocious',
  'Donaudampfschifffahrtsgesellschaftskapitän',
  'pneumonoultramicroscopicsilicovolcanoconiosis',
  'Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch',
  'antidisestablishmentarianism',
];

const CONTRACTION_SUFFIXES = [
  "'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'rE", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'lL", "'Ll", "'d", "'D",
  '’s', '’ll', '’re', "'ſ", "'ſt", "'\u212A", '\u02BCs', '\uFF07s',
];
const CONTRACTION_WORDS = [
  "don't", "DON'T", "I'm", "I'M", "HE'S", "they'LL", "y'all'd've", "rock 'n' roll", "''s", "'s's", " 's", "'",
  "it's", 'it’s', "o'clock", "'twas", "ſtraße", '\u212Aelvin', '\u212A', "we'RE", "'ll'll",
];

const NFKC_CHARS = [
  'ﬁ', 'ﬂ', 'ﬀ', 'ﬃ', 'ﬄ', 'ﬅ', 'ﬆ', '²', '³', '¹', '⁴', '⁰', 'ⁿ', 'ⁱ', '₂', '₍', '½', '¾', '℃', '№', '™', '…',
  '㍿', '㎏', '㎞', '\u00B5', 'Ǆ', '\uFDFA', 'ſ', '\u2126', '\u212B', '\u212A', '\uF900', '\u0958', '\u0340', '\u2000', '\u2001',
  '\u1E9B\u0323', 'ǅ', '⑴', '⒈', 'ⓐ', '㈱', '\u3131', '\uFFA1', '\u0387', '\u037E', '\u1FEF', '\u{1D400}', '\u{1F101}',
];
const NFKC_RANGES: readonly Range[] = [
  [0xff01, 0xff5e], // fullwidth ASCII
  [0x2460, 0x24ff], // circled / parenthesized
  [0x2160, 0x2188], // Roman numerals
  [0xff61, 0xff9f], // halfwidth katakana (incl. U+FF9E/FF9F voiced marks)
  [0x2070, 0x209c], // super/subscripts
  [0x3300, 0x33ff], // CJK compatibility squares
];

const SPECIAL_LOOKALIKES = [
  '<|endoftext|>', '<s>', '</s>', '<bos>', '<eos>', '<pad>', '<unk>', '<|im_start|>', '<|im_end|>', '<think>', '</think>',
  '<tool_call>', '</tool_call>', '<unused0>', '<unused99>', '<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>',
  '<|start_header_id|>', '<|end_header_id|>', '<start_of_turn>', '<end_of_turn>', '<|fim_prefix|>', '<|fim_middle|>',
  '<|fim_suffix|>', '<|fim_pad|>', '<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>',
  '<|reserved_special_token_0|>', '<|reserved_special_token_250|>', '[INST]', '[/INST]', '<|endofprompt|>',
  '<|channel|>', '<|message|>', '<|return|>', '<|start|>', '<|end|>', '<mask>', '[multimodal]', '<EOT>', '<META>',
  '<image_soft_token>', '<|vision_start|>', '<|image_pad|>', '<0x0A>', '<|file_sep|>', '<|repo_name|>',
];
const SPECIAL_MANGLED = [
  '<|endoftext', 'endoftext|>', '<| endoftext |>', '<|ENDOFTEXT|>', '<<s>>', '<s ', '</s', '< s>', '<|', '|>', '<｜',
  '<|im_start|', '<think', 'think>', '<<|im_end|>>', '<|endoftext|><|endoftext|>', '<s><s>', '</s></s>', '<unused>',
];

const SP_MARKERS = ['▁', 'Ġ', 'Ċ', 'ĉ', 'ł', 'Ń', '▁▁▁', 'Ġthe', '▁hello', 'ĠĠ', 'ĊĊ', '<0x0A>', '<0xFF>', 'Ã©', 'âĢĻ', 'Ã', '▁▁Ġ'];

const CONTROL_RANGES: readonly Range[] = [
  [0x0000, 0x001f],
  [0x007f, 0x009f],
];

const PUA_RANGES: readonly Range[] = [
  [0xe000, 0xf8ff],
  [0xf0000, 0xffffd],
  [0x100000, 0x10fffd],
];

const NONCHARACTERS: readonly string[] = (() => {
  const out: string[] = ['\uFFFE', '\uFFFF'];
  for (let c = 0xfdd0; c <= 0xfdef; c++) out.push(cp(c));
  for (let plane = 1; plane <= 16; plane++) {
    out.push(cp(plane * 0x10000 + 0xfffe), cp(plane * 0x10000 + 0xffff));
  }
  return out;
})();

// ----- generators ----------------------------------------------------------

function asciiText(rng: Rng): string {
  const n = int(rng, 1, 8);
  let s = chance(rng, 0.3) ? ' ' : '';
  for (let i = 0; i < n; i++) {
    if (i > 0) s += chance(rng, 0.9) ? ' ' : pick(rng, ['', '  ', '-', '_']);
    s += pick(rng, ASCII_WORDS);
    if (chance(rng, 0.2)) s += pick(rng, ASCII_PUNCT);
  }
  return s;
}

function withSpaces(rng: Rng, parts: readonly string[], n: number, joiners: readonly string[] = [' ', '', ' ']): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    if (i > 0) s += pick(rng, joiners);
    s += pick(rng, parts);
  }
  return s;
}

function emoji(rng: Rng): string {
  const n = int(rng, 1, 6);
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = int(rng, 0, 9);
    if (k <= 1) s += pick(rng, EMOJI_BASIC);
    else if (k <= 3) s += pick(rng, EMOJI_MODIFIABLE) + cp(int(rng, 0x1f3fb, 0x1f3ff));
    else if (k <= 5) s += pick(rng, EMOJI_ZWJ);
    else if (k === 6) s += pick(rng, EMOJI_KEYCAPS);
    else if (k === 7) s += pick(rng, EMOJI_BROKEN);
    else s += fromRanges(rng, EMOJI_RANGES);
    if (chance(rng, 0.25)) s += pick(rng, [' ', '', '!', 'a']);
  }
  return s;
}

function flags(rng: Rng): string {
  if (chance(rng, 0.15)) return pick(rng, TAG_FLAGS);
  // An odd number of regional indicators makes pairing ambiguous.
  const n = int(rng, 1, 7);
  let s = '';
  for (let i = 0; i < n; i++) s += cp(int(rng, 0x1f1e6, 0x1f1ff));
  if (chance(rng, 0.3)) s = pick(rng, ['🇺🇸', '🇯🇵', '🇩🇪', '🇨🇳', '🇺🇦', '🇪🇺']) + s;
  return s;
}

function cjkHan(rng: Rng): string {
  const n = int(rng, 1, 4);
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = int(rng, 0, 5);
    if (k <= 1) s += pick(rng, HAN_PHRASES);
    else if (k <= 3) s += repeatFn(int(rng, 1, 8), () => cp(int(rng, 0x4e00, 0x9fff)));
    else if (k === 4) s += fromRanges(rng, [[0x3000, 0x303f], [0x3400, 0x4dbf], [0xff0c, 0xff0c]]);
    else s += fromRanges(rng, [[0x20000, 0x2a6df], [0x2f800, 0x2fa1d], [0xf900, 0xfad9]]);
  }
  return s;
}

function kana(rng: Rng): string {
  if (chance(rng, 0.4)) return pick(rng, KANA_PHRASES);
  return repeatFn(int(rng, 1, 10), () => fromRanges(rng, [[0x3041, 0x3096], [0x3099, 0x309f], [0x30a1, 0x30ff]]));
}

function hangulSyllables(rng: Rng): string {
  if (chance(rng, 0.4)) return pick(rng, HANGUL_PHRASES);
  return repeatFn(int(rng, 1, 8), () => cp(int(rng, 0xac00, 0xd7a3)));
}

function hangulJamo(rng: Rng): string {
  const n = int(rng, 1, 5);
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = int(rng, 0, 5);
    if (k <= 2) {
      // Conjoining L V (T): composes to a precomposed syllable under NFC.
      s += cp(int(rng, 0x1100, 0x1112)) + cp(int(rng, 0x1161, 0x1175));
      if (chance(rng, 0.5)) s += cp(int(rng, 0x11a8, 0x11c2));
    } else if (k === 3) {
      // Partial / archaic / out-of-order jamo.
      s += fromRanges(rng, [[0x1100, 0x11ff], [0xa960, 0xa97c], [0xd7b0, 0xd7fb]]);
    } else if (k === 4) {
      // Precomposed LV syllable + trailing T jamo (also composes under NFC).
      s += cp(0xac00 + 28 * int(rng, 0, 398)) + cp(int(rng, 0x11a8, 0x11c2));
    } else {
      s += fromRanges(rng, [[0x3131, 0x318e], [0xffa0, 0xffdc]]); // compatibility / halfwidth jamo
    }
  }
  return s;
}

const COMBINING_PAIRS: readonly (readonly [string, string])[] = [
  ['é', 'e\u0301'],
  ['ñ', 'n\u0303'],
  ['Å', 'A\u030A'],
  ['ö', 'o\u0308'],
  ['ệ', 'e\u0323\u0302'],
  ['ǘ', 'u\u0308\u0301'],
  ['ḉ', 'c\u0327\u0301'],
  ['Ǻ', 'A\u030A\u0301'],
];

function combining(rng: Rng, size: Size): string {
  const k = int(rng, 0, 4);
  if (k === 0) {
    const [pre, dec] = pick(rng, COMBINING_PAIRS);
    return chance(rng, 0.5) ? pre + dec : dec + pre;
  }
  if (k === 1) {
    // Orphan combining marks (no base), or marks on an unusual base.
    return pick(rng, ['', ' ', '中', '1', '\n', '👍', '-']) + repeatFn(int(rng, 1, 4), () => cp(int(rng, 0x0300, 0x036f)));
  }
  if (k === 2) {
    // "Zalgo": a letter followed by many marks, incl. U+0301 / U+0308 runs.
    const max = size === 'long' ? 300 : 40;
    const base = pick(rng, ['e', 'a', 'E', 'o', 'é', 'i', 'Z']);
    const n = skewedInt(rng, 1, max);
    return base + repeatFn(n, () => (chance(rng, 0.5) ? pick(rng, ['\u0301', '\u0308']) : cp(int(rng, 0x0300, 0x036f))));
  }
  if (k === 3) {
    // CGJ, double diacritics, combining marks for symbols, combining half marks.
    return (
      pick(rng, ['a', 'o', 'x', '=']) +
      fromRanges(rng, [[0x034f, 0x034f], [0x035c, 0x0362], [0x20d0, 0x20f0], [0xfe20, 0xfe2f], [0x1ab0, 0x1ace], [0x1dc0, 0x1dff]]) +
      pick(rng, ['', 'b', 'e\u0301'])
    );
  }
  // Several words mixing precomposed and decomposed forms.
  return repeatFn(int(rng, 1, 4), () => {
    const [pre, dec] = pick(rng, COMBINING_PAIRS);
    return pick(rng, ['caf', 'r', 'ni', '']) + (chance(rng, 0.5) ? pre : dec) + pick(rng, ['', ' ', 's']);
  });
}

function indic(rng: Rng): string {
  if (chance(rng, 0.4)) return withSpaces(rng, INDIC_WORDS, int(rng, 1, 3));
  const idx = int(rng, 0, INDIC_RANGES.length - 1);
  const entry = INDIC_RANGES[idx];
  const vowels = INDIC_VOWEL_SIGNS[idx];
  if (entry === undefined || vowels === undefined) throw new Error('unreachable');
  const [consonants, virama] = entry;
  const n = int(rng, 1, 5);
  let s = '';
  for (let i = 0; i < n; i++) {
    s += fromRanges(rng, [consonants]);
    const k = int(rng, 0, 5);
    if (k === 0) s += cp(virama);
    else if (k === 1) s += cp(virama) + '\u200D'; // explicit half form
    else if (k === 2) s += cp(virama) + '\u200C'; // explicit virama
    else if (k === 3) s += fromRanges(rng, [vowels]);
  }
  return s;
}

function thai(rng: Rng): string {
  if (chance(rng, 0.5)) return withSpaces(rng, THAI_WORDS, int(rng, 1, 3), ['', ' ']);
  // Random Thai incl. stacked tone marks / above-vowels.
  return repeatFn(int(rng, 1, 10), () => cp(int(rng, 0x0e01, 0x0e5b)));
}

function rtlBidi(rng: Rng): string {
  const n = int(rng, 1, 5);
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = int(rng, 0, 6);
    if (k <= 1) s += pick(rng, HEBREW_WORDS);
    else if (k <= 3) s += pick(rng, ARABIC_WORDS);
    else if (k === 4) s += pick(rng, BIDI_MARKS);
    else if (k === 5) s += fromRanges(rng, [[0x05b0, 0x05c7], [0x064b, 0x065f], [0x0640, 0x0640], [0x0600, 0x0605]]);
    else s += fromRanges(rng, [[0xfb50, 0xfdff], [0xfe70, 0xfefc], [0xfb1d, 0xfb4f]]); // presentation forms (NFKC)
    if (chance(rng, 0.5)) s += pick(rng, [' ', ' ', '', '123', ' abc ', '.', '،', '؟', '\u200F']);
  }
  return s;
}

function burmese(rng: Rng): string {
  if (chance(rng, 0.5)) return withSpaces(rng, BURMESE_WORDS, int(rng, 1, 3), ['', ' ', '။ ']);
  return repeatFn(int(rng, 1, 10), () => cp(int(rng, 0x1000, 0x109f)));
}

function amharic(rng: Rng): string {
  if (chance(rng, 0.5)) return withSpaces(rng, AMHARIC_WORDS, int(rng, 1, 3), [' ', '፡', '']);
  return repeatFn(int(rng, 1, 8), () => cp(int(rng, 0x1200, 0x137c)));
}

function newlines(rng: Rng): string {
  const n = int(rng, 1, 8);
  let s = '';
  for (let i = 0; i < n; i++) {
    s += pick(rng, ['\r\n', '\r', '\n', '\n\r', '\r\r\n', ' \r\n', '\r\n ', '\n\n', '\\n']);
    if (chance(rng, 0.4)) s += pick(rng, ['a', 'line', ' ', '  x', '.', '}', '\t']);
  }
  return s;
}

function tabs(rng: Rng): string {
  return withSpaces(rng, ['\t', '\t\t', '\t\t\t', 'a\tb', ' \t ', '\t\n', '\v', '\f', '\t ', 'x\t', '\t\r\n'], int(rng, 1, 5), ['', '', ' ', 'y']);
}

function exoticSpaces(rng: Rng): string {
  const n = int(rng, 1, 6);
  let s = '';
  for (let i = 0; i < n; i++) {
    s += repeatFn(int(rng, 1, 3), () => pick(rng, EXOTIC_SPACES));
    if (chance(rng, 0.5)) s += pick(rng, ['a', 'word', '1', ' ', '\n', '中', 'é']);
  }
  return s;
}

function invisibles(rng: Rng): string {
  // Invisible characters at the start, inside and at the end of words.
  const word = pick(rng, [...ASCII_WORDS, 'नमस्ते', '中文', 'مرحبا', '123']);
  const pos = int(rng, 0, word.length);
  const inv = repeatFn(int(rng, 1, 3), () => pick(rng, INVISIBLES));
  const k = int(rng, 0, 3);
  if (k === 0) return inv + word;
  if (k === 1) return word + inv;
  if (k === 2) return inv;
  // Insert at a code-unit position that does not split a surrogate pair (word pool is BMP).
  return word.slice(0, pos) + inv + word.slice(pos);
}

function loneSurrogates(rng: Rng): string {
  const hi = (): string => cp(int(rng, 0xd800, 0xdbff));
  const lo = (): string => cp(int(rng, 0xdc00, 0xdfff));
  const k = int(rng, 0, 6);
  if (k === 0) return hi();
  if (k === 1) return lo();
  if (k === 2) return lo() + hi(); // reversed pair: two lone surrogates
  if (k === 3) return 'ab' + hi() + 'cd';
  if (k === 4) return hi() + hi();
  if (k === 5) return '😀'.slice(0, 1) + ' ' + '😀'.slice(1); // split pair with a space in between
  return repeatFn(int(rng, 1, 4), () => (chance(rng, 0.5) ? hi() : lo()) + pick(rng, ['', 'x', ' ', '\n']));
}

function astral(rng: Rng): string {
  return repeatFn(int(rng, 1, 6), () => fromRanges(rng, ASTRAL_RANGES) + (chance(rng, 0.2) ? ' ' : ''));
}

function digitRun(rng: Rng, n: number, set: Range = [0x30, 0x39]): string {
  return repeatFn(n, () => fromRanges(rng, [set]));
}

function digits(rng: Rng, size: Size): string {
  const k = int(rng, 0, 7);
  const max = size === 'long' ? 800 : 60;
  if (k <= 1) return digitRun(rng, skewedInt(rng, 1, max));
  if (k === 2) {
    // Grouped with separators.
    const sep = pick(rng, [',', '.', '_', ' ', '\u00A0', '\u202F', "'", '٬']);
    let s = digitRun(rng, int(rng, 1, 3));
    for (let i = int(rng, 1, size === 'long' ? 100 : 8); i > 0; i--) s += sep + digitRun(rng, 3);
    return s;
  }
  if (k === 3) {
    return pick(rng, [
      '3.14159265358979', '-42', '+1 (555) 123-4567', '2024-01-15T12:34:56Z', '192.168.0.1', '1e-10', '0x1F',
      '6.022e23', '1/2', '50%', '$1,000.00', '€5', '007', '0.0.0', '1st', '2nd', '3rd', '42nd', '10:30', 'v1.2.3',
    ]);
  }
  if (k === 4) {
    const set = pick(rng, DIGIT_SETS);
    return digitRun(rng, skewedInt(rng, 1, 30), set);
  }
  if (k === 5) {
    // Letters glued to digits.
    return pick(rng, ['abc', 'x', 'A', 'é', '中']) + digitRun(rng, int(rng, 1, 12)) + pick(rng, ['', 'px', 'th', 'abc']);
  }
  if (k === 6) return digitRun(rng, int(rng, 1, 4)) + pick(rng, ['.', ',', '']) + digitRun(rng, int(rng, 1, 10));
  // Mixed digit scripts in one run.
  return repeatFn(int(rng, 2, 12), () => fromRanges(rng, DIGIT_SETS));
}

function code(rng: Rng, size: Size): string {
  const indentUnit = pick(rng, ['  ', '    ', '\t']);
  const eol = chance(rng, 0.15) ? '\r\n' : '\n';
  const snippets = size === 'long' ? int(rng, 1, 6) : 1;
  let out = '';
  for (let j = 0; j < snippets; j++) {
    const lines = pick(rng, CODE_SNIPPETS);
    const baseDepth = chance(rng, 0.3) ? int(rng, 1, 3) : 0;
    // Optionally take only a slice of the snippet so fragments stay small.
    const start = size === 'long' ? 0 : int(rng, 0, Math.max(0, lines.length - 1));
    const end = size === 'long' ? lines.length : Math.min(lines.length, start + int(rng, 1, 3));
    for (let i = start; i < end; i++) {
      const line = lines[i] ?? '';
      let depth = 0;
      while (line[depth] === '\t') depth++;
      const body = line.slice(depth);
      out += indentUnit.repeat(baseDepth + depth) + body;
      if (i < end - 1 || chance(rng, 0.5)) out += eol;
      if (chance(rng, 0.05)) out += eol; // blank line
    }
  }
  return out;
}

function longWords(rng: Rng, size: Size): string {
  const k = int(rng, 0, 5);
  const long = size === 'long';
  if (k === 0) {
    const letter = pick(rng, ['a', 'x', 'z', 'A', 'é', 'я', '中', 'ก', 'e']);
    return letter.repeat(long ? int(rng, 300, 1500) : int(rng, 20, 150));
  }
  if (k === 1) {
    let url = pick(rng, ['https://', 'http://', 'ftp://', 'https://www.']) + pick(rng, ['example.com', 'xn--n3h.com', 'a.b.c.d.co.uk', 'localhost:8080']);
    for (let i = int(rng, 1, long ? 60 : 6); i > 0; i--) url += '/' + pick(rng, URL_PARTS);
    if (chance(rng, 0.6)) url += '?q=' + pick(rng, URL_PARTS) + '&x=' + digitRun(rng, int(rng, 1, 6)) + '#frag';
    return url;
  }
  if (k === 2) {
    let b = repeatFn(long ? int(rng, 300, 1500) : int(rng, 16, 120), () => pick(rng, BASE64_ALPHABET.split('')));
    b += pick(rng, ['', '=', '==']);
    return b;
  }
  if (k === 3) return repeatFn(long ? int(rng, 32, 256) : int(rng, 8, 40), () => pick(rng, '0123456789abcdef'.split('')));
  if (k === 4) {
    const unit = pick(rng, ['ab', 'abc', 'Ab', 'lol', 'ha', 'na', 'xY']);
    return unit.repeat(long ? int(rng, 100, 600) : int(rng, 5, 50));
  }
  return pick(rng, LONG_WORDS).repeat(long ? int(rng, 1, 20) : 1);
}

function contractions(rng: Rng): string {
  const n = int(rng, 1, 4);
  let s = '';
  for (let i = 0; i < n; i++) {
    if (i > 0) s += pick(rng, [' ', '', ' ']);
    if (chance(rng, 0.5)) s += pick(rng, CONTRACTION_WORDS);
    else s += pick(rng, ['he', 'HE', 'She', 'they', 'THEY', 'I', 'we', 'you', 'x', '', '1', 'é', 'ſ']) + pick(rng, CONTRACTION_SUFFIXES);
  }
  return s;
}

function nfkc(rng: Rng): string {
  return repeatFn(int(rng, 1, 6), () =>
    (chance(rng, 0.5) ? pick(rng, NFKC_CHARS) : fromRanges(rng, NFKC_RANGES)) + (chance(rng, 0.2) ? pick(rng, [' ', 'a', '1']) : ''),
  );
}

function specialLookalikes(rng: Rng): string {
  const n = int(rng, 1, 3);
  let s = '';
  for (let i = 0; i < n; i++) {
    if (chance(rng, 0.3)) s += pick(rng, ['', ' ', '\n', 'x', 'Hello ', '.', '▁']);
    s += chance(rng, 0.75) ? pick(rng, SPECIAL_LOOKALIKES) : pick(rng, SPECIAL_MANGLED);
    if (chance(rng, 0.3)) s += pick(rng, ['', ' ', '\n', 'y', 'user\n', '{"a":1}']);
  }
  return s;
}

function whitespaceRuns(rng: Rng, size: Size): string {
  const max = size === 'long' ? 400 : 40;
  const k = int(rng, 0, 4);
  if (k === 0) return ' '.repeat(int(rng, 1, max));
  if (k === 1) return '\n'.repeat(int(rng, 1, max));
  if (k === 2) return repeatFn(int(rng, 1, max), () => pick(rng, [' ', '\n']));
  if (k === 3) return ' '.repeat(int(rng, 1, max)) + pick(rng, ['x', '\n', 'word', '', '中']) + ' '.repeat(int(rng, 1, 8));
  return repeatFn(int(rng, 1, Math.min(max, 40)), () => pick(rng, [' ', '\n', '\t', '\r\n', '\u00A0']));
}

function spMarkers(rng: Rng): string {
  return withSpaces(rng, SP_MARKERS, int(rng, 1, 4), ['', ' ', 'a']);
}

function controlChars(rng: Rng): string {
  const k = int(rng, 0, 3);
  if (k === 0) return pick(rng, ['\u001B[31m', '\u001B[0m', '\u0000', 'a\u0000b', '\u0007', '\b\b', '\u007F', '\u0080\u009F']);
  return repeatFn(int(rng, 1, 5), () => fromRanges(rng, CONTROL_RANGES) + (chance(rng, 0.3) ? 'x' : ''));
}

function privateUse(rng: Rng): string {
  return repeatFn(int(rng, 1, 4), () => fromRanges(rng, PUA_RANGES));
}

function noncharacters(rng: Rng): string {
  return repeatFn(int(rng, 1, 3), () => pick(rng, NONCHARACTERS) + (chance(rng, 0.3) ? pick(rng, ['a', ' ', '中']) : ''));
}

function replacementChar(rng: Rng): string {
  return pick(rng, ['\uFFFD', '\uFFFD\uFFFD', 'a\uFFFDb', '\uFFFD\u0301', ' \uFFFD', '\uFFFD'.repeat(int(rng, 1, 10)), '\uFFFC', '\uFFFD\n']);
}

function latinGreekCyrillic(rng: Rng): string {
  return withSpaces(rng, LGC_WORDS, int(rng, 1, 4));
}

function punctuation(rng: Rng): string {
  const k = int(rng, 0, 2);
  if (k === 0) return repeatFn(int(rng, 1, 12), () => pick(rng, ASCII_PUNCT));
  if (k === 1) return repeatFn(int(rng, 1, 6), () => pick(rng, UNICODE_PUNCT));
  return repeatFn(int(rng, 1, 10), () => cp(int(rng, 0x21, 0x7e)));
}

const GENERATORS: { readonly [C in HardStringCategory]: FragmentGen } = {
  'ascii-text': asciiText,
  'latin-greek-cyrillic': latinGreekCyrillic,
  punctuation,
  emoji,
  flags,
  'cjk-han': cjkHan,
  kana,
  'hangul-syllables': hangulSyllables,
  'hangul-jamo': hangulJamo,
  combining,
  indic,
  thai,
  'rtl-bidi': rtlBidi,
  burmese,
  amharic,
  newlines,
  tabs,
  'exotic-spaces': exoticSpaces,
  invisibles,
  'lone-surrogates': loneSurrogates,
  astral,
  digits,
  code,
  'long-words': longWords,
  contractions,
  nfkc,
  'special-token-lookalikes': specialLookalikes,
  'whitespace-runs': whitespaceRuns,
  'sentencepiece-bytelevel-markers': spMarkers,
  'control-chars': controlChars,
  'private-use': privateUse,
  noncharacters,
  'replacement-char': replacementChar,
};

// ---------------------------------------------------------------------------
// Public generator API
// ---------------------------------------------------------------------------

/** Length budget (UTF-16 units) of a normal string. */
export const NORMAL_MAX_LENGTH = 200;
/** Length budget (UTF-16 units) of a "long" string (chosen with probability LONG_PROBABILITY). */
export const LONG_MAX_LENGTH = 2000;
export const LONG_PROBABILITY = 0.08;
const MAX_FRAGMENTS = 12;

export interface HardFragment {
  readonly category: HardStringCategory;
  readonly text: string;
}

export interface HardStringWithCategories {
  /** The concatenation of the fragments' texts. Never empty. */
  readonly text: string;
  readonly fragments: readonly HardFragment[];
}

/** Cuts `s` to at most `max` UTF-16 units without splitting a surrogate pair. */
function truncateAtCodePoint(s: string, max: number): string {
  let out = '';
  for (const ch of s) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out;
}

/**
 * One random hard string plus the category of each fragment it is made of:
 * 1-12 fragments, each from a uniformly chosen category, concatenated with no
 * separator (so fragment boundaries are arbitrary script/class boundaries).
 * Length <= 200 UTF-16 units, or <= 2000 for ~8% "long" strings.
 */
export function hardStringWithCategories(rng: Rng): HardStringWithCategories {
  const size: Size = chance(rng, LONG_PROBABILITY) ? 'long' : 'normal';
  const budget = size === 'long' ? LONG_MAX_LENGTH : NORMAL_MAX_LENGTH;
  const wanted = int(rng, 1, MAX_FRAGMENTS);
  const fragments: HardFragment[] = [];
  let length = 0;
  // A fragment that does not fit is dropped; try a few more times than wanted.
  for (let attempt = 0; attempt < wanted * 2 && fragments.length < wanted; attempt++) {
    const category = pick(rng, HARD_STRING_CATEGORIES);
    let text = GENERATORS[category](rng, size);
    if (text.length === 0) continue;
    if (length + text.length > budget) {
      if (fragments.length > 0) continue;
      text = truncateAtCodePoint(text, budget);
    }
    fragments.push({ category, text });
    length += text.length;
  }
  if (fragments.length === 0) fragments.push({ category: 'ascii-text', text: asciiText(rng) });
  return { text: fragments.map((f) => f.text).join(''), fragments };
}

/** One random hard string (see hardStringWithCategories). */
export function hardString(rng: Rng): string {
  return hardStringWithCategories(rng).text;
}

/** Random case `index` of `seed`: independent of how many cases are generated. */
export function hardStringAt(seed: number, index: number): string {
  return hardString(mulberry32(deriveSeed(seed, index)));
}

/** Same as hardStringAt, with the category of each fragment. */
export function hardStringWithCategoriesAt(seed: number, index: number): HardStringWithCategories {
  return hardStringWithCategories(mulberry32(deriveSeed(seed, index)));
}

export interface HardStringsOptions {
  /** Yield CURATED_STRINGS first (default true). */
  readonly curated?: boolean;
}

/**
 * CURATED_STRINGS first (unless `{ curated: false }`), then `count` random hard
 * strings: hardStringAt(seed, 0 .. count-1). So the total is
 * CURATED_STRINGS.length + count, and hardStrings(s, n) is a prefix of
 * hardStrings(s, m) for n <= m. Note CURATED_STRINGS contains '' (the empty string).
 */
export function* hardStrings(seed: number, count: number, options: HardStringsOptions = {}): Generator<string> {
  for (const c of hardStringCases(seed, count, options)) yield c.text;
}

export interface HardStringCase {
  /** "curated#<i>" or "seed=<seed>#<i>": enough to reproduce the case. */
  readonly id: string;
  readonly text: string;
}

/** Like hardStrings, but each case carries an id to put in assertion messages. */
export function* hardStringCases(seed: number, count: number, options: HardStringsOptions = {}): Generator<HardStringCase> {
  if (options.curated !== false) {
    for (let i = 0; i < CURATED_STRINGS.length; i++) yield { id: `curated#${i}`, text: CURATED_STRINGS[i] ?? '' };
  }
  for (let i = 0; i < count; i++) yield { id: `seed=${seed}#${i}`, text: hardStringAt(seed, i) };
}

/**
 * Printable-ASCII rendering of a string for assertion messages: everything
 * outside U+0020..U+007E (and the backslash) is written as \u{XXXX}, lone
 * surrogates included; strings longer than `max` units are elided in the middle.
 */
export function escapeForDisplay(s: string, max = 400): string {
  const esc = (t: string): string => {
    let out = '';
    for (const ch of t) {
      const c = ch.codePointAt(0) ?? 0;
      if (ch === '\\') out += '\\\\';
      else if (c >= 0x20 && c <= 0x7e) out += ch;
      else out += `\\u{${c.toString(16).toUpperCase()}}`;
    }
    return out;
  };
  if (s.length <= max) return esc(s);
  const half = Math.floor(max / 2);
  return `${esc(s.slice(0, half))}...[${s.length - 2 * half} units elided]...${esc(s.slice(-half))}`;
}

// ---------------------------------------------------------------------------
// Curated cases (always run first)
// ---------------------------------------------------------------------------

/**
 * Hand-picked tricky cases. Append only (ids are indices: "curated#12"). The
 * empty string is deliberately included (index 0).
 */
export const CURATED_STRINGS: readonly string[] = [
  // --- trivial / boundaries
  '',
  ' ',
  '\n',
  '\r\n',
  'hello world',
  ' hello',
  'Hello, world!',
  'a',
  // --- special-token look-alikes (must tokenize as text)
  '<|endoftext|>',
  'x<|endoftext|>y',
  ' <|endoftext|> ',
  '<|endoftext|><|endoftext|>',
  '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
  '<s>[INST] hi [/INST]</s>',
  '<bos><start_of_turn>user\nhello<end_of_turn>\n',
  '<think>\n\n</think>\n\n',
  '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>',
  '<unused0><unused1> <mask>',
  '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n',
  '<｜begin▁of▁sentence｜><｜User｜>hi<｜Assistant｜>',
  '<|endoftext',
  '<<|endoftext|>>',
  '<|start|>assistant<|channel|>final<|message|>hi<|return|>',
  // --- contractions & case folding
  "I'm don't we'RE HE'S they'LL it'd you'VE",
  "'s's''s",
  'it’s we’re',
  "'ſ 'ſt ſtraße",
  "'\u212A \u212Aelvin",
  'İstanbul ıIiİ straße ẞ ΣΊΣΥΦΟΣ',
  // --- NFKC / NFC sensitive
  'ﬁnance ﬂow ﬃ',
  'ＡＢＣ１２３！',
  'x² + y³ = z⁴, H₂O',
  '①②③ ⑴ ⒈ ⓐ',
  'Ⅻ Ⅳ ⅻ',
  'ｶﾞｷﾞｸﾞ ﾊﾟ',
  '\uFDFA',
  '\u212B \u2126 \u00C5 \u03A9',
  '\uF900\uFA10',
  '\u0958 \u0915\u093C',
  '\u2000\u2001',
  '𝐀𝐁𝐂 𝟏𝟐𝟑',
  // --- combining
  'é e\u0301',
  'e\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0308\u0308\u0308\u0308',
  '\u0301leading mark',
  'ệ e\u0323\u0302 e\u0302\u0323',
  // Characters newer than the reference's normalization tables, which leaves them alone where V8 reorders,
  // decomposes or composes them: new marks beside older ones of another class, new compatibility and
  // canonical composites (the soak of 300,000 strings per tokenizer found the first).
  'a\u1ABF\u064C \u05D9a\u0345\u1ACC x\u1AC0\u0316\u0301',
  '\u32FF \uA7F2\uA7F3 \u{10781}\u{10782} \u{105C9} \u{11383}\u{113C5}',
  // --- Hangul
  '한국어 안녕하세요',
  '\u1112\u1161\u11AB\u1100\u1173\u11AF',
  '\u1100\u1100\u1161\u11A8\u11A8',
  '\uAC00\u11A8',
  // --- emoji & flags
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈 🏳️‍⚧️',
  '👍🏽👍🏿',
  '🇺🇸🇯🇵',
  '🇺🇸🇯',
  '🏴󠁧󠁢󠁳󠁣󠁴󠁿',
  '1️⃣#️⃣',
  '❤️❤',
  '👩\u200D',
  // --- lone surrogates
  '\uD800',
  '\uDFFF',
  'a\uD83Db',
  '\uDE00x',
  'x\uD83D',
  '\uDE00\uD83D',
  // --- whitespace
  '  ',
  ' '.repeat(40),
  '\n'.repeat(40),
  ' \n \n  \n',
  '\t\t\tx',
  '\u00A0\u3000\u2028\u2029\u0085\u1680\u180E',
  '\u200Bzero\u200Bwidth\u200B',
  '\uFEFFhello',
  'hello\uFEFF',
  'a\r\nb\rc\nd\n\re',
  'word   \n\n  word',
  // --- numbers
  '12345678901234567890',
  '1,234,567.89',
  '٠١٢٣٤٥٦٧٨٩ ۰۱۲ १२३ １２３',
  'abc123def 3.14159 1e-10',
  // --- code
  'function f(x) {\n  return x + 1;\n}\n',
  'def f(x):\n    return x\n',
  '\tif (a) {\n\t\tb();\n\t}\r\n',
  '{"a": [1, 2, {"b": null}]}',
  '<div class="x">&nbsp;</div>',
  // --- long
  'x'.repeat(500),
  ' '.repeat(1000),
  '0'.repeat(1000),
  'https://example.com/' + 'a/b/'.repeat(100) + '?q=1',
  'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo'.repeat(10) + '==',
  // --- controls, PUA, noncharacters, replacement
  '\u0000',
  'a\u0000b',
  '\u001B[31mred\u001B[0m',
  '\u007F\u0080\u009F',
  '\uE000\u{F0000}\u{10FFFD}',
  '\uFFFE\uFFFF\uFDD0\u{1FFFE}',
  '\uFFFD',
  'a\uFFFDb\uFFFD\uFFFD',
  // --- SentencePiece / byte-level markers
  '▁hello ▁▁ Ġthe ĠĊ',
  '<0x0A><0xFF>',
  // --- scripts
  'שלום עולם مرحبا بالعالم',
  '\u202Eabc\u202C \u2067שלום\u2069 abc \u200Fx\u200E',
  'สวัสดีครับ',
  'မင်္ဂလာပါ',
  'ሰላም ልዑል',
  'नमस्ते क्षत्रिय क्\u200Dष क्\u200Cष',
  'தமிழ் বাংলা র\u200D্যাব',
  '中文，日本語です。カタカナ ｶﾀｶﾅ',
  '𐌰𐌱𐌲 𒀀 𠀀',
  "I'm 25 years old 🎉 and 中文 works! ok?",
];
