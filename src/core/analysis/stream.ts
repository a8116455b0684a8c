/**
 * Reading a TokenStream: the range to show for a token, which tokens sit at an offset, and a token's text.
 */
import { charUtf16Length } from '../text/utf8';
import { TokenFlag, type TokenStream } from '../tokenizers/types';
import { upperBound } from '../sortedSearch';

/**
 * UTF-16 range to show for token i: whole characters. A token that ends inside a character takes that
 * whole character, so the partial tokens of one character share its range.
 */
export function tokenUtf16Range(stream: TokenStream, text: string, i: number): [number, number] {
  const start = stream.utf16Offsets[i];
  let end = stream.utf16Offsets[i + 1];
  if (stream.byteIntoChar[i + 1] > 0) end += charUtf16Length(text, end);
  return [start, end];
}

/**
 * The tokens shown at UTF-16 offset `utf16`: usually one; several when they split the character there
 * (they are shown together as that character). Returns [first, last] inclusive, or undefined past the end.
 */
export function tokensAtUtf16(stream: TokenStream, text: string, utf16: number): [number, number] | undefined {
  if (stream.count === 0 || utf16 < 0 || utf16 >= stream.utf16Length) return undefined;
  const u = stream.utf16Offsets;
  // Last token whose start is <= utf16 (u[0] = 0 <= utf16).
  const lo = upperBound(u, utf16, 0, stream.count) - 1;
  let first = lo;
  let last = lo;
  // Extend over tokens that share the character (partial pieces start at the same char).
  while (first > 0 && u[first] === u[first - 1] && stream.byteIntoChar[first] > 0) first--;
  while (first > 0 && tokenUtf16Range(stream, text, first - 1)[1] > utf16) first--;
  while (last + 1 < stream.count && u[last + 1] <= utf16 && stream.byteIntoChar[last + 1] > 0) last++;
  // Skip zero-width tokens at the front unless all are zero-width.
  while (first < last && stream.byteOffsets[first] === stream.byteOffsets[first + 1]) first++;
  return [first, last];
}

/** Original UTF-8 bytes of token i. */
function tokenOriginalBytes(stream: TokenStream, utf8: Uint8Array, i: number): Uint8Array {
  return utf8.subarray(stream.byteOffsets[i], stream.byteOffsets[i + 1]);
}

/** `\xNN` escapes of bytes. */
export function escapeBytes(bytes: Iterable<number>): string {
  let s = '';
  for (const b of bytes) s += '\\x' + b.toString(16).padStart(2, '0');
  return s;
}

/** The token's text: its characters when it covers whole ones, else `\xNN` escapes of its bytes. */
function tokenText(stream: TokenStream, text: string, utf8: Uint8Array, i: number): string {
  if (stream.flags[i] & TokenFlag.Partial) return escapeBytes(tokenOriginalBytes(stream, utf8, i));
  return text.slice(stream.utf16Offsets[i], stream.utf16Offsets[i + 1]);
}

export type ControlNames = Readonly<Record<' ' | '\t' | '\n' | '\r', string>>;

/** Spaces and control characters made visible: the four in `names` as named, other controls as `\xNN`. */
export function replaceControls(s: string, names: ControlNames): string {
  return s.replace(/[ \t\r\n\u0000-\u001f\u007f]/g, (c) => names[c as keyof ControlNames] ?? '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

const ESCAPES: ControlNames = { ' ': '·', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Text with C-style escapes for hovers and tables: `\n`, `\t`, `\r`, spaces as `·`. */
export function escapedText(s: string): string {
  return replaceControls(s, ESCAPES);
}

export interface TokenJson {
  readonly id: number;
  readonly text: string;
  readonly bytes: [number, number];
  readonly utf16: [number, number];
  readonly partial: boolean;
  readonly special: boolean;
  readonly zeroWidth: boolean;
  readonly byteFallback: boolean;
  readonly normalized: boolean;
}

export function tokenJson(stream: TokenStream, text: string, utf8: Uint8Array, i: number): TokenJson {
  const f = stream.flags[i];
  return {
    id: stream.ids[i],
    text: tokenText(stream, text, utf8, i),
    bytes: [stream.byteOffsets[i], stream.byteOffsets[i + 1]],
    utf16: tokenUtf16Range(stream, text, i),
    partial: (f & TokenFlag.Partial) !== 0,
    special: (f & TokenFlag.Special) !== 0,
    zeroWidth: (f & TokenFlag.ZeroWidth) !== 0,
    byteFallback: (f & TokenFlag.ByteFallback) !== 0,
    normalized: (f & TokenFlag.Normalized) !== 0,
  };
}
