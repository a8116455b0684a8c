/**
 * Where hidden states come from: a model that runs token ids and reports the activations at a hook.
 * The ONNX model path (src/core/lm/onnx) implements it; a saved [n_tokens, d] .npy matrix is the other way in.
 */
export interface HiddenStates {
  /** [n_tokens, dModel], row-major. */
  readonly data: Float32Array;
  readonly dModel: number;
}

export interface HiddenStateOptions {
  readonly signal?: AbortSignal;
  /** Tokens done so far, of `totalTokens` (long documents are read in windows). */
  readonly onProgress?: (doneTokens: number, totalTokens: number) => void;
  /** ids[0] is a start token (BOS) that every window of a long document begins with. */
  readonly repeatFirstToken?: boolean;
}

export interface HiddenStateSource {
  /** The model's name, for messages. */
  readonly modelName?: string;
  /** TransformerLens hook names the source can report (for validateAgainstModel). */
  readonly availableHooks?: readonly string[];
  /** The hidden states at `hook` for `tokenIds` (the ids the model sees, BOS included when it takes one). */
  hiddenStates(tokenIds: Uint32Array, hook: string, options?: HiddenStateOptions): Promise<HiddenStates>;
}
