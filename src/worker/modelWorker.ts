/**
 * The model worker: ONNX language models (transformers.js on ONNX Runtime, native or WASM), the Hugging Face
 * model cache and downloads, a remote completions endpoint, and SAE features. Separate from the tokenization
 * worker, which stays small: this one starts when a model is first needed and can be terminated to free its
 * memory.
 *
 * Models load on first use and stay loaded (at most MAX_LOADED, least recently used unloaded first). Every
 * request can be cancelled; scoring and downloads report progress. Only 'load', 'score' and 'features' for a
 * repo id not in the cache touch the network, and only with `hub.allowDownloads`.
 */
import { join } from 'node:path';
import { loadOnnxHiddenStates, loadOnnxModel, ModelError, type ModelSource, type OnnxCausalLM, type OnnxHiddenStates } from '../core/lm/onnx';
import { LmAbortError } from '../core/lm/model';
import { nextByteDistribution } from '../core/lm/nextByte';
import { onnxBackend } from '../core/lm/onnx/backend';
import { RemoteCompletionsModel, RemoteEndpointError } from '../core/lm/remote';
import { remoteNextByteDistribution } from '../core/lm/remoteNextByte';
import { DownloadError, type ModelDownloadOptions } from '../core/models/download';
import { defaultHubCacheDir, HubCacheError, listCachedModels, removeCachedModel } from '../core/models/hubCache';
import { documentFeatures } from '../core/sae/documentFeatures';
import { resolveSaeSpec } from '../core/sae/download';
import { EncodeCancelledError } from '../core/sae/encode';
import { SaeError } from '../core/sae/errors';
import { checkLabelsFit, loadFeatureLabels, type FeatureLabels } from '../core/sae/labels';
import { loadSae } from '../core/sae/loader';
import type { SparseAutoencoder } from '../core/sae/types';
import { TokenizerError } from '../core/tokenizers/errors';
import { MODEL_WORKER, type HubSettings, type ModelDescription, type ModelEvents, type ModelProgress, type ModelRef, type ModelRequests, type SaeRef } from '../protocol/modelWorker';
import { scoresTransfer, type ScoresPayload } from '../protocol/payloads';
import type { WorkerErrorCode } from '../protocol/requests';
import { featureIndexHandlers } from './featureIndexJobs';
import { featuresPayload, featuresTransfer } from './featuresPayload';
import { errorMessage, serve, type RequestContext } from './serve';
import { loadRef } from './tokenizers';

const MAX_LOADED = 2;

type Report = (p: ModelProgress) => void;

/** A model-backed object being loaded or loaded; whoever waits for it hears its download progress. */
interface Loading<T> {
  readonly value: Promise<T>;
  readonly listeners: Set<Report>;
}

const loaded = new Map<string, Loading<OnnxCausalLM>>();
/** Hidden-state readers (tap graphs) and SAEs, kept like the models: the last few used. */
const hiddenSources = new Map<string, Loading<OnnxHiddenStates>>();
const saes = new Map<string, Loading<{ sae: SparseAutoencoder; labels?: FeatureLabels }>>();

function modelKey(ref: ModelRef): string {
  return `${ref.dtype ?? 'fp32'}|${ref.threads ?? 0}|${ref.spec}`;
}

function hubOptions(hub: HubSettings, signal: AbortSignal, report: Report, dtype: ModelRef['dtype']): ModelDownloadOptions & { cacheDir: string } {
  return {
    cacheDir: hub.cacheDir ?? defaultHubCacheDir(),
    allowDownloads: hub.allowDownloads,
    host: hub.host,
    revision: hub.revision,
    token: hub.token,
    dtype,
    signal,
    onProgress: (download) => report({ stage: 'download', download }),
  };
}

/**
 * Gets `key` from an LRU cache, creating it with `make`; a failed load is forgotten. The caller's `report`
 * hears the load's progress while it waits.
 */
async function lru<T>(cache: Map<string, Loading<T>>, key: string, report: Report, make: (report: Report) => Promise<T>, release: (v: T) => void = () => undefined): Promise<T> {
  let entry = cache.get(key);
  if (entry) {
    cache.delete(key);
    cache.set(key, entry);
  } else {
    const listeners = new Set<Report>();
    const made: Loading<T> = { value: make((p) => listeners.forEach((l) => l(p))), listeners };
    entry = made;
    cache.set(key, made);
    made.value.catch(() => {
      if (cache.get(key) === made) cache.delete(key);
    });
    while (cache.size > MAX_LOADED) {
      const [oldKey, old] = cache.entries().next().value as [string, Loading<T>];
      cache.delete(oldKey);
      old.value.then(release).catch(() => undefined);
    }
  }
  entry.listeners.add(report);
  try {
    return await entry.value;
  } finally {
    entry.listeners.delete(report);
  }
}

