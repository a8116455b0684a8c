/**
 * The next byte from a remote completions endpoint (core/lm/remote.ts), which gives only its top-k next tokens
 * per prompt (k ≤ 20 for OpenAI-style servers), not the whole distribution the exact method sums over.
 *
 * `EndpointNextTokens` is a `LanguageModel` over the endpoint: each distinct token prefix the next-byte
 * analysis asks about (nextByte/modelQueries.ts batches them) is one prompt, start context + the fixed tokens
 * before the cursor (the last ones that fit in maxPromptTokens) + the prefix, sent with `max_tokens: 1`,
 * `logprobs: k`, several prompts per request. The tokens the endpoint returns keep their probabilities; every
 * other token gets probability 0 (the endpoint says nothing about how the rest of the mass is shared out, and
 * any share would be invented). So the answer is the exact next-byte distribution of that truncated model:
 * the sum over the covers of the text whose every token was in its step's top-k, renormalised once at the end
 * (the naive and token-healing baselines likewise). What it leaves out is measured at each prefix asked:
 * 1 − Σ top-k, reported as its largest value (`maxMissingMass`). When that is 0 everywhere (the top-k held
 * the whole support at every prefix) the answer is the exact one.
 */
import { indexInSorted } from '../sortedSearch';
import type { Tokenizer } from '../tokenizers/types';
import { throwIfAborted, type BaseDistribution, type DistributionForm, type NextTokenDistribution, type TokenAlternative } from './model';
import { nextByteDistribution, type BatchedLanguageModel, type NextByteOptions, type NextByteResult } from './nextByte';
import { RemoteEndpointError, type RemoteCompletionsModel } from './remote';

/** Alternatives asked per prompt: the most an OpenAI-style server gives. */
export const NEXT_BYTE_TOP_K = 20;
/** A missing mass at most this (float rounding of the server's log-probabilities) counts as none. */
const NO_MISSING_MASS = 1e-9;

/** A base with no mass: the sparse form of a distribution known only on its listed ids. */
class EmptyBase implements BaseDistribution {
  readonly sortedIds = new Int32Array(0);
  readonly sortedProbs = new Float64Array(0);
  readonly restProbability = 0;
  readonly restCount: number;
  readonly entropyNats = 0;
  constructor(readonly size: number) {
    this.restCount = size;
  }
  prob(): number {
    return 0;
  }
  hasOwn(): boolean {
    return false;
  }
}
const emptyBases = new Map<number, EmptyBase>();
/** One per vocabulary size, so that sums over the base that callers cache by object are computed once. */
function emptyBase(size: number): EmptyBase {
  let b = emptyBases.get(size);
  if (!b) emptyBases.set(size, (b = new EmptyBase(size)));
  return b;
}

/** The endpoint's top-k as a distribution: their probabilities as sent, 0 for every other id. */
export class TopKDistribution implements NextTokenDistribution {
  /** Listed ids, ascending, and their probabilities. */
  private readonly ids: Int32Array;
  private readonly probs: Float64Array;
  private readonly sorted: TokenAlternative[];
  /** 1 − Σ listed probabilities, at least 0. */
  readonly missingMass: number;
  readonly entropyNats = null;

  constructor(
    readonly vocabSize: number,
    alternatives: readonly TokenAlternative[],
  ) {
    const kept = alternatives.filter((a) => a.id >= 0 && a.id < vocabSize && a.logProb > -Infinity);
    this.sorted = [...kept].sort((a, b) => b.logProb - a.logProb || a.id - b.id);
    const byId = [...kept].sort((a, b) => a.id - b.id);
    this.ids = Int32Array.from(byId, (a) => a.id);
    this.probs = Float64Array.from(byId, (a) => Math.exp(a.logProb));
    let sum = 0;
    for (const p of this.probs) sum += p;
    this.missingMass = Math.max(0, 1 - sum);
  }

  prob(id: number): number {
    const k = indexInSorted(this.ids, id);
    return k >= 0 ? this.probs[k] : 0;
  }

  logProb(id: number): number {
    return Math.log(this.prob(id));
  }

