/**
 * The one place that touches `@huggingface/transformers` (and through it ONNX Runtime, native or WASM: see
 * backend.ts): load a causal LM from a local folder, never from the network, and run one forward step with a
 * KV cache.
 *
 * transformers.js picks the graph file for the dtype, reads config.json, builds the session and names the
 * cache inputs of each architecture (`past_key_values.{i}.key|value`, merged decoders' `use_cache_branch`,
 * `num_logits_to_keep`); this module only feeds token ids and positions and takes `logits` and `present.*`.
 */
import { resolve } from 'node:path';
import { onnxBackend, type OnnxBackendKind } from './backend';
import { ModelError, type GraphBase, type OnnxDtype } from './folder';
import { toFloat32 } from './tensors';
import { defaultThreads } from './threads';

export { defaultThreads };

/** A tensor as transformers.js hands it over (CPU data). */
export interface RuntimeTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number> | ArrayLike<bigint>;
}

/** Cache tensors keyed by the graph's input names (`past_key_values.0.key`, …). */
export type PastState = Readonly<Record<string, RuntimeTensor>>;

export interface ForwardResult {
  /** [1, T, vocab] logits as float32. */
  readonly logits: Float32Array;
  readonly vocab: number;
  readonly tokens: number;
  /** The cache after this step, keyed as inputs for the next step. */
  readonly past: PastState;
}

export interface RuntimeModel {
  /** Which ONNX Runtime runs it (the process's choice, backend.ts). */
  readonly runtime: OnnxBackendKind;
  /** Runs `ids` at positions `start…` after `past` (which holds positions 0…start-1). */
  forward(ids: ArrayLike<number>, start: number, past: PastState | undefined): Promise<ForwardResult>;
  /** Cuts a cache to its first `length` positions (a copy); undefined when this model's cache cannot be cut. */
  truncate(past: PastState, length: number): PastState | undefined;
  dispose(): Promise<void>;
}

export interface RuntimeOptions {
  readonly dtype: OnnxDtype;
  /** The graph's name under onnx/ (default `model`). */
  readonly graph?: GraphBase;
  /** ONNX Runtime intra-op threads; default: see `defaultThreads`. */
  readonly threads?: number;
}

interface TfTensorCtor {
  new (type: string, data: ArrayLike<number> | ArrayLike<bigint>, dims: number[]): RuntimeTensor;
}
interface TfModel {
  forward(inputs: Record<string, RuntimeTensor | Record<string, RuntimeTensor>>): Promise<Record<string, RuntimeTensor>>;
  dispose(): Promise<unknown>;
}
interface TfModule {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; useFSCache: boolean; useBrowserCache: boolean; fetch: (url: string | URL) => Promise<unknown> };
  Tensor: TfTensorCtor;
  AutoModelForCausalLM: {
    from_pretrained(id: string, options: Record<string, unknown>): Promise<TfModel>;
  };
}

let tfPromise: Promise<TfModule> | undefined;

/** Imports transformers.js once, configured for local files only. */
async function transformers(): Promise<TfModule> {
  if (!tfPromise) {
    tfPromise = (async () => {
      let mod: unknown;
      try {
        // The runtime is chosen before transformers.js is evaluated: it takes a WASM runtime only if one is set by then.
        onnxBackend();
        mod = await import('@huggingface/transformers');
      } catch (e) {
        throw new ModelError(`the ONNX runtime cannot be loaded on ${process.platform}-${process.arch}: ${(e as Error).message}`);
      }
      const tf = mod as TfModule;
      // Downloads are this project's own (core/models/download.ts), written into the Hugging Face cache layout;
      // transformers.js only ever reads the resolved local folder.
      tf.env.allowRemoteModels = false;
      tf.env.allowLocalModels = true;
      tf.env.useFSCache = false;
      tf.env.useBrowserCache = false;
      // And should it ever try anyway, it fails here instead of reaching the network.
      tf.env.fetch = (url) => Promise.reject(new ModelError(`transformers.js tried to fetch ${String(url)}; model files are read from the local folder only`));
      return tf;
    })();
    tfPromise.catch(() => (tfPromise = undefined));
  }
  return tfPromise;
}

