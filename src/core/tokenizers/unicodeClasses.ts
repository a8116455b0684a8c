/**
 * The reference engines' Unicode properties (unicodeTables.ts) as one lookup per code point: a byte of class
 * bits, from a 64K table for the Basic Multilingual Plane and a binary search over ranges above it. The
 * hand-written pre-tokenizer scanners (scanners.ts) and the unsafe-text check read it instead of running a
 * regex with thousands of ranges.
 */
import { REFERENCE_UNICODE_CLASSES, REFERENCE_UNSAFE_CLASS } from './unicodeTables';

/** Class bits: one per property the bundled pre-tokenizer patterns use. */
export const CharClass = {
  /** \p{L} */
  Letter: 1,
  /** \p{N} */
  Number: 2,
  /** \s, as the references mean it: Unicode White_Space. */
  Space: 4,
  /** [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]: o200k's "upper" run. */
  Upper: 8,
  /** [\p{Ll}\p{Lm}\p{Lo}\p{M}]: o200k's "lower" run. */
  Lower: 16,
  /** \p{M} */
  Mark: 32,
  /** \p{P} */
  Punct: 64,
  /** \p{S} */
  Symbol: 128,
} as const;

/** `[start, end]` code-point ranges of a class body written as `\u{41}-\u{5a}\u{61}...`. */
export function parseClassRanges(body: string): number[] {
  const out: number[] = [];
  const re = /\\u\{([0-9a-fA-F]+)\}(?:-\\u\{([0-9a-fA-F]+)\})?/g;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    const a = parseInt(m[1], 16);
    out.push(a, m[2] === undefined ? a : parseInt(m[2], 16));
  }
  return out;
}

interface ClassTables {
  readonly bmp: Uint8Array;
  /** Sorted starts of astral intervals and the bits over [starts[i], starts[i + 1]). */
  readonly astralStarts: Uint32Array;
  readonly astralBits: Uint8Array;
}

function buildTables(sets: ReadonlyArray<readonly [bits: number, ranges: readonly number[]]>): ClassTables {
  const bmp = new Uint8Array(0x10000);
  const cuts = new Set<number>([0x10000, 0x110000]);
  for (const [bits, ranges] of sets) {
    for (let r = 0; r < ranges.length; r += 2) {
      const a = ranges[r];
      const b = ranges[r + 1];
      for (let cp = a; cp <= Math.min(b, 0xffff); cp++) bmp[cp] |= bits;
      if (b >= 0x10000) {
        cuts.add(Math.max(a, 0x10000));
        cuts.add(b + 1);
      }
    }
  }
  const starts = Uint32Array.from([...cuts].sort((x, y) => x - y));
  const astralBits = new Uint8Array(starts.length);
  for (const [bits, ranges] of sets) {
    for (let r = 0; r < ranges.length; r += 2) {
      const a = Math.max(ranges[r], 0x10000);
      const b = ranges[r + 1];
      if (b < a) continue;
      // Every interval that starts inside [a, b] lies inside it (a and b + 1 are cuts).
      for (let i = upperBoundU32(starts, a) - 1; i < starts.length && starts[i] <= b; i++) astralBits[i] |= bits;
    }
  }
  return { bmp, astralStarts: starts, astralBits };
}

/** Index of the first element > x. */
function upperBoundU32(a: Uint32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function ranges(name: string): number[] {
  const body = REFERENCE_UNICODE_CLASSES[name];
  if (body === undefined) throw new Error(`internal: no reference table for \\p{${name}}`);
  return parseClassRanges(body);
}

const C = CharClass;
const CLASSES = buildTables([
  [C.Letter, ranges('L')],
  [C.Number, ranges('N')],
  [C.Space, ranges('White_Space')],
  [C.Upper, [...ranges('Lu'), ...ranges('Lt'), ...ranges('Lm'), ...ranges('Lo'), ...ranges('M')]],
  [C.Lower, [...ranges('Ll'), ...ranges('Lm'), ...ranges('Lo'), ...ranges('M')]],
  [C.Mark, ranges('M')],
  [C.Punct, ranges('P')],
  [C.Symbol, ranges('S')],
]);

/** The class bits of the BMP code points (index by UTF-16 code unit outside the surrogates). */
export const BMP_CLASS_BITS: Uint8Array = CLASSES.bmp;

/** The class bits of any code point. */
export function classBits(cp: number): number {
  if (cp < 0x10000) return CLASSES.bmp[cp];
  const i = upperBoundU32(CLASSES.astralStarts, cp) - 1;
  return i < 0 ? 0 : CLASSES.astralBits[i];
}

const UNSAFE_RANGES = parseClassRanges(REFERENCE_UNSAFE_CLASS);
const UNSAFE = buildTables([[1, UNSAFE_RANGES]]);
/** Below the first unsafe code point the loop needs no table. */
const UNSAFE_MIN = UNSAFE_RANGES.reduce((m, cp) => Math.min(m, cp), 0x110000);

/**
 * True when the text holds a code point whose Unicode properties V8 and the reference may disagree on
 * (the regex pre-tokenizers then take their exact, slower form). A table walk, not a regex of ranges.
 */
export function hasUnsafeCodePoints(text: string, start = 0, end = text.length): boolean {
  const bmp = UNSAFE.bmp;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < UNSAFE_MIN) continue;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        const k = upperBoundU32(UNSAFE.astralStarts, cp) - 1;
        if (k >= 0 && UNSAFE.astralBits[k] !== 0) return true;
        i++;
        continue;
      }
    }
    if (bmp[c] !== 0) return true;
  }
  return false;
}

/** A space, or ASCII punctuation other than the apostrophe: what may follow the end of a word (RestartRules.wordEnds). */
export function isWordEndChar(c: number): boolean {
  return c === 32 || (c !== 39 && ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)));
}
