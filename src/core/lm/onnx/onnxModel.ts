/**
 * A causal language model exported to ONNX, run with transformers.js on ONNX Runtime, tied to its own
 * tokenizer (loaded with this project's engine, so token spans are byte-exact). Implements the core's
 * `LanguageModel` (dense distributions) and adds `score`, the fast path for a whole sequence.
 *
 * Windows. A sequence longer than the model's context is read in windows that start at multiples of half a
 * window: window w holds the start context (BOS) and then ids[a, b) with a = w·step, b = a + span. The
 * distribution before token i comes from the first window that reaches it (the smallest w with b ≥ i), so
 * every token is predicted from at least half a context of text, and the answer for position i depends only on
 * ids[a, i): the same whether asked by `score`, `nextDistributions` or `nextDistribution`.
 *
 * Caches. Within a window tokens are fed in chunks with a KV cache. The last window's cache is kept (one for
 * scoring, one for single distributions) and reused for the common prefix of the next request, cut back to it
 * where the graph's cache layout allows; re-scoring an edited sequence also reuses the scores before the first
 * changed token.
 */
import { loadTokenizer, type LoadedTokenizer } from '../../tokenizers/loader';
import type { TokenStream } from '../../tokenizers/types';
import { DenseDistribution, LmAbortError, type LanguageModel, type NextTokenDistribution } from '../model';
import { spreadSurprisal, type DocumentScores } from '../score';
import { LogitsDistribution, rowStats } from './distribution';
import { checkModelFiles, ModelError, readModelConfig, resolveModelFolder, type ModelConfig, type OnnxDtype } from './folder';
import { SerialQueue } from './tensors';
import { loadRuntimeModel, type ForwardResult, type PastState, type RuntimeModel } from './runtime';

interface OnnxLoadOptions {
  /** Weight variant (`onnx/model.onnx` is fp32, the default). */
  readonly dtype?: OnnxDtype;
  /** ONNX Runtime threads (default: up to 4, leaving a core free). */
  readonly threads?: number;
  /** Ids that condition the first token; default: the tokenizer's BOS, else config.json's `bos_token_id`, else none. */
  readonly startContext?: readonly number[];
  /** Context length to use when config.json declares none (default 2048). */
  readonly fallbackContextLength?: number;
  /** Shown as the model's id (default: the folder given). */
  readonly id?: string;
}

interface OnnxModelInfo {
  readonly id: string;
  /** The folder the files were read from (a snapshot for a Hugging Face cache folder). */
  readonly folder: string;
  readonly modelType: string;
  readonly dtype: OnnxDtype;
  /** Rows of the output layer (config.json `vocab_size`); may exceed the tokenizer's by padding rows, which are ignored. */
  readonly modelVocabSize: number;
  /** Ids the distributions range over: the tokenizer's. */
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly startContext: readonly number[];
  readonly endOfTextId: number;
  /** The package that runs it: native, or the WASM fallback (backend.ts). */
  readonly runtime: 'onnxruntime-node' | 'onnxruntime-web';
  readonly loadMs: number;
}

/**
 * Per-token scores as flat arrays (transferable between threads), named and typed as `DocumentScores`
 * (core/lm/score.ts) so that `onnxDocumentScores` is a plain copy.
 */
interface ScoredTokens {
  readonly count: number;
  readonly topK: number;
  /** ln p(token | previous tokens); NaN for a first token without a start context. */
  readonly logProbs: Float64Array;
  /** 1-based rank (1 + ids strictly more probable); NaN where unscored. */
  readonly ranks: Float64Array;
  /** Entropy of the distribution the token was drawn from, in nats (NaN where unscored). */
  readonly entropies: Float64Array;
  /** count×topK ids of the most probable alternatives, most probable first (ties by increasing id); -1 where none. */
  readonly topIds: Int32Array;
  /** count×topK natural-log probabilities of those alternatives; -Infinity where none. */
  readonly topLogProbs: Float64Array;
}

