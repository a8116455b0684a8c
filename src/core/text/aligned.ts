/**
 * A normalized string that remembers where each of its UTF-16 code units came from in the original.
 *
 * Normalizers (NFC, NFKC, Replace, Prepend, Lowercase) change the text a tokenizer sees. To keep spans
 * byte-exact against the ORIGINAL text, every code unit of the normalized string carries the original
 * UTF-16 range of the "unit" it came from. A unit is the smallest piece that was rewritten as a whole
 * (one NFKC character, one replaced space, a prepended `▁` with an empty source).
 */

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
   * Null arrays mean identity: code unit i came from original position base + i.
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
    return this.origStart === null;
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
    if (this.origStart === null) return [this.base + i, intoChar];
    const n = this.text.length;
    if (i >= n) return [n === 0 ? this.base : this.srcEnd(n - 1), 0];
    const s = this.srcStart(i);
    const e = this.srcEnd(i);
    if (intoChar > 0) {
      // Inside a character: exact only when that character is copied from the original unchanged.
      return this.kindAt(i) === UnitKind.Identity ? [s, intoChar] : [e, 0];
    }
    if (i > 0 && this.srcStart(i - 1) === s && this.srcEnd(i - 1) === e && e > s) return [e, 0];
    return [s, 0];
  }

  /** Slice [a, b) of the normalized text with its alignment. */
  slice(a: number, b: number): AlignedString {
    if (this.origStart === null) return AlignedString.identity(this.text.slice(a, b), this.base + a);
    return new AlignedString(
      this.text.slice(a, b),
      this.base,
      this.origStart.slice(a, b),
      (this.origEnd as Uint32Array).slice(a, b),
      (this.kind as Uint8Array).slice(a, b),
    );
  }
}

/**
 * Builds a new aligned string from a rewrite of `src`: a list of pieces, each either a copied range of src
 * ([start, end)) or replacement text standing for src range [start, end) (end === start for an insertion).
 */
export class AlignedBuilder {
  private parts: string[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  private kinds: number[] = [];
  private changed = false;

  constructor(private readonly src: AlignedString) {}

  copy(a: number, b: number): void {
    if (b <= a) return;
    const s = this.src;
    this.parts.push(s.text.slice(a, b));
    for (let i = a; i < b; i++) {
      this.starts.push(s.srcStart(i));
      this.ends.push(s.srcEnd(i));
      this.kinds.push(s.kindAt(i));
    }
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
    for (let i = 0; i < text.length; i++) {
      this.starts.push(start);
      this.ends.push(end);
      this.kinds.push(k);
    }
  }

  build(): AlignedString {
    if (!this.changed) return this.src;
    return new AlignedString(
      this.parts.join(''),
      this.src.base,
      Uint32Array.from(this.starts),
      Uint32Array.from(this.ends),
      Uint8Array.from(this.kinds),
    );
  }
}
