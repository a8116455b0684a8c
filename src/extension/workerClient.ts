/**
 * The extension host's side of a worker: typed requests (`request(kind, params)` resolves to that kind's
 * result), every reply validated against the kind asked for, progress to a callback typed per kind,
 * cancellation, a deadline on every request, and a restart when the worker dies or misses a deadline.
 *
 * A worker past a deadline is terminated: the request that ran late rejects with a WorkerDeadlineError naming
 * what it was doing (its label), the others pending with a WorkerCrashedError naming it too, and `onIncident`
 * is called once. The next request starts a fresh worker. A worker's own events (answering no request) go to the
 * handler of their kind in `WorkerOptions.onEvent`, once validated.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { MODEL_WORKER, type ModelEvents, type ModelRequests } from '../protocol/modelWorker';
import { isWorkerMessage, parseWorkerEvent, type Deadline, type EventTable, type HostMessage, type KindOf, type NotificationTable, type RequestTable, type Validator, type WorkerErrorCode, type WorkerProtocol } from '../protocol/requests';
import { TOKEN_WORKER, type TokenNotifications, type TokenRequests } from '../protocol/tokenWorker';
import { WORKSPACE_WORKER, type WorkspaceRequests } from '../protocol/workspaceWorker';

/** A request the worker answered with an error: `message` is one line for the user. */
export class WorkerRequestError extends Error {
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerRequestError';
  }
}

/** The caller's AbortSignal fired, or the worker reports the request cancelled. */
export class WorkerCancelledError extends Error {
  constructor(label: string) {
    super(`cancelled: ${label}`);
    this.name = 'WorkerCancelledError';
  }
}

/** The worker stopped (exit, uncaught error, out of memory, or terminated after a deadline) before answering. */
export class WorkerCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCrashedError';
  }
}

/** This request ran past its deadline: the worker was terminated (and restarts on the next request). */
export class WorkerDeadlineError extends WorkerCrashedError {
  constructor(
    message: string,
    readonly label: string,
    readonly deadlineMs: number,
  ) {
    super(message);
    this.name = 'WorkerDeadlineError';
  }
}

/** One worker stopping, reported once however many requests it takes down. */
export interface WorkerIncident {
  readonly cause: 'crash' | 'deadline';
  /** One line: what stopped, and (after a deadline) which request, doing what. */
  readonly message: string;
  /** An incident with the same message happened before (the user was told then). */
  readonly repeat: boolean;
}

export interface WorkerHooks {
  readonly onIncident: (incident: WorkerIncident) => void;
  readonly log: (line: string) => void;
}

export interface WorkerOptions<E extends EventTable = Record<never, never>> {
  /** The worker's heap limits (default: 4 GB of old generation). */
  readonly resourceLimits?: ResourceLimits;
  /** Handlers of the worker's own events, by kind (the model worker's `runtime`). */
  readonly onEvent?: { readonly [K in keyof E]?: (event: E[K]) => void };
}

export interface RequestOptions<Progress> {
  /** What the request does, for messages: "tokenizing a.ts with tokenizer.json at /x (tokenInspector.customTokenizers)". */
  readonly label?: string;
  readonly signal?: AbortSignal;
  /** Only for kinds that report progress; its type is that kind's progress message. */
  readonly onProgress?: [Progress] extends [never] ? never : (progress: Progress) => void;
  /** Buffers of the params to transfer rather than copy (the caller must not use them afterwards). */
  readonly transfer?: readonly ArrayBuffer[];
  /** Overrides the kind's default deadline. */
  readonly deadline?: Deadline;
}

interface Pending {
  readonly kind: string;
  readonly label: string;
  readonly deadline: Deadline;
  readonly startedMs: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly onProgress?: (progress: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  /** Which limit the timer enforces, for the message. */
  timerFor: 'idle' | 'total';
  readonly cleanup: () => void;
}

const seconds = (ms: number): string => (ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);

export class WorkerClient<T extends RequestTable, N extends NotificationTable = Record<never, never>, E extends EventTable = Record<never, never>> {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly incidents = new Set<string>();