const PAST_NAME = /^past_key_values\.\d+\.(key|value)$/;

type NumericArray = Float32Array | Float64Array | Uint16Array | Int32Array | Int8Array | Uint8Array;
function isNumericArray(x: unknown): x is NumericArray {
  return x instanceof Float32Array || x instanceof Float64Array || x instanceof Uint16Array || x instanceof Int32Array || x instanceof Int8Array || x instanceof Uint8Array;
}

/** Loads `folder` (absolute) with transformers.js, fp32 by default, local files only. */
export async function loadRuntimeModel(folder: string, options: RuntimeOptions): Promise<RuntimeModel> {
  const tf = await transformers();
  const runtime = onnxBackend().kind;
  const threads = options.threads ?? defaultThreads();
  let model: TfModel;
  try {
    // An absolute path is not a hub id, so transformers.js reads it as it is (env.localModelPath is not used).
    model = await tf.AutoModelForCausalLM.from_pretrained(resolve(folder), {
      dtype: options.dtype,
      model_file_name: options.graph ?? 'model',
      local_files_only: true,
      // With a runtime handed over, transformers.js knows no device names ('cpu' is refused): 'auto' plus the
      // WASM provider. The WASM runtime's threads are set once for the process (backend.ts).
      ...(runtime === 'native'
        ? { device: 'cpu', session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } }
        : { device: 'auto', session_options: { executionProviders: ['wasm'] } }),
    });
  } catch (e) {
    throw new ModelError(`cannot load the ONNX model in ${folder}: ${(e as Error).message}`);
  }
  const { Tensor } = tf;
  let cuttable = true;
  let checkedNames = false;

  const i64 = (values: readonly number[], dims: number[]) => new Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);

  return {
    runtime,
    async forward(ids, start, past) {
      const n = ids.length;
      if (n === 0) throw new Error('forward: no tokens');
      const idList = Array.from(ids);
      const inputs: Record<string, RuntimeTensor | Record<string, RuntimeTensor>> = {
        input_ids: i64(idList, [1, n]),
        attention_mask: i64(new Array<number>(start + n).fill(1), [1, start + n]),
        position_ids: i64(
          idList.map((_, i) => start + i),
          [1, n],
        ),
      };
      if (past && Object.keys(past).length) inputs.past_key_values = { ...past };
      let out: Record<string, RuntimeTensor>;
      try {
        out = await model.forward(inputs);
      } catch (e) {
        throw new ModelError(`the ONNX model failed to run: ${(e as Error).message}`);
      }
      const logitsT = out.logits;
      if (!logitsT || logitsT.dims.length !== 3 || logitsT.dims[1] !== n) throw new ModelError(`the ONNX model returned no [1, ${n}, vocab] logits`);
      const nextPast: Record<string, RuntimeTensor> = {};
      for (const name of Object.keys(out)) {
        if (!name.startsWith('present')) continue;
        const inputName = name.replace(/^present/, 'past_key_values');
        nextPast[inputName] = out[name];
        if (!checkedNames) cuttable &&= PAST_NAME.test(inputName) && out[name].dims.length === 4 && isNumericArray(out[name].data);
      }
      checkedNames = true;
      return { logits: toFloat32(logitsT.type, logitsT.data, 'the logits'), vocab: logitsT.dims[2], tokens: n, past: nextPast };
    },

    truncate(pastState, length) {
      if (!cuttable) return undefined;
      const outState: Record<string, RuntimeTensor> = {};
      for (const [name, t] of Object.entries(pastState)) {
        const [b, h, s, d] = t.dims;
        if (length > s || !isNumericArray(t.data)) return undefined;
        if (length === s) {
          outState[name] = t;
          continue;
        }
        const src = t.data;
        const Ctor = src.constructor as new (n: number) => NumericArray;
        const dst = new Ctor(b * h * length * d);
        for (let bh = 0; bh < b * h; bh++) dst.set(src.subarray(bh * s * d, bh * s * d + length * d), bh * length * d);
        outState[name] = new Tensor(t.type, dst, [b, h, length, d]);
      }
      return outState;
    },

    async dispose() {
      await model.dispose();
    },
  };
}
