/**
 * The workspace jobs worker (src/worker/workspaceWorker.ts): everything slow that is not a model's work, kept
 * off the tokenization worker so that typing never waits for it: training the workspace n-gram, scoring,
 * the next byte, language premiums, Compare, chat counts and folder totals.
 *
 * A job on a document carries the document's text and its token stream at one version (the host's analysis of
 * that version, copied): the answer is computed on exactly that text, and the host shows it only while the
 * document is still at that version. (A mirror of the open documents fed by the same edits would cost a second
 * re-tokenization on every keystroke; sending text and stream costs about 5 ms per 1 MB document per job:
 * bench/workerTransfer.ts.)
 */
import type { CompareResult } from '../core/analysis/compare';
import type { FolderTotals } from '../core/analysis/folderTotals';
import { MAX_PASTED_IDS, type DecodedIds } from '../core/analysis/tokenIds';
import type { ChatCount } from '../core/models/chat';
import type { PremiumRow } from '../core/premiums/premiums';
import { isDocumentScores, isNextBytes, isStream, isTokenizerRef, isTokenizerRefList, type DocumentScoresPayload, type NextBytesPayload, type StreamPayload, type TokenizerRef } from './payloads';
import { isStepProgress, type Deadline, type RequestType, type StepProgress, type WorkerProtocol } from './requests';
import { MAX_TEXT_UTF16 } from './tokenWorker';
import { isInt, isObj, isStr, type Obj } from './validate';

/** A document at one version, for the workspace n-gram (trained on `workspaceRoot` with the file left out). */
export interface DocumentJob {
  readonly text: string;
  /** The text's tokens under `tokenizer` (the host's analysis of the same version). */
  readonly stream: StreamPayload;
  readonly tokenizer: TokenizerRef;
  readonly allowSpecial: boolean;
  readonly workspaceRoot: string | null;
  /** The document's file path, to leave its own counts out. */
  readonly path: string | null;
  /** Where trained models are kept between sessions. */
  readonly storageDir: string | null;
}

/** Training reports files, scoring reports tokens. */
export interface JobProgress extends StepProgress {
  readonly stage: 'training' | 'scoring';
}

export interface RetrainParams {
  readonly tokenizer: TokenizerRef;
  readonly workspaceRoot: string;
  readonly storageDir: string | null;
}

export interface CompareParams {
  readonly text: string;
  readonly tokenizers: readonly TokenizerRef[];
  readonly reference: TokenizerRef;
}

export interface ChatParams {
  readonly model: string;
  readonly text: string;
  readonly role: 'user' | 'system';
}

export interface FolderParams {
  readonly root: string;
  readonly tokenizers: readonly TokenizerRef[];
  readonly exclude: readonly string[];
}

/** The same text under several tokenizers, as token streams (the side-by-side chips and the scratch input). */
export interface TokenStreamsParams {
  readonly text: string;
  readonly tokenizers: readonly TokenizerRef[];
  readonly allowSpecial: boolean;
}

export interface TokenStreamsResult {
  readonly streams: readonly { readonly tokenizer: string; readonly name: string; readonly stream: StreamPayload }[];
}

/** The streams' texts are shown as chips: at most this many UTF-16 units (the caller cuts longer texts and says so). */
export const MAX_CHIP_TEXT_UTF16 = 200_000;

export type WorkspaceRequests = {
  retrain: RequestType<RetrainParams, { readonly description: string }, StepProgress>;
  score: RequestType<DocumentJob, DocumentScoresPayload, JobProgress>;
  nextBytes: RequestType<DocumentJob & { readonly utf16Offset: number }, NextBytesPayload, JobProgress>;
  premiums: RequestType<{ readonly tokenizers: readonly TokenizerRef[]; readonly cacheDir?: string }, readonly PremiumRow[], StepProgress>;
  compare: RequestType<CompareParams, CompareResult>;
  chat: RequestType<ChatParams, ChatCount>;
  countFolder: RequestType<FolderParams, FolderTotals, StepProgress>;
  tokenStreams: RequestType<TokenStreamsParams, TokenStreamsResult>;
  /** Pasted token ids decoded under one tokenizer. */
  decodeIds: RequestType<{ readonly tokenizer: TokenizerRef; readonly ids: readonly number[] }, DecodedIds>;
};

const isText = (x: unknown): x is string => isStr(x) && x.length <= MAX_TEXT_UTF16;
const isNullableStr = (x: unknown): x is string | null => x === null || isStr(x);

/** The fields of a DocumentJob (a boolean, so that nextBytes can check its offset after it). */
function hasDocumentJob(x: Obj): boolean {
  return (
    isText(x.text) &&
    isStream(x.stream) &&
    x.stream.utf16Length === x.text.length &&
    isTokenizerRef(x.tokenizer) &&
    typeof x.allowSpecial === 'boolean' &&
    isNullableStr(x.workspaceRoot) &&
    isNullableStr(x.path) &&
    isNullableStr(x.storageDir)
  );
}

const isDocumentJob = (x: unknown): x is DocumentJob => isObj(x) && hasDocumentJob(x);
const isJobProgress = (x: unknown): x is JobProgress => isObj(x) && isInt(x.done) && isInt(x.total) && (x.stage === 'training' || x.stage === 'scoring');

