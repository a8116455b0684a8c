/**
 * Messages between the extension host and the model worker (src/worker/modelWorker.ts): ONNX models, the
 * model cache and downloads, and a remote completions endpoint. Typed and validated here, in the style of
 * protocol.ts: a message that does not match is logged and ignored, never acted on.
 *
 * Token ids travel as Uint32Arrays and scores as typed arrays, transferred, not copied.
 */
import type { RemoteEndpointConfig } from './core/lm/remote';
import type { DownloadProgress } from './core/models/download';
import { ENCODER_KINDS, type EncoderKind } from './core/sae/encoderKinds';
import { isInt, isNum, isObj, isShortStr, isStr, optional } from './validate';
import type { CachedModel } from './core/models/hubCache';

/** Weight variants (`onnx/model{suffix}.onnx`); the same names as core/lm/onnx/folder.ts's ONNX_DTYPES. */
export const MODEL_DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

/** Where models come from and whether the network may be used (tokenInspector.allowDownloads, …). */
export interface HubSettings {
  readonly allowDownloads: boolean;
  /** Default: the standard Hugging Face cache (~/.cache/huggingface/hub, $HF_HUB_CACHE, $HF_HOME/hub). */
  readonly cacheDir?: string;
  /** Default https://huggingface.co. */
  readonly host?: string;
  readonly revision?: string;
  readonly token?: string;
}

/** A model by folder path (a model folder or a Hugging Face cache folder) or by hub repo id. */
export interface ModelRef {
  readonly spec: string;
  readonly dtype?: ModelDtype;
  /** ONNX Runtime threads (default: up to 4, leaving a core free). */
  readonly threads?: number;
}

/** The endpoint settings the host may send (core/lm/remote.ts documents each). */
export type RemoteEndpointSettings = Pick<RemoteEndpointConfig, 'url' | 'apiKey' | 'model' | 'topK' | 'timeoutMs' | 'maxPromptTokens'>;

/** The tokenizer an endpoint's model uses, as the token worker names it (a bundled id, or a path). */
export interface EndpointTokenizerRef {
  readonly id: string;
  readonly path?: string;
}

/** An SAE by folder/file path or hub repo id, with what picks one SAE out of a repository. */
export interface SaeRef {
  readonly spec: string;
  /** The SAE's folder inside the repository or folder (SAELens `sae_id`, a sparsify module, a Gemma Scope path). */
  readonly subfolder?: string;
  /** Overrides the hook the SAE's config names. */
  readonly hook?: string;
  /** Feature labels: a Neuronpedia export (JSONL) or an `{index: label}` JSON file. */
  readonly labels?: string;
}

export type HostToModelWorker =
  | { readonly kind: 'load'; readonly requestId: number; readonly model: ModelRef; readonly hub: HubSettings }
  | { readonly kind: 'score'; readonly requestId: number; readonly model: ModelRef; readonly hub: HubSettings; readonly ids: Uint32Array; readonly topK: number }
  | {
      readonly kind: 'next';
      readonly requestId: number;
      readonly model: ModelRef;
      readonly hub: HubSettings;
      /** The ids before the position (from the text's start, or a long tail of it). */
      readonly context: Uint32Array;
      readonly topK: number;
      /** Also send every id's log-probability (Float32Array, vocabulary-sized). */
      readonly dense: boolean;
    }
  | { readonly kind: 'download'; readonly requestId: number; readonly repoId: string; readonly dtype?: ModelDtype; readonly hub: HubSettings }
  | { readonly kind: 'listCache'; readonly requestId: number; readonly cacheDir?: string }
  | { readonly kind: 'removeCached'; readonly requestId: number; readonly cacheDir?: string; readonly repoId: string }
  | {
      readonly kind: 'remoteScore';
      readonly requestId: number;
      readonly endpoint: RemoteEndpointSettings;
      readonly tokenizer: EndpointTokenizerRef;
      readonly ids: Uint32Array;
      readonly startContext?: readonly number[];
    }
  | {
      readonly kind: 'features';
      readonly requestId: number;
      readonly model: ModelRef;
      readonly hub: HubSettings;
      readonly sae: SaeRef;
      /** The document's text: the model tokenizes it with its own tokenizer. */
      readonly text: string;
      readonly encoder?: EncoderKind;
      readonly k?: number;
      readonly m?: number;
      readonly allowSpecial: boolean;
    }
  | { readonly kind: 'cancel'; readonly requestId: number }
  | { readonly kind: 'unload'; readonly model: ModelRef };

export interface ModelDescription {
  /** The spec it was loaded by. */
  readonly spec: string;
  /** The folder read (a snapshot folder for a cached repo). */
  readonly folder: string;
  readonly modelType: string;
  readonly dtype: ModelDtype;
  /** Ids the distributions range over (the tokenizer's). */
  readonly vocabSize: number;
  readonly modelVocabSize: number;
  readonly contextLength: number;
  readonly startContext: readonly number[];
  readonly endOfTextId: number;
  readonly runtime: string;
  readonly loadMs: number;
}

