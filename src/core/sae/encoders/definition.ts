/**
 * What an SAE encoder kind is: one object per kind (one module each, listed in ../encoderKinds.ts) that says
 * what the user sees (label, help, the budgets it reads) and does the allocation: a plan of its budgets, the
 * work on each chunk of pre-activations, and the drain of what it kept. `encodeSteps` (../encode.ts) asks the
 * kind once per encoding for a run and calls that run's methods; it never branches on the kind.
 */
import type { SparseAutoencoder } from '../types';
import type { SelectedEntries } from './selectedEntries';

/** What planning reads of the SAE. */
type PlanSae = Pick<SparseAutoencoder, 'architecture' | 'dSae' | 'k' | 'threshold' | 'path'>;

/** The budgets as given: k already defaulted to the SAE's own k, both checked to be positive integers ≤ F. */
interface BudgetOptions {
  readonly k?: number;
  readonly m?: number;
}

/** The budgets an encoding will use. */
export interface EncoderBudgets {
  /** Features per token (TopK), or the per-token budget of k·n (Feature and Mutual Choice). */
  readonly k?: number;
  /** Tokens per feature (Feature Choice). */
  readonly m?: number;
  /** Entries kept in total (Mutual Choice). */
  readonly budget?: number;
}

/** What a run is handed when it starts. */
interface RunContext {
  /** Where selected (token, feature, activation) entries go, in any order. */
  readonly selected: SelectedEntries;
  readonly dSae: number;
  /** Tokens per block: `take` never sees more at once. */
  readonly blockTokens: number;
  /** JumpReLU thresholds, when the SAE has them. */
  readonly threshold?: Float32Array;
}

/** One encoding's allocation in progress. */
export interface EncoderRun {
  /**
   * One chunk of pre-activations: `pre` is row-major [count, width]; row i is token t0 + i, column c is
   * feature f0 + c, and only columns below `valid` are features.
   */
  take(pre: Float32Array, width: number, valid: number, t0: number, count: number, f0: number): void;
  /** After every chunk of tokens [t0, t0 + count) was taken. */
  endBlock?(t0: number, count: number): void;
  /** After the last block. */
  drain?(): void;
}

export interface EncoderDefinition<Id extends string = string> {
  /** The name in settings, messages and the CLI's --encoder. */
  readonly id: Id;
  /** Its name for people ("Feature Choice"). */
  readonly label: string;
  /** Its budget in a few words, shown after the label in the panel's chooser ("m tokens per feature"). */
  readonly budgetHint?: string;
  /** What it selects, in one line (settings, the panel's chooser, the CLI's help). */
  readonly help: string;
  /** The budgets it reads, each with how it is defaulted when not given (text for help; `plan` applies it). */
  readonly budgets: { readonly k?: string; readonly m?: string };
  /** The budgets for n tokens; throws a SaeError when the SAE or the options do not fit. */
  plan(sae: PlanSae, tokenCount: number, options: BudgetOptions): EncoderBudgets;
  /** The most tokens a block may have under this plan (the kind keeps state per token of a block). */
  maxBlockTokens?(plan: EncoderBudgets): number;
  /** A run for one encoding under `plan`. */
  start(plan: EncoderBudgets, context: RunContext): EncoderRun;
}

/** Keeps the literal id, so that the table's ids make the EncoderKind union. */
export function defineEncoder<const Id extends string>(definition: EncoderDefinition<Id>): EncoderDefinition<Id> {
  return definition;
}
