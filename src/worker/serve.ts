/**
 * A worker's side of its protocol: every message from the host is validated (envelope and params, by the
 * kind's validator), each request goes to its kind's handler (a table: a kind without a handler does not
 * compile), and the handler's result, progress or error goes back with the request's id. Handlers run
 * synchronously up to their first await, in the order the messages arrive (the tokenization worker applies
 * edits in order this way). The worker's own events go out through the function `serve` returns, typed by the
 * protocol's event table.
 */
import { parentPort } from 'node:worker_threads';
import { isInt, isObj, isShortStr } from '../protocol/validate';
import { MAX_ERROR_MESSAGE, parseHostMessage, type EventMessage, type EventTable, type KindOf, type NotificationTable, type RequestTable, type WorkerErrorCode, type WorkerMessage, type WorkerProtocol } from '../protocol/requests';

export interface RequestContext<Progress> {
  /** Aborted when the host cancels the request. */
  readonly signal: AbortSignal;
  readonly progress: (progress: Progress) => void;
  /** Buffers of the result to transfer rather than copy (the handler must not use them afterwards). */
  readonly transfer: (...buffers: ArrayBufferLike[]) => void;
}

export type RequestHandlers<T extends RequestTable> = {
  readonly [K in keyof T]: (params: T[K]['params'], ctx: RequestContext<T[K]['progress']>) => Promise<T[K]['result']>;
};

export type NotificationHandlers<N extends NotificationTable> = { readonly [K in keyof N]: (params: N[K]) => void };

/** Sends one of the worker's events (it answers no request). */
export type EmitEvent<E extends EventTable> = <K extends KindOf<E>>(kind: K, event: E[K]) => void;

/** How a thrown error reaches the host: its code and a one-line message. */
export type ErrorReport = (e: unknown, kind: string) => { readonly code: WorkerErrorCode; readonly message: string };

function post(msg: WorkerMessage, transfer: ArrayBufferLike[] = []): void {
  parentPort?.postMessage(msg, transfer as ArrayBuffer[]);
}

export function serve<T extends RequestTable, N extends NotificationTable, E extends EventTable = Record<never, never>>(
  protocol: WorkerProtocol<T, N, E>,
  handlers: RequestHandlers<T>,
  notifications: NotificationHandlers<N>,
  report: ErrorReport,
): EmitEvent<E> {
  const running = new Map<number, AbortController>();
  parentPort?.on('message', (raw: unknown) => {
    const msg = parseHostMessage(protocol, raw);
    if (!msg) {
      console.error(`[token-inspector] ${protocol.name} ignored an invalid message`);
      // A request with an id is answered, so that its caller does not wait for its deadline.
      if (isObj(raw) && raw.type === 'request' && isInt(raw.id)) post({ type: 'error', id: raw.id, code: 'input', message: `${protocol.name} refused an invalid request${isShortStr(raw.kind, 40) ? ` (${raw.kind})` : ''}` });
      return;
    }
    if (msg.type === 'cancel') {
      running.get(msg.id)?.abort();
      return;
    }
    if (msg.type === 'notify') {
      (notifications[msg.kind] as (p: unknown) => void)(msg.params);
      return;
    }
    const { id, kind } = msg;
    const ac = new AbortController();
    running.set(id, ac);
    const transfer: ArrayBufferLike[] = [];
    const ctx: RequestContext<unknown> = {
      signal: ac.signal,
      progress: (progress) => post({ type: 'progress', id, progress }),
      transfer: (...buffers) => transfer.push(...buffers),
    };
    const fail = (e: unknown): void => {
      const { code, message } = report(e, kind);
      post({ type: 'error', id, code, message: message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE - 1)}…` : message });
    };
    let answer: Promise<unknown>;
    try {
      answer = (handlers[kind as KindOf<T>] as (p: unknown, c: RequestContext<unknown>) => Promise<unknown>)(msg.params, ctx);
    } catch (e) {
      answer = Promise.reject(e);
    }
    answer
      .then((result) => post({ type: 'result', id, result }, transfer))
      .catch(fail)
      .finally(() => running.delete(id));
  });
  return (kind, event) => post({ type: 'event', kind, event } as EventMessage<E>);
}

/** The message of anything thrown. */
export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
