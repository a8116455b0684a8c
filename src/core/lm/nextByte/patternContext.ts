/**
 * Everything the exact analysis keeps per byte-level tokenizer split by regex patterns, built on first use
 * and cached with the tokenizer: the token table, the pieces automaton, BPE, each token's classes, and the
 * validity facts that do not depend on the text (is a token a valid start of a piece?).
 *
 * Validity of a token t laid at a position (see covers.ts) has two sides:
 * - pieces: the walk of t's characters through the automaton (pieceReadings.ts) says where t's piece starts
 *   (a new piece at t's start: NEW; the piece that holds the character before: JOIN) and whether it can end
 *   with t (closed) or go on (open);
 * - BPE inside the piece: the tokens before t in its piece are the merges-only BPE of the head; t must be
 *   merges-only BPE of its own bytes and keep the boundary with the head (BoundaryCrossings); a closed piece
 *   must not be a whole vocabulary entry under the whole-word rule; an open piece needs one continuation that
 *   keeps t's end (`openWitness`).
 */
import type { EngineConfig } from '../../tokenizers/engine';
import { referenceNormalize, startsNormalizationSegment } from '../../text/normalizers';
import type { BaseDistribution } from '../model';
import type { Tokenizer } from '../../tokenizers/types';
import { PieceBpe, TokenChains, type EdgeChain } from './bpe';
import { inRanges } from './firstChainTrie';
import type { PieceAutomaton } from './pieceAutomaton';
import { goodAfter, goodStep, walkOutcomes, type WalkOutcome } from './pieceReadings';
import { latin1, TokenTable } from './tokenTable';
import { resEndsHere, type Resolution } from './searchAutomaton';

export class PatternContext {
  readonly table: TokenTable;
  readonly bpe: PieceBpe;
  readonly chains: TokenChains;
  readonly wholeWord: boolean;
  /** Class of each whole character of each token (parallel to table.codePoints). */
  readonly tokenClasses: Int32Array;
  /** Ids whose first byte starts a character, grouped by that character's class (ids that finish it only). */
  readonly byFirstClass: Int32Array[];
  /** Ids that begin a character and do not finish it (no whole character). */
  readonly partialInitial: Int32Array;
  /** Ids that start with continuation bytes. */
  readonly continuationInitial: Int32Array;
  private readonly startCache = new Map<number, Uint8Array>();
  private readonly prefixClasses = new Map<string, number[]>();
  private readonly freshIndex = new Map<number, number>();

  /**
   * Tokens checked one by one, never in bulk: their text could make or complete an added token that matches
   * inside text, or (under a normalizer) their first character could combine with the one before.
   */
  readonly checkAlone: Uint8Array;
  /** Added tokens that match inside text (not special), with their contents. */
  readonly added: readonly { readonly id: number; readonly content: string; readonly bytes: Uint8Array }[];
  private readonly addedFirstChars: Set<string>;

  constructor(
    readonly tokenizer: Tokenizer,
    readonly cfg: EngineConfig,
    readonly automaton: PieceAutomaton,
    /** The Unicode normalization the tokenizer applies first, if any: the analysis is of normalized text. */
    readonly normalForm: 'NFC' | 'NFKC' | undefined,
  ) {
    const special = new Set<number>();
    for (const t of cfg.addedTokens) if (t.special) special.add(t.id);
    this.table = new TokenTable(tokenizer.vocabSize, (id) => tokenizer.tokenBytes(id), special);
    this.bpe = new PieceBpe(cfg, tokenizer.vocabSize);
    this.chains = new TokenChains(this.bpe, this.table);
    this.wholeWord = cfg.ignoreMerges;
    const T = this.table;
    const enc = new TextEncoder();
    this.added = cfg.addedTokens.filter((t) => !t.special).map((t) => ({ id: t.id, content: t.content, bytes: enc.encode(t.content) }));
    this.addedFirstChars = new Set(this.added.map((a) => String.fromCodePoint(a.content.codePointAt(0) as number)));
    this.checkAlone = new Uint8Array(T.vocabSize);
    for (let id = 0; id < T.vocabSize; id++) {
      if (!T.usable[id]) continue;
      const cps = T.codePoints.subarray(T.cpStart[id], T.cpStart[id] + T.cpCount[id]);
      const text = String.fromCodePoint(...cps);
      if (this.added.some((a) => a.id === id)) {
        // An added token is laid where its content matches, never by BPE (covers.ts handles it).
        T.usable[id] = 0;
        continue;
      }
      if (normalForm) {
        // Normalized text has no unnormalized stretch: such a token never occurs.
        if (referenceNormalize(text, normalForm) !== text) {
          T.usable[id] = 0;
          continue;
        }
        if (T.leading[id] === 0 && cps.length > 0 && !startsNormalizationSegment(String.fromCodePoint(cps[0]), normalForm)) this.checkAlone[id] = 1;
      }
      if (this.added.length) for (const ch of text) if (this.addedFirstChars.has(ch)) this.checkAlone[id] = 1;
    }
    this.tokenClasses = Int32Array.from(T.codePoints, (cp) => automaton.classes.classOf(cp));
    const groups: number[][] = Array.from({ length: automaton.classes.count }, () => []);
    const partial: number[] = [];
    const cont: number[] = [];
    for (let pos = 0; pos < T.vocabSize; pos++) {
      const id = T.sortedIds[pos];
      if (!T.usable[id]) continue;
      if (T.leading[id] > 0) cont.push(id);
      else if (T.cpCount[id] === 0) partial.push(id);
      else groups[this.tokenClasses[T.cpStart[id]]].push(id);
    }
    this.byFirstClass = groups.map((g) => Int32Array.from(g));
    this.partialInitial = Int32Array.from(partial);
    this.continuationInitial = Int32Array.from(cont);
  }

