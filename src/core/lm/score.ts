/**
 * Scoring a document with a language model: per token its log-probability, rank, entropy and the top-k
 * alternatives, and per byte the surprisal in bits.
 *
 * Spreading rule (per-byte surprisal): a token's surprisal, -logProb / ln 2 bits, is spread evenly over its
 * own bytes [byteStart, byteEnd). A zero-width token (no bytes of its own, e.g. a prepended `▁` or the
 * second token of a normalizer expansion) gives its surprisal to the next token that has bytes, or, when no
 * token after it has bytes, to the previous one; so the bytes' surprisal adds up to the tokens' (up to
 * floating-point rounding). A text without bytes has no per-byte values.
 *
 * Windows: tokens are scored in windows of `windowTokens` (default 512); each window sees up to
 * `model.contextTokens` tokens before it. Between windows the computation checks the AbortSignal, reports
 * progress and yields to the event loop, so a worker can cancel it when the document changes.
 */
import { escapeBytes } from '../analysis/stream';
import { decodeUtf8Strict } from '../text/utf8';
import type { TokenStream, Tokenizer } from '../tokenizers/types';
import { yieldToEventLoop } from '../eventLoop';
import { LN2, throwIfAborted, type LanguageModel, type NextTokenDistribution } from './model';

interface ScoreOptions {
  /** Alternatives kept per token (default 5; 0 for none). */
  readonly topK?: number;
  /** Tokens per window (default 512). */
  readonly windowTokens?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (scoredTokens: number, totalTokens: number) => void;
  /** The text's token stream when already known (must be `tokenizer.encode(text)`). */
  readonly stream?: TokenStream;
  readonly allowSpecial?: boolean;
}

/** Struct-of-arrays scores of one document (no object per token). */
export interface DocumentScores {
  readonly modelId: string;
  readonly stream: TokenStream;
  readonly count: number;
  /** Natural-log probability of each token given the tokens before it. */
  readonly logProbs: Float64Array;
  /** 1-based rank of each token in its distribution. */
  readonly ranks: Float64Array;
  /** Entropy of each position's distribution in nats (NaN where the model cannot give it). */
  readonly entropies: Float64Array;
  readonly topK: number;
  /** count × topK alternatives (ids, -1 where fewer), most probable first. */
  readonly topIds: Int32Array;
  readonly topLogProbs: Float64Array;
  /** Surprisal per byte of the text, in bits (see the spreading rule). */
  readonly surprisalBits: Float64Array;
}

interface ScoredAlternative {
  readonly id: number;
  readonly text: string;
  readonly logProb: number;
}

/** One token's scores as an object (for hovers, JSON, tests). */
interface ScoredToken {
  readonly id: number;
  readonly byteStart: number;
  readonly byteEnd: number;
  readonly logProb: number;
  readonly surprisalBits: number;
  readonly rank: number;
  readonly entropy: number | null;
  readonly top: readonly ScoredAlternative[];
}

async function distributionsFor(model: LanguageModel, ids: Uint32Array, from: number, to: number, signal: AbortSignal | undefined): Promise<NextTokenDistribution[]> {
  const start = Math.max(0, from - model.contextTokens);
  if (model.nextDistributions) {
    const r = model.nextDistributions(ids.subarray(start, to), from - start, to - start, signal);
    return r instanceof Promise ? await r : r;
  }
  const out: NextTokenDistribution[] = [];
  for (let p = from; p < to; p++) {
    const r = model.nextDistribution(ids.subarray(Math.max(0, p - model.contextTokens), p), signal);
    out.push(r instanceof Promise ? await r : r);
  }
  return out;
}

