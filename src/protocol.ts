/**
 * Every message between the extension host and its workers, typed and validated in one place.
 * Validators are deliberately strict: a message that does not match is logged and ignored, never acted on.
 */

export interface TokenizerRef {
  /** A bundled id, or a display name for a user file. */
  readonly id: string;
  /** For user tokenizers: the file or folder to load. */
  readonly path?: string;
}

/** One edit, as VS Code reports it: offsets into the text before this edit. */
export interface TextChange {
  readonly rangeOffset: number;
  readonly rangeLength: number;
  readonly text: string;
}

export interface StreamPayload {
  readonly count: number;
  readonly ids: Uint32Array;
  readonly byteOffsets: Uint32Array;
  readonly utf16Offsets: Uint32Array;
  readonly flags: Uint8Array;
  readonly byteIntoChar: Uint8Array;
  readonly byteLength: number;
  readonly utf16Length: number;
  readonly addedTokens: readonly { readonly id: number; readonly text: string; readonly position: 'start' | 'end' }[];
}

export type HostToTokenWorker =
  | {
      readonly kind: 'analyze';
      readonly requestId: number;
      readonly docKey: string;
      readonly version: number;
      readonly tokenizer: TokenizerRef;
      readonly allowSpecial: boolean;
      /** The whole text, or edits from `baseVersion` (which the worker must hold). */
      readonly text?: string;
      readonly baseVersion?: number;
      readonly changes?: readonly TextChange[];
    }
  | { readonly kind: 'count'; readonly requestId: number; readonly tokenizer: TokenizerRef; readonly text: string; readonly allowSpecial: boolean }
  | { readonly kind: 'describe'; readonly requestId: number; readonly tokenizer: TokenizerRef }
  | { readonly kind: 'close'; readonly docKey: string };

export interface TokenizerDescription {
  readonly id: string;
  readonly name: string;
  readonly algorithm: string;
  readonly vocabSize: number;
  readonly loadMs: number;
}

export type TokenWorkerToHost =
  | {
      readonly kind: 'analysis';
      readonly requestId: number;
      readonly docKey: string;
      readonly version: number;
      readonly tokenizer: TokenizerDescription;
      readonly stream: StreamPayload;
      readonly elapsedMs: number;
    }
  | { readonly kind: 'count'; readonly requestId: number; readonly count: number; readonly addedCount: number }
  | { readonly kind: 'described'; readonly requestId: number; readonly tokenizer: TokenizerDescription }
  /** The worker does not hold `baseVersion` of the document: send the whole text. */
  | { readonly kind: 'needText'; readonly requestId: number; readonly docKey: string }
  | { readonly kind: 'error'; readonly requestId: number; readonly message: string };

// ---------- validation ----------

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
const isStr = (x: unknown): x is string => typeof x === 'string';

export function isTokenizerRef(x: unknown): x is TokenizerRef {
  return isObj(x) && isStr(x.id) && x.id.length > 0 && x.id.length < 4096 && (x.path === undefined || (isStr(x.path) && x.path.length < 4096));
}

function isChange(x: unknown): x is TextChange {
  return isObj(x) && isInt(x.rangeOffset) && isInt(x.rangeLength) && isStr(x.text);
}

export function isHostToTokenWorker(x: unknown): x is HostToTokenWorker {
  if (!isObj(x)) return false;
  switch (x.kind) {
    case 'analyze':
      return (
        isInt(x.requestId) &&
        isStr(x.docKey) &&
        isInt(x.version) &&
        isTokenizerRef(x.tokenizer) &&
        typeof x.allowSpecial === 'boolean' &&
        (x.text === undefined || isStr(x.text)) &&
        (x.text !== undefined || (isInt(x.baseVersion) && Array.isArray(x.changes) && x.changes.every(isChange)))
      );
    case 'count':
      return isInt(x.requestId) && isTokenizerRef(x.tokenizer) && isStr(x.text) && typeof x.allowSpecial === 'boolean';
    case 'describe':
      return isInt(x.requestId) && isTokenizerRef(x.tokenizer);
    case 'close':
      return isStr(x.docKey);
    default:
      return false;
  }
}

function isStream(x: unknown): x is StreamPayload {
  if (!isObj(x) || !isInt(x.count)) return false;
  const n = x.count;
  return (
    x.ids instanceof Uint32Array &&
    x.ids.length === n &&
    x.byteOffsets instanceof Uint32Array &&
    x.byteOffsets.length === n + 1 &&
    x.utf16Offsets instanceof Uint32Array &&
    x.utf16Offsets.length === n + 1 &&
    x.flags instanceof Uint8Array &&
    x.flags.length === n &&
    x.byteIntoChar instanceof Uint8Array &&
    x.byteIntoChar.length === n + 1 &&
    isInt(x.byteLength) &&
    isInt(x.utf16Length) &&
    Array.isArray(x.addedTokens)
  );
}

function isDescription(x: unknown): x is TokenizerDescription {
  return isObj(x) && isStr(x.id) && isStr(x.name) && isStr(x.algorithm) && isInt(x.vocabSize) && typeof x.loadMs === 'number';
}

export function isTokenWorkerToHost(x: unknown): x is TokenWorkerToHost {
  if (!isObj(x) || !isInt(x.requestId)) return false;
  switch (x.kind) {
    case 'analysis':
      return isStr(x.docKey) && isInt(x.version) && isDescription(x.tokenizer) && isStream(x.stream) && typeof x.elapsedMs === 'number';
    case 'count':
      return isInt(x.count) && isInt(x.addedCount);
    case 'described':
      return isDescription(x.tokenizer);
    case 'needText':
      return isStr(x.docKey);
    case 'error':
      return isStr(x.message);
    default:
      return false;
  }
}
