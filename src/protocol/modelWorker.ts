/**
 * The model worker (src/worker/modelWorker.ts): ONNX models, the model cache and downloads, a remote
 * completions endpoint, and SAE features. It starts when a model is first needed and can be terminated to free
 * its memory. Token ids travel as Uint32Arrays and scores as typed arrays, transferred, not copied.
 */
import type { RemoteEndpointConfig } from '../core/lm/remote';
import type { OnnxBackendKind } from '../core/lm/onnx/backend';
import type { DownloadProgress } from '../core/models/download';
import type { CachedModel } from '../core/models/hubCache';
import { isEncoderKind, type EncoderKind } from '../core/sae/encoderKinds';
import { isNextBytes, isScores, isStream, isTokenizerRef, type NextBytesPayload, type ScoresPayload, type StreamPayload, type TokenizerRef } from './payloads';
import { isStepProgress, type RequestType, type StepProgress, type WorkerProtocol } from './requests';
import { MAX_TEXT_UTF16 } from './tokenWorker';
import type { FeatureLabelJson, FeatureReport } from '../core/sae/workspaceIndex/featureReport';
import { isInt, isNum, isObj, isShortStr, isStr, optional, type Obj } from './validate';

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

/** Scores of ids by a model (`model`: its spec, or the endpoint's name). */
export interface ModelScores {
  readonly model: string;
  readonly scores: ScoresPayload;
  readonly elapsedMs: number;
}

/** Downloading (bytes, as the core reports them), then tokens scored or windows read. */
export type ModelProgress = { readonly stage: 'download'; readonly download: DownloadProgress } | ({ readonly stage: 'tokens' } & StepProgress);

export interface ModelParams {
  readonly model: ModelRef;
  readonly hub: HubSettings;
}

export interface RemoteScoreParams {
  readonly endpoint: RemoteEndpointSettings;
  /** The tokenizer the endpoint's model uses, as the tokenization worker names it. */
  readonly tokenizer: TokenizerRef;
  readonly ids: Uint32Array;
  readonly startContext?: readonly number[];
}

export interface FeaturesParams extends ModelParams {
  readonly sae: SaeRef;
  /** The document's text: the model tokenizes it with its own tokenizer. */
  readonly text: string;
  readonly encoder?: EncoderKind;
  readonly k?: number;
  readonly m?: number;
  readonly allowSpecial: boolean;
}

/** The next byte at a UTF-16 offset of a text, with the ONNX model; `stream` is the text's tokens under the model's tokenizer. */
export interface ModelNextBytesParams extends ModelParams {
  readonly text: string;
  readonly stream: StreamPayload;
  readonly utf16Offset: number;
}

/** The next byte at a UTF-16 offset with a remote endpoint's top-k; `stream` is the text's tokens under `tokenizer`. */
export interface RemoteNextBytesParams {
  readonly endpoint: RemoteEndpointSettings;
  /** The tokenizer the endpoint's model uses, as the tokenization worker names it. */
  readonly tokenizer: TokenizerRef;
  readonly text: string;
  readonly stream: StreamPayload;
  readonly utf16Offset: number;
}

/** Build or update the workspace feature index (core/sae/workspaceIndex) saved at `indexPath`. */
export interface FeatureIndexParams extends ModelParams {
  readonly sae: SaeRef;
  /** The workspace folder (absolute). */
  readonly root: string;
  /** VS Code's files.exclude globs, relative to the folder. */
  readonly exclude: readonly string[];
  readonly indexPath: string;
  /** Only these files (relative to the folder, `/`): a saved file's update; absent: the whole folder. */
  readonly only?: readonly string[];
}

export interface FeatureIndexResult {
  readonly indexPath: string;
  readonly dSae: number;
  readonly files: number;
  readonly tokens: number;
  readonly filesIndexed: number;
  readonly filesUnchanged: number;
  readonly filesRemoved: number;
  readonly elapsedMs: number;
}

/** Loading the model (downloads), then files read through it. */
export type FeatureIndexProgress = ModelProgress | { readonly stage: 'files'; readonly done: number; readonly total: number; readonly path?: string };

/** One feature of a saved index (the index, the SAE and its labels name where to read). */
export interface FeatureQueryParams extends ModelParams {
  readonly sae: SaeRef;
  readonly indexPath: string;
  readonly feature: number;
}