/** Long jobs report progress: a minute without any, or their cap, ends them. */
const progressing = (totalMs: number): Deadline => ({ idleMs: 60_000, totalMs });
const MINUTES = 60_000;

export const WORKSPACE_WORKER = {
  name: 'the workspace jobs worker',
  params: {
    retrain: (x): x is RetrainParams => isObj(x) && isTokenizerRef(x.tokenizer) && isStr(x.workspaceRoot) && isNullableStr(x.storageDir),
    score: isDocumentJob,
    nextBytes: (x): x is DocumentJob & { utf16Offset: number } => isObj(x) && hasDocumentJob(x) && isInt(x.utf16Offset) && x.utf16Offset <= (x.text as string).length,
    premiums: (x): x is { tokenizers: TokenizerRef[]; cacheDir?: string } => isObj(x) && isTokenizerRefList(64)(x.tokenizers) && (x.cacheDir === undefined || isStr(x.cacheDir)),
    compare: (x): x is CompareParams => isObj(x) && isText(x.text) && isTokenizerRefList(64)(x.tokenizers) && isTokenizerRef(x.reference),
    chat: (x): x is ChatParams => isObj(x) && isStr(x.model) && x.model.length < 200 && isText(x.text) && (x.role === 'user' || x.role === 'system'),
    countFolder: (x): x is FolderParams => isObj(x) && isStr(x.root) && isTokenizerRefList(16)(x.tokenizers) && Array.isArray(x.exclude) && x.exclude.every(isStr),
    tokenStreams: (x): x is TokenStreamsParams =>
      isObj(x) && isStr(x.text) && x.text.length <= MAX_CHIP_TEXT_UTF16 && isTokenizerRefList(16)(x.tokenizers) && typeof x.allowSpecial === 'boolean',
    decodeIds: (x): x is { tokenizer: TokenizerRef; ids: number[] } =>
      isObj(x) && isTokenizerRef(x.tokenizer) && Array.isArray(x.ids) && x.ids.length <= MAX_PASTED_IDS && x.ids.every((id: unknown) => isInt(id) && id < 2 ** 32),
  },
  results: {
    retrain: (x): x is { description: string } => isObj(x) && isStr(x.description),
    score: isDocumentScores,
    nextBytes: isNextBytes,
    premiums: (x): x is PremiumRow[] => Array.isArray(x) && x.every((r: unknown) => isObj(r) && isStr(r.tokenizer) && isStr(r.code) && typeof r.premium === 'number'),
    compare: (x): x is CompareResult => isObj(x) && isStr(x.reference) && Array.isArray(x.tokenizers) && Array.isArray(x.lines),
    chat: (x): x is ChatCount => isObj(x) && isInt(x.tokens) && isInt(x.contentTokens),
    countFolder: (x): x is FolderTotals => isObj(x) && isObj(x.totals) && Array.isArray(x.files),
    tokenStreams: (x): x is TokenStreamsResult =>
      isObj(x) && Array.isArray(x.streams) && x.streams.every((r: unknown) => isObj(r) && isStr(r.tokenizer) && isStr(r.name) && isStream(r.stream)),
    decodeIds: (x): x is DecodedIds =>
      isObj(x) &&
      isStr(x.text) &&
      Array.isArray(x.unknownIds) &&
      Array.isArray(x.tokens) &&
      x.tokens.every((t: unknown) => isObj(t) && typeof t.id === 'number' && isStr(t.text) && isInt(t.byteLength) && typeof t.unknown === 'boolean'),
  },
  progress: { retrain: isStepProgress, score: isJobProgress, nextBytes: isJobProgress, premiums: isStepProgress, compare: null, chat: null, countFolder: isStepProgress, tokenStreams: null, decodeIds: null },
  notifications: {},
  events: {},
  deadlines: {
    retrain: progressing(30 * MINUTES),
    score: progressing(30 * MINUTES),
    nextBytes: progressing(30 * MINUTES),
    premiums: progressing(30 * MINUTES),
    // Up to 64 tokenizers over the text.
    compare: (p) => ({ totalMs: 60_000 + 2_000 * (p.tokenizers.length + 1) * Math.ceil(p.text.length / 1_000_000) }),
    chat: (p) => ({ totalMs: 60_000 + 6_000 * Math.ceil(p.text.length / 1_000_000) }),
    countFolder: { idleMs: 2 * MINUTES, totalMs: 120 * MINUTES },
    tokenStreams: (p) => ({ totalMs: 60_000 + 2_000 * p.tokenizers.length }),
    decodeIds: { totalMs: 60_000 },
  },
  labels: {
    retrain: 'training the workspace model',
    score: 'scoring a document with the workspace model',
    nextBytes: 'computing the next byte',
    premiums: 'computing language premiums',
    compare: 'comparing tokenizers',
    chat: 'counting a chat message',
    countFolder: 'counting tokens in a folder',
    tokenStreams: 'tokenizing a text under several tokenizers',
    decodeIds: 'decoding token ids',
  },
} satisfies WorkerProtocol<WorkspaceRequests, Record<never, never>>;
