/**
 * The model side of the next-byte analysis: next-token distributions after the fixed tokens followed by each
 * of the covers' prefixes, fetched as one batch.
 *
 * The analysis first lists every token sequence it needs (the prefixes u of the covers, and every prefix of
 * those for P(u) = Π p(u_k | fixed·u_<k)), then asks for all of them at once. A model that can share work
 * between prefixes (a neural model: one forward pass per distinct prefix on top of the fixed part's KV
 * cache) implements `BatchedLanguageModel.prefixDistributions`; any other `LanguageModel` is asked context by
 * context (the built-in n-gram answers synchronously, and distinct prefixes often share their last n-1
 * tokens, so each distinct context is asked once).
 */
import { throwIfAborted, type LanguageModel, type NextTokenDistribution } from '../model';

/** A language model that answers the distributions after a fixed context followed by many extensions in one call. */
export interface BatchedLanguageModel extends LanguageModel {
  /**
   * The next-token distribution after `fixed` followed by each extension (in order). `fixed` is the whole
   * history the caller has (its last `contextTokens` matter); extensions are short.
   */
  prefixDistributions(fixed: Uint32Array, extensions: readonly Int32Array[], signal?: AbortSignal): Promise<NextTokenDistribution[]>;
}

function isBatched(m: LanguageModel): m is BatchedLanguageModel {
  return typeof (m as Partial<BatchedLanguageModel>).prefixDistributions === 'function';
}

/**
 * Distributions and probabilities of sequences after a fixed context; `load` first, then read synchronously.
 * Prefixes are nodes of a trie (one integer per prefix, a child found by its parent and token), so a sequence
 * of L tokens costs O(L) to load and to read: keyed by their text, its L prefixes cost O(L²) (a region of
 * 3,000 CJK characters took seconds, most of it collecting gigabytes of keys).
 */
export class PrefixProbabilities {
  /** Child node of (parent, token), keyed parent · 2^32 + token; node 0 is the empty prefix. */
  private readonly children = new Map<number, number>();
  private nodeCount = 1;
  private readonly dists: (NextTokenDistribution | undefined)[] = [];
  private readonly probs = new Map<number, number>();
  /** Distinct prefixes the model was asked about (for reports). */
  queries = 0;

  constructor(
    readonly model: LanguageModel,
    readonly fixed: Uint32Array,
    private readonly signal?: AbortSignal,
  ) {}

  /** Fetches, in one batch, the distributions after every prefix of every sequence (and the sequences themselves). */
  async load(seqs: Iterable<Int32Array>): Promise<void> {
    const wanted = new Map<number, Int32Array>();
    for (const s of seqs) {
      let n = 0;
      for (let k = 0; k <= s.length; k++) {
        if (k > 0) n = this.child(n, s[k - 1]);
        if (this.dists[n] === undefined && !wanted.has(n)) wanted.set(n, s.subarray(0, k));
      }
    }
    if (wanted.size === 0) return;
    throwIfAborted(this.signal);
    const nodes = Array.from(wanted.keys());
    const exts = nodes.map((n) => wanted.get(n) as Int32Array);
    this.queries += exts.length;
    let results: NextTokenDistribution[];
    if (isBatched(this.model)) results = await this.model.prefixDistributions(this.fixed, exts, this.signal);
    else {
      // One request per distinct context (the last contextTokens ids), all in flight together.
      const n = this.model.contextTokens;
      const byContext = new Map<string, Promise<NextTokenDistribution> | NextTokenDistribution>();
      const ctxKeys: string[] = [];
      for (const e of exts) {
        const ctx = contextOf(this.fixed, e, n);
        const ck = ctx.join(',');
        ctxKeys.push(ck);
        if (!byContext.has(ck)) byContext.set(ck, this.model.nextDistribution(ctx, this.signal));
      }
      const resolved = new Map<string, NextTokenDistribution>();
      for (const [ck, d] of byContext) resolved.set(ck, d instanceof Promise ? await d : d);
      results = ctxKeys.map((ck) => resolved.get(ck) as NextTokenDistribution);
    }
    nodes.forEach((n, j) => (this.dists[n] = results[j]));
  }

  /** The distribution after fixed·seq (loaded before). */
  dist(seq: Int32Array): NextTokenDistribution {
    const n = this.nodeOf(seq);
    const d = n < 0 ? undefined : this.dists[n];
    if (!d) throw new Error('prefix not loaded');
    return d;
  }

  /** P(seq | fixed): the product of next-token probabilities, no renormalisation per step. */
  prob(seq: Int32Array): number {
    const end = this.nodeOf(seq);
    let p = end < 0 ? undefined : this.probs.get(end);
    if (p === undefined) {
      p = 1;
      let n = 0;
      for (let k = 0; k < seq.length && p > 0; k++) {
        p *= (n < 0 ? undefined : this.dists[n])?.prob(seq[k]) ?? 0;
        n = n < 0 ? -1 : (this.children.get(n * 0x100000000 + seq[k]) ?? -1);
      }
      if (end >= 0) this.probs.set(end, p);
    }
    return p;
  }

  private child(parent: number, token: number): number {
    const key = parent * 0x100000000 + token;
    let c = this.children.get(key);
    if (c === undefined) {
      c = this.nodeCount++;
      this.children.set(key, c);
    }
    return c;
  }

  /** The node of seq, or -1 when it was never loaded. */
  private nodeOf(seq: Int32Array): number {
    let n = 0;
    for (let k = 0; k < seq.length && n >= 0; k++) n = this.children.get(n * 0x100000000 + seq[k]) ?? -1;
    return n;
  }
}

/** The last `n` ids of fixed·ext. */
function contextOf(fixed: Uint32Array, ext: Int32Array, n: number): Uint32Array {
  const fromFixed = Math.max(0, n - ext.length);
  const f = fixed.subarray(Math.max(0, fixed.length - fromFixed));
  const e = ext.subarray(Math.max(0, ext.length - n));
  const out = new Uint32Array(f.length + e.length);
  out.set(f);
  out.set(e, f.length);
  return out;
}
