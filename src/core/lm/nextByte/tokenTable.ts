/**
 * A tokenizer's vocabulary arranged for the next-byte analysis, built once per tokenizer:
 * - each id's bytes (what it contributes to the text), its first byte, whether it can occur in an encoding of
 *   text at all (`usable`: not a special token, not empty, a possible piece of valid UTF-8);
 * - its UTF-8 structure: continuation bytes it starts with (the end of a character begun by the token before),
 *   the code points of its whole characters, and the bytes of a character it begins but does not finish;
 * - ids sorted by their bytes, so the ids that start with given bytes are one range (binary search).
 */
import { lowerBound } from '../../sortedSearch';

/** UTF-8 length announced by a lead byte (0 for a continuation or invalid byte). */
export function utf8SequenceLength(b: number): number {
  return b < 0x80 ? 1 : b < 0xc2 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 0;
}

/** Whether byte c may follow lead byte `lead` as its first continuation (no overlongs, no surrogates, ≤ U+10FFFF). */
export function validSecondByte(lead: number, c: number): boolean {
  if (lead === 0xe0) return c >= 0xa0 && c <= 0xbf;
  if (lead === 0xed) return c >= 0x80 && c <= 0x9f;
  if (lead === 0xf0) return c >= 0x90 && c <= 0xbf;
  if (lead === 0xf4) return c >= 0x80 && c <= 0x8f;
  return c >= 0x80 && c <= 0xbf;
}

export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** The UTF-8 shape of a byte string that could sit inside valid UTF-8 text, or undefined when it cannot. */
export interface Utf8Shape {
  /** Continuation bytes before the first character start (they finish a character begun earlier). */
  readonly leading: number;
  /** Code points of the whole characters. */
  readonly codePoints: number[];
  /** Bytes of a last character begun but not finished (0 when the bytes end on a character boundary). */
  readonly trailing: number;
}

export function utf8Shape(b: Uint8Array): Utf8Shape | undefined {
  let i = 0;
  while (i < b.length && i < 3 && (b[i] & 0xc0) === 0x80) i++;
  const leading = i;
  if (i < b.length && (b[i] & 0xc0) === 0x80) return undefined;
  const cps: number[] = [];
  while (i < b.length) {
    const n = utf8SequenceLength(b[i]);
    if (n === 0) return undefined;
    const have = Math.min(n, b.length - i);
    for (let k = 1; k < have; k++) {
      const c = b[i + k];
      if (k === 1 ? !validSecondByte(b[i], c) : (c & 0xc0) !== 0x80) return undefined;
    }
    if (have < n) return { leading, codePoints: cps, trailing: have };
    let cp = n === 1 ? b[i] : b[i] & (0xff >> (n + 1));
    for (let k = 1; k < n; k++) cp = (cp << 6) | (b[i + k] & 0x3f);
    cps.push(cp);
    i += n;
  }
  return { leading, codePoints: cps, trailing: 0 };
}

export class TokenTable {
  readonly vocabSize: number;
  readonly bytes: Uint8Array[];
  readonly usable: Uint8Array;
  readonly firstByte: Int16Array;
  readonly maxTokenBytes: number;
  /** Per id: continuation bytes it starts with, and bytes of an unfinished last character. */
  readonly leading: Uint8Array;
  readonly trailing: Uint8Array;
  /** Per id: where its whole characters' code points start in `codePoints`, and how many. */
  readonly cpStart: Int32Array;
  readonly cpCount: Int32Array;
  readonly codePoints: Int32Array;
  /** Every id's bytes in one flat array (hot loops): id's bytes are pool[byteStart[id], byteStart[id] + byteLength[id]). */
  readonly pool: Uint8Array;
  readonly byteStart: Int32Array;
  readonly byteLength: Int32Array;
  /** Ids sorted by bytes, and their latin1 keys. */
  readonly sortedIds: Int32Array;
  private readonly sortedKeys: string[];
  /** Position of each id in sortedIds. */
  readonly sortedPosition: Int32Array;

  /**
   * `bytesOf`: the bytes an id stands for in the text (SentencePiece vocabularies read `▁` as a space);
   * `excluded`: ids that never occur in an encoding of text (special added tokens).
   */
  constructor(vocabSize: number, bytesOf: (id: number) => Uint8Array, excluded: ReadonlySet<number>) {
    const V = vocabSize;
    this.vocabSize = V;
    this.bytes = new Array<Uint8Array>(V);
    this.usable = new Uint8Array(V);
    this.firstByte = new Int16Array(V).fill(-1);
    this.leading = new Uint8Array(V);
    this.trailing = new Uint8Array(V);
    this.cpStart = new Int32Array(V);
    this.cpCount = new Int32Array(V);
    const cps: number[] = [];
    let maxLen = 0;
    const keys = new Array<string>(V);
    for (let id = 0; id < V; id++) {
      const b = bytesOf(id);
      this.bytes[id] = b;
      keys[id] = latin1(b);
      this.cpStart[id] = cps.length;
      if (b.length === 0 || excluded.has(id)) continue;
      const shape = utf8Shape(b);
      if (!shape) continue;
      this.usable[id] = 1;
      this.firstByte[id] = b[0];
      this.leading[id] = shape.leading;
      this.trailing[id] = shape.trailing;
      for (const cp of shape.codePoints) cps.push(cp);
      this.cpCount[id] = shape.codePoints.length;
      if (b.length > maxLen) maxLen = b.length;
    }
    this.codePoints = Int32Array.from(cps);
    this.byteStart = new Int32Array(V);
    this.byteLength = new Int32Array(V);
    let total = 0;
    for (let id = 0; id < V; id++) total += this.bytes[id].length;
    this.pool = new Uint8Array(total);
    let o = 0;
    for (let id = 0; id < V; id++) {
      this.pool.set(this.bytes[id], o);
      this.byteStart[id] = o;
      this.byteLength[id] = this.bytes[id].length;
      o += this.bytes[id].length;
    }
    this.maxTokenBytes = maxLen;
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
    this.sortedIds = Int32Array.from(order);
    this.sortedKeys = order.map((i) => keys[i]);
    this.sortedPosition = new Int32Array(V);
    order.forEach((id, pos) => (this.sortedPosition[id] = pos));
  }

  /** Sorted positions [lo, hi) of the ids whose bytes start with `prefix` (a latin1 key). */
  prefixRange(prefix: string): [number, number] {
    return [lowerBound(this.sortedKeys, prefix), lowerBound(this.sortedKeys, prefix + '\u0100')];
  }

  /** The id's text when its bytes are whole characters. */
  text(id: number): string | undefined {
    if (!this.usable[id] || this.leading[id] || this.trailing[id]) return undefined;
    return String.fromCodePoint(...this.codePoints.subarray(this.cpStart[id], this.cpStart[id] + this.cpCount[id]));
  }
}
