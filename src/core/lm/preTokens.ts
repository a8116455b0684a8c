/**
 * Pre-tokenization and BPE as the exact next-byte analysis needs them: the pre-token boundaries of a text,
 * BPE of one pre-token's bytes, and a conservative answer to "could text appended after position P change how
 * the pre-tokenizer's regex matches from position S?" (a small NFA over the regex).
 *
 * Engine access: BpeTokenizer keeps its EngineConfig (splits, merges, vocabulary) private. `engineConfig`
 * reads it through a public `config` property when the engine has one (requested from the engine's owner),
 * else through the instance's `cfg` field, by name; it returns undefined for any other Tokenizer, and the
 * callers then fall back to the public surface (encode). This file is the only place that does so.
 */
import { BpeMerger } from '../tokenizers/bpe';
import { BYTE_TO_CHAR } from '../tokenizers/byteLevel';
import { BpeTokenizer, type EngineConfig } from '../tokenizers/engine';
import { preTokenize } from '../tokenizers/preTokenizer';
import type { Tokenizer } from '../tokenizers/types';

export function engineConfig(tokenizer: Tokenizer): EngineConfig | undefined {
  return tokenizer instanceof BpeTokenizer ? tokenizer.config : undefined;
}

/**
 * The kept pre-token pieces of a text under a tokenizer, as [start, end) UTF-16 pairs, computed the way the
 * engine does (its split steps on the text as given: no normalizer, no added-token matching), or undefined
 * when the tokenizer's configuration is not available.
 */