/** Find Feature…: by index or label text (`query`), or the features that fire most on a text (`text`). */
export interface FindFeaturesParams extends ModelParams {
  readonly sae: SaeRef;
  readonly indexPath: string;
  readonly query?: string;
  readonly text?: string;
  readonly allowSpecial: boolean;
}

export interface FoundFeature {
  readonly index: number;
  readonly label: FeatureLabelJson | null;
  readonly maxActivation: number;
  readonly frequency: number;
  /** For a text search: the feature's total activation over the text. */
  readonly totalActivation?: number;
}

export type ModelRequests = {
  load: RequestType<ModelParams, ModelDescription, ModelProgress>;
  score: RequestType<ModelParams & { readonly ids: Uint32Array; readonly topK: number }, ModelScores, ModelProgress>;
  listCache: RequestType<{ readonly cacheDir?: string }, { readonly cacheDir: string; readonly models: readonly CachedModel[] }>;
  removeCached: RequestType<{ readonly cacheDir?: string; readonly repoId: string }, { readonly repoId: string; readonly bytes: number }>;
  remoteScore: RequestType<RemoteScoreParams, ModelScores, StepProgress>;
  features: RequestType<FeaturesParams, FeaturesPayload, ModelProgress>;
  nextBytes: RequestType<ModelNextBytesParams, NextBytesPayload, ModelProgress>;
  remoteNextBytes: RequestType<RemoteNextBytesParams, NextBytesPayload>;
  featureIndex: RequestType<FeatureIndexParams, FeatureIndexResult, FeatureIndexProgress>;
  feature: RequestType<FeatureQueryParams, FeatureReport, ModelProgress>;
  findFeatures: RequestType<FindFeaturesParams, { readonly matches: readonly FoundFeature[] }, ModelProgress>;
};

/** What the model worker says of its own accord. */
export type ModelEvents = {
  /** Once per worker, with its first model: which ONNX Runtime runs the models (WASM is the slower fallback) and the folder it came from. */
  runtime: { readonly runtime: OnnxBackendKind; readonly origin: string };
};

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

const isBudget = (x: unknown): x is number => isInt(x) && x >= 1 && x <= 1 << 20;

export function isSaeRef(x: unknown): x is SaeRef {
  return isObj(x) && isShortStr(x.spec) && optional(x.subfolder, isShortStr) && optional(x.hook, (h): h is string => isShortStr(h, 256)) && optional(x.labels, isShortStr);
}

const isIds = (x: unknown): x is Uint32Array => x instanceof Uint32Array && x.length <= MAX_IDS;
const isTopK = (x: unknown): x is number => isInt(x) && x <= 1000;

