/**
 * What a regex pre-tokenizer does with text that is not written yet.
 *
 * A split step cuts text into pieces: the pre-tokenizer searches for the pattern from the end of the last
 * match (the leftmost match, by the pattern's priorities), keeps the text it skipped as a piece of its own
 * (a "gap"), and goes on. `SearchAutomaton` runs one such search as a Pike VM (regexProgram.ts) over the
 * pattern's character classes: a state is the ordered list of live threads (instruction, start) and whether
 * a match has been recorded; states are interned and transitions cached, so walking a token's characters
 * costs a table lookup per character once warm.
 *
 * A search whose recorded match could still be overtaken (the text so far is `  ` and a third space might
 * follow) has an unknown end. `Chain` keeps, next to the real search, the hypothetical search that would
 * start at its recorded match, and so on: searches j+1.. are valid only if search j ends at its latest
 * record. A resolution says how the future can settle the piece that holds the last character read:
 * which search of the chain holds it (the ones before end at their latest records), where that piece starts
 * (a match's start, or a gap), and whether it ends exactly here (AT) or later (AFTER). `resolutions(chain)`
 * lists every resolution some continuation produces, END included, by exploring the finite graph of chains
 * (memoized); `mapBack` translates a resolution one character back, so a walk over a token's characters can
 * tell, for each way the future goes, where the token's piece starts and whether a piece boundary falls
 * inside the token.
 */
import { Op, type Program } from './regexProgram';

/** The end of the text, as a lookahead or input. */
export const END_CLASS = -1;

/** A tag of the start position that begins at the current position (a new leftmost-search start). */
const NEW_TAG = -1;

export interface SearchState {
  readonly id: number;
  /** Pre-closure instruction of each live thread, in priority order. */
  readonly pcs: Int32Array;
  /** Start tag of each thread: 0.. in order of first appearance (each tag is a start position). */
  readonly tags: Int8Array;
  readonly tagCount: number;
  readonly hasRecord: boolean;
}

/** One cached step of a search: the next state, the tag recorded at this position (or -1), and the tag map. */
export interface SearchStep {
  readonly next: number;
  /** Tag (in the current state's numbering) of a match recorded at the current position, or -1. */
  readonly recTag: number;
  /** For each tag of the next state: its tag in the current state, or -1 for a start at the current position. */
  readonly tagMap: Int8Array;
}

/**
 * One split step's search, over classes 0..classCount-1 whose atom vectors `sat(cls, atom)` gives. Throws
 * nothing; `tooComplex` turns true when a state would need more than 127 distinct starts (then the caller
 * gives up exactness).
 */
export class SearchAutomaton {
  readonly states: SearchState[] = [];
  private readonly index = new Map<string, number>();
  private readonly steps: (SearchStep | undefined)[][] = [];
  private readonly endRec: number[] = [];
  /** Dense next-state table for hot walks: row per state, -2 = not computed. */
  private readonly nextRows: Int32Array[] = [];
  private readonly fateCache = new Map<number, number>();
  readonly initial: number;
  tooComplex = false;
  private seen: Int32Array;
  private stamp = 0;

  constructor(
    readonly program: Program,
    readonly classCount: number,
    private readonly sat: (cls: number, atom: number) => boolean,
  ) {
    this.seen = new Int32Array(program.op.length);
    this.initial = this.intern(new Int32Array(0), new Int8Array(0), false);
  }

