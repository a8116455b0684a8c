/** ONNX causal language models (transformers.js on onnxruntime-node); see docs/RUNTIME.md. */
export { OnnxCausalLM, type OnnxLoadOptions, type OnnxModelInfo, type ScoredTokens, type ScoreOptions } from './onnxModel';
export { GRAPH_BASES, ModelError, ONNX_DTYPES, isOnnxDtype, onnxFileName, readModelConfig, resolveModelFolder, type GraphBase, type ModelConfig, type OnnxDtype } from './folder';
export { distributionStats, LogitsDistribution, logSumExp, rankOf, rowStats, softmax, topK, type DistributionStats, type RowStats } from './distribution';
export { defaultThreads } from './runtime';
export { loadOnnxModel, type ModelSource } from './load';
export { loadOnnxHiddenStates, OnnxHiddenStates, planWindows, type HiddenWindow, type OnnxHiddenStatesSource } from './hiddenStates';
export { buildTapModel, decodeModel, GraphTaps, graphSignature, locateHooks, tapFilePath, type BlockLayout, type GraphHooks, type TapGraph } from './taps';
