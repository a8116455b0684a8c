/**
 * Statistics of one next-token distribution given as dense logits (one row of a model's output): the
 * log-normalizer, the log-probability, rank and top-k of tokens, the entropy. One pass for the maximum, one
 * for everything else; float64 accumulation over float32 logits.
 *
 * A row is read over the tokenizer's ids only: output rows past the tokenizer's vocabulary (padding some
 * exports carry) are left out, so the distribution ranges over the ids of the language-model interface.
 */
import type { DistributionForm, NextTokenDistribution, TokenAlternative } from '../model';

interface DistributionStats {
  /** log Σ exp(logit) over the row. */
  readonly logNormalizer: number;
  /** Entropy of the distribution in nats. */
  readonly entropyNats: number;
  /** The `k` most probable ids, most probable first (ties: smaller id first). */
  readonly top: readonly TokenAlternative[];
}

/** log Σ exp(row[i]) for one row `row[offset .. offset+length)`. */
export function logSumExp(row: Float32Array, offset = 0, length = row.length - offset): number {
  let max = -Infinity;
  for (let i = offset, end = offset + length; i < end; i++) if (row[i] > max) max = row[i];
  if (max === -Infinity) return -Infinity;
  if (max === Infinity) return Infinity;
  let sum = 0;
  for (let i = offset, end = offset + length; i < end; i++) sum += Math.exp(row[i] - max);
  return max + Math.log(sum);
}

/** Normalizer, entropy and top-k of the row `logits[offset .. offset+length)`. */
export function distributionStats(logits: Float32Array, offset: number, length: number, k: number): DistributionStats {
  const r = rowStats(logits, offset, length, k, -1);
  return { logNormalizer: r.logNormalizer, entropyNats: r.entropyNats, top: r.top };
}

interface RowStats extends DistributionStats {
  /** 1-based rank of the target id (1 + ids with a strictly larger logit); 0 without a target. */
  readonly rank: number;
  /** Log-probability of the target id; NaN without a target. */
  readonly logProb: number;
}

/**
 * The k largest values seen, in a small buffer ordered worst [0] … best [filled-1]. Offer ids in increasing
 * order: an equal value never displaces one already held, so ties keep the smaller id.
 */
class TopKBuffer {
  readonly vals: Float64Array;
  readonly ids: Int32Array;
  filled = 0;

  constructor(readonly k: number) {
    this.vals = new Float64Array(k);
    this.ids = new Int32Array(k);
  }

  offer(v: number, id: number): void {
    const { vals, ids, k } = this;
    let pos: number;
    if (this.filled < k) {
      pos = this.filled++;
      while (pos > 0 && vals[pos - 1] >= v) {
        vals[pos] = vals[pos - 1];
        ids[pos] = ids[pos - 1];
        pos--;
      }
    } else {
      if (!(v > vals[0])) return;
      pos = 0;
      while (pos + 1 < k && vals[pos + 1] < v) {
        vals[pos] = vals[pos + 1];
        ids[pos] = ids[pos + 1];
        pos++;
      }
    }
    vals[pos] = v;
    ids[pos] = id;
  }

  /** Best first, as log-probabilities (value − logNormalizer). */
  alternatives(logNormalizer: number): TokenAlternative[] {
    const out: TokenAlternative[] = [];
    for (let j = this.filled - 1; j >= 0; j--) out.push({ id: this.ids[j], logProb: this.vals[j] - logNormalizer });
    return out;
  }
}

/**
 * Everything scoring needs from one row in two passes: (1) the maximum and the top-k, (2) the normalizer,
 * the entropy and the target's rank. `target` < 0: no target.
 */
