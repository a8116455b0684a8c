/**
 * Hidden states of an ONNX causal LM at TransformerLens hooks, for SAEs: the model's graph is cut down to the
 * hook (taps.ts) and run directly on ONNX Runtime (native, or WASM: backend.ts), one session per hook.
 *
 * Windows. A sequence longer than the context is read in windows of the context length that overlap by half,
 * each run fresh (positions from 0). Position i's state comes from the first window that holds it with at
 * least half a context before it, or from window 0, so it depends only on that window's tokens up to i. With
 * `repeatFirstToken` every window starts with ids[0] (the BOS an SAE was trained with) and slides over the rest.
 */
import { basename, join, resolve } from 'node:path';
import type { InferenceSession, Tensor, TypedTensor } from 'onnxruntime-common';
import { isValidRepoId } from '../../models/hubCache';
import { looksLikePath } from '../../models/download';
import { hfRepoIdOfPath } from '../../sae/loader';
import type { HiddenStateOptions, HiddenStates, HiddenStateSource } from '../../sae/hidden';
import { loadTokenizer, type LoadedTokenizer } from '../../tokenizers/loader';
import { LmAbortError } from '../model';
import { checkModelFiles, ModelError, readModelConfig, resolveModelFolder } from './folder';
import { resolveModelSource, type ModelSource } from './load';
import { onnxBackend, type OrtModule } from './backend';
import { defaultThreads } from './threads';
import { GraphTaps, type BlockLayout } from './taps';
import { SerialQueue, toFloat32 } from './tensors';
import { readBoundedTextSync } from '../../files/boundedRead';

interface OnnxHiddenStatesSource extends ModelSource {
  /** Tokens per window (default: the model's context from config.json). */
  readonly contextLength?: number;
  /** Context length when config.json declares none (default 2048). */
  readonly fallbackContextLength?: number;
  /** The model's name in messages and SAE checks (default: the repo id, else the folder's name). */
  readonly id?: string;
}

/** One window: ids[start, end) are run (after ids[0] when `prefixed`); positions [keepFrom, end) are kept. */
interface HiddenWindow {
  readonly start: number;
  readonly end: number;
  readonly keepFrom: number;
  readonly prefixed: boolean;
}

/** The windows that cover `count` positions (see the file comment). */
export function planWindows(count: number, contextLength: number, repeatFirstToken = false): HiddenWindow[] {
  const p = repeatFirstToken ? 1 : 0;
  const span = contextLength - p;
  if (!Number.isInteger(span) || span < 1) throw new RangeError(`a context of ${contextLength} tokens is too short`);
  const step = span - Math.floor(span / 2);
  const out: HiddenWindow[] = [];
  if (count === 0) return out;
  for (let w = 0, prevEnd = 0; ; w++) {
    const a = p + w * step;
    const b = Math.min(count, a + span);
    // Window 0 is ids[0, b) itself (with the prefix, ids[0] is already in front).
    out.push(w === 0 ? { start: 0, end: b, keepFrom: 0, prefixed: false } : { start: a, end: b, keepFrom: prevEnd, prefixed: p === 1 });
    prevEnd = b;
    if (b >= count) return out;
  }
}

/** What the feeds and checks need from config.json, under the names architectures use. */
interface Architecture {
  readonly layerCount?: number;
  readonly dModel?: number;
  readonly heads?: number;
  readonly kvHeads?: number;
  readonly headDim?: number;
  /** `_name_or_path`: the hub id the model was saved from, when the exporter kept it. */
  readonly nameOrPath?: string;
}

