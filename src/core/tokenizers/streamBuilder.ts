/**
 * Builds a TokenStream in place, token by token: the final typed arrays (ids, n+1 byte and UTF-16
 * boundaries, bytes into a character, flags) grow as tokens arrive, so the stream needs no second pass.
 * Byte offsets come from the word's own byte lengths where the word is a verbatim copy of the original
 * (`pushRun`), and from a walk over the original text otherwise (`push`).
 */
import { grownTo } from '../typedArrays';
import { TokenFlag, type AddedTokenInfo, type TokenStream } from './types';
import type { TokenRun } from './wordCache';

// Local copies of imported constants (per-read getters under tsx's CommonJS form, see scanners.ts).
const PARTIAL: number = TokenFlag.Partial;
const ZERO_WIDTH: number = TokenFlag.ZeroWidth;
const PARTIAL_OR_ZERO_WIDTH = PARTIAL | ZERO_WIDTH;

export class StreamBuilder {
  n = 0;
  private ids: Uint32Array<ArrayBuffer>;
  private byteOffsets: Uint32Array<ArrayBuffer>;
  private utf16Offsets: Uint32Array<ArrayBuffer>;
  private byteIntoChar: Uint8Array<ArrayBuffer>;
  private flags: Uint8Array<ArrayBuffer>;
  /** The walk over the original text: the UTF-8 offset of the character boundary at UTF-16 `walkUtf16`. */
  private walkUtf16 = 0;
  private walkByte = 0;

  constructor(
    private readonly text: string,
    expectedTokens: number,
  ) {
    const cap = Math.max(64, expectedTokens);
    this.ids = new Uint32Array(cap);
    this.flags = new Uint8Array(cap);
    this.byteOffsets = new Uint32Array(cap + 1);
    this.utf16Offsets = new Uint32Array(cap + 1);
    this.byteIntoChar = new Uint8Array(cap + 1);
  }

  private reserve(count: number): void {
    if (this.n + count <= this.ids.length) return;
    const cap = Math.max(this.n + count, this.ids.length * 2);
    this.ids = grownTo(this.ids, cap);
    this.flags = grownTo(this.flags, cap);
    this.byteOffsets = grownTo(this.byteOffsets, cap + 1);
    this.utf16Offsets = grownTo(this.utf16Offsets, cap + 1);
    this.byteIntoChar = grownTo(this.byteIntoChar, cap + 1);
  }

  /** UTF-8 offset of the character boundary at UTF-16 position u (positions mostly increase: one walk). */
  private byteAt(u: number): number {
    if (u === this.walkUtf16) return this.walkByte;
    if (u < this.walkUtf16) {
      this.walkUtf16 = 0;
      this.walkByte = 0;
    }
    const t = this.text;
    let i = this.walkUtf16;
    let b = this.walkByte;
    while (i < u) {
      const c = t.charCodeAt(i);
      if (c < 0x80) {
        b += 1;
        i += 1;
      } else if (c < 0x800) {
        b += 2;
        i += 1;
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < t.length && (t.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        b += 4;
        i += 2;
      } else {
        b += 3;
        i += 1;
      }
    }
    this.walkUtf16 = i;
    this.walkByte = b;
    return b;
  }

  /** UTF-16 position and bytes-into-character of the last boundary. */
  get lastUtf16(): number {
    return this.utf16Offsets[this.n];
  }

  get lastInto(): number {
    return this.byteIntoChar[this.n];
  }

  /**
   * One token ending at UTF-16 `u` (plus `into` bytes into the character there) of the original text.
   * A boundary never goes backwards (a guard for exotic normalizer alignments).
   */
  push(id: number, u: number, into: number, flags: number): void {
    const n = this.n;
    const prevU = this.utf16Offsets[n];
    const prevInto = this.byteIntoChar[n];
    if (u < prevU || (u === prevU && into < prevInto)) {
      u = prevU;
      into = prevInto;
    }
    const byte = this.byteAt(u) + into;
    if (into > 0 || prevInto > 0) flags |= PARTIAL;
    if (byte === this.byteOffsets[n]) flags |= ZERO_WIDTH;
    this.reserve(1);
    this.ids[n] = id;
    this.flags[n] = flags;
    this.utf16Offsets[n + 1] = u;
    this.byteIntoChar[n + 1] = into;
    this.byteOffsets[n + 1] = byte;
    this.n = n + 1;
  }

  /**
   * The tokens `run[offset, offset + count)` of a word that is a verbatim copy of the original text from
   * UTF-16 `baseUtf16` (the last boundary, on a character boundary): their ends and byte lengths are the
   * word's own, and their Partial flags are already set.
   */
  pushRun(run: TokenRun, offset: number, count: number, baseUtf16: number): void {
    if (count === 0) return;
    this.reserve(count);
    const n0 = this.n;
    const byteBase = this.byteAt(baseUtf16);
    const { ids, flags, utf16Offsets, byteIntoChar, byteOffsets } = this;
    const runIds = run.ids;
    const runFlags = run.flags;
    const runEnd = run.endUtf16;
    const runInto = run.endInto;
    const runBytes = run.endByte;
    for (let k = 0; k < count; k++) {
      const i = n0 + k;
      const src = offset + k;
      ids[i] = runIds[src];
      flags[i] = runFlags[src];
      utf16Offsets[i + 1] = baseUtf16 + runEnd[src];
      byteIntoChar[i + 1] = runInto[src];
      byteOffsets[i + 1] = byteBase + runBytes[src];
    }
    this.n = n0 + count;
    // The word ends on a character boundary: the walk continues from there.
    this.walkUtf16 = utf16Offsets[this.n];
    this.walkByte = byteOffsets[this.n];
  }

  /** The stream, with the last token ending at the end of the text. */
  finish(addedTokens: readonly AddedTokenInfo[]): TokenStream {
    const n = this.n;
    const text = this.text;
    if (n > 0) {
      const byte = this.byteAt(text.length);
      this.utf16Offsets[n] = text.length;
      this.byteIntoChar[n] = 0;
      this.byteOffsets[n] = byte;
      let f = this.flags[n - 1] & ~PARTIAL_OR_ZERO_WIDTH;
      if (this.byteIntoChar[n - 1] > 0) f |= PARTIAL;
      if (byte === this.byteOffsets[n - 1]) f |= ZERO_WIDTH;
      this.flags[n - 1] = f;
    }
    const byteLength = n > 0 ? this.byteOffsets[n] : this.byteAt(text.length);
    return {
      count: n,
      ids: this.ids.slice(0, n),
      byteOffsets: this.byteOffsets.slice(0, n + 1),
      utf16Offsets: this.utf16Offsets.slice(0, n + 1),
      flags: this.flags.slice(0, n),
      byteIntoChar: this.byteIntoChar.slice(0, n + 1),
      byteLength,
      utf16Length: text.length,
      addedTokens,
    };
  }
}
