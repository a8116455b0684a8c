/**
 * One feature as the feature view and `token-inspector feature N` show it: its label (given, or automatic and
 * said to be), its firing frequency, its histogram, its top contexts and its logit effects. And the search of
 * **Find Feature…**: by index, or by label text (given labels and automatic ones).
 */
import { decodeUtf8Strict } from '../../text/utf8';
import { escapeBytes } from '../../analysis/stream';
import type { Tokenizer } from '../../tokenizers/types';
import type { FeatureLabels } from '../labels';
import type { SparseAutoencoder } from '../types';
import { automaticLabel } from './autoLabel';
import { DEFAULT_CONTEXTS_SHOWN, type FeatureIndex } from './featureIndex';
import { HISTOGRAM_BINS, histogramBinEnd, histogramBinStart } from './histogram';
import { decoderRow, LOGIT_EFFECTS_APPROXIMATION, logitEffects } from './logitEffects';
import type { FeatureContext } from './topContexts';
import type { FinalNorm, Unembedding } from './unembedding';

/** Output tokens kept per feature and direction. */
export const EFFECT_TOKENS = 10;
/** Logit effects of every feature are computed with the index when features × vocabulary × width is at most this. */
export const ALL_EFFECTS_BUDGET = 4e9;

export interface TokenEffectJson {
  readonly id: number;
  readonly text: string;
  readonly value: number;
}

export interface FeatureEffectsJson {
  readonly index: number;
  readonly promoted: readonly TokenEffectJson[];
  readonly suppressed: readonly TokenEffectJson[];
}

export interface StoredLogitEffects {
  readonly approximation: string;
  readonly norm: string;
  readonly tied: boolean;
  readonly features: readonly FeatureEffectsJson[];
}

/** A vocabulary token's text: its characters, or `\xNN` escapes when its bytes are not whole UTF-8. */
export function vocabText(tokenizer: Tokenizer, id: number): string {
  const bytes = tokenizer.tokenBytes(id);
  return decodeUtf8Strict(bytes) ?? escapeBytes(bytes);
}

/** Feature f's logit effects with token texts. */
export function featureEffects(u: Unembedding, sae: SparseAutoencoder, tokenizer: Tokenizer, f: number, k = EFFECT_TOKENS): FeatureEffectsJson {
  const e = logitEffects(u, decoderRow(sae.wDec, sae.dIn, f), k);
  const named = (list: readonly { id: number; value: number }[]) => list.map((t) => ({ id: t.id, text: vocabText(tokenizer, t.id), value: t.value }));
  return { index: f, promoted: named(e.promoted), suppressed: named(e.suppressed) };
}

/** Every feature's logit effects, when that fits ALL_EFFECTS_BUDGET (else undefined: computed per feature when shown). */
export function allFeatureEffects(u: Unembedding, sae: SparseAutoencoder, tokenizer: Tokenizer, k = EFFECT_TOKENS): StoredLogitEffects | undefined {
  if (sae.dIn !== u.dModel) return undefined;
  if (sae.dSae * u.vocabSize * u.dModel > ALL_EFFECTS_BUDGET) return undefined;
  const features = Array.from({ length: sae.dSae }, (_, f) => featureEffects(u, sae, tokenizer, f, k));
  return { approximation: LOGIT_EFFECTS_APPROXIMATION, norm: u.norm, tied: u.tied, features };
}

export interface FeatureLabelJson {
  readonly text: string;
  /** `automatic`: made here from the top contexts and promoted tokens; `file`: from the labels file. */
  readonly source: 'file' | 'automatic';
}

export interface FeatureReport {
  readonly index: number;
  readonly label: FeatureLabelJson | null;
  readonly firingTokens: number;
  readonly workspaceTokens: number;
  readonly frequency: number;
  readonly maxActivation: number;
  /** Counts of non-zero activations per bin, with the bins' edges (the last bin is open above). */
  readonly histogram: { readonly start: number; readonly end: number | null; readonly count: number }[];
  readonly contexts: readonly FeatureContext[];
  readonly logitEffects: (FeatureEffectsJson & { readonly approximation: string; readonly norm: string; readonly tied: boolean }) | null;
}

