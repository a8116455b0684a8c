/**
 * One encoder, an allocation per kind (docs/ALGORITHMS.md#encoders; Ayonrinde 2024 for the allocation view): for the
 * pre-activations Z = (normalize(x) − b_dec·apply_b_dec_to_input) W_enc + b_enc of n tokens, each kind selects
 * (token, feature) entries of Z: ReLU the positive ones, JumpReLU those above θ_f, TopK k per token, Feature
 * Choice m per feature, Mutual Choice the k·n largest (each kind is one module in encoders/, listed in the table
 * of encoderKinds.ts; ties go to the lower index).
 * A selected feature's activation is ReLU(Z[t,f]): it may be 0, so "selected" and "active" are both counted.
 * The reconstruction x̂ = act W_dec + b_dec, with the normalization undone, and per-token normalized MSE
 * ‖x − x̂‖² / ‖x‖² and fraction of variance explained 1 − ‖x − x̂‖² / ‖x − x̄‖² (x̄ the document's mean
 * vector, as SAELens's evals compute it over a batch).
 *
 * Z is never held whole: token blocks stream against chunks of features through the kernel, and each chunk goes
 * to the kind's run (its heaps, if it keeps any); this file does what the kinds share.
 */
import { encoderDefinition, ENCODER_KINDS, isEncoderKind, type EncoderKind } from './encoderKinds';
import type { EncoderBudgets } from './encoders/definition';
import { SelectedEntries } from './encoders/selectedEntries';
import { SaeError } from './errors';
import { createKernel, defaultBlockTokens, packEncoder, PANEL_FEATURES, type KernelKind, type PackedEncoder } from './kernel';
import { defaultEncoderFor, type SparseAutoencoder } from './types';

export { ENCODER_KINDS, type EncoderKind };

/** The layer-norm epsilon of SAELens's `layer_norm` and OpenAI's TopK SAEs. */
export const LAYER_NORM_EPS = 1e-5;

export interface EncodeOptions {
  /** Default: the SAE's own (standard → relu, jumprelu, topk). */
  readonly encoder?: EncoderKind;
  /** The per-token budget, for the kinds whose `budgets` name k. Default: the SAE's k. */
  readonly k?: number;
  /** Tokens per feature, for the kinds whose `budgets` name m (feature-choice: default max(1, ⌈k·n/F⌉)). */
  readonly m?: number;
  readonly kernel?: KernelKind | 'auto';
  /** Called after each block of tokens. */
  readonly onProgress?: (doneTokens: number, totalTokens: number) => void;
  /** Checked after each block of tokens; true stops with EncodeCancelledError. */
  readonly isCancelled?: () => boolean;
  /**
   * How x̂ is computed: 'sparse' adds the selected features' decoder rows (fast when few are active);
   * 'dense' multiplies the activation matrix by W_dec with the kernel (fast when many are, as ReLU on a TopK
   * SAE gives; it packs a second copy of W_dec, once per SAE). Default 'auto' picks by the number selected.
   */
  readonly decoder?: 'auto' | 'sparse' | 'dense';
}

export class EncodeCancelledError extends SaeError {
  constructor() {
    super('encoding cancelled');
    this.name = 'EncodeCancelledError';
  }
}

export interface SaeEncoding {
  readonly encoder: EncoderKind;
  /** The per-token budget used, by the kinds that read one. */
  readonly k?: number;
  /** Tokens per feature, by the kinds that read it. */
  readonly m?: number;
  readonly tokenCount: number;
  readonly dIn: number;
  readonly dSae: number;
  /**
   * Token t's selected features are entries rowStart[t] .. rowStart[t+1]-1 of featureIndex/activation,
   * by activation (descending), then feature index (ascending).
   */
  readonly rowStart: Uint32Array;
  readonly featureIndex: Uint32Array;
  /** After the ReLU: 0 for a selected feature whose pre-activation is not positive. */
  readonly activation: Float32Array;
  /** Per token: selected features with activation > 0. */
  readonly activeCount: Uint32Array;
  /** x̂ [tokenCount, dIn] in the caller's space (the SAE's normalization undone). */
  readonly reconstruction: Float32Array;
  /** Per token ‖x − x̂‖² / ‖x‖² (NaN for a zero vector). */
  readonly normalizedMse: Float64Array;
  /** Per token 1 − ‖x − x̂‖² / ‖x − x̄‖², x̄ the mean over the document's tokens (NaN for one token). */
  readonly varianceExplained: Float64Array;
  readonly kernel: KernelKind;
  readonly encodeMs: number;
}