interface ScoreOptions {
  /** Alternatives kept per token (default 10, at most 1000). */
  readonly topK?: number;
  readonly signal?: AbortSignal;
  /** Called after each forward chunk: tokens scored so far, of `total`. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** More padding rows than this in the model's output means model and tokenizer do not belong together. */
const MAX_PADDING_ROWS = 1024;
/** Logits held per forward chunk (bytes): chunk length = this / (vocab × 4). */
const CHUNK_LOGIT_BYTES = 48 * 1024 * 1024;
const MAX_TOP_K = 1000;

/** A KV cache and the tokens it holds (positions 0…tokens.length-1 of one window). */
interface CacheState {
  tokens: number[];
  past: PastState | undefined;
}
interface WindowCache {
  windowStart: number;
  state: CacheState;
}
type RowHandler = (i: number, logits: Float32Array, offset: number) => void;

export class OnnxCausalLM implements LanguageModel {
  readonly id: string;
  readonly description: string;
  readonly vocabSize: number;
  readonly endOfTextId: number;
  readonly contextTokens: number;

  private scoreCache: WindowCache | undefined;
  private nextCache: WindowCache | undefined;
  /** The cache of prefixDistributions: the fixed part, then the extension fed last. */
  private prefixCache: CacheState = { tokens: [], past: undefined };
  private lastScore: { ids: Uint32Array; result: ScoredTokens } | undefined;
  private readonly serial = new SerialQueue();

  private constructor(
    readonly info: OnnxModelInfo,
    readonly tokenizer: LoadedTokenizer,
    private readonly runtime: RuntimeModel,
  ) {
    this.id = info.id;
    this.vocabSize = info.vocabSize;
    this.endOfTextId = info.endOfTextId;
    this.contextTokens = info.contextLength - info.startContext.length;
    this.description = `${info.modelType} (ONNX ${info.dtype}, ${info.contextLength}-token context) from ${info.folder}`;
  }

  /** Loads a model folder (or a Hugging Face cache model folder) and its tokenizer. */
  static async load(dir: string, options: OnnxLoadOptions = {}): Promise<OnnxCausalLM> {
    const t0 = performance.now();
    const dtype = options.dtype ?? 'fp32';
    const folder = resolveModelFolder(dir);
    const config = readModelConfig(folder);
    const graph = checkModelFiles(folder, dtype);
    let tokenizer: LoadedTokenizer;
    try {
      tokenizer = await loadTokenizer(folder);
    } catch (e) {
      throw new ModelError(`the tokenizer of ${folder} cannot be loaded: ${(e as Error).message}`);
    }
    checkVocabularies(folder, config, tokenizer);
    const vocabSize = tokenizer.tokenizer.vocabSize;
    const startContext = options.startContext ? [...options.startContext] : defaultStartContext(config, tokenizer);
    for (const id of startContext) if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) throw new ModelError(`start context id ${id} is outside the vocabulary`);
    const contextLength = config.contextLength ?? options.fallbackContextLength ?? 2048;
    if (contextLength < startContext.length + 2) throw new ModelError(`the model's context (${contextLength} tokens) is too short`);
    const runtime = await loadRuntimeModel(folder, { dtype, graph: graph.base, threads: options.threads });
    const info: OnnxModelInfo = {
      id: options.id ?? dir,
      folder,
      modelType: config.modelType,
      dtype,
      modelVocabSize: config.vocabSize,
      vocabSize,
      contextLength,
      startContext,
      endOfTextId: endOfText(config, tokenizer),
      runtime: runtime.runtime === 'native' ? 'onnxruntime-node' : 'onnxruntime-web',
      loadMs: performance.now() - t0,
    };
    return new OnnxCausalLM(info, tokenizer, runtime);
  }