  private intern(pcs: Int32Array, tags: Int8Array, hasRecord: boolean): number {
    let key = hasRecord ? 'R' : 'N';
    for (let k = 0; k < pcs.length; k++) key += `${pcs[k]}:${tags[k]},`;
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.states.length;
      let tagCount = 0;
      for (const t of tags) if (t + 1 > tagCount) tagCount = t + 1;
      this.states.push({ id, pcs, tags, tagCount, hasRecord });
      this.index.set(key, id);
      this.steps.push(new Array<SearchStep | undefined>(this.classCount));
      this.nextRows.push(new Int32Array(this.classCount).fill(-2));
      this.endRec.push(-2);
    }
    return id;
  }

  /**
   * The closure at the current position with lookahead `look` (a class or END_CLASS): the Char threads in
   * priority order and the tag of the first thread that reaches Match (which cuts every thread after it).
   * A search that has recorded nothing yet also tries a new start here, last.
   */
  private closure(s: SearchState, look: number): { pcs: number[]; tags: number[]; matchTag: number } {
    const p = this.program;
    const stamp = ++this.stamp;
    const seen = this.seen;
    const outPcs: number[] = [];
    const outTags: number[] = [];
    const entries = s.hasRecord ? s.pcs.length : s.pcs.length + 1;
    const stack: number[] = [];
    for (let e = 0; e < entries; e++) {
      const pc0 = e < s.pcs.length ? s.pcs[e] : p.start;
      const tag = e < s.pcs.length ? s.tags[e] : NEW_TAG;
      stack.length = 0;
      stack.push(pc0);
      while (stack.length) {
        const k = stack.pop() as number;
        if (seen[k] === stamp) continue;
        seen[k] = stamp;
        switch (p.op[k]) {
          case Op.Char:
            outPcs.push(k);
            outTags.push(tag);
            break;
          case Op.Match:
            return { pcs: outPcs, tags: outTags, matchTag: tag };
          case Op.Split:
            stack.push(p.b[k], p.a[k]);
            break;
          case Op.LookPos:
            if (look !== END_CLASS && this.sat(look, p.a[k])) stack.push(p.b[k]);
            break;
          case Op.LookNeg:
            if (look === END_CLASS || !this.sat(look, p.a[k])) stack.push(p.b[k]);
            break;
        }
      }
    }
    return { pcs: outPcs, tags: outTags, matchTag: -2 };
  }

  /** The step from state `id` over a character of class `cls` (cached). */
  step(id: number, cls: number): SearchStep {
    const row = this.steps[id];
    const hit = row[cls];
    if (hit) return hit;
    const s = this.states[id];
    const c = this.closure(s, cls);
    const p = this.program;
    const nextPcs: number[] = [];
    const nextOldTags: number[] = [];
    for (let k = 0; k < c.pcs.length; k++) {
      if (this.sat(cls, p.a[c.pcs[k]])) {
        nextPcs.push(p.b[c.pcs[k]]);
        nextOldTags.push(c.tags[k]);
      }
    }
    // Renumber tags in order of first appearance.
    const map: number[] = [];
    const tags = new Int8Array(nextPcs.length);
    for (let k = 0; k < nextPcs.length; k++) {
      let t = map.indexOf(nextOldTags[k]);
      if (t < 0) {
        t = map.length;
        map.push(nextOldTags[k]);
      }
      if (t > 126) this.tooComplex = true;
      tags[k] = t;
    }
    // A match cannot be recorded by the start tried at this very position (it would be empty: refused).
    const recTag = c.matchTag >= 0 ? c.matchTag : -1;
    const next = this.intern(Int32Array.from(nextPcs), tags, s.hasRecord || recTag >= 0);
    const stepResult: SearchStep = { next, recTag, tagMap: Int8Array.from(map) };
    row[cls] = stepResult;
    this.nextRows[id][cls] = next;
    return stepResult;
  }

  /** The next state only (hot path). */
  nextState(id: number, cls: number): number {
    const n = this.nextRows[id][cls];
    return n >= 0 ? n : this.step(id, cls).next;
  }

  /** Tag of a match recorded at the current position when the text ends here, or -1. */
  endRecord(id: number): number {
    let r = this.endRec[id];
    if (r === -2) {
      const m = this.closure(this.states[id], END_CLASS).matchTag;
      r = m >= 0 ? m : -1;
      this.endRec[id] = r;
    }
    return r;
  }

  /** True when the search has no live thread (its match, if any, is final). */
  isDone(id: number): boolean {
    return this.states[id].pcs.length === 0 && this.states[id].hasRecord;
  }

  /**
   * For a search that has recorded a match and whose threads all carry one start: how its final match can
   * end relative to the current position, over every continuation: FATE_BEFORE (at its latest record),
   * FATE_AT (exactly here), FATE_AFTER (later). Memoized; computed as a fixed point over the states reachable.
   */
  fates(id: number): number {
    const hit = this.fateCache.get(id);
    if (hit !== undefined) return hit;
    const order: number[] = [];
    const inGraph = new Set<number>([id]);
    const queue = [id];
    while (queue.length) {
      const q = queue.pop() as number;
      order.push(q);
      if (this.fateCache.has(q)) continue;
      for (let c = 0; c < this.classCount; c++) {
        const n = this.step(q, c).next;
        if (!inGraph.has(n)) {
          inGraph.add(n);
          queue.push(n);
        }
      }
    }
    const value = new Map<number, number>();
    for (const q of order) value.set(q, this.fateCache.get(q) ?? 0);
    for (let changed = true; changed; ) {
      changed = false;
      for (const q of order) {
        if (this.fateCache.has(q)) continue;
        let v = this.endRecord(q) >= 0 ? FATE_AT : this.states[q].hasRecord ? FATE_BEFORE : FATE_GAP;
        if (this.states[q].pcs.length > 0 || !this.states[q].hasRecord) {
          for (let c = 0; c < this.classCount; c++) {
            const st = this.step(q, c);
            const sub = value.get(st.next) as number;
            if (sub & (FATE_AT | FATE_AFTER)) v |= FATE_AFTER;
            if (sub & FATE_BEFORE) v |= st.recTag >= 0 ? FATE_AT : FATE_BEFORE;
            if (sub & FATE_GAP) v |= FATE_GAP;
          }
        }
        if (v !== value.get(q)) {
          value.set(q, v);
          changed = true;
        }
      }
    }
    for (const q of order) if (!this.fateCache.has(q)) this.fateCache.set(q, value.get(q) as number);
    return this.fateCache.get(id) as number;
  }
}

