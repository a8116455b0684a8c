/**
 * The covers of a byte string z (the text before the cursor, possibly followed by the first bytes of a
 * character) under a byte-level tokenizer split by regex patterns: every valid token sequence c₁..c_k whose
 * first k-1 tokens decode to a strict prefix of z and whose bytes reach at least the end of z.
 *
 * Validity (the definition, ../../../../../shared/design/ALGORITHMS.md section 1): t₁..t_k is valid iff some
 * continuation s makes it a prefix of encode(decode(t)·s). Tokens never cross a piece boundary, and the pieces
 * before a restart point do not depend on what follows it, so a candidate is a last token t laid at byte i of
 * the region (i from max(ρ, |z| - longest token + 1) to |z|, where ρ starts the first piece still open) with
 * bytes that agree with z from i. Its validity, and the tokens before it, follow from:
 * - the pieces: the walk of t's characters through the automaton from the character boundary at or before i
 *   (pieceReadings.ts) gives, for every continuation at once, the possible readings: the complete pieces
 *   before the start `a` of t's piece, and whether that piece can end with t or goes on;
 * - BPE: the tokens before t are the canonical tokens of those complete pieces and the merges-only tokens of
 *   the head z[a, i); t must keep the boundary with the head and, if its piece goes on, with one continuation
 *   (patternContext.ts).
 * Why this is every continuation that matters: a pre-tokenizer only tests characters through its pattern's
 * atoms, so a continuation acts through its class string; the resolutions of the automaton range over every
 * class string (every path of the finite automaton, and the end of the text), so every reading some
 * continuation produces is listed and no other. BPE inside a piece depends on the bytes, but only through
 * the merges that cross a boundary (bpe.ts).
 *
 * Tokens laid exactly at the end of z (all of the vocabulary) are grouped by the class of their first
 * character: when every continuation agrees on the reading for that class (a new piece starts, or t joins the
 * piece before), the class is decided at once, and a new piece's tokens are valid by a property of their own
 * (PatternContext.startValid), summed in bulk. Otherwise each token is walked.
 */
import { concat, JOIN_CLOSED, JOIN_OPEN, type JoinResult, type PatternContext, type Walk } from './patternContext';
import type { PieceStep } from './pieceAutomaton';
import type { RegionWalk, Snapshot } from './pieceReadings';
import { resEndsHere, type Resolution } from './searchAutomaton';
import { latin1, utf8Shape } from './tokenTable';

/** The text of the region (from the restart point) as characters and bytes. */
export interface Region {
  readonly bytes: Uint8Array;
  /** Code points. */
  readonly cps: Int32Array;
  /** Byte offset of each character, and of the end (length cps.length + 1). */
  readonly charByte: Int32Array;
  readonly classes: Int32Array;
}

/** Interned token sequences after the fixed tokens (the prefixes the model is asked about). */
export class PrefixTable {
  readonly seqs: Int32Array[] = [];
  private readonly index = new Map<string, number>();

  intern(seq: Int32Array): number {
    const key = seq.join(',');
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.seqs.length;
      this.seqs.push(seq);
      this.index.set(key, id);
    }
    return id;
  }
}

/**
 * A valid sequence u·[t]: prefix u, last token t, the byte of t at the end of z (-1: t ends exactly there),
 * and whether it is a cover of z (t starts before the end of z) or a sequence after z (t starts at its end).
 */
export interface CoverEntry {
  readonly u: number;
  readonly token: number;
  readonly byte: number;
  readonly coversZ: boolean;
}

/**
 * Many last tokens laid at byte i of z after one prefix u, summed in bulk. The next byte is the token's byte
 * at `offset` (= |z| - i). With `fresh` ≥ 0 they start a new piece whatever follows, and each is valid iff it
 * is a valid start of a piece on its own (PatternContext.startValid from `fresh`); with `fresh` = -1 every id
 * listed was checked already. `classes` (only when offset is 0): every token whose first character is of one
 * of these classes; `lists`: further ids.
 */
