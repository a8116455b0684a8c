/**
 * A feature's logit effects: which output tokens its decoder direction pushes up and down when it is added to
 * the residual stream, W_dec[f] · W_U (the direct path to the logits, as Neuronpedia's and SAEDashboard's
 * "logit weights" are).
 *
 * Through the final norm: a LayerNorm computes γ ⊙ (x − mean(x)) / σ(x) + β. Centring and γ are linear and are
 * applied to the direction (u = γ ⊙ (W_dec[f] − mean(W_dec[f]))); an RMSNorm has no centring (u = γ ⊙ W_dec[f]).
 * The division by σ(x) (or the RMS) is left out: it depends on the whole residual stream at a token, not on the
 * feature, and is a positive factor per token, so it scales every token's effect alike and keeps their order.
 * β and a head bias are the same for every feature and are left out. So the values are the logit change per
 * unit of activation up to that positive per-token factor: the same approximation as folding the norm's
 * weights into W_U (TransformerLens's `fold_ln`) and ignoring the norm's scale.
 */
import type { Unembedding } from './unembedding';

export const LOGIT_EFFECTS_APPROXIMATION =
  'W_dec[f] · W_U through the final norm’s centring and scale γ; the norm’s division by the residual’s standard deviation (a positive factor per token) and the biases are left out, so values are up to that factor';

export interface TokenEffect {
  readonly id: number;
  readonly value: number;
}

export interface LogitEffects {
  /** Largest first. */
  readonly promoted: readonly TokenEffect[];
  /** Most negative first. */
  readonly suppressed: readonly TokenEffect[];
}

/** The direction the head sees for a residual direction: centred for a LayerNorm, times γ. */
export function directionThroughNorm(u: Unembedding, direction: Float32Array): Float64Array {
  const d = u.dModel;
  const v = Float64Array.from(direction.subarray(0, d));
  if (u.norm === 'layernorm') {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += v[i];
    mean /= d;
    for (let i = 0; i < d; i++) v[i] -= mean;
  }
  if (u.normScale) for (let i = 0; i < d; i++) v[i] *= u.normScale[i];
  return v;
}

/** Every token's effect: v · W_U, [V]. */
export function logitEffectVector(u: Unembedding, direction: Float32Array): Float64Array {
  if (direction.length !== u.dModel) throw new RangeError(`a direction of width ${direction.length} for an unembedding of width ${u.dModel}`);
  const v = directionThroughNorm(u, direction);
  const d = u.dModel;
  const V = u.vocabSize;
  const w = u.weights;
  const out = new Float64Array(V);
  if (u.rowsAreTokens) {
    for (let j = 0; j < V; j++) {
      let s = 0;
      const row = j * d;
      for (let i = 0; i < d; i++) s += v[i] * w[row + i];
      out[j] = s;
    }
  } else {
    for (let i = 0; i < d; i++) {
      const vi = v[i];
      const row = i * V;
      for (let j = 0; j < V; j++) out[j] += vi * w[row + j];
    }
  }
  return out;
}

/** The k ids that sort first by `before` (a strict order), in that order: one pass with a small sorted list. */
function firstK(n: number, k: number, before: (a: number, b: number) => boolean): number[] {
  const out: number[] = [];
  for (let j = 0; j < n; j++) {
    if (out.length === k && !before(j, out[k - 1])) continue;
    let at = out.length;
    while (at > 0 && before(j, out[at - 1])) at--;
    out.splice(at, 0, j);
    if (out.length > k) out.pop();
  }
  return out;
}

/** The k tokens pushed up most and the k pushed down most (ties by id). */
export function logitEffects(u: Unembedding, direction: Float32Array, k: number): LogitEffects {
  const e = logitEffectVector(u, direction);
  // Ids arrive in ascending order, so a strict comparison keeps the lower id first among ties.
  const top = firstK(e.length, k, (a, b) => e[a] > e[b]);
  const bottom = firstK(e.length, k, (a, b) => e[a] < e[b]);
  return {
    promoted: top.map((id) => ({ id, value: e[id] })),
    suppressed: bottom.map((id) => ({ id, value: e[id] })),
  };
}

/** Feature f's decoder row, W_dec[f]. */
export function decoderRow(wDec: Float32Array, dIn: number, f: number): Float32Array {
  return wDec.subarray(f * dIn, (f + 1) * dIn);
}