export const FATE_BEFORE = 1;
export const FATE_AT = 2;
export const FATE_AFTER = 4;
/** The search has recorded nothing (the text since its start is a gap so far). */
export const FATE_GAP = 8;

// ---------------------------------------------------------------------------------------------------------
// Chains of searches

/** Kinds of resolution: the piece holding the last character is a match or a gap, ending here or later. */
export const Res = { MatchAt: 0, MatchAfter: 1, GapAt: 2, GapAfter: 3 } as const;

/**
 * A resolution at a position: search `j` of the chain holds the last character read (searches before it end
 * at their latest records); `tag` is the start tag of its match (in that search's state) for Match kinds.
 * Encoded as one number: (j * 128 + tag + 1) * 4 + kind.
 */
export type Resolution = number;

export function resolution(j: number, tag: number, kind: number): Resolution {
  return (j * 128 + tag + 1) * 4 + kind;
}
export const resJ = (r: Resolution): number => Math.floor(Math.floor(r / 4) / 128);
export const resTag = (r: Resolution): number => (Math.floor(r / 4) % 128) - 1;
export const resKind = (r: Resolution): number => r % 4;
/** A piece boundary at the position the resolution is taken at. */
export const resEndsHere = (r: Resolution): boolean => resKind(r) === Res.MatchAt || resKind(r) === Res.GapAt;

/** Where a search of a stepped chain comes from. */
export interface ChainOrigin {
  /** Index of the search in the previous chain. */
  readonly parent: number;
  /** True for a search started at the previous position by `parent` recording a match there. */
  readonly spawned: boolean;
  /**
   * The tag (in the parent's state) of a match the parent recorded at the previous position, or -1. For a
   * spawned search this is the match that ended the parent there.
   */
  readonly recTag: number;
  /** Not spawned: for each tag of the search's new state, its tag in the parent, or -1 (a start there). */
  readonly tagMap: Int8Array | undefined;
}

export interface ChainStep {
  readonly next: number;
  readonly origins: readonly ChainOrigin[];
  /**
   * Origins of the searches that are over for certain after this step, dropped from the front of the chain:
   * each ended at its latest record, and the next one is the real search now.
   */
  readonly confirmed: readonly ChainOrigin[];
}

export interface ChainState {
  readonly id: number;
  /** Search state per search, the real one first. */
  readonly searches: Int32Array;
}

/** Chains over one SearchAutomaton, interned, with cached steps and resolutions. */
export class ChainAutomaton {
  readonly chains: ChainState[] = [];
  private readonly index = new Map<string, number>();
  private readonly stepCache: (ChainStep | undefined)[][] = [];
  private readonly resCache = new Map<number, readonly Resolution[]>();
  private readonly endCache = new Map<number, Resolution>();
  readonly initial: number;
  /** Set when a chain grew beyond what is analysed (the caller gives up exactness). */
  tooComplex = false;

  constructor(readonly search: SearchAutomaton) {
    this.initial = this.intern(Int32Array.of(search.initial));
  }