/** What an encoding will do: the encoder and its budgets. */
export interface EncodingPlan extends EncoderBudgets {
  readonly encoder: EncoderKind;
}

function positiveIntOption(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < 1) throw new SaeError(`${name} must be a positive integer (got ${v})`);
  return v;
}

/** The encoder, k and m an encoding will use (throws a SaeError when they do not fit the SAE). */
export function planEncoding(sae: Pick<SparseAutoencoder, 'architecture' | 'dSae' | 'k' | 'threshold' | 'path'>, tokenCount: number, options: Pick<EncodeOptions, 'encoder' | 'k' | 'm'> = {}): EncodingPlan {
  const encoder = options.encoder ?? defaultEncoderFor(sae);
  if (!isEncoderKind(encoder)) throw new SaeError(`unknown encoder ${JSON.stringify(encoder)} (one of ${ENCODER_KINDS.join(', ')})`);
  const k = positiveIntOption('k', options.k) ?? sae.k;
  const m = positiveIntOption('m', options.m);
  if (k !== undefined && k > sae.dSae) throw new SaeError(`k = ${k} exceeds the SAE's ${sae.dSae} features`);
  return { encoder, ...encoderDefinition(encoder).plan(sae, tokenCount, { k, m }) };
}

/** Per-token normalization state (what `run_time_activation_norm_fn_out` needs). */
interface Norms {
  readonly mean?: Float64Array;
  readonly std?: Float64Array;
  readonly coeff?: Float64Array;
}

/** Writes the SAE's input for tokens [t0, t0+count) into rows; records what undoing it needs. */
function prepareRows(sae: SparseAutoencoder, x: Float32Array, t0: number, count: number, rows: Float32Array, norms: Norms): void {
  const d = sae.dIn;
  const bDec = sae.bDec;
  for (let i = 0; i < count; i++) {
    const t = t0 + i;
    const src = t * d;
    const dst = i * d;
    let scale = 1;
    let shift = 0;
    switch (sae.normalization) {
      case 'layer_norm': {
        let sum = 0;
        for (let j = 0; j < d; j++) sum += x[src + j];
        const mean = sum / d;
        let ss = 0;
        for (let j = 0; j < d; j++) ss += (x[src + j] - mean) ** 2;
        const std = Math.sqrt(ss / Math.max(1, d - 1)); // torch.std: the unbiased estimate
        (norms.mean as Float64Array)[t] = mean;
        (norms.std as Float64Array)[t] = std;
        shift = mean;
        scale = 1 / (std + LAYER_NORM_EPS);
        break;
      }
      case 'constant_norm_rescale': {
        let ss = 0;
        for (let j = 0; j < d; j++) ss += x[src + j] ** 2;
        const coeff = ss > 0 ? Math.sqrt(d) / Math.sqrt(ss) : 1;
        (norms.coeff as Float64Array)[t] = coeff;
        scale = coeff;
        break;
      }
      case 'expected_average_only_in':
        scale = sae.normScalingFactor ?? 1;
        break;
      case 'none':
        break;
    }
    if (sae.applyBDecToInput) for (let j = 0; j < d; j++) rows[dst + j] = (x[src + j] - shift) * scale - bDec[j];
    else for (let j = 0; j < d; j++) rows[dst + j] = (x[src + j] - shift) * scale;
  }
}

