/**
 * The model worker: ONNX language models (transformers.js on onnxruntime-node), the Hugging Face model cache
 * and downloads, and a remote completions endpoint. Separate from the tokenization worker, which stays small:
 * this one starts when a model is first needed and can be terminated to free its memory.
 *
 * Models load on first use and stay loaded (at most MAX_LOADED, least recently used unloaded first). Every
 * request can be cancelled by id; scoring reports progress. Only 'download' (and 'load'/'score'/'next' for
 * a repo id not in the cache) touch the network, and only with `hub.allowDownloads`.
 */
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { loadOnnxModel, ModelError, type OnnxCausalLM } from '../core/lm/onnx';
import { LmAbortError } from '../core/lm/model';
import { RemoteCompletionsModel, RemoteEndpointError } from '../core/lm/remote';
import { DownloadError, downloadModel, type ModelDownloadOptions } from '../core/models/download';
import { defaultHubCacheDir, HubCacheError, listCachedModels, removeCachedModel } from '../core/models/hubCache';
import { TokenizerError } from '../core/tokenizers/errors';
import { loadTokenizer } from '../core/tokenizers/loader';
import { isHostToModelWorker, type HostToModelWorker, type HubSettings, type ModelDescription, type ModelErrorCode, type ModelRef, type ModelWorkerToHost, type ScoresPayload } from '../modelProtocol';

/** Bundled vocabularies, for endpoint tokenizers given by id (as in the tokenization worker). */
const ASSET_DIR = join(__dirname, 'tokenizers');
const MAX_LOADED = 2;

const loaded = new Map<string, Promise<OnnxCausalLM>>();
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

/** The loaded model for a ref (resolving a repo id through the cache, downloading only when allowed). */
async function getModel(ref: ModelRef, hub: HubSettings, signal: AbortSignal, requestId: number): Promise<OnnxCausalLM> {
  const key = modelKey(ref);
  let p = loaded.get(key);
  if (!p) {
    const h = hubOptions(hub, signal, requestId, ref.dtype);
    p = loadOnnxModel(ref.spec, { ...h, threads: ref.threads, onDownloadProgress: h.onProgress });
    loaded.set(key, p);
    p.catch(() => {
      if (loaded.get(key) === p) loaded.delete(key);
    });
    // Least recently used out.
    while (loaded.size > MAX_LOADED) {
      const [oldKey, old] = loaded.entries().next().value as [string, Promise<OnnxCausalLM>];
      loaded.delete(oldKey);
      old.then((m) => m.dispose()).catch(() => undefined);
    }
  } else {
    loaded.delete(key);
    loaded.set(key, p);
  }
  return p;
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
  if (e instanceof LmAbortError || (e instanceof Error && e.name === 'AbortError')) return 'cancelled';
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
  if (e instanceof ModelError || e instanceof TokenizerError || e instanceof HubCacheError) return 'model';
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
      for (const [key, p] of loaded) {
        const m = await p.catch(() => undefined);
        if (m && (m.info.id === msg.repoId || m.info.folder.startsWith(join(cacheDir, `models--${msg.repoId.replace('/', '--')}`)))) {
          loaded.delete(key);
          await m.dispose();
        }
      }
      const bytes = removeCachedModel(cacheDir, msg.repoId);
      post({ kind: 'removed', requestId: msg.requestId, repoId: msg.repoId, bytes });
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
