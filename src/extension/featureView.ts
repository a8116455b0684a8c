/**
 * Reading a document's features payload (pure: the hover, the heatmap, the panel and the tests use it).
 */
import type { FeaturesPayload } from '../protocol/modelWorker';
import { upperBound } from '../core/sortedSearch';

export interface FeaturesView {
  readonly docKey: string;
  readonly version: number;
  readonly result: FeaturesPayload;
}

/** The tokens (rows) whose text covers UTF-16 offset `u`; added tokens (BOS/EOS) cover nothing. */
export function featureTokensAt(p: FeaturesPayload, u: number): number[] {
  // utf16Start never decreases along the rows.
  const lo = upperBound(p.utf16Start, u, 0, p.tokenCount);
  const out: number[] = [];
  // Walk back over the rows that cover u (tokens splitting one character share its range) and zero-width ones.
  for (let t = lo - 1; t >= 0 && (p.utf16End[t] > u || p.utf16End[t] === p.utf16Start[t]); t--) if (!p.added[t] && p.utf16End[t] > u) out.unshift(t);
  return out;
}


export function featureName(p: FeaturesPayload, f: number): string {
  const label = p.labels[f];
  return label ? `${label} (#${f})` : `#${f}`;
}

const BAR_CELLS = 10;
function textBar(share: number): string {
  const n = Math.max(0, Math.min(BAR_CELLS, Math.round(share * BAR_CELLS)));
  return '█'.repeat(n) + '░'.repeat(BAR_CELLS - n);
}

const num = (v: number, digits = 3): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');

/** The hover's features section for the rows under the mouse. */
/** The hover's link to a feature's workspace view (the one command its restricted trust enables). */
export const SHOW_FEATURE_COMMAND = 'tokenInspector.showFeature';

/** `withLinks`: each feature links to its view across the workspace (the Feature tab). */
export function featuresMarkdown(view: FeaturesView, rows: readonly number[], highlighted: number | null, top = 5, withLinks = false): string {
  const p = view.result;
  const k = p.k !== null ? ` k=${p.k}` : '';
  const m = p.m !== null ? ` m=${p.m}` : '';
  let md = `\n**SAE features** · ${p.sae.hook} · ${p.encoder}${k}${m}\n\n`;
  for (const t of rows) {
    const from = p.rowStart[t];
    const shown = Math.min(top, p.rowStart[t + 1] - from);
    let max = 0;
    for (let e = from; e < from + shown; e++) max = Math.max(max, p.activation[e]);
    md += `Token ${t} (id ${p.ids[t]}): ${p.active[t]} active of ${p.selected[t]} selected · reconstruction: normalized MSE ${num(p.normalizedMse[t])}, variance explained ${num(p.varianceExplained[t])}\n\n`;
    if (!shown) {
      md += 'No feature selected here.\n\n';
      continue;
    }
    md += '| feature | activation | |\n|---|---:|---|\n';
    for (let e = from; e < from + shown; e++) {
      const f = p.featureIndex[e];
      const name = featureName(p, f).replace(/[|`\\*_[\]<>]/g, (c) => `\\${c}`);
      const link = withLinks ? ` [workspace](command:${SHOW_FEATURE_COMMAND}?${encodeURIComponent(JSON.stringify([f]))} "This feature's top contexts and logit effects in the workspace")` : '';
      md += `| ${f === highlighted ? `**${name}**` : name}${link} | ${num(p.activation[e])} | \`${textBar(max > 0 ? p.activation[e] / max : 0)}\` |\n`;
    }
    md += '\n';
  }
  return md;
}
