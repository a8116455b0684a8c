import type { CompareResult } from './core/analysis/compare';
import type { FolderTotals } from './core/analysis/folderTotals';
import type { DocumentScores } from './core/lm/score';
import type { ChatCount } from './core/models/chat';
import type { TokenStream } from './core/tokenizers/types';
import type { PremiumRow } from './core/premiums/premiums';
import { ENCODER_KINDS, type EncoderKind } from './core/sae/encoderKinds';
import type { FeaturesPayload } from './modelProtocol';
import { isInt, isObj, isStr, type Obj } from './validate';
import { isPanelTabId, type PanelTabId } from './panelTabs';

/**
 * Every message between the extension host and its workers and webviews, typed and validated in one place.
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

/** A token stream as it crosses the thread boundary (its typed arrays are transferred). */
export type StreamPayload = TokenStream;

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
  | { readonly kind: 'compare'; readonly requestId: number; readonly text: string; readonly tokenizers: readonly TokenizerRef[]; readonly reference: TokenizerRef }
  | { readonly kind: 'premiums'; readonly requestId: number; readonly tokenizers: readonly TokenizerRef[]; readonly cacheDir?: string }
  | { readonly kind: 'chat'; readonly requestId: number; readonly model: string; readonly text: string; readonly role: 'user' | 'system' }
  | { readonly kind: 'countFolder'; readonly requestId: number; readonly root: string; readonly tokenizers: readonly TokenizerRef[]; readonly exclude: readonly string[] }
  | ({ readonly kind: 'score'; readonly requestId: number } & ModelTarget)
  | ({ readonly kind: 'nextBytes'; readonly requestId: number; readonly utf16Offset: number } & ModelTarget)
  | { readonly kind: 'tokenTexts'; readonly requestId: number; readonly tokenizer: TokenizerRef; readonly ids: readonly number[] }
  | { readonly kind: 'retrain'; readonly requestId: number; readonly tokenizer: TokenizerRef; readonly workspaceRoot: string; readonly storageDir: string | null }
  /** Stops a long request (folder totals, premiums); it answers with an error. */
  | { readonly kind: 'cancel'; readonly requestId: number }
  | { readonly kind: 'close'; readonly docKey: string };

/** A document version scored by the workspace n-gram model (trained on `workspaceRoot`, the file left out). */
export interface ModelTarget {
  readonly docKey: string;
  readonly version: number;
  readonly tokenizer: TokenizerRef;
  readonly allowSpecial: boolean;
  readonly workspaceRoot: string | null;
  /** The document's file path, to leave its own counts out. */
  readonly path: string | null;
  /** Where trained models are kept between sessions. */
  readonly storageDir: string | null;
}

/** A document's scores as they cross to the extension host: the core's DocumentScores without the stream the host already has. */
export type ScoresPayload = Omit<DocumentScores, 'modelId' | 'stream'> & {
  readonly model: { readonly id: string; readonly description: string };
  /** Display texts of the ids in topIds. */
  readonly topTexts: Readonly<Record<string, string>>;
};

export interface NextBytesPayload {
  readonly offset: number;
  readonly byteOffset: number;
  readonly exact: boolean;
  readonly inexactReason?: string;
  readonly window: number;
  readonly distribution: Float64Array;
  readonly naive: Float64Array;
  readonly healing: Float64Array;
  readonly topCharacters: readonly { readonly text: string; readonly probability: number }[];
  readonly ms: number;
}

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
  | { readonly kind: 'compared'; readonly requestId: number; readonly result: CompareResult }
  | { readonly kind: 'premiums'; readonly requestId: number; readonly rows: readonly PremiumRow[] }
  | { readonly kind: 'chat'; readonly requestId: number; readonly result: ChatCount }
  | { readonly kind: 'folder'; readonly requestId: number; readonly result: FolderTotals }
  | { readonly kind: 'scores'; readonly requestId: number; readonly docKey: string; readonly version: number; readonly scores: ScoresPayload }
  | { readonly kind: 'nextBytes'; readonly requestId: number; readonly docKey: string; readonly version: number; readonly result: NextBytesPayload }
  | { readonly kind: 'trained'; readonly requestId: number; readonly description: string }
  | { readonly kind: 'tokenTexts'; readonly requestId: number; readonly texts: Readonly<Record<string, string>> }
  /** Progress of a long request; the final reply follows. */
  | { readonly kind: 'progress'; readonly requestId: number; readonly done: number; readonly total: number }
  /** The worker does not hold `baseVersion` of the document: send the whole text. */
  | { readonly kind: 'needText'; readonly requestId: number; readonly docKey: string }
  | { readonly kind: 'error'; readonly requestId: number; readonly message: string };

// ---------- validation ----------


export function isTokenizerRef(x: unknown): x is TokenizerRef {
  return isObj(x) && isStr(x.id) && x.id.length > 0 && x.id.length < 4096 && (x.path === undefined || (isStr(x.path) && x.path.length < 4096));
}

