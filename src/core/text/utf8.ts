/** UTF-8 / UTF-16 helpers. Every string here is assumed well-formed (see `wellFormed`). */

const encoder = new TextEncoder();

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Lone surrogates become U+FFFD; the UTF-16 length is unchanged, so offsets stay valid. */
export function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}

export function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** UTF-8 length of one code point. */
export function utf8LengthOfCodePoint(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** UTF-8 byte length of a string slice as its well-formed form encodes (lone surrogates as U+FFFD, 3 bytes). */
export function utf8Length(text: string, utf16Start = 0, utf16End = text.length): number {
  let n = 0;
  for (let i = utf16Start; i < utf16End; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < utf16End && isLowSurrogate(text.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3; // includes lone surrogates, which well-formed text carries as U+FFFD
  }
  return n;
}

/**
 * Converts a monotone sequence of UTF-16 positions (each optionally followed by a byte offset into the
 * character at that position) into UTF-8 byte offsets, in one left-to-right walk over the text.
 */
export class Utf16ToUtf8Walker {
  private utf16 = 0;
  private byte = 0;
  constructor(private readonly text: string) {}

  /** Byte offset of the character boundary at `utf16Pos` (must not decrease between calls). */
  byteAt(utf16Pos: number): number {
    if (utf16Pos < this.utf16) {
      this.utf16 = 0;
      this.byte = 0;
    }
    const t = this.text;
    let u = this.utf16;
    let b = this.byte;
    while (u < utf16Pos) {
      const c = t.charCodeAt(u);
      if (c < 0x80) {
        b += 1;
        u += 1;
      } else if (c < 0x800) {
        b += 2;
        u += 1;
      } else if (c >= 0xd800 && c <= 0xdbff && u + 1 < t.length && isLowSurrogate(t.charCodeAt(u + 1))) {
        b += 4;
        u += 2;
      } else {
        b += 3;
        u += 1;
      }
    }
    this.utf16 = u;
    this.byte = b;
    return b;
  }
}

/** UTF-16 length (1 or 2) of the character starting at `utf16Pos`. */
export function charUtf16Length(text: string, utf16Pos: number): number {
  const c = text.charCodeAt(utf16Pos);
  return c >= 0xd800 && c <= 0xdbff && utf16Pos + 1 < text.length && isLowSurrogate(text.charCodeAt(utf16Pos + 1)) ? 2 : 1;
}

/** Hex dump like `e2 96 81`. */
export function hexBytes(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (i ? ' ' : '') + bytes[i].toString(16).padStart(2, '0');
  return s;
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes when they are complete UTF-8, else undefined. */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}