  /** One request at a time: the caches are shared state. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial.run(fn);
  }

  private checkIds(ids: Uint32Array): void {
    for (const id of ids) if (id >= this.vocabSize) throw new ModelError(`token id ${id} is outside the model's vocabulary (${this.vocabSize} ids)`);
  }

  // ---------- the LanguageModel interface ----------

  nextDistribution(context: Uint32Array, signal?: AbortSignal): Promise<NextTokenDistribution> {
    return this.nextDistributions(context, context.length, context.length + 1, signal).then((d) => d[0]);
  }

  /**
   * The distributions before ids[p] (after ids[0..p)) for p in [from, to), to ≤ ids.length + 1, ids[0] being
   * where the text (or the caller's slice of it) starts. Each is a view of a float32 logits row (4 bytes per id).
   */
  nextDistributions(ids: Uint32Array, from: number, to: number, signal?: AbortSignal): Promise<NextTokenDistribution[]> {
    const seq = Uint32Array.from(ids);
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= seq.length + 1)) {
      return Promise.reject(new RangeError(`nextDistributions: bad range [${from}, ${to}) for ${seq.length} ids`));
    }
    const single = to - from === 1 && from === seq.length;
    return this.exclusive(async () => {
      this.checkIds(seq);
      const out: NextTokenDistribution[] = new Array(to - from);
      const V = this.vocabSize;
      await this.forEachRow(seq, from, to, single ? 'next' : 'score', (i, logits, offset) => {
        out[i - from] = new LogitsDistribution(logits, offset, V);
      }, signal);
      if (this.info.startContext.length === 0 && from === 0) {
        // Nothing predicts the first token of a text without a start context: uniform, stated as such.
        out[0] = new DenseDistribution(new Float64Array(V).fill(1 / V));
      }
      return out;
    });
  }

  /**
   * The distributions after `fixed` followed by each extension (the next byte's batch of cover prefixes, see
   * core/lm/nextByte/modelQueries.ts): one forward pass per distinct extension on top of the fixed part's KV
   * cache. The window is the start context and the last `contextTokens - longest extension` ids of `fixed`, so
   * that every extension fits in it beside the same fixed part; extensions are fed in sorted order, so that one
   * that extends another reuses its cache. For a text shorter than the context this is exactly
   * `nextDistribution(fixed·extension)`; for a longer one the window ends at the cursor instead of starting at
   * a multiple of half a context (the next byte looks at one position, not at a whole document).
   */
  prefixDistributions(fixed: Uint32Array, extensions: readonly Int32Array[], signal?: AbortSignal): Promise<NextTokenDistribution[]> {
    const longest = extensions.reduce((m, e) => Math.max(m, e.length), 0);
    const room = this.contextTokens - longest;
    if (room < 0) return Promise.reject(new RangeError(`an extension of ${longest} tokens does not fit in the model's context (${this.contextTokens} tokens)`));
    const base = Array.from(fixed.subarray(Math.max(0, fixed.length - room)));
    return this.exclusive(async () => {
      this.checkIds(Uint32Array.from(base));
      for (const e of extensions) for (const id of e) if (!(id >= 0 && id < this.vocabSize)) throw new ModelError(`token id ${id} is outside the model's vocabulary (${this.vocabSize} ids)`);
      const V = this.vocabSize;
      const rowLength = this.info.modelVocabSize;
      const head = [...this.info.startContext, ...base];
      const order = extensions.map((_, i) => i).sort((i, j) => compareIds(extensions[i], extensions[j]));
      const out: NextTokenDistribution[] = new Array(extensions.length);
      for (const i of order) {
        const tokens = [...head, ...extensions[i]];
        if (tokens.length === 0) {
          // No start context and nothing before: nothing predicts the first token (as in nextDistributions).
          out[i] = new DenseDistribution(new Float64Array(V).fill(1 / V));
          continue;
        }
        let row: Float32Array | undefined;
        // The last token is always fed, so that its row comes back even when the cache already holds it.
        await this.feed(
          this.prefixCache,
          tokens,
          tokens.length - 1,
          (position, logits, offset) => {
            if (position === tokens.length - 1) row = logits.slice(offset, offset + rowLength);
          },
          signal,
        );
        if (!row) throw new ModelError('the model returned no row for the last position');
        out[i] = new LogitsDistribution(row, 0, V);
      }
      return out;
    });
  }

  // ---------- scoring a whole sequence ----------

  /**
   * Scores every token of `ids` given the tokens before it (and the start context): log-probability, rank,
   * entropy and the top-k alternatives, without building a distribution object per token.
   */
  score(ids: ArrayLike<number>, options: ScoreOptions = {}): Promise<ScoredTokens> {
    const seq = Uint32Array.from(ids);
    return this.exclusive(() => {
      this.checkIds(seq);
      return this.scoreNow(seq, options);
    });
  }

  private async scoreNow(ids: Uint32Array, options: ScoreOptions): Promise<ScoredTokens> {
    const n = ids.length;
    const k = Math.max(0, Math.min(MAX_TOP_K, Math.floor(options.topK ?? 10)));
    const result: ScoredTokens = {
      count: n,
      topK: k,
      logProbs: new Float64Array(n).fill(NaN),
      ranks: new Float64Array(n).fill(NaN),
      entropies: new Float64Array(n).fill(NaN),
      topIds: new Int32Array(n * k).fill(-1),
      topLogProbs: new Float64Array(n * k).fill(-Infinity),
    };
    // Scores before the first changed token carry over from the last call.
    let from = 0;
    const prev = this.lastScore;
    if (prev && prev.result.topK === k) {
      const limit = Math.min(prev.ids.length, n);
      while (from < limit && prev.ids[from] === ids[from]) from++;
      copyScores(prev.result, result, from);
    }
    let scored = from;
    options.onProgress?.(scored, n);
    const V = this.vocabSize;
    await this.forEachRow(
      ids,
      from,
      n,
      'score',
      (i, logits, offset) => {
        const stats = rowStats(logits, offset, V, k, ids[i]);
        result.logProbs[i] = stats.logProb;
        result.entropies[i] = stats.entropyNats;
        result.ranks[i] = stats.rank;
        for (let j = 0; j < stats.top.length; j++) {
          result.topIds[i * k + j] = stats.top[j].id;
          result.topLogProbs[i * k + j] = stats.top[j].logProb;
        }
        scored++;
      },
      options.signal,
      () => options.onProgress?.(scored, n),
    );
    this.lastScore = { ids, result };
    options.onProgress?.(n, n);
    return result;
  }

  /** Scores a token stream into `DocumentScores` (the fast path: no distribution object per token). */
  async scoreStream(stream: TokenStream, options: ScoreOptions = {}): Promise<DocumentScores> {
    const s = await this.score(stream.ids, options);
    return { modelId: this.id, stream, ...s, surprisalBits: spreadSurprisal(stream.byteOffsets, stream.count, stream.byteLength, s.logProbs) };
  }

  // ---------- windows and caches ----------

  /**
   * Computes the logits row before ids[i] (after ids[0..i)) for every i in [from, to) (to ≤ ids.length + 1)
   * window by window, and hands each to `onRow` (row = logits[offset .. offset + modelVocab)).
   */
  private async forEachRow(ids: Uint32Array, from: number, to: number, cacheName: 'score' | 'next', onRow: RowHandler, signal?: AbortSignal, onChunk?: () => void): Promise<void> {
    const n = ids.length;
    const start = this.info.startContext;
    const c0 = start.length;
    const span = this.contextTokens;
    const step = span - Math.floor(span / 2);
    if (from >= to) return;
    for (let w = 0, prevB = -1; ; w++) {
      const a = w * step;
      const b = Math.min(n, a + span);
      // This window answers i in (prevB, b] (the first from 0); the row for i sits at position c0 + i - a - 1.
      const lo = Math.max(prevB + 1, from, c0 === 0 && a === 0 ? 1 : 0);
      const hi = Math.min(b, to - 1);
      if (lo <= hi) {
        const held = cacheName === 'score' ? this.scoreCache : this.nextCache;
        const cache: WindowCache = held && held.windowStart === a ? held : { windowStart: a, state: { tokens: [], past: undefined } };
        if (cacheName === 'score') this.scoreCache = cache;
        else this.nextCache = cache;
        const tokens = [...start, ...ids.subarray(a, hi)];
        await this.feed(
          cache.state,
          tokens,
          c0 + lo - a - 1,
          (position, logits, offset) => {
            const i = a + position + 1 - c0;
            if (i >= lo && i <= hi) onRow(i, logits, offset);
          },
          signal,
          onChunk,
        );
      }
      prevB = b;
      if (b >= n || b >= to - 1) break;
    }
  }

  private async forward(ids: readonly number[], start: number, past: PastState | undefined): Promise<ForwardResult> {
    const r = await this.runtime.forward(ids, start, past);
    if (r.vocab !== this.info.modelVocabSize) {
      throw new ModelError(`the ONNX graph returns ${r.vocab} logits per position but config.json declares vocab_size ${this.info.modelVocabSize}`);
    }
    return r;
  }

  /**
   * Brings `state` to hold exactly `tokens`: keeps the common prefix of what it holds (at most `maxKeep`
   * tokens, cutting the cache back where the graph's cache layout allows), feeds the rest in chunks and hands
   * every new row (the distribution after `position`) to `onRow`.
   */
  private async feed(state: CacheState, tokens: readonly number[], maxKeep: number, onRow: (position: number, logits: Float32Array, offset: number) => void, signal?: AbortSignal, onChunk?: () => void): Promise<void> {
    let keep = 0;
    const limit = Math.min(state.tokens.length, tokens.length, Math.max(0, maxKeep));
    while (keep < limit && state.tokens[keep] === tokens[keep]) keep++;
    if (keep < state.tokens.length) {
      const cut = keep > 0 && state.past ? this.runtime.truncate(state.past, keep) : undefined;
      state.tokens = cut ? state.tokens.slice(0, keep) : [];
      state.past = cut;
    }
    const V = this.info.modelVocabSize;
    const chunk = Math.max(8, Math.min(256, Math.floor(CHUNK_LOGIT_BYTES / (V * 4))));
    for (let pos = state.tokens.length; pos < tokens.length; pos += chunk) {
      if (signal?.aborted) throw new LmAbortError();
      const piece = tokens.slice(pos, Math.min(tokens.length, pos + chunk));
      let r: ForwardResult;
      try {
        r = await this.forward(piece, pos, state.past);
      } catch (e) {
        state.tokens = [];
        state.past = undefined;
        throw e;
      }
      state.past = r.past;
      state.tokens = tokens.slice(0, pos + piece.length);
      for (let j = 0; j < piece.length; j++) onRow(pos + j, r.logits, j * V);
      onChunk?.();
    }
  }

  /** Frees the sessions; later calls fail with a clear message. */
  async dispose(): Promise<void> {
    await this.exclusive(async () => {
      this.serial.close();
      this.lastScore = undefined;
      this.scoreCache = undefined;
      this.nextCache = undefined;
      this.prefixCache = { tokens: [], past: undefined };
      await this.runtime.dispose();
    });
  }
}