function isChange(x: unknown): x is TextChange {
  return isObj(x) && isInt(x.rangeOffset) && isInt(x.rangeLength) && isStr(x.text);
}

/** The fields every request about one document version carries. */
function isDocumentRequest(x: Obj): boolean {
  return isInt(x.requestId) && isStr(x.docKey) && isInt(x.version) && isTokenizerRef(x.tokenizer) && typeof x.allowSpecial === 'boolean';
}

function isModelTarget(x: Obj): boolean {
  return (
    isDocumentRequest(x) &&
    (x.workspaceRoot === null || isStr(x.workspaceRoot)) &&
    (x.path === null || isStr(x.path)) &&
    (x.storageDir === null || isStr(x.storageDir))
  );
}

export function isHostToTokenWorker(x: unknown): x is HostToTokenWorker {
  if (!isObj(x)) return false;
  switch (x.kind) {
    case 'analyze':
      return (
        isDocumentRequest(x) &&
        (x.text === undefined || isStr(x.text)) &&
        (x.text !== undefined || (isInt(x.baseVersion) && Array.isArray(x.changes) && x.changes.every(isChange)))
      );
    case 'count':
      return isInt(x.requestId) && isTokenizerRef(x.tokenizer) && isStr(x.text) && typeof x.allowSpecial === 'boolean';
    case 'describe':
      return isInt(x.requestId) && isTokenizerRef(x.tokenizer);
    case 'compare':
      return isInt(x.requestId) && isStr(x.text) && Array.isArray(x.tokenizers) && x.tokenizers.length <= 64 && x.tokenizers.every(isTokenizerRef) && isTokenizerRef(x.reference);
    case 'premiums':
      return isInt(x.requestId) && Array.isArray(x.tokenizers) && x.tokenizers.length <= 64 && x.tokenizers.every(isTokenizerRef) && (x.cacheDir === undefined || isStr(x.cacheDir));
    case 'chat':
      return isInt(x.requestId) && isStr(x.model) && x.model.length < 200 && isStr(x.text) && (x.role === 'user' || x.role === 'system');
    case 'countFolder':
      return isInt(x.requestId) && isStr(x.root) && Array.isArray(x.tokenizers) && x.tokenizers.length <= 16 && x.tokenizers.every(isTokenizerRef) && Array.isArray(x.exclude) && x.exclude.every(isStr);
    case 'score':
      return isModelTarget(x);
    case 'nextBytes':
      return isModelTarget(x) && isInt(x.utf16Offset);
    case 'retrain':
      return isInt(x.requestId) && isTokenizerRef(x.tokenizer) && isStr(x.workspaceRoot) && (x.storageDir === null || isStr(x.storageDir));
    case 'tokenTexts':
      return isInt(x.requestId) && isTokenizerRef(x.tokenizer) && Array.isArray(x.ids) && x.ids.length <= 1_000_000 && x.ids.every(isInt);
    case 'cancel':
      return isInt(x.requestId);
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
    case 'compared':
      return isObj(x.result) && isStr(x.result.reference) && Array.isArray(x.result.tokenizers) && Array.isArray(x.result.lines);
    case 'premiums':
      return Array.isArray(x.rows);
    case 'progress':
      return isInt(x.done) && isInt(x.total);
    case 'chat':
      return isObj(x.result) && isInt(x.result.tokens) && isInt(x.result.contentTokens);
    case 'folder':
      return isObj(x.result) && isObj(x.result.totals) && Array.isArray(x.result.files);
    case 'scores': {
      const sc = x.scores;
      return isStr(x.docKey) && isInt(x.version) && isObj(sc) && isInt(sc.count) && sc.logProbs instanceof Float64Array && sc.logProbs.length === sc.count && sc.ranks instanceof Float64Array && sc.topIds instanceof Int32Array && sc.surprisalBits instanceof Float64Array;
    }
    case 'nextBytes':
      return isStr(x.docKey) && isInt(x.version) && isObj(x.result) && x.result.distribution instanceof Float64Array && x.result.distribution.length === 257;
    case 'trained':
      return isStr(x.description);
    case 'tokenTexts':
      return isObj(x.texts);
    case 'needText':
      return isStr(x.docKey);
    case 'error':
      return isStr(x.message);
    default:
      return false;
  }
}

// ---------- webviews (panel and sidebar) ----------

/** A panel tab's id: the tab list is src/panelTabs.ts. */
export type PanelMode = PanelTabId;

/** The features tab's picture: a document's SAE features, with its text to show the tokens. */
export interface PanelFeatures {
  readonly fileName: string;
  readonly version: number;
  readonly text: string;
  readonly result: FeaturesPayload;
}

