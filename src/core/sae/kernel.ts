/**
 * The encoder's matrix product, the one expensive step: pre-activations `x W_enc + b_enc` for a block of
 * tokens against a chunk of features. The encoder is stored once, packed in panels of 8 features
 * ([panel][d_in][8]) so that both kernels read it sequentially. Two kernels compute the same thing:
 * WebAssembly SIMD (gemm.wat; about 5x faster) and plain TypeScript where WebAssembly SIMD is missing.
 */
import { SaeError } from './errors';
import { GEMM_WASM_BASE64 } from './gemmWasm';

/** Features per panel (two f32x4 vectors). */
export const PANEL_FEATURES = 8;

export interface PackedEncoder {
  readonly dIn: number;
  readonly dSae: number;
  readonly panelCount: number;
  /** [panelCount, dIn, 8]; features past dSae are zero. */
  readonly weights: Float32Array;
  /** [panelCount * 8]; zero past dSae. */
  readonly bias: Float32Array;
}

/**
 * Packs an encoder matrix. `layout` says how `w` is stored: 'in-sae' is [dIn, dSae] (SAELens W_enc,
 * Gemma Scope W_enc), 'sae-in' is [dSae, dIn] (sparsify's encoder.weight, torch Linear).
 */
export function packEncoder(w: Float32Array, bias: Float32Array, dIn: number, dSae: number, layout: 'in-sae' | 'sae-in'): PackedEncoder {
  if (w.length !== dIn * dSae) throw new SaeError(`internal: encoder has ${w.length} values, expected ${dIn} x ${dSae}`);
  const panelCount = Math.ceil(dSae / PANEL_FEATURES);
  const weights = new Float32Array(panelCount * dIn * PANEL_FEATURES);
  const packedBias = new Float32Array(panelCount * PANEL_FEATURES);
  packedBias.set(bias.subarray(0, dSae));
  for (let p = 0; p < panelCount; p++) {
    const f0 = p * PANEL_FEATURES;
    const width = Math.min(PANEL_FEATURES, dSae - f0);
    const base = p * dIn * PANEL_FEATURES;
    if (layout === 'in-sae') {
      for (let j = 0; j < dIn; j++) {
        const src = j * dSae + f0;
        const dst = base + j * PANEL_FEATURES;
        for (let c = 0; c < width; c++) weights[dst + c] = w[src + c];
      }
    } else {
      for (let c = 0; c < width; c++) {
        const src = (f0 + c) * dIn;
        for (let j = 0; j < dIn; j++) weights[base + j * PANEL_FEATURES + c] = w[src + j];
      }
    }
  }
  return { dIn, dSae, panelCount, weights, bias: packedBias };
}

/** The encoder weight of input dimension j and feature f (for tests and checks). */
export function packedWeight(enc: PackedEncoder, j: number, f: number): number {
  const p = Math.floor(f / PANEL_FEATURES);
  return enc.weights[(p * enc.dIn + j) * PANEL_FEATURES + (f % PANEL_FEATURES)];
}

export type KernelKind = 'wasm' | 'js';

export interface PreActivationKernel {
  readonly kind: KernelKind;
  /** Most tokens one `setTokens` takes (a multiple of 4). */
  readonly maxTokens: number;
  /** Most panels one `compute` takes. */
  readonly maxPanels: number;
  /** Loads `tokenCount` preprocessed rows [tokenCount, dIn] (row-major). */
  setTokens(rows: Float32Array, tokenCount: number): void;
  /**
   * Pre-activations of the loaded tokens for panels [panel0, panel1): a row-major view
   * [tokenCount, (panel1 - panel0) * 8], valid until the next call.
   */
  compute(panel0: number, panel1: number): Float32Array;
}

export interface KernelShape {
  /** Tokens per block (default: rows of about 1 MiB together, at most 512). */
  readonly maxTokens?: number;
}

/** Tokens per block by default: rows of about 1 MiB together (cache-sized), at most 512, a multiple of 4. */
export function defaultBlockTokens(dIn: number): number {
  return Math.max(4, Math.min(512, Math.floor((1 << 20) / (4 * dIn)) & ~3));
}

/** A token block as asked (rounded down to a multiple of 4) or the default; a chunk of panels near 2 MiB. */
function blockSizes(dIn: number, panelCount: number, shape: KernelShape = {}): { maxTokens: number; maxPanels: number } {
  const maxTokens = shape.maxTokens !== undefined ? Math.max(4, shape.maxTokens & ~3) : defaultBlockTokens(dIn);
  const maxPanels = Math.max(1, Math.min(panelCount, Math.floor((2 << 20) / (4 * PANEL_FEATURES * dIn))));
  return { maxTokens, maxPanels };
}

let wasmModule: WebAssembly.Module | null | undefined;

/** The compiled module, or null where this runtime lacks WebAssembly SIMD. */
function gemmModule(): WebAssembly.Module | null {
  if (wasmModule === undefined) {
    try {
      const bytes = Uint8Array.from(atob(GEMM_WASM_BASE64), (c) => c.charCodeAt(0));
      wasmModule = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      wasmModule = null;
    }
  }
  return wasmModule;
}

export function wasmSimdAvailable(): boolean {
  return gemmModule() !== null;
}

/** A kernel for `enc`: WebAssembly SIMD when available (or asked for), else TypeScript. */
export function createKernel(enc: PackedEncoder, kind: KernelKind | 'auto' = 'auto', shape: KernelShape = {}): PreActivationKernel {
  if (kind === 'js') return jsKernel(enc, shape);
  const mod = gemmModule();
  if (mod) return wasmKernel(enc, mod, shape);
  if (kind === 'wasm') throw new SaeError('this runtime has no WebAssembly SIMD');
  return jsKernel(enc, shape);
}