function checkInput(sae: SparseAutoencoder, hidden: Float32Array): number {
  if (hidden.length % sae.dIn !== 0) throw new SaeError(`hidden states of ${hidden.length} values are not rows of width ${sae.dIn} (the SAE's d_in)`);
  const n = hidden.length / sae.dIn;
  for (let i = 0; i < hidden.length; i++) {
    if (!Number.isFinite(hidden[i])) throw new SaeError(`the hidden state of token ${Math.floor(i / sae.dIn)} holds a NaN or infinite value`);
  }
  return n;
}

/**
 * The encoding as steps: each `next()` processes one block of tokens; the last returns the result.
 * `encodeHiddenStates` and `encodeHiddenStatesAsync` drive it.
 */
function* encodeSteps(sae: SparseAutoencoder, hidden: Float32Array, options: EncodeOptions): Generator<number, SaeEncoding, void> {
  const started = performance.now();
  const n = checkInput(sae, hidden);
  const plan = planEncoding(sae, n, options);
  const kind = encoderDefinition(plan.encoder);
  const d = sae.dIn;
  const F = sae.dSae;
  const blockCap = kind.maxBlockTokens?.(plan) ?? Infinity;
  const kernel = createKernel(sae.encoder, options.kernel ?? 'auto', { maxTokens: Math.min(defaultBlockTokens(d), blockCap) });
  const blockTokens = kernel.maxTokens;
  const panelCount = sae.encoder.panelCount;
  const rows = new Float32Array(blockTokens * d);
  const norms: Norms = {
    mean: sae.normalization === 'layer_norm' ? new Float64Array(n) : undefined,
    std: sae.normalization === 'layer_norm' ? new Float64Array(n) : undefined,
    coeff: sae.normalization === 'constant_norm_rescale' ? new Float64Array(n) : undefined,
  };
  const picked = new SelectedEntries();
  // The one place the kind is chosen: the loops below call its run and never look at the kind again.
  const run = kind.start(plan, { selected: picked, dSae: F, blockTokens, threshold: sae.threshold });

  for (let t0 = 0; t0 < n; t0 += blockTokens) {
    const count = Math.min(blockTokens, n - t0);
    prepareRows(sae, hidden, t0, count, rows, norms);
    kernel.setTokens(rows, count);
    for (let p0 = 0; p0 < panelCount; p0 += kernel.maxPanels) {
      const p1 = Math.min(panelCount, p0 + kernel.maxPanels);
      const pre = kernel.compute(p0, p1);
      const f0 = p0 * PANEL_FEATURES;
      run.take(pre, (p1 - p0) * PANEL_FEATURES, Math.min(F, p1 * PANEL_FEATURES) - f0, t0, count, f0);
    }
    run.endBlock?.(t0, count);
    options.onProgress?.(t0 + count, n);
    if (options.isCancelled?.()) throw new EncodeCancelledError();
    yield t0 + count;
  }
  run.drain?.();

  // Rows: counting sort by token, then each row by activation descending, feature ascending.
  const rowStart = new Uint32Array(n + 1);
  for (let e = 0; e < picked.length; e++) rowStart[picked.tokens[e] + 1]++;
  for (let t = 0; t < n; t++) rowStart[t + 1] += rowStart[t];
  const fill = rowStart.slice(0, n);
  const featureIndex = new Uint32Array(picked.length);
  const activation = new Float32Array(picked.length);
  for (let e = 0; e < picked.length; e++) {
    const at = fill[picked.tokens[e]]++;
    featureIndex[at] = picked.features[e];
    activation[at] = picked.values[e];
  }
  const activeCount = new Uint32Array(n);
  for (let t = 0; t < n; t++) {
    const a = rowStart[t];
    const b = rowStart[t + 1];
    sortRow(featureIndex, activation, a, b);
    let active = 0;
    for (let e = a; e < b; e++) if (activation[e] > 0) active++;
    activeCount[t] = active;
  }
  const encodeMs = performance.now() - started;
  const dense = options.decoder === 'dense' || (options.decoder !== 'sparse' && featureIndex.length > (n * F) / DENSE_DECODE_FRACTION);
  const { reconstruction, normalizedMse, varianceExplained } = reconstruct(sae, hidden, n, rowStart, featureIndex, activation, norms, dense ? (options.kernel ?? 'auto') : undefined);
  return {
    encoder: plan.encoder,
    k: plan.k,
    m: plan.m,
    tokenCount: n,
    dIn: d,
    dSae: F,
    rowStart,
    featureIndex,
    activation,
    activeCount,
    reconstruction,
    normalizedMse,
    varianceExplained,
    kernel: kernel.kind,
    encodeMs,
  };
}

