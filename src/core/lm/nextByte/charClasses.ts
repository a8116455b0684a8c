/**
 * The character classes of a tokenizer's split patterns: two characters that satisfy the same atoms of every
 * pattern are interchangeable for the pre-tokenizer, so the analysis works on classes, never on characters.
 *
 * The exact form of a split pattern (the reference engine's Unicode tables, regex.ts) spells every property
 * as explicit code point ranges, except White_Space. So the code space cuts into intervals at every code point
 * an atom names (range ends, literals, escapes) and at the White_Space characters; inside an interval every
 * atom is constant. One representative per interval classifies the whole of Unicode exactly, and `classOf`
 * is a binary search over the interval starts.
 */
import { upperBound } from '../../sortedSearch';
import type { Program } from './regexProgram';

const WHITE_SPACE = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000];

/** Code points an atom's source names: range ends, literals, escapes (each starts an interval, and so does the one after). */
function namedCodePoints(source: string, out: Set<number>): void {
  const add = (cp: number): void => {
    out.add(cp);
    out.add(cp + 1);
  };
  const re = /\\u\{([0-9a-fA-F]+)\}|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\p\{([^}]*)\}|\\P\{([^}]*)\}|\\(.)|(.)/gsu;
  for (const m of source.matchAll(re)) {
    if (m[1] || m[2] || m[3]) add(parseInt(m[1] ?? m[2] ?? m[3], 16));
    else if (m[4] !== undefined || m[5] !== undefined) {
      // Only White_Space stays a property in the exact patterns; any other is classified by its members below.
      for (const cp of WHITE_SPACE) add(cp);
    } else if (m[6] !== undefined) {
      const e = m[6];
      const map: Record<string, number[]> = { r: [13], n: [10], t: [9], v: [11], f: [12], '0': [0], s: WHITE_SPACE, S: WHITE_SPACE, d: [0x30, 0x39], D: [0x30, 0x39], w: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x61, 0x7a], W: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x61, 0x7a] };
      for (const cp of map[e] ?? [e.codePointAt(0) as number]) add(cp);
    } else if (m[7] !== undefined) {
      const ch = m[7];
      if (ch === '.') for (const cp of [10, 13, 0x2028, 0x2029]) add(cp);
      else if (ch !== '[' && ch !== ']' && ch !== '^' && ch !== '-') add(ch.codePointAt(0) as number);
    }
  }
}

/** The first two bytes of a code point's UTF-8, as one number. */
function utf8Lead2(cp: number): number {
  if (cp < 0x80) return cp;
  if (cp < 0x800) return ((0xc0 | (cp >> 6)) << 8) | (0x80 | (cp & 0x3f));
  if (cp < 0x10000) return ((0xe0 | (cp >> 12)) << 8) | (0x80 | ((cp >> 6) & 0x3f));
  return ((0xf0 | (cp >> 18)) << 8) | (0x80 | ((cp >> 12) & 0x3f));
}

export class CharClasses {
  /** Number of classes. */
  readonly count: number;
  /** A character of each class (ASCII where the class has one). */
  readonly reps: string[] = [];
  /** Up to 48 characters of each class, from different intervals (candidates for witnesses). */
  readonly samples: string[][] = [];
  /** Per split step, per class: which of the step's atoms the class satisfies. */
  readonly atomSat: Uint8Array[][];
  private readonly starts: Int32Array;
  private readonly intervalClass: Int32Array;
  private readonly cache = new Map<number, number>();
  /** False when some pattern uses a property other than White_Space outside the exact tables (then classes may be wrong). */
  readonly complete: boolean;

