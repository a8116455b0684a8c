/**
 * A document's token stream kept up to date under edits, re-tokenizing only a window around each edit.
 *
 * The window runs between two restart points (Tokenizer.restartRules): positions where no token crosses and
 * where encoding the rest of the text on its own gives the same tokens as encoding the whole text. Let R be
 * the last restart point whose defining characters all lie before the edit, and Q the first one whose defining
 * characters all lie after it. Both texts agree outside the edit, so R and Q (shifted) are restart points of the
 * old and the new text alike: the old tokens before R and after Q stay, and only [R, Q) is encoded again.
 * The window is encoded up to the restart point after Q, so that its end cannot change the tokens before Q
 * (a slice's end-of-text is seen by lookaheads such as `\s+(?!\S)`).
 * Where a tokenizer has no restart rule (or the text has no such point) the window grows to the document.
 * Equality with full re-tokenization is what the edit-sequence property tests check for every tokenizer.
 */
import { utf8Length } from '../text/utf8';
import type { EncodeOptions, RestartRules, TokenStream, Tokenizer } from '../tokenizers/types';
import { lowerBound } from '../sortedSearch';

/** How far to look for a restart point before giving up and taking the document's start or end. */
const MAX_SCAN_UTF16 = 1 << 16;

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Printable ASCII other than space, `/` and `\\`. */
function isLineStartChar(c: number): boolean {
  return c > 32 && c < 127 && c !== 47 && c !== 92;
}

/**
 * If p is a restart point, returns the last position its definition looks at (exclusive end), else -1.
 * Its definition looks at text[p - 1, end).
 */
export function restartExtent(text: string, p: number, rules: RestartRules): number {
  if (p <= 0 || p >= text.length) return -1;
  const prev = text.charCodeAt(p - 1);
  if (rules.afterNewline && prev === 10) {
    let q = p;
    if (rules.afterNewlineIndented) while (q < text.length && (text.charCodeAt(q) === 32 || text.charCodeAt(q) === 9)) q++;
    if (q < text.length && isLineStartChar(text.charCodeAt(q))) return q + 1;
  }
  if (rules.beforeSpaceWord && isAsciiLetter(prev) && text.charCodeAt(p) === 32 && p + 1 < text.length && isAsciiLetter(text.charCodeAt(p + 1))) {
    return p + 2;
  }
  return -1;
}

/** Growable struct-of-arrays token storage. */
class TokenArrays {
  n = 0;
  ids: Uint32Array;
  byteOffsets: Uint32Array;
  utf16Offsets: Uint32Array;
  flags: Uint8Array;
  byteIntoChar: Uint8Array;

  constructor(s: TokenStream) {
    const cap = Math.max(16, s.count + (s.count >> 3));
    this.ids = new Uint32Array(cap);
    this.byteOffsets = new Uint32Array(cap + 1);
    this.utf16Offsets = new Uint32Array(cap + 1);
    this.flags = new Uint8Array(cap);
    this.byteIntoChar = new Uint8Array(cap + 1);
    this.n = s.count;
    this.ids.set(s.ids);
    this.byteOffsets.set(s.byteOffsets);
    this.utf16Offsets.set(s.utf16Offsets);
    this.flags.set(s.flags);
    this.byteIntoChar.set(s.byteIntoChar);
  }

  private ensure(cap: number): void {
    if (cap <= this.ids.length) return;
    const c = Math.max(cap, this.ids.length * 2);
    const grow = <T extends Uint32Array | Uint8Array>(a: T, len: number, make: (n: number) => T): T => {
      const b = make(len);
      b.set(a);
      return b;
    };
    this.ids = grow(this.ids, c, (k) => new Uint32Array(k));
    this.byteOffsets = grow(this.byteOffsets, c + 1, (k) => new Uint32Array(k));
    this.utf16Offsets = grow(this.utf16Offsets, c + 1, (k) => new Uint32Array(k));
    this.flags = grow(this.flags, c, (k) => new Uint8Array(k));
    this.byteIntoChar = grow(this.byteIntoChar, c + 1, (k) => new Uint8Array(k));
  }

  /**
   * Replaces tokens [i0, j) with the window's tokens (whose offsets are relative to boundary i0) and shifts the
   * boundaries after j by (deltaUtf16, deltaBytes).
   */
  splice(i0: number, j: number, w: TokenStream, deltaUtf16: number, deltaBytes: number): void {
    const k = w.count;
    const n = this.n;
    const newN = n - (j - i0) + k;
    this.ensure(newN);
    const baseU = this.utf16Offsets[i0];
    const baseB = this.byteOffsets[i0];
    // Move the tail (tokens j..n-1 and boundaries j+1..n) into place, shifting its offsets.
    this.ids.copyWithin(i0 + k, j, n);
    this.flags.copyWithin(i0 + k, j, n);
    this.byteIntoChar.copyWithin(i0 + k, j, n + 1);
    this.utf16Offsets.copyWithin(i0 + k, j, n + 1);
    this.byteOffsets.copyWithin(i0 + k, j, n + 1);
    for (let t = i0 + k; t <= newN; t++) {
      this.utf16Offsets[t] += deltaUtf16;
      this.byteOffsets[t] += deltaBytes;
    }
    for (let t = 0; t < k; t++) {
      this.ids[i0 + t] = w.ids[t];
      this.flags[i0 + t] = w.flags[t];
      this.utf16Offsets[i0 + t] = baseU + w.utf16Offsets[t];
      this.byteOffsets[i0 + t] = baseB + w.byteOffsets[t];
      this.byteIntoChar[i0 + t] = w.byteIntoChar[t];
    }
    this.n = newN;
  }
}