/** Lexicographic order of id sequences (a prefix first). */
function compareIds(a: Int32Array, b: Int32Array): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return a[k] - b[k];
  return a.length - b.length;
}

function copyScores(src: ScoredTokens, dst: ScoredTokens, count: number): void {
  const k = dst.topK;
  dst.logProbs.set(src.logProbs.subarray(0, count));
  dst.ranks.set(src.ranks.subarray(0, count));
  dst.entropies.set(src.entropies.subarray(0, count));
  dst.topIds.set(src.topIds.subarray(0, count * k));
  dst.topLogProbs.set(src.topLogProbs.subarray(0, count * k));
}

/** The tokenizer's own BOS if it adds one, else config.json's bos_token_id, else nothing. */
function defaultStartContext(config: ModelConfig, tokenizer: LoadedTokenizer): number[] {
  const starts = tokenizer.tokenizer.addedTokens.filter((t) => t.position === 'start').map((t) => t.id);
  if (starts.length) return starts;
  if (config.bosTokenId !== undefined && config.bosTokenId < tokenizer.tokenizer.vocabSize) return [config.bosTokenId];
  return [];
}

function endOfText(config: ModelConfig, tokenizer: LoadedTokenizer): number {
  const v = tokenizer.tokenizer.vocabSize;
  const candidates = [...config.eosTokenIds, config.bosTokenId, tokenizer.tokenizer.specialTokenId('<|endoftext|>'), tokenizer.tokenizer.specialTokenId('</s>')];
  for (const c of candidates) if (c !== undefined && c < v) return c;
  return v - 1;
}

function checkVocabularies(folder: string, config: ModelConfig, tokenizer: LoadedTokenizer): void {
  const t = tokenizer.tokenizer.vocabSize;
  const m = config.vocabSize;
  if (t > m) {
    throw new ModelError(`the tokenizer in ${folder} has ${t} tokens but the model only ${m} output rows (vocab_size in config.json): they do not belong together`);
  }
  if (m - t > MAX_PADDING_ROWS) {
    throw new ModelError(`the model in ${folder} has ${m} output rows but its tokenizer ${t} tokens: more than padding, they do not belong together`);
  }
}