const FEATURE_BITS = 2 ** 21;
const sortBits = new Uint32Array(1);
const sortFloat = new Float32Array(sortBits.buffer);

/**
 * Sorts entries [a, b) by activation descending, then feature ascending. Activations are ≥ 0, so a float32's
 * bits order like its value: the key (2^32 − 1 − bits) · 2^21 + feature is an exact double and one native
 * Float64Array sort does it (for up to 2^21 features; beyond, a comparator sort).
 */
function sortRow(features: Uint32Array, acts: Float32Array, a: number, b: number): void {
  const len = b - a;
  if (len < 2) return;
  let maxFeature = 0;
  for (let e = a; e < b; e++) if (features[e] > maxFeature) maxFeature = features[e];
  if (maxFeature < FEATURE_BITS) {
    const keys = new Float64Array(len);
    for (let i = 0; i < len; i++) {
      sortFloat[0] = acts[a + i];
      keys[i] = (0xffffffff - sortBits[0]) * FEATURE_BITS + features[a + i];
    }
    keys.sort();
    for (let i = 0; i < len; i++) {
      const hi = Math.floor(keys[i] / FEATURE_BITS);
      features[a + i] = keys[i] - hi * FEATURE_BITS;
      sortBits[0] = 0xffffffff - hi;
      acts[a + i] = sortFloat[0];
    }
    return;
  }
  const order = Array.from({ length: len }, (_, i) => a + i);
  order.sort((i, j) => acts[j] - acts[i] || features[i] - features[j]);
  const f = order.map((i) => features[i]);
  const v = order.map((i) => acts[i]);
  features.set(f, a);
  acts.set(v, a);
}

/** Tokens decoded together: each decoder row is read once per block, not once per token. */
const DECODE_BLOCK_TOKENS = 64;
/** Above one selected entry in this many of the n × F matrix, decode densely with the kernel. */
const DENSE_DECODE_FRACTION = 64;

const packedDecoders = new WeakMap<SparseAutoencoder, PackedEncoder>();

/** W_dec and b_dec packed as the kernel's "encoder" of the activations: x̂ = act W_dec + b_dec. */
function packedDecoder(sae: SparseAutoencoder): PackedEncoder {
  let p = packedDecoders.get(sae);
  if (!p) {
    p = packEncoder(sae.wDec, sae.bDec, sae.dSae, sae.dIn, 'in-sae');
    packedDecoders.set(sae, p);
  }
  return p;
}