  /** In this distribution: 1 + the listed ids more probable (an unlisted id ranks after every listed one). */
  rank(id: number): number {
    const p = this.prob(id);
    let r = 1;
    for (const q of this.probs) if (q > p) r++;
    return r;
  }

  top(k: number): TokenAlternative[] {
    return this.sorted.slice(0, k);
  }

  form(): DistributionForm {
    return { kind: 'sparse', ids: this.ids, probs: this.probs, baseWeight: 0, base: emptyBase(this.vocabSize) };
  }
}

/** The token a model ends a text with, by the names tokenizers give it. */
function endOfTextToken(tokenizer: Tokenizer): number | undefined {
  for (const name of ['<|endoftext|>', '<|end_of_text|>', '</s>', '<eos>']) {
    const id = tokenizer.specialTokenId(name);
    if (id !== undefined) return id;
  }
  return tokenizer.addedTokens.find((t) => t.position === 'end')?.id;
}

interface EndpointNextTokensOptions {
  /** Alternatives asked per prompt (default NEXT_BYTE_TOP_K). */
  readonly topK?: number;
  /** Ids before the text (default: the endpoint's, BOS or `<|endoftext|>`). */
  readonly startContext?: readonly number[];
}

/** A `LanguageModel` over an endpoint's top-k next tokens, recording how much mass each answer left out. */
export class EndpointNextTokens implements BatchedLanguageModel {
  readonly id: string;
  readonly description: string;
  readonly vocabSize: number;
  readonly endOfTextId: number;
  readonly contextTokens: number;
  readonly topK: number;
  private readonly start: readonly number[];
  /** The largest 1 − Σ top-k over the prefixes asked (an empty prompt counts as 1: nothing was asked). */
  maxMissingMass = 0;
  /** Distinct prompts sent. */
  prompts = 0;

  constructor(
    readonly endpoint: RemoteCompletionsModel,
    tokenizer: Tokenizer,
    options: EndpointNextTokensOptions = {},
  ) {
    this.topK = Math.max(1, Math.min(NEXT_BYTE_TOP_K, Math.floor(options.topK ?? NEXT_BYTE_TOP_K)));
    this.start = options.startContext ? [...options.startContext] : endpoint.defaultStartContext();
    this.id = endpoint.id;
    this.description = `the remote endpoint ${endpoint.id.replace(/^remote:/, '')} (its top ${this.topK} next tokens per prefix)`;
    // The end of the text is the tokenizer's end-of-text token where it has one (the endpoint can return it);
    // otherwise one more id, which the endpoint never names (probability 0).
    this.endOfTextId = endOfTextToken(tokenizer) ?? tokenizer.vocabSize;
    this.vocabSize = Math.max(tokenizer.vocabSize, this.endOfTextId + 1);
    this.contextTokens = endpoint.maxPromptTokens - this.start.length;
    if (this.contextTokens < 2) throw new RemoteEndpointError('maxPromptTokens is too small for the start context', 'config');
  }

  async nextDistribution(context: Uint32Array, signal?: AbortSignal): Promise<NextTokenDistribution> {
    return (await this.prefixDistributions(context, [new Int32Array(0)], signal))[0];
  }

