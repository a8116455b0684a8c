/**
 * The tokenization worker (src/worker/tokenWorker.ts): small, always on, and never behind a slow job. It holds
 * each open document's text and incremental token state; nothing else runs there.
 */
import { isStream, isTextChange, isTokenizerDescription, isTokenizerRef, isTokenTexts, type StreamPayload, type TextChange, type TokenizerDescription, type TokenizerRef } from './payloads';
import type { Deadline, RequestType, WorkerProtocol } from './requests';
import { isInt, isObj, isStr } from './validate';

interface DocumentVersion {
  readonly docKey: string;
  readonly version: number;
  readonly tokenizer: TokenizerRef;
  readonly allowSpecial: boolean;
  /** The document's length at `version` (UTF-16 units): checked after the edits are applied. */
  readonly utf16Length: number;
}

/** A stretch of the document in UTF-16 units: the lines an editor shows. */
export interface Utf16Range {
  readonly utf16Start: number;
  readonly utf16End: number;
}

/**
 * The whole text, or the edits from `baseVersion` (which the worker must hold). With the whole text, `visible`
 * asks for the tokens of a region around it first, as a progress message, before the whole text's.
 */
export type AnalyzeParams = DocumentVersion & ({ readonly text: string; readonly visible?: Utf16Range } | { readonly baseVersion: number; readonly changes: readonly TextChange[] });

/**
 * The tokens of a region of the text (between restart points: equal to the whole text's there), sent before
 * the whole text's. The stream's offsets are the document's (utf16Offsets from utf16Start, byteOffsets from
 * the region's UTF-8 offset in the document).
 */
export interface AnalyzeRegion {
  readonly version: number;
  readonly utf16Start: number;
  readonly utf16End: number;
  readonly stream: StreamPayload;
}

export type AnalyzeResult =
  | { readonly status: 'analysis'; readonly tokenizer: TokenizerDescription; readonly stream: StreamPayload; readonly elapsedMs: number }
  /** The worker does not hold `baseVersion` of the document (or its edits do not add up): send the whole text. */
  | { readonly status: 'needText' };

export interface CountParams {
  readonly tokenizer: TokenizerRef;
  readonly text: string;
  readonly allowSpecial: boolean;
}

export type TokenRequests = {
  analyze: RequestType<AnalyzeParams, AnalyzeResult, AnalyzeRegion>;
  /** A piece of text (a selection) counted on its own. */
  count: RequestType<CountParams, { readonly count: number; readonly addedCount: number }>;
  /** Loads a tokenizer (Add Tokenizer from File checks a file this way). */
  describe: RequestType<{ readonly tokenizer: TokenizerRef }, TokenizerDescription>;
  /** Display texts of token ids (the hover's alternatives under a neural model). */
  tokenTexts: RequestType<{ readonly tokenizer: TokenizerRef; readonly ids: readonly number[] }, Readonly<Record<string, string>>>;
};

export type TokenNotifications = {
  /** The document was closed: forget it. */
  close: { readonly docKey: string };
};

/** Documents VS Code hands to extensions are at most 50 MB. */
export const MAX_TEXT_UTF16 = 64 * 2 ** 20;
const isText = (x: unknown): x is string => isStr(x) && x.length <= MAX_TEXT_UTF16;

function isAnalyzeParams(x: unknown): x is AnalyzeParams {
  if (!isObj(x) || !isStr(x.docKey) || !isInt(x.version) || !isTokenizerRef(x.tokenizer) || typeof x.allowSpecial !== 'boolean' || !isInt(x.utf16Length)) return false;
  if (x.text !== undefined) return isText(x.text) && (x.visible === undefined || isUtf16Range(x.visible, x.text.length));
  return isInt(x.baseVersion) && Array.isArray(x.changes) && x.changes.every(isTextChange);
}

function isUtf16Range(x: unknown, utf16Length: number): x is Utf16Range {
  return isObj(x) && isInt(x.utf16Start) && isInt(x.utf16End) && x.utf16Start >= 0 && x.utf16Start <= x.utf16End && x.utf16End <= utf16Length;
}

function isAnalyzeRegion(x: unknown): x is AnalyzeRegion {
  if (!isObj(x) || !isInt(x.version) || !isInt(x.utf16Start) || !isInt(x.utf16End) || x.utf16Start > x.utf16End || !isStream(x.stream)) return false;
  const u = x.stream.utf16Offsets;
  return u[0] === x.utf16Start && u[u.length - 1] === x.utf16End;
}

function isAnalyzeResult(x: unknown): x is AnalyzeResult {
  if (!isObj(x)) return false;
  if (x.status === 'needText') return true;
  return x.status === 'analysis' && isTokenizerDescription(x.tokenizer) && isStream(x.stream) && typeof x.elapsedMs === 'number';
}

/**
 * A minute (loading a large tokenizer.json included) plus 6 s per million UTF-16 units: every bundled tokenizer
 * encodes over 1 MB/s, so only a runaway pattern (catastrophic backtracking) gets near it.
 */
const bySize = (utf16Length: number): Deadline => ({ totalMs: 60_000 + 6_000 * Math.ceil(utf16Length / 1_000_000) });

export const TOKEN_WORKER = {
  name: 'the tokenization worker',
  params: {
    analyze: isAnalyzeParams,
    count: (x): x is CountParams => isObj(x) && isTokenizerRef(x.tokenizer) && isText(x.text) && typeof x.allowSpecial === 'boolean',
    describe: (x): x is { tokenizer: TokenizerRef } => isObj(x) && isTokenizerRef(x.tokenizer),
    tokenTexts: (x): x is { tokenizer: TokenizerRef; ids: number[] } => isObj(x) && isTokenizerRef(x.tokenizer) && Array.isArray(x.ids) && x.ids.length <= 1_000_000 && x.ids.every(isInt),
  },
  results: {
    analyze: isAnalyzeResult,
    count: (x): x is { count: number; addedCount: number } => isObj(x) && isInt(x.count) && isInt(x.addedCount),
    describe: isTokenizerDescription,
    tokenTexts: isTokenTexts,
  },
  progress: { analyze: isAnalyzeRegion, count: null, describe: null, tokenTexts: null },
  notifications: {
    close: (x): x is { docKey: string } => isObj(x) && isStr(x.docKey),
  },
  events: {},
  deadlines: {
    analyze: (p) => bySize(p.utf16Length),
    count: (p) => bySize(p.text.length),
    // A tokenizer.json may be up to 300 MB (loader's limit).
    describe: { totalMs: 120_000 },
    tokenTexts: { totalMs: 60_000 },
  },
  labels: { analyze: 'tokenizing a document', count: 'counting tokens', describe: 'loading a tokenizer', tokenTexts: 'reading token texts' },
} satisfies WorkerProtocol<TokenRequests, TokenNotifications>;
