/**
 * Pre-tokenizer patterns are written for Oniguruma (Hugging Face) or fancy-regex (tiktoken). Two things
 * differ from JavaScript and change ids if left alone:
 * - `(?i:...)` modifier groups: Node 20 rejects them ("Invalid group"). They are rewritten into explicit
 *   case classes, including the Unicode simple case folds that the Rust engines apply (`ſ` ~ s, `K` ~ k).
 * - `\s`: Oniguruma and Rust mean Unicode White_Space (includes U+0085, excludes U+FEFF); JS's `\s` is the
 *   reverse on both.
 * - `\p{L}` and friends: the reference engines use older Unicode tables than V8 (which differs between Node
 *   versions too). Each pattern is compiled twice: with V8's native properties (fast) and with the
 *   reference's own code-point ranges (unicodeTables.ts, exact but ~5x slower). Text holding none of the
 *   code points where the two can disagree (`hasUnsafeCodePoints`, unicodeClasses.ts) uses the fast one; ids never depend on
 *   the JavaScript runtime's Unicode version.
 */
import { TokenizerError } from './errors';
import { isSpaceBoundedPattern, scannerForPattern, type PieceScanner } from './scanners';
import { REFERENCE_UNICODE_CLASSES } from './unicodeTables';

const EXTRA_FOLDS: Record<string, string> = { s: '\u017f', k: '\u212a' };

function caseClass(ch: string): string {
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  if (lower === upper) return escapeLiteral(ch);
  return `[${lower}${upper}${EXTRA_FOLDS[lower] ?? ''}]`;
}

function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? '\\' + ch : ch;
}

/** Rewrites the body of a `(?i:...)` group made of literal alternatives (the only form these patterns use). */
function caseInsensitiveBody(body: string): string {
  if (/[\\[\]()*+?{}.^$]/.test(body)) {
    throw new TokenizerError(`pattern uses (?i:${body}) with regex syntax inside; only literal alternatives are supported`);
  }
  return body
    .split('|')
    .map((alt) => [...alt].map(caseClass).join(''))
    .join('|');
}

/** The class body for a property: the reference's ranges (exact) or V8's own (fast). White_Space is stable. */
function propertyBody(name: string, exact: boolean): string {
  if (!exact || name === 'White_Space') return `\\p{${name}}`;
  return REFERENCE_UNICODE_CLASSES[name] ?? `\\p{${name}}`;
}

/**
 * Converts an Oniguruma/fancy-regex pattern to an equivalent JavaScript RegExp source (for the `u` flag).
 * `exact`: spell Unicode properties as the reference's code-point ranges instead of V8's `\p{...}`.
 */
export function toJsPattern(pattern: string, exact = true): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === 's' || n === 'S') {
        const body = propertyBody('White_Space', exact);
        if (inClass && n === 'S') throw new TokenizerError('pattern uses \\S inside a character class, which is not supported');
        out += inClass ? body : n === 's' ? `[${body}]` : `[^${body}]`;
        i++;
      } else if ((n === 'p' || n === 'P') && pattern[i + 2] === '{') {
        const close = pattern.indexOf('}', i + 3);
        if (close < 0) throw new TokenizerError('pattern has an unterminated \\p{...}');
        const body = propertyBody(pattern.slice(i + 3, close), exact);
        if (n === 'P' && inClass) throw new TokenizerError('pattern uses \\P{...} inside a character class, which is not supported');
        out += inClass ? body : n === 'p' ? `[${body}]` : `[^${body}]`;
        i = close;
      } else {
        out += c + (n ?? '');
        i++;
      }
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (pattern[i + 1] === '^') {
        out += '^';
        i++;
      }
      // A literal ']' right after '[' or '[^' belongs to the class.
      if (pattern[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (pattern.startsWith('(?i:', i)) {
      let depth = 1;
      let j = i + 4;
      for (; j < pattern.length && depth > 0; j++) {
        if (pattern[j] === '\\') j++;
        else if (pattern[j] === '(') depth++;
        else if (pattern[j] === ')') depth--;
      }
      out += '(?:' + caseInsensitiveBody(pattern.slice(i + 4, j - 1)) + ')';
      i = j - 1;
      continue;
    }
    out += c;
  }
  return out;
}

export function compilePattern(pattern: string, exact = true): RegExp {
  const src = toJsPattern(pattern, exact);
  try {
    return new RegExp(src, 'gu');
  } catch (e) {
    throw new TokenizerError(`pre-tokenizer pattern is not supported in JavaScript: ${(e as Error).message}`);
  }
}

/**
 * A split pattern in both forms: `pattern` (V8's properties) for safe text, `exactPattern` otherwise; and the
 * hand-written scanner that replaces both in the engine, when the pattern is a known one.
 */
export function compileSplitPattern(pattern: string): { pattern: RegExp; exactPattern: RegExp; scanner?: PieceScanner; spaceBounded?: boolean } {
  const scanner = scannerForPattern(pattern);
  const compiled = { pattern: compilePattern(pattern, false), exactPattern: compilePattern(pattern, true), ...(isSpaceBoundedPattern(pattern) ? { spaceBounded: true } : {}) };
  return scanner ? { ...compiled, scanner } : compiled;
}