  /**
   * One prompt per distinct extension: the start context, the last ids of `fixed` that leave room for the
   * longest extension, then the extension (as the ONNX model's prefixDistributions windows them).
   */
  async prefixDistributions(fixed: Uint32Array, extensions: readonly Int32Array[], signal?: AbortSignal): Promise<NextTokenDistribution[]> {
    throwIfAborted(signal);
    const longest = extensions.reduce((m, e) => Math.max(m, e.length), 0);
    const room = this.contextTokens - longest;
    if (room < 0) throw new RemoteEndpointError(`a prefix of ${longest} tokens does not fit in maxPromptTokens (${this.endpoint.maxPromptTokens})`, 'config');
    const head = [...this.start, ...fixed.subarray(Math.max(0, fixed.length - room))];
    const byKey = new Map<string, number>();
    const prompts: number[][] = [];
    const slot = extensions.map((e) => {
      const prompt = [...head, ...e];
      if (prompt.length === 0) return -1;
      const key = prompt.join(',');
      let j = byKey.get(key);
      if (j === undefined) {
        byKey.set(key, (j = prompts.length));
        prompts.push(prompt);
      }
      return j;
    });
    const tops = await this.endpoint.nextTokenTops(prompts, this.topK, signal);
    this.prompts += prompts.length;
    const dists = tops.map((t) => new TopKDistribution(this.vocabSize, t));
    for (const d of dists) this.maxMissingMass = Math.max(this.maxMissingMass, d.missingMass);
    // No start context and nothing before: there is no prompt to send, and nothing is known of the first token.
    const nothing = new TopKDistribution(this.vocabSize, []);
    if (slot.includes(-1)) this.maxMissingMass = 1;
    return slot.map((j) => (j < 0 ? nothing : dists[j]));
  }
}

/** The next byte from the endpoint: the truncated model's exact answer, and what the truncation left out. */
export interface RemoteNextByteResult extends NextByteResult {
  /** The largest mass outside the top-k over the prefixes asked (1 − Σ top-k). */
  readonly maxMissingMass: number;
  /** Whether the top-k left mass out anywhere (else the truncation changed nothing). */
  readonly truncated: boolean;
  /** Why the analysis itself was not exact (a window, no restart point), apart from the top-k. */
  readonly analysisInexactReason?: string;
  readonly topK: number;
  /** Distinct prefixes sent, and the requests they took. */
  readonly prompts: number;
  readonly requests: number;
}

/** Why a remote answer is approximate, in one line for the view and the CLI. */
export function remoteInexactReason(topK: number, maxMissingMass: number, prompts: number): string {
  const pct = maxMissingMass >= 0.001 ? `${(maxMissingMass * 100).toFixed(1)}%` : maxMissingMass.toExponential(1);
  return `approximate: top-${topK} only. The endpoint gives its ${topK} most probable next tokens per prefix; the others count as 0, so only covers whose every token was in its step's top-${topK} are summed (then renormalised). Mass outside the top-${topK}: up to ${pct} (over ${prompts} prefixes asked)`;
}

/**
 * `nextByteDistribution` with the endpoint's top-k: `exact` only when no prefix asked left mass out (and the
 * analysis itself was exact); otherwise the reason says what is approximate and how much mass was left out.
 * When no cover has all its tokens in the top-k there is nothing to show: that is an error saying so.
 */
export async function remoteNextByteDistribution(endpoint: RemoteCompletionsModel, tokenizer: Tokenizer, text: string, utf16Offset: number, options: NextByteOptions & EndpointNextTokensOptions = {}): Promise<RemoteNextByteResult> {
  const model = new EndpointNextTokens(endpoint, tokenizer, options);
  const requestsBefore = endpoint.nextTokenRequests;
  const r = await nextByteDistribution(model, tokenizer, text, utf16Offset, options);
  let total = 0;
  for (const p of r.distribution) total += p;
  if (!(total > 0)) {
    throw new RemoteEndpointError(`no tokenization of the text before the cursor has every token in the endpoint's top ${model.topK} (mass outside the top-${model.topK} up to ${(model.maxMissingMass * 100).toFixed(1)}%), so the endpoint's answers give no next byte here`, 'protocol');
  }
  const truncated = model.maxMissingMass > NO_MISSING_MASS;
  const reasons = [truncated ? remoteInexactReason(model.topK, model.maxMissingMass, model.prompts) : undefined, r.exact ? undefined : r.inexactReason].filter((x): x is string => !!x);
  return {
    ...r,
    exact: r.exact && !truncated,
    inexactReason: reasons.length ? reasons.join('; ') : undefined,
    truncated,
    analysisInexactReason: r.exact ? undefined : r.inexactReason,
    maxMissingMass: model.maxMissingMass,
    topK: model.topK,
    prompts: model.prompts,
    requests: endpoint.nextTokenRequests - requestsBefore,
  };
}