  /** The classes of a token's whole characters. */
  classesOf(id: number): Int32Array {
    const s = this.table.cpStart[id];
    return this.tokenClasses.subarray(s, s + this.table.cpCount[id]);
  }

  /** Classes of the characters whose UTF-8 starts with `bytes` (1 to 3 bytes of one character). */
  classesWithPrefix(bytes: Uint8Array): number[] {
    const key = latin1(bytes);
    let out = this.prefixClasses.get(key);
    if (!out) {
      const range = codePointRange(bytes);
      out = range ? Array.from(this.automaton.classes.classesInRange(range[0], range[1]).keys()).sort((a, b) => a - b) : [];
      this.prefixClasses.set(key, out);
    }
    return out;
  }

  /**
   * The automaton state that reads text after a piece boundary: `state` with its innermost step restarted
   * (the same state for single-step tokenizers).
   */
  freshState(state: number): number {
    let f = this.freshIndex.get(state);
    if (f === undefined) {
      f = this.automaton.withInnerRestarted(state);
      this.freshIndex.set(state, f);
    }
    return f;
  }

  /**
   * Whether token t is a valid first token of a piece that starts where the automaton is in (fresh) state
   * `fresh`: some continuation makes a piece that holds all of t and whose BPE starts with t. Cached per
   * fresh state (independent of the text for single-step tokenizers).
   */
  startValid(fresh: number, id: number): boolean {
    let cache = this.startCache.get(fresh);
    if (!cache) {
      cache = new Uint8Array(this.table.vocabSize);
      this.startCache.set(fresh, cache);
    }
    const v = cache[id];
    if (v) {
      if (v === 3) this.witnessMisses++;
      return v === 2;
    }
    const before = this.witnessMisses;
    const ok = this.computeStartValid(fresh, id);
    cache[id] = ok ? 2 : this.witnessMisses > before ? 3 : 1;
    return ok;
  }

  /** startValid for one fresh state, as a function (the hot loops call it per id). */
  startValidFn(fresh: number): (id: number) => boolean {
    let cache = this.startCache.get(fresh);
    if (!cache) {
      cache = new Uint8Array(this.table.vocabSize);
      this.startCache.set(fresh, cache);
    }
    const c = cache;
    return (id) => {
      const v = c[id];
      if (v === 2) return true;
      if (v === 1) return false;
      return this.startValid(fresh, id);
    };
  }

  private computeStartValid(fresh: number, id: number): boolean {
    const T = this.table;
    if (!T.usable[id] || T.leading[id] > 0 || this.checkAlone[id]) return false;
    const walk = this.tokenWalkSpec(fresh, id);
    // From a fresh state the token starts a piece; a piece that ends with it needs no witness, so it goes first.
    const outs = this.outcomes(walk).filter((o) => resEndsHere(o.atStart));
    outs.sort((a, b) => Number(b.closed) - Number(a.closed));
    for (const o of outs) if (this.pieceTokenValid(walk, o, EMPTY, id)) return true;
    return false;
  }

  /** The walk that lays token `id` from a character boundary in state `s0` (its own characters only). */
  tokenWalkSpec(s0: number, id: number): Walk {
    const T = this.table;
    const b = T.bytes[id];
    return { s0, classes: this.classesOf(id), begun: T.trailing[id] > 0 ? b.subarray(b.length - T.trailing[id]) : undefined };
  }

  outcomes(w: Walk): WalkOutcome[] {
    return walkOutcomes(this.automaton, w.s0, w.classes, w.begun ? this.classesWithPrefix(w.begun) : undefined);
  }

  /**
   * The BPE side for token `id` laid after `head` (the bytes of its piece before it; empty for a new piece),
   * for one outcome of the walk `w` that lays it.
   */
  pieceTokenValid(w: Walk, o: WalkOutcome, head: Uint8Array, id: number): boolean {
    const C = this.chains;
    const newPiece = head.length === 0;
    if (!newPiece || !o.closed || !this.wholeWord) {
      // Tokens inside a longer piece are merges-only BPE of their bytes.
      if (!C.mergesSelf(id)) return false;
    }
    if (!newPiece) {
      const headTrace = this.bpe.trace(head);
      if (C.crossingsAfter(headTrace.last).crosses(C.first(id))) return false;
    }
    if (o.closed) {
      if (newPiece || !this.wholeWord) return true;
      return !this.isWholeEntry(head, id);
    }
    return this.openWitness(w, o.atStart, head, id);
  }

  /** Head-free witness chains (or null: none) by walk, start reading and token; head-specific results apart. */
  private readonly witnessCache = new Map<string, Int32Array | null>();
  private readonly headWitnessCache = new Map<string, boolean>();

