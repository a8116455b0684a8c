/**
 * The language-model interface of the core. A model is tied to one tokenizer: given the token ids before a
 * position it answers the distribution of the next token. Everything that reads a model (document scoring,
 * the exact next-byte distribution, the CLI, the extension's worker) goes through this file's types.
 *
 * Ids: a model's distributions range over `vocabSize` ids: the tokenizer's ids plus, where the tokenizer has
 * no token for it, one more id for the end of the text (`endOfTextId`). Probabilities are in nats (`logProb`
 * = natural log); surprisal shown to users is in bits.
 *
 * Contexts: `context` is the ids before the predicted token, oldest first. A context shorter than
 * `contextTokens` means the text starts there (an n-gram pads it with its begin-of-text symbol); callers that
 * have more history pass the last `contextTokens` ids.
 *
 * Sync or async: `nextDistribution` may return a promise (neural models run in a worker or on a device).
 * The built-in n-gram answers synchronously; callers `await` only where a distribution is fetched, never per
 * token probability, so the fast path stays fast.
 */
import { indexInSorted } from '../sortedSearch';

type MaybePromise<T> = T | Promise<T>;

/** One alternative next token. */
export interface TokenAlternative {
  readonly id: number;
  /** Natural log of its probability. */
  readonly logProb: number;
}

/**
 * A fixed distribution over a model's ids, pre-sorted, used as the remainder of sparse distributions (the
 * n-gram's lowest-order Kneser-Ney distribution). Ids are split into `sortedIds` (those with their own
 * probability, in decreasing order) and the rest, which all share `restProbability`.
 */
export interface BaseDistribution {
  /** Number of ids the distribution ranges over (= the model's vocabSize). */
  readonly size: number;
  prob(id: number): number;
  /** Ids with a probability of their own, most probable first (ties by increasing id). */
  readonly sortedIds: Int32Array;
  /** Their probabilities, decreasing. */
  readonly sortedProbs: Float64Array;
  /** The probability shared by every id not in sortedIds (no greater than the last of sortedProbs). */
  readonly restProbability: number;
  /** How many ids share restProbability (size - sortedIds.length). */
  readonly restCount: number;
  /** -Σ p log p, in nats. */
  readonly entropyNats: number;
  /** True for the ids in sortedIds. */
  hasOwn(id: number): boolean;
}

/**
 * A distribution in a form suited to sums over many ids:
 * - dense: the probability of every id;
 * - sparse: explicit probabilities for a few ids (`ids` ascending), and `baseWeight · base.prob(id)` for all others.
 */
export type DistributionForm =
  | { readonly kind: 'dense'; readonly probs: Float64Array }
  | {
      readonly kind: 'sparse';
      readonly ids: Int32Array;
      readonly probs: Float64Array;
      readonly baseWeight: number;
      readonly base: BaseDistribution;
    };

/** The distribution of the next token after one context. */
export interface NextTokenDistribution {
  /** Number of ids it ranges over. */
  readonly vocabSize: number;
  prob(id: number): number;
  /** Natural log of prob(id). */
  logProb(id: number): number;
  /** 1-based rank: 1 + the number of ids strictly more probable (ids of equal probability share the best rank). */
  rank(id: number): number;
  /** Entropy in nats, or null where the model cannot give it. */
  readonly entropyNats: number | null;
  /** The k most probable ids, most probable first (ties by increasing id). */
  top(k: number): TokenAlternative[];
  form(): DistributionForm;
}

export interface LanguageModel {
  /** A stable id such as `workspace-ngram`. */
  readonly id: string;
  /** One line for people. */
  readonly description: string;
  /** Ids the distributions range over: tokenizer ids and, where needed, one end-of-text id. */
  readonly vocabSize: number;
  /** The id that stands for the end of the text. */
  readonly endOfTextId: number;
  /** The most context tokens the model uses (n-1 for an n-gram, the context window for a neural model). */
  readonly contextTokens: number;
  nextDistribution(context: Uint32Array, signal?: AbortSignal): MaybePromise<NextTokenDistribution>;
  /**
   * Optional batched form: the distributions after ids[0..p) for every p in [from, to) (one forward pass for
   * neural models). `ids` starts at the text's start or holds at least contextTokens ids before `from`.
   */
  nextDistributions?(ids: Uint32Array, from: number, to: number, signal?: AbortSignal): MaybePromise<NextTokenDistribution[]>;
}

/** Thrown when an AbortSignal ends a computation. */
export class LmAbortError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'AbortError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LmAbortError();
}

export const LN2 = Math.LN2;

/** p · ln p with 0 · ln 0 = 0. */
export function plogp(p: number): number {
  return p > 0 ? p * Math.log(p) : 0;
}

/** The probability of `id` in a distribution form. */
export function formProb(form: DistributionForm, id: number): number {
  if (form.kind === 'dense') return form.probs[id] ?? 0;
  const k = indexInSorted(form.ids, id);
  return k >= 0 ? form.probs[k] : form.baseWeight * form.base.prob(id);
}


/**
 * A distribution given by every id's probability (the form neural models produce): rank, entropy and top-k
 * cost O(vocabulary), which is small next to a forward pass.
 */
export class DenseDistribution implements NextTokenDistribution {
  readonly vocabSize: number;
  private entropy: number | undefined;

  constructor(readonly probs: Float64Array) {
    this.vocabSize = probs.length;
  }

  prob(id: number): number {
    return this.probs[id] ?? 0;
  }

  logProb(id: number): number {
    return Math.log(this.prob(id));
  }

  rank(id: number): number {
    const p = this.prob(id);
    let r = 1;
    for (let i = 0; i < this.probs.length; i++) if (this.probs[i] > p) r++;
    return r;
  }

  get entropyNats(): number {
    if (this.entropy === undefined) {
      let h = 0;
      for (let i = 0; i < this.probs.length; i++) h -= plogp(this.probs[i]);
      this.entropy = h;
    }
    return this.entropy;
  }

  top(k: number): TokenAlternative[] {
    const ids: number[] = [];
    for (let i = 0; i < this.probs.length; i++) if (this.probs[i] > 0) ids.push(i);
    ids.sort((a, b) => this.probs[b] - this.probs[a] || a - b);
    return ids.slice(0, k).map((id) => ({ id, logProb: Math.log(this.probs[id]) }));
  }

  form(): DistributionForm {
    return { kind: 'dense', probs: this.probs };
  }
}