const PAGE_BYTES = 65536;

function wasmKernel(enc: PackedEncoder, mod: WebAssembly.Module, shape: KernelShape): PreActivationKernel {
  const { maxTokens, maxPanels } = blockSizes(enc.dIn, enc.panelCount, shape);
  const instance = new WebAssembly.Instance(mod, {});
  const memory = instance.exports.memory as WebAssembly.Memory;
  const gemm = instance.exports.gemm as (x: number, wp: number, bias: number, out: number, nTok: number, d: number, nPanels: number, outStride: number) => void;
  const d = enc.dIn;
  const xBytes = maxTokens * d * 4;
  const wBytes = maxPanels * PANEL_FEATURES * d * 4;
  const biasBytes = maxPanels * PANEL_FEATURES * 4;
  const outBytes = maxTokens * maxPanels * PANEL_FEATURES * 4;
  const xAt = 0;
  const wAt = xAt + xBytes;
  const biasAt = wAt + wBytes;
  const outAt = biasAt + biasBytes;
  const total = outAt + outBytes;
  const havePages = memory.buffer.byteLength / PAGE_BYTES;
  const needPages = Math.ceil(total / PAGE_BYTES);
  if (needPages > havePages) memory.grow(needPages - havePages);
  const heap = new Float32Array(memory.buffer);
  let tokens = 0;
  let paddedTokens = 0;
  return {
    kind: 'wasm',
    maxTokens,
    maxPanels,
    setTokens(rows, tokenCount) {
      checkTokens(tokenCount, maxTokens);
      tokens = tokenCount;
      paddedTokens = (tokenCount + 3) & ~3;
      heap.set(rows.subarray(0, tokenCount * d), xAt / 4);
      heap.fill(0, xAt / 4 + tokenCount * d, xAt / 4 + paddedTokens * d);
    },
    compute(panel0, panel1) {
      const panels = checkPanels(panel0, panel1, maxPanels);
      heap.set(enc.weights.subarray(panel0 * d * PANEL_FEATURES, panel1 * d * PANEL_FEATURES), wAt / 4);
      heap.set(enc.bias.subarray(panel0 * PANEL_FEATURES, panel1 * PANEL_FEATURES), biasAt / 4);
      const width = panels * PANEL_FEATURES;
      gemm(xAt, wAt, biasAt, outAt, paddedTokens, d, panels, width * 4);
      return heap.subarray(outAt / 4, outAt / 4 + tokens * width);
    },
  };
}

/** The kernels' contract with the encoder: a block fits what was sized for it (a failure is a bug here). */
function checkTokens(tokenCount: number, maxTokens: number): void {
  if (tokenCount > maxTokens) throw new SaeError(`internal: ${tokenCount} tokens in one block (max ${maxTokens})`);
}

function checkPanels(panel0: number, panel1: number, maxPanels: number): number {
  const panels = panel1 - panel0;
  if (panels < 1 || panels > maxPanels) throw new SaeError(`internal: ${panels} panels in one call (max ${maxPanels})`);
  return panels;
}

function jsKernel(enc: PackedEncoder, shape: KernelShape): PreActivationKernel {
  const { maxTokens, maxPanels } = blockSizes(enc.dIn, enc.panelCount, shape);
  const d = enc.dIn;
  const x = new Float32Array(maxTokens * d);
  const out = new Float32Array(maxTokens * maxPanels * PANEL_FEATURES);
  const w = enc.weights;
  let tokens = 0;
  return {
    kind: 'js',
    maxTokens,
    maxPanels,
    setTokens(rows, tokenCount) {
      checkTokens(tokenCount, maxTokens);
      tokens = tokenCount;
      x.set(rows.subarray(0, tokenCount * d));
    },
    compute(panel0, panel1) {
      const panels = checkPanels(panel0, panel1, maxPanels);
      const width = panels * PANEL_FEATURES;
      for (let p = 0; p < panels; p++) {
        const wBase = (panel0 + p) * d * PANEL_FEATURES;
        const bBase = (panel0 + p) * PANEL_FEATURES;
        for (let i = 0; i < tokens; i++) {
          const xBase = i * d;
          // f32 accumulation in the same order as the SIMD kernel: j ascending, one sum per feature.
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
          for (let j = 0, q = wBase; j < d; j++, q += PANEL_FEATURES) {
            const v = x[xBase + j];
            s0 = Math.fround(s0 + Math.fround(v * w[q]));
            s1 = Math.fround(s1 + Math.fround(v * w[q + 1]));
            s2 = Math.fround(s2 + Math.fround(v * w[q + 2]));
            s3 = Math.fround(s3 + Math.fround(v * w[q + 3]));
            s4 = Math.fround(s4 + Math.fround(v * w[q + 4]));
            s5 = Math.fround(s5 + Math.fround(v * w[q + 5]));
            s6 = Math.fround(s6 + Math.fround(v * w[q + 6]));
            s7 = Math.fround(s7 + Math.fround(v * w[q + 7]));
          }
          const o = i * width + p * PANEL_FEATURES;
          out[o] = s0 + enc.bias[bBase];
          out[o + 1] = s1 + enc.bias[bBase + 1];
          out[o + 2] = s2 + enc.bias[bBase + 2];
          out[o + 3] = s3 + enc.bias[bBase + 3];
          out[o + 4] = s4 + enc.bias[bBase + 4];
          out[o + 5] = s5 + enc.bias[bBase + 5];
          out[o + 6] = s6 + enc.bias[bBase + 6];
          out[o + 7] = s7 + enc.bias[bBase + 7];
        }
      }
      return out.subarray(0, tokens * width);
    },
  };
}
