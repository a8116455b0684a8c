/**
 * The panel's Feature tab: one SAE feature across the workspace, from the workspace feature index: its label
 * (marked when automatic), how often it fires, the histogram of its non-zero activations, its top contexts as
 * token chips painted by the feature's activation (click a token to open its file there) and its logit
 * effects, the output tokens it promotes and suppresses, with the approximation they are. The host side is
 * src/extension/panel/feature.ts.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import type { FeatureReport, TokenEffectJson } from '../../src/core/sae/workspaceIndex/featureReport';
import { el, fixed, fmt, send, visible } from '../common';
import { webviewTab, type ToWebview } from './tab';

const heatColor = (share: number): string => `color-mix(in srgb, var(--ti-costly) ${Math.round(Math.max(0, Math.min(1, share)) * 85)}%, transparent)`;

function contexts(r: FeatureReport): HTMLElement {
  const list = el('ol', { class: 'feature-contexts', id: 'feature-contexts' });
  const max = r.maxActivation || 1;
  r.contexts.forEach((c, i) => {
    const row = el('li', { 'data-path': c.path, 'data-activation': String(c.activation) });
    const chips = el('span', { class: 'context-tokens' });
    c.tokens.forEach((t, j) => {
      const a = c.activations[j];
      const chip = el('span', { class: `chip${j === c.focus ? ' current' : ''}`, title: `${fixed(a, 3)}` }, visible(t));
      if (a > 0) {
        chip.style.background = heatColor(a / max);
        chip.setAttribute('data-heat', a.toFixed(4));
      }
      if (j === c.focus) {
        chip.setAttribute('data-focus', '');
        chip.setAttribute('role', 'link');
        chip.setAttribute('tabindex', '0');
        chip.title = `${c.path}: activation ${fixed(a, 3)} (open the file here)`;
        const open = () => send({ type: 'openFeatureContext', path: c.path, utf16Start: c.utf16Start, utf16End: c.utf16End });
        chip.addEventListener('click', open);
        chip.addEventListener('keydown', (e) => {
          if ((e as KeyboardEvent).key === 'Enter') open();
        });
      }
      chips.append(chip);
    });
    row.append(el('span', { class: 'num context-activation' }, fixed(c.activation, 3)), ' ', chips, ' ', el('span', { class: 'context-path' }, c.path));
    list.append(row);
    if (i === 0) row.classList.add('strongest');
  });
  return list;
}

function histogram(r: FeatureReport): HTMLElement {
  const used = r.histogram.map((b, i) => ({ ...b, i })).filter((b) => b.count > 0);
  const first = used.length ? used[0].i : 0;
  const last = used.length ? used[used.length - 1].i : 0;
  const bins = r.histogram.slice(first, last + 1);
  const max = Math.max(1, ...bins.map((b) => b.count));
  const chart = el('div', { class: 'chart', id: 'feature-histogram', role: 'img', 'aria-label': `Histogram of ${fmt(r.firingTokens)} non-zero activations` });
  for (const b of bins) {
    const col = el('div', { class: 'col', title: `${fixed(b.start, 3)} – ${b.end === null ? '∞' : fixed(b.end, 3)}: ${fmt(b.count)} tokens`, 'data-count': String(b.count) });
    col.style.height = `${(b.count / max) * 100}%`;
    chart.append(col);
  }
  return el('div', {}, chart, el('p', { class: 'explain' }, `Non-zero activations on a log scale, ${fixed(bins[0]?.start ?? 0, 3)} to ${bins.length ? (bins[bins.length - 1].end === null ? '∞' : fixed(bins[bins.length - 1].end, 3)) : '–'} (half an octave per bar).`));
}

function effects(r: FeatureReport): HTMLElement {
  const e = r.logitEffects;
  if (!e) return el('p', { class: 'message' }, 'No logit effects: the model’s unembedding could not be read.');
  const max = Math.max(...e.promoted.map((t) => Math.abs(t.value)), ...e.suppressed.map((t) => Math.abs(t.value)), 1e-9);
  const table = (id: string, title: string, list: readonly TokenEffectJson[], colour: string) => {
    const t = el('table', { class: 'data', id });
    t.append(el('thead', {}, el('tr', {}, el('th', {}, title), el('th', {}, 'Logit change'))));
    const body = el('tbody', {});
    for (const tok of list) {
      const bar = el('span', { class: 'bar' });
      bar.style.width = `${(Math.abs(tok.value) / max) * 100}%`;
      bar.style.background = colour;
      body.append(el('tr', { 'data-id': String(tok.id) }, el('td', {}, el('span', { class: 'chip' }, visible(tok.text))), el('td', { class: 'num' }, el('span', { class: 'barwrap' }, bar), fixed(tok.value, 3))));
    }
    t.append(body);
    return t;
  };
  return el(
    'div',
    {},
    el('div', { class: 'toolbar wrap' }, table('feature-promoted', 'Promotes', e.promoted, 'var(--ti-cheap)'), table('feature-suppressed', 'Suppresses', e.suppressed, 'var(--ti-costly)')),
    el('p', { class: 'explain', id: 'feature-effects-note' }, `Approximation: ${e.approximation}. Final norm: ${e.norm}; unembedding ${e.tied ? 'tied to the embedding' : 'of its own'}.`),
  );
}

export function createFeatureView(container: HTMLElement) {
  const find = el('vscode-button', { id: 'feature-find' }, 'Find Feature…');
  const index = el('vscode-button', { id: 'feature-index', secondary: '' }, 'Index Workspace Features');
  const out = el('div', { id: 'feature-out', 'aria-live': 'polite' });
  container.append(
    el('p', { class: 'explain' }, 'One SAE feature across this workspace: the contexts where it fires most, how often it fires, and the output tokens it pushes up and down.'),
    el('div', { class: 'toolbar' }, find, index),
    out,
  );
  find.addEventListener('click', () => send({ type: 'findFeature' }));
  index.addEventListener('click', () => send({ type: 'indexFeatures' }));

  function render(m: ToWebview<'featureView'>): void {
    const parts: (Node | string)[] = [];
    if (m.indexing) parts.push(el('vscode-progress-bar', { value: String(m.indexing.total ? Math.round((100 * m.indexing.done) / m.indexing.total) : 0), max: '100' }), el('p', { id: 'feature-indexing' }, `Indexing: ${fmt(m.indexing.done)} of ${fmt(m.indexing.total)} files…`));
    if (m.message) parts.push(el('p', { class: 'message' }, m.message));
    const r = m.report;
    if (!r) {
      if (!m.indexing && !m.message) parts.push(el('p', { class: 'message' }, 'Run Find Feature… to show a feature (Index Workspace Features first).'));
      out.replaceChildren(...parts);
      return;
    }
    const label = r.label ? el('span', { id: 'feature-label', 'data-source': r.label.source }, r.label.text, r.label.source === 'automatic' ? el('span', { class: 'badge', title: 'Made here from the top contexts’ tokens and the promoted tokens: not a description of what the feature means.' }, ' automatic label') : '') : el('span', { id: 'feature-label', 'data-source': 'none' }, 'no label');
    parts.push(
      el('h3', { id: 'feature-title', 'data-feature': String(r.index), 'data-contexts': String(r.contexts.length), 'data-firing': String(r.firingTokens) }, `Feature #${r.index}: `, label),
      el('p', { id: 'feature-stats' }, `Fires on ${fmt(r.firingTokens)} of ${fmt(r.workspaceTokens)} tokens (${fixed(r.frequency * 100, 3)}%), strongest ${fixed(r.maxActivation, 3)}.`),
      el(
        'div',
        { class: 'feature-summary' },
        el('div', {}, el('h3', {}, 'Logit effects'), effects(r)),
        el('div', { class: 'feature-histogram' }, el('h3', {}, 'Activations'), histogram(r)),
      ),
      el('h3', {}, 'Top contexts'),
      contexts(r),
    );
    out.replaceChildren(...parts);
  }

  return webviewTab({ receives: ['featureView'], onMessage: render });
}