  /**
   * Whether some continuation keeps token `id` (after `head` in its piece) whole while its piece goes on.
   *
   * By the boundary test (bpe.ts) applied at every boundary, the piece's BPE goes t, π₁, π₂, …, π_n with each
   * adjacent pair keeping its boundary (BPE of the pair's bytes gives the pair back) and each π merges-only
   * BPE of its own bytes; the last one ends the piece. So a witness is such a chain of vocabulary tokens:
   * searched breadth first from t, each step a token whose bytes go on from the previous ones (completing a character the
   * previous left unfinished, else starting one of a class the piece can go on with), that keeps the boundary
   * with its predecessor and leaves the walk with the same start reading and no boundary inside; it succeeds
   * on a token after which the piece can end. The nodes (last token, automaton state, readings still
   * possible, unfinished character) are finite and each is expanded once, so an exhausted search proves there
   * is none; a search cut short by its budget is counted in `witnessMisses` and makes the result inexact.
   *
   * The head (the piece's bytes before t) plays no part in that search: its boundary with t was checked before
   * (pieceTokenValid), and the boundaries after t are pairwise. It matters only under the whole-word rule,
   * where the whole piece must not be one vocabulary entry: so the chain is searched once per (walk, token)
   * without that rule and kept; a head for which the kept chain makes a vocabulary entry is searched again
   * with the rule.
   */
  openWitness(w: Walk, atStart: Resolution, head: Uint8Array, id: number): boolean {
    const key = `${w.s0}|${atStart}|${Array.from(w.classes).join(',')}|${w.begun ? latin1(w.begun) : ''}|${id}`;
    let chain = this.witnessCache.get(key);
    if (chain === undefined) {
      const found = this.searchWitness(w, atStart, id, undefined);
      if (found === undefined) {
        // A search cut short proves nothing: count it as a miss on every use.
        this.witnessMisses++;
        return false;
      }
      chain = found;
      if (this.witnessCache.size > 200_000) this.witnessCache.clear();
      this.witnessCache.set(key, chain);
    }
    if (chain === null) return false;
    if (!this.wholeWord || !this.isVocabEntry(head, id, chain)) return true;
    const headKey = `${key}|${latin1(head)}`;
    const hit = this.headWitnessCache.get(headKey);
    if (hit !== undefined) return hit;
    const found = this.searchWitness(w, atStart, id, head);
    if (found === undefined) {
      this.witnessMisses++;
      return false;
    }
    if (this.headWitnessCache.size > 50_000) this.headWitnessCache.clear();
    this.headWitnessCache.set(headKey, found !== null);
    return found !== null;
  }

  /** Whether head·id·chain is one vocabulary entry. */
  private isVocabEntry(head: Uint8Array, id: number, chain: Int32Array): boolean {
    const T = this.table;
    return this.bpe.idOf(concat(head, T.bytes[id], ...Array.from(chain, (t) => T.bytes[t]))) !== undefined;
  }

  /**
   * A witness chain (the tokens after `id`), null when none exists (the whole finite graph was searched), or
   * undefined when the search was cut short. With `head`, the whole-word rule is applied to the piece.
   */
  private searchWitness(w: Walk, atStart: Resolution, id: number, head: Uint8Array | undefined): Int32Array | null | undefined {
    const T = this.table;
    const C = this.chains;
    const A = this.automaton;
    interface Node {
      readonly left: number;
      readonly state: number;
      readonly good: Set<Resolution>;
      readonly begun: Uint8Array | undefined;
      /** The piece's bytes so far (only with a head: the whole-word rule reads them). */
      readonly bytes: Uint8Array | undefined;
      /** No whole character read since the walk's start. */
      readonly origin: boolean;
      readonly parent: Node | undefined;
    }
    const chainOf = (n: Node): Int32Array => {
      const out: number[] = [];
      for (let m: Node | undefined = n; m && m.parent; m = m.parent) out.push(m.left);
      return Int32Array.from(out.reverse());
    };
    const start = goodAfter(A, w.s0, w.classes, atStart);
    // Breadth first: the shortest chain is found first, and most witnesses are one token long.
    const queue: Node[] = [{ left: id, state: start.state, good: start.good, begun: w.begun, bytes: head ? concat(head, T.bytes[id]) : undefined, origin: w.classes.length === 0, parent: undefined }];
    const visited = new Set<string>();
    let budget = 200_000;
    for (let qi = 0; qi < queue.length && budget > 0; qi++) {
      const node = queue[qi];
      const key = `${node.left}|${node.state}|${Array.from(node.good).join(',')}|${node.begun ? latin1(node.begun) : ''}|${node.origin}`;
      if (visited.has(key)) continue;
      visited.add(key);
      // The pair test per candidate, after a look-up in the partner tables of the left token's last symbols
      // (cached per symbol): most searches end after a few candidates, so nothing is built per left token.
      const leftLast = C.last(node.left);
      const tables = Array.from(leftLast.ids, (sigma) => C.partnerTable(sigma));
      const keeps = (pi: number): boolean => {
        if (!C.mergesSelf(pi)) return false;
        const first = C.first(pi);
        let may = false;
        for (let k = 0; k < first.ids.length && !may; k++) for (const table of tables) if (table.get(first.ids[k]) >= 0) may = true;
        return !may || !C.crossingsAfter(leftLast).crosses(first);
      };
      for (const list of this.nextTokens(node)) {
        for (let x = 0; x < list.length && budget > 0; x++) {
          const pi = list[x];
          // Tokens that could combine with what precedes, or touch an added token, are not used as witnesses.
          if (this.checkAlone[pi] || !keeps(pi)) continue;
          const step = this.extendGood(node.state, node.good, node.begun, node.origin, pi);
          if (!step || step.good.size === 0) continue;
          if (budget-- <= 0) break;
          const bytes = node.bytes ? concat(node.bytes, T.bytes[pi]) : undefined;
          const next: Node = { left: pi, state: step.state, good: step.good, begun: step.begun, bytes, origin: step.origin, parent: node };
          if (!step.begun) {
            let closes = false;
            let goes = false;
            for (const r of step.good) if (resEndsHere(r)) closes = true;
            else goes = true;
            if (closes && (!bytes || this.bpe.idOf(bytes) === undefined)) return chainOf(next);
            if (!goes) continue;
          }
          queue.push(next);
        }
      }
    }
    return budget > 0 ? null : undefined;
  }

