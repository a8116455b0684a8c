/**
 * Readings of the text before the cursor: where its last pre-tokens can start and end, for every way the
 * text may go on (pieceAutomaton.ts gives the position-free automaton; this file keeps the positions).
 *
 * `RegionWalk` reads the region (from a restart point, where every split step starts afresh) character by
 * character. It records the pieces that are final whatever follows (`confirmed`), and at each character
 * boundary near the cursor a snapshot: the automaton state and the positions of the chain's searches (their
 * starts, the start positions their tags stand for, their latest recorded match).
 *
 * `walkOutcomes` answers, for a candidate token laid from a character boundary b0 (its characters' classes
 * given), every (resolution at b0, closed-or-open at the token's end) pair that some continuation produces
 * with no piece boundary strictly inside the token. `readingAt` turns a resolution at b0 into positions:
 * the complete pieces between the region start and the start `a` of the piece that holds the token.
 */
import type { PieceAutomaton, PieceStep } from './pieceAutomaton';
import { Res, resEndsHere, resJ, resKind, resTag, type ChainOrigin, type ChainStep, type Resolution } from './searchAutomaton';

/** A search of the innermost chain, with positions (character indices in the region). */
export interface SearchPositions {
  readonly start: number;
  /** Position of each tag of the search's state. */
  readonly tagPos: readonly number[];
  /** Latest recorded match [start, end), or undefined. */
  readonly rec: readonly [number, number] | undefined;
}

export interface Snapshot {
  /** The character boundary (index) the snapshot was taken at. */
  readonly position: number;
  readonly state: number;
  readonly searches: readonly SearchPositions[];
  /** Number of confirmed pieces at this point (a prefix of RegionWalk.confirmed). */
  readonly confirmedCount: number;
}

/** One outcome of a token walk: the resolution at the token's first character boundary, and how its piece ends. */
export interface WalkOutcome {
  readonly atStart: Resolution;
  /** The token's piece ends exactly at the token's end (else it goes on). */
  readonly closed: boolean;
}

/** A reading at a character boundary: complete pieces before `a`, then the piece that starts at `a`. */
export interface Reading {
  /** Complete pieces [start, end) in the region (character indices), in order, from the region start up to `a`. */
  readonly pieces: readonly (readonly [number, number])[];
  /** Start of the piece that holds the character at the boundary (= the boundary when a piece starts there). */
  readonly a: number;
}

export class RegionWalk {
  /** Confirmed pieces [start, end) (character indices), in order. */
  readonly confirmed: [number, number][] = [];
  private state: number;
  private searches: SearchPositions[];
  private position = 0;
  private readonly snapshots = new Map<number, Snapshot>();

  constructor(
    readonly automaton: PieceAutomaton,
    /** Classes of the region's characters. */
    readonly classes: ArrayLike<number>,
    /** Snapshots are kept for character boundaries at or after this index. */
    snapshotFrom: number,
  ) {
    this.state = automaton.initial;
    this.searches = [{ start: 0, tagPos: [], rec: undefined }];
    for (let n = 0; n <= classes.length; n++) {
      if (n >= snapshotFrom) this.snapshots.set(n, { position: n, state: this.state, searches: this.searches, confirmedCount: this.confirmed.length });
      if (n < classes.length) this.advance(classes[n]);
    }
  }

  /** Every piece of the region when the text ends after it (for tests: equals the pre-tokenizer's pieces). */
  piecesAtEnd(): [number, number][] {
    const before = this.confirmed.length;
    this.finishAtEnd(this.automaton.innerAutomaton.chains[this.automaton.innerChain(this.state)].searches, this.searches, this.position);
    const all = this.confirmed.slice();
    this.confirmed.length = before;
    return all;
  }

  snapshot(n: number): Snapshot | undefined {
    return this.snapshots.get(n);
  }

  private advance(cls: number): void {
    const n = this.position;
    const ps = this.automaton.step(this.state, cls);
    if (ps.restarted) {
      this.finishAtEnd(this.automaton.innerAutomaton.chains[ps.prevInner].searches, this.searches, n);
      this.searches = [{ start: n, tagPos: [], rec: undefined }];
    }
    this.searches = applyStep(ps.inner, this.searches, n, (origin, s) => this.confirm(origin, s));
    this.state = ps.next;
    this.position = n + 1;
  }

  /** A search that is over for certain: its gap (if any) and match become confirmed pieces. */
  private confirm(_origin: ChainOrigin, s: SearchPositions): void {
    const rec = s.rec as readonly [number, number];
    if (rec[0] > s.start) this.confirmed.push([s.start, rec[0]]);
    this.confirmed.push([rec[0], rec[1]]);
  }

  /** An inner chain whose text ends at n (an outer step's piece ended there): its pieces become final. */
  private finishAtEnd(chainSearches: Int32Array, positions: readonly SearchPositions[], n: number): void {
    const A = this.automaton.innerAutomaton.search;
    for (let j = 0; j < chainSearches.length; j++) {
      const s = positions[j];
      const rec = A.endRecord(chainSearches[j]);
      if (rec >= 0) {
        const ms = s.tagPos[rec];
        if (ms > s.start) this.confirmed.push([s.start, ms]);
        if (n > ms) this.confirmed.push([ms, n]);
        return;
      }
      if (!A.states[chainSearches[j]].hasRecord) {
        if (n > s.start) this.confirmed.push([s.start, n]);
        return;
      }
      const r = s.rec as readonly [number, number];
      if (r[0] > s.start) this.confirmed.push([s.start, r[0]]);
      this.confirmed.push([r[0], r[1]]);
    }
  }