export interface NewPieceBulk {
  readonly u: number;
  readonly fresh: number;
  readonly offset: number;
  readonly classes: number[];
  readonly lists: Int32Array[];
  /** Ids left out of the bulk (they would complete an added token's content begun before them). */
  exclude?: Int32Array;
}

export interface Covers {
  /** Valid sequences found one by one. */
  readonly entries: CoverEntry[];
  readonly bulks: NewPieceBulk[];
  /** Candidate (position, token) pairs examined one by one. */
  readonly candidates: number;
}

/** Tokens laid at one byte position of z: the shared context of their checks. */
interface Lay {
  readonly z: Uint8Array;
  readonly i: number;
  readonly snap: Snapshot;
  /** The character boundary at or before i (index), and its byte offset. */
  readonly b0: number;
  readonly b0Byte: number;
  readonly add: (u: number, t: number, byte: number) => void;
  readonly bulks: Map<number, NewPieceBulk>;
  readonly allBulks: NewPieceBulk[];
  /** Readings at b0 met so far: the start of the token's piece and the prefix before the token (lazily). */
  readonly readings: Map<Resolution, LayReading>;
  examined: number;
}

interface LayReading {
  readonly pieces: readonly (readonly [number, number])[];
  readonly aByte: number;
  u: number;
}

export class PatternCovers {
  private readonly headTokens = new Map<string, Int32Array>();
  private readonly pieceTokens = new Map<string, Int32Array>();

  constructor(
    readonly ctx: PatternContext,
    readonly region: Region,
    readonly walk: RegionWalk,
    readonly prefixes: PrefixTable,
    /** Character index of the first piece still open at the cursor (nothing before it can change). */
    readonly rhoChar: number,
  ) {}

  /** The covers of z = region bytes followed by `extra` (the first bytes of a character, possibly none). */
  covers(extra: Uint8Array): Covers {
    const R = this.region;
    const ctx = this.ctx;
    const T = ctx.table;
    const A = ctx.automaton;
    const z = extra.length ? concat(R.bytes, extra) : R.bytes;
    const Z = z.length;
    const entries: CoverEntry[] = [];
    const allBulks: NewPieceBulk[] = [];
    const seen = new Set<string>();
    let candidates = 0;
    const rhoByte = R.charByte[this.rhoChar];
    const nChars = R.cps.length;
    for (let i = Math.max(rhoByte, Z - T.maxTokenBytes + 1); i <= Z; i++) {
      const b0 = i < R.bytes.length ? this.charIndexAtOrBefore(i) : nChars;
      const snap = this.walk.snapshot(b0);
      if (!snap) continue;
      const coversZ = i < Z;
      const add = (u: number, t: number, byte: number): void => {
        const key = `${u}:${t}`;
        if (seen.has(key)) return;
        seen.add(key);
        entries.push({ u, token: t, byte, coversZ });
      };
      const lay: Lay = { z, i, snap, b0, b0Byte: R.charByte[b0], add, bulks: new Map(), allBulks, readings: new Map(), examined: 0 };
      const bulksBefore = allBulks.length;
      if (lay.b0Byte === i && extra.length === 0) {
        // A character boundary with whole characters after it: tokens grouped by their classes.
        const steps: PieceStep[] = [];
        let s = snap.state;
        for (let k = b0; k < nChars; k++) {
          const st = A.step(s, R.classes[k]);
          steps.push(st);
          s = st.next;
        }
        if (i === Z) {
          for (let c = 0; c < A.classes.count; c++) {
            const ids = ctx.byFirstClass[c];
            if (ids.length) this.refine(lay, [A.step(snap.state, c)], ids, 1, c);
          }
          this.partialsAtEnd(lay);
        } else {
          this.refine(lay, steps, ctx.tokensStartingWith(latin1(z, i, Z)), nChars - b0, -1);
        }
      } else {
        const ids = i === Z ? ctx.continuationInitial : undefined;
        if (ids) for (const t of ids) this.one(lay, t);
        else {
          const [lo, hi] = T.prefixRange(latin1(z, i, Z));
          for (let pos = lo; pos < hi; pos++) {
            const t = T.sortedIds[pos];
            if (T.usable[t] && T.bytes[t].length >= Z - i) this.one(lay, t);
          }
        }
      }
      candidates += lay.examined;
      if (ctx.added.length) {
        const risky = this.riskyAt(z, i);
        if (risky.length) for (let k = bulksBefore; k < allBulks.length; k++) allBulks[k].exclude = risky;
      }
    }
    if (ctx.added.length) this.addedTokens(z, entries, seen);
    return { entries, bulks: allBulks, candidates };
  }