export function preTokenRanges(tokenizer: Tokenizer, text: string): number[] | undefined {
  const cfg = engineConfig(tokenizer);
  if (!cfg) return undefined;
  const r = preTokenize(text, cfg.splits);
  const out: number[] = [];
  for (let i = 0; i < r.length; i += 3) if (r[i + 2]) out.push(r[i], r[i + 1]);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// BPE of one pre-token

const MERGE_BITS = 2 ** 20;

/** A symbol at the edge of a word during BPE: its id and the rank of the merge that made it (-Infinity: a byte). */
export interface EdgeChain {
  readonly ids: Int32Array;
  readonly ranks: Float64Array;
}

/** The result of simulating BPE on one word: its tokens and the chains of its first and last symbols. */
export interface BpeTrace {
  readonly tokens: Int32Array;
  readonly first: EdgeChain;
  readonly last: EdgeChain;
}

/** BPE over raw bytes for byte-level tokenizers, as the engine's computeWord does for `symbols: 'bytes'`. */
export class ByteBpe {
  private readonly merger: BpeMerger;
  private readonly byteToId = new Int32Array(256).fill(-1);
  private ids = new Int32Array(64);
  private lens = new Int32Array(64);
  private readonly cache = new Map<string, Int32Array>();
  /** Pair lookup (rank · 2^20 + new id, or -1); for tiktoken ranks a bounded memo of our own. */
  readonly lookup: (left: number, right: number) => number;

  constructor(private readonly cfg: EngineConfig) {
    if (cfg.algorithm === 'tiktoken-bpe') {
      // The engine's tiktoken lookup memoizes every pair it is asked; the analysis asks many, so keep a bounded memo.
      const spell: string[] = [];
      for (const [sp, id] of cfg.vocab) spell[id] = sp;
      const memo = new Map<number, number>();
      this.lookup = (l, r) => {
        const key = l * MERGE_BITS + r;
        let v = memo.get(key);
        if (v === undefined) {
          const id = cfg.vocab.get((spell[l] ?? '') + (spell[r] ?? ''));
          v = id === undefined ? -1 : id * MERGE_BITS + id;
          if (memo.size > 200_000) memo.clear();
          memo.set(key, v);
        }
        return v;
      };
    } else this.lookup = cfg.pairLookup;
    this.merger = new BpeMerger(this.lookup);
    for (let b = 0; b < 256; b++) this.byteToId[b] = cfg.vocab.get(BYTE_TO_CHAR[b]) ?? -1;
  }

  /** Token ids of the bytes [start, end) taken as one pre-token (`cache`: remember the answer). */
  encode(bytes: Uint8Array, start = 0, end = bytes.length, cache = true): Int32Array {
    let key = '';
    if (cache) {
      for (let i = start; i < end; i++) key += String.fromCharCode(bytes[i]);
      const hit = this.cache.get(key);
      if (hit) return hit;
    }
    const n = end - start;
    let out: Int32Array;
    const whole = this.cfg.ignoreMerges ? this.cfg.vocab.get(spelling(bytes, start, end)) : undefined;
    if (whole !== undefined) out = Int32Array.of(whole);
    else {
      if (this.ids.length < n) {
        this.ids = new Int32Array(n * 2);
        this.lens = new Int32Array(n * 2);
      }
      for (let i = 0; i < n; i++) {
        this.ids[i] = this.byteToId[bytes[start + i]];
        this.lens[i] = 1;
      }
      const m = this.merger.merge(this.ids, this.lens, n);
      out = this.ids.slice(0, m);
    }
    if (cache) {
      if (this.cache.size > 20_000) this.cache.clear();
      this.cache.set(key, out);
    }
    return out;
  }

  /**
   * BPE by merges only (no whole-word rule) of bytes[start, end), recording how the first and the last
   * symbol changed: the same order as BpeMerger (lowest rank first, then leftmost), one merge at a time.
   */
  trace(bytes: Uint8Array, start = 0, end = bytes.length): BpeTrace {
    const n = end - start;
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(this.byteToId[bytes[start + i]]);
    const firstIds = [ids[0]];
    const firstRanks = [-Infinity];
    const lastIds = [ids[n - 1]];
    const lastRanks = [-Infinity];
    // pair[i]: the merge of symbols i and i+1 (rank · 2^20 + new id, or -1), updated next to each merge.
    const pair: number[] = [];
    for (let i = 0; i + 1 < ids.length; i++) pair.push(this.lookup(ids[i], ids[i + 1]));
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      let bestId = -1;
      for (let i = 0; i < pair.length; i++) {
        const m = pair[i];
        if (m < 0) continue;
        const rank = Math.floor(m / MERGE_BITS);
        if (rank < bestRank) {
          bestRank = rank;
          best = i;
          bestId = m % MERGE_BITS;
        }
      }
      if (best < 0) break;
      ids.splice(best, 2, bestId);
      pair.splice(best, 1);
      if (best > 0) pair[best - 1] = this.lookup(ids[best - 1], bestId);
      if (best < pair.length) pair[best] = this.lookup(bestId, ids[best + 1]);
      if (best === 0) {
        firstIds.push(bestId);
        firstRanks.push(bestRank);
      }
      if (best === ids.length - 1) {
        lastIds.push(bestId);
        lastRanks.push(bestRank);
      }
    }
    return {
      tokens: Int32Array.from(ids),
      first: { ids: Int32Array.from(firstIds), ranks: Float64Array.from(firstRanks) },
      last: { ids: Int32Array.from(lastIds), ranks: Float64Array.from(lastRanks) },
    };
  }

  /** Memo of rank(left, right), by left then right (small-integer keys), bounded. */
  private readonly rankMemo = new Map<number, Map<number, number>>();
  private rankMemoSize = 0;

  /** Rank of the merge of two adjacent symbols, or -1. */
  rank(left: number, right: number): number {
    let inner = this.rankMemo.get(left);
    if (!inner) {
      if (this.rankMemoSize > 250_000) {
        this.rankMemo.clear();
        this.rankMemoSize = 0;
      }
      this.rankMemo.set(left, (inner = new Map()));
    }
    let r = inner.get(right);
    if (r === undefined) {
      const m = this.lookup(left, right);
      r = m < 0 ? -1 : Math.floor(m / MERGE_BITS);
      inner.set(right, r);
      this.rankMemoSize++;
    }
    return r;
  }
}

/**
 * Whether BPE of one word h·t, where BPE of t alone gives the single token t, keeps the boundary between h
 * and t (so the word encodes as BPE(h) followed by t), decided from the boundary symbols only.
 *
 * While no merge crosses the boundary the two sides evolve as they would alone; BpeMerger applies the
 * lowest-ranked pending merge, leftmost first. Let h's last symbol be σ_j from rank r_j until rank r_{j+1}
 * (when it merges leftwards; r_0 = -∞, the last r = +∞) and t's first symbol π_k from ρ_k until ρ_{k+1}. A
 * crossing pair (σ_j, π_k) with merge rank μ becomes pending once both exist and is applied at
 * E = max(μ, r_j, ρ_k) unless a side changes first: it is applied iff E < r_{j+1} (a merge left of the
 * boundary wins a tie: it is further left) and E ≤ ρ_{k+1} (the crossing wins a tie against a merge right of
 * it). The boundary survives iff no pair (j, k) is applied. (Tests compare this with BPE of the whole word.)
 */
