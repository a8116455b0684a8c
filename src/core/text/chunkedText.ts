/**
 * A long text kept as pieces of bounded size, so that an edit copies one piece instead of the whole text.
 * (A JavaScript string edited by concatenation is copied whole the next time it is read: 1 MB per keystroke.)
 * The whole text is joined only when asked for, once per version.
 */

/** Pieces are cut to about this many UTF-16 units; an edit's piece is split when it grows past twice that. */
export const PIECE_UNITS = 2048;

export class ChunkedText {
  private pieces: string[] = [];
  /** starts[i]: UTF-16 offset of piece i. */
  private starts: number[] = [];
  private total = 0;
  private joined: string | null;

  /** `pieceUnits`: the piece size (tests make it small to cross piece edges often). */
  constructor(
    text: string,
    private readonly pieceUnits = PIECE_UNITS,
  ) {
    this.joined = text;
    this.total = text.length;
    for (let a = 0; a < text.length; a += pieceUnits) {
      this.starts.push(a);
      this.pieces.push(text.slice(a, Math.min(text.length, a + pieceUnits)));
    }
  }

  get length(): number {
    return this.total;
  }

  toString(): string {
    if (this.joined === null) this.joined = this.pieces.join('');
    return this.joined;
  }

  /** The piece holding offset u (the last piece for u = length). */
  private pieceAt(u: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= u) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Text [a, b) (clamped to the text). */
  slice(a: number, b: number): string {
    a = Math.max(0, a);
    b = Math.min(this.total, b);
    if (b <= a) return '';
    if (this.joined !== null) return this.joined.slice(a, b);
    let p = this.pieceAt(a);
    let out = '';
    while (p < this.pieces.length && this.starts[p] < b) {
      const s = this.starts[p];
      const piece = this.pieces[p];
      out += piece.slice(Math.max(0, a - s), Math.min(piece.length, b - s));
      p++;
    }
    return out;
  }

  /** Replaces `deleteCount` units at `start` with `insert`. */
  replace(start: number, deleteCount: number, insert: string): void {
    const end = start + deleteCount;
    if (start < 0 || deleteCount < 0 || end > this.total) throw new RangeError('edit outside the text');
    if (this.pieces.length === 0) {
      if (insert.length === 0) return;
      this.pieces = [insert];
      this.starts = [0];
      this.total = insert.length;
      this.joined = null;
      return;
    }
    const first = this.pieceAt(start);
    const last = this.pieceAt(end);
    let middle = this.pieces[first].slice(0, start - this.starts[first]) + insert + this.pieces[last].slice(end - this.starts[last]);
    let from = first;
    let to = last;
    // Keep pieces from getting tiny: a short result joins a neighbour.
    if (middle.length < this.pieceUnits / 4) {
      if (to + 1 < this.pieces.length) middle += this.pieces[++to];
      else if (from > 0) middle = this.pieces[--from] + middle;
    }
    const replacement: string[] = [];
    if (middle.length <= 2 * this.pieceUnits) replacement.push(middle);
    else {
      const count = Math.ceil(middle.length / this.pieceUnits);
      const size = Math.ceil(middle.length / count);
      for (let a = 0; a < middle.length; a += size) replacement.push(middle.slice(a, a + size));
    }
    const nonEmpty = replacement.filter((p) => p.length > 0);
    this.pieces.splice(from, to - from + 1, ...nonEmpty);
    this.total += insert.length - deleteCount;
    // Offsets from the first replaced piece on.
    this.starts.length = this.pieces.length;
    let offset = from > 0 ? this.starts[from - 1] + this.pieces[from - 1].length : 0;
    for (let p = from; p < this.pieces.length; p++) {
      this.starts[p] = offset;
      offset += this.pieces[p].length;
    }
    this.joined = null;
  }
}