  private shortFirst: { cont: Int32Array; partialGroups: { classes: number[]; ids: Int32Array }[]; byClass: Int32Array[] } | undefined;

  private readonly listsByWalk = new Map<string, Int32Array[]>();
  private readonly continuationGroups = new Map<string, { unfinished: Int32Array; byClass: Map<number, Int32Array> }>();

  /**
   * The tokens of continuation bytes after a begun character, shortest first: those that leave it unfinished
   * and are nothing else, and those that finish it, by the class of the character finished. Cached per begun bytes.
   */
  private continuationsOf(begun: Uint8Array): { unfinished: Int32Array; byClass: Map<number, Int32Array> } {
    const key = latin1(begun);
    let g = this.continuationGroups.get(key);
    if (!g) {
      const T = this.table;
      const need = utf8Need(begun[0]) - begun.length;
      const unfinished: number[] = [];
      const byClass = new Map<number, number[]>();
      for (const t of this.shortFirst?.cont ?? []) {
        const lead = T.leading[t];
        if (lead < need) {
          if (T.cpCount[t] === 0 && T.trailing[t] === 0) unfinished.push(t);
        } else if (lead === need) {
          const cp = decodeOne(concat(begun, T.bytes[t].subarray(0, need)));
          if (cp === undefined) continue;
          const c = this.automaton.classes.classOf(cp);
          let ids = byClass.get(c);
          if (!ids) byClass.set(c, (ids = []));
          ids.push(t);
        }
      }
      g = { unfinished: Int32Array.from(unfinished), byClass: new Map(Array.from(byClass, ([c, ids]) => [c, Int32Array.from(ids)])) };
      if (this.continuationGroups.size >= 1024) this.continuationGroups.clear();
      this.continuationGroups.set(key, g);
    }
    return g;
  }

