/**
 * Hugging Face normalizers that keep an alignment to the original text (see AlignedString).
 */
import { AlignedBuilder, AlignedString, UnitKind } from './aligned';
import { TokenizerError } from '../tokenizers/errors';
import { activePatternBudget, budgetedMatches } from '../tokenizers/patternBudget';
import { REFERENCE_NORMALIZATION_INERT_CLASS } from '../tokenizers/unicodeTables';

/**
 * `atStart` is false when the piece continues text that came before it (an incremental window that starts
 * mid-document): only Prepend cares.
 */
export interface Normalizer {
  (s: AlignedString, atStart: boolean): AlignedString;
  /**
   * Each output unit depends on its own input unit only, at the same position (a one-unit to one-unit
   * Replace): normalizing the whole text and slicing it equals normalizing the slice.
   */
  readonly unitwise?: boolean;
}

function unitwise(fn: (s: AlignedString, atStart: boolean) => AlignedString): Normalizer {
  return Object.assign(fn, { unitwise: true });
}

export type UnicodeForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

const NON_STARTER = /[\p{M}\u1160-\u11ff\ud7b0-\ud7ff\u0f71-\u0f84\u302a-\u302f\u3099\u309a]/u;

/**
 * Characters the reference's normalization tables do not have yet (assigned in a later Unicode version than
 * theirs, see scripts/make-unicode-tables.ts): the reference leaves them unchanged, as starters that neither
 * reorder nor compose, where V8 would move, decompose or compose them.
 */
const INERT = new RegExp(`[${REFERENCE_NORMALIZATION_INERT_CLASS}]`, 'u');
const INERT_ALL = new RegExp(INERT.source, 'gu');

/** `text.normalize(form)` as the reference computes it: the text between inert characters normalized, those kept. */
export function referenceNormalize(text: string, form: UnicodeForm): string {
  if (!INERT.test(text)) return text.normalize(form);
  let out = '';
  let last = 0;
  for (const m of text.matchAll(INERT_ALL)) {
    out += text.slice(last, m.index).normalize(form) + m[0];
    last = m.index + m[0].length;
  }
  return out + text.slice(last).normalize(form);
}

/** Regions are normalized in batches of about this many code units: one ICU call for a run of short regions. */
const BATCH_UNITS = 512;

/**
 * The regions of `text` that normalization changes, as [start, end) pairs. A region is a run of non-ASCII
 * text with the ASCII character before it (which may compose with what follows): normalization never looks
 * across the start of an ASCII character (it has combining class 0 and composes with nothing before it), so
 * the text outside the returned regions is unchanged and each region normalizes on its own.
 */
function changedRegions(text: string, form: UnicodeForm): number[] {
  const out: number[] = [];
  const batch: number[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    const a = batch[0];
    const e = batch[batch.length - 1];
    const whole = text.slice(a, e);
    if (referenceNormalize(whole, form) !== whole) {
      if (batch.length === 2) out.push(a, e);
      else {
        for (let r = 0; r < batch.length; r += 2) {
          const region = text.slice(batch[r], batch[r + 1]);
          if (referenceNormalize(region, form) !== region) out.push(batch[r], batch[r + 1]);
        }
      }
    }
    batch.length = 0;
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && text.charCodeAt(i) < 0x80) i++;
    if (i >= n) break;
    const a = i > 0 ? i - 1 : 0;
    while (i < n && text.charCodeAt(i) >= 0x80) i++;
    if (batch.length > 0 && a - batch[0] > BATCH_UNITS) flush();
    batch.push(a, i);
  }
  flush();
  return out;
}

/** A cut before character `ch`: it is itself normalized and cannot combine with what precedes it. */
function isCut(ch: string, form: UnicodeForm): boolean {
  return (!NON_STARTER.test(ch) && ch.normalize(form) === ch) || INERT.test(ch);
}

/**
 * Whether normalization never joins `ch` (one character) with what precedes it (the next-byte analysis asks:
 * a token starting with such a character reads the same after any text).
 */
export function startsNormalizationSegment(ch: string, form: UnicodeForm): boolean {
  return isCut(ch, form);
}

/**
 * Unicode normalization with alignment. The text is cut into segments that normalize independently
 * (a boundary before every character that is itself normalized and cannot combine with what precedes);
 * a segment that changes becomes one unit. If cutting would change the result, the piece is one unit.
 * Only the regions that normalization changes (changedRegions) are cut; text that is already normalized
 * (most text, all of ASCII) keeps an identity alignment.
 */
