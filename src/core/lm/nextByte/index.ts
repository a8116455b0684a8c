/**
 * The exact next-byte distribution at a position of a text, from a token-level language model (the
 * Byte-Token Representation Lemma, Phan et al. 2024, "Exact Byte-Level Probabilities from Tokenized Language
 * Models"), beside naive tokenization and token healing.
 *
 * Definitions (bytes are the text's UTF-8; x = the bytes before the cursor):
 * - A token sequence t is valid iff it is a prefix of the canonical encoding of some text: some continuation s
 *   makes t a prefix of encode(decode(t)·s). A model trained on canonical encodings only ever conditions on
 *   such prefixes. (Where the pre-tokenizer looks ahead this is more than "t is the encoding of its own
 *   bytes": GPT-2 encodes `end\n\nok` as [end][\n][\n][ok], so [end][\n][\n] is valid.)
 * - cover(x): valid t₁..t_k with decode(t₁..t_{k-1}) a strict prefix of x and x a prefix of decode(t₁..t_k).
 * - P(x) = Σ_{t ∈ cover(x)} P_model(t), P_model(t) = Π p(t_j | t_<j) as the model gives them.
 * - P(next = b | x) = P(x·b) / Z with Z = Σ_{b'} P(x·b') over the 256 byte values and end-of-text,
 *   P(x·END) = P(canonical(x)) · p(END | canonical(x)): normalised once, at the end.
 *
 * Modules: anchor.ts (restart point, fixed tokens), pieceAutomaton.ts / searchAutomaton.ts / regexProgram.ts /
 * charClasses.ts (what a continuation can do to the pre-tokens), pieceReadings.ts (readings with positions),
 * patternContext.ts (per-tokenizer validity facts), bpe.ts (BPE boundaries), patternCovers.ts (the covers),
 * patternAnalysis.ts (masses), modelQueries.ts (batched model queries), baselines.ts (naive, healing),
 * characters.ts (next characters); for BPE without a splitting pre-tokenizer (Mistral, Gemma 3)
 * segmentContext.ts and segmentAnalysis.ts (exact: the pair rule at token boundaries); for a tokenizer neither
 * reads, windowCovers.ts (exact: false).
 */
import { utf8Length, wellFormed } from '../../text/utf8';
import type { TokenStream, Tokenizer } from '../../tokenizers/types';
import { type LanguageModel } from '../model';
import { fixedTokens, regionStart } from './anchor';
import { healingMass, naiveMass, normalized } from './baselines';
import { topCharacters, type CharacterProbability } from './characters';
import type { PrefixProbabilities } from './modelQueries';
import { PatternAnalysis } from './patternAnalysis';
import type { PatternContext } from './patternContext';
import { patternContextOf } from './contexts';
import { normalizedRegion, SegmentAnalysis } from './segmentAnalysis';
import { segmentContextOf, type SegmentContext } from './segmentContext';
import type { TokenTable } from './tokenTable';
import { WindowCovers } from './windowCovers';

export type { CharacterProbability } from './characters';
export type { BatchedLanguageModel } from './modelQueries';

export interface NextByteOptions {
  readonly signal?: AbortSignal;
  /** Characters listed in topCharacters (default 10). */
  readonly topCharacters?: number;
  /** A character prefix with at least this probability is expanded byte by byte into characters (default 0.002). */
  readonly expandThreshold?: number;
  /** How far back to look for a restart point before giving up exactness (default 4096 UTF-16 units). */
  readonly maxLookback?: number;
  /**
   * The document's token stream (tokenizer.encode of the whole text), when the caller has it: the tokens
   * before the restart point are taken from it instead of encoding the text before the cursor again.
   */
  readonly documentStream?: TokenStream;
  /** Bytes before the cursor in which covers are enumerated for a tokenizer no exact analysis reads (default 32). */
  readonly windowBytes?: number;
}