  constructor(programs: readonly Program[]) {
    const named = new Set<number>([0, 0xd800, 0xe000]);
    let complete = true;
    for (const p of programs) {
      for (const a of p.atoms) {
        namedCodePoints(a, named);
        for (const m of a.matchAll(/\\[pP]\{([^}]*)\}/g)) if (m[1] !== 'White_Space') complete = false;
      }
    }
    this.complete = complete;
    const bounds = Array.from(named)
      .filter((cp) => cp <= 0x10ffff)
      .sort((a, b) => a - b);
    const keyIndex = new Map<string, number>();
    const starts: number[] = [];
    const classes: number[] = [];
    const sats: Uint8Array[][] = programs.map(() => []);
    for (let k = 0; k < bounds.length; k++) {
      const lo = bounds[k];
      if (lo >= 0xd800 && lo < 0xe000) continue;
      const ch = String.fromCodePoint(lo);
      const vectors = programs.map((p) => Uint8Array.from(p.atomTests, (t) => (t.test(ch) ? 1 : 0)));
      const key = vectors.map((v) => v.join('')).join('|');
      let c = keyIndex.get(key);
      if (c === undefined) {
        c = this.reps.length;
        keyIndex.set(key, c);
        this.reps.push(ch);
        this.samples.push([]);
        vectors.forEach((v, s) => sats[s].push(v));
      } else if (lo < 0x80 && this.reps[c].codePointAt(0) as number >= 0x80) this.reps[c] = ch;
      if (this.samples[c].length < 48 && lo !== 0xd800) this.samples[c].push(ch);
      starts.push(lo);
      classes.push(c);
    }
    this.count = this.reps.length;
    this.atomSat = sats;
    this.starts = Int32Array.from(starts);
    this.intervalClass = Int32Array.from(classes);
  }

  /** The classes of the code points in [lo, hi], with the first code point of each. */
  classesInRange(lo: number, hi: number): Map<number, number> {
    const out = new Map<number, number>();
    let k = Math.max(0, upperBound(this.starts, lo) - 1);
    for (; k < this.starts.length && this.starts[k] <= hi; k++) {
      const from = Math.max(lo, this.starts[k]);
      const c = this.intervalClass[k];
      if (!out.has(c)) out.set(c, from);
    }
    return out;
  }

  /**
   * Code points of [lo, hi] by class, chosen so that their UTF-8 spans every distinct pair of first two
   * bytes present (up to `perBucket` per pair): BPE merges at a boundary depend on the bytes nearest to it,
   * so these are the candidates to try when a continuation must avoid a merge.
   */
  spreadInRange(lo: number, hi: number, perBucket: number): Map<number, number[]> {
    const out = new Map<number, number[]>();
    const buckets = new Map<string, number>();
    let k = Math.max(0, upperBound(this.starts, lo) - 1);
    for (; k < this.starts.length && this.starts[k] <= hi; k++) {
      const from = Math.max(lo, this.starts[k]);
      const to = Math.min(hi, k + 1 < this.starts.length ? this.starts[k + 1] - 1 : 0x10ffff);
      const c = this.intervalClass[k];
      // Step through the interval by the size of a second-byte block, so each (lead, second byte) pair is visited.
      for (let cp = from; cp <= to; ) {
        if (cp >= 0xd800 && cp <= 0xdfff) {
          cp = 0xe000;
          continue;
        }
        const block = cp < 0x80 ? 1 : cp < 0x800 ? 64 : cp < 0x10000 ? 64 : 4096;
        const key = `${c}:${utf8Lead2(cp)}`;
        const n = buckets.get(key) ?? 0;
        if (n < perBucket) {
          buckets.set(key, n + 1);
          let list = out.get(c);
          if (!list) out.set(c, (list = []));
          list.push(cp);
        }
        cp = n + 1 < perBucket ? cp + Math.max(1, Math.floor(block / perBucket)) : (Math.floor(cp / block) + 1) * block;
      }
    }
    return out;
  }

  /** The class of a code point. */
  classOf(cp: number): number {
    const hit = this.cache.get(cp);
    if (hit !== undefined) return hit;
    const k = Math.max(0, upperBound(this.starts, cp) - 1);
    const c = this.intervalClass[k];
    if (this.cache.size < 65536) this.cache.set(cp, c);
    return c;
  }
}
