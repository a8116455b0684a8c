/**
 * Prices: user overrides merged over the catalog's table, and what a count costs.
 */
import { findModel, inputLimit, MODELS, type ModelEntry } from './catalog';

interface PriceOverrideResult {
  /** The catalog with the overrides applied (same order; untouched entries are the same objects). */
  readonly models: readonly ModelEntry[];
  /** One line per override that was not applied, naming the key and why. */
  readonly ignored: readonly string[];
}

/**
 * Merges a user's price map over the catalog: `{ modelIdOrName: pricePerMillionInputTokens }` (USD). A value
 * of null marks the price unknown. Keys are matched like `findModel` (id, name or alias). The map usually
 * comes from settings, so it is checked here: non-numbers, negatives and unknown models are reported in
 * `ignored` and leave the entry as it was.
 */
export function applyPriceOverrides(
  overrides: unknown,
  models: readonly ModelEntry[] = MODELS,
  options: { readonly source?: string; readonly date?: string } = {},
): PriceOverrideResult {
  const ignored: string[] = [];
  if (overrides === undefined || overrides === null) return { models, ignored };
  if (typeof overrides !== 'object' || Array.isArray(overrides)) {
    return { models, ignored: ['the price overrides are not an object of {model: USD per million input tokens}'] };
  }
  const source = options.source ?? 'user setting';
  const date = options.date ?? new Date().toISOString().slice(0, 10);
  const byId = new Map<string, number | null>();
  for (const [key, value] of Object.entries(overrides as Record<string, unknown>)) {
    const model = findModel(key, models);
    if (!model) {
      ignored.push(`${key}: no such model`);
      continue;
    }
    if (value !== null && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      ignored.push(`${key}: ${JSON.stringify(value)} is not a price (USD per million input tokens, or null)`);
      continue;
    }
    byId.set(model.id, value);
  }
  return {
    models: models.map((m) => {
      if (!byId.has(m.id)) return m;
      const { priceNote, ...rest } = m;
      void priceNote; // the note was about the catalog's price
      return { ...rest, inputPricePerMTok: byId.get(m.id) ?? null, priceSource: source, priceDate: date };
    }),
    ignored,
  };
}

/** USD for this many input tokens; null when the model has no price. */
export function inputCost(tokens: number, model: Pick<ModelEntry, 'inputPricePerMTok'>): number | null {
  return model.inputPricePerMTok === null ? null : (tokens * model.inputPricePerMTok) / 1_000_000;
}

/** Share of the model's context window these tokens fill (may exceed 1). */
export function contextFraction(tokens: number, model: Pick<ModelEntry, 'contextWindow'>): number {
  return tokens / model.contextWindow;
}

/** Share of the model's input limit (maxInputTokens where stated, else the context window) these tokens fill. */
export function inputFraction(tokens: number, model: Pick<ModelEntry, 'contextWindow' | 'maxInputTokens'>): number {
  return tokens / inputLimit(model);
}