/**
 * Scores of a token sequence, named as core/lm/score.ts's DocumentScores (see core/lm/onnx ScoredTokens);
 * ranks and entropies are null from an endpoint.
 */
export interface ScoresPayload {
  readonly count: number;
  readonly topK: number;
  readonly logProbs: Float64Array;
  /** 1-based ranks; null where not available (remote endpoints). */
  readonly ranks: Float64Array | null;
  /** nats; null where not available (remote endpoints). */
  readonly entropies: Float64Array | null;
  /** count×topK; -1 where fewer. */
  readonly topIds: Int32Array;
  /** count×topK; -Infinity where fewer. */
  readonly topLogProbs: Float64Array;
}

export interface NextTokenPayload {
  readonly entropyNats: number;
  readonly top: readonly { readonly id: number; readonly logProb: number }[];
  readonly logProbs?: Float32Array;
}

/**
 * A document's SAE features as flat arrays, one row per token the model read (stream tokens and added ones).
 * Row t's features are entries rowStart[t] .. rowStart[t+1]-1, strongest first; `selected` is the count before
 * any cap (`truncated`), `active` those with activation > 0.
 */
export interface FeaturesPayload {
  readonly model: string;
  readonly sae: { readonly path: string; readonly format: string; readonly architecture: string; readonly hook: string; readonly dIn: number; readonly dSae: number };
  readonly encoder: EncoderKind;
  readonly k: number | null;
  readonly m: number | null;
  readonly tokenCount: number;
  readonly ids: Uint32Array;
  /** UTF-16 range each token covers in the text (a token that splits a character covers the whole character). */
  readonly utf16Start: Uint32Array;
  readonly utf16End: Uint32Array;
  readonly byteStart: Uint32Array;
  readonly byteEnd: Uint32Array;
  /** 1 for a token the model adds (BOS/EOS): zero-width at the start or end. */
  readonly added: Uint8Array;
  readonly rowStart: Uint32Array;
  readonly featureIndex: Uint32Array;
  readonly activation: Float32Array;
  readonly selected: Uint32Array;
  readonly active: Uint32Array;
  readonly normalizedMse: Float32Array;
  readonly varianceExplained: Float32Array;
  /** Features by total activation over the document, strongest first (at most RANKED_FEATURES). */
  readonly ranking: readonly { readonly index: number; readonly totalActivation: number; readonly activeTokens: number; readonly maxActivation: number }[];
  /** Labels of the features that appear above (features without one show their index). */
  readonly labels: Readonly<Record<string, string>>;
  readonly truncated: boolean;
  readonly warnings: readonly string[];
  readonly elapsedMs: number;
}

/** Why a request failed, for the host to choose what to show. */
export type ModelErrorCode = 'cancelled' | 'model' | 'downloads-off' | 'network' | 'verification' | 'not-found' | 'endpoint' | 'internal';

export type ModelWorkerToHost =
  | { readonly kind: 'loaded'; readonly requestId: number; readonly model: ModelDescription }
  | { readonly kind: 'scored'; readonly requestId: number; readonly model: string; readonly scores: ScoresPayload; readonly elapsedMs: number }
  | { readonly kind: 'next'; readonly requestId: number; readonly result: NextTokenPayload }
  | { readonly kind: 'downloaded'; readonly requestId: number; readonly repoId: string; readonly folder: string; readonly downloadedBytes: number }
  | { readonly kind: 'cache'; readonly requestId: number; readonly cacheDir: string; readonly models: readonly CachedModel[] }
  | { readonly kind: 'removed'; readonly requestId: number; readonly repoId: string; readonly bytes: number }
  | { readonly kind: 'features'; readonly requestId: number; readonly result: FeaturesPayload }
  /** Scoring progress (tokens). */
  | { readonly kind: 'progress'; readonly requestId: number; readonly done: number; readonly total: number }
  /** Download progress (bytes). */
  | { readonly kind: 'downloadProgress'; readonly requestId: number; readonly progress: DownloadProgress }
  | { readonly kind: 'error'; readonly requestId: number; readonly code: ModelErrorCode; readonly message: string }
  /** Once per worker, with its first model (request id 0: it answers none): which ONNX Runtime runs the models (WASM is the slower fallback) and from where. */
  | { readonly kind: 'runtime'; readonly requestId: number; readonly runtime: 'native' | 'wasm'; readonly origin: string };

// ---------- validation ----------

const MAX_IDS = 1 << 24;

export function isModelDtype(x: unknown): x is ModelDtype {
  return isStr(x) && (MODEL_DTYPES as readonly string[]).includes(x);
}

