/**
 * One analysis of the text before the cursor under a pattern tokenizer: the region after a restart point,
 * the readings of its open pieces, the covers, and the model's probabilities for them (fetched in one batch).
 *
 * Masses (unnormalized, relative to the fixed tokens F before the region): for z = the text before the
 * cursor, possibly followed by the first bytes of a character,
 *   mass[b] = Σ P(u)·p(t | u) over valid u·[t] whose bytes run past z with byte b after it
 *           (covers of z·b: the last token starts before the end of z, or exactly there),
 *   mass[END] = P(T)·p(END | T) with T = canonical(z) (a text that ends here is encoded canonically),
 *   prefixMass = P(z) = Σ over the covers of z.
 */
import { formProb, type LanguageModel, type NextTokenDistribution } from '../model';
import { PrefixProbabilities } from './modelQueries';
import type { PatternContext } from './patternContext';
import { PatternCovers, PrefixTable, type Covers, type Region } from './patternCovers';
import { RegionWalk } from './pieceReadings';
import { END } from './baselines';
import { indexInSorted } from '../../sortedSearch';

export interface Masses {
  readonly mass: Float64Array;
  readonly prefixMass: number;
  readonly covers: number;
  readonly candidates: number;
}

export class PatternAnalysis {
  readonly region: Region;
  readonly walk: RegionWalk;
  readonly prefixes = new PrefixTable();
  readonly probabilities: PrefixProbabilities;
  private readonly coverFinder: PatternCovers;
  /** Canonical tokens of the region (after F). */
  readonly canonical: Int32Array;

  constructor(
    readonly ctx: PatternContext,
    readonly model: LanguageModel,
    /** The region's text (from the restart point to the cursor). */
    readonly regionText: string,
    /** The region starts mid-document (nothing is prepended). */
    continuation: boolean,
    /** Tokens before the region. */
    readonly fixed: Uint32Array,
    signal: AbortSignal | undefined,
  ) {
    const A = ctx.automaton;
    const cps: number[] = [];
    const charByte: number[] = [0];
    let b = 0;
    for (const ch of regionText) {
      const cp = ch.codePointAt(0) as number;
      cps.push(cp);
      b += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      charByte.push(b);
    }
    const bytes = new TextEncoder().encode(regionText);
    this.region = { bytes, cps: Int32Array.from(cps), charByte: Int32Array.from(charByte), classes: Int32Array.from(cps, (cp) => A.classes.classOf(cp)) };
    // Snapshots where a last token can start: within the longest token's bytes of the end.
    const from = Math.max(0, bytes.length - ctx.table.maxTokenBytes - 4);
    let firstSnap = 0;
    while (firstSnap < cps.length && charByte[firstSnap] < from) firstSnap++;
    this.walk = new RegionWalk(A, this.region.classes, firstSnap);
    const last = this.walk.snapshot(cps.length);
    const rho = last ? Math.max(firstSnap, last.searches[0].start) : firstSnap;
    this.coverFinder = new PatternCovers(ctx, this.region, this.walk, this.prefixes, Math.min(rho, cps.length));
    this.canonical = Int32Array.from(ctx.tokenizer.encode(regionText, { continuation }).ids);
    this.probabilities = new PrefixProbabilities(model, fixed, signal);
  }

  /** Open pieces whose witness search failed during this analysis (then the result is not exact). */
  witnessMisses = 0;

