/**
 * The model worker: ONNX language models (transformers.js on ONNX Runtime, native or WASM), the Hugging Face model cache
 * and downloads, and a remote completions endpoint. Separate from the tokenization worker, which stays small:
 * this one starts when a model is first needed and can be terminated to free its memory.
 *
 * Models load on first use and stay loaded (at most MAX_LOADED, least recently used unloaded first). Every
 * request can be cancelled by id; scoring reports progress. Only 'download' (and 'load'/'score'/'next' for
 * a repo id not in the cache) touch the network, and only with `hub.allowDownloads`.
 */
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { loadOnnxHiddenStates, loadOnnxModel, ModelError, type ModelSource, type OnnxCausalLM, type OnnxHiddenStates } from '../core/lm/onnx';
import { LmAbortError } from '../core/lm/model';
import { onnxBackend } from '../core/lm/onnx/backend';
import { RemoteCompletionsModel, RemoteEndpointError } from '../core/lm/remote';
import { DownloadError, downloadModel, type ModelDownloadOptions } from '../core/models/download';
import { defaultHubCacheDir, HubCacheError, listCachedModels, removeCachedModel } from '../core/models/hubCache';
import { documentFeatures } from '../core/sae/documentFeatures';
import { resolveSaeSpec } from '../core/sae/download';
import { EncodeCancelledError } from '../core/sae/encode';
import { SaeError } from '../core/sae/errors';
import { checkLabelsFit, loadFeatureLabels, type FeatureLabels } from '../core/sae/labels';
import { loadSae } from '../core/sae/loader';
import type { SparseAutoencoder } from '../core/sae/types';
import { TokenizerError } from '../core/tokenizers/errors';
import { loadTokenizer } from '../core/tokenizers/loader';
import { isHostToModelWorker, type HostToModelWorker, type HubSettings, type ModelDescription, type ModelErrorCode, type ModelRef, type ModelWorkerToHost, type SaeRef, type ScoresPayload } from '../modelProtocol';
import { featuresPayload, featuresTransfer } from './featuresPayload';

/** Bundled vocabularies, for endpoint tokenizers given by id (as in the tokenization worker). */
const ASSET_DIR = join(__dirname, 'tokenizers');
const MAX_LOADED = 2;

const loaded = new Map<string, Promise<OnnxCausalLM>>();
/** Hidden-state readers (tap graphs) and SAEs, kept like the models: the last few used. */
const hiddenSources = new Map<string, Promise<OnnxHiddenStates>>();
const saes = new Map<string, Promise<{ sae: SparseAutoencoder; labels?: FeatureLabels }>>();
const running = new Map<number, AbortController>();

function post(msg: ModelWorkerToHost, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(msg, transfer);
}

function modelKey(ref: ModelRef): string {
  return `${ref.dtype ?? 'fp32'}|${ref.threads ?? 0}|${ref.spec}`;
}

function hubOptions(hub: HubSettings, signal: AbortSignal, requestId: number, dtype: ModelRef['dtype']): ModelDownloadOptions & { cacheDir: string } {
  return {
    cacheDir: hub.cacheDir ?? defaultHubCacheDir(),
    allowDownloads: hub.allowDownloads,
    host: hub.host,
    revision: hub.revision,
    token: hub.token,
    dtype,
    signal,
    onProgress: (progress) => post({ kind: 'downloadProgress', requestId, progress }),
  };
}

/** Gets `key` from an LRU cache of promises, creating it with `make`; a failed promise is forgotten. */
function lru<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>, release: (v: T) => void = () => undefined): Promise<T> {
  let p = cache.get(key);
  if (p) {
    cache.delete(key);
    cache.set(key, p);
    return p;
  }
  p = make();
  cache.set(key, p);
  const made = p;
  made.catch(() => {
    if (cache.get(key) === made) cache.delete(key);
  });
  while (cache.size > MAX_LOADED) {
    const [oldKey, old] = cache.entries().next().value as [string, Promise<T>];
    cache.delete(oldKey);
    old.then(release).catch(() => undefined);
  }
  return p;
}

