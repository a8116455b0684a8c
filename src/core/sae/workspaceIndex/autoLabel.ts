/**
 * A short automatic description of a feature, for SAEs without labels: the tokens it fires on most (by their
 * count among its top contexts, then by strength) and the output tokens it promotes most. Always shown as
 * automatic: it describes where the feature fired in this workspace, not what it means.
 */
import type { FeatureContext } from './topContexts';

const SHOWN_TOKENS = 3;

function shown(token: string): string {
  const t = token.replace(/\s+/g, (ws) => (ws.includes('\n') ? '↵' : '·')).trim();
  return `"${t.length > 16 ? `${t.slice(0, 15)}…` : t}"`;
}

/** E.g. `fires on "const" "let" · promotes "=" "("`, or undefined for a feature that never fired. */
export function automaticLabel(contexts: readonly FeatureContext[], promoted: readonly string[] = []): string | undefined {
  if (!contexts.length) return undefined;
  const counts = new Map<string, { count: number; first: number }>();
  contexts.forEach((c, i) => {
    const t = c.tokens[c.focus] ?? '';
    const e = counts.get(t);
    if (e) e.count++;
    else counts.set(t, { count: 1, first: i });
  });
  const top = [...counts].sort((a, b) => b[1].count - a[1].count || a[1].first - b[1].first).slice(0, SHOWN_TOKENS).map(([t]) => shown(t));
  const out = `fires on ${top.join(' ')}`;
  return promoted.length ? `${out} · promotes ${promoted.slice(0, SHOWN_TOKENS).map(shown).join(' ')}` : out;
}