let runtimeAnnounced = false;
/** Tells the host once which ONNX Runtime this worker's models run on (it says so when it is the slower WASM one). */
function announceRuntime(): void {
  if (runtimeAnnounced) return;
  runtimeAnnounced = true;
  const { kind, origin } = onnxBackend();
  emit('runtime', { runtime: kind, origin });
}

/** A model-backed object for a ref, from its LRU cache or loaded (a repo id through the cache, downloaded only when allowed). */
function byRef<T extends { dispose(): Promise<void> }>(cache: Map<string, Loading<T>>, load: (spec: string, source: ModelSource) => Promise<T>, ref: ModelRef, hub: HubSettings, ctx: RequestContext<ModelProgress>): Promise<T> {
  return lru(
    cache,
    modelKey(ref),
    ctx.progress,
    async (report) => {
      const h = hubOptions(hub, ctx.signal, report, ref.dtype);
      const m = await load(ref.spec, { ...h, threads: ref.threads, onDownloadProgress: h.onProgress });
      announceRuntime();
      return m;
    },
    (m) => void m.dispose(),
  );
}

const getModel = (ref: ModelRef, hub: HubSettings, ctx: RequestContext<ModelProgress>): Promise<OnnxCausalLM> => byRef(loaded, loadOnnxModel, ref, hub, ctx);
const getHiddenSource = (ref: ModelRef, hub: HubSettings, ctx: RequestContext<ModelProgress>): Promise<OnnxHiddenStates> => byRef(hiddenSources, loadOnnxHiddenStates, ref, hub, ctx);

function getSae(ref: SaeRef, hub: HubSettings, ctx: RequestContext<ModelProgress>): Promise<{ sae: SparseAutoencoder; labels?: FeatureLabels }> {
  return lru(saes, JSON.stringify([ref.spec, ref.subfolder ?? '', ref.hook ?? '', ref.labels ?? '']), ctx.progress, async (report) => {
    const h = hubOptions(hub, ctx.signal, report, undefined);
    const path = await resolveSaeSpec(ref.spec, { ...h, subfolder: ref.subfolder });
    const sae = loadSae(path, { subfolder: ref.subfolder, hook: ref.hook });
    if (!ref.labels) return { sae };
    const labels = loadFeatureLabels(ref.labels, { neuronpediaId: sae.neuronpediaId });
    checkLabelsFit(labels, sae.dSae);
    return { sae, labels };
  });
}

function describe(m: OnnxCausalLM): ModelDescription {
  const i = m.info;
  return {
    spec: i.id,
    folder: i.folder,
    modelType: i.modelType,
    dtype: i.dtype,
    vocabSize: i.vocabSize,
    modelVocabSize: i.modelVocabSize,
    contextLength: i.contextLength,
    startContext: i.startContext,
    endOfTextId: i.endOfTextId,
    runtime: i.runtime,
    loadMs: i.loadMs,
  };
}

function errorCode(e: unknown): WorkerErrorCode {
  if (e instanceof LmAbortError || e instanceof EncodeCancelledError || (e instanceof Error && e.name === 'AbortError')) return 'cancelled';
  if (e instanceof DownloadError) {
    switch (e.kind) {
      case 'disabled':
        return 'downloads-off';
      case 'verification':
        return 'verification';
      case 'not-found':
        return 'not-found';
      case 'cancelled':
        return 'cancelled';
      default:
        return 'network';
    }
  }
  if (e instanceof RemoteEndpointError) return 'endpoint';
  if (e instanceof ModelError || e instanceof TokenizerError || e instanceof HubCacheError || e instanceof SaeError) return 'model';
  return 'internal';
}

/** Unloads what was loaded from a repository's cache folder (its sessions stay in memory otherwise). */
async function unloadRepo<T>(cache: Map<string, Loading<T>>, fromRepo: (v: T) => boolean, dispose: (v: T) => Promise<void>): Promise<void> {
  for (const [key, entry] of [...cache]) {
    const v = await entry.value.catch(() => undefined);
    if (v !== undefined && fromRepo(v)) {
      cache.delete(key);
      await dispose(v);
    }
  }
}

const featureIndex = featureIndexHandlers({ getHiddenSource, getSae });