  async masses(extra: Uint8Array): Promise<Masses> {
    const before = this.ctx.witnessMisses;
    const covers: Covers = this.coverFinder.covers(extra);
    const P = this.probabilities;
    const seqs = new Set<number>();
    for (const e of covers.entries) seqs.add(e.u);
    for (const bulk of covers.bulks) seqs.add(bulk.u);
    const complete = extra.length === 0;
    const wanted = Array.from(seqs, (u) => this.prefixes.seqs[u]);
    if (complete) wanted.push(this.canonical);
    await P.load(wanted);
    const ctx = this.ctx;
    const T = ctx.table;
    const mass = new Float64Array(257);
    // The empty string has one cover, the empty sequence.
    let prefixMass = this.region.bytes.length + extra.length === 0 ? 1 : 0;
    let count = covers.entries.length;
    const byU = new Map<number, { p: number; d: NextTokenDistribution }>();
    const of = (u: number): { p: number; d: NextTokenDistribution } => {
      let r = byU.get(u);
      if (!r) {
        const seq = this.prefixes.seqs[u];
        r = { p: P.prob(seq), d: P.dist(seq) };
        byU.set(u, r);
      }
      return r;
    };
    for (const e of covers.entries) {
      const { p, d } = of(e.u);
      if (p === 0) continue;
      const q = p * d.prob(e.token);
      if (e.byte >= 0) mass[e.byte] += q;
      if (e.coversZ) prefixMass += q;
    }
    // Per prefix u with a sparse distribution: base sums per (valid list, offset) from the context's cache,
    // and the explicit ids' deltas over the base, added where the list holds them.
    const pool = T.pool;
    const start = T.byteStart;
    for (const bulk of covers.bulks) {
      const { p, d } = of(bulk.u);
      if (p === 0) continue;
      const form = d.form();
      const off = bulk.offset;
      const lists = bulk.lists.map((l) => ctx.validStarts(l, bulk.fresh));
      let covered = 0;
      if (form.kind === 'sparse') {
        const w = p * form.baseWeight;
        const base = form.base;
        if (bulk.classes.length) {
          const sums = ctx.newPieceSums(bulk.fresh, base);
          const valid = ctx.startValidFn(bulk.fresh);
          for (const c of bulk.classes) for (let b = 0; b < 256; b++) mass[b] += w * sums[c * 256 + b];
          for (let j = 0; j < form.ids.length; j++) {
            const t = form.ids[j];
            if (t < T.vocabSize && bulk.classes.includes(ctx.firstClass(t)) && valid(t)) mass[T.firstByte[t]] += p * (form.probs[j] - form.baseWeight * base.prob(t));
          }
        }
        for (const list of lists) {
          if (list.length === 0) continue;
          const sums = ctx.listSums(list, off, base);
          for (let b = 0; b < 256; b++) mass[b] += w * sums[b];
          covered += w * sums[256];
          const sorted = ctx.sortedList(list);
          for (let j = 0; j < form.ids.length; j++) {
            const t = form.ids[j];
            if (t >= T.vocabSize || indexInSorted(sorted, t) < 0) continue;
            const q = p * (form.probs[j] - form.baseWeight * base.prob(t));
            mass[pool[start[t] + off]] += q;
            covered += q;
          }
        }
      } else {
        const valid = bulk.fresh >= 0 ? ctx.startValidFn(bulk.fresh) : (): boolean => true;
        for (const c of bulk.classes) for (const t of ctx.byFirstClass[c]) if (valid(t)) mass[T.firstByte[t]] += p * form.probs[t];
        for (const list of lists) {
          for (let k = 0; k < list.length; k++) {
            const t = list[k];
            mass[pool[start[t] + off]] += p * form.probs[t];
            covered += p * form.probs[t];
          }
        }
      }
      // Ids left out of the bulk (they would complete an added token's content): their share taken back.
      if (bulk.exclude) {
        const inClass = bulk.classes.length ? ctx.startValidFn(bulk.fresh) : undefined;
        for (const t of bulk.exclude) {
          const inBulk = (inClass !== undefined && bulk.classes.includes(ctx.firstClass(t)) && inClass(t)) || lists.some((l) => indexInSorted(ctx.sortedList(l), t) >= 0);
          if (!inBulk) continue;
          const q = p * d.prob(t);
          mass[pool[start[t] + off]] -= q;
          covered -= q;
        }
      }
      // Tokens laid before z's end cover it.
      if (off > 0) prefixMass += covered;
      for (const c of bulk.classes) count += ctx.byFirstClass[c].length;
      for (const list of lists) count += list.length;
    }
    this.witnessMisses += this.ctx.witnessMisses - before;
    if (complete) {
      const pT = P.prob(this.canonical);
      mass[END] += pT * formProb(P.dist(this.canonical).form(), this.model.endOfTextId);
    }
    return { mass, prefixMass, covers: count, candidates: covers.candidates };
  }
}
