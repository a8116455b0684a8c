/**
 * Hugging Face normalizers that keep an alignment to the original text (see AlignedString).
 */
import { AlignedBuilder, AlignedString, UnitKind } from './aligned';
import { TokenizerError } from '../tokenizers/errors';
import { REFERENCE_NORMALIZATION_INERT_CLASS } from '../tokenizers/unicodeTables';

/**
 * `atStart` is false when the piece continues text that came before it (an incremental window that starts
 * mid-document): only Prepend cares.
 */
export type Normalizer = (s: AlignedString, atStart: boolean) => AlignedString;

type UnicodeForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

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

/**
 * Unicode normalization with alignment. The text is cut into segments that normalize independently
 * (a boundary before every character that is itself normalized and cannot combine with what precedes);
 * a segment that changes becomes one unit. If cutting would change the result, the piece is one unit.
 */
export function unicodeNormalizer(form: UnicodeForm): Normalizer {
  return (s) => {
    const text = s.text;
    const whole = referenceNormalize(text, form);
    if (whole === text) return s;
    const b = new AlignedBuilder(s);
    const cuts: number[] = [0];
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i) as number;
      const len = cp > 0xffff ? 2 : 1;
      const ch = text.slice(i, i + len);
      if (i > 0 && ((!NON_STARTER.test(ch) && ch.normalize(form) === ch) || INERT.test(ch))) cuts.push(i);
      i += len;
    }
    cuts.push(text.length);
    let joined = '';
    const normalizedSegments: string[] = [];
    for (let k = 0; k + 1 < cuts.length; k++) {
      const seg = text.slice(cuts[k], cuts[k + 1]);
      const n = referenceNormalize(seg, form);
      normalizedSegments.push(n);
      joined += n;
    }
    if (joined !== whole) {
      b.replace(0, text.length, whole, UnitKind.Normalized);
      return b.build();
    }
    for (let k = 0; k + 1 < cuts.length; k++) {
      const a = cuts[k];
      const e = cuts[k + 1];
      const n = normalizedSegments[k];
      if (n === text.slice(a, e)) b.copy(a, e);
      else b.replace(a, e, n, UnitKind.Normalized);
    }
    return b.build();
  };
}

function isMetaspaceRewrite(pattern: string, content: string): boolean {
  return (pattern === ' ' && content === '\u2581') || (pattern === '\u2581' && content === ' ');
}

/** Replace with a literal string pattern: each occurrence is one unit. */
export function replaceNormalizer(pattern: string | RegExp, content: string): Normalizer {
  return (s) => {
    const text = s.text;
    const b = new AlignedBuilder(s);
    let last = 0;
    if (typeof pattern === 'string') {
      if (pattern.length === 0) return s;
      const kind = isMetaspaceRewrite(pattern, content) ? UnitKind.Metaspace : UnitKind.Normalized;
      for (let i = text.indexOf(pattern); i >= 0; i = text.indexOf(pattern, i + pattern.length)) {
        b.copy(last, i);
        b.replace(i, i + pattern.length, content, kind);
        last = i + pattern.length;
      }
    } else {
      const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
      for (const m of text.matchAll(re)) {
        const i = m.index ?? 0;
        if (m[0].length === 0) continue;
        b.copy(last, i);
        b.replace(i, i + m[0].length, content, UnitKind.Normalized);
        last = i + m[0].length;
      }
    }
    b.copy(last, text.length);
    return b.build();
  };
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
  return (s, atStart) => steps.reduce((acc, f) => f(acc, atStart), s);
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
export function normalizerFromJson(json: unknown, compileRegex: (src: string) => RegExp): Normalizer | null {
  if (json === null || json === undefined) return null;
  const j = json as NormalizerJson;
  switch (j.type) {
    case 'Sequence': {
      const steps = (Array.isArray(j.normalizers) ? j.normalizers : [])
        .map((x: unknown) => normalizerFromJson(x, compileRegex))
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
      if (typeof j.pattern?.Regex === 'string') return replaceNormalizer(compileRegex(j.pattern.Regex), content);
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
