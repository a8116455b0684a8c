/**
 * The two baselines the exact distribution is shown beside, and the sums over the vocabulary they need.
 *
 * Naive: the next-token distribution after canonical(x), each token's probability on its first byte (tokens
 * that never occur in text left out), end-of-text on slot 256.
 * Token healing: back off the last token r of canonical(x) and take the next token among those that start
 * with r's bytes: a longer one puts its probability on its byte after r; r itself puts its probability on the
 * naive distribution (the text is r's bytes, then whatever follows canonical(x)).
 */
import { formProb, type BaseDistribution, type DistributionForm, type NextTokenDistribution } from '../model';
import { latin1, type TokenTable } from './tokenTable';

export const END = 256;

const naiveSums = new WeakMap<TokenTable, WeakMap<BaseDistribution, Float64Array>>();
const sortedSums = new WeakMap<TokenTable, WeakMap<BaseDistribution, Float64Array>>();

function cached(store: WeakMap<TokenTable, WeakMap<BaseDistribution, Float64Array>>, table: TokenTable, base: BaseDistribution, make: () => Float64Array): Float64Array {
  let inner = store.get(table);
  if (!inner) store.set(table, (inner = new WeakMap()));
  let s = inner.get(base);
  if (!s) inner.set(base, (s = make()));
  return s;
}

/** Σ base.prob over usable ids, by first byte. */
function naiveBaseSums(table: TokenTable, base: BaseDistribution): Float64Array {
  return cached(naiveSums, table, base, () => {
    const s = new Float64Array(256);
    for (let id = 0; id < table.vocabSize; id++) if (table.usable[id]) s[table.firstByte[id]] += base.prob(id);
    return s;
  });
}

/** Prefix sums of base.prob over usable ids in byte-sorted order: the sum over positions [lo, hi) is s[hi] - s[lo]. */
function sortedUsableBaseSums(table: TokenTable, base: BaseDistribution): Float64Array {
  return cached(sortedSums, table, base, () => {
    const s = new Float64Array(table.vocabSize + 1);
    for (let pos = 0; pos < table.vocabSize; pos++) {
      const id = table.sortedIds[pos];
      s[pos + 1] = s[pos] + (table.usable[id] ? base.prob(id) : 0);
    }
    return s;
  });
}

/** Unnormalized naive masses (256 bytes and end) of one distribution. */
export function naiveMass(table: TokenTable, form: DistributionForm, endId: number): Float64Array {
  const out = new Float64Array(257);
  if (form.kind === 'sparse') {
    const sums = naiveBaseSums(table, form.base);
    for (let b = 0; b < 256; b++) out[b] = form.baseWeight * sums[b];
    for (let j = 0; j < form.ids.length; j++) {
      const t = form.ids[j];
      if (t >= table.vocabSize || !table.usable[t]) continue;
      out[table.firstByte[t]] += form.probs[j] - form.baseWeight * form.base.prob(t);
    }
  } else {
    for (let t = 0; t < table.vocabSize; t++) if (table.usable[t]) out[table.firstByte[t]] += form.probs[t];
  }
  out[END] = formProb(form, endId);
  return out;
}

/** Unnormalized token healing, given the distribution before the last canonical token and the normalized naive one. */
export function healingMass(table: TokenTable, beforeLast: NextTokenDistribution | undefined, last: number | undefined, naiveNormalized: Float64Array): Float64Array {
  const out = new Float64Array(257);
  if (!beforeLast || last === undefined) {
    out.set(naiveNormalized);
    return out;
  }
  const rb = table.bytes[last];
  const key = latin1(rb);
  const [lo, hi] = table.prefixRange(key);
  const form = beforeLast.form();
  const longer = new Float64Array(256);
  let all = 0;
  if (form.kind === 'sparse') {
    const sums = sortedUsableBaseSums(table, form.base);
    all = form.baseWeight * (sums[hi] - sums[lo]);
    for (let b = 0; b < 256; b++) {
      const [l, h] = table.prefixRange(key + String.fromCharCode(b));
      if (l < h) longer[b] = form.baseWeight * (sums[h] - sums[l]);
    }
    for (let j = 0; j < form.ids.length; j++) {
      const t = form.ids[j];
      if (t >= table.vocabSize || !table.usable[t]) continue;
      const tb = table.bytes[t];
      if (tb.length < rb.length) continue;
      let match = true;
      for (let c = 0; c < rb.length && match; c++) if (tb[c] !== rb[c]) match = false;
      if (!match) continue;
      const delta = form.probs[j] - form.baseWeight * form.base.prob(t);
      all += delta;
      if (tb.length > rb.length) longer[tb[rb.length]] += delta;
    }
  } else {
    for (let pos = lo; pos < hi; pos++) {
      const t = table.sortedIds[pos];
      if (!table.usable[t]) continue;
      const p = form.probs[t];
      all += p;
      if (table.bytes[t].length > rb.length) longer[table.bytes[t][rb.length]] += p;
    }
  }
  let same = all;
  for (let b = 0; b < 256; b++) {
    out[b] += longer[b];
    same -= longer[b];
  }
  if (same > 0) for (let b = 0; b < 257; b++) out[b] += same * naiveNormalized[b];
  return out;
}

export function normalized(a: Float64Array): Float64Array {
  let s = 0;
  for (const v of a) s += v;
  const out = new Float64Array(a.length);
  if (s > 0) for (let i = 0; i < a.length; i++) out[i] = a[i] / s;
  return out;
}
