/**
 * The extension host's side of the tokenization worker: request/response by id, validation of every reply,
 * and a restart (with one message to the user) if the worker dies.
 */
import { Worker } from 'node:worker_threads';
import { isTokenWorkerToHost, type HostToTokenWorker, type TokenWorkerToHost } from '../protocol';

type Pending = { resolve: (m: TokenWorkerToHost) => void; reject: (e: Error) => void; onProgress?: (done: number, total: number) => void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type WorkerRequest = DistributiveOmit<Exclude<HostToTokenWorker, { kind: 'close' } | { kind: 'cancel' }>, 'requestId'>;

export class WorkerCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCrashedError';
  }
}

export class WorkerClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private crashes = 0;

  constructor(
    private readonly scriptPath: string,
    private readonly onCrash: (message: string, firstTime: boolean) => void,
    private readonly log: (line: string) => void,
  ) {}

  private ensure(): Worker {
    if (this.worker) return this.worker;
    // The worker holds documents and tokenizers; cap its heap so a runaway input cannot take the host down.
    const w = new Worker(this.scriptPath, { resourceLimits: { maxOldGenerationSizeMb: 4096 } });
    w.on('message', (raw: unknown) => {
      if (!isTokenWorkerToHost(raw)) {
        this.log('ignored an invalid message from the worker');
        return;
      }
      const p = this.pending.get(raw.requestId);
      if (!p) return;
      if (raw.kind === 'progress') {
        p.onProgress?.(raw.done, raw.total);
        return;
      }
      this.pending.delete(raw.requestId);
      p.resolve(raw);
    });
    w.on('error', (e) => this.handleExit(`the tokenization worker failed: ${e.message}`));
    w.on('exit', (code) => {
      if (this.worker === w) this.handleExit(`the tokenization worker stopped (exit code ${code})`);
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private handleExit(message: string): void {
    this.worker = undefined;
    this.crashes++;
    const err = new WorkerCrashedError(message);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.onCrash(message, this.crashes === 1);
  }

  request(msg: WorkerRequest, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<TokenWorkerToHost> {
    const requestId = this.nextId++;
    const w = this.ensure();
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject, onProgress });
      w.postMessage({ ...msg, requestId });
      signal?.addEventListener('abort', () => w.postMessage({ kind: 'cancel', requestId } satisfies HostToTokenWorker), { once: true });
    });
  }

  close(docKey: string): void {
    this.worker?.postMessage({ kind: 'close', docKey } satisfies HostToTokenWorker);
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
