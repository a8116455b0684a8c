/**
 * A tokenizer's whole pre-tokenizer (one or several split steps, each `Isolated`) as one automaton over the
 * character classes of all its patterns.
 *
 * Several steps compose: step k+1 runs inside each piece of step k and sees the end of that piece as the end
 * of its text (DeepSeek-V3: digits in threes, then runs of CJK characters, then the main pattern). The
 * composite state is the chain of every step (searchAutomaton.ts); when an outer step ends a piece at the
 * current position, the inner steps end their text there (their chains settle as at the end of a text) and
 * restart. This is exact when the outer steps never leave a boundary undecided after reading the character
 * that follows it (true of runs such as `\p{N}{1,3}` and `[一-龥]+`, checked as the automaton is built: a
 * violation sets `tooComplex`). Resolutions (where the piece holding the last character starts, and whether
 * it ends here) are those of the innermost step.
 */
import { CharClasses } from './charClasses';
import { compilePattern, type Program } from './regexProgram';
import { ChainAutomaton, SearchAutomaton, resEndsHere, type ChainStep, type Resolution } from './searchAutomaton';
import type { SplitStep } from '../../tokenizers/preTokenizer';

export interface PieceStep {
  readonly next: number;
  /** The innermost step's chain before this step. */
  readonly prevInner: number;
  /** An outer step ended a piece at the position before this character: the innermost chain restarted. */
  readonly restarted: boolean;
  /** The innermost chain's step (from its initial chain when restarted). */
  readonly inner: ChainStep;
}

interface CompositeState {
  readonly id: number;
  /** Chain ids of the steps, outermost first. */
  readonly chains: Int32Array;
}

export class PieceAutomaton {
  readonly classes: CharClasses;
  private readonly searches: SearchAutomaton[];
  private readonly chainAutomata: ChainAutomaton[];
  private readonly states: CompositeState[] = [];
  private readonly index = new Map<string, number>();
  private readonly stepCache: (PieceStep | undefined)[][] = [];
  private readonly boundaryCache: Map<number, boolean>[];
  private readonly resCache = new Map<number, readonly Resolution[]>();
  readonly initial: number;
  private complexOuter = false;

  private constructor(programs: readonly Program[]) {
    this.classes = new CharClasses(programs);
    this.searches = programs.map((p, s) => new SearchAutomaton(p, this.classes.count, (cls, atom) => this.classes.atomSat[s][cls][atom] === 1));
    this.chainAutomata = this.searches.map((a) => new ChainAutomaton(a));
    this.boundaryCache = programs.map(() => new Map());
    this.initial = this.intern(Int32Array.from(this.chainAutomata, (c) => c.initial));
  }

  /** The automaton of a tokenizer's split steps, or undefined where one is not an `Isolated` regex split in the supported syntax. */
  static of(splits: readonly SplitStep[]): PieceAutomaton | undefined {
    if (splits.length === 0) return undefined;
    const programs: Program[] = [];
    for (const st of splits) {
      if (!(st.pattern instanceof RegExp) || st.behavior !== 'Isolated' || st.invert) return undefined;
      const p = compilePattern(st.exactPattern ?? st.pattern);
      if (!p) return undefined;
      programs.push(p);
    }
    return new PieceAutomaton(programs);
  }

  /** True once some state needed more than this analysis models (the results are then not exact). */
  get tooComplex(): boolean {
    return this.complexOuter || this.chainAutomata.some((c) => c.tooComplex) || this.searches.some((s) => s.tooComplex) || !this.classes.complete;
  }

  private get innermost(): ChainAutomaton {
    return this.chainAutomata[this.chainAutomata.length - 1];
  }

  private intern(chains: Int32Array): number {
    const key = Array.from(chains).join('|');
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.states.length;
      this.states.push({ id, chains });
      this.index.set(key, id);
      this.stepCache.push(new Array<PieceStep | undefined>(this.classes.count));
    }
    return id;
  }

  /** Whether outer step s puts a boundary before a character of class cls, from its chain `chain`. */
  private outerBoundary(s: number, chain: number, cls: number): boolean {
    const key = chain * this.classes.count + cls;
    const hit = this.boundaryCache[s].get(key);
    if (hit !== undefined) return hit;
    const A = this.chainAutomata[s];
    const st = A.step(chain, cls);
    let ends = 0;
    let goes = 0;
    for (const r of A.resolutions(st.next)) {
      if (resEndsHere(A.mapBack(st, r))) ends++;
      else goes++;
    }
    if (ends > 0 && goes > 0) this.complexOuter = true;
    const b = ends > 0;
    this.boundaryCache[s].set(key, b);
    return b;
  }

  step(id: number, cls: number): PieceStep {
    const hit = this.stepCache[id][cls];
    if (hit) return hit;
    const st = this.states[id];
    const S = this.chainAutomata.length;
    const next = new Int32Array(S);
    let restart = false;
    let inner: ChainStep | undefined;
    for (let s = 0; s < S; s++) {
      const A = this.chainAutomata[s];
      const from = restart ? A.initial : st.chains[s];
      const stepResult = A.step(from, cls);
      next[s] = stepResult.next;
      if (s === S - 1) inner = stepResult;
      else if (!restart && this.outerBoundary(s, st.chains[s], cls)) restart = true;
    }
    const result: PieceStep = { next: this.intern(next), prevInner: st.chains[S - 1], restarted: restart && S > 1, inner: inner as ChainStep };
    this.stepCache[id][cls] = result;
    return result;
  }

  /** The state that reads text after a boundary of the innermost step: `id` with that step's chain restarted. */
  withInnerRestarted(id: number): number {
    const chains = Int32Array.from(this.states[id].chains);
    chains[chains.length - 1] = this.innermost.initial;
    return this.intern(chains);
  }

  /** The innermost chain's state (for positions: its searches and their starts). */
  innerChain(id: number): number {
    return this.states[id].chains[this.chainAutomata.length - 1];
  }

  get innerAutomaton(): ChainAutomaton {
    return this.innermost;
  }

  endResolution(id: number): Resolution {
    return this.innermost.endResolution(this.innerChain(id));
  }

  mapBack(step: PieceStep, r: Resolution): Resolution {
    return step.restarted ? this.innermost.endResolution(step.prevInner) : this.innermost.mapBack(step.inner, r);
  }

  /** Every resolution some continuation (or the end of the text) produces from a state, memoized. */
  resolutions(id: number): readonly Resolution[] {
    const hit = this.resCache.get(id);
    if (hit) return hit;
    const order: number[] = [];
    const seen = new Set<number>([id]);
    const queue = [id];
    while (queue.length) {
      const q = queue.pop() as number;
      order.push(q);
      if (this.resCache.has(q)) continue;
      for (let c = 0; c < this.classes.count; c++) {
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
        for (let c = 0; c < this.classes.count; c++) {
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