function readArchitecture(folder: string): Architecture {
  let raw: unknown;
  try {
    raw = JSON.parse(readBoundedTextSync(join(folder, 'config.json'), 'config'));
  } catch {
    return {};
  }
  if (typeof raw !== 'object' || raw === null) return {};
  const cfg = raw as Record<string, unknown>;
  const text = typeof cfg.text_config === 'object' && cfg.text_config !== null ? (cfg.text_config as Record<string, unknown>) : cfg;
  const int = (...keys: string[]) => keys.map((k) => text[k] ?? cfg[k]).find((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0);
  const dModel = int('n_embd', 'hidden_size', 'd_model', 'dim');
  const heads = int('n_head', 'num_attention_heads', 'num_heads', 'n_heads');
  return {
    layerCount: int('n_layer', 'num_hidden_layers', 'num_layers', 'n_layers'),
    dModel,
    heads,
    kvHeads: int('num_key_value_heads', 'n_kv_heads', 'multi_query_group_num') ?? heads,
    headDim: int('head_dim') ?? (dModel && heads ? dModel / heads : undefined),
    nameOrPath: typeof cfg._name_or_path === 'string' && isValidRepoId(cfg._name_or_path) ? cfg._name_or_path : undefined,
  };
}

/** The process's ONNX Runtime (native or WASM, backend.ts), as a promise for the callers below. */
async function ort(): Promise<OrtModule> {
  try {
    return onnxBackend().ort;
  } catch (e) {
    throw new ModelError((e as Error).message);
  }
}

type Session = InferenceSession;

/** A tap's KV cache by output name (`present.L.key`…): the layers before its hook, positions 0…length-1. */
type KvCache = Map<string, Tensor>;

/** The cache input a `present` output feeds on the next run. */
function presentName(pastName: string): string {
  return pastName.replace(/^past_key_values\./, 'present.').replace(/^past\./, 'present.');
}

/**
 * Whether a run can start after a cache: every `present` output the tap computes feeds a `past` input (a merged
 * decoder read through its no-cache branch computes a cache it never reads), and there is one (a hook before the
 * first block needs none, and is cheap to compute in full).
 */
function resumable(session: InferenceSession): boolean {
  const presents = session.outputNames.filter((n) => /^present/.test(n));
  const pasts = new Set(session.inputNames.filter((n) => /^past_key_values\.|^past\./.test(n)).map(presentName));
  return presents.length > 0 && presents.length === pasts.size && presents.every((n) => pasts.has(n));
}

/** A cache cut back to its first `length` positions (dimension 2 of [batch, heads, positions, headDim]; a copy). */
function truncateCache(cache: KvCache, length: number, TensorCtor: OrtModule['Tensor']): KvCache {
  const out: KvCache = new Map();
  for (const [name, t] of cache) {
    const [b, h, s, d] = t.dims;
    if (t.dims.length !== 4 || length > s) throw new ModelError(`the tapped graph's cache ${name} has shape [${t.dims.join(', ')}]: cannot cut it to ${length} positions`);
    const src = t.data as Float32Array | Uint16Array;
    const dst = new (src.constructor as new (n: number) => Float32Array | Uint16Array)(b * h * length * d);
    for (let bh = 0; bh < b * h; bh++) dst.set(src.subarray(bh * s * d, bh * s * d + length * d), bh * length * d);
    out.set(name, new TensorCtor(t.type as 'float32', dst as Float32Array, [b, h, length, d]));
  }
  return out;
}

/** The last request's states are kept up to this size (128 MB). */
const MAX_KEPT_STATE_FLOATS = 2 ** 25;

/** Hidden states at the residual-stream hooks of an ONNX causal LM. */
export class OnnxHiddenStates implements HiddenStateSource {
  readonly modelName: string;
  readonly availableHooks: readonly string[];
  readonly layout: BlockLayout;
  private readonly sessions = new Map<string, Promise<Session>>();
  /** The last request's states (callers only read them). */
  private last: { hook: string; repeat: boolean; ids: Uint32Array; states: HiddenStates } | undefined;
  /** The last single-window request's KV cache at its hook (the layers before it), to start the next one from its first changed token. */
  private kv: { hook: string; repeat: boolean; ids: Uint32Array; states: Float32Array; cache: KvCache } | undefined;
  /** Positions computed by the last request (the rest came from the KV cache): for tests and benchmarks. */
  lastComputedPositions = 0;
  private readonly serial = new SerialQueue();

  private constructor(
    readonly folder: string,
    readonly graphPath: string,
    readonly tokenizer: LoadedTokenizer,
    readonly contextLength: number,
    readonly dModel: number,
    /** Rows of the embedding: ids the graph accepts. */
    readonly vocabSize: number,
    private readonly arch: Architecture,
    private readonly taps: GraphTaps,
    private readonly threads: number,
    modelName: string,
  ) {
    this.modelName = modelName;
    this.availableHooks = [...taps.hooks.keys()];
    this.layout = taps.graphHooks.layout;
  }

  /** Opens a resolved model folder (or Hugging Face cache model folder). */
  static async open(dir: string, options: Omit<OnnxHiddenStatesSource, 'allowDownloads'> = {}): Promise<OnnxHiddenStates> {
    const folder = resolveModelFolder(dir);
    const config = readModelConfig(folder);
    const graph = checkModelFiles(folder, options.dtype ?? 'fp32');
    const arch = readArchitecture(folder);
    if (!arch.layerCount) throw new ModelError(`${join(folder, 'config.json')} declares no layer count (n_layer or num_hidden_layers), needed to locate the hooks`);
    if (!arch.dModel) throw new ModelError(`${join(folder, 'config.json')} declares no hidden size (n_embd or hidden_size)`);
    const contextLength = options.contextLength ?? config.contextLength ?? options.fallbackContextLength ?? 2048;
    if (!(Number.isInteger(contextLength) && contextLength >= 3)) throw new ModelError(`a context of ${contextLength} tokens is too short`);
    const taps = GraphTaps.open(graph.path, { layerCount: arch.layerCount, dModel: arch.dModel });
    let tokenizer: LoadedTokenizer;
    try {
      tokenizer = await loadTokenizer(folder);
    } catch (e) {
      throw new ModelError(`the tokenizer of ${folder} cannot be loaded: ${(e as Error).message}`);
    }
    const threads = options.threads ?? defaultThreads();
    const name = options.id ?? hfRepoIdOfPath(folder) ?? arch.nameOrPath ?? basename(resolve(dir));
    return new OnnxHiddenStates(folder, graph.path, tokenizer, contextLength, arch.dModel, config.vocabSize, arch, taps, threads, name);
  }

  /** One request at a time: each window's activations are large, and sessions are shared. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial.run(fn);
  }

  private session(hook: string): Promise<Session> {
    let s = this.sessions.get(hook);
    if (!s) {
      s = (async () => {
        const tap = this.taps.tap(hook);
        const { InferenceSession: Ctor } = await ort();
        const options: InferenceSession.SessionOptions = { intraOpNumThreads: this.threads, interOpNumThreads: 1 };
        try {
          return tap.kind === 'file' ? await Ctor.create(tap.path, options) : await Ctor.create(tap.bytes, options);
        } catch (e) {
          throw new ModelError(`the graph tapped at ${hook} cannot be loaded${tap.kind === 'file' ? ` (${tap.path})` : ''}: ${(e as Error).message}`);
        } finally {
          // The decoded source graph is only needed to build taps; a later hook reads it again.
          this.taps.release();
        }
      })();
      this.sessions.set(hook, s);
      s.catch(() => this.sessions.delete(hook));
    }
    return s;
  }

  /** The inputs of one run, by the names the tap graph has: `ids` at positions start…, after `past` (positions 0…start-1). */
  private feeds(session: Session, ort: OrtModule, ids: ArrayLike<number>, start = 0, past?: KvCache): Record<string, Tensor> {
    const T = ids.length;
    const { Tensor: TensorCtor } = ort;
    const meta = new Map(session.inputMetadata.map((m) => [m.name, m]));
    const ints = (name: string, values: (i: number) => number, length = T): Tensor => {
      const m = meta.get(name);
      if (m?.isTensor && m.type === 'int32') return new TensorCtor('int32', Int32Array.from({ length }, (_, i) => values(i)), [1, length]);
      return new TensorCtor('int64', BigInt64Array.from({ length }, (_, i) => BigInt(values(i))), [1, length]);
    };
    const feeds: Record<string, Tensor> = {};
    for (const name of session.inputNames) {
      if (name === 'input_ids') feeds[name] = ints(name, (i) => ids[i]);
      else if (name === 'attention_mask') feeds[name] = ints(name, () => 1, start + T);
      else if (name === 'position_ids') feeds[name] = ints(name, (i) => start + i);
      else if (name === 'token_type_ids') feeds[name] = ints(name, () => 0);
      else if (name === 'use_cache_branch') feeds[name] = new TensorCtor('bool', new Uint8Array([0]), [1]);
      else if (/^past_key_values\.|^past\./.test(name)) {
        const held = past?.get(presentName(name));
        if (start > 0 && !held) throw new Error(`no cache for ${name}`);
        feeds[name] = held ?? this.emptyPast(name, meta.get(name), ort);
      }
      else throw new ModelError(`the graph tapped from ${this.graphPath} needs an input this tool does not know how to feed: ${name}`);
    }
    return feeds;
  }

  /** An empty cache (past length 0): numeric dims from the graph, symbolic ones from config.json. */
  private emptyPast(name: string, m: InferenceSession.ValueMetadata | undefined, ort: OrtModule): Tensor {
    const fromConfig = [1, this.arch.kvHeads ?? 1, 0, this.arch.headDim ?? 1];
    const shape = m?.isTensor && m.shape.length ? m.shape : fromConfig;
    const dims = shape.map((d, i) => (typeof d === 'number' && d >= 0 ? d : i === 0 ? 1 : shape.length === 4 && i !== 2 ? fromConfig[i] : 0));
    if (dims.reduce((p, d) => p * d, 1) !== 0) throw new ModelError(`cannot make an empty cache for ${name} (shape [${shape.join(', ')}])`);
    const type = m?.isTensor ? m.type : 'float32';
    if (type === 'float16') return new ort.Tensor('float16', new Uint16Array(0), dims);
    return new ort.Tensor('float32', new Float32Array(0), dims);
  }

  private async run(session: Session, ids: ArrayLike<number>, hook: string, start = 0, past?: KvCache): Promise<{ rows: Float32Array; cache: KvCache }> {
    const o = await ort();
    let result: InferenceSession.ReturnType;
    try {
      result = await session.run(this.feeds(session, o, ids, start, past));
    } catch (e) {
      if (e instanceof ModelError) throw e;
      throw new ModelError(`the graph tapped at ${hook} failed to run: ${(e as Error).message}`);
    }
    const t = result[hook] as TypedTensor<'float32'> | undefined;
    if (!t || t.dims.length !== 3 || t.dims[1] !== ids.length) throw new ModelError(`the graph tapped at ${hook} returned no [1, ${ids.length}, d] tensor`);
    if (t.dims[2] !== this.dModel) throw new ModelError(`the hidden state at ${hook} has width ${t.dims[2]}, but config.json declares ${this.dModel}`);
    const cache: KvCache = new Map();
    for (const name of session.outputNames) if (/^present/.test(name)) cache.set(name, result[name]);
    return { rows: toFloat32(t.type, t.data, 'the tapped hidden state'), cache };
  }

  /**
   * The hidden states at `hook` for `tokenIds`, one row of dModel per id; progress after each window, cancel
   * between windows; `repeatFirstToken` starts every window with ids[0] (the BOS an SAE was trained with).
   */
  hiddenStates(tokenIds: Uint32Array, hook: string, options: HiddenStateOptions = {}): Promise<HiddenStates> {
    const ids = Uint32Array.from(tokenIds);
    const repeat = options.repeatFirstToken === true;
    return this.exclusive(async () => {
      // Another encoder, k or m on the same text reads the same states: they are kept from the last request.
      const last = this.last;
      if (last && last.hook === hook && last.repeat === repeat && last.ids.length === ids.length && last.ids.every((id, i) => id === ids[i])) {
        options.onProgress?.(ids.length, ids.length);
        return last.states;
      }
      if (!this.taps.hooks.has(hook)) throw new ModelError(`${this.modelName} has no hook ${hook}; it has ${this.availableHooks.join(', ')}`);
      for (const id of ids) if (id >= this.vocabSize) throw new ModelError(`token id ${id} is outside the model's vocabulary (${this.vocabSize} ids)`);
      const d = this.dModel;
      const n = ids.length;
      const data = new Float32Array(n * d);
      if (n === 0) return { data, dModel: d };
      const session = await this.session(hook);
      options.onProgress?.(0, n);
      const windows = planWindows(n, this.contextLength, repeat);
      this.lastComputedPositions = n;
      if (windows.length === 1) {
        // One window: the states before the first changed token are the last request's (a causal model), and
        // the rest is computed on the KV cache of the layers before the hook, cut back to that token.
        const o = await ort();
        const held = this.kv && this.kv.hook === hook && this.kv.repeat === repeat && resumable(session) ? this.kv : undefined;
        let from = 0;
        if (held) {
          const limit = Math.min(held.ids.length, n);
          while (from < limit && held.ids[from] === ids[from]) from++;
        }
        if (options.signal?.aborted) throw new LmAbortError();
        let cache: KvCache;
        if (held && from === n) {
          // A shortened text (deleted at the end): its states and cache are a prefix of the last ones.
          data.set(held.states.subarray(0, n * d));
          cache = truncateCache(held.cache, n, o.Tensor);
          this.lastComputedPositions = 0;
        } else {
          const past = held && from > 0 ? truncateCache(held.cache, from, o.Tensor) : undefined;
          const start = past ? from : 0;
          if (held && start > 0) data.set(held.states.subarray(0, start * d));
          const r = await this.run(session, ids.subarray(start), hook, start, past);
          data.set(r.rows, start * d);
          cache = r.cache;
          this.lastComputedPositions = n - start;
        }
        this.kv = data.length <= MAX_KEPT_STATE_FLOATS ? { hook, repeat, ids, states: data, cache } : undefined;
        options.onProgress?.(n, n);
      } else {
        this.kv = undefined;
        for (const w of windows) {
          if (options.signal?.aborted) throw new LmAbortError();
          const body = ids.subarray(w.start, w.end);
          const fed = w.prefixed ? [ids[0], ...body] : body;
          const { rows } = await this.run(session, fed, hook);
          // Row j of this window is position w.start + j - (prefix length).
          const shift = w.prefixed ? 1 : 0;
          for (let i = w.keepFrom; i < w.end; i++) {
            const j = i - w.start + shift;
            data.set(rows.subarray(j * d, (j + 1) * d), i * d);
          }
          options.onProgress?.(w.end, n);
        }
      }
      const states = { data, dModel: d };
      this.last = data.length <= MAX_KEPT_STATE_FLOATS ? { hook, repeat, ids, states } : undefined;
      return states;
    });
  }

  /** Frees the sessions; later calls fail with a clear message. */
  async dispose(): Promise<void> {
    await this.exclusive(async () => {
      this.serial.close();
      this.last = undefined;
      this.taps.release();
      const sessions = [...this.sessions.values()];
      this.sessions.clear();
      for (const s of sessions) await s.then((x) => x.release()).catch(() => undefined);
    });
  }
}

/**
 * Hidden states of `spec` (a model folder, a Hugging Face cache model folder, or `org/name`, looked up in the
 * cache and downloaded only when allowed), resolved exactly as `loadOnnxModel` resolves it.
 */
export async function loadOnnxHiddenStates(spec: string, source: OnnxHiddenStatesSource): Promise<OnnxHiddenStates> {
  const folder = await resolveModelSource(spec, source);
  return OnnxHiddenStates.open(folder, { ...source, id: source.id ?? (looksLikePath(spec) ? undefined : spec) });
}