let runtimeAnnounced = false;
/** Tells the host once which ONNX Runtime this worker's models run on (it says so when it is the slower WASM one). */
function announceRuntime(): void {
  if (runtimeAnnounced) return;
  runtimeAnnounced = true;
  const { kind, origin } = onnxBackend();
  // Request id 0: no request has it (ids start at 1); this answers none.
  post({ kind: 'runtime', requestId: 0, runtime: kind, origin });
}

/** A model-backed object for a ref, from its LRU cache or loaded (a repo id through the cache, downloaded only when allowed). */
function byRef<T extends { dispose(): Promise<void> }>(
  cache: Map<string, Promise<T>>,
  load: (spec: string, source: ModelSource) => Promise<T>,
  ref: ModelRef,
  hub: HubSettings,
  signal: AbortSignal,
  requestId: number,
): Promise<T> {
  return lru(
    cache,
    modelKey(ref),
    async () => {
      const h = hubOptions(hub, signal, requestId, ref.dtype);
      const m = await load(ref.spec, { ...h, threads: ref.threads, onDownloadProgress: h.onProgress });
      announceRuntime();
      return m;
    },
    (m) => void m.dispose(),
  );
}

const getModel = (ref: ModelRef, hub: HubSettings, signal: AbortSignal, requestId: number): Promise<OnnxCausalLM> => byRef(loaded, loadOnnxModel, ref, hub, signal, requestId);
const getHiddenSource = (ref: ModelRef, hub: HubSettings, signal: AbortSignal, requestId: number): Promise<OnnxHiddenStates> => byRef(hiddenSources, loadOnnxHiddenStates, ref, hub, signal, requestId);

