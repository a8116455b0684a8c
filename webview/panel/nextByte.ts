/**
 * The panel's Next byte tab: the exact next-byte distribution at the cursor beside naive tokenization and
 * token healing, the row where they differ most highlighted, and the most probable next characters. The
 * host side is src/extension/panel/nextByte.ts.
 */
import { formatPercent } from '../../src/core/lm/formatProbability';
import { spaceNote } from '../../src/core/lm/nextByte/spaceNote';
import { el, fmt, send, visible } from '../common';
import { webviewTab, type ToWebview } from './tab';

/** Bytes shown, most probable first. */
const TOP_BYTES = 12;
/** A difference between exact and naive below this is not highlighted. */
const HIGHLIGHT_MIN_DIFFERENCE = 0.01;

function byteLabel(b: number): string {
  if (b === 256) return 'end of text';
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  if (b === 32) return `${hex} ·`;
  if (b === 10) return `${hex} ↵`;
  if (b === 9) return `${hex} →`;
  return b > 32 && b < 127 ? `${hex} ${String.fromCharCode(b)}` : hex;
}

/**
 * What a remote endpoint's top-k makes approximate (core/lm/remoteNextByte.ts): the other tokens count as 0, so
 * only tokenizations whose every token was in its step's top-k are summed; the largest mass left out.
 */
function topKNote(a: { readonly topK: number; readonly maxMissingMass: number; readonly prompts: number }): HTMLElement {
  return el(
    'p',
    { class: 'message', id: 'nextbyte-approx' },
    `Approximate: top-${a.topK} only. The endpoint gives its ${a.topK} most probable next tokens per prefix and the others count as 0, so only tokenizations whose every token was in its step's top ${a.topK} are summed (then renormalised); the naive and healing columns likewise. Mass outside the top ${a.topK}: up to ${formatPercent(a.maxMissingMass)} (largest over ${fmt(a.prompts)} prefixes asked).`,
  );
}

export function createNextByteView(container: HTMLElement) {
  const out = el('div', { id: 'nextbyte-out', 'aria-live': 'polite' });
  container.append(
    el('p', { class: 'explain' }, 'The exact distribution of the next byte at the cursor (Phan et al. 2024: every valid tokenization that covers the text so far counts), beside naive tokenization (the canonical tokens of the prefix, then the next token) and token healing (the last token backed off). Where they differ is the tokenization bias.'),
    out,
  );

  function render(m: ToWebview<'nextByte'>): void {
    const t0 = performance.now();
    const r = m.result;
    if (!r) {
      out.replaceChildren(el('p', { class: 'message' }, m.message ?? ''));
      return;
    }
    const order = Array.from({ length: 257 }, (_, i) => i).sort((a, b) => r.distribution[b] - r.distribution[a] || a - b);
    const top = order.slice(0, TOP_BYTES);
    const diffs = top.map((b) => Math.abs(r.distribution[b] - r.naive[b]));
    const maxDiff = Math.max(...diffs);
    const table = el('table', { class: 'data', id: 'nextbyte-table' });
    table.append(el('thead', {}, el('tr', {}, ...['Next byte', 'Exact', 'Naive', 'Token healing', ''].map((h) => el('th', { scope: 'col' }, h)))));
    const body = el('tbody', {});
    top.forEach((b, k) => {
      const bar = el('span', { class: 'bar' });
      bar.style.width = `${r.distribution[b] * 100}%`;
      bar.style.background = 'var(--ti-cheap)';
      const row = el(
        'tr',
        { 'data-byte': String(b), class: diffs[k] === maxDiff && maxDiff > HIGHLIGHT_MIN_DIFFERENCE ? 'mine' : '' },
        el('th', { scope: 'row' }, byteLabel(b)),
        el('td', { class: 'num exact' }, formatPercent(r.distribution[b])),
        el('td', { class: 'num' }, formatPercent(r.naive[b])),
        el('td', { class: 'num' }, formatPercent(r.healing[b])),
        el('td', { class: 'barcell' }, bar),
      );
      body.append(row);
    });
    table.append(body);
    const approx = r.topKOnly;
    const windowed = (reason: string | undefined) => ` · within a ${r.window}-byte window (${reason ?? 'no pre-token boundary'})`;
    const status = r.exact ? ' · exact' : approx ? ` · approximate: top-${approx.topK} only${approx.analysisInexactReason ? windowed(approx.analysisInexactReason) : ''}` : windowed(r.inexactReason);
    out.replaceChildren(
      el('p', {}, el('code', {}, visible(m.before)), el('strong', {}, '▮'), ` byte ${fmt(r.byteOffset)}${status} · ${r.ms.toFixed(1)} ms`),
      ...(approx ? [topKNote(approx)] : []),
      el('h3', {}, 'Next character'),
      el('p', { id: 'nextbyte-chars' }, r.topCharacters.slice(0, 8).map((c) => `${visible(c.text) || '∅'} ${formatPercent(c.probability)}`).join(' · ')),
      ...(r.spaceAs ? [el('p', { class: 'message', id: 'nextbyte-space' }, spaceNote(r.spaceAs))] : []),
      el('h3', {}, 'Next byte (the row where exact and naive differ most is highlighted)'),
      table,
    );
    // Tell the host when the result is on screen: the timer set in the frame after the DOM update runs after
    // that frame is painted (the host logs the time from its answer to here).
    const drawId = m.drawId;
    const domMs = performance.now() - t0;
    if (drawId !== undefined) requestAnimationFrame(() => setTimeout(() => send({ type: 'nextBytePainted', drawId, domMs, paintMs: performance.now() - t0 }), 0));
  }

  return webviewTab({ receives: ['nextByte'], onMessage: render });
}
