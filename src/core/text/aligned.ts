/**
 * A normalized string that remembers where each of its UTF-16 code units came from in the original.
 *
 * Normalizers (NFC, NFKC, Replace, Prepend, Lowercase) change the text a tokenizer sees. To keep spans
 * byte-exact against the ORIGINAL text, every code unit of the normalized string carries the original
 * UTF-16 range of the "unit" it came from. A unit is the smallest piece that was rewritten as a whole
 * (one NFKC character, one replaced space, a prepended `▁` with an empty source).
 */
import { grownTo } from '../typedArrays';

export const UnitKind = {
  Identity: 0,
  /** Whitespace conventions (space -> `▁`, a prepended `▁`): not flagged as normalized. */
  Metaspace: 1,
  /** A real normalization (NFC/NFKC/lowercase...): tokens touching it are flagged Normalized. */
  Normalized: 2,
} as const;

export class AlignedString {
  /**
   * @param text the normalized text
   * @param origStart per code unit of `text`: start of its source unit in the original (UTF-16)
   * @param origEnd per code unit: end of its source unit (exclusive); equal to start for inserted text
   * @param kind per code unit: UnitKind
   * Null origStart/origEnd mean positional: code unit i came from original position base + i (a rewrite of
   * single units that keeps the length, such as ' ' -> '▁', is positional with its kinds); null kind means
   * every unit is unchanged.
   */
  constructor(
    readonly text: string,
    readonly base: number,
    readonly origStart: Uint32Array | null,
    readonly origEnd: Uint32Array | null,
    readonly kind: Uint8Array | null,
  ) {}

  static identity(text: string, base: number): AlignedString {
    return new AlignedString(text, base, null, null, null);
  }

  get isIdentity(): boolean {
    return this.origStart === null && this.kind === null;
  }

  /** Original UTF-16 range of the source unit of normalized code unit i. */
  srcStart(i: number): number {
    return this.origStart ? this.origStart[i] : this.base + i;
  }
  srcEnd(i: number): number {
    return this.origEnd ? this.origEnd[i] : this.base + i + 1;
  }
  kindAt(i: number): number {
    return this.kind ? this.kind[i] : UnitKind.Identity;
  }

  /**
   * Maps a boundary in the normalized text (code unit `i`, plus `intoChar` bytes into the character there)
   * to the original: returns [utf16, intoChar]. A boundary strictly inside a rewritten unit maps to the unit's end,
   * so the first token of an expansion takes the unit and the following ones are zero-width after it.
   */
  mapBoundary(i: number, intoChar: number): [number, number] {
    const u = this.mapUtf16(i, intoChar);
    return [u, this.mappedInto];
  }

  /** `intoChar` of the last `mapUtf16` (a field, so that the engine's per-token call allocates nothing). */
  mappedInto = 0;

  /** mapBoundary's UTF-16 position; its intoChar is left in `mappedInto`. */
  mapUtf16(i: number, intoChar: number): number {
    const origStart = this.origStart;
    if (origStart === null) {
      // Inside a rewritten single unit: its end (see below); elsewhere the position itself.
      if (intoChar > 0 && this.kind !== null && i < this.text.length && this.kind[i] !== UnitKind.Identity) {
        this.mappedInto = 0;
        return this.base + i + 1;
      }
      this.mappedInto = intoChar;
      return this.base + i;
    }
    const origEnd = this.origEnd as Uint32Array;
    const n = this.text.length;
    this.mappedInto = 0;
    if (i >= n) return n === 0 ? this.base : origEnd[n - 1];
    const s = origStart[i];
    const e = origEnd[i];
    if (intoChar > 0) {
      // Inside a character: exact only when that character is copied from the original unchanged.
      if ((this.kind as Uint8Array)[i] === UnitKind.Identity) {
        this.mappedInto = intoChar;
        return s;
      }
      return e;
    }
    if (i > 0 && origStart[i - 1] === s && origEnd[i - 1] === e && e > s) return e;
    return s;
  }

  /**
   * The original UTF-16 position of unit a when [a, b) is a verbatim copy of the original (unchanged units at
   * consecutive positions, and boundary b maps right after them), else -1: then tokens of [a, b) have the
   * same ends and bytes in the original as in the normalized text.
   */
  identityBase(a: number, b: number): number {
    const origStart = this.origStart;
    const kind = this.kind;
    if (origStart === null) {
      if (kind !== null) for (let i = a; i < b; i++) if (kind[i] !== UnitKind.Identity) return -1;
      return this.base + a;
    }
    if (kind === null) return -1;
    const origEnd = this.origEnd as Uint32Array;
    const o = origStart[a] - a;
    for (let i = a; i < b; i++) {
      if (kind[i] !== UnitKind.Identity || origStart[i] !== o + i || origEnd[i] !== o + i + 1) return -1;
    }
    if (b < this.text.length && origStart[b] !== o + b) return -1;
    return o + a;
  }

