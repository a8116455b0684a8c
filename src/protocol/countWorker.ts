/**
 * A folder-count worker (src/worker/countWorker.ts), one of a pool (src/worker/countPool.ts): counts a batch of
 * a folder's files, read from disk by the worker itself, under one or more tokenizers. Each worker of the pool
 * loads the tokenizers once and keeps them.
 */
import type { FileOutcome, ListedFile } from '../core/analysis/fileBatches';
import { isTokenizerRefList, type TokenizerRef } from './payloads';
import type { RequestType, WorkerProtocol } from './requests';
import { isInt, isObj, isShortStr, isStr } from './validate';

export interface CountBatchParams {
  /** The folder the paths are relative to. */
  readonly root: string;
  readonly files: readonly ListedFile[];
  readonly tokenizers: readonly TokenizerRef[];
  readonly maxFileBytes?: number;
  readonly allowSpecial?: boolean;
}

export type CountRequests = {
  countBatch: RequestType<CountBatchParams, readonly FileOutcome[]>;
};

/** A batch is a few MB of files (fileBatches.ts); these caps only bound a message. */
const MAX_BATCH_FILES = 4096;

const isListedFile = (x: unknown): x is ListedFile => isObj(x) && isShortStr(x.path, 4096) && isInt(x.size);

const isTokenCounts = (x: unknown): x is Record<string, number> => isObj(x) && Object.values(x).every(isInt);

const isFileOutcome = (x: unknown): x is FileOutcome =>
  isObj(x) &&
  ((isObj(x.counted) && isStr(x.counted.path) && isInt(x.counted.bytes) && isTokenCounts(x.counted.tokens) && typeof x.counted.streamed === 'boolean' && typeof x.counted.approximate === 'boolean') ||
    (isObj(x.skipped) && isStr(x.skipped.path) && (x.skipped.reason === 'binary' || x.skipped.reason === 'unreadable' || x.skipped.reason === 'other')));

export const COUNT_WORKER = {
  name: 'a folder-count worker',
  params: {
    countBatch: (x): x is CountBatchParams =>
      isObj(x) &&
      isShortStr(x.root, 4096) &&
      Array.isArray(x.files) &&
      x.files.length <= MAX_BATCH_FILES &&
      x.files.every(isListedFile) &&
      isTokenizerRefList(16)(x.tokenizers) &&
      (x.maxFileBytes === undefined || (isInt(x.maxFileBytes) && x.maxFileBytes > 0)) &&
      (x.allowSpecial === undefined || typeof x.allowSpecial === 'boolean'),
  },
  results: { countBatch: (x): x is readonly FileOutcome[] => Array.isArray(x) && x.every(isFileOutcome) },
  progress: { countBatch: null },
  notifications: {},
  events: {},
  // A minute to load the tokenizers, then about 1 MB/s at the very least (a 2-core machine under load counts
  // several MB/s per tokenizer).
  deadlines: { countBatch: (p) => ({ totalMs: 60_000 + p.tokenizers.length * p.files.reduce((s, f) => s + f.size, 0) / 1000 }) },
  labels: { countBatch: 'counting a batch of files' },
} satisfies WorkerProtocol<CountRequests, Record<never, never>>;
