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
 *
 * Nothing here is proportional to the document: the restart points are found in a slice of the text around
 * the edit (widened only when it cannot decide), the text and the tokens are kept in chunks, and the flat
 * stream is built only when read.
 */
import { ChunkedText } from '../text/chunkedText';
import { utf8Length } from '../text/utf8';
import type { EncodeOptions, RestartRules, TokenStream, Tokenizer } from '../tokenizers/types';
import { CharClass, classBits, isWordEndChar } from '../tokenizers/unicodeClasses';
import { ChunkedTokens } from './chunkedTokens';

/** How far to look for a restart point before giving up and taking the document's start or end. */
const MAX_SCAN_UTF16 = 1 << 16;

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Printable ASCII other than space, `/` and `\\`. */
function isLineStartChar(c: number): boolean {
  return c > 32 && c < 127 && c !== 47 && c !== 92;
}

const WORD_CLASS = CharClass.Letter | CharClass.Number;
// Local aliases of imported functions called per position (per-call getters under tsx's CommonJS form).
const wordClassBits: (cp: number) => number = classBits;
const endsWord: (c: number) => boolean = isWordEndChar;

/** restartExtentIn's answer when it needs text outside the local window it was given. */
const NEED_MORE = -2;

/**
 * If p is a restart point, returns the last position its definition looks at (exclusive end), else -1.
 * Its definition looks at text[p - 1, end), or from p - 2 when a surrogate pair ends at p.
 */
export function restartExtent(text: string, p: number, rules: RestartRules): number {
  return restartExtentIn(text, 0, text.length, p, rules);
}

/**
 * restartExtent on a local window `local` of the text (global offset `origin`, global length `total`):
 * the same answer, or NEED_MORE when the definition looks outside the window.
 */
function restartExtentIn(local: string, origin: number, total: number, p: number, rules: RestartRules): number {
  if (p <= 0 || p >= total) return -1;
  const i = p - origin;
  if (i < 1 || i >= local.length) return NEED_MORE;
  const prev = local.charCodeAt(i - 1);
  if (rules.afterNewline && prev === 10) {
    let q = i;
    if (rules.afterNewlineIndented) while (q < local.length && (local.charCodeAt(q) === 32 || local.charCodeAt(q) === 9)) q++;
    if (q < local.length) {
      const c = local.charCodeAt(q);
      if (isLineStartChar(c)) return origin + q + 1;
      if (rules.lineStartWords === true && c >= 0x80) {
        // A letter or digit of any script starts the line (a surrogate pair: both halves are looked at).
        if (c >= 0xd800 && c <= 0xdbff) {
          if (q + 1 >= local.length) return origin + q + 1 < total ? NEED_MORE : -1;
          const d = local.charCodeAt(q + 1);
          if (d >= 0xdc00 && d <= 0xdfff && (wordClassBits(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000) & WORD_CLASS) !== 0) return origin + q + 2;
        } else if ((c < 0xdc00 || c > 0xdfff) && (wordClassBits(c) & WORD_CLASS) !== 0) return origin + q + 1;
      }
    } else if (origin + q < total) return NEED_MORE;
  }
  const at = local.charCodeAt(i);
  if (rules.wordEnds === true && endsWord(at)) {
    // The end of a word of any script: a letter or digit, then a space or punctuation.
    if (prev < 0x80) {
      if (isAsciiLetter(prev) || (prev >= 48 && prev <= 57)) return p + 1;
    } else if (prev >= 0xdc00 && prev <= 0xdfff) {
      if (i < 2) return origin > 0 ? NEED_MORE : -1;
      const h = local.charCodeAt(i - 2);
      if (h >= 0xd800 && h <= 0xdbff && (wordClassBits(((h - 0xd800) << 10) + (prev - 0xdc00) + 0x10000) & WORD_CLASS) !== 0) return p + 1;
    } else if ((prev < 0xd800 || prev > 0xdbff) && (wordClassBits(prev) & WORD_CLASS) !== 0) return p + 1;
  }
  if (at !== 32) return -1;
  if (rules.beforeSpaceWord && isAsciiLetter(prev)) {
    if (i + 1 >= local.length) return origin + i + 1 < total ? NEED_MORE : -1;
    if (isAsciiLetter(local.charCodeAt(i + 1))) return p + 2;
  }
  return -1;
}

/**
 * The tokens of `encoded` before UTF-16 offset `cut`, a restart point: all of them when the text encoded ends
 * there (`encodedPast` false), else up to the last token boundary on a character boundary at `cut` (zero-width
 * tokens at the restart point belong to the text before it). Used by the chunked encoder and region encoding.
 */
