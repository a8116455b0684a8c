/**
 * A document's features as the editor receives them: flat arrays per token (transferable), the ranking and the
 * labels of the features that appear. Bounded: past MAX_ENTRIES selected entries each token keeps its strongest
 * ones (ReLU on a wide SAE selects thousands per token), and `selected` still counts them all.
 */
import { tokenUtf16Range } from '../core/analysis/stream';
import type { DocumentFeatures } from '../core/sae/documentFeatures';
import { featureTotals } from '../core/sae/encode';
import type { FeatureLabels } from '../core/sae/labels';
import type { SparseAutoencoder } from '../core/sae/types';
import { RANKED_FEATURES, type FeaturesPayload } from '../protocol/modelWorker';

/** About 32 MB of (index, activation) pairs. */
export const MAX_ENTRIES = 1 << 22;
/** A token keeps at least this many of its features when the whole is capped. */
const MIN_PER_TOKEN = 16;

export function featuresPayload(text: string, model: string, sae: SparseAutoencoder, r: DocumentFeatures, labels: FeatureLabels | undefined, elapsedMs: number, maxEntries = MAX_ENTRIES): FeaturesPayload {
  const enc = r.encoding;
  const n = r.tokens.length;
  const total = enc.featureIndex.length;
  const perToken = total > maxEntries ? Math.max(MIN_PER_TOKEN, Math.floor(maxEntries / n)) : Infinity;
  const rowStart = new Uint32Array(n + 1);
  for (let t = 0; t < n; t++) rowStart[t + 1] = rowStart[t] + Math.min(perToken, enc.rowStart[t + 1] - enc.rowStart[t]);
  const featureIndex = new Uint32Array(rowStart[n]);
  const activation = new Float32Array(rowStart[n]);
  const utf16Start = new Uint32Array(n);
  const utf16End = new Uint32Array(n);
  const byteStart = new Uint32Array(n);
  const byteEnd = new Uint32Array(n);
  const added = new Uint8Array(n);
  const selected = new Uint32Array(n);
  const s = r.stream;
  for (let t = 0; t < n; t++) {
    const from = enc.rowStart[t];
    const kept = rowStart[t + 1] - rowStart[t];
    // Rows are strongest first, so a cap keeps the strongest.
    featureIndex.set(enc.featureIndex.subarray(from, from + kept), rowStart[t]);
    activation.set(enc.activation.subarray(from, from + kept), rowStart[t]);
    selected[t] = enc.rowStart[t + 1] - from;
    const tok = r.tokens[t];
    if (tok.streamIndex !== undefined) {
      [utf16Start[t], utf16End[t]] = tokenUtf16Range(s, text, tok.streamIndex);
      byteStart[t] = s.byteOffsets[tok.streamIndex];
      byteEnd[t] = s.byteOffsets[tok.streamIndex + 1];
    } else {
      added[t] = 1;
      const atEnd = tok.added?.position === 'end';
      utf16Start[t] = utf16End[t] = atEnd ? text.length : 0;
      byteStart[t] = byteEnd[t] = atEnd ? s.byteLength : 0;
    }
  }
  const ranking = featureTotals(enc).slice(0, RANKED_FEATURES);
  const labelOf: Record<string, string> = {};
  if (labels) {
    const add = (f: number): void => {
      const l = labels.get(f);
      if (l !== undefined) labelOf[f] = l;
    };
    ranking.forEach((f) => add(f.index));
    featureIndex.forEach(add);
  }
  return {
    model,
    sae: { path: sae.path, format: sae.format, architecture: sae.architecture, hook: sae.hook ?? '', dIn: sae.dIn, dSae: sae.dSae },
    encoder: enc.encoder,
    k: enc.k ?? null,
    m: enc.m ?? null,
    tokenCount: n,
    ids: Uint32Array.from(r.tokens, (t) => t.id),
    utf16Start,
    utf16End,
    byteStart,
    byteEnd,
    added,
    rowStart,
    featureIndex,
    activation,
    selected,
    active: Uint32Array.from(enc.activeCount),
    normalizedMse: Float32Array.from(enc.normalizedMse),
    varianceExplained: Float32Array.from(enc.varianceExplained),
    ranking,
    labels: labelOf,
    truncated: rowStart[n] < total,
    warnings: [...r.warnings],
    elapsedMs,
  };
}

/** The buffers to transfer with a payload. */
export function featuresTransfer(p: FeaturesPayload): ArrayBuffer[] {
  return [p.ids, p.utf16Start, p.utf16End, p.byteStart, p.byteEnd, p.added, p.rowStart, p.featureIndex, p.activation, p.selected, p.active, p.normalizedMse, p.varianceExplained].map(
    (a) => a.buffer as ArrayBuffer,
  );
}
