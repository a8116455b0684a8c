/**
 * The values that cross between the extension host, its workers and its webviews in more than one protocol:
 * tokenizer refs, edits, token streams, scores, next-byte results. One type and one validator for each.
 */
import type { TokenStream } from '../core/tokenizers/types';
import { isInt, isNum, isObj, isShortStr, isStr } from './validate';

/** A tokenizer: a bundled id, or a display name with the file or folder to load (user tokenizers, a model's own). */
export interface TokenizerRef {
  readonly id: string;
  readonly path?: string;
}

export function isTokenizerRef(x: unknown): x is TokenizerRef {
  return isObj(x) && isShortStr(x.id, 4095) && (x.path === undefined || (isStr(x.path) && x.path.length < 4096));
}

export const isTokenizerRefList = (max: number) => (x: unknown): x is readonly TokenizerRef[] => Array.isArray(x) && x.length <= max && x.every(isTokenizerRef);

/** One edit, as VS Code reports it: offsets into the text before this edit. */
export interface TextChange {
  readonly rangeOffset: number;
  readonly rangeLength: number;
  readonly text: string;
}

export function isTextChange(x: unknown): x is TextChange {
  return isObj(x) && isInt(x.rangeOffset) && isInt(x.rangeLength) && isStr(x.text);
}

/** A token stream as it crosses a thread boundary (its typed arrays are transferred where the sender drops them). */
export type StreamPayload = TokenStream;

export function isStream(x: unknown): x is StreamPayload {
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

export interface TokenizerDescription {
  readonly id: string;
  readonly name: string;
  readonly algorithm: string;
  readonly vocabSize: number;
  readonly loadMs: number;
}

export function isTokenizerDescription(x: unknown): x is TokenizerDescription {
  return isObj(x) && isStr(x.id) && isStr(x.name) && isStr(x.algorithm) && isInt(x.vocabSize) && typeof x.loadMs === 'number';
}

/**
 * Scores of a token sequence, named as core/lm/score.ts's DocumentScores: from the workspace n-gram (jobs
 * worker), an ONNX model or a remote endpoint (model worker). Ranks and entropies are null from an endpoint.
 */
export interface ScoresPayload {
  readonly count: number;
  readonly topK: number;
  readonly logProbs: Float64Array;
  /** 1-based ranks; null where not available (remote endpoints). */
  readonly ranks: Float64Array | null;
  /** nats; null where not available (remote endpoints). */
  readonly entropies: Float64Array | null;
  /** count×topK; -1 where fewer. */
  readonly topIds: Int32Array;
  /** count×topK; -Infinity where fewer. */
  readonly topLogProbs: Float64Array;
}

export function isScores(x: unknown): x is ScoresPayload {
  if (!isObj(x) || !isInt(x.count) || !isInt(x.topK)) return false;
  const n = x.count;
  const k = x.topK;
  return (
    x.logProbs instanceof Float64Array &&
    x.logProbs.length === n &&
    (x.ranks === null || (x.ranks instanceof Float64Array && x.ranks.length === n)) &&
    (x.entropies === null || (x.entropies instanceof Float64Array && x.entropies.length === n)) &&
    x.topIds instanceof Int32Array &&
    x.topIds.length === n * k &&
    x.topLogProbs instanceof Float64Array &&
    x.topLogProbs.length === n * k
  );
}

/** The buffers of a ScoresPayload, to transfer with it. */
export function scoresTransfer(s: ScoresPayload): ArrayBuffer[] {
  const bufs = [s.logProbs.buffer, s.topIds.buffer, s.topLogProbs.buffer];
  if (s.ranks) bufs.push(s.ranks.buffer);
  if (s.entropies) bufs.push(s.entropies.buffer);
  return bufs as ArrayBuffer[];
}

/** A document's scores as the editor shows them: the scores, which model, the alternatives' texts, surprisal per byte. */
export interface DocumentScoresPayload {
  readonly model: { readonly id: string; readonly description: string };
  readonly scores: ScoresPayload;
  /** Display texts of the ids in scores.topIds. */
  readonly topTexts: Readonly<Record<string, string>>;
  /** Surprisal in bits per UTF-8 byte (each token's spread evenly over its bytes). */
  readonly surprisalBits: Float64Array;
}

export const isTokenTexts = (x: unknown): x is Readonly<Record<string, string>> => isObj(x) && Object.values(x).every(isStr);

export function isDocumentScores(x: unknown): x is DocumentScoresPayload {
  return isObj(x) && isObj(x.model) && isStr(x.model.id) && isStr(x.model.description) && isScores(x.scores) && isTokenTexts(x.topTexts) && x.surprisalBits instanceof Float64Array;
}

export interface NextBytesPayload {
  readonly offset: number;
  readonly byteOffset: number;
  readonly exact: boolean;
  readonly inexactReason?: string;
  readonly window: number;
  /** 257 probabilities: bytes 0..255, then end-of-text. */
  readonly distribution: Float64Array;
  readonly naive: Float64Array;
  readonly healing: Float64Array;
  readonly topCharacters: readonly { readonly text: string; readonly probability: number }[];
  /** What the model reads for a space, when it is not a space (core/lm/nextByte NextByteResult.spaceAs). */
  readonly spaceAs?: string;
  readonly ms: number;
  /**
   * From a remote endpoint whose top-k left mass out (core/lm/remoteNextByte.ts): k, the largest mass outside it
   * over the prefixes asked, and why the analysis was inexact apart from that, if it was.
   */
  readonly topKOnly?: { readonly topK: number; readonly maxMissingMass: number; readonly prompts: number; readonly analysisInexactReason?: string };
}

const isByteDistribution = (x: unknown): x is Float64Array => x instanceof Float64Array && x.length === 257;

export function isNextBytes(x: unknown): x is NextBytesPayload {
  return (
    isObj(x) &&
    isInt(x.offset) &&
    isInt(x.byteOffset) &&
    typeof x.exact === 'boolean' &&
    (x.inexactReason === undefined || isStr(x.inexactReason)) &&
    isInt(x.window) &&
    isByteDistribution(x.distribution) &&
    isByteDistribution(x.naive) &&
    isByteDistribution(x.healing) &&
    Array.isArray(x.topCharacters) &&
    x.topCharacters.every((c: unknown) => isObj(c) && isStr(c.text) && isNum(c.probability)) &&
    isNum(x.ms) &&
    (x.spaceAs === undefined || (isStr(x.spaceAs) && x.spaceAs.length > 0 && x.spaceAs.length <= 4)) &&
    (x.topKOnly === undefined || (isObj(x.topKOnly) && isInt(x.topKOnly.topK) && isNum(x.topKOnly.maxMissingMass) && x.topKOnly.maxMissingMass >= 0 && x.topKOnly.maxMissingMass <= 1 && isInt(x.topKOnly.prompts) && (x.topKOnly.analysisInexactReason === undefined || isStr(x.topKOnly.analysisInexactReason))))
  );
}
