import { availableParallelism } from 'node:os';

/**
 * Threads for one model: ONNX Runtime's default (every core) competes with the editor and the tokenization
 * worker, and on the measured shapes 2-4 threads were within noise of all cores (docs/RUNTIME.md).
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
