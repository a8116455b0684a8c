/**
 * A document's token stream in chunks of about CHUNK_TOKENS tokens, each with its boundaries stored relative
 * to the chunk's first boundary: replacing the tokens of an edit's window rewrites one or two chunks and moves
 * the base of each later chunk (a few hundred numbers for a 1 MB document), where one flat array would shift
 * every offset after the edit. The flat TokenStream is built on demand (`toStream`).
 */
import type { TokenStream } from '../tokenizers/types';

/** Tokens per chunk, unless the caller asks otherwise (tests do, to cross chunk edges often). */
export const CHUNK_TOKENS = 512;

interface Chunk {
  /** Number of tokens. */
  n: number;
  ids: Uint32Array;
  flags: Uint8Array;
  /** Token k's end boundary relative to the chunk's base: UTF-16 units, UTF-8 bytes, and bytes into the character. */
  endUtf16: Uint32Array;
  endByte: Uint32Array;
  endInto: Uint8Array;
}

/** Tokens gathered for a rewrite, with absolute end boundaries; chunks become views of these arrays. */
class TokenList {
  n = 0;
  readonly ids: Uint32Array;
  readonly flags: Uint8Array;
  readonly endUtf16: Uint32Array;
  readonly endByte: Uint32Array;
  readonly endInto: Uint8Array;

  constructor(capacity: number) {
    this.ids = new Uint32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.endUtf16 = new Uint32Array(capacity);
    this.endByte = new Uint32Array(capacity);
    this.endInto = new Uint8Array(capacity);
  }

  push(id: number, flags: number, endUtf16: number, endByte: number, endInto: number): void {
    const k = this.n++;
    this.ids[k] = id;
    this.flags[k] = flags;
    this.endUtf16[k] = endUtf16;
    this.endByte[k] = endByte;
    this.endInto[k] = endInto;
  }
}

export class ChunkedTokens {
  private chunks: Chunk[] = [];
  /** Per chunk: its first boundary (absolute) and the index of its first token. */
  private baseUtf16: number[] = [];
  private baseByte: number[] = [];
  private baseInto: number[] = [];
  private firstToken: number[] = [];
  private total = 0;

  /** `stream` is taken over: its arrays become the chunks' (their offsets made relative in place). */
  constructor(
    stream: TokenStream,
    private readonly chunkTokens = CHUNK_TOKENS,
  ) {
    const n = stream.count;
    const list: TokenList = {
      n,
      ids: stream.ids,
      flags: stream.flags,
      endUtf16: stream.utf16Offsets.subarray(1),
      endByte: stream.byteOffsets.subarray(1),
      endInto: stream.byteIntoChar.subarray(1),
    } as TokenList;
    this.insertChunks(0, list, 0, 0, 0, 0, chunkTokens);
    this.total = n;
  }

  get count(): number {
    return this.total;
  }