export interface NextByteResult {
  /** The UTF-16 offset used (moved back to a character start if it split a surrogate pair). */
  readonly offset: number;
  readonly byteOffset: number;
  readonly exact: boolean;
  /** Why the result is not exact. */
  readonly inexactReason?: string;
  /** Bytes before the cursor in which covers were enumerated. */
  readonly window: number;
  /** Z / P(canonical(x)): the mass of all next bytes relative to the canonical encoding's probability. */
  readonly total: number;
  /** P(x) / P(canonical(x)) (≥ 1): how much more probable the bytes are than their canonical tokenization. */
  readonly prefixRatio: number;
  /** 257 probabilities: bytes 0..255, then end-of-text. */
  readonly distribution: Float64Array;
  readonly naive: Float64Array;
  readonly healing: Float64Array;
  /** The most probable next characters (bytes combined into characters where they complete one). */
  readonly topCharacters: CharacterProbability[];
  /**
   * What the model reads for a space, when it is not a space (`▁` for Mistral and Gemma 3, whose normalizer
   * turns every space into it): the bytes and characters above are the model's, so a space is that character.
   */
  readonly spaceAs?: string;
  /** Valid token sequences found (covers and continuations), and candidates checked. */
  readonly covers: number;
  readonly candidates: number;
  readonly ms: number;
}

/**
 * The region start moved past the last added token whose content lies whole in x after R: every occurrence of
 * a content is a match (contexts.ts), and the text after it is tokenized as a segment of its own.
 */
function afterAddedTokens(ctx: PatternContext, x: string, R: number): number {
  if (R < 0) return R;
  let out = R;
  for (const a of ctx.added) {
    const k = x.lastIndexOf(a.content);
    if (k >= R && k + a.content.length > out) out = k + a.content.length;
  }
  return out;
}

/** The UTF-16 offset moved back to a character start, within the text. */
function clampOffset(text: string, offset: number): number {
  let o = Math.max(0, Math.min(text.length, Math.floor(offset)));
  const c = text.charCodeAt(o);
  if (o > 0 && o < text.length && c >= 0xdc00 && c <= 0xdfff) {
    const h = text.charCodeAt(o - 1);
    if (h >= 0xd800 && h <= 0xdbff) o--;
  }
  return o;
}

/** What the result builder needs from an analysis (pattern, segment or window). */
interface Analysis {
  readonly canonical: Int32Array;
  readonly probabilities: PrefixProbabilities;
  masses(extra: Uint8Array): Promise<{ readonly mass: Float64Array; readonly prefixMass: number; readonly covers: number; readonly candidates: number }>;
}

/** The analysis of the text before the cursor: its region, fixed tokens, and why it is not exact (if so). */
interface Prepared {
  readonly analysis: Analysis;
  readonly table: TokenTable;
  /** The tokens the analysis's probabilities are relative to (read after the masses are computed). */
  fixed(): Uint32Array;
  readonly window: number;
  /** What the model reads for a space, when it is not a space. */
  readonly spaceAs?: string;
  /** Read after the masses are computed (a witness search may fail while they are). */
  inexactReason(): string | undefined;
}

/** The pattern analysis's region, in UTF-16 units, where no restart point lies within the lookback. */
const FORCED_PATTERN_REGION_CHARS = 256;

/** The region start when no restart point lies within the lookback: a character start `lookback` back. */
function forcedStart(x: string, lookback: number): number {
  let R = Math.max(0, x.length - lookback);
  const c = x.charCodeAt(R);
  if (R > 0 && c >= 0xdc00 && c <= 0xdfff) R--;
  return R;
}

