/**
 * A count against a model: its share of the context window and its input cost, formatted one way for every
 * face that reports counts per file (the CLI's `count --model`, the editor's Count Tokens in Folder report).
 */
import type { ModelEntry } from './catalog';
import { contextFraction, inputCost } from './prices';

export interface CountFigures {
  readonly contextWindow: number | null;
  /** tokens / context window; null without a model. */
  readonly fraction: number | null;
  /** USD at the model's input price; null without a model or a price. */
  readonly inputCost: number | null;
}

export function countFigures(tokens: number, model: ModelEntry | undefined): CountFigures {
  if (!model) return { contextWindow: null, fraction: null, inputCost: null };
  return { contextWindow: model.contextWindow, fraction: contextFraction(tokens, model), inputCost: inputCost(tokens, model) };
}

/** `$1.25`, `$0.000123`; `-` for no cost. */
export function formatUsd(n: number | null): string {
  if (n === null) return '-';
  if (n >= 1) return `$${n.toFixed(2)}`;
  return `$${n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '.0')}`;
}

/** A share of the context window: `12.34%`, four decimals below 0.01 %; `-` for none. */
export function formatShare(f: number | null): string {
  return f === null ? '-' : `${(f * 100).toFixed(f < 0.0001 ? 4 : 2)}%`;
}