  /**
   * Tokens whose bytes can follow a node's bytes: continuation bytes after a begun character, else tokens that
   * start a character of a class the walk allows from the node's state. Shortest first: a chain of short
   * tokens is the likeliest witness, found early. Cached per (state, readings, origin, begun bytes): few
   * distinct ones occur.
   */
  private nextTokens(node: { readonly state: number; readonly good: Set<Resolution>; readonly begun: Uint8Array | undefined; readonly origin: boolean }): Int32Array[] {
    if (!this.shortFirst) {
      const T = this.table;
      // By byte length, then id: ids sorted, then bucketed by length in order (a comparator sort of the
      // whole vocabulary took a third of a second).
      const byLength = (ids: Iterable<number>): Int32Array => {
        const sorted = Int32Array.from(ids).sort();
        const count = new Int32Array(257);
        for (const t of sorted) count[Math.min(T.bytes[t].length, 255) + 1]++;
        for (let k = 0; k < 256; k++) count[k + 1] += count[k];
        const out = new Int32Array(sorted.length);
        for (const t of sorted) out[count[Math.min(T.bytes[t].length, 255)]++] = t;
        return out;
      };
      // Tokens that end inside their first character, grouped by the classes that character can have.
      const groups = new Map<string, { classes: number[]; ids: number[] }>();
      for (const t of byLength(this.partialInitial)) {
        const classes = this.classesWithPrefix(T.bytes[t]);
        const key = classes.join(',');
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { classes, ids: [] }));
        g.ids.push(t);
      }
      const partialGroups = Array.from(groups.values(), (g) => ({ classes: g.classes, ids: Int32Array.from(g.ids) }));
      this.shortFirst = { cont: byLength(this.continuationInitial), partialGroups, byClass: this.byFirstClass.map(byLength) };
    }
    const sf = this.shortFirst;
    const begun = node.begun;
    const key = `${node.state}|${this.goodKey(node.good)}|${node.origin ? 1 : 0}|${begun ? latin1(begun) : ''}`;
    let lists = this.listsByWalk.get(key);
    if (!lists) {
      const ok = Array.from({ length: this.automaton.classes.count }, (_, k) => this.stepGood(node.state, node.good, k, node.origin).good.size > 0);
      if (begun) {
        // Only what extendGood can accept: continuation bytes that leave the character unfinished, or that
        // finish it as a character of an allowed class.
        const groups = this.continuationsOf(begun);
        lists = [groups.unfinished];
        for (const [c, ids] of groups.byClass) if (ok[c]) lists.push(ids);
      } else {
        lists = [];
        for (let k = 0; k < ok.length; k++) if (ok[k]) lists.push(sf.byClass[k]);
        for (const g of sf.partialGroups) if (g.classes.some((c) => ok[c])) lists.push(g.ids);
      }
      if (this.listsByWalk.size >= 4096) this.listsByWalk.clear();
      this.listsByWalk.set(key, lists);
    }
    return lists;
  }

  private readonly goodKeys = new WeakMap<ReadonlySet<Resolution>, string>();

  /** A set of readings as a memo key (sorted), kept per set: the sets stepGood returns are reused. */
  private goodKey(good: ReadonlySet<Resolution>): string {
    let k = this.goodKeys.get(good);
    if (k === undefined) {
      k = Array.from(good)
        .sort((a, b) => a - b)
        .join(',');
      this.goodKeys.set(good, k);
    }
    return k;
  }

  private readonly goodMemo = new Map<string, { state: number; good: Set<Resolution> }>();

  /** goodStep, memoized by (state, good set, class, origin). */
  stepGood(state: number, good: Set<Resolution>, cls: number, origin: boolean): { state: number; good: Set<Resolution> } {
    const key = `${state}|${this.goodKey(good)}|${cls}|${origin ? 1 : 0}`;
    let r = this.goodMemo.get(key);
    if (!r) {
      r = goodStep(this.automaton, state, good, cls, origin);
      if (this.goodMemo.size > 200_000) this.goodMemo.clear();
      this.goodMemo.set(key, r);
    }
    return r;
  }

  /** The walk state after token pi's characters (a begun character completed first), or undefined when its bytes cannot follow. */
  private extendGood(state: number, good: Set<Resolution>, begun: Uint8Array | undefined, origin: boolean, pi: number): { state: number; good: Set<Resolution>; begun: Uint8Array | undefined; origin: boolean } | undefined {
    const T = this.table;
    const A = this.automaton;
    const pb = T.bytes[pi];
    const lead = T.leading[pi];
    const tail = T.trailing[pi] > 0 ? pb.subarray(pb.length - T.trailing[pi]) : undefined;
    let cur = { state, good };
    if (begun) {
      if (lead === 0) return undefined;
      const need = utf8Need(begun[0]) - begun.length;
      if (lead < need) {
        if (T.cpCount[pi] > 0 || T.trailing[pi] > 0) return undefined;
        const b = concat(begun, pb);
        return validPrefix(b) ? { state, good, begun: b, origin } : undefined;
      }
      if (lead !== need || !validPrefix(begun)) return undefined;
      const cp = decodeOne(concat(begun, pb.subarray(0, need)));
      if (cp === undefined) return undefined;
      if (this.normalForm && !startsNormalizationSegment(String.fromCodePoint(cp), this.normalForm)) return undefined;
      cur = this.stepGood(cur.state, cur.good, A.classes.classOf(cp), origin);
      origin = false;
    } else if (lead > 0) return undefined;
    for (const c of this.classesOf(pi)) {
      if (cur.good.size === 0) return undefined;
      cur = this.stepGood(cur.state, cur.good, c, origin);
      origin = false;
    }
    return { state: cur.state, good: cur.good, begun: tail, origin };
  }

  private readonly bulkSums = new Map<number, WeakMap<BaseDistribution, Float64Array>>();

  /**
   * Σ base.prob(t) over the ids that are valid first tokens of a new piece from `fresh`, by (class of the
   * first character, first byte): row c·256 + b. Cached per fresh state and base distribution.
   */
  newPieceSums(fresh: number, base: BaseDistribution): Float64Array {
    let inner = this.bulkSums.get(fresh);
    if (!inner) this.bulkSums.set(fresh, (inner = new WeakMap()));
    let s = inner.get(base);
    if (!s) {
      s = new Float64Array(this.automaton.classes.count * 256);
      const fb = this.table.firstByte;
      for (let c = 0; c < this.byFirstClass.length; c++) {
        for (const t of this.byFirstClass[c]) if (this.startValid(fresh, t)) s[c * 256 + fb[t]] += base.prob(t);
      }
      inner.set(base, s);
    }
    return s;
  }

  /** Join bits per (state, good, depth), by suffix signature (0: not computed yet). */
  private readonly joinCache = new Map<string, Uint8Array>();

  /**
   * For a token whose first `depth` characters brought the automaton to `state`, where `good` are the
   * resolutions there that agree with the reading decided for its group (pieceReadings.goodAfter): whether
   * it stays in the piece to its end and some continuation ends the piece with it (JOIN_CLOSED) or carries
   * the piece on (JOIN_OPEN); 0 when it would cross a boundary. Cached per (state, good, depth) for the
   * whole vocabulary (bounded).
   */
  joinBitsFor(state: number, good: ReadonlySet<Resolution>, depth: number): (id: number) => number {
    const key = `${state}|${this.goodKey(good)}|${depth}`;
    const sigs = this.suffixSignatures(depth);
    let cache = this.joinCache.get(key);
    if (!cache) {
      if (this.joinCache.size >= 512) this.joinCache.delete(this.joinCache.keys().next().value as string);
      cache = new Uint8Array(sigs.rep.length);
      this.joinCache.set(key, cache);
    }
    const c = cache;
    return (id) => {
      const sig = sigs.sig[id];
      if (sig < 0) return this.computeJoinBits(state, good, depth, id);
      let v = c[sig];
      if (v === 0) {
        v = JOIN_KNOWN | this.computeJoinBits(state, good, depth, sigs.rep[sig]);
        c[sig] = v;
      }
      return v & (JOIN_CLOSED | JOIN_OPEN);
    };
  }

  private readonly suffixSigs = new Map<number, { sig: Int32Array; rep: Int32Array }>();

  /**
   * Tokens grouped by what joinBits reads past their first `depth` characters: the classes of the rest of
   * their whole characters and the bytes of an unfinished last one. Tokens with the same signature have the
   * same join bits from any state, so they are computed once per signature. -1: fewer than `depth` characters.
   */
  private suffixSignatures(depth: number): { sig: Int32Array; rep: Int32Array } {
    let s = this.suffixSigs.get(depth);
    if (!s) {
      const T = this.table;
      const V = T.vocabSize;
      const sig = new Int32Array(V).fill(-1);
      const rep: number[] = [];
      const stride = this.automaton.classes.count + 1;
      const nodes = new Map<number, number>();
      const finals = new Map<string, number>();
      let nodeCount = 1;
      for (let id = 0; id < V; id++) {
        const n = T.cpCount[id];
        if (!T.usable[id] || n < depth) continue;
        let node = 0;
        const base = T.cpStart[id];
        for (let k = depth; k < n; k++) {
          const key = node * stride + this.tokenClasses[base + k];
          let next = nodes.get(key);
          if (next === undefined) nodes.set(key, (next = nodeCount++));
          node = next;
        }
        const b = T.bytes[id];
        const fk = T.trailing[id] > 0 ? `${node}|${latin1(b.subarray(b.length - T.trailing[id]))}` : `${node}`;
        let f = finals.get(fk);
        if (f === undefined) {
          f = rep.length;
          finals.set(fk, f);
          rep.push(id);
        }
        sig[id] = f;
      }
      s = { sig, rep: Int32Array.from(rep) };
      this.suffixSigs.set(depth, s);
    }
    return s;
  }

  private readonly joinListCache = new Map<string, WeakMap<Int32Array, { closed: Int32Array; open: Int32Array }>>();

  /**
   * A join group's tokens (`ids`, a cached array) that can stay in the piece: those the piece can end with
   * and that are merges-only BPE of their own bytes (`closed`), and those whose piece can only go on (`open`).
   * Cached per (state, good, depth) and group.
   */
  joinLists(state: number, good: ReadonlySet<Resolution>, depth: number, ids: Int32Array): { closed: Int32Array; open: Int32Array } {
    const key = `${state}|${this.goodKey(good)}|${depth}`;
    let inner = this.joinListCache.get(key);
    if (!inner) {
      if (this.joinListCache.size >= 256) this.joinListCache.delete(this.joinListCache.keys().next().value as string);
      this.joinListCache.set(key, (inner = new WeakMap()));
    }
    let lists = inner.get(ids);
    if (!lists) {
      const bitsOf = this.joinBitsFor(state, good, depth);
      const closed: number[] = [];
      const open: number[] = [];
      for (const t of ids) {
        const bits = bitsOf(t);
        if (bits === 0 || !this.chains.mergesSelf(t)) continue;
        if (bits & JOIN_CLOSED) closed.push(t);
        else open.push(t);
      }
      lists = { closed: Int32Array.from(closed), open: Int32Array.from(open) };
      inner.set(ids, lists);
    }
    return lists;
  }

  private computeJoinBits(state: number, good: ReadonlySet<Resolution>, depth: number, id: number): number {
    const T = this.table;
    const cls = this.classesOf(id);
    let cur = { state, good: good as Set<Resolution> };
    for (let k = depth; k < cls.length && cur.good.size > 0; k++) cur = this.stepGood(cur.state, cur.good, cls[k], false);
    let bits = 0;
    if (T.trailing[id] > 0) {
      const b = T.bytes[id];
      for (const c of this.classesWithPrefix(b.subarray(b.length - T.trailing[id]))) {
        if (cur.good.size > 0 && this.stepGood(cur.state, cur.good, c, false).good.size > 0) bits |= JOIN_OPEN;
      }
      return bits;
    }
    for (const r of cur.good) bits |= resEndsHere(r) ? JOIN_CLOSED : JOIN_OPEN;
    return bits;
  }

  private readonly startLists = new WeakMap<Int32Array, Map<number, Int32Array>>();

  /** The ids of a cached list that are valid starts of a piece from `fresh` (the list itself for fresh < 0). Cached. */
  validStarts(list: Int32Array, fresh: number): Int32Array {
    if (fresh < 0) return list;
    let byFresh = this.startLists.get(list);
    if (!byFresh) this.startLists.set(list, (byFresh = new Map()));
    let out = byFresh.get(fresh);
    if (!out) {
      const valid = this.startValidFn(fresh);
      out = list.filter((t) => valid(t));
      byFresh.set(fresh, out);
    }
    return out;
  }

  private readonly listSumCache = new WeakMap<Int32Array, Map<number, WeakMap<BaseDistribution, Float64Array>>>();

  /**
   * Σ base.prob(t) over a cached list, by the token's byte at `offset` (0..255), and in all (slot 256).
   * Cached per list, offset and base distribution (the n-gram's base is one distribution for every context).
   */
  listSums(list: Int32Array, offset: number, base: BaseDistribution): Float64Array {
    let byOffset = this.listSumCache.get(list);
    if (!byOffset) this.listSumCache.set(list, (byOffset = new Map()));
    let byBase = byOffset.get(offset);
    if (!byBase) byOffset.set(offset, (byBase = new WeakMap()));
    let sums = byBase.get(base);
    if (!sums) {
      sums = new Float64Array(257);
      const pool = this.table.pool;
      const start = this.table.byteStart;
      for (let k = 0; k < list.length; k++) {
        const t = list[k];
        const q = base.prob(t);
        sums[pool[start[t] + offset]] += q;
        sums[256] += q;
      }
      byBase.set(base, sums);
    }
    return sums;
  }

  private readonly sortedLists = new WeakMap<Int32Array, Int32Array>();

  /** A cached list's ids in ascending order (for membership tests by binary search). */
  sortedList(list: Int32Array): Int32Array {
    let s = this.sortedLists.get(list);
    if (!s) {
      s = list.slice().sort();
      this.sortedLists.set(list, s);
    }
    return s;
  }

  private readonly joinResults = new WeakMap<Int32Array, Map<string, JoinResult>>();

  /**
   * Of `closed` (tokens that stay in the piece and can end it, merges-only BPE of their own bytes), those
   * that keep the boundary with `head` (the piece's bytes before them): `valid`, and those to check one by
   * one (`check`: tokens checked alone, and under the whole-word rule those with head·t one vocabulary entry).
   * Cached per list and head. The boundary test of bpe.ts (BoundaryCrossings) runs once for the whole
   * vocabulary on the first-chain trie (a few ranges per merge partner of the head's last chain), so a new
   * head costs one pass over the list, not a chain-against-chain test per token.
   */
  joinAfterHead(closed: Int32Array, head: Uint8Array): JoinResult {
    let byHead = this.joinResults.get(closed);
    if (!byHead) this.joinResults.set(closed, (byHead = new Map()));
    const key = latin1(head);
    let r = byHead.get(key);
    if (r) return r;
    const last = this.bpe.trace(head).last;
    const tails = this.wholeWord ? this.wholeWordTails(head) : null;
    const position = this.chains.firstTrie().position;
    const crossing = this.crossingAfter(key, last);
    const valid: number[] = [];
    const check: number[] = [];
    for (let n = 0; n < closed.length; n++) {
      const t = closed[n];
      if (this.checkAlone[t]) {
        check.push(t);
        continue;
      }
      const at = position[t];
      if (at >= 0 && inRanges(crossing, at)) continue;
      if (this.wholeWord && (tails ? tails.has(t) : this.isWholeEntry(head, t))) check.push(t);
      else valid.push(t);
    }
    r = { valid: Int32Array.from(valid), check: Int32Array.from(check) };
    if (byHead.size > 256) byHead.clear();
    byHead.set(key, r);
    return r;
  }

  private readonly crossingRanges = new Map<string, Int32Array>();

  /** The first-chain trie's ranges of tokens that cross the boundary after `head` (latin1), with its last chain. Cached (bounded). */
  private crossingAfter(head: string, last: EdgeChain): Int32Array {
    let r = this.crossingRanges.get(head);
    if (!r) {
      r = this.chains.firstTrie().crossing(last, (sigma) => this.bpe.merges.partners(sigma));
      if (this.crossingRanges.size >= 4096) this.crossingRanges.clear();
      this.crossingRanges.set(head, r);
    }
    return r;
  }

  /**
   * Builds the tables every cursor position reads, once, with the context: the first split of each class's
   * tokens by their next character class, the suffix signatures of the first depths, the first-chain trie
   * and the witness search's token orders. Built lazily instead, they fell on the first cursor moves (a
   * quarter of a second on o200k).
   */
  warm(): void {
    for (const ids of this.byFirstClass) if (ids.length) for (const g of this.splitGroup(ids, 1).byNextClass.values()) this.splitGroup(g, 2);
    for (let depth = 0; depth <= 2; depth++) this.suffixSignatures(depth);
    this.chains.firstTrie();
    this.nextTokens({ state: 0, good: new Set(), begun: undefined, origin: true });
  }

  private readonly splits = new WeakMap<Int32Array, Map<number, GroupSplit>>();

  /**
   * Tokens of a group (sharing their first `depth` character classes) split by what comes after those
   * characters: nothing (exact), an unfinished character (begun), more whole characters (longer, and those by
   * the class of the next one), or fewer whole characters than `depth` (shorter). Memoized per group array
   * (the groups are the cached arrays of this context, so the splits form a trie built on demand).
   */
  splitGroup(ids: Int32Array, depth: number): GroupSplit {
    let byDepth = this.splits.get(ids);
    if (!byDepth) this.splits.set(ids, (byDepth = new Map()));
    let split = byDepth.get(depth);
    if (!split) {
      const T = this.table;
      const exact: number[] = [];
      const longer: number[] = [];
      const begun: number[] = [];
      const shorter: number[] = [];
      const next = new Map<number, number[]>();
      for (const t of ids) {
        const n = T.cpCount[t];
        if (n === depth && T.trailing[t] === 0) exact.push(t);
        else if (n > depth) {
          longer.push(t);
          const c = this.tokenClasses[T.cpStart[t] + depth];
          let g = next.get(c);
          if (!g) next.set(c, (g = []));
          g.push(t);
        } else if (n === depth) begun.push(t);
        else shorter.push(t);
      }
      split = {
        exact: Int32Array.from(exact),
        longer: Int32Array.from(longer),
        begun: Int32Array.from(begun),
        shorter: Int32Array.from(shorter),
        byNextClass: new Map(Array.from(next, ([c, g]) => [c, Int32Array.from(g)])),
      };
      byDepth.set(depth, split);
    }
    return split;
  }

  private readonly prefixGroups = new Map<string, Int32Array>();

  /** The usable ids whose bytes start with `prefix` (latin1), as a stable array (cached, bounded). */
  tokensStartingWith(prefix: string): Int32Array {
    let g = this.prefixGroups.get(prefix);
    if (!g) {
      const T = this.table;
      const [lo, hi] = T.prefixRange(prefix);
      const ids: number[] = [];
      for (let pos = lo; pos < hi; pos++) if (T.usable[T.sortedIds[pos]]) ids.push(T.sortedIds[pos]);
      g = Int32Array.from(ids);
      if (this.prefixGroups.size > 4096) this.prefixGroups.clear();
      this.prefixGroups.set(prefix, g);
    }
    return g;
  }

  private readonly tailSets = new Map<string, Set<number> | null>();

  /**
   * Under the whole-word rule: the ids t such that head·t is itself a vocabulary entry, or null when too many
   * ids start with head's bytes to list them (then ask per id). Cached per head (bounded).
   */
  wholeWordTails(head: Uint8Array): Set<number> | null {
    const key = latin1(head);
    let set = this.tailSets.get(key);
    if (set === undefined) {
      const [lo, hi] = this.table.prefixRange(key);
      set = null;
      if (hi - lo <= 8192) {
        set = new Set();
        for (let pos = lo; pos < hi; pos++) {
          const v = this.table.bytes[this.table.sortedIds[pos]];
          if (v.length <= head.length) continue;
          const t = this.bpe.idOf(v, head.length);
          if (t !== undefined) set.add(t);
        }
      }
      if (this.tailSets.size > 4096) this.tailSets.clear();
      this.tailSets.set(key, set);
    }
    return set;
  }

  /** Under the whole-word rule, whether head·t is one vocabulary entry. */
  isWholeEntry(head: Uint8Array, t: number): boolean {
    const tails = this.wholeWordTails(head);
    return tails ? tails.has(t) : this.bpe.idOf(concat(head, this.table.bytes[t])) !== undefined;
  }

  /**
   * Whether `before` (the text just before a token, back to a point normalization never crosses) followed by
   * `text` (the token's and its continuation's whole characters) is text the tokenizer can see as it is: in
   * normal form, and with no added token's content overlapping `text` (an added token would match there).
   */
  textFits(before: string, text: string): boolean {
    if (this.normalForm) {
      const joined = before + text;
      if (referenceNormalize(joined, this.normalForm) !== joined) return false;
    }
    if (this.added.length) {
      const joined = before + text;
      for (const a of this.added) {
        for (let k = joined.indexOf(a.content); k >= 0; k = joined.indexOf(a.content, k + 1)) if (k + a.content.length > before.length) return false;
      }
    }
    return true;
  }

  /** Whether an added token's content read after `before` stays as it is under the normalizer. */
  addedFits(before: string, content: string): boolean {
    if (!this.normalForm) return true;
    const joined = before + content;
    return referenceNormalize(joined, this.normalForm) === joined;
  }

  /** The class of an id's first character (-1 when it does not start with a whole character). */
  firstClass(id: number): number {
    const T = this.table;
    return T.usable[id] && T.leading[id] === 0 && T.cpCount[id] > 0 ? this.tokenClasses[T.cpStart[id]] : -1;
  }

  /** Open pieces for which no one-character continuation kept the token (see openWitness). */
  witnessMisses = 0;
}