export interface EditStats {
  /** Tokens re-encoded by the last edit, and whether it had to encode the whole document. */
  windowTokens: number;
  fullReencode: boolean;
}

export class DocumentTokens {
  private arrays: TokenArrays;
  private addedTokens: TokenStream['addedTokens'];
  private byteLength: number;
  readonly lastEdit: EditStats = { windowTokens: 0, fullReencode: true };

  constructor(
    private readonly tokenizer: Tokenizer,
    private textValue: string,
    private readonly options: EncodeOptions = {},
  ) {
    const s = tokenizer.encode(textValue, options);
    this.arrays = new TokenArrays(s);
    this.addedTokens = s.addedTokens;
    this.byteLength = s.byteLength;
  }

  get text(): string {
    return this.textValue;
  }

  /** The current stream (views onto internal arrays: copy before transferring or keeping across edits). */
  get stream(): TokenStream {
    const a = this.arrays;
    return {
      count: a.n,
      ids: a.ids.subarray(0, a.n),
      byteOffsets: a.byteOffsets.subarray(0, a.n + 1),
      utf16Offsets: a.utf16Offsets.subarray(0, a.n + 1),
      flags: a.flags.subarray(0, a.n),
      byteIntoChar: a.byteIntoChar.subarray(0, a.n + 1),
      byteLength: this.byteLength,
      utf16Length: this.textValue.length,
      addedTokens: this.addedTokens,
    };
  }

  private reencodeAll(): void {
    const s = this.tokenizer.encode(this.textValue, this.options);
    this.arrays = new TokenArrays(s);
    this.byteLength = s.byteLength;
    this.lastEdit.windowTokens = s.count;
    this.lastEdit.fullReencode = true;
  }

  /** Index of the boundary at UTF-16 position u on a character boundary, or -1. */
  private boundaryAt(u: number): number {
    const a = this.arrays;
    let lo = lowerBound(a.utf16Offsets, u, 0, a.n);
    // Several boundaries may share u (zero-width tokens, partial tokens): take the first clean one.
    while (lo <= a.n && a.utf16Offsets[lo] === u) {
      if (a.byteIntoChar[lo] === 0) return lo;
      lo++;
    }
    return -1;
  }

  /** Replaces `deleteCount` UTF-16 units at `utf16Start` with `insert`. */
  applyEdit(utf16Start: number, deleteCount: number, insert: string): void {
    const old = this.textValue;
    if (utf16Start < 0 || deleteCount < 0 || utf16Start + deleteCount > old.length) throw new RangeError('edit outside the document');
    const text = old.slice(0, utf16Start) + insert + old.slice(utf16Start + deleteCount);
    this.textValue = text;
    const rules = this.tokenizer.restartRules;
    if (this.arrays.n === 0 || (!rules.afterNewline && !rules.beforeSpaceWord)) return this.reencodeAll();

    const deltaUtf16 = insert.length - deleteCount;
    // An edit can pair or unpair surrogates next to it: measure one unit either side, as well-formed text.
    const lo = Math.max(0, utf16Start - 1);
    const deltaBytes = utf8Length(text, lo, Math.min(text.length, utf16Start + insert.length + 1)) - utf8Length(old, lo, Math.min(old.length, utf16Start + deleteCount + 1));
    const editEndNew = utf16Start + insert.length;

    // R: a restart point whose defining characters lie before the edit (the same in old and new text).
    let r = 0;
    const scanFloor = Math.max(1, utf16Start - MAX_SCAN_UTF16);
    for (let p = Math.min(utf16Start - 1, text.length - 1); p >= scanFloor; p--) {
      const ext = restartExtent(text, p, rules);
      if (ext >= 0 && ext <= utf16Start) {
        r = p;
        break;
      }
    }
    // Q, then Q2: restart points whose defining characters lie after the edit.
    const findAfter = (from: number): number => {
      const limit = Math.min(text.length, from + MAX_SCAN_UTF16);
      for (let p = from; p < limit; p++) if (restartExtent(text, p, rules) >= 0) return p;
      return text.length;
    };
    const q = findAfter(editEndNew + 1);
    const q2 = q < text.length ? findAfter(q + 1) : text.length;

    const i0 = r === 0 ? 0 : this.boundaryAt(r);
    const j = q === text.length ? this.arrays.n : this.boundaryAt(q - deltaUtf16);
    if (i0 < 0 || j < 0) return this.reencodeAll();

    const window = this.tokenizer.encode(text.slice(r, q2), { ...this.options, continuation: r > 0 });
    // Keep the window's tokens up to Q (a boundary there must exist: Q is a restart point of the window too).
    let k = window.count;
    if (q < q2) {
      const rel = q - r;
      k = -1;
      for (let t = 0; t <= window.count; t++) {
        if (window.utf16Offsets[t] === rel && window.byteIntoChar[t] === 0) {
          k = t;
          break;
        }
        if (window.utf16Offsets[t] > rel) break;
      }
      if (k < 0) return this.reencodeAll();
    }
    const kept: TokenStream = { ...window, count: k };
    this.arrays.splice(i0, j, kept, deltaUtf16, deltaBytes);
    this.byteLength += deltaBytes;
    this.lastEdit.windowTokens = k;
    this.lastEdit.fullReencode = r === 0 && q === text.length;
  }
}