export function rowStats(logits: Float32Array, offset: number, length: number, k: number, target: number): RowStats {
  const end = offset + length;
  const kk = Math.max(0, Math.min(Math.floor(k), length));
  // Pass 1: the maximum, and the top-k.
  let max = -Infinity;
  const best = new TopKBuffer(kk);
  for (let i = offset; i < end; i++) {
    const v = logits[i];
    if (v > max) max = v;
    if (kk > 0) best.offer(v, i - offset);
  }
  if (!Number.isFinite(max)) throw new Error(`the model returned a logit of ${max}`);
  // Pass 2: Σ e^(x-max), Σ e^(x-max)·(x-max), and how many ids beat the target.
  const t = target >= 0 ? logits[offset + target] : Infinity;
  let sum = 0;
  let weighted = 0;
  let above = 0;
  for (let i = offset; i < end; i++) {
    const x = logits[i];
    const d = x - max;
    const e = Math.exp(d);
    sum += e;
    weighted += e * d;
    if (x > t) above++;
  }
  if (!Number.isFinite(sum)) throw new Error('the model returned a non-finite logit');
  const logSum = Math.log(sum);
  const logNormalizer = max + logSum;
  const top = best.alternatives(logNormalizer);
  return {
    logNormalizer,
    // H = -Σ p log p = log Σe - (Σ e·d)/Σe with d = logit - max
    entropyNats: Math.max(0, logSum - weighted / sum),
    top,
    rank: target >= 0 ? above + 1 : 0,
    logProb: target >= 0 ? t - logNormalizer : NaN,
  };
}

/** The k largest entries of a row, as log-probabilities (row value − logNormalizer), largest first, ties by id. */
export function topK(logits: Float32Array, offset: number, length: number, k: number, logNormalizer: number): TokenAlternative[] {
  const kk = Math.max(0, Math.min(Math.floor(k), length));
  if (kk === 0) return [];
  const best = new TopKBuffer(kk);
  for (let j = 0; j < length; j++) best.offer(logits[offset + j], j);
  return best.alternatives(logNormalizer);
}

/** 1-based rank of `id` in the row: 1 + the number of ids with a strictly larger logit (equal logits share a rank). */
export function rankOf(logits: Float32Array, offset: number, length: number, id: number): number {
  const v = logits[offset + id];
  let rank = 1;
  for (let j = 0; j < length; j++) if (logits[offset + j] > v) rank++;
  return rank;
}

/** The probabilities of one row (softmax), in float64. */
function softmax(logits: Float32Array, offset: number, length: number): Float64Array {
  const z = logSumExp(logits, offset, length);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.exp(logits[offset + i] - z);
  return out;
}

/**
 * A next-token distribution backed by one row of float32 logits (a view into the model's output; no copy,
 * 4 bytes per id instead of a Float64Array of probabilities). The normalizer is computed up front, the
 * entropy and the dense form on demand.
 */
export class LogitsDistribution implements NextTokenDistribution {
  readonly logNormalizer: number;
  private entropy: number | undefined;

  constructor(
    private readonly logits: Float32Array,
    private readonly offset: number,
    readonly vocabSize: number,
  ) {
    this.logNormalizer = logSumExp(logits, offset, vocabSize);
    if (!Number.isFinite(this.logNormalizer)) throw new Error('the model returned non-finite logits');
  }

  logProb(id: number): number {
    if (!(id >= 0 && id < this.vocabSize)) return -Infinity;
    return this.logits[this.offset + id] - this.logNormalizer;
  }

  prob(id: number): number {
    return Math.exp(this.logProb(id));
  }

  rank(id: number): number {
    return rankOf(this.logits, this.offset, this.vocabSize, id);
  }

  get entropyNats(): number {
    this.entropy ??= distributionStats(this.logits, this.offset, this.vocabSize, 0).entropyNats;
    return this.entropy;
  }

  top(k: number): TokenAlternative[] {
    return topK(this.logits, this.offset, this.vocabSize, k, this.logNormalizer);
  }

  form(): DistributionForm {
    return { kind: 'dense', probs: softmax(this.logits, this.offset, this.vocabSize) };
  }
}
