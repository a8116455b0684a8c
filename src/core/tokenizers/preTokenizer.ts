/**
 * Pre-tokenization: cutting a (normalized) text into the pieces that BPE sees. No token crosses a piece
 * boundary, which is what makes incremental re-tokenization and cover enumeration local.
 */
import { activePatternBudget, budgetedMatches } from './patternBudget';
import type { PieceScanner } from './scanners';

export type SplitBehavior = 'Isolated' | 'Removed' | 'MergedWithPrevious' | 'MergedWithNext';

export interface SplitStep {
  /** A global unicode RegExp, or a literal string delimiter. */
  readonly pattern: RegExp | string;
  /** The same pattern with the reference engines' Unicode tables, for text where V8's may differ. */
  readonly exactPattern?: RegExp;
  /** A hand-written scanner that finds the same pieces as `exactPattern` (scanners.ts), for known patterns. */
  readonly scanner?: PieceScanner;
  /** A known pattern that cuts around spaces and line breaks next to letters and digits (isSpaceBoundedPattern). */
  readonly spaceBounded?: boolean;
  readonly behavior: SplitBehavior;
  /** When true the pattern describes the pieces to keep and the gaps are the delimiters. */
  readonly invert: boolean;
  /** The file the pattern came from, named when it runs past its time budget (patternBudget.ts). */
  readonly origin?: string;
}

/** Output: flat [start, end, keep] triples (keep = 0 for removed delimiters), in order, covering [a, b). */
export type Ranges = number[];

/**
 * Where to search next after an empty match that ends at `i`: one code point on. One UTF-16 unit is not enough:
 * with the `u` flag V8 moves a lastIndex that falls inside a surrogate pair back to its start, and a pattern
 * that matches the empty string there (`\s*` before an emoji) would be found again forever.
 */
export function afterEmptyMatch(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? i + 2 : i + 1;
}

function matches(text: string, a: number, b: number, pattern: RegExp | string): number[] {
  const out: number[] = [];
  if (typeof pattern === 'string') {
    if (!pattern) return out;
    for (let i = text.indexOf(pattern, a); i >= 0 && i + pattern.length <= b; i = text.indexOf(pattern, i + pattern.length)) {
      out.push(i, i + pattern.length);
    }
    return out;
  }
  // Lookaheads must not see past the piece: run on the slice unless the piece is the whole text.
  const whole = a === 0 && b === text.length;
  const hay = whole ? text : text.slice(a, b);
  const re = pattern;
  re.lastIndex = 0;
  for (let m = re.exec(hay); m !== null; m = re.exec(hay)) {
    const len = m[0].length;
    if (len === 0) {
      re.lastIndex = afterEmptyMatch(hay, re.lastIndex);
      continue;
    }
    out.push(a + m.index, a + m.index + len);
  }
  return out;
}

/**
 * Under a time budget (the CLI, patternBudget.ts): the matches in every kept range, found in one call to the
 * helper thread; `spans` are the matches of kept range k from `spans.offsets[k]`. Null without a budget.
 */
function budgeted(text: string, input: Ranges, step: SplitStep, pattern: RegExp | string): { spans: Int32Array; offsets: Int32Array } | null {
  const budget = activePatternBudget();
  if (budget === null || typeof pattern === 'string') return null;
  const kept: number[] = [];
  for (let r = 0; r < input.length; r += 3) if (input[r + 2] !== 0) kept.push(input[r], input[r + 1]);
  const { spans, counts } = budgetedMatches(text, Int32Array.from(kept), pattern, step.origin, budget);
  const offsets = new Int32Array(counts.length + 1);
  for (let k = 0; k < counts.length; k++) offsets[k + 1] = offsets[k] + 2 * counts[k];
  return { spans, offsets };
}

/** Applies one split step to every kept range. */
export function applySplit(text: string, input: Ranges, step: SplitStep, exact = false): Ranges {
  const out: Ranges = [];
  const pattern = exact && step.exactPattern ? step.exactPattern : step.pattern;
  const found = budgeted(text, input, step, pattern);
  let kept = 0;
  for (let r = 0; r < input.length; r += 3) {
    const a = input[r];
    const b = input[r + 1];
    if (input[r + 2] === 0) {
      out.push(a, b, 0);
      continue;
    }
    const ms = found === null ? matches(text, a, b, pattern) : found.spans.subarray(found.offsets[kept], found.offsets[kept + 1]);
    kept++;
    // Pieces as (start, end, isDelimiter).
    const pieces: number[] = [];
    let last = a;
    for (let i = 0; i < ms.length; i += 2) {
      if (ms[i] > last) pieces.push(last, ms[i], step.invert ? 1 : 0);
      pieces.push(ms[i], ms[i + 1], step.invert ? 0 : 1);
      last = ms[i + 1];
    }
    if (last < b) pieces.push(last, b, step.invert ? 1 : 0);
    if (step.behavior === 'Isolated') {
      for (let i = 0; i < pieces.length; i += 3) out.push(pieces[i], pieces[i + 1], 1);
    } else if (step.behavior === 'Removed') {
      for (let i = 0; i < pieces.length; i += 3) out.push(pieces[i], pieces[i + 1], pieces[i + 2] ? 0 : 1);
    } else if (step.behavior === 'MergedWithPrevious') {
      // Hugging Face: a delimiter joins the piece before it, unless that piece was a delimiter too.
      const acc: number[] = [];
      let previousMatch = false;
      for (let i = 0; i < pieces.length; i += 3) {
        const isMatch = pieces[i + 2] === 1;
        if (isMatch && !previousMatch && acc.length) acc[acc.length - 1] = pieces[i + 1];
        else acc.push(pieces[i], pieces[i + 1]);
        previousMatch = isMatch;
      }
      for (let i = 0; i < acc.length; i += 2) out.push(acc[i], acc[i + 1], 1);
    } else {
      // MergedWithNext, the mirror image: a delimiter joins the piece after it.
      const acc: number[] = [];
      let previousMatch = false;
      for (let i = pieces.length - 3; i >= 0; i -= 3) {
        const isMatch = pieces[i + 2] === 1;
        if (isMatch && !previousMatch && acc.length) acc[acc.length - 2] = pieces[i];
        else acc.push(pieces[i], pieces[i + 1]);
        previousMatch = isMatch;
      }
      for (let i = acc.length - 2; i >= 0; i -= 2) out.push(acc[i], acc[i + 1], 1);
    }
  }
  return out;
}

/** `exact`: the text holds code points whose Unicode properties V8 and the reference may disagree on. */
export function preTokenize(text: string, steps: readonly SplitStep[], exact = false): Ranges {
  let ranges: Ranges = [0, text.length, 1];
  if (text.length === 0) return [];
  for (const step of steps) ranges = applySplit(text, ranges, step, exact);
  return ranges;
}