const emit = serve<ModelRequests, Record<never, never>, ModelEvents>(
  MODEL_WORKER,
  {
    ...featureIndex,
    load: async (p, ctx) => describe(await getModel(p.model, p.hub, ctx)),
    score: async (p, ctx) => {
      const m = await getModel(p.model, p.hub, ctx);
      const t0 = performance.now();
      const s = await m.score(p.ids, { topK: p.topK, signal: ctx.signal, onProgress: (done, total) => ctx.progress({ stage: 'tokens', done, total }) });
      // Copies: the model keeps its last scores to reuse after an edit.
      const scores: ScoresPayload = { count: s.count, topK: s.topK, logProbs: s.logProbs.slice(), ranks: s.ranks.slice(), entropies: s.entropies.slice(), topIds: s.topIds.slice(), topLogProbs: s.topLogProbs.slice() };
      ctx.transfer(...scoresTransfer(scores));
      return { model: m.id, scores, elapsedMs: performance.now() - t0 };
    },
    listCache: async (p) => {
      const cacheDir = p.cacheDir ?? defaultHubCacheDir();
      return { cacheDir, models: listCachedModels(cacheDir) };
    },
    removeCached: async (p) => {
      const cacheDir = p.cacheDir ?? defaultHubCacheDir();
      const repoFolder = join(cacheDir, `models--${p.repoId.replace('/', '--')}`);
      await unloadRepo(loaded, (m) => m.info.id === p.repoId || m.info.folder.startsWith(repoFolder), (m) => m.dispose());
      await unloadRepo(hiddenSources, (h) => h.modelName === p.repoId || h.folder.startsWith(repoFolder), (h) => h.dispose());
      return { repoId: p.repoId, bytes: removeCachedModel(cacheDir, p.repoId) };
    },
    nextBytes: async (p, ctx) => {
      const m = await getModel(p.model, p.hub, ctx);
      const r = await nextByteDistribution(m, m.tokenizer.tokenizer, p.text, p.utf16Offset, { documentStream: p.stream });
      return { offset: r.offset, byteOffset: r.byteOffset, exact: r.exact, inexactReason: r.inexactReason, window: r.window, distribution: r.distribution, naive: r.naive, healing: r.healing, topCharacters: r.topCharacters, ...(r.spaceAs ? { spaceAs: r.spaceAs } : {}), ms: r.ms };
    },
    remoteNextBytes: async (p, ctx) => {
      const tok = await loadRef(p.tokenizer);
      const endpoint = new RemoteCompletionsModel(p.endpoint, tok.tokenizer);
      const r = await remoteNextByteDistribution(endpoint, tok.tokenizer, p.text, p.utf16Offset, { documentStream: p.stream, signal: ctx.signal });
      return {
        offset: r.offset,
        byteOffset: r.byteOffset,
        exact: r.exact,
        inexactReason: r.inexactReason,
        window: r.window,
        distribution: r.distribution,
        naive: r.naive,
        healing: r.healing,
        topCharacters: r.topCharacters,
        ...(r.spaceAs ? { spaceAs: r.spaceAs } : {}),
        ms: r.ms,
        topKOnly: r.truncated ? { topK: r.topK, maxMissingMass: r.maxMissingMass, prompts: r.prompts, analysisInexactReason: r.analysisInexactReason } : undefined,
      };
    },
    features: async (p, ctx) => {
      const source = await getHiddenSource(p.model, p.hub, ctx);
      const { sae, labels } = await getSae(p.sae, p.hub, ctx);
      const t0 = performance.now();
      const r = await documentFeatures(p.text, source.tokenizer.tokenizer, source, sae, {
        encoder: p.encoder,
        k: p.k,
        m: p.m,
        allowSpecial: p.allowSpecial,
        signal: ctx.signal,
        onProgress: (done, total) => ctx.progress({ stage: 'tokens', done, total }),
      });
      const result = featuresPayload(p.text, p.model.spec, sae, r, labels, performance.now() - t0);
      ctx.transfer(...featuresTransfer(result));
      return result;
    },
    remoteScore: async (p, ctx) => {
      const tok = await loadRef(p.tokenizer);
      const endpoint = new RemoteCompletionsModel(p.endpoint, tok.tokenizer);
      const t0 = performance.now();
      const s = await endpoint.score(p.ids, { signal: ctx.signal, startContext: p.startContext, onProgress: (done, total) => ctx.progress({ done, total }) });
      const scores: ScoresPayload = { count: s.count, topK: s.topK, logProbs: s.logProbs, ranks: null, entropies: null, topIds: s.topIds, topLogProbs: s.topLogProbs };
      ctx.transfer(...scoresTransfer(scores));
      return { model: endpoint.id, scores, elapsedMs: performance.now() - t0 };
    },
  },
  {},
  (e) => {
    const code = errorCode(e);
    return { code, message: code === 'cancelled' ? 'cancelled' : errorMessage(e) };
  },
);
