/**
 * The extension host's side of a worker (tokenization, models): request/response by id, validation of every
 * reply, progress messages, cancellation, and a restart (with one message to the user) if the worker dies.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { isModelWorkerToHost, type HostToModelWorker, type ModelWorkerToHost } from '../modelProtocol';
import { isTokenWorkerToHost, type HostToTokenWorker, type TokenWorkerToHost } from '../protocol';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** Replies carry the request's id; progress replies are passed to the caller's callback, not returned. */
type Reply = { readonly kind: string; readonly requestId: number };
type Pending<R> = { resolve: (m: R) => void; reject: (e: Error) => void; onProgress?: (done: number, total: number) => void };
export type WorkerRequest = DistributiveOmit<Exclude<HostToTokenWorker, { kind: 'close' } | { kind: 'cancel' }>, 'requestId'>;
export type ModelWorkerRequest = DistributiveOmit<Exclude<HostToModelWorker, { kind: 'cancel' } | { kind: 'unload' }>, 'requestId'>;

export class WorkerCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCrashedError';
  }
}

export interface WorkerOptions {
  /** The worker's heap limits (default: 4 GB of old generation). */
  readonly resourceLimits?: ResourceLimits;
  /** The model worker's one 'runtime' message (which ONNX Runtime runs the models); it answers no request. */
  readonly onRuntime?: (runtime: 'native' | 'wasm', origin: string) => void;
}

class GenericWorkerClient<Req extends { readonly kind: string }, Res extends Reply> {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending<Res>>();
  private crashes = 0;

  constructor(
    /** For messages: "the tokenization worker", "the model worker". */
    private readonly name: string,
    private readonly scriptPath: string,
    private readonly isReply: (x: unknown) => x is Res,
    private readonly onCrash: (message: string, firstTime: boolean) => void,
    private readonly log: (line: string) => void,
    private readonly options: WorkerOptions = {},
  ) {}

  private ensure(): Worker {
    if (this.worker) return this.worker;
    // The worker holds documents and tokenizers; cap its heap so a runaway input cannot take the host down.
    const w = new Worker(this.scriptPath, { resourceLimits: this.options.resourceLimits ?? { maxOldGenerationSizeMb: 4096 } });
    w.on('message', (raw: unknown) => {
      if (!this.isReply(raw)) {
        this.log('ignored an invalid message from the worker');
        return;
      }
      if (raw.kind === 'runtime') {
        const r = raw as unknown as { runtime: 'native' | 'wasm'; origin: string };
        this.options.onRuntime?.(r.runtime, r.origin);
        return;
      }
      const p = this.pending.get(raw.requestId);
      if (!p) return;
      if (raw.kind === 'progress' || raw.kind === 'downloadProgress') {
        const r = raw as unknown as { done?: number; total?: number; progress?: { receivedBytes?: number; totalBytes?: number } };
        p.onProgress?.(r.done ?? r.progress?.receivedBytes ?? 0, r.total ?? r.progress?.totalBytes ?? 0);
        return;
      }
      this.pending.delete(raw.requestId);
      p.resolve(raw);
    });
    w.on('error', (e) => {
      if (this.worker !== w) return;
      const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.handleExit(oom ? `${this.name} ran out of memory` : `${this.name} failed: ${e.message}`);
    });
    w.on('exit', (code) => {
      if (this.worker === w) this.handleExit(`${this.name} stopped (exit code ${code})`);
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

  request(msg: Req, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<Res> {
    const requestId = this.nextId++;
    const w = this.ensure();
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject, onProgress });
      w.postMessage({ ...msg, requestId });
      signal?.addEventListener('abort', () => w.postMessage({ kind: 'cancel', requestId }), { once: true });
    });
  }

  /** A message that expects no reply. */
  notify(msg: { readonly kind: string }): void {
    this.worker?.postMessage(msg);
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

/** The tokenization worker (small, always on). */
export class WorkerClient extends GenericWorkerClient<WorkerRequest, TokenWorkerToHost> {
  constructor(scriptPath: string, onCrash: (message: string, firstTime: boolean) => void, log: (line: string) => void, options?: WorkerOptions) {
    super('the tokenization worker', scriptPath, isTokenWorkerToHost, onCrash, log, options);
  }

  close(docKey: string): void {
    const msg: HostToTokenWorker = { kind: 'close', docKey };
    this.notify(msg);
  }
}

/** The model worker (ONNX models, downloads), started on first use. */
export class ModelWorkerClient extends GenericWorkerClient<ModelWorkerRequest, ModelWorkerToHost> {
  constructor(scriptPath: string, onCrash: (message: string, firstTime: boolean) => void, log: (line: string) => void, options?: WorkerOptions) {
    super('the model worker', scriptPath, isModelWorkerToHost, onCrash, log, options);
  }
}