function prepare(model: LanguageModel, tokenizer: Tokenizer, x: string, lookback: number, options: NextByteOptions, whole: boolean): Prepared {
  const stream = whole ? undefined : options.documentStream;
  const sctx = segmentContextOf(tokenizer);
  if (sctx) {
    const { R, far, marks } = segmentRegion(sctx, tokenizer, x, lookback);
    // Start at the last wall of the region (a space, a character without a token of its own): covers never cross it.
    const region = normalizedRegion(sctx, x.slice(R), R === 0);
    const marked = R === 0 && sctx.prepends && region.length > 0;
    // (Not right after Mistral's own `▁`: the text before the wall must be some text's start.)
    const found = sctx.lastWall(region);
    const wall = marked && found === 1 ? 0 : found;
    const start = wall > 0 ? R + wall - (marked ? 1 : 0) : R;
    const fixed = fixedTokens(tokenizer, x, start, model.contextTokens, stream, whole);
    const a = new SegmentAnalysis(sctx, model, region.slice(wall), wall === 0 && R === 0 && sctx.prepends, fixed, options.signal);
    // A wall is as good a start as a restart point.
    const reason = marks ?? (far && wall === 0 ? `no restart point within ${lookback} characters before the cursor` : undefined);
    return { analysis: a, table: sctx.table, fixed: () => a.fixed, window: a.bytes.length, spaceAs: '\u2581', inexactReason: () => reason };
  }
  const ctx = patternContextOf(tokenizer);
  if (ctx && !ctx.automaton.tooComplex) {
    let R = afterAddedTokens(ctx, x, regionStart(x, tokenizer.restartRules, lookback));
    // Without a restart point the result is not exact whatever the region: a short one bounds the work (a
    // region of 4096 characters took seconds and gigabytes; Armenian prose under Qwen3 has no restart point).
    const forcedChars = Math.min(lookback, FORCED_PATTERN_REGION_CHARS);
    const far = R < 0 ? `no restart point within ${lookback} characters before the cursor: covers read within the last ${forcedChars}` : undefined;
    if (R < 0) R = forcedStart(x, forcedChars);
    const fixed = fixedTokens(tokenizer, x, R, model.contextTokens, stream, whole);
    const a = new PatternAnalysis(ctx, model, x.slice(R), R > 0, fixed, options.signal);
    return {
      analysis: a,
      table: ctx.table,
      fixed: () => fixed,
      window: a.region.bytes.length,
      inexactReason: () => far ?? (a.witnessMisses > 0 ? 'a token whose piece must go on kept no witness among one-character continuations' : undefined),
    };
  }
  let R = regionStart(x, tokenizer.restartRules, lookback);
  if (R < 0) R = forcedStart(x, lookback);
  const fixed = fixedTokens(tokenizer, x, R, model.contextTokens, stream, whole);
  const W = options.windowBytes ?? 32;
  const a = new WindowCovers(tokenizer, model, x.slice(R), R > 0, fixed, W, options.signal);
  const why = ctx ? 'its split pattern needs more automaton states than analysed' : 'no exact analysis reads its pre-tokenizer, normalizer or added tokens';
  return { analysis: a, table: a.table, fixed: () => fixed, window: Math.min(W, a.bytes.length), inexactReason: () => `${why}: covers along its own tokens within the last ${W} bytes, validity not checked` };
}

/**
 * The exact next-byte distribution at UTF-16 offset `utf16Offset` of `text` (the text after the cursor is
 * not looked at), with the naive and token-healing baselines and the most probable next characters.
 */
