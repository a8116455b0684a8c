/** ONNX causal language models (transformers.js on onnxruntime-node); see docs/RUNTIME.md. */
export { OnnxCausalLM } from './onnxModel';
export { GRAPH_BASES, ModelError, ONNX_DTYPES, isOnnxDtype, onnxFileName, readModelConfig, resolveModelFolder, type GraphBase, type ModelConfig, type OnnxDtype } from './folder';
export { distributionStats, LogitsDistribution, logSumExp, rankOf, rowStats, topK } from './distribution';
export { defaultThreads } from './runtime';
export { loadOnnxModel, type ModelSource } from './load';
export { loadOnnxHiddenStates, OnnxHiddenStates, planWindows } from './hiddenStates';
export { buildTapModel, decodeModel, GraphTaps, graphSignature, locateHooks, tapFilePath, type BlockLayout } from './taps';