/** x̂ in the SAE's space for every token, by the kernel over dense blocks of activations. */
function denseDecode(sae: SparseAutoencoder, n: number, rowStart: Uint32Array, featureIndex: Uint32Array, activation: Float32Array, kind: KernelKind | 'auto'): Float32Array {
  const dec = packedDecoder(sae);
  // Dense rows of F activations: blocks of up to 64 tokens, about 8 MiB at most.
  const kernel = createKernel(dec, kind, { maxTokens: Math.min(DECODE_BLOCK_TOKENS, Math.floor((8 << 20) / (4 * sae.dSae))) });
  const F = sae.dSae;
  const d = sae.dIn;
  const rows = new Float32Array(kernel.maxTokens * F);
  const out = new Float32Array(n * d);
  for (let t0 = 0; t0 < n; t0 += kernel.maxTokens) {
    const count = Math.min(kernel.maxTokens, n - t0);
    rows.fill(0);
    for (let i = 0; i < count; i++) for (let e = rowStart[t0 + i]; e < rowStart[t0 + i + 1]; e++) rows[i * F + featureIndex[e]] = activation[e];
    kernel.setTokens(rows, count);
    for (let p0 = 0; p0 < dec.panelCount; p0 += kernel.maxPanels) {
      const p1 = Math.min(dec.panelCount, p0 + kernel.maxPanels);
      const part = kernel.compute(p0, p1);
      const width = (p1 - p0) * PANEL_FEATURES;
      const j0 = p0 * PANEL_FEATURES;
      const valid = Math.min(d, p1 * PANEL_FEATURES) - j0;
      for (let i = 0; i < count; i++) for (let c = 0; c < valid; c++) out[(t0 + i) * d + j0 + c] = part[i * width + c];
    }
  }
  return out;
}

/** Adds b_dec + Σ act·W_dec[f] for tokens [t0, t0+count) into acc, feature by feature (a counting sort by feature). */
function sparseDecodeBlock(
  sae: SparseAutoencoder,
  t0: number,
  count: number,
  rowStart: Uint32Array,
  featureIndex: Uint32Array,
  activation: Float32Array,
  acc: Float64Array,
  perFeature: Uint32Array,
): void {
  const d = sae.dIn;
  const wDec = sae.wDec;
  for (let i = 0; i < count; i++) acc.set(sae.bDec, i * d);
  const e0 = rowStart[t0];
  const e1 = rowStart[t0 + count];
  perFeature.fill(0);
  for (let e = e0; e < e1; e++) perFeature[featureIndex[e] + 1]++;
  for (let f = 0; f < sae.dSae; f++) perFeature[f + 1] += perFeature[f];
  const order = new Uint32Array(e1 - e0);
  const fill = perFeature.slice(0, sae.dSae);
  for (let e = e0; e < e1; e++) order[fill[featureIndex[e]]++] = e;
  const tokenOf = new Uint8Array(e1 - e0);
  for (let i = 0; i < count; i++) tokenOf.fill(i, rowStart[t0 + i] - e0, rowStart[t0 + i + 1] - e0);
  for (let o = 0; o < order.length; o++) {
    const e = order[o];
    const a = activation[e];
    if (a === 0) continue;
    const w = featureIndex[e] * d;
    const base = tokenOf[e - e0] * d;
    for (let j = 0; j < d; j++) acc[base + j] += a * wDec[w + j];
  }
}

function reconstruct(
  sae: SparseAutoencoder,
  x: Float32Array,
  n: number,
  rowStart: Uint32Array,
  featureIndex: Uint32Array,
  activation: Float32Array,
  norms: Norms,
  denseKernel: KernelKind | 'auto' | undefined,
): { reconstruction: Float32Array; normalizedMse: Float64Array; varianceExplained: Float64Array } {
  const d = sae.dIn;
  const dense = denseKernel !== undefined ? denseDecode(sae, n, rowStart, featureIndex, activation, denseKernel) : undefined;
  const reconstruction = new Float32Array(n * d);
  const normalizedMse = new Float64Array(n);
  const varianceExplained = new Float64Array(n);
  const mean = new Float64Array(d);
  for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) mean[j] += x[t * d + j];
  for (let j = 0; j < d; j++) mean[j] /= Math.max(1, n);
  const B = DECODE_BLOCK_TOKENS;
  const acc = new Float64Array(B * d);
  const perFeature = new Uint32Array(sae.dSae + 1);
  for (let t0 = 0; t0 < n; t0 += B) {
    const count = Math.min(B, n - t0);
    if (dense) for (let i = 0; i < count * d; i++) acc[i] = dense[t0 * d + i];
    else sparseDecodeBlock(sae, t0, count, rowStart, featureIndex, activation, acc, perFeature);
    for (let i = 0; i < count; i++) {
      const t = t0 + i;
      // Undo the input normalization (run_time_activation_norm_fn_out).
      let mul = 1;
      let add = 0;
      if (sae.normalization === 'layer_norm') {
        mul = (norms.std as Float64Array)[t];
        add = (norms.mean as Float64Array)[t];
      } else if (sae.normalization === 'constant_norm_rescale') mul = 1 / (norms.coeff as Float64Array)[t];
      else if (sae.normalization === 'expected_average_only_in') mul = 1 / (sae.normScalingFactor ?? 1);
      let err = 0;
      let energy = 0;
      let spread = 0;
      for (let j = 0; j < d; j++) {
        const r = acc[i * d + j] * mul + add;
        reconstruction[t * d + j] = r;
        const xv = x[t * d + j];
        err += (xv - r) ** 2;
        energy += xv * xv;
        spread += (xv - mean[j]) ** 2;
      }
      normalizedMse[t] = energy > 0 ? err / energy : NaN;
      varianceExplained[t] = spread > 0 ? 1 - err / spread : NaN;
    }
  }
  return { reconstruction, normalizedMse, varianceExplained };
}

