/**
 * Requests typed with their replies, after rust-analyzer's `RequestType<P, R>` (editors/code/src/lsp_ext.ts):
 * each worker has one table that pairs every request kind with its params, its result and its progress, and
 * one protocol object that holds, per kind, the validators of all three, the deadline and a label. The tables
 * are mapped types over the kinds, so a kind without a validator, a deadline or a handler does not compile.
 *
 * On the wire every message is an envelope: the host sends `request` (id, kind, params), `cancel` (id) and
 * `notify` (kind, params: no reply); a worker answers `result`, `progress` or `error` with the request's id,
 * and may send an `event` (kind, event) of its own that answers no request. The host validates a result with
 * the validator of the kind it asked for, never a kind the worker names; an event with its kind's validator.
 */
import { isInt, isObj, isStr } from './validate';

/** One request kind: what the host sends, what comes back, and what progress it reports (never: none). */
export interface RequestType<P, R, Pr = never> {
  readonly params: P;
  readonly result: R;
  readonly progress: Pr;
}

export type RequestTable = { readonly [kind: string]: RequestType<unknown, unknown, unknown> };
/** Messages that expect no reply (closing a document). */
export type NotificationTable = { readonly [kind: string]: unknown };
/** Messages a worker sends of its own accord, answering no request (which ONNX Runtime runs the models). */
export type EventTable = { readonly [kind: string]: unknown };

export type KindOf<T> = keyof T & string;
export type ParamsOf<T extends RequestTable, K extends keyof T> = T[K]['params'];
export type ResultOf<T extends RequestTable, K extends keyof T> = T[K]['result'];
export type ProgressOf<T extends RequestTable, K extends keyof T> = T[K]['progress'];

/** A validator: true only for a well-formed value of T. */
export type Validator<T> = (x: unknown) => x is T;

/**
 * How long a request may take. Without `idleMs` the request must finish within `totalMs`; with it, each
 * progress message restarts an `idleMs` timer (long jobs that report progress), and `totalMs` caps the whole.
 */
export interface Deadline {
  readonly totalMs: number;
  readonly idleMs?: number;
}

export interface WorkerProtocol<T extends RequestTable, N extends NotificationTable, E extends EventTable = Record<never, never>> {
  /** For messages: "the tokenization worker". */
  readonly name: string;
  readonly params: { readonly [K in keyof T]: Validator<T[K]['params']> };
  readonly results: { readonly [K in keyof T]: Validator<T[K]['result']> };
  /** null for kinds that report no progress (a progress message for them is invalid). */
  readonly progress: { readonly [K in keyof T]: [T[K]['progress']] extends [never] ? null : Validator<T[K]['progress']> };
  readonly notifications: { readonly [K in keyof N]: Validator<N[K]> };
  /** The worker's own messages (an event of a kind not here is invalid). */
  readonly events: { readonly [K in keyof E]: Validator<E[K]> };
  /** The default deadline per kind (a caller may pass another); a function when it depends on the params' size. */
  readonly deadlines: { readonly [K in keyof T]: Deadline | ((params: T[K]['params']) => Deadline) };
  /** What a request of each kind does, for messages when the caller gives no label of its own. */
  readonly labels: { readonly [K in keyof T]: string };
}

// ---------- the envelopes ----------

export type RequestMessage<T extends RequestTable> = {
  [K in KindOf<T>]: { readonly type: 'request'; readonly id: number; readonly kind: K; readonly params: T[K]['params'] };
}[KindOf<T>];
export type NotifyMessage<N extends NotificationTable> = { [K in KindOf<N>]: { readonly type: 'notify'; readonly kind: K; readonly params: N[K] } }[KindOf<N>];
export interface CancelMessage {
  readonly type: 'cancel';
  readonly id: number;
}
export type HostMessage<T extends RequestTable, N extends NotificationTable> = RequestMessage<T> | NotifyMessage<N> | CancelMessage;

/** Why a request failed, for the host to choose what to show. */
export const WORKER_ERROR_CODES = ['cancelled', 'input', 'tokenizer', 'model', 'downloads-off', 'network', 'verification', 'not-found', 'endpoint', 'internal'] as const;
export type WorkerErrorCode = (typeof WORKER_ERROR_CODES)[number];

/**
 * From a worker; `result` and `progress` are checked by the host against the kind it asked for, `event`
 * against the protocol's validator of its kind.
 */
export type WorkerMessage =
  | { readonly type: 'result'; readonly id: number; readonly result: unknown }
  | { readonly type: 'progress'; readonly id: number; readonly progress: unknown }
  | { readonly type: 'error'; readonly id: number; readonly code: WorkerErrorCode; readonly message: string }
  | { readonly type: 'event'; readonly kind: string; readonly event: unknown };

/** A worker's event of one kind of its protocol's table, as sent. */
export type EventMessage<E extends EventTable> = { [K in KindOf<E>]: { readonly type: 'event'; readonly kind: K; readonly event: E[K] } }[KindOf<E>];

/** Error messages are one line for the user; a longer one is cut. */
export const MAX_ERROR_MESSAGE = 4000;

const has = (table: object, key: unknown): key is string => isStr(key) && Object.prototype.hasOwnProperty.call(table, key);

/** The request, notification or cancel in `x` if it is a valid one for `protocol`, else undefined. */
export function parseHostMessage<T extends RequestTable, N extends NotificationTable>(protocol: WorkerProtocol<T, N>, x: unknown): HostMessage<T, N> | undefined {
  if (!isObj(x)) return undefined;
  switch (x.type) {
    case 'request':
      return isInt(x.id) && has(protocol.params, x.kind) && (protocol.params[x.kind] as Validator<unknown>)(x.params) ? (x as HostMessage<T, N>) : undefined;
    case 'notify':
      return has(protocol.notifications, x.kind) && (protocol.notifications[x.kind] as Validator<unknown>)(x.params) ? (x as HostMessage<T, N>) : undefined;
    case 'cancel':
      return isInt(x.id) ? (x as unknown as CancelMessage) : undefined;
    default:
      return undefined;
  }
}

/** The envelope of a worker's message (its payload is checked against the pending request's kind). */
export function isWorkerMessage(x: unknown): x is WorkerMessage {
  if (!isObj(x)) return false;
  if (x.type === 'event') return isStr(x.kind) && 'event' in x;
  if (!isInt(x.id)) return false;
  switch (x.type) {
    case 'result':
      return 'result' in x;
    case 'progress':
      return 'progress' in x;
    case 'error':
      return (WORKER_ERROR_CODES as readonly unknown[]).includes(x.code) && isStr(x.message) && x.message.length <= MAX_ERROR_MESSAGE;
    default:
      return false;
  }
}

/** The event in `x` if it is a valid one of `protocol`'s kinds, else undefined. */
export function parseWorkerEvent<E extends EventTable>(protocol: Pick<WorkerProtocol<RequestTable, NotificationTable, E>, 'events'>, x: WorkerMessage): EventMessage<E> | undefined {
  return x.type === 'event' && has(protocol.events, x.kind) && (protocol.events[x.kind] as Validator<unknown>)(x.event) ? (x as EventMessage<E>) : undefined;
}

/** `{ done, total }`: files, tokens or articles of a long job. */
export interface StepProgress {
  readonly done: number;
  readonly total: number;
}

export const isStepProgress = (x: unknown): x is StepProgress => isObj(x) && isInt(x.done) && isInt(x.total);