export function unicodeNormalizer(form: UnicodeForm): Normalizer {
  return (s) => {
    const text = s.text;
    const regions = changedRegions(text, form);
    if (regions.length === 0) return s;
    const b = new AlignedBuilder(s);
    let last = 0;
    for (let r = 0; r < regions.length; r += 2) {
      const start = regions[r];
      const end = regions[r + 1];
      b.copy(last, start);
      // The region's segments: cut where the original algorithm cuts (start and end are such cuts).
      const cuts: number[] = [start];
      for (let i = start; i < end; ) {
        const cp = text.codePointAt(i) as number;
        const len = cp > 0xffff ? 2 : 1;
        if (i > start && isCut(text.slice(i, i + len), form)) cuts.push(i);
        i += len;
      }
      cuts.push(end);
      let joined = '';
      const normalizedSegments: string[] = [];
      for (let k = 0; k + 1 < cuts.length; k++) {
        const n = referenceNormalize(text.slice(cuts[k], cuts[k + 1]), form);
        normalizedSegments.push(n);
        joined += n;
      }
      if (joined !== referenceNormalize(text.slice(start, end), form)) {
        // Cutting changes the result: the whole piece is one unit.
        const whole = new AlignedBuilder(s);
        whole.replace(0, text.length, referenceNormalize(text, form), UnitKind.Normalized);
        return whole.build();
      }
      for (let k = 0; k + 1 < cuts.length; k++) {
        const a = cuts[k];
        const e = cuts[k + 1];
        const n = normalizedSegments[k];
        if (n === text.slice(a, e)) b.copy(a, e);
        else b.replace(a, e, n, UnitKind.Normalized);
      }
      last = end;
    }
    b.copy(last, text.length);
    return b.build();
  };
}

function isMetaspaceRewrite(pattern: string, content: string): boolean {
  return (pattern === ' ' && content === '\u2581') || (pattern === '\u2581' && content === ' ');
}

/**
 * Replace with a literal string pattern: each occurrence is one unit. A regular expression runs under the
 * pattern budget where one is on (the CLI: a Replace pattern can backtrack like a split pattern); `origin`
 * names the tokenizer file in that error.
 */
export function replaceNormalizer(pattern: string | RegExp, content: string, origin?: string): Normalizer {
  const fn = (s: AlignedString): AlignedString => {
    const text = s.text;
    if (typeof pattern === 'string') {
      if (pattern.length === 0) return s;
      const first = text.indexOf(pattern);
      if (first < 0) return s;
      const kind = isMetaspaceRewrite(pattern, content) ? UnitKind.Metaspace : UnitKind.Normalized;
      if (pattern.length === content.length) return replaceSameLength(s, pattern, content, kind, first);
      const b = new AlignedBuilder(s);
      let last = 0;
      for (let i = first; i >= 0; i = text.indexOf(pattern, i + pattern.length)) {
        b.copy(last, i);
        b.replace(i, i + pattern.length, content, kind);
        last = i + pattern.length;
      }
      b.copy(last, text.length);
      return b.build();
    }
    const b = new AlignedBuilder(s);
    let last = 0;
    const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
    const budget = activePatternBudget();
    // [start, end) of each non-empty match, in order.
    const spans: ArrayLike<number> = budget
      ? budgetedMatches(text, Int32Array.of(0, text.length), re, origin, budget, 'Replace normalizer pattern').spans
      : Array.from(text.matchAll(re), (m) => [m.index ?? 0, (m.index ?? 0) + m[0].length]).flat();
    for (let k = 0; k < spans.length; k += 2) {
      const i = spans[k];
      if (spans[k + 1] === i) continue;
      b.copy(last, i);
      b.replace(i, spans[k + 1], content, UnitKind.Normalized);
      last = spans[k + 1];
    }
    b.copy(last, text.length);
    return b.build();
  };
  return typeof pattern === 'string' && pattern.length === 1 && content.length === 1 ? unitwise(fn) : fn;
}

/**
 * A replacement as long as what it replaces (Metaspace's ' ' -> '▁'): the alignment is the source's with each
 * occurrence made one unit, built in place of AlignedBuilder's piece-by-piece copies (the same result).
 */