export function isModelRef(x: unknown): x is ModelRef {
  return isObj(x) && isShortStr(x.spec) && optional(x.dtype, isModelDtype) && optional(x.threads, (t): t is number => isInt(t) && t >= 1 && t <= 256);
}

export function isHubSettings(x: unknown): x is HubSettings {
  return (
    isObj(x) &&
    typeof x.allowDownloads === 'boolean' &&
    optional(x.cacheDir, isShortStr) &&
    optional(x.host, (h): h is string => isShortStr(h, 2048)) &&
    optional(x.revision, (r): r is string => isShortStr(r, 256)) &&
    optional(x.token, (t): t is string => isShortStr(t, 1024))
  );
}

function isEndpoint(x: unknown): x is RemoteEndpointSettings {
  return (
    isObj(x) &&
    isShortStr(x.url, 2048) &&
    optional(x.apiKey, (k): k is string => isShortStr(k, 4096)) &&
    optional(x.model, (m): m is string => isShortStr(m, 512)) &&
    optional(x.topK, (k): k is number => isInt(k) && k >= 1 && k <= 20) &&
    optional(x.timeoutMs, (t): t is number => isInt(t) && t >= 1 && t <= 3_600_000) &&
    optional(x.maxPromptTokens, (t): t is number => isInt(t) && t >= 8 && t <= 1 << 20)
  );
}

/** Documents VS Code hands to extensions are at most 50 MB. */
const MAX_TEXT_UNITS = 64 * 2 ** 20;
const isEncoderKind = (x: unknown): x is EncoderKind => isStr(x) && (ENCODER_KINDS as readonly string[]).includes(x);
const isBudget = (x: unknown): x is number => isInt(x) && x >= 1 && x <= 1 << 20;

export function isSaeRef(x: unknown): x is SaeRef {
  return isObj(x) && isShortStr(x.spec) && optional(x.subfolder, isShortStr) && optional(x.hook, (h): h is string => isShortStr(h, 256)) && optional(x.labels, isShortStr);
}

const isIds = (x: unknown): x is Uint32Array => x instanceof Uint32Array && x.length <= MAX_IDS;
const isTopK = (x: unknown): x is number => isInt(x) && x <= 1000;

export function isHostToModelWorker(x: unknown): x is HostToModelWorker {
  if (!isObj(x)) return false;
  switch (x.kind) {
    case 'load':
      return isInt(x.requestId) && isModelRef(x.model) && isHubSettings(x.hub);
    case 'score':
      return isInt(x.requestId) && isModelRef(x.model) && isHubSettings(x.hub) && isIds(x.ids) && isTopK(x.topK);
    case 'next':
      return isInt(x.requestId) && isModelRef(x.model) && isHubSettings(x.hub) && isIds(x.context) && isTopK(x.topK) && typeof x.dense === 'boolean';
    case 'download':
      return isInt(x.requestId) && isShortStr(x.repoId, 256) && optional(x.dtype, isModelDtype) && isHubSettings(x.hub);
    case 'listCache':
      return isInt(x.requestId) && optional(x.cacheDir, isShortStr);
    case 'removeCached':
      return isInt(x.requestId) && optional(x.cacheDir, isShortStr) && isShortStr(x.repoId, 256);
    case 'remoteScore':
      return (
        isInt(x.requestId) &&
        isEndpoint(x.endpoint) &&
        isObj(x.tokenizer) &&
        isShortStr(x.tokenizer.id) &&
        optional(x.tokenizer.path, isShortStr) &&
        isIds(x.ids) &&
        optional(x.startContext, (s): s is number[] => Array.isArray(s) && s.length <= 16 && s.every(isInt))
      );
    case 'features':
      return (
        isInt(x.requestId) &&
        isModelRef(x.model) &&
        isHubSettings(x.hub) &&
        isSaeRef(x.sae) &&
        isStr(x.text) &&
        x.text.length <= MAX_TEXT_UNITS &&
        optional(x.encoder, isEncoderKind) &&
        optional(x.k, isBudget) &&
        optional(x.m, isBudget) &&
        typeof x.allowSpecial === 'boolean'
      );
    case 'cancel':
      return isInt(x.requestId);
    case 'unload':
      return isModelRef(x.model);
    default:
      return false;
  }
}

function isScores(x: unknown): x is ScoresPayload {
  if (!isObj(x) || !isInt(x.count) || !isInt(x.topK)) return false;
  const n = x.count;
  const k = x.topK;
  return (
    x.logProbs instanceof Float64Array &&
    x.logProbs.length === n &&
    (x.ranks === null || (x.ranks instanceof Float64Array && x.ranks.length === n)) &&
    (x.entropies === null || (x.entropies instanceof Float64Array && x.entropies.length === n)) &&
    x.topIds instanceof Int32Array &&
    x.topIds.length === n * k &&
    x.topLogProbs instanceof Float64Array &&
    x.topLogProbs.length === n * k
  );
}