  constructor(
    private readonly protocol: WorkerProtocol<T, N, E>,
    private readonly scriptPath: string,
    private readonly hooks: WorkerHooks,
    private readonly options: WorkerOptions<E> = {},
  ) {}

  /** Sends `params` as a `kind` request; resolves to that kind's result, or rejects with one of the errors above. */
  request<K extends KindOf<T>>(kind: K, params: T[K]['params'], options: RequestOptions<T[K]['progress']> = {}): Promise<T[K]['result']> {
    const label = options.label ?? this.protocol.labels[kind];
    if (options.signal?.aborted) return Promise.reject(new WorkerCancelledError(label));
    const id = this.nextId++;
    const w = this.ensure();
    const deadline = options.deadline ?? this.defaultDeadline(kind, params);
    return new Promise<T[K]['result']>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.pending.has(id)) return;
        this.settle(id);
        this.worker?.postMessage({ type: 'cancel', id } satisfies HostMessage<T, N>);
        reject(new WorkerCancelledError(label));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const p: Pending = {
        kind,
        label,
        deadline,
        startedMs: performance.now(),
        resolve: resolve as (result: unknown) => void,
        reject,
        onProgress: options.onProgress as ((progress: unknown) => void) | undefined,
        timer: undefined,
        timerFor: 'total',
        cleanup: () => options.signal?.removeEventListener('abort', onAbort),
      };
      this.pending.set(id, p);
      this.arm(id, p);
      const msg = { type: 'request', id, kind, params } as HostMessage<T, N>;
      try {
        w.postMessage(msg, options.transfer ? [...options.transfer] : []);
      } catch (e) {
        // A value that cannot be cloned: a bug in the caller, reported as this request's failure.
        this.settle(id);
        reject(new WorkerRequestError('internal', `${label}: ${(e as Error).message}`));
      }
    });
  }

  /** A message that expects no reply (dropped if the worker is not running: a fresh one holds nothing to drop). */
  notify<K extends KindOf<N>>(kind: K, params: N[K]): void {
    this.worker?.postMessage({ type: 'notify', kind, params } as HostMessage<T, N>);
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      p.reject(new WorkerCrashedError(`${this.protocol.name} was stopped`));
    }
    if (w) await w.terminate();
  }

  private defaultDeadline<K extends KindOf<T>>(kind: K, params: T[K]['params']): Deadline {
    const d = this.protocol.deadlines[kind] as Deadline | ((p: T[K]['params']) => Deadline);
    return typeof d === 'function' ? d(params) : d;
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    // The worker holds documents, tokenizers or models; cap its heap so a runaway input cannot take the host down.
    const w = new Worker(this.scriptPath, { resourceLimits: this.options.resourceLimits ?? { maxOldGenerationSizeMb: 4096 } });
    w.on('message', (raw: unknown) => this.onMessage(raw));
    w.on('error', (e) => {
      if (this.worker !== w) return;
      const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.stopped(oom ? `${this.protocol.name} ran out of memory` : `${this.protocol.name} failed: ${e.message}`);
    });
    w.on('exit', (code) => {
      if (this.worker === w) this.stopped(`${this.protocol.name} stopped (exit code ${code})`);
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private onMessage(raw: unknown): void {
    if (!isWorkerMessage(raw)) {
      this.hooks.log(`ignored an invalid message from ${this.protocol.name}`);
      return;
    }
    if (raw.type === 'event') {
      const event = parseWorkerEvent(this.protocol, raw);
      if (!event) this.hooks.log(`ignored an invalid event from ${this.protocol.name}`);
      else (this.options.onEvent?.[event.kind] as ((e: unknown) => void) | undefined)?.(event.event);
      return;
    }
    const p = this.pending.get(raw.id);
    if (!p) return;
    switch (raw.type) {
      case 'progress': {
        const valid = (this.protocol.progress as Readonly<Record<string, Validator<unknown> | null>>)[p.kind];
        if (!valid?.(raw.progress)) {
          this.hooks.log(`ignored an invalid progress message from ${this.protocol.name} (${p.kind})`);
          return;
        }
        if (p.deadline.idleMs !== undefined) this.arm(raw.id, p);
        p.onProgress?.(raw.progress);
        return;
      }
      case 'result': {
        this.settle(raw.id);
        if ((this.protocol.results as Readonly<Record<string, Validator<unknown>>>)[p.kind](raw.result)) p.resolve(raw.result);
        else {
          this.hooks.log(`ignored an invalid ${p.kind} result from ${this.protocol.name}`);
          p.reject(new WorkerRequestError('internal', `${this.protocol.name} sent an invalid answer while ${p.label}`));
        }
        return;
      }
      case 'error':
        this.settle(raw.id);
        p.reject(raw.code === 'cancelled' ? new WorkerCancelledError(p.label) : new WorkerRequestError(raw.code, raw.message));
        return;
    }
  }

  /** (Re)starts the request's deadline timer: the idle limit if it has one, never past the total. */
  private arm(id: number, p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    const leftMs = p.deadline.totalMs - (performance.now() - p.startedMs);
    const idle = p.deadline.idleMs !== undefined && p.deadline.idleMs < leftMs;
    p.timerFor = idle ? 'idle' : 'total';
    p.timer = setTimeout(() => this.missedDeadline(id), Math.max(0, idle ? (p.deadline.idleMs as number) : leftMs));
    // The extension host (or a test) may exit while a request is pending.
    p.timer.unref();
  }

  private settle(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    p.cleanup();
    this.pending.delete(id);
  }

  private missedDeadline(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    const limitMs = p.timerFor === 'idle' ? (p.deadline.idleMs as number) : p.deadline.totalMs;
    const what = p.timerFor === 'idle' ? `made no progress for ${seconds(limitMs)}` : `took longer than ${seconds(limitMs)}`;
    const message = `${this.protocol.name} was stopped: ${p.label} ${what}`;
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
    this.settle(id);
    p.reject(new WorkerDeadlineError(message, p.label, limitMs));
    this.failPending((label) => `${message} (before it finished ${label})`, 'deadline', message);
  }

  /** The worker died on its own. */
  private stopped(message: string): void {
    this.worker = undefined;
    this.failPending(() => message, 'crash', message);
  }

  /** Rejects everything pending (each with its own message) and reports the incident once. */
  private failPending(messageFor: (label: string) => string, cause: WorkerIncident['cause'], incident: string): void {
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      p.reject(new WorkerCrashedError(messageFor(p.label)));
    }
    const repeat = this.incidents.has(incident);
    this.incidents.add(incident);
    this.hooks.onIncident({ cause, message: incident, repeat });
  }
}

export type TokenWorkerClient = WorkerClient<TokenRequests, TokenNotifications>;
export type WorkspaceWorkerClient = WorkerClient<WorkspaceRequests>;
export type ModelWorkerClient = WorkerClient<ModelRequests, Record<never, never>, ModelEvents>;

/** The tokenization worker (small, always on). */
export const tokenWorkerClient = (scriptPath: string, hooks: WorkerHooks, options?: WorkerOptions): TokenWorkerClient => new WorkerClient<TokenRequests, TokenNotifications>(TOKEN_WORKER, scriptPath, hooks, options);
/** The workspace jobs worker (training, scoring, next byte, premiums, Compare, chat, folder totals), started on first use. */
export const workspaceWorkerClient = (scriptPath: string, hooks: WorkerHooks, options?: WorkerOptions): WorkspaceWorkerClient => new WorkerClient<WorkspaceRequests>(WORKSPACE_WORKER, scriptPath, hooks, options);
/** The model worker (ONNX models, downloads, SAE features), started on first use. */
export const modelWorkerClient = (scriptPath: string, hooks: WorkerHooks, options?: WorkerOptions<ModelEvents>): ModelWorkerClient =>
  new WorkerClient<ModelRequests, Record<never, never>, ModelEvents>(MODEL_WORKER, scriptPath, hooks, options);