function replaceSameLength(s: AlignedString, pattern: string, content: string, kind: number, first: number): AlignedString {
  const text = s.text;
  const n = text.length;
  const len = pattern.length;
  const replaced = text.replaceAll(pattern, content);
  if (s.origStart === null && len === 1) {
    // Each replaced unit keeps its position: positional, with kinds.
    const kinds = s.kind === null ? new Uint8Array(n) : s.kind.slice();
    for (let i = first; i >= 0; i = text.indexOf(pattern, i + 1)) kinds[i] = Math.max(kind, kinds[i]);
    return new AlignedString(replaced, s.base, null, null, kinds);
  }
  let starts: Uint32Array;
  let ends: Uint32Array;
  let kinds: Uint8Array;
  if (s.origStart === null) {
    starts = new Uint32Array(n);
    ends = new Uint32Array(n);
    for (let i = 0, u = s.base; i < n; i++, u++) {
      starts[i] = u;
      ends[i] = u + 1;
    }
    kinds = s.kind === null ? new Uint8Array(n) : s.kind.slice();
  } else {
    starts = s.origStart.slice();
    ends = (s.origEnd as Uint32Array).slice();
    kinds = (s.kind as Uint8Array).slice();
  }
  for (let i = first; i >= 0; i = text.indexOf(pattern, i + len)) {
    const start = starts[i];
    const end = ends[i + len - 1];
    let k = kind;
    for (let j = i; j < i + len; j++) k = Math.max(k, kinds[j]);
    starts.fill(start, i, i + len);
    ends.fill(end, i, i + len);
    kinds.fill(k, i, i + len);
  }
  return new AlignedString(replaced, s.base, starts, ends, kinds);
}

export function prependNormalizer(prefix: string): Normalizer {
  return (s, atStart) => {
    if (s.text.length === 0 || !atStart) return s;
    const b = new AlignedBuilder(s);
    b.replace(0, 0, prefix, prefix === '\u2581' || prefix === ' ' ? UnitKind.Metaspace : UnitKind.Normalized);
    b.copy(0, s.text.length);
    return b.build();
  };
}

export function lowercaseNormalizer(): Normalizer {
  return (s) => {
    const text = s.text;
    if (text.toLowerCase() === text) return s;
    const b = new AlignedBuilder(s);
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i) as number;
      const len = cp > 0xffff ? 2 : 1;
      const ch = text.slice(i, i + len);
      const lower = ch.toLowerCase();
      if (lower === ch) b.copy(i, i + len);
      else b.replace(i, i + len, lower, UnitKind.Normalized);
      i += len;
    }
    return b.build();
  };
}

export function stripNormalizer(left: boolean, right: boolean): Normalizer {
  return (s) => {
    const text = s.text;
    let a = 0;
    let e = text.length;
    if (left) while (a < e && /\s/u.test(text[a])) a++;
    if (right) while (e > a && /\s/u.test(text[e - 1])) e--;
    if (a === 0 && e === text.length) return s;
    const b = new AlignedBuilder(s);
    b.replace(0, a, '', UnitKind.Normalized);
    b.copy(a, e);
    b.replace(e, text.length, '', UnitKind.Normalized);
    return b.build();
  };
}

export function sequenceNormalizer(steps: Normalizer[]): Normalizer {
  const fn = (s: AlignedString, atStart: boolean): AlignedString => steps.reduce((acc, f) => f(acc, atStart), s);
  return steps.every((f) => f.unitwise === true) ? unitwise(fn) : fn;
}

interface NormalizerJson {
  type?: unknown;
  normalizers?: unknown;
  pattern?: { String?: unknown; Regex?: unknown };
  content?: unknown;
  prepend?: unknown;
  left?: unknown;
  right?: unknown;
}

/** Builds a normalizer from tokenizer.json's `normalizer` field (null -> null). */
export function normalizerFromJson(json: unknown, compileRegex: (src: string) => RegExp, origin?: string): Normalizer | null {
  if (json === null || json === undefined) return null;
  const j = json as NormalizerJson;
  switch (j.type) {
    case 'Sequence': {
      const steps = (Array.isArray(j.normalizers) ? j.normalizers : [])
        .map((x: unknown) => normalizerFromJson(x, compileRegex, origin))
        .filter((x): x is Normalizer => x !== null);
      return steps.length === 0 ? null : steps.length === 1 ? steps[0] : sequenceNormalizer(steps);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return unicodeNormalizer(j.type);
    case 'Lowercase':
      return lowercaseNormalizer();
    case 'Replace': {
      const content = String(j.content ?? '');
      if (typeof j.pattern?.String === 'string') return replaceNormalizer(j.pattern.String, content);
      if (typeof j.pattern?.Regex === 'string') return replaceNormalizer(compileRegex(j.pattern.Regex), content, origin);
      throw new TokenizerError('Replace normalizer without a pattern');
    }
    case 'Prepend':
      return prependNormalizer(String(j.prepend ?? ''));
    case 'Strip':
      return stripNormalizer(j.left !== false, j.right !== false);
    default:
      throw new TokenizerError(`normalizer type ${JSON.stringify(j.type)} is not supported`);
  }
}
