/**
 * The next-byte masses for a tokenizer that neither exact analysis reads (a pre-tokenizer rewrite such as a
 * Metaspace split, a split pattern the automaton cannot hold, added tokens that overlap one another, a
 * normalizer other than NFC/NFKC): always reported `exact: false`.
 *
 * The covers considered are those that keep the canonical encoding's own boundaries: canonical(x)'s first k
 * tokens followed by any token whose bytes start with the rest of x and run past it, for the boundaries
 * within `windowBytes` bytes of the end (and within the longest token). Their validity is not checked (every
 * such sequence counts). What is missed: covers that re-segment the text before the last boundary used;
 * what is wrongly added: sequences the tokenizer would never produce. Bytes are those the model reads (the
 * tokens' bytes), as in the exact analyses.
 */
import { formProb, type LanguageModel } from '../model';
import type { Tokenizer } from '../../tokenizers/types';
import { END, naiveMass } from './baselines';
import { PrefixProbabilities } from './modelQueries';
import { latin1, TokenTable } from './tokenTable';

const tables = new WeakMap<Tokenizer, TokenTable>();

/** The token table of any tokenizer (special added tokens left out), cached with it. */
export function windowTable(tokenizer: Tokenizer): TokenTable {
  let t = tables.get(tokenizer);
  if (!t) {
    const special = new Set<number>();
    for (const a of tokenizer.addedTokens) {
      const id = tokenizer.specialTokenId(a.text);
      if (id !== undefined) special.add(id);
    }
    t = new TokenTable(tokenizer.vocabSize, (id) => tokenizer.tokenBytes(id), special);
    tables.set(tokenizer, t);
  }
  return t;
}

export class WindowCovers {
  readonly table: TokenTable;
  readonly canonical: Int32Array;
  readonly bytes: Uint8Array;
  readonly probabilities: PrefixProbabilities;
  /** Byte offset of each boundary of the canonical tokens (count + 1 entries). */
  private readonly bounds: Int32Array;

  constructor(
    readonly tokenizer: Tokenizer,
    readonly model: LanguageModel,
    regionText: string,
    continuation: boolean,
    fixed: Uint32Array,
    readonly windowBytes: number,
    signal: AbortSignal | undefined,
  ) {
    this.table = windowTable(tokenizer);
    this.canonical = Int32Array.from(tokenizer.encode(regionText, { continuation }).ids);
    const bounds = [0];
    let n = 0;
    for (const id of this.canonical) bounds.push((n += this.table.bytes[id].length));
    this.bounds = Int32Array.from(bounds);
    this.bytes = new Uint8Array(n);
    this.canonical.forEach((id, k) => this.bytes.set(this.table.bytes[id], bounds[k]));
    this.probabilities = new PrefixProbabilities(model, fixed, signal);
  }

  async masses(extra: Uint8Array): Promise<{ mass: Float64Array; prefixMass: number; covers: number; candidates: number }> {
    const T = this.table;
    const z = new Uint8Array(this.bytes.length + extra.length);
    z.set(this.bytes);
    z.set(extra, this.bytes.length);
    const Z = z.length;
    const spans: { k: number; lo: number; hi: number; skip: number }[] = [];
    for (let k = this.canonical.length; k >= 0; k--) {
      const j = this.bounds[k];
      if (Z - j > this.windowBytes || Z - j >= T.maxTokenBytes) break;
      if (j === Z) continue;
      const [lo, hi] = T.prefixRange(latin1(z, j, Z));
      if (lo < hi) spans.push({ k, lo, hi, skip: Z - j });
    }
    const P = this.probabilities;
    const seqs = spans.map((s) => this.canonical.subarray(0, s.k));
    seqs.push(this.canonical);
    await P.load(seqs);
    const mass = new Float64Array(257);
    let prefixMass = Z === 0 ? 1 : extra.length === 0 ? P.prob(this.canonical) : 0;
    let covers = 0;
    let candidates = 0;
    for (const s of spans) {
      const u = this.canonical.subarray(0, s.k);
      const p = P.prob(u);
      if (p === 0) continue;
      const d = P.dist(u);
      for (let pos = s.lo; pos < s.hi; pos++) {
        const t = T.sortedIds[pos];
        candidates++;
        if (!T.usable[t] || T.byteLength[t] <= s.skip) continue;
        const q = p * d.prob(t);
        mass[T.pool[T.byteStart[t] + s.skip]] += q;
        prefixMass += q;
        covers++;
      }
    }
    if (extra.length === 0) {
      // Every token laid at the end of x, as the naive baseline sums them.
      const p = P.prob(this.canonical);
      const form = P.dist(this.canonical).form();
      const naive = naiveMass(T, form, this.model.endOfTextId);
      for (let b = 0; b < 256; b++) mass[b] += p * naive[b];
      mass[END] += p * formProb(form, this.model.endOfTextId);
    }
    return { mass, prefixMass, covers, candidates };
  }
}
