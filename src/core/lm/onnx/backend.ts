/**
 * Which ONNX Runtime runs the models: the native `onnxruntime-node` when this package carries it for this
 * platform (the per-platform .vsix files do), else `onnxruntime-web`'s WASM backend (the universal .vsix),
 * several times slower (3.7–7× on the shapes in docs/RUNTIME.md) but the same graphs and the same results.
 *
 * Chosen once per process, synchronously: transformers.js loads `onnxruntime-node` while its module is being
 * evaluated, and the bundles (esbuild.mjs) hand that load to `onnxRuntimeForTransformers` below.
 * `TOKEN_INSPECTOR_ONNX_RUNTIME=wasm|native` forces one (tests and benchmarks); unset means native, else WASM.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type { Env, InferenceSession, Tensor } from 'onnxruntime-common';
import { defaultThreads } from './threads';

export type OnnxBackendKind = 'native' | 'wasm';

/** What the model code needs of either runtime (the two share onnxruntime-common's API). */
export interface OrtModule {
  readonly InferenceSession: typeof InferenceSession;
  readonly Tensor: typeof Tensor;
  readonly env: Env;
}

export interface OnnxBackend {
  readonly kind: OnnxBackendKind;
  readonly ort: OrtModule;
  /** The folder the runtime was loaded from (the package's own, never one above it). */
  readonly origin: string;
}

/** A runtime that cannot be loaded at all: the message names the platform and what the package holds. */
export class OnnxRuntimeUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxRuntimeUnavailableError';
  }
}

/**
 * Inside a package the runtimes sit beside the bundle (scripts/stage-extension.mjs): the native one in
 * dist/node_modules (a platform package), the WASM one in dist/ort (the universal package). There they are
 * looked up in the package's own folder only: a bare `require('onnxruntime-node')` also searches every
 * node_modules above it, where an installed universal package could find a copy that is not its own. From the
 * source tree (the repository's dist/, or src/ under tsx) neither folder exists and Node's resolution is used.
 */
const PACKAGED_NATIVE = join(__dirname, 'node_modules', 'onnxruntime-node');
const PACKAGED_WASM = join(__dirname, 'ort');

/** The symbol under which transformers.js takes a runtime it should use instead of onnxruntime-node. */
const TRANSFORMERS_RUNTIME = Symbol.for('onnxruntime');

function errorLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

function asOrtModule(m: unknown): OrtModule {
  // A bundle's require of a CommonJS package may hand its exports over as `default` only.
  const mod = (m as Partial<OrtModule>).InferenceSession ? m : (m as { default?: unknown }).default;
  if (!mod || typeof (mod as Partial<OrtModule>).InferenceSession?.create !== 'function') throw new Error('not an ONNX Runtime module');
  return mod as OrtModule;
}

function loadNative(): OnnxBackend {
  if (existsSync(PACKAGED_WASM)) throw new Error('this is the universal package, which holds no native ONNX runtime');
  if (existsSync(PACKAGED_NATIVE)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { kind: 'native', ort: asOrtModule(require(PACKAGED_NATIVE)), origin: PACKAGED_NATIVE };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = asOrtModule(require('onnxruntime-node'));
  return { kind: 'native', ort, origin: dirname(dirname(require.resolve('onnxruntime-node'))) };
}

/** The folder holding `ort-wasm-simd-threaded.{wasm,mjs}`: dist/ort in the package, onnxruntime-web's dist from source. */
function wasmFolder(): string {
  if (existsSync(PACKAGED_WASM)) return PACKAGED_WASM;
  if (existsSync(PACKAGED_NATIVE)) throw new Error('a platform package holds no WASM runtime');
  // (createRequire: the bundler would otherwise try to resolve this source-tree path at build time.)
  return dirname(createRequire(__filename).resolve('onnxruntime-web'));
}

function loadWasm(): OnnxBackend {
  const folder = wasmFolder();
  if (!existsSync(join(folder, 'ort-wasm-simd-threaded.wasm'))) throw new Error(`no WASM runtime in ${folder}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = asOrtModule(require('onnxruntime-web'));
  // Before the first session: the WASM module is instantiated once, with this many threads, from these files.
  ort.env.wasm.wasmPaths = folder + sep;
  ort.env.wasm.numThreads = defaultThreads();
  ort.env.wasm.proxy = false;
  return { kind: 'wasm', ort, origin: folder };
}

let chosen: OnnxBackend | undefined;
let failure: OnnxRuntimeUnavailableError | undefined;

function choose(): OnnxBackend {
  const forced = process.env.TOKEN_INSPECTOR_ONNX_RUNTIME;
  const platform = `${process.platform}-${process.arch}`;
  if (forced !== undefined && forced !== 'wasm' && forced !== 'native') {
    throw new OnnxRuntimeUnavailableError(`TOKEN_INSPECTOR_ONNX_RUNTIME must be wasm or native, not ${JSON.stringify(forced)}`);
  }
  let nativeError: string | undefined;
  if (forced !== 'wasm') {
    try {
      return loadNative();
    } catch (e) {
      nativeError = errorLine(e);
      if (forced === 'native') throw new OnnxRuntimeUnavailableError(`the native ONNX runtime cannot be loaded on ${platform}: ${nativeError}`);
    }
  }
  try {
    const wasm = loadWasm();
    (globalThis as Record<symbol, unknown>)[TRANSFORMERS_RUNTIME] = wasm.ort;
    return wasm;
  } catch (e) {
    const why = nativeError ? `native: ${nativeError}; WASM: ${errorLine(e)}` : errorLine(e);
    throw new OnnxRuntimeUnavailableError(
      `no ONNX runtime can be loaded on ${platform} (${why}); install the Token Inspector package for this platform or the universal one, or use a remote endpoint`,
    );
  }
}

/** The runtime for this process (chosen on the first call; a failure is remembered, as nothing on disk changes). */
export function onnxBackend(): OnnxBackend {
  if (chosen) return chosen;
  if (failure) throw failure;
  try {
    chosen = choose();
    return chosen;
  } catch (e) {
    failure = e instanceof OnnxRuntimeUnavailableError ? e : new OnnxRuntimeUnavailableError(errorLine(e));
    throw failure;
  }
}

/**
 * What transformers.js gets where it would `require('onnxruntime-node')` (the bundles' esbuild plugin puts this
 * call there). On the WASM runtime it also finds that runtime under `Symbol.for('onnxruntime')`, which it
 * prefers, so the module returned here is not used to run anything.
 */
export function onnxRuntimeForTransformers(): OrtModule {
  return onnxBackend().ort;
}