/**
 * A walk that lays a candidate token: from the character boundary b0 at or before the token's start (state
 * `s0`), the classes of the whole characters from b0 to the token's end, and the bytes of a last character
 * begun but not finished (from b0's side: they may include bytes before the token).
 */
export interface Walk {
  readonly s0: number;
  readonly classes: Int32Array;
  readonly begun: Uint8Array | undefined;
}

const EMPTY = new Uint8Array(0);

export interface JoinResult {
  readonly valid: Int32Array;
  readonly check: Int32Array;
}

export interface GroupSplit {
  readonly exact: Int32Array;
  readonly longer: Int32Array;
  readonly begun: Int32Array;
  readonly shorter: Int32Array;
  readonly byNextClass: ReadonlyMap<number, Int32Array>;
}

/** joinBits: some continuation ends the token's piece with it / carries the piece on. */
export const JOIN_CLOSED = 2;
export const JOIN_OPEN = 4;
const JOIN_KNOWN = 1;

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The UTF-8 length a lead byte announces (0 when it is not one). */
function utf8Need(lead: number): number {
  return lead < 0xc2 ? 0 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf5 ? 4 : 0;
}

/** Whether bytes (1 to 3) are the beginning of some character. */
function validPrefix(b: Uint8Array): boolean {
  const n = utf8Need(b[0]);
  if (n === 0 || b.length >= n) return false;
  for (let k = 1; k < b.length; k++) if ((b[k] & 0xc0) !== 0x80) return false;
  return codePointRange(b) !== undefined;
}