export class BoundaryCrossings {
  /** Per σ_j: all its merge partners π → rank, when known (else ranks are asked pair by pair). */
  private readonly partners: (ReadonlyMap<number, number> | undefined)[];

  constructor(
    readonly head: BpeTrace,
    private readonly bpe: ByteBpe,
    partnersOf?: (sigma: number) => ReadonlyMap<number, number> | undefined,
  ) {
    this.partners = Array.from(head.last.ids, (sigma) => partnersOf?.(sigma));
  }

  /** True when some merge crosses the boundary in BPE(h·t), given t's first-symbol chain. */
  crosses(first: EdgeChain): boolean {
    return this.crossesAt(first.ids, first.ranks, 0, first.ids.length);
  }

  /** crosses() for a chain stored at ids/ranks[start, start + nk). */
  crossesAt(ids: Int32Array, ranks: Float64Array, start: number, nk: number): boolean {
    const last = this.head.last;
    const nj = last.ids.length;
    for (let j = 0; j < nj; j++) {
      const rj = last.ranks[j];
      const rNext = j + 1 < nj ? last.ranks[j + 1] : Infinity;
      const partners = this.partners[j];
      for (let k = 0; k < nk; k++) {
        const rho = ranks[start + k];
        if (rho >= rNext) break; // π_k and later appear only after σ_j is gone
        const mu = partners ? (partners.get(ids[start + k]) ?? -1) : this.bpe.rank(last.ids[j], ids[start + k]);
        if (mu < 0) continue;
        const e = mu > rj ? (mu > rho ? mu : rho) : rj > rho ? rj : rho;
        const rhoNext = k + 1 < nk ? ranks[start + k + 1] : Infinity;
        if (e < rNext && e <= rhoNext) return true;
      }
    }
    return false;
  }
}

