/** The workspace feature index: top contexts, histograms and frequencies per feature, logit effects, labels. */
export { FeatureIndex, DEFAULT_CONTEXTS_KEPT, DEFAULT_CONTEXTS_SHOWN, WINDOW_SIDE_TOKENS, type FeatureIndexSource, type FeatureSummary, type FileActivations, type IndexedFile } from './featureIndex';
export { TopContexts, compareContexts, type ContextKey, type FeatureContext } from './topContexts';
export { HISTOGRAM_BINS, histogramBin, histogramBinStart, histogramBinEnd } from './histogram';
export { listIndexFiles, updateIndex, fileActivations, contentHash, type IndexFile, type IndexModel, type IndexProgress, type IndexRunOptions, type IndexRunResult } from './buildIndex';
export { saveIndex, loadIndex, indexToJson, indexFromJson, type StoredIndex } from './indexStore';
export { readUnembedding, type Unembedding, type FinalNorm } from './unembedding';
export { logitEffects, logitEffectVector, directionThroughNorm, decoderRow, LOGIT_EFFECTS_APPROXIMATION, type LogitEffects, type TokenEffect } from './logitEffects';
export { automaticLabel } from './autoLabel';
export {
  featureReport,
  featureEffects,
  allFeatureEffects,
  searchFeatures,
  labelOf,
  vocabText,
  EFFECT_TOKENS,
  type FeatureReport,
  type ReportOptions,
  type FeatureMatch,
  type FeatureLabelJson,
  type StoredLogitEffects,
  type FeatureEffectsJson,
} from './featureReport';