/** The code point of one complete UTF-8 character, or undefined. */
function decodeOne(b: Uint8Array): number | undefined {
  const n = utf8Need(b[0]);
  if (n !== b.length) return undefined;
  const r = codePointRange(b.subarray(0, n - 1));
  if (!r) return undefined;
  let cp = b[0] & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    if ((b[k] & 0xc0) !== 0x80) return undefined;
    cp = (cp << 6) | (b[k] & 0x3f);
  }
  return cp >= r[0] && cp <= r[1] ? cp : undefined;
}

/**
 * The code points whose UTF-8 starts with `prefix` (1 to 3 bytes that begin one character): a contiguous
 * range [lo, hi] (surrogates never occur: their lead bytes are refused), or undefined when none does.
 */
export function codePointRange(prefix: Uint8Array): [number, number] | undefined {
  const lead = prefix[0];
  const n = lead < 0xc2 ? 0 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf5 ? 4 : 0;
  if (n === 0 || prefix.length >= n) return undefined;
  let lo = lead & (0xff >> (n + 1));
  let hi = lo;
  for (let k = 1; k < n; k++) {
    if (k < prefix.length) {
      lo = (lo << 6) | (prefix[k] & 0x3f);
      hi = (hi << 6) | (prefix[k] & 0x3f);
    } else {
      lo = lo << 6;
      hi = (hi << 6) | 0x3f;
    }
  }
  const min = n === 2 ? 0x80 : n === 3 ? 0x800 : 0x10000;
  lo = Math.max(lo, min);
  hi = Math.min(hi, 0x10ffff);
  if (n === 3 && lead === 0xed) hi = Math.min(hi, 0xd7ff);
  return lo <= hi ? [lo, hi] : undefined;
}