  private intern(searches: Int32Array): number {
    const key = Array.from(searches).join(',');
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.chains.length;
      this.chains.push({ id, searches });
      this.index.set(key, id);
      this.stepCache.push(new Array<ChainStep | undefined>(this.search.classCount));
    }
    return id;
  }

  /** Steps every search of the chain over a character of class `cls`. */
  step(id: number, cls: number): ChainStep {
    const hit = this.stepCache[id][cls];
    if (hit) return hit;
    const A = this.search;
    const ch = this.chains[id];
    const states: number[] = [];
    const origins: ChainOrigin[] = [];
    for (let j = 0; j < ch.searches.length; j++) {
      const st = A.step(ch.searches[j], cls);
      states.push(st.next);
      origins.push({ parent: j, spawned: false, recTag: st.recTag, tagMap: st.tagMap });
      if (st.recTag >= 0) {
        // Search j recorded a match here: the searches after it (started at its older record) are void; a
        // new one starts here and reads this character.
        const fresh = A.step(A.initial, cls);
        states.push(fresh.next);
        origins.push({ parent: j, spawned: true, recTag: st.recTag, tagMap: undefined });
        break;
      }
    }
    // Searches that surely record again make the ones after them void.
    for (let j = 0; j + 1 < states.length; j++) {
      if (!(A.fates(states[j]) & FATE_BEFORE) && A.states[states[j]].hasRecord) {
        states.length = j + 1;
        origins.length = j + 1;
        break;
      }
    }
    // The real search is over: its piece is final and the next search becomes the real one.
    const confirmed: ChainOrigin[] = [];
    while (states.length > 1 && A.isDone(states[0])) {
      confirmed.push(origins[0]);
      states.shift();
      origins.shift();
    }
    if (states.length > 8) this.tooComplex = true;
    const result: ChainStep = { next: this.intern(Int32Array.from(states)), origins, confirmed };
    this.stepCache[id][cls] = result;
    return result;
  }

  /** The (only) resolution when the text ends at the current position. */
  endResolution(id: number): Resolution {
    const hit = this.endCache.get(id);
    if (hit !== undefined) return hit;
    const A = this.search;
    const ch = this.chains[id];
    let r: Resolution | undefined;
    for (let j = 0; j < ch.searches.length && r === undefined; j++) {
      const q = ch.searches[j];
      const rec = A.endRecord(q);
      if (rec >= 0) r = resolution(j, rec, Res.MatchAt);
      else if (!A.states[q].hasRecord) r = resolution(j, -1, Res.GapAt);
      else if (j === ch.searches.length - 1) {
        // Ends at its latest record but nothing was spawned there: cannot happen (a record spawns a search).
        r = resolution(j, -1, Res.GapAt);
      }
    }
    const out = r ?? resolution(0, -1, Res.GapAt);
    this.endCache.set(id, out);
    return out;
  }

  /**
   * Translates a resolution taken after a step back to the position before it (the character stepped over
   * is then the one after that position).
   */
  mapBack(stepResult: ChainStep, r: Resolution): Resolution {
    const o = stepResult.origins[resJ(r)];
    const kind = resKind(r);
    if (o.spawned) return resolution(o.parent, o.recTag, Res.MatchAt);
    if (kind === Res.GapAt || kind === Res.GapAfter) return resolution(o.parent, -1, Res.GapAfter);
    const old = (o.tagMap as Int8Array)[resTag(r)];
    if (old < 0) return resolution(o.parent, -1, Res.GapAt);
    return resolution(o.parent, old, Res.MatchAfter);
  }

  /** Every resolution some continuation (or the end of the text) produces for the chain, memoized. */
  resolutions(id: number): readonly Resolution[] {
    const hit = this.resCache.get(id);
    if (hit) return hit;
    // Explore the chains reachable from id, then propagate to a fixed point.
    const order: number[] = [];
    const seen = new Set<number>([id]);
    const queue = [id];
    while (queue.length) {
      const q = queue.pop() as number;
      order.push(q);
      if (this.resCache.has(q)) continue;
      for (let c = 0; c < this.search.classCount; c++) {
        const n = this.step(q, c).next;
        if (!seen.has(n)) {
          seen.add(n);
          queue.push(n);
        }
      }
    }
    const sets = new Map<number, Set<Resolution>>();
    for (const q of order) sets.set(q, new Set(this.resCache.get(q) ?? [this.endResolution(q)]));
    for (let changed = true; changed; ) {
      changed = false;
      for (const q of order) {
        if (this.resCache.has(q)) continue;
        const set = sets.get(q) as Set<Resolution>;
        for (let c = 0; c < this.search.classCount; c++) {
          const st = this.step(q, c);
          for (const r of sets.get(st.next) as Set<Resolution>) {
            const back = this.mapBack(st, r);
            if (!set.has(back)) {
              set.add(back);
              changed = true;
            }
          }
        }
      }
    }
    for (const q of order) if (!this.resCache.has(q)) this.resCache.set(q, Array.from(sets.get(q) as Set<Resolution>).sort((a, b) => a - b));
    return this.resCache.get(id) as readonly Resolution[];
  }
}