/**
 * Encodes hidden states [n, d_in] (row-major Float32Array, one row per token) with the SAE. Synchronous;
 * see `encodeHiddenStatesAsync` for one that yields between blocks of tokens.
 */
export function encodeHiddenStates(sae: SparseAutoencoder, hidden: Float32Array, options: EncodeOptions = {}): SaeEncoding {
  const steps = encodeSteps(sae, hidden, options);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** As `encodeHiddenStates`, yielding to the event loop after each block of tokens; `signal` cancels. */
export async function encodeHiddenStatesAsync(sae: SparseAutoencoder, hidden: Float32Array, options: EncodeOptions & { readonly signal?: AbortSignal } = {}): Promise<SaeEncoding> {
  const steps = encodeSteps(sae, hidden, { ...options, isCancelled: () => options.signal?.aborted === true || options.isCancelled?.() === true });
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await yieldToEventLoop();
  }
}

// ---------------------------------------------------------------------------------------------- reading results

export interface FeatureActivation {
  readonly index: number;
  readonly activation: number;
}

/** Token t's selected features, by activation (descending). */
export function tokenFeatures(enc: SaeEncoding, t: number): FeatureActivation[] {
  const out: FeatureActivation[] = [];
  for (let e = enc.rowStart[t]; e < enc.rowStart[t + 1]; e++) out.push({ index: enc.featureIndex[e], activation: enc.activation[e] });
  return out;
}

export function selectedCount(enc: SaeEncoding, t: number): number {
  return enc.rowStart[t + 1] - enc.rowStart[t];
}

export interface FeatureTotal {
  readonly index: number;
  /** Sum of the feature's activations over the document. */
  readonly totalActivation: number;
  /** Tokens where it is active (activation > 0). */
  readonly activeTokens: number;
  readonly maxActivation: number;
}

/** Features ranked by total activation over the document (the document-level list). */
export function featureTotals(enc: SaeEncoding): FeatureTotal[] {
  const total = new Float64Array(enc.dSae);
  const tokens = new Uint32Array(enc.dSae);
  const max = new Float32Array(enc.dSae);
  for (let e = 0; e < enc.featureIndex.length; e++) {
    const a = enc.activation[e];
    if (a <= 0) continue;
    const f = enc.featureIndex[e];
    total[f] += a;
    tokens[f]++;
    if (a > max[f]) max[f] = a;
  }
  const out: FeatureTotal[] = [];
  for (let f = 0; f < enc.dSae; f++) if (tokens[f] > 0) out.push({ index: f, totalActivation: total[f], activeTokens: tokens[f], maxActivation: max[f] });
  return out.sort((a, b) => b.totalActivation - a.totalActivation || a.index - b.index);
}

export { featureAcrossTokens } from './rows';