export async function nextByteDistribution(model: LanguageModel, tokenizer: Tokenizer, text: string, utf16Offset: number, options: NextByteOptions = {}): Promise<NextByteResult> {
  const t0 = performance.now();
  const lookback = options.maxLookback ?? 4096;
  const offset = clampOffset(text, utf16Offset);
  // Only the text near the cursor is read character by character; lone surrogates become U+FFFD (same length).
  const near = Math.max(0, offset - lookback - 8);
  const x = text.slice(0, near) + wellFormed(text.slice(near, offset));
  const prep = prepare(model, tokenizer, x, lookback, options, false);
  const a = prep.analysis;
  const main = await a.masses(new Uint8Array(0));
  const fixed = prep.fixed();
  const distribution = normalized(main.mass);
  let Z = 0;
  for (const v of main.mass) Z += v;
  const P = a.probabilities;
  const pT = P.prob(a.canonical);
  const T = prep.table;
  const naive = normalized(naiveMass(T, P.dist(a.canonical).form(), model.endOfTextId));
  // Healing backs off the last canonical token (which may lie before the region).
  let healing: Float64Array;
  if (a.canonical.length > 0) {
    const before = a.canonical.subarray(0, a.canonical.length - 1);
    await P.load([before]);
    healing = normalized(healingMass(T, P.dist(before), a.canonical[a.canonical.length - 1], naive));
  } else if (fixed.length > 0) {
    const ctxIds = fixed.subarray(Math.max(0, fixed.length - 1 - model.contextTokens), fixed.length - 1);
    const r = model.nextDistribution(ctxIds, options.signal);
    healing = normalized(healingMass(T, r instanceof Promise ? await r : r, fixed[fixed.length - 1], naive));
  } else healing = normalized(healingMass(T, undefined, undefined, naive));
  const chars = await topCharacters((extra) => a.masses(extra), distribution, options);
  const reason = prep.inexactReason();
  return {
    offset,
    byteOffset: utf8Length(x),
    exact: reason === undefined,
    inexactReason: reason,
    window: prep.window,
    total: pT > 0 ? Z / pT : NaN,
    prefixRatio: pT > 0 ? main.prefixMass / pT : NaN,
    distribution,
    naive,
    healing,
    topCharacters: chars,
    ...(prep.spaceAs ? { spaceAs: prep.spaceAs } : {}),
    covers: main.covers,
    candidates: main.candidates,
    ms: performance.now() - t0,
  };
}

/**
 * ln P(x) for the whole of `text` taken as a byte prefix (the cover sum, absolute: the fixed tokens'
 * probability included), and whether the analysis was exact. For tests and short texts.
 */
export async function bytePrefixLogProb(model: LanguageModel, tokenizer: Tokenizer, text: string, options: NextByteOptions = {}): Promise<{ logProb: number; exact: boolean; covers: number }> {
  const x = wellFormed(text);
  const prep = prepare(model, tokenizer, x, options.maxLookback ?? 4096, options, true);
  const m = await prep.analysis.masses(new Uint8Array(0));
  return { logProb: (await fixedLogProb(model, prep.fixed())) + Math.log(m.prefixMass), exact: prep.inexactReason() === undefined, covers: m.covers };
}

/** ln P(fixed tokens) from the document's start. */
async function fixedLogProb(model: LanguageModel, fixed: Uint32Array): Promise<number> {
  let logFixed = 0;
  for (let k = 0; k < fixed.length; k++) {
    const r = model.nextDistribution(fixed.subarray(Math.max(0, k - model.contextTokens), k));
    logFixed += (r instanceof Promise ? await r : r).logProb(fixed[k]);
  }
  return logFixed;
}

/**
 * Where the analysis of a segment tokenizer starts: a restart point, or `lookback` back when there is none
 * (`far`: then only a wall after it keeps the result exact); and `marks`, the reason the result is not exact
 * when the region holds `▁▁` typed as such under a tokenizer whose added tokens hold `▁` (Gemma 3 matches it
 * as an added token, which two spaces never are; the analysis reads `▁` as a space, as the decoder does).
 */
function segmentRegion(ctx: SegmentContext, tokenizer: Tokenizer, x: string, lookback: number): { R: number; far: boolean; marks?: string } {
  let R = regionStart(x, tokenizer.restartRules, lookback);
  const far = R < 0;
  if (far) R = forcedStart(x, lookback);
  const marks = ctx.markContents && x.includes('\u2581\u2581', R) ? 'the text before the cursor holds ▁▁ (U+2581 typed twice), which this tokenizer reads as an added token, unlike spaces' : undefined;
  return { R, far, marks };
}
