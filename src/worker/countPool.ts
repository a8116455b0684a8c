/**
 * A pool of folder-count workers (countWorker.ts), sized to the cores: `count DIR` in the CLI and Count Tokens
 * in Folder (through the workspace jobs worker) hand it batches of files (core/analysis/fileBatches.ts), one
 * batch per worker at a time. Each worker reads its files itself, so no text crosses threads; each has its own
 * heap cap, so memory is bounded per worker; each request has a deadline (protocol/countWorker.ts), and a
 * worker that misses it is terminated and restarted by its client.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { FileBatchCounter } from '../core/analysis/fileBatches';
import { WorkerClient } from '../extension/workerClient';
import { COUNT_WORKER, type CountRequests } from '../protocol/countWorker';
import type { TokenizerRef } from '../protocol/payloads';

/** Below this many bytes a folder is counted in one thread: starting workers and loading the vocabulary in each costs more. */
export const POOL_MIN_BYTES = 8 * 1024 * 1024;

/** Enough for the largest bundled vocabulary, a 50 MB file's text and its chunked count. */
const WORKER_HEAP_MB = 1536;

export interface CountPool {
  readonly size: number;
  /** A counter of batches of `root`'s files under `tokenizers` (refs the workers load: ids or paths). */
  counterFor(root: string, tokenizers: readonly TokenizerRef[], options?: { maxFileBytes?: number; allowSpecial?: boolean }): FileBatchCounter;
  close(): Promise<void>;
}

/** How many workers to start: one per core, at most 8, and no more than there are batches to count. */
export function defaultPoolSize(batches: number): number {
  return Math.max(1, Math.min(availableParallelism(), 8, batches));
}

/**
 * The worker's script: dist/countWorker.js beside a bundle; from source (tests, benchmarks under tsx), the
 * CommonJS shim beside this file that loads countWorker.ts through tsx (a worker's entry is not compiled by tsx).
 */
function workerScript(): string {
  const bundled = join(__dirname, 'countWorker.js');
  return existsSync(bundled) ? bundled : join(__dirname, 'countWorker.source.cjs');
}

/** `script`: the worker's script (default: beside this bundle, or the source under tsx). */
export function countPool(size: number, log: (line: string) => void = () => {}, script = workerScript()): CountPool {
  const clients = Array.from(
    { length: Math.max(1, Math.floor(size)) },
    () => new WorkerClient<CountRequests>(COUNT_WORKER, script, { onIncident: (i) => log(i.message), log }, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } }),
  );
  const free = [...clients];
  const waiting: ((c: WorkerClient<CountRequests>) => void)[] = [];
  const acquire = (): Promise<WorkerClient<CountRequests>> => {
    const c = free.pop();
    return c ? Promise.resolve(c) : new Promise((resolve) => waiting.push(resolve));
  };
  const release = (c: WorkerClient<CountRequests>): void => {
    const next = waiting.shift();
    if (next) next(c);
    else free.push(c);
  };
  return {
    size: clients.length,
    counterFor: (root, tokenizers, options = {}) => async (batch, signal) => {
      const client = await acquire();
      // The clients' workers are unref'd (an idle worker must not keep a process alive): a CLI waiting for a
      // batch has nothing else keeping it running.
      const keepAlive = setInterval(() => undefined, 1 << 30);
      try {
        return await client.request('countBatch', { root, files: batch, tokenizers, ...options }, { signal, label: `counting ${batch.length} file${batch.length === 1 ? '' : 's'} from ${batch[0]?.path ?? root}` });
      } finally {
        clearInterval(keepAlive);
        release(client);
      }
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.dispose()));
    },
  };
}