  /** The chunk holding token t (0 <= t < count). */
  private chunkOfToken(t: number): number {
    const first = this.firstToken;
    let lo = 0;
    let hi = first.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (first[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** UTF-16 offset of boundary i (0 <= i <= count). */
  boundaryUtf16(i: number): number {
    if (i === 0) return 0;
    const c = this.chunkOfToken(i - 1);
    return this.baseUtf16[c] + this.chunks[c].endUtf16[i - 1 - this.firstToken[c]];
  }

  boundaryByte(i: number): number {
    if (i === 0) return 0;
    const c = this.chunkOfToken(i - 1);
    return this.baseByte[c] + this.chunks[c].endByte[i - 1 - this.firstToken[c]];
  }

  boundaryInto(i: number): number {
    if (i === 0) return 0;
    const c = this.chunkOfToken(i - 1);
    return this.chunks[c].endInto[i - 1 - this.firstToken[c]];
  }

  /** The first boundary index whose UTF-16 offset is >= u (count + 1 when none). */
  lowerBoundUtf16(u: number): number {
    if (u <= 0 || this.total === 0) return u <= 0 ? 0 : 1;
    // The first chunk whose last boundary reaches u, then within it.
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const ch = this.chunks[mid];
      if (this.baseUtf16[mid] + ch.endUtf16[ch.n - 1] < u) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.chunks.length) return this.total + 1;
    const ch = this.chunks[lo];
    const rel = u - this.baseUtf16[lo];
    let a = 0;
    let b = ch.n - 1;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (ch.endUtf16[mid] < rel) a = mid + 1;
      else b = mid;
    }
    return this.firstToken[lo] + a + 1;
  }

  /**
   * Replaces tokens [i0, j) with the window's tokens (boundaries relative to boundary i0; the last one's end is
   * old boundary j moved by the edit) and moves the boundaries after j by (deltaUtf16, deltaBytes).
   */
  replace(i0: number, j: number, window: TokenStream, windowCount: number, deltaUtf16: number, deltaBytes: number): void {
    if (this.chunks.length === 0) {
      const list = new TokenList(windowCount);
      for (let t = 0; t < windowCount; t++) list.push(window.ids[t], window.flags[t], window.utf16Offsets[t + 1], window.byteOffsets[t + 1], window.byteIntoChar[t + 1]);
      this.insertChunks(0, list, 0, 0, 0, 0);
      this.total = windowCount;
      return;
    }
    const c0 = this.chunkOfToken(Math.min(i0, this.total - 1));
    const c1 = j > i0 ? this.chunkOfToken(j - 1) : c0;
    const startU = this.boundaryUtf16(i0);
    const startB = this.boundaryByte(i0);
    const endU = this.boundaryUtf16(j) + deltaUtf16;
    const endB = this.boundaryByte(j) + deltaBytes;
    const endInto = this.boundaryInto(j);
    const first = this.chunks[c0];
    const f0 = this.firstToken[c0];
    const last = this.chunks[c1];
    const l0 = this.firstToken[c1];
    const list = new TokenList(Math.min(i0 - f0, first.n) + windowCount + Math.max(0, last.n - Math.max(0, j - l0)));
    // The first chunk's tokens before i0.
    for (let k = 0; k < i0 - f0 && k < first.n; k++) {
      list.push(first.ids[k], first.flags[k], this.baseUtf16[c0] + first.endUtf16[k], this.baseByte[c0] + first.endByte[k], first.endInto[k]);
    }
    // The window's tokens; the last ends where old boundary j now is.
    for (let t = 0; t < windowCount; t++) {
      if (t === windowCount - 1) list.push(window.ids[t], window.flags[t], endU, endB, endInto);
      else list.push(window.ids[t], window.flags[t], startU + window.utf16Offsets[t + 1], startB + window.byteOffsets[t + 1], window.byteIntoChar[t + 1]);
    }
    // The last chunk's tokens from j on, moved.
    for (let k = Math.max(0, j - l0); k < last.n; k++) {
      list.push(last.ids[k], last.flags[k], this.baseUtf16[c1] + last.endUtf16[k] + deltaUtf16, this.baseByte[c1] + last.endByte[k] + deltaBytes, last.endInto[k]);
    }
    const baseU = this.baseUtf16[c0];
    const baseB = this.baseByte[c0];
    const baseI = this.baseInto[c0];
    this.chunks.splice(c0, c1 - c0 + 1);
    this.baseUtf16.splice(c0, c1 - c0 + 1);
    this.baseByte.splice(c0, c1 - c0 + 1);
    this.baseInto.splice(c0, c1 - c0 + 1);
    this.firstToken.splice(c0, c1 - c0 + 1);
    const added = this.insertChunks(c0, list, baseU, baseB, baseI, f0);
    const countDelta = windowCount - (j - i0);
    for (let c = c0 + added; c < this.chunks.length; c++) {
      this.baseUtf16[c] += deltaUtf16;
      this.baseByte[c] += deltaBytes;
      this.firstToken[c] += countDelta;
    }
    this.total += countDelta;
  }

  /**
   * Cuts `list` (absolute boundaries) into chunks inserted at position `at`, the first starting at the given
   * boundary; returns how many. The chunks are views of the list's arrays, made relative in place.
   */
  private insertChunks(at: number, list: TokenList, baseU: number, baseB: number, baseI: number, firstToken: number, target = this.chunkTokens): number {
    if (list.n === 0) return 0;
    const pieces = Math.max(1, Math.round(list.n / target));
    const size = Math.ceil(list.n / pieces);
    const chunks: Chunk[] = [];
    const bu: number[] = [];
    const bb: number[] = [];
    const bi: number[] = [];
    const ft: number[] = [];
    // Bases first (each is the absolute end of the piece before), then the offsets made relative.
    for (let a = 0; a < list.n; a += size) {
      bu.push(a === 0 ? baseU : list.endUtf16[a - 1]);
      bb.push(a === 0 ? baseB : list.endByte[a - 1]);
      bi.push(a === 0 ? baseI : list.endInto[a - 1]);
      ft.push(firstToken + a);
    }
    for (let p = bu.length - 1; p >= 0; p--) {
      const a = p * size;
      const e = Math.min(list.n, a + size);
      const endUtf16 = list.endUtf16.subarray(a, e);
      const endByte = list.endByte.subarray(a, e);
      for (let k = 0; k < e - a; k++) {
        endUtf16[k] -= bu[p];
        endByte[k] -= bb[p];
      }
      chunks[p] = { n: e - a, ids: list.ids.subarray(a, e), flags: list.flags.subarray(a, e), endUtf16, endByte, endInto: list.endInto.subarray(a, e) };
    }
    this.chunks.splice(at, 0, ...chunks);
    this.baseUtf16.splice(at, 0, ...bu);
    this.baseByte.splice(at, 0, ...bb);
    this.baseInto.splice(at, 0, ...bi);
    this.firstToken.splice(at, 0, ...ft);
    return chunks.length;
  }

  /** The whole stream as flat arrays (fresh ones: the caller may keep them). */
  toArrays(): Pick<TokenStream, 'ids' | 'byteOffsets' | 'utf16Offsets' | 'flags' | 'byteIntoChar'> {
    const n = this.total;
    const ids = new Uint32Array(n);
    const flags = new Uint8Array(n);
    const byteOffsets = new Uint32Array(n + 1);
    const utf16Offsets = new Uint32Array(n + 1);
    const byteIntoChar = new Uint8Array(n + 1);
    for (let c = 0; c < this.chunks.length; c++) {
      const ch = this.chunks[c];
      const at = this.firstToken[c];
      ids.set(ch.ids, at);
      flags.set(ch.flags, at);
      byteIntoChar.set(ch.endInto, at + 1);
      const bu = this.baseUtf16[c];
      const bb = this.baseByte[c];
      for (let k = 0; k < ch.n; k++) {
        utf16Offsets[at + k + 1] = bu + ch.endUtf16[k];
        byteOffsets[at + k + 1] = bb + ch.endByte[k];
      }
    }
    return { ids, byteOffsets, utf16Offsets, flags, byteIntoChar };
  }
}