  /** True when a normalized code unit in [a, b) was really normalized (not only a whitespace convention). */
  hasNormalizedIn(a: number, b: number): boolean {
    const kind = this.kind;
    if (kind === null) return false;
    for (let i = a; i < b; i++) if (kind[i] === UnitKind.Normalized) return true;
    return false;
  }

  /** Slice [a, b) of the normalized text with its alignment. */
  slice(a: number, b: number): AlignedString {
    if (this.origStart === null) return new AlignedString(this.text.slice(a, b), this.base + a, null, null, this.kind === null ? null : this.kind.subarray(a, b));
    return new AlignedString(
      this.text.slice(a, b),
      this.base,
      this.origStart.subarray(a, b),
      (this.origEnd as Uint32Array).subarray(a, b),
      (this.kind as Uint8Array).subarray(a, b),
    );
  }
}

/**
 * Builds a new aligned string from a rewrite of `src`: a list of pieces, each either a copied range of src
 * ([start, end)) or replacement text standing for src range [start, end) (end === start for an insertion).
 */
export class AlignedBuilder {
  private parts: string[] = [];
  private length = 0;
  private starts: Uint32Array<ArrayBuffer>;
  private ends: Uint32Array<ArrayBuffer>;
  private kinds: Uint8Array<ArrayBuffer>;
  private changed = false;

  constructor(private readonly src: AlignedString) {
    // Most rewrites keep the length or add little: start at the source's length and grow when needed.
    const cap = Math.max(16, src.text.length + 16);
    this.starts = new Uint32Array(cap);
    this.ends = new Uint32Array(cap);
    this.kinds = new Uint8Array(cap);
  }

  private reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.starts.length) return;
    const cap = Math.max(need, this.starts.length * 2);
    this.starts = grownTo(this.starts, cap);
    this.ends = grownTo(this.ends, cap);
    this.kinds = grownTo(this.kinds, cap);
  }

  copy(a: number, b: number): void {
    if (b <= a) return;
    const s = this.src;
    this.parts.push(s.text.slice(a, b));
    this.reserve(b - a);
    const at = this.length;
    if (s.origStart === null) {
      const starts = this.starts;
      const ends = this.ends;
      for (let i = a, k = at, u = s.base + a; i < b; i++, k++, u++) {
        starts[k] = u;
        ends[k] = u + 1;
      }
      if (s.kind === null) this.kinds.fill(UnitKind.Identity, at, at + b - a);
      else this.kinds.set(s.kind.subarray(a, b), at);
    } else {
      this.starts.set(s.origStart.subarray(a, b), at);
      this.ends.set((s.origEnd as Uint32Array).subarray(a, b), at);
      this.kinds.set((s.kind as Uint8Array).subarray(a, b), at);
    }
    this.length += b - a;
  }

  /** `text` replaces src code units [a, b) as one unit of the given kind. */
  replace(a: number, b: number, text: string, kind: number): void {
    this.changed = true;
    const s = this.src;
    let start: number;
    let end: number;
    let k = kind;
    if (b > a) {
      start = s.srcStart(a);
      end = s.srcEnd(b - 1);
      for (let i = a; i < b; i++) k = Math.max(k, s.kindAt(i));
    } else {
      // An insertion sits at the source boundary before src[a].
      start = end = a < s.text.length ? s.srcStart(a) : s.text.length ? s.srcEnd(s.text.length - 1) : s.base;
    }
    this.parts.push(text);
    this.reserve(text.length);
    const at = this.length;
    this.starts.fill(start, at, at + text.length);
    this.ends.fill(end, at, at + text.length);
    this.kinds.fill(k, at, at + text.length);
    this.length += text.length;
  }

  build(): AlignedString {
    if (!this.changed) return this.src;
    const n = this.length;
    // Exact-length copies: the builder's spare capacity is not kept alive.
    return new AlignedString(this.parts.join(''), this.src.base, this.starts.slice(0, n), this.ends.slice(0, n), this.kinds.slice(0, n));
  }
}
