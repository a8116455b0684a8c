/** Sparse autoencoders: loading the published formats, encoding hidden states, labels, model checks. */
export { SaeError } from './errors';
export type { SparseAutoencoder, SaeArchitecture, SaeFormat, SaeNormalization, WeightDtype } from './types';
export { defaultEncoderFor } from './types';
export { loadSae, findSaeFolders, resolveHfCacheFolder, hfRepoIdOfPath, gemmaScopeHookFromPath, parseSaeLensConfig, readNpz, readNpzBytes, type LoadSaeOptions } from './loader';
export {
  encodeHiddenStates,
  encodeHiddenStatesAsync,
  planEncoding,
  tokenFeatures,
  selectedCount,
  featureTotals,
  featureAcrossTokens,
  EncodeCancelledError,
  ENCODER_KINDS,
  LAYER_NORM_EPS,
  type EncoderKind,
  type EncodeOptions,
  type EncodingPlan,
  type SaeEncoding,
  type FeatureActivation,
  type FeatureTotal,
} from './encode';
export { loadFeatureLabels, parseFeatureLabels, featureDisplayName, checkLabelsFit, type FeatureLabels, type LabelOptions } from './labels';
export { validateAgainstModel, parseHookName, hookName, residualHooks, hookFromModulePath, type ModelHookInfo, type ParsedHook, type HookSite } from './hooks';
export { readNpy, encodeNpy, type NpyArray } from './npy';
export { openSafetensors, type SafetensorsFile, type TensorInfo } from './safetensors';
export { fileSource, memorySource, type ByteSource } from './bytes';
export { wasmSimdAvailable, type KernelKind } from './kernel';
export type { HiddenStateOptions, HiddenStateSource, HiddenStates } from './hidden';
