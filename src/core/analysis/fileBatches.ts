/**
 * Counting a list of files in batches, several batches at once: the schedule a pool of workers runs (one
 * batch per worker at a time, the next batch to whichever finishes first), with the outcomes put back in the
 * list's order, so that the result is the same whatever the number of workers and whichever finishes first.
 *
 * Batches are small (a few MB, or one large file alone) so that one slow file does not leave the other workers
 * idle at the end, and large enough that a message per batch costs nothing beside the counting.
 */
import type { FileTokens, SkippedFile } from './folderTotals';

export interface ListedFile {
  readonly path: string;
  readonly size: number;
}

/** One file's outcome: its counts, or why it was skipped (binary, unreadable). */
export type FileOutcome = { readonly counted: FileTokens } | { readonly skipped: SkippedFile };

/** Counts one batch; resolves to one outcome per file, in the batch's order. */
export type FileBatchCounter = (batch: readonly ListedFile[], signal?: AbortSignal) => Promise<readonly FileOutcome[]>;

export const BATCH_BYTES = 4 * 1024 * 1024;
export const BATCH_FILES = 256;

/** Splits `files` into consecutive batches of at most `maxBytes` (a larger file alone) and `maxFiles` files. */
export function fileBatches(files: readonly ListedFile[], maxBytes = BATCH_BYTES, maxFiles = BATCH_FILES): ListedFile[][] {
  const out: ListedFile[][] = [];
  let batch: ListedFile[] = [];
  let bytes = 0;
  for (const f of files) {
    if (batch.length && (bytes + f.size > maxBytes || batch.length >= maxFiles)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(f);
    bytes += f.size;
  }
  if (batch.length) out.push(batch);
  return out;
}

/**
 * Runs `counter` over the batches with at most `concurrency` in flight; `onBatch` hears each batch as it
 * finishes (in completion order, for progress). Resolves to the outcomes in the files' order; rejects with the
 * first error (the batches still running are left to the signal's owner to cancel).
 */
export async function countInBatches(
  batches: readonly (readonly ListedFile[])[],
  counter: FileBatchCounter,
  concurrency: number,
  onBatch?: (batch: readonly ListedFile[], outcomes: readonly FileOutcome[]) => void,
  signal?: AbortSignal,
): Promise<FileOutcome[]> {
  const results: (readonly FileOutcome[])[] = new Array(batches.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < batches.length) {
      if (signal?.aborted) throw signal.reason;
      const i = next++;
      const outcomes = await counter(batches[i], signal);
      if (outcomes.length !== batches[i].length) throw new Error(`a batch of ${batches[i].length} files came back with ${outcomes.length} outcomes`);
      results[i] = outcomes;
      onBatch?.(batches[i], outcomes);
    }
  };
  const lanes = Math.max(1, Math.min(Math.floor(concurrency), batches.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return results.flat();
}