export function isModelDescription(x: unknown): x is ModelDescription {
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

function isDownloadProgress(x: unknown): x is DownloadProgress {
  const optionalInt = (v: unknown): boolean => v === undefined || isInt(v);
  return isObj(x) && isStr(x.file) && isInt(x.fileBytes) && optionalInt(x.fileTotal) && isInt(x.bytes) && optionalInt(x.total) && isInt(x.filesDone) && isInt(x.files);
}

const isModelProgress = (x: unknown): x is ModelProgress =>
  isObj(x) && ((x.stage === 'download' && isDownloadProgress(x.download)) || (x.stage === 'tokens' && isInt(x.done) && isInt(x.total)));

/** The model and hub fields (a boolean, not a type guard, so that the callers can check more fields after it). */
const hasModel = (x: Obj): boolean => isModelRef(x.model) && isHubSettings(x.hub);

const isModelScores = (x: unknown): x is ModelScores => isObj(x) && isStr(x.model) && isScores(x.scores) && isNum(x.elapsedMs);

const MINUTES = 60_000;

const isStrList = (x: unknown, max: number): x is string[] => Array.isArray(x) && x.length <= max && x.every((s) => isShortStr(s));

const isLabelJson = (x: unknown): x is FeatureLabelJson | null => x === null || (isObj(x) && isStr(x.text) && (x.source === 'file' || x.source === 'automatic'));

const isEffectList = (x: unknown): boolean => Array.isArray(x) && x.length <= 1000 && x.every((t: unknown) => isObj(t) && isInt(t.id) && isStr(t.text) && isNum(t.value));

function isFeatureReport(x: unknown): x is FeatureReport {
  if (!isObj(x) || !isInt(x.index) || !isLabelJson(x.label) || !isInt(x.firingTokens) || !isInt(x.workspaceTokens) || !isNum(x.frequency) || !isNum(x.maxActivation)) return false;
  if (!Array.isArray(x.histogram) || !x.histogram.every((b: unknown) => isObj(b) && isNum(b.start) && (b.end === null || isNum(b.end)) && isInt(b.count))) return false;
  const contexts = Array.isArray(x.contexts) && x.contexts.length <= 10_000 && x.contexts.every((c: unknown) =>
    isObj(c) && isNum(c.activation) && isStr(c.path) && isInt(c.byteStart) && isInt(c.byteEnd) && isInt(c.utf16Start) && isInt(c.utf16End) && isInt(c.focus) &&
    Array.isArray(c.tokens) && c.tokens.every(isStr) && Array.isArray(c.activations) && c.activations.every(isNum) && c.tokens.length === c.activations.length && (c.focus as number) < c.tokens.length);
  if (!contexts) return false;
  const e = x.logitEffects;
  return e === null || (isObj(e) && isInt(e.index) && isEffectList(e.promoted) && isEffectList(e.suppressed) && isStr(e.approximation) && isStr(e.norm) && typeof e.tied === 'boolean');
}

const isFoundFeature = (x: unknown): x is FoundFeature =>
  isObj(x) && isInt(x.index) && isLabelJson(x.label) && isNum(x.maxActivation) && isNum(x.frequency) && optional(x.totalActivation, isNum);

const isFeatureIndexProgress = (x: unknown): x is FeatureIndexProgress =>
  isModelProgress(x) || (isObj(x) && x.stage === 'files' && isInt(x.done) && isInt(x.total) && optional(x.path, isStr));

export const MODEL_WORKER = {
  name: 'the model worker',
  params: {
    load: (x): x is ModelParams => isObj(x) && hasModel(x),
    score: (x): x is ModelParams & { ids: Uint32Array; topK: number } => isObj(x) && hasModel(x) && isIds(x.ids) && isTopK(x.topK),
    listCache: (x): x is { cacheDir?: string } => isObj(x) && optional(x.cacheDir, isShortStr),
    removeCached: (x): x is { cacheDir?: string; repoId: string } => isObj(x) && optional(x.cacheDir, isShortStr) && isShortStr(x.repoId, 256),
    remoteScore: (x): x is RemoteScoreParams =>
      isObj(x) &&
      isEndpoint(x.endpoint) &&
      isTokenizerRef(x.tokenizer) &&
      isIds(x.ids) &&
      optional(x.startContext, (s): s is number[] => Array.isArray(s) && s.length <= 16 && s.every(isInt)),
    features: (x): x is FeaturesParams =>
      isObj(x) &&
      hasModel(x) &&
      isSaeRef(x.sae) &&
      isStr(x.text) &&
      x.text.length <= MAX_TEXT_UTF16 &&
      optional(x.encoder, isEncoderKind) &&
      optional(x.k, isBudget) &&
      optional(x.m, isBudget) &&
      typeof x.allowSpecial === 'boolean',
    nextBytes: (x): x is ModelNextBytesParams =>
      isObj(x) && hasModel(x) && isStr(x.text) && x.text.length <= MAX_TEXT_UTF16 && isStream(x.stream) && isInt(x.utf16Offset) && x.utf16Offset <= x.text.length,
    remoteNextBytes: (x): x is RemoteNextBytesParams =>
      isObj(x) && isEndpoint(x.endpoint) && isTokenizerRef(x.tokenizer) && isStr(x.text) && x.text.length <= MAX_TEXT_UTF16 && isStream(x.stream) && isInt(x.utf16Offset) && x.utf16Offset <= x.text.length,
    featureIndex: (x): x is FeatureIndexParams =>
      isObj(x) && hasModel(x) && isSaeRef(x.sae) && isShortStr(x.root) && isStrList(x.exclude, 10_000) && isShortStr(x.indexPath) && optional(x.only, (o): o is string[] => isStrList(o, 100_000)),
    feature: (x): x is FeatureQueryParams => isObj(x) && hasModel(x) && isSaeRef(x.sae) && isShortStr(x.indexPath) && isInt(x.feature) && x.feature < 1 << 24,
    findFeatures: (x): x is FindFeaturesParams =>
      isObj(x) &&
      hasModel(x) &&
      isSaeRef(x.sae) &&
      isShortStr(x.indexPath) &&
      optional(x.query, (q): q is string => isStr(q) && q.length <= 1000) &&
      optional(x.text, (t): t is string => isStr(t) && t.length <= MAX_TEXT_UTF16) &&
      typeof x.allowSpecial === 'boolean',
  },
  results: {
    load: isModelDescription,
    score: isModelScores,
    listCache: (x): x is { cacheDir: string; models: CachedModel[] } =>
      isObj(x) && isStr(x.cacheDir) && Array.isArray(x.models) && x.models.every((m: unknown) => isObj(m) && isStr(m.repoId) && isInt(m.sizeBytes)),
    removeCached: (x): x is { repoId: string; bytes: number } => isObj(x) && isStr(x.repoId) && isInt(x.bytes),
    remoteScore: isModelScores,
    features: isFeaturesPayload,
    nextBytes: isNextBytes,
    remoteNextBytes: isNextBytes,
    featureIndex: (x): x is FeatureIndexResult =>
      isObj(x) && isStr(x.indexPath) && isInt(x.dSae) && isInt(x.files) && isInt(x.tokens) && isInt(x.filesIndexed) && isInt(x.filesUnchanged) && isInt(x.filesRemoved) && isNum(x.elapsedMs),
    feature: isFeatureReport,
    findFeatures: (x): x is { matches: FoundFeature[] } => isObj(x) && Array.isArray(x.matches) && x.matches.every(isFoundFeature),
  },
  progress: { load: isModelProgress, score: isModelProgress, listCache: null, removeCached: null, remoteScore: isStepProgress, features: isModelProgress, nextBytes: isModelProgress, remoteNextBytes: null, featureIndex: isFeatureIndexProgress, feature: isModelProgress, findFeatures: isModelProgress },
  notifications: {},
  events: {
    runtime: (x): x is ModelEvents['runtime'] => isObj(x) && (x.runtime === 'native' || x.runtime === 'wasm') && isShortStr(x.origin),
  },
  deadlines: {
    // Downloads report each chunk; loading a large model reports nothing for a while.
    load: { idleMs: 5 * MINUTES, totalMs: 120 * MINUTES },
    score: { idleMs: 5 * MINUTES, totalMs: 120 * MINUTES },
    listCache: { totalMs: 2 * MINUTES },
    removeCached: { totalMs: 5 * MINUTES },
    // The endpoint's own timeout applies to each of its requests; progress comes between them.
    remoteScore: (p) => ({ idleMs: (p.endpoint.timeoutMs ?? 60_000) + MINUTES, totalMs: 120 * MINUTES }),
    features: { idleMs: 5 * MINUTES, totalMs: 120 * MINUTES },
    // Loading (or downloading) the model, then one forward pass per distinct cover prefix.
    nextBytes: { idleMs: 5 * MINUTES, totalMs: 30 * MINUTES },
    // Requests of at most 16 prompts each, one after another, each within the endpoint's own timeout.
    remoteNextBytes: (p) => ({ totalMs: Math.max(2 * MINUTES, 20 * (p.endpoint.timeoutMs ?? 60_000)) }),
    // Each file read reports; a model load reports nothing for a while.
    featureIndex: { idleMs: 5 * MINUTES, totalMs: 240 * MINUTES },
    feature: { idleMs: 5 * MINUTES, totalMs: 30 * MINUTES },
    findFeatures: { idleMs: 5 * MINUTES, totalMs: 30 * MINUTES },
  },
  labels: {
    load: 'loading a model',
    score: 'scoring with a model',
    listCache: 'listing the model cache',
    removeCached: 'removing a cached model',
    remoteScore: 'scoring with the remote endpoint',
    features: 'computing SAE features',
    nextBytes: 'computing the next byte with a model',
    remoteNextBytes: 'computing the next byte with the remote endpoint',
    featureIndex: 'indexing the workspace’s SAE features',
    feature: 'reading a feature of the workspace feature index',
    findFeatures: 'searching the workspace feature index',
  },
} satisfies WorkerProtocol<ModelRequests, Record<never, never>, ModelEvents>;