export function streamBeforeRestart(encoded: TokenStream, cut: number, encodedPast: boolean): TokenStream {
  const k = encodedPast ? lastCleanBoundary(encoded, cut) : encoded.count;
  if (k < 0) throw new Error(`internal: no token boundary at restart point ${cut}`);
  return {
    ...encoded,
    count: k,
    ids: encoded.ids.subarray(0, k),
    byteOffsets: encoded.byteOffsets.subarray(0, k + 1),
    utf16Offsets: encoded.utf16Offsets.subarray(0, k + 1),
    flags: encoded.flags.subarray(0, k),
    byteIntoChar: encoded.byteIntoChar.subarray(0, k + 1),
    byteLength: encoded.byteOffsets[k],
    utf16Length: cut,
  };
}

/** The last boundary of `stream` at UTF-16 `u` on a character boundary, or -1. */
export function lastCleanBoundary(stream: TokenStream, u: number): number {
  let found = -1;
  for (let t = 0; t <= stream.count; t++) {
    const at = stream.utf16Offsets[t];
    if (at > u) break;
    if (at === u && stream.byteIntoChar[t] === 0) found = t;
  }
  return found;
}

/** The window an edit re-encodes: [r, q) kept, encoded up to q2 (see the module comment). */
interface EditWindow {
  readonly r: number;
  readonly q: number;
  readonly q2: number;
}

/**
 * Finds R, Q and Q2 for an edit of the new text that ends at `editEnd` (new coordinates), looking only at
 * `local` (the new text from `origin`); undefined when the window is too small to decide.
 */
function findEditWindow(local: string, origin: number, total: number, editStart: number, editEnd: number, rules: RestartRules): EditWindow | undefined {
  let r = 0;
  const scanFloor = Math.max(1, editStart - MAX_SCAN_UTF16);
  for (let p = Math.min(editStart - 1, total - 1); p >= scanFloor; p--) {
    const ext = restartExtentIn(local, origin, total, p, rules);
    if (ext === NEED_MORE) return undefined;
    if (ext >= 0 && ext <= editStart) {
      r = p;
      break;
    }
  }
  const findAfter = (from: number): number => {
    const limit = Math.min(total, from + MAX_SCAN_UTF16);
    for (let p = from; p < limit; p++) {
      const ext = restartExtentIn(local, origin, total, p, rules);
      if (ext === NEED_MORE) return NEED_MORE;
      if (ext >= 0) return p;
    }
    return total;
  };
  // A definition starts at p - 1, or p - 2 after a surrogate pair: from editEnd + 2 it never reads edited text.
  const q = findAfter(editEnd + 2);
  if (q === NEED_MORE) return undefined;
  const q2 = q < total ? findAfter(q + 1) : total;
  if (q2 === NEED_MORE) return undefined;
  return { r, q, q2 };
}

/** How the document is stored; the defaults suit editors, tests use small sizes to cross chunk edges often. */
export interface DocumentLayout {
  readonly tokensPerChunk?: number;
  readonly unitsPerTextPiece?: number;
}

export interface EditStats {
  /** Tokens re-encoded by the last edit, and whether it had to encode the whole document. */
  windowTokens: number;
  fullReencode: boolean;
}

const STREAM_ARRAYS = ['ids', 'byteOffsets', 'utf16Offsets', 'flags', 'byteIntoChar'] as const;

/**
 * A document's token stream kept up to date under edits. The text is kept in pieces (ChunkedText) and the
 * tokens in chunks (ChunkedTokens), so an edit costs what its window costs, not the document's size.
 */
export class DocumentTokens {
  private readonly chunkedText: ChunkedText;
  private tokens: ChunkedTokens;
  private addedTokens: TokenStream['addedTokens'];
  private byteLength: number;
  /** Bumped by every edit: a stream of an older version refuses to build its arrays. */
  private version = 0;
  readonly lastEdit: EditStats = { windowTokens: 0, fullReencode: true };

  constructor(
    private readonly tokenizer: Tokenizer,
    text: string,
    private readonly options: EncodeOptions = {},
    private readonly layout: DocumentLayout = {},
  ) {
    this.chunkedText = new ChunkedText(text, layout.unitsPerTextPiece);
    const s = tokenizer.encode(text, options);
    this.tokens = new ChunkedTokens(s, layout.tokensPerChunk);
    this.addedTokens = s.addedTokens;
    this.byteLength = s.byteLength;
  }

  /** The current text (joined once per version). */
  get text(): string {
    return this.chunkedText.toString();
  }