export async function scoreDocument(model: LanguageModel, tokenizer: Tokenizer, text: string, options: ScoreOptions = {}): Promise<DocumentScores> {
  const stream = options.stream ?? tokenizer.encode(text, { allowSpecial: options.allowSpecial === true });
  const n = stream.count;
  const topK = Math.max(0, options.topK ?? 5);
  const windowTokens = Math.max(1, options.windowTokens ?? 512);
  const logProbs = new Float64Array(n);
  const ranks = new Float64Array(n);
  const entropies = new Float64Array(n);
  const topIds = new Int32Array(n * topK).fill(-1);
  const topLogProbs = new Float64Array(n * topK).fill(-Infinity);
  for (let from = 0; from < n; from += windowTokens) {
    throwIfAborted(options.signal);
    const to = Math.min(n, from + windowTokens);
    const dists = await distributionsFor(model, stream.ids, from, to, options.signal);
    for (let p = from; p < to; p++) {
      const d = dists[p - from];
      const id = stream.ids[p];
      logProbs[p] = d.logProb(id);
      ranks[p] = d.rank(id);
      const h = d.entropyNats;
      entropies[p] = h === null ? NaN : h;
      if (topK > 0) {
        const top = d.top(topK);
        for (let j = 0; j < top.length; j++) {
          topIds[p * topK + j] = top[j].id;
          topLogProbs[p * topK + j] = top[j].logProb;
        }
      }
    }
    options.onProgress?.(to, n);
    if (to < n) await yieldToEventLoop();
  }
  throwIfAborted(options.signal);
  return {
    modelId: model.id,
    stream,
    count: n,
    logProbs,
    ranks,
    entropies,
    topK,
    topIds,
    topLogProbs,
    surprisalBits: spreadSurprisal(stream.byteOffsets, n, stream.byteLength, logProbs),
  };
}

/** Per-byte surprisal in bits from per-token log-probabilities (see the spreading rule above). */
export function spreadSurprisal(byteOffsets: Uint32Array, count: number, byteLength: number, logProbs: Float64Array): Float64Array {
  const out = new Float64Array(byteLength);
  let carry = 0;
  let lastWithBytes = -1;
  const spread = (i: number, bits: number): void => {
    const a = byteOffsets[i];
    const b = byteOffsets[i + 1];
    const share = bits / (b - a);
    for (let k = a; k < b; k++) out[k] += share;
  };
  for (let i = 0; i < count; i++) {
    const bits = -logProbs[i] / LN2;
    if (byteOffsets[i + 1] === byteOffsets[i]) {
      carry += bits;
      continue;
    }
    spread(i, bits + carry);
    carry = 0;
    lastWithBytes = i;
  }
  if (carry !== 0 && lastWithBytes >= 0) spread(lastWithBytes, carry);
  return out;
}

/** How an id reads: its bytes as text, `\xNN` escapes where they are not whole characters, '' for end-of-text. */
export function tokenDisplayText(tokenizer: Tokenizer, id: number): string {
  if (id < 0 || id >= tokenizer.vocabSize) return '';
  const bytes = tokenizer.tokenBytes(id);
  const s = decodeUtf8Strict(bytes);
  return s ?? escapeBytes(bytes);
}

export function scoredToken(scores: DocumentScores, tokenizer: Tokenizer, i: number): ScoredToken {
  const top: ScoredAlternative[] = [];
  for (let j = 0; j < scores.topK; j++) {
    const id = scores.topIds[i * scores.topK + j];
    if (id < 0) break;
    top.push({ id, text: tokenDisplayText(tokenizer, id), logProb: scores.topLogProbs[i * scores.topK + j] });
  }
  const h = scores.entropies[i];
  return {
    id: scores.stream.ids[i],
    byteStart: scores.stream.byteOffsets[i],
    byteEnd: scores.stream.byteOffsets[i + 1],
    logProb: scores.logProbs[i],
    surprisalBits: -scores.logProbs[i] / LN2,
    rank: scores.ranks[i],
    entropy: Number.isNaN(h) ? null : h,
    top,
  };
}

/** GLTR's rank buckets: their one home is rankHistogram.ts. */
export { rankBucket } from './rankHistogram';