function isDescription(x: unknown): x is ModelDescription {
  return (
    isObj(x) &&
    isStr(x.spec) &&
    isStr(x.folder) &&
    isStr(x.modelType) &&
    isModelDtype(x.dtype) &&
    isInt(x.vocabSize) &&
    isInt(x.modelVocabSize) &&
    isInt(x.contextLength) &&
    Array.isArray(x.startContext) &&
    x.startContext.every(isInt) &&
    isInt(x.endOfTextId) &&
    isStr(x.runtime) &&
    isNum(x.loadMs)
  );
}

/** Features ranked in a payload. */
export const RANKED_FEATURES = 200;

function isFeaturesPayload(x: unknown): x is FeaturesPayload {
  if (!isObj(x) || !isInt(x.tokenCount) || !isObj(x.sae) || !isEncoderKind(x.encoder)) return false;
  const n = x.tokenCount;
  const rows = [x.ids, x.utf16Start, x.utf16End, x.byteStart, x.byteEnd, x.selected, x.active];
  if (!rows.every((a) => a instanceof Uint32Array && a.length === n)) return false;
  if (!(x.added instanceof Uint8Array && x.added.length === n && x.normalizedMse instanceof Float32Array && x.normalizedMse.length === n)) return false;
  if (!(x.varianceExplained instanceof Float32Array && x.varianceExplained.length === n)) return false;
  if (!(x.rowStart instanceof Uint32Array && x.rowStart.length === n + 1)) return false;
  const entries = x.rowStart[n];
  for (let t = 0; t < n; t++) if (x.rowStart[t] > x.rowStart[t + 1]) return false;
  const s = x.sae;
  return (
    x.featureIndex instanceof Uint32Array &&
    x.featureIndex.length === entries &&
    x.activation instanceof Float32Array &&
    x.activation.length === entries &&
    isStr(s.path) &&
    isStr(s.format) &&
    isStr(s.architecture) &&
    isStr(s.hook) &&
    isInt(s.dIn) &&
    isInt(s.dSae) &&
    x.featureIndex.every((f) => f < (s.dSae as number)) &&
    isStr(x.model) &&
    (x.k === null || isInt(x.k)) &&
    (x.m === null || isInt(x.m)) &&
    Array.isArray(x.ranking) &&
    x.ranking.length <= RANKED_FEATURES &&
    x.ranking.every((r: unknown) => isObj(r) && isInt(r.index) && isNum(r.totalActivation) && isInt(r.activeTokens) && isNum(r.maxActivation)) &&
    isObj(x.labels) &&
    Object.values(x.labels).every(isStr) &&
    typeof x.truncated === 'boolean' &&
    Array.isArray(x.warnings) &&
    x.warnings.every(isStr) &&
    isNum(x.elapsedMs)
  );
}

const ERROR_CODES: readonly ModelErrorCode[] = ['cancelled', 'model', 'downloads-off', 'network', 'verification', 'not-found', 'endpoint', 'internal'];

export function isModelWorkerToHost(x: unknown): x is ModelWorkerToHost {
  if (!isObj(x) || !isInt(x.requestId)) return false;
  switch (x.kind) {
    case 'loaded':
      return isDescription(x.model);
    case 'scored':
      return isStr(x.model) && isScores(x.scores) && isNum(x.elapsedMs);
    case 'next':
      return (
        isObj(x.result) &&
        isNum(x.result.entropyNats) &&
        Array.isArray(x.result.top) &&
        x.result.top.every((t: unknown) => isObj(t) && isInt(t.id) && typeof t.logProb === 'number') &&
        (x.result.logProbs === undefined || x.result.logProbs instanceof Float32Array)
      );
    case 'downloaded':
      return isStr(x.repoId) && isStr(x.folder) && isInt(x.downloadedBytes);
    case 'cache':
      return isStr(x.cacheDir) && Array.isArray(x.models) && x.models.every((m: unknown) => isObj(m) && isStr(m.repoId) && isInt(m.sizeBytes));
    case 'removed':
      return isStr(x.repoId) && isInt(x.bytes);
    case 'features':
      return isFeaturesPayload(x.result);
    case 'progress':
      return isInt(x.done) && isInt(x.total);
    case 'downloadProgress':
      return isObj(x.progress) && isStr(x.progress.file) && isInt(x.progress.bytes) && isInt(x.progress.filesDone) && isInt(x.progress.files);
    case 'error':
      return ERROR_CODES.includes(x.code as ModelErrorCode) && isStr(x.message);
    case 'runtime':
      return (x.runtime === 'native' || x.runtime === 'wasm') && isStr(x.origin);
    default:
      return false;
  }
}