  /**
   * Added tokens that match inside text, laid at a character boundary p of the region whose content starts
   * with the bytes of z from p (p = the end of z: any added token): the text before p is then a segment of
   * its own, its canonical tokens come first, and the continuation completes the content. Contents neither
   * overlap nor contain one another (contexts.ts refuses other tokenizers), so no content begun earlier can
   * take the place first; the content must read as it is in normal form after what precedes it.
   */
  private addedTokens(z: Uint8Array, entries: CoverEntry[], seen: Set<string>): void {
    const ctx = this.ctx;
    const R = this.region;
    const n = R.cps.length;
    const longest = Math.max(...ctx.added.map((a) => a.bytes.length));
    for (let p = n; p >= 0 && z.length - R.charByte[p] < longest; p--) {
      const from = R.charByte[p];
      const k = z.length - from;
      let u = -1;
      for (const a of ctx.added) {
        if (a.bytes.length <= k) continue;
        let agree = true;
        for (let j = 0; j < k && agree; j++) if (a.bytes[j] !== z[from + j]) agree = false;
        if (!agree || !ctx.addedFits(this.before(p), a.content)) continue;
        if (u < 0) u = this.prefixes.intern(Int32Array.from(ctx.tokenizer.encode(String.fromCodePoint(...R.cps.subarray(0, p)), { continuation: true }).ids));
        const key = `${u}:${a.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        entries.push({ u, token: a.id, byte: a.bytes[k], coversZ: k > 0 });
      }
    }
  }

  /**
   * Tokens that cannot be laid at byte i of z: z before i ends with the beginning of an added token's content
   * and the token's bytes finish it (the content would match there and take its place).
   */
  private riskyAt(z: Uint8Array, i: number): Int32Array {
    const ctx = this.ctx;
    const T = ctx.table;
    const out: number[] = [];
    for (const a of ctx.added) {
      const c = a.bytes;
      for (let k = Math.min(c.length - 1, i); k >= 1; k--) {
        let ends = true;
        for (let j = 0; j < k && ends; j++) if (z[i - k + j] !== c[j]) ends = false;
        if (!ends) continue;
        const [lo, hi] = T.prefixRange(latin1(c, k, c.length));
        for (let pos = lo; pos < hi; pos++) out.push(T.sortedIds[pos]);
      }
    }
    return Int32Array.from(out);
  }

  private charIndexAtOrBefore(byte: number): number {
    const cb = this.region.charByte;
    let lo = 0;
    let hi = this.region.cps.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (cb[mid] <= byte) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The byte of token t after the end of z when laid at lay.i (-1: it ends exactly there). */
  private nextByte(lay: Lay, t: number): number {
    const tb = this.ctx.table.bytes[t];
    const k = lay.z.length - lay.i;
    return tb.length > k ? tb[k] : -1;
  }

  /** Checks token t laid at lay.i on its own: every reading of its start, closed before open. */
  private one(lay: Lay, t: number): void {
    lay.examined++;
    const ctx = this.ctx;
    const { z, i, snap, b0Byte } = lay;
    const tb = ctx.table.bytes[t];
    const seq = i > b0Byte ? concat(z.subarray(b0Byte, i), tb) : tb;
    const shape = utf8Shape(seq);
    if (!shape || shape.leading > 0) return;
    if ((ctx.normalForm || ctx.added.length) && !ctx.textFits(this.before(lay.b0), String.fromCodePoint(...shape.codePoints))) return;
    const classes = Int32Array.from(shape.codePoints, (cp) => ctx.automaton.classes.classOf(cp));
    const w: Walk = { s0: snap.state, classes, begun: shape.trailing > 0 ? seq.subarray(seq.length - shape.trailing) : undefined };
    const byStart = new Map<Resolution, boolean[]>();
    for (const o of ctx.outcomes(w)) {
      let ends = byStart.get(o.atStart);
      if (!ends) byStart.set(o.atStart, (ends = []));
      ends.push(o.closed);
    }
    for (const [r0, ends] of byStart) {
      const reading = this.readingOf(lay, r0);
      const aByte = reading.aByte;
      if (aByte > i) continue;
      const head = z.subarray(aByte, i);
      const ok = (ends.includes(true) && ctx.pieceTokenValid(w, { atStart: r0, closed: true }, head, t)) || (ends.includes(false) && ctx.pieceTokenValid(w, { atStart: r0, closed: false }, head, t));
      if (ok) {
        if (reading.u < 0) reading.u = this.prefixOf(reading.pieces, z, aByte, i);
        lay.add(reading.u, t, this.nextByte(lay, t));
      }
    }
  }

  /** The reading r0 at lay.b0, memoized for the lay (the prefix id is filled in on first use). */
  private readingOf(lay: Lay, r0: Resolution): LayReading {
    let r = lay.readings.get(r0);
    if (!r) {
      const reading = this.walk.readingAt(lay.snap, r0);
      r = { pieces: reading.pieces, aByte: this.region.charByte[reading.a], u: -1 };
      lay.readings.set(r0, r);
    }
    return r;
  }

  /**
   * Tokens that begin a character at z's end and do not finish it: grouped by their bytes; the character
   * they begin is of one of the classes of its possible completions, and its piece goes on through it. When
   * every such class and continuation gives one reading, a new piece, they are valid by startValid.
   */
  private partialsAtEnd(lay: Lay): void {
    const ctx = this.ctx;
    const A = ctx.automaton;
    const T = ctx.table;
    const groups = new Map<string, number[]>();
    for (const t of ctx.partialInitial) {
      const key = latin1(T.bytes[t]);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(t);
    }
    for (const [key, ids] of groups) {
      const starts = new Set<Resolution>();
      for (const c of ctx.classesWithPrefix(Uint8Array.from(key, (ch) => ch.charCodeAt(0)))) {
        const st = A.step(lay.snap.state, c);
        for (const r of A.resolutions(st.next)) starts.add(A.mapBack(st, r));
      }
      const r0 = starts.size === 1 ? (starts.values().next().value as Resolution) : undefined;
      if (r0 !== undefined && resEndsHere(r0)) this.toBulk(lay, r0, Int32Array.from(ids));
      else for (const t of ids) this.one(lay, t);
    }
  }

  /** Up to 32 characters of the region before character index b0 (context for textFits). */
  private before(b0: number): string {
    return String.fromCodePoint(...this.region.cps.subarray(Math.max(0, b0 - 32), b0));
  }

  private readonly aloneCache = new WeakMap<Int32Array, Int32Array>();

  /** The ids of a cached group that must be checked one by one (PatternContext.checkAlone). */
  private alone(ids: Int32Array): Int32Array {
    let a = this.aloneCache.get(ids);
    if (!a) {
      const out: number[] = [];
      for (const t of ids) if (this.ctx.checkAlone[t]) out.push(t);
      a = Int32Array.from(out);
      this.aloneCache.set(ids, a);
    }
    return a;
  }

  /** A new-piece bulk takes `ids`; those that must be checked alone are checked alone. */
  private toBulk(lay: Lay, r0: Resolution, ids: Int32Array): void {
    this.bulkOf(lay, r0).lists.push(ids);
    for (const t of this.alone(ids)) this.one(lay, t);
  }

  /** The bulk of tokens that start a new piece at lay.i with reading r0. */
  private bulkOf(lay: Lay, r0: Resolution): NewPieceBulk {
    const reading = this.walk.readingAt(lay.snap, r0);
    const u = this.prefixOf(reading.pieces, lay.z, lay.i, lay.i);
    let b = lay.bulks.get(u);
    if (!b) {
      b = { u, fresh: this.ctx.freshState(lay.snap.state), offset: lay.z.length - lay.i, classes: [], lists: [] };
      lay.bulks.set(u, b);
      lay.allBulks.push(b);
    }
    return b;
  }

  /**
   * Tokens `ids` laid at lay.i share their first `depth` character classes, read by `steps` from the state at
   * the character boundary. When every continuation gives them one reading at lay.i (the resolutions of the
   * state after those characters, mapped back, with no boundary inside them), it decides for all of them: a
   * new piece (their validity is their own: a bulk) or the piece before (joinGroup). Otherwise they are split
   * by the next class, down to 4 characters; tokens of exactly `depth` characters, and the rest, are checked
   * one by one. `firstClass` ≥ 0: `ids` is the whole class (a bulk may take the class at once).
   */
  private refine(lay: Lay, steps: PieceStep[], ids: Int32Array, depth: number, firstClass: number): void {
    const ctx = this.ctx;
    const A = ctx.automaton;
    const last = steps[steps.length - 1].next;
    // Readings at lay.i for tokens longer than `depth` characters, and for tokens of exactly that many.
    const longer = new Set<Resolution>();
    const exact = new Set<Resolution>();
    // The resolutions at `last` behind each: those of tokens that end here, and of tokens that go on.
    const exactAt = new Map<Resolution, Resolution>();
    for (const r of A.resolutions(last)) {
      let cur = r;
      let inside = false;
      for (let k = steps.length - 1; k >= 0; k--) {
        cur = A.mapBack(steps[k], cur);
        if (k >= 1 && resEndsHere(cur)) inside = true;
      }
      if (inside) continue;
      exact.add(cur);
      exactAt.set(r, cur);
      if (!resEndsHere(r)) longer.add(cur);
    }
    const goodFor = (r0: Resolution, goesOn: boolean): Set<Resolution> => {
      const g = new Set<Resolution>();
      for (const [r, back] of exactAt) if (back === r0 && (!goesOn || !resEndsHere(r))) g.add(r);
      return g;
    };
    const single = (set: Set<Resolution>): Resolution | undefined => (set.size === 1 ? (set.values().next().value as Resolution) : undefined);
    const rLonger = single(longer);
    const rExact = single(exact);
    const atBoundary = lay.b0Byte === lay.i;
    const isNew = (r: Resolution | undefined): r is Resolution => r !== undefined && resEndsHere(r) && atBoundary;
    if (firstClass >= 0 && isNew(rLonger) && rExact === rLonger) {
      this.bulkOf(lay, rLonger).classes.push(firstClass);
      for (const t of this.alone(ids)) this.one(lay, t);
      return;
    }
    const split = ctx.splitGroup(ids, depth);
    const { exact: exactIds, longer: longerIds, begun: begunIds } = split;
    for (const t of split.shorter) this.one(lay, t);
    if (begunIds.length) {
      if (isNew(rLonger)) this.toBulk(lay, rLonger, begunIds);
      else if (rLonger !== undefined && !resEndsHere(rLonger)) this.joinGroup(lay, rLonger, last, goodFor(rLonger, true), depth, begunIds);
      else for (const t of begunIds) this.one(lay, t);
    }
    if (exactIds.length) {
      if (isNew(rExact) && lay.i < lay.z.length) {
        // Tokens that end exactly at z's end cover it but add no next byte: one by one (at most one per position).
        for (const t of exactIds) this.one(lay, t);
      } else if (isNew(rExact)) this.toBulk(lay, rExact, exactIds);
      else if (rExact !== undefined && !resEndsHere(rExact)) this.joinGroup(lay, rExact, last, goodFor(rExact, false), depth, exactIds);
      else for (const t of exactIds) this.one(lay, t);
    }
    if (longerIds.length === 0) return;
    if (isNew(rLonger)) {
      this.toBulk(lay, rLonger, longerIds);
      return;
    }
    if (rLonger !== undefined && !resEndsHere(rLonger)) {
      this.joinGroup(lay, rLonger, last, goodFor(rLonger, true), depth, longerIds);
      return;
    }
    if (depth >= 6 || longer.size === 0) {
      for (const t of longerIds) this.one(lay, t);
      return;
    }
    for (const [c, g] of split.byNextClass) this.refine(lay, [...steps, A.step(last, c)], g, depth + 1, -1);
  }

  /**
   * Tokens that all join the piece holding the character before lay.i (reading r0, whatever follows): each
   * must stay in that piece to its end (joinBits, cached per automaton state) and BPE must keep the boundary
   * between the head and it. A token whose piece can only go on past it is checked in full (witness).
   */
  private joinGroup(lay: Lay, r0: Resolution, state: number, good: ReadonlySet<Resolution>, depth: number, ids: ArrayLike<number>): void {
    const ctx = this.ctx;
    const T = ctx.table;
    const reading = this.readingOf(lay, r0);
    const aByte = reading.aByte;
    const head = lay.z.subarray(aByte, lay.i);
    if (reading.u < 0) reading.u = this.prefixOf(reading.pieces, lay.z, aByte, lay.i);
    const u = reading.u;
    let joined: JoinResult;
    if (ids instanceof Int32Array) {
      const lists = ctx.joinLists(state, good, depth, ids);
      joined = ctx.joinAfterHead(lists.closed, head);
      for (const t of lists.open) this.one(lay, t);
    } else {
      const closed: number[] = [];
      const bitsOf = ctx.joinBitsFor(state, good, depth);
      for (let n = 0; n < ids.length; n++) {
        const t = ids[n];
        const bits = bitsOf(t);
        if (!ctx.chains.mergesSelf(t)) continue;
        if (bits & JOIN_CLOSED) closed.push(t);
        else if (bits & JOIN_OPEN) this.one(lay, t);
      }
      joined = ctx.joinAfterHead(Int32Array.from(closed), head);
    }
    for (const t of joined.check) this.one(lay, t);
    const valid = joined.valid;
    if (valid.length === 0) return;
    // Tokens that end exactly at z's end add no next byte; they are covers of z: one by one.
    const k0 = lay.z.length - lay.i;
    if (k0 === 0) {
      lay.allBulks.push({ u, fresh: -1, offset: 0, classes: [], lists: [valid] });
      return;
    }
    const bulkIds: number[] = [];
    for (const t of valid) {
      if (T.byteLength[t] > k0) bulkIds.push(t);
      else lay.add(u, t, -1);
    }
    if (bulkIds.length) lay.allBulks.push({ u, fresh: -1, offset: k0, classes: [], lists: [Int32Array.from(bulkIds)] });
  }

  /** The prefix id for complete pieces `pieces` (character ranges) then the head z[aByte, i). */
  private prefixOf(pieces: readonly (readonly [number, number])[], z: Uint8Array, aByte: number, i: number): number {
    const parts: Int32Array[] = [];
    for (const [s, e] of pieces) parts.push(this.piece(s, e));
    if (i > aByte) parts.push(this.head(z, aByte, i));
    let n = 0;
    for (const p of parts) n += p.length;
    const seq = new Int32Array(n);
    let o = 0;
    for (const p of parts) {
      seq.set(p, o);
      o += p.length;
    }
    return this.prefixes.intern(seq);
  }

  private piece(startChar: number, endChar: number): Int32Array {
    const key = `${startChar},${endChar}`;
    let t = this.pieceTokens.get(key);
    if (!t) {
      const cb = this.region.charByte;
      t = this.ctx.bpe.encodeWhole(this.region.bytes, cb[startChar], cb[endChar]);
      this.pieceTokens.set(key, t);
    }
    return t;
  }

  private head(z: Uint8Array, from: number, to: number): Int32Array {
    const key = `${from},${latin1(z, from, to)}`;
    let t = this.headTokens.get(key);
    if (!t) {
      t = this.ctx.bpe.encodeMerges(z, from, to);
      this.headTokens.set(key, t);
    }
    return t;
  }
}
