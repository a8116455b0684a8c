/**
 * Language models whose distributions put probability on a given support only (a set of ids and the end of
 * the text), so that a brute force can enumerate every token sequence they can produce:
 * - `restrictedModel`: any model (the workspace n-gram) renormalized on the support, keeping its sparse form
 *   (explicit ids plus a base distribution), so the bulk sums of the analysis are exercised;
 * - `randomBigram`: random probabilities per previous token, as a sparse form over the support or dense.
 */
import type { BaseDistribution, DistributionForm, LanguageModel, NextTokenDistribution, TokenAlternative } from '../../../src/core/lm/model';
import { mulberry32 } from '../../harness/hardStrings';

class SupportBase implements BaseDistribution {
  readonly sortedIds: Int32Array;
  readonly sortedProbs: Float64Array;
  readonly restProbability = 0;
  readonly restCount: number;
  readonly entropyNats = 0;
  private readonly probs: Float64Array;

  constructor(
    readonly size: number,
    inner: BaseDistribution | undefined,
    support: ReadonlySet<number>,
  ) {
    this.probs = new Float64Array(size);
    if (inner) for (const id of support) this.probs[id] = inner.prob(id);
    const ids = Array.from(support).filter((id) => this.probs[id] > 0);
    ids.sort((a, b) => this.probs[b] - this.probs[a] || a - b);
    this.sortedIds = Int32Array.from(ids);
    this.sortedProbs = Float64Array.from(ids, (id) => this.probs[id]);
    this.restCount = size - ids.length;
  }

  prob(id: number): number {
    return this.probs[id] ?? 0;
  }

  hasOwn(id: number): boolean {
    return this.probs[id] > 0;
  }
}

class SparseDistribution implements NextTokenDistribution {
  constructor(
    readonly vocabSize: number,
    private readonly f: Extract<DistributionForm, { kind: 'sparse' }>,
  ) {}

  prob(id: number): number {
    const ids = this.f.ids;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    if (lo < ids.length && ids[lo] === id) return this.f.probs[lo];
    return this.f.baseWeight * this.f.base.prob(id);
  }

  logProb(id: number): number {
    return Math.log(this.prob(id));
  }

  rank(): number {
    return 1;
  }

  readonly entropyNats = null;

  top(k: number): TokenAlternative[] {
    return Array.from(this.f.ids)
      .map((id) => ({ id, logProb: this.logProb(id) }))
      .sort((a, b) => b.logProb - a.logProb)
      .slice(0, k);
  }

  form(): DistributionForm {
    return this.f;
  }
}

/** `inner` renormalized on `support` (plus end of text), in sparse form. */
export function restrictedModel(inner: LanguageModel, support: ReadonlySet<number>): LanguageModel {
  const bases = new Map<BaseDistribution, SupportBase>();
  const V = inner.vocabSize;
  const withEnd = new Set(support);
  withEnd.add(inner.endOfTextId);
  return {
    id: `${inner.id}-restricted`,
    description: `${inner.description}, on ${support.size} ids`,
    vocabSize: V,
    endOfTextId: inner.endOfTextId,
    contextTokens: inner.contextTokens,
    async nextDistribution(ctx) {
      const r = inner.nextDistribution(ctx);
      const d = r instanceof Promise ? await r : r;
      const f = d.form();
      if (f.kind !== 'sparse') throw new Error('restrictedModel needs a sparse model');
      let base = bases.get(f.base);
      if (!base) bases.set(f.base, (base = new SupportBase(V, f.base, withEnd)));
      let z = 0;
      for (const id of withEnd) z += d.prob(id);
      const ids: number[] = [];
      const probs: number[] = [];
      for (let j = 0; j < f.ids.length; j++) {
        if (!withEnd.has(f.ids[j])) continue;
        ids.push(f.ids[j]);
        probs.push(f.probs[j] / z);
      }
      return new SparseDistribution(V, { kind: 'sparse', ids: Int32Array.from(ids), probs: Float64Array.from(probs), baseWeight: f.baseWeight / z, base });
    },
  };
}

/** A bigram with random probabilities on `support` (plus end of text), sparse or dense. */
export function randomBigram(vocabSize: number, support: ReadonlySet<number>, seed: number, dense = false): LanguageModel {
  const V = vocabSize + 1;
  const ids = Array.from(support).sort((a, b) => a - b);
  ids.push(vocabSize);
  const zero = new SupportBase(V, undefined, new Set());
  const cache = new Map<number, NextTokenDistribution>();
  return {
    id: 'random-bigram',
    description: `random bigram on ${support.size} ids`,
    vocabSize: V,
    endOfTextId: vocabSize,
    contextTokens: 1,
    nextDistribution(context) {
      const prev = context.length ? context[context.length - 1] : -1;
      let d = cache.get(prev);
      if (!d) {
        const rng = mulberry32(seed * 7919 + prev + 2);
        const p = new Float64Array(ids.length);
        let z = 0;
        for (let i = 0; i < ids.length; i++) z += p[i] = -Math.log(1 - rng()) * (rng() < 0.1 ? 20 : 1);
        for (let i = 0; i < ids.length; i++) p[i] /= z;
        if (dense) {
          const full = new Float64Array(V);
          ids.forEach((id, i) => (full[id] = p[i]));
          d = new SparseDistribution(V, { kind: 'sparse', ids: Int32Array.from(ids), probs: p, baseWeight: 0, base: zero });
          const sparse = d;
          d = { ...denseOf(full, sparse) };
        } else d = new SparseDistribution(V, { kind: 'sparse', ids: Int32Array.from(ids), probs: p, baseWeight: 0, base: zero });
        cache.set(prev, d);
      }
      return d;
    },
  };
}

function denseOf(full: Float64Array, sparse: NextTokenDistribution): NextTokenDistribution {
  return {
    vocabSize: full.length,
    prob: (id) => full[id] ?? 0,
    logProb: (id) => Math.log(full[id] ?? 0),
    rank: () => 1,
    entropyNats: null,
    top: (k) => sparse.top(k),
    form: () => ({ kind: 'dense', probs: full }),
  };
}