  /** The pieces and open-piece start for a resolution at character boundary n (with its snapshot). */
  readingAt(snap: Snapshot, r: Resolution): Reading {
    const pieces: [number, number][] = this.confirmed.slice(0, snap.confirmedCount);
    const j = resJ(r);
    for (let m = 0; m < j; m++) {
      const s = snap.searches[m];
      const rec = s.rec as readonly [number, number];
      if (rec[0] > s.start) pieces.push([s.start, rec[0]]);
      pieces.push([rec[0], rec[1]]);
    }
    const s = snap.searches[j];
    const kind = resKind(r);
    const n = snap.position;
    if (kind === Res.MatchAt || kind === Res.MatchAfter) {
      const ms = s.tagPos[resTag(r)];
      if (ms > s.start) pieces.push([s.start, ms]);
      if (kind === Res.MatchAt) {
        if (n > ms) pieces.push([ms, n]);
        return { pieces, a: n };
      }
      return { pieces, a: ms };
    }
    if (kind === Res.GapAt) {
      if (n > s.start) pieces.push([s.start, n]);
      return { pieces, a: n };
    }
    return { pieces, a: s.start };
  }
}

/** Applies a chain step to the searches' positions at position n (the character at n was read). */
function applyStep(st: ChainStep, prev: readonly SearchPositions[], n: number, onConfirm: (o: ChainOrigin, s: SearchPositions) => void): SearchPositions[] {
  const moved = (o: ChainOrigin): SearchPositions => {
    const p = prev[o.parent];
    if (o.spawned) return { start: n, tagPos: [n], rec: undefined };
    const tagMap = o.tagMap as Int8Array;
    const tagPos = Array.from(tagMap, (t) => (t < 0 ? n : p.tagPos[t]));
    const rec: readonly [number, number] | undefined = o.recTag >= 0 ? [p.tagPos[o.recTag], n] : p.rec;
    return { start: p.start, tagPos, rec };
  };
  for (const o of st.confirmed) onConfirm(o, moved(o));
  return st.origins.map(moved);
}

/**
 * Every (resolution at the first boundary, closed at the end) that some continuation produces when the
 * characters of classes `classes` are read from state `s0`, with no piece boundary strictly inside them.
 * `lastChoices`: when the last character is only begun (its class is one of these), each is tried.
 */
export function walkOutcomes(A: PieceAutomaton, s0: number, classes: ArrayLike<number>, lastChoices?: readonly number[]): WalkOutcome[] {
  const m = classes.length;
  const steps: PieceStep[] = [];
  let s = s0;
  for (let k = 0; k < m; k++) {
    const st = A.step(s, classes[k]);
    steps.push(st);
    s = st.next;
  }
  const out = new Map<number, WalkOutcome>();
  const finish = (finalState: number, lastStep: PieceStep | undefined): void => {
    for (const r of A.resolutions(finalState)) {
      const closed = resEndsHere(r);
      let cur = r;
      let ok = true;
      if (lastStep) {
        cur = A.mapBack(lastStep, cur);
        if (m >= 1 && resEndsHere(cur)) ok = false; // a boundary before the begun character: inside the token
      }
      for (let k = m; k >= 1 && ok; k--) {
        cur = A.mapBack(steps[k - 1], cur);
        if (k - 1 >= 1 && resEndsHere(cur)) ok = false;
      }
      if (!ok) continue;
      // A token that ends inside a character cannot end its piece there.
      const key = cur * 2 + (closed && !lastStep ? 1 : 0);
      if (!out.has(key)) out.set(key, { atStart: cur, closed: closed && !lastStep });
    }
  };
  if (lastChoices) {
    for (const c of lastChoices) {
      const st = A.step(s, c);
      finish(st.next, st);
    }
  } else finish(s, undefined);
  return Array.from(out.values());
}

/**
 * The state after reading `classes` from s0, and the resolutions there that some continuation can reach with
 * `atStart` as the resolution at the start and no piece boundary at the positions in between: the walk as a
 * finite state (used to extend a walk one character at a time with `goodStep`).
 */
export function goodAfter(A: PieceAutomaton, s0: number, classes: ArrayLike<number>, atStart: Resolution): { state: number; good: Set<Resolution> } {
  const steps: PieceStep[] = [];
  let s = s0;
  for (let k = 0; k < classes.length; k++) {
    const st = A.step(s, classes[k]);
    steps.push(st);
    s = st.next;
  }
  const good = new Set<Resolution>();
  for (const r of A.resolutions(s)) {
    let cur = r;
    let ok = true;
    for (let k = steps.length; k >= 1 && ok; k--) {
      cur = A.mapBack(steps[k - 1], cur);
      if (k - 1 >= 1 && resEndsHere(cur)) ok = false;
    }
    if (ok && cur === atStart) good.add(r);
  }
  return { state: s, good };
}

/**
 * One more character of class `cls` inside the same piece: the good resolutions after it. `atOrigin`: no
 * character has been read since the walk's start, where `good` holds the start resolution (a boundary there
 * is the piece's start, not a boundary inside).
 */
export function goodStep(A: PieceAutomaton, state: number, good: ReadonlySet<Resolution>, cls: number, atOrigin = false): { state: number; good: Set<Resolution> } {
  const st = A.step(state, cls);
  const next = new Set<Resolution>();
  for (const r of A.resolutions(st.next)) {
    const back = A.mapBack(st, r);
    if (good.has(back) && (atOrigin || !resEndsHere(back))) next.add(r);
  }
  return { state: st.next, good: next };
}
