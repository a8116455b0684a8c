/** The loaded form of a sparse autoencoder, whatever file format it came from. */
import type { PackedEncoder } from './kernel';

export type SaeFormat = 'saelens' | 'sparsify' | 'gemma-scope';
/** The activation the SAE was trained with (SAELens's `architecture`). */
export type SaeArchitecture = 'standard' | 'jumprelu' | 'topk';
/** SAELens's `normalize_activations`. */
export type SaeNormalization = 'none' | 'expected_average_only_in' | 'constant_norm_rescale' | 'layer_norm';
/** Element type of the stored weights (all are converted to Float32). */
export type WeightDtype = 'F32' | 'F16' | 'BF16' | 'F64';

export interface SparseAutoencoder {
  readonly format: SaeFormat;
  readonly architecture: SaeArchitecture;
  /** Width of the hidden state the SAE reads. */
  readonly dIn: number;
  /** Number of features (latents). */
  readonly dSae: number;
  /** W_enc and b_enc, packed for the kernels (see kernel.ts). */
  readonly encoder: PackedEncoder;
  /** W_dec [dSae, dIn], row-major: row f is feature f's direction. */
  readonly wDec: Float32Array;
  /** b_dec [dIn]. */
  readonly bDec: Float32Array;
  /** JumpReLU thresholds θ [dSae] (jumprelu SAEs). */
  readonly threshold?: Float32Array;
  /** Features per token of a TopK SAE. */
  readonly k?: number;
  /** Subtract b_dec from the (normalized) input before encoding. */
  readonly applyBDecToInput: boolean;
  readonly normalization: SaeNormalization;
  /** For `expected_average_only_in`: the input is multiplied by this before encoding, the output divided. */
  readonly normScalingFactor?: number;
  /** TransformerLens hook the SAE reads, when known. */
  readonly hook?: string;
  readonly modelName?: string;
  /** `{modelId}/{sourceId}` on Neuronpedia (the join key for feature labels). */
  readonly neuronpediaId?: string;
  /** The SAE was trained with a BOS token in front of every context. */
  readonly prependBos?: boolean;
  /** Training context length in tokens. */
  readonly contextSizeTokens?: number;
  readonly storedDtype: WeightDtype;
  /** The folder or file it was loaded from. */
  readonly path: string;
  /** The Hugging Face repository id, when loaded from the Hugging Face cache. */
  readonly repoId?: string;
}

/** How the SAE's architecture maps to an encoder by default. */
export function defaultEncoderFor(sae: Pick<SparseAutoencoder, 'architecture'>): 'relu' | 'jumprelu' | 'topk' {
  return sae.architecture === 'standard' ? 'relu' : sae.architecture;
}