function getSae(ref: SaeRef, hub: HubSettings, signal: AbortSignal, requestId: number): Promise<{ sae: SparseAutoencoder; labels?: FeatureLabels }> {
  return lru(saes, JSON.stringify([ref.spec, ref.subfolder ?? '', ref.hook ?? '', ref.labels ?? '']), async () => {
    const h = hubOptions(hub, signal, requestId, undefined);
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

function scoresTransfer(s: ScoresPayload): ArrayBuffer[] {
  const bufs = [s.logProbs.buffer, s.topIds.buffer, s.topLogProbs.buffer];
  if (s.ranks) bufs.push(s.ranks.buffer);
  if (s.entropies) bufs.push(s.entropies.buffer);
  return bufs as ArrayBuffer[];
}

function errorCode(e: unknown): ModelErrorCode {
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

async function handle(msg: Exclude<HostToModelWorker, { kind: 'cancel' } | { kind: 'unload' }>, signal: AbortSignal): Promise<void> {
  switch (msg.kind) {
    case 'load': {
      const m = await getModel(msg.model, msg.hub, signal, msg.requestId);
      post({ kind: 'loaded', requestId: msg.requestId, model: describe(m) });
      return;
    }
    case 'score': {
      const m = await getModel(msg.model, msg.hub, signal, msg.requestId);
      const t0 = performance.now();
      const s = await m.score(msg.ids, { topK: msg.topK, signal, onProgress: (done, total) => post({ kind: 'progress', requestId: msg.requestId, done, total }) });
      // Copies: the model keeps its last scores to reuse after an edit.
      const scores: ScoresPayload = {
        count: s.count,
        topK: s.topK,
        logProbs: s.logProbs.slice(),
        ranks: s.ranks.slice(),
        entropies: s.entropies.slice(),
        topIds: s.topIds.slice(),
        topLogProbs: s.topLogProbs.slice(),
      };
      post({ kind: 'scored', requestId: msg.requestId, model: m.id, scores, elapsedMs: performance.now() - t0 }, scoresTransfer(scores));
      return;
    }
    case 'next': {
      const m = await getModel(msg.model, msg.hub, signal, msg.requestId);
      const d = await m.nextDistribution(msg.context, signal);
      let logProbs: Float32Array | undefined;
      if (msg.dense) {
        logProbs = new Float32Array(d.vocabSize);
        for (let i = 0; i < logProbs.length; i++) logProbs[i] = d.logProb(i);
      }
      post({ kind: 'next', requestId: msg.requestId, result: { entropyNats: d.entropyNats ?? NaN, top: d.top(msg.topK), logProbs } }, logProbs ? [logProbs.buffer as ArrayBuffer] : []);
      return;
    }
    case 'download': {
      const r = await downloadModel(msg.repoId, hubOptions(msg.hub, signal, msg.requestId, msg.dtype));
      post({ kind: 'downloaded', requestId: msg.requestId, repoId: r.repoId, folder: r.folder, downloadedBytes: r.downloadedBytes });
      return;
    }
    case 'listCache': {
      const cacheDir = msg.cacheDir ?? defaultHubCacheDir();
      post({ kind: 'cache', requestId: msg.requestId, cacheDir, models: listCachedModels(cacheDir) });
      return;
    }
    case 'removeCached': {
      const cacheDir = msg.cacheDir ?? defaultHubCacheDir();
      // A loaded model from that folder keeps its sessions (already in memory); unload it first.
      const repoFolder = join(cacheDir, `models--${msg.repoId.replace('/', '--')}`);
      for (const [key, p] of loaded) {
        const m = await p.catch(() => undefined);
        if (m && (m.info.id === msg.repoId || m.info.folder.startsWith(repoFolder))) {
          loaded.delete(key);
          await m.dispose();
        }
      }
      for (const [key, p] of hiddenSources) {
        const h = await p.catch(() => undefined);
        if (h && (h.modelName === msg.repoId || h.folder.startsWith(repoFolder))) {
          hiddenSources.delete(key);
          await h.dispose();
        }
      }
      const bytes = removeCachedModel(cacheDir, msg.repoId);
      post({ kind: 'removed', requestId: msg.requestId, repoId: msg.repoId, bytes });
      return;
    }
    case 'features': {
      const source = await getHiddenSource(msg.model, msg.hub, signal, msg.requestId);
      const { sae, labels } = await getSae(msg.sae, msg.hub, signal, msg.requestId);
      const t0 = performance.now();
      const r = await documentFeatures(msg.text, source.tokenizer.tokenizer, source, sae, {
        encoder: msg.encoder,
        k: msg.k,
        m: msg.m,
        allowSpecial: msg.allowSpecial,
        signal,
        onProgress: (done, total) => post({ kind: 'progress', requestId: msg.requestId, done, total }),
      });
      const result = featuresPayload(msg.text, msg.model.spec, sae, r, labels, performance.now() - t0);
      post({ kind: 'features', requestId: msg.requestId, result }, featuresTransfer(result));
      return;
    }
    case 'remoteScore': {
      const tok = await loadTokenizer(msg.tokenizer.path ?? msg.tokenizer.id, { assetDir: ASSET_DIR });
      const endpoint = new RemoteCompletionsModel(msg.endpoint, tok.tokenizer);
      const t0 = performance.now();
      const s = await endpoint.score(msg.ids, { signal, startContext: msg.startContext, onProgress: (done, total) => post({ kind: 'progress', requestId: msg.requestId, done, total }) });
      const scores: ScoresPayload = { count: s.count, topK: s.topK, logProbs: s.logProbs, ranks: null, entropies: null, topIds: s.topIds, topLogProbs: s.topLogProbs };
      post({ kind: 'scored', requestId: msg.requestId, model: endpoint.id, scores, elapsedMs: performance.now() - t0 }, scoresTransfer(scores));
      return;
    }
  }
}

parentPort?.on('message', (raw: unknown) => {
  if (!isHostToModelWorker(raw)) {
    console.error('[model worker] ignored a malformed message');
    return;
  }
  const msg = raw;
  if (msg.kind === 'cancel') {
    running.get(msg.requestId)?.abort();
    return;
  }
  if (msg.kind === 'unload') {
    const key = modelKey(msg.model);
    const p = loaded.get(key);
    loaded.delete(key);
    p?.then((m) => m.dispose()).catch(() => undefined);
    return;
  }
  const ac = new AbortController();
  running.set(msg.requestId, ac);
  handle(msg, ac.signal)
    .catch((e: unknown) => {
      const code = errorCode(e);
      post({ kind: 'error', requestId: msg.requestId, code, message: code === 'cancelled' ? 'cancelled' : (e as Error)?.message ?? String(e) });
    })
    .finally(() => running.delete(msg.requestId));
});
