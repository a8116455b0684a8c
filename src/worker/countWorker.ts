/**
 * One worker of the folder-count pool (countPool.ts): counts batches of files under the tokenizers it is given,
 * loaded on first use and kept (the loader caches them).
 */
import { countFileOutcome } from '../core/analysis/folderTotals';
import type { FileOutcome } from '../core/analysis/fileBatches';
import { nodeFolderFs } from '../core/files/folderFs';
import { TokenizerError } from '../core/tokenizers/errors';
import { COUNT_WORKER, type CountRequests } from '../protocol/countWorker';
import { errorMessage, serve } from './serve';
import { loadRef } from './tokenizers';

serve<CountRequests, Record<never, never>>(
  COUNT_WORKER,
  {
    countBatch: async (p, ctx) => {
      const tokenizers = [];
      for (const ref of p.tokenizers) tokenizers.push({ ...(await loadRef(ref)), id: ref.id });
      const fs = nodeFolderFs(p.root);
      const options = { tokenizers, maxFileBytes: p.maxFileBytes, allowSpecial: p.allowSpecial, signal: ctx.signal };
      const out: FileOutcome[] = [];
      for (const f of p.files) out.push(await countFileOutcome(fs, f.path, f.size, options));
      return out;
    },
  },
  {},
  (e, kind) => {
    if (e instanceof Error && e.name === 'AbortError') return { code: 'cancelled', message: 'cancelled' };
    if (e instanceof TokenizerError) return { code: 'tokenizer', message: e.message };
    return { code: 'internal', message: `${COUNT_WORKER.labels[kind as keyof CountRequests] ?? kind} failed: ${errorMessage(e)}` };
  },
);