export interface PanelDocument {
  readonly uri: string;
  readonly fileName: string;
  readonly version: number;
  readonly tokenizer: { readonly id: string; readonly name: string };
  readonly text: string;
  readonly stream: StreamPayload;
  /** With probabilities on: surprisal in bits per UTF-16 unit (a character's bytes summed on its first unit). */
  readonly charSurprisalBits?: Float32Array;
}

export interface TokenizerChoice {
  readonly id: string;
  readonly name: string;
}

/** Messages from the extension host to a webview. */
export type HostToWebview =
  | { readonly type: 'document'; readonly doc: PanelDocument | null; readonly message?: string }
  | { readonly type: 'cursor'; readonly utf16Offset: number }
  | { readonly type: 'reveal'; readonly line: number }
  | { readonly type: 'mode'; readonly mode: PanelMode }
  | { readonly type: 'tokenizers'; readonly all: readonly TokenizerChoice[]; readonly compare: readonly string[]; readonly reference: string; readonly current: string }
  | { readonly type: 'compare'; readonly result: CompareResult | null; readonly scope: 'document' | 'selection'; readonly message?: string }
  | { readonly type: 'premiums'; readonly rows: readonly PremiumRow[] | null; readonly documentScript: string | null; readonly progress?: number; readonly message?: string }
  | { readonly type: 'nextByte'; readonly result: NextBytesPayload | null; readonly before: string; readonly message?: string }
  | {
      readonly type: 'features';
      /** Absent: unchanged since the last message (progress updates do not resend the features). */
      readonly view?: PanelFeatures | null;
      readonly running: boolean;
      /** 0..1 while running. */
      readonly progress: number;
      readonly message?: string;
      readonly highlighted: number | null;
    }
  | {
      readonly type: 'summary';
      readonly tokenizer: TokenizerChoice;
      readonly documentTokens: number | null;
      readonly selectionTokens: number | null;
      readonly added: number;
      readonly costs: readonly { readonly tokenizer: string; readonly relativeCost: number | null; readonly count: number }[];
    };

/** Messages from a webview to the extension host. */
export type WebviewToHost =
  | { readonly type: 'ready' }
  | { readonly type: 'selectToken'; readonly index: number }
  | { readonly type: 'scrolled'; readonly line: number }
  | { readonly type: 'mode'; readonly mode: PanelMode }
  | { readonly type: 'compare'; readonly tokenizers: readonly string[]; readonly scope: 'document' | 'selection' }
  | { readonly type: 'premiums'; readonly tokenizers: readonly string[] }
  | { readonly type: 'setTokenizer'; readonly id: string }
  | { readonly type: 'run'; readonly command: 'showPanel' | 'compare' | 'premiums' | 'selectTokenizer' }
  /** null k/m: the SAE's or the settings' own. */
  | { readonly type: 'runFeatures'; readonly encoder: EncoderKind | null; readonly k: number | null; readonly m: number | null }
  | { readonly type: 'cancelFeatures' }
  | { readonly type: 'highlightFeature'; readonly feature: number | null }
  | { readonly type: 'selectFeatureToken'; readonly index: number };

const isId = (x: unknown): x is string => isStr(x) && x.length > 0 && x.length <= 200;

/** Strict check of everything a webview sends: anything else is logged and ignored. */
export function isWebviewToHost(x: unknown): x is WebviewToHost {
  if (!isObj(x)) return false;
  switch (x.type) {
    case 'ready':
      return Object.keys(x).length === 1;
    case 'selectToken':
      return isInt(x.index) && x.index < 2 ** 31;
    case 'scrolled':
      return isInt(x.line) && x.line < 2 ** 31;
    case 'mode':
      return isPanelTabId(x.mode);
    case 'compare':
      return Array.isArray(x.tokenizers) && x.tokenizers.length <= 32 && x.tokenizers.every(isId) && (x.scope === 'document' || x.scope === 'selection');
    case 'premiums':
      return Array.isArray(x.tokenizers) && x.tokenizers.length <= 32 && x.tokenizers.every(isId);
    case 'setTokenizer':
      return isId(x.id);
    case 'run':
      return x.command === 'showPanel' || x.command === 'compare' || x.command === 'premiums' || x.command === 'selectTokenizer';
    case 'runFeatures':
      return (
        (x.encoder === null || (ENCODER_KINDS as readonly unknown[]).includes(x.encoder)) &&
        (x.k === null || (isInt(x.k) && x.k >= 1 && x.k <= 1 << 20)) &&
        (x.m === null || (isInt(x.m) && x.m >= 1 && x.m <= 1 << 20))
      );
    case 'cancelFeatures':
      return Object.keys(x).length === 1;
    case 'highlightFeature':
      return x.feature === null || (isInt(x.feature) && x.feature < 2 ** 31);
    case 'selectFeatureToken':
      return isInt(x.index) && x.index < 2 ** 31;
    default:
      return false;
  }
}