function spelling(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += BYTE_TO_CHAR[bytes[i]];
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// A regex NFA for "could more text change this match?"

type Ast =
  | { readonly t: 'alt'; readonly items: readonly Ast[] }
  | { readonly t: 'seq'; readonly items: readonly Ast[] }
  | { readonly t: 'rep'; readonly node: Ast; readonly min: number; readonly max: number }
  | { readonly t: 'atom'; readonly atom: number }
  | { readonly t: 'look'; readonly negative: boolean; readonly node: Ast };

class Unsupported extends Error {}

/** Parses the subset of JavaScript regex syntax that pre-tokenizer patterns use. */
class RegexParser {
  private i = 0;
  readonly atoms: string[] = [];
  private readonly atomIndex = new Map<string, number>();

  constructor(private readonly src: string) {}

  parse(): Ast {
    const ast = this.alt();
    if (this.i < this.src.length) throw new Unsupported(`unexpected ${this.src[this.i]}`);
    return ast;
  }

  private atom(source: string): Ast {
    let id = this.atomIndex.get(source);
    if (id === undefined) {
      id = this.atoms.length;
      this.atoms.push(source);
      this.atomIndex.set(source, id);
    }
    return { t: 'atom', atom: id };
  }

  private alt(): Ast {
    const items = [this.seq()];
    while (this.src[this.i] === '|') {
      this.i++;
      items.push(this.seq());
    }
    return items.length === 1 ? items[0] : { t: 'alt', items };
  }

  private seq(): Ast {
    const items: Ast[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') items.push(this.quantified());
    return { t: 'seq', items };
  }

  private quantified(): Ast {
    let node = this.primary();
    for (;;) {
      const c = this.src[this.i];
      let min: number;
      let max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
        if (!m) throw new Unsupported('bad {}');
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        this.i += m[0].length - 1;
      } else return node;
      this.i++;
      if (this.src[this.i] === '?') this.i++; // lazy: the same set of matches
      node = { t: 'rep', node, min, max };
    }
  }

  private primary(): Ast {
    const s = this.src;
    const c = s[this.i];
    if (c === '(') {
      let look: boolean | undefined;
      if (s.startsWith('(?:', this.i)) this.i += 3;
      else if (s.startsWith('(?!', this.i)) {
        look = true;
        this.i += 3;
      } else if (s.startsWith('(?=', this.i)) {
        look = false;
        this.i += 3;
      } else if (s.startsWith('(?', this.i)) throw new Unsupported('group kind');
      else this.i += 1;
      const inner = this.alt();
      if (s[this.i] !== ')') throw new Unsupported('unclosed group');
      this.i++;
      return look === undefined ? inner : { t: 'look', negative: look, node: inner };
    }
    if (c === '[') {
      let j = this.i + 1;
      if (s[j] === '^') j++;
      if (s[j] === ']') j++;
      for (; j < s.length && s[j] !== ']'; j++) if (s[j] === '\\') j++;
      if (j >= s.length) throw new Unsupported('unclosed class');
      const src = s.slice(this.i, j + 1);
      this.i = j + 1;
      return this.atom(src);
    }
    if (c === '\\') {
      const n = s[this.i + 1];
      if (n === 'p' || n === 'P') {
        const close = s.indexOf('}', this.i);
        const src = s.slice(this.i, close + 1);
        this.i = close + 1;
        return this.atom(src);
      }
      if (n === 'u' && s[this.i + 2] === '{') {
        const close = s.indexOf('}', this.i);
        const src = s.slice(this.i, close + 1);
        this.i = close + 1;
        return this.atom(src);
      }
      if (n === 'u') {
        const src = s.slice(this.i, this.i + 6);
        this.i += 6;
        return this.atom(src);
      }
      if (n === 'x') {
        const src = s.slice(this.i, this.i + 4);
        this.i += 4;
        return this.atom(src);
      }
      if (n === 'b' || n === 'B' || /[1-9k]/.test(n)) throw new Unsupported('assertion or backreference');
      this.i += 2;
      return this.atom('\\' + n);
    }
    if (c === '^' || c === '$') throw new Unsupported('anchor');
    if (c === ')' || c === '|' || c === undefined) throw new Unsupported('empty');
    const cp = s.codePointAt(this.i) as number;
    const ch = String.fromCodePoint(cp);
    this.i += ch.length;
    return this.atom(ch === '.' ? '.' : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  }
}

interface NfaState {
  kind: 'atom' | 'eps' | 'split' | 'match' | 'look';
  atom: number;
  out: number;
  out2: number;
  negative: boolean;
  /** For 'look': the start state of the sub-automaton (which ends in its own 'match'). */
  sub: number;
}

/**
 * A Thompson NFA for one split pattern, used only to ask whether a match attempt that starts at some
 * position is still undecided at the end of the known text (some thread wants another character, or a
 * lookahead needs one). If not, no text appended later can change that attempt.
 */
export class PatternAutomaton {
  private readonly states: NfaState[] = [];
  private readonly start: number;
  private readonly atomRegexes: RegExp[];
  private readonly classCache = new Map<number, Uint8Array>();
  /** Every lookahead of the pattern tests a single character. */
  readonly singleCharLookaheads: boolean;

  private constructor(ast: Ast, atoms: string[]) {
    this.singleCharLookaheads = lookaheadsAreSingle(ast);
    this.atomRegexes = atoms.map((a) => new RegExp(`^(?:${a})$`, 'u'));
    const m = this.add({ kind: 'match', atom: -1, out: -1, out2: -1, negative: false, sub: -1 });
    this.start = this.build(ast, m);
  }

  /** The automaton of a pattern, or undefined where the pattern uses syntax outside the supported subset. */
  static of(pattern: RegExp): PatternAutomaton | undefined {
    try {
      const p = new RegexParser(pattern.source);
      return new PatternAutomaton(p.parse(), p.atoms);
    } catch (e) {
      if (e instanceof Unsupported || e instanceof SyntaxError) return undefined;
      throw e;
    }
  }

  /** Number of atoms (character predicates) in the pattern. */
  get atomCount(): number {
    return this.atomRegexes.length;
  }

  /** Which atoms a code point satisfies (the regex cannot tell apart two code points with equal vectors). */
  classOf(cp: number): Uint8Array {
    let v = this.classCache.get(cp);
    if (!v) {
      const ch = String.fromCodePoint(cp);
      v = new Uint8Array(this.atomRegexes.length);
      for (let a = 0; a < v.length; a++) v[a] = this.atomRegexes[a].test(ch) ? 1 : 0;
      this.classCache.set(cp, v);
    }
    return v;
  }

  /** A string key of classOf(cp). */
  classKey(cp: number): string {
    return String.fromCharCode(...this.classOf(cp));
  }

  private add(s: NfaState): number {
    this.states.push(s);
    return this.states.length - 1;
  }

  /** Builds states for `ast` that continue to `next`; returns the entry state. */
  private build(ast: Ast, next: number): number {
    switch (ast.t) {
      case 'atom':
        return this.add({ kind: 'atom', atom: ast.atom, out: next, out2: -1, negative: false, sub: -1 });
      case 'seq': {
        let cur = next;
        for (let k = ast.items.length - 1; k >= 0; k--) cur = this.build(ast.items[k], cur);
        return cur;
      }
      case 'alt': {
        const entries = ast.items.map((it) => this.build(it, next));
        let cur = entries[entries.length - 1];
        for (let k = entries.length - 2; k >= 0; k--) cur = this.add({ kind: 'split', atom: -1, out: entries[k], out2: cur, negative: false, sub: -1 });
        return cur;
      }
      case 'rep': {
        // x{min,max}: min copies, then (max - min) nested optional copies (or a loop when unbounded).
        let cur = next;
        if (ast.max === Infinity) {
          const loop = this.add({ kind: 'split', atom: -1, out: -1, out2: next, negative: false, sub: -1 });
          this.states[loop].out = this.build(ast.node, loop);
          cur = loop;
        } else {
          for (let k = 0; k < ast.max - ast.min; k++) {
            const body = this.build(ast.node, cur);
            cur = this.add({ kind: 'split', atom: -1, out: body, out2: next, negative: false, sub: -1 });
          }
        }
        for (let k = 0; k < ast.min; k++) cur = this.build(ast.node, cur);
        return cur;
      }
      case 'look': {
        const m = this.add({ kind: 'match', atom: -1, out: -1, out2: -1, negative: false, sub: -1 });
        const sub = this.build(ast.node, m);
        return this.add({ kind: 'look', atom: -1, out: next, out2: -1, negative: ast.negative, sub });
      }
    }
  }

  /**
   * Runs the automaton from `start` over code points cps[from..to): 'match' if some thread reaches the
   * match state, and whether a thread is still alive at `to` (wants a character there, or a lookahead needs
   * one). Lookaheads are decided where the known text decides them, else they count as alive.
   */
  private run(entry: number, cps: readonly number[], from: number, to: number, stopAtMatch: boolean): { matched: boolean; alive: boolean } {
    let matched = false;
    let alive = false;
    let set = new Set<number>();
    const closure = (seeds: Iterable<number>, pos: number): Set<number> => {
      const out = new Set<number>();
      const stack = [...seeds];
      while (stack.length) {
        const s = stack.pop() as number;
        if (out.has(s)) continue;
        out.add(s);
        const st = this.states[s];
        if (st.kind === 'split') {
          stack.push(st.out, st.out2);
        } else if (st.kind === 'eps') stack.push(st.out);
        else if (st.kind === 'match') matched = true;
        else if (st.kind === 'look') {
          const r = this.run(st.sub, cps, pos, to, true);
          // Undecided within the known text (no match yet, threads alive at its end): depends on what follows.
          if (!r.matched && r.alive) alive = true;
          else if (r.matched !== st.negative) stack.push(st.out);
        }
      }
      return out;
    };
    set = closure([entry], from);
    for (let pos = from; pos < to; pos++) {
      if (stopAtMatch && matched) return { matched, alive: false };
      const cls = this.classOf(cps[pos]);
      const next: number[] = [];
      for (const s of set) {
        const st = this.states[s];
        if (st.kind === 'atom' && cls[st.atom]) next.push(st.out);
      }
      if (next.length === 0) return { matched, alive };
      set = closure(next, pos + 1);
    }
    for (const s of set) if (this.states[s].kind === 'atom') alive = true;
    return { matched, alive };
  }

  /** True when a match attempt starting at cps[from] could still go either way once text follows cps[to - 1]. */
  undecidedAt(cps: readonly number[], from: number, to: number): boolean {
    return this.run(this.start, cps, from, to, false).alive;
  }
}

function lookaheadsAreSingle(ast: Ast): boolean {
  switch (ast.t) {
    case 'atom':
      return true;
    case 'look': {
      const n = ast.node;
      const single = n.t === 'atom' || (n.t === 'seq' && n.items.length === 1 && n.items[0].t === 'atom');
      return single;
    }
    case 'rep':
      return lookaheadsAreSingle(ast.node);
    case 'seq':
    case 'alt':
      return ast.items.every(lookaheadsAreSingle);
  }
}

/** Code points of a string, with the UTF-16 index where each starts. */
export function codePoints(s: string): { cps: number[]; utf16: number[] } {
  const cps: number[] = [];
  const utf16: number[] = [];
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i) as number;
    cps.push(cp);
    utf16.push(i);
    i += cp > 0xffff ? 2 : 1;
  }
  return { cps, utf16 };
}