export interface ReportOptions {
  readonly labels?: FeatureLabels;
  readonly logitEffects?: StoredLogitEffects;
  /** Computes the logit effects when the index does not hold them (the model's unembedding, loaded on demand). */
  readonly effectsOf?: (f: number) => { effects: FeatureEffectsJson; norm: FinalNorm; tied: boolean } | undefined;
  readonly contexts?: number;
}

export function labelOf(index: FeatureIndex, f: number, options: Pick<ReportOptions, 'labels' | 'logitEffects'>): FeatureLabelJson | null {
  const given = options.labels?.get(f);
  if (given) return { text: given, source: 'file' };
  const effects = options.logitEffects?.features.find((e) => e.index === f);
  const auto = automaticLabel(index.feature(f).contexts, effects?.promoted.map((t) => t.text));
  return auto ? { text: auto, source: 'automatic' } : null;
}

export function featureReport(index: FeatureIndex, f: number, options: ReportOptions = {}): FeatureReport {
  const s = index.feature(f, options.contexts ?? DEFAULT_CONTEXTS_SHOWN);
  let effects: FeatureReport['logitEffects'] = null;
  const stored = options.logitEffects?.features.find((e) => e.index === f);
  if (stored && options.logitEffects) effects = { ...stored, approximation: options.logitEffects.approximation, norm: options.logitEffects.norm, tied: options.logitEffects.tied };
  else {
    const computed = options.effectsOf?.(f);
    if (computed) effects = { ...computed.effects, approximation: LOGIT_EFFECTS_APPROXIMATION, norm: computed.norm, tied: computed.tied };
  }
  const given = options.labels?.get(f);
  const auto = given ? undefined : automaticLabel(s.contexts, effects?.promoted.map((t) => t.text));
  return {
    index: f,
    label: given ? { text: given, source: 'file' } : auto ? { text: auto, source: 'automatic' } : null,
    firingTokens: s.firingTokens,
    workspaceTokens: index.tokens,
    frequency: s.frequency,
    maxActivation: s.maxActivation,
    histogram: Array.from({ length: HISTOGRAM_BINS }, (_, i) => ({ start: histogramBinStart(i), end: Number.isFinite(histogramBinEnd(i)) ? histogramBinEnd(i) : null, count: s.histogram[i] })),
    contexts: s.contexts,
    logitEffects: effects,
  };
}

export interface FeatureMatch {
  readonly index: number;
  readonly label: FeatureLabelJson | null;
  readonly maxActivation: number;
  readonly frequency: number;
}

/**
 * Features whose index is `query` (`123` or `#123`), or whose label (given or automatic) contains every word
 * of it, case-insensitively; strongest first. At most `limit`.
 */
export function searchFeatures(index: FeatureIndex, query: string, options: Pick<ReportOptions, 'labels' | 'logitEffects'> & { readonly limit?: number } = {}): FeatureMatch[] {
  const limit = options.limit ?? 50;
  const q = query.trim();
  const match = (f: number): FeatureMatch => {
    const s = index.feature(f, 0);
    return { index: f, label: labelOf(index, f, options), maxActivation: s.maxActivation, frequency: s.frequency };
  };
  const byIndex = /^#?(\d+)$/.exec(q);
  if (byIndex) {
    const f = parseInt(byIndex[1], 10);
    return f < index.dSae ? [match(f)] : [];
  }
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  const out: FeatureMatch[] = [];
  const candidates = words.length ? Array.from({ length: index.dSae }, (_, f) => f) : index.strongestFeatures().map((s) => s.index);
  for (const f of candidates) {
    const m = match(f);
    const text = (m.label?.text ?? '').toLowerCase();
    if (words.every((w) => text.includes(w))) out.push(m);
  }
  return out.sort((a, b) => b.maxActivation - a.maxActivation || a.index - b.index).slice(0, limit);
}