  /**
   * The current stream. Each read gives a stream of its own whose typed arrays are built when first touched
   * (one pass over the chunks) and belong to the caller: never changed afterwards, free to keep or transfer.
   * Touch them before the next edit: a stream of an older version throws rather than show newer tokens.
   */
  get stream(): TokenStream {
    const version = this.version;
    const stream = { count: this.tokens.count, byteLength: this.byteLength, utf16Length: this.chunkedText.length, addedTokens: this.addedTokens };
    let arrays: ReturnType<ChunkedTokens['toArrays']> | null = null;
    const materialize = (): ReturnType<ChunkedTokens['toArrays']> => {
      if (arrays) return arrays;
      if (version !== this.version) throw new Error('DocumentTokens: a stream was read after a later edit; read .stream again');
      return (arrays = this.tokens.toArrays());
    };
    for (const key of STREAM_ARRAYS) Object.defineProperty(stream, key, { enumerable: true, get: () => materialize()[key] });
    return stream as TokenStream;
  }

  private reencodeAll(): void {
    const s = this.tokenizer.encode(this.chunkedText.toString(), this.options);
    this.tokens = new ChunkedTokens(s, this.layout.tokensPerChunk);
    this.byteLength = s.byteLength;
    this.lastEdit.windowTokens = s.count;
    this.lastEdit.fullReencode = true;
  }

  /**
   * Index of the boundary at UTF-16 position u on a character boundary, or -1. Several may share u (after
   * zero-width tokens): the last one, since a zero-width token belongs to the text before it.
   */
  private boundaryAt(u: number): number {
    const tokens = this.tokens;
    let found = -1;
    for (let i = tokens.lowerBoundUtf16(u); i <= tokens.count && tokens.boundaryUtf16(i) === u; i++) {
      if (tokens.boundaryInto(i) === 0) found = i;
    }
    return found;
  }

  /** Replaces `deleteCount` UTF-16 units at `utf16Start` with `insert`. */
  applyEdit(utf16Start: number, deleteCount: number, insert: string): void {
    const text = this.chunkedText;
    const oldLength = text.length;
    if (utf16Start < 0 || deleteCount < 0 || utf16Start + deleteCount > oldLength) throw new RangeError('edit outside the document');
    // An edit can pair or unpair surrogates next to it: measure one unit either side, as well-formed text.
    const lo = Math.max(0, utf16Start - 1);
    const oldBytes = utf8Length(text.slice(lo, Math.min(oldLength, utf16Start + deleteCount + 1)));
    text.replace(utf16Start, deleteCount, insert);
    this.version++;
    const total = text.length;
    const deltaBytes = utf8Length(text.slice(lo, Math.min(total, utf16Start + insert.length + 1))) - oldBytes;
    const deltaUtf16 = insert.length - deleteCount;
    const rules = this.options.allowSpecial === true ? this.tokenizer.restartRulesWithSpecial : this.tokenizer.restartRules;
    if (this.tokens.count === 0 || (!rules.afterNewline && !rules.beforeSpaceWord)) return this.reencodeAll();

    const editEnd = utf16Start + insert.length;
    // R, Q and Q2 from the text around the edit, widened until it decides them.
    let window: EditWindow | undefined;
    for (let reach = 512; window === undefined; reach *= 4) {
      const origin = Math.max(0, utf16Start - reach);
      const local = text.slice(origin, Math.min(total, editEnd + reach));
      window = findEditWindow(local, origin, total, utf16Start, editEnd, rules);
      if (window === undefined && origin === 0 && editEnd + reach >= total) throw new Error('internal: the whole text did not decide the edit window');
    }
    const { r, q, q2 } = window;

    const i0 = r === 0 ? 0 : this.boundaryAt(r);
    const j = q === total ? this.tokens.count : this.boundaryAt(q - deltaUtf16);
    if (i0 < 0 || j < 0) return this.reencodeAll();

    const encoded = this.tokenizer.encode(text.slice(r, q2), { ...this.options, continuation: r > 0 });
    // Keep the window's tokens up to Q (a boundary there must exist: Q is a restart point of the window too),
    // with any zero-width tokens at Q (they belong to the text before it).
    let k = encoded.count;
    if (q < q2) {
      k = lastCleanBoundary(encoded, q - r);
      if (k < 0) return this.reencodeAll();
    }
    this.tokens.replace(i0, j, encoded, k, deltaUtf16, deltaBytes);
    this.byteLength += deltaBytes;
    this.lastEdit.windowTokens = k;
    this.lastEdit.fullReencode = r === 0 && q === total;
  }
}
