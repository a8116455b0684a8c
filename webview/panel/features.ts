/**
 * The panel's Features tab: the document's SAE features. A ranking of features by total activation (click one
 * to highlight it across the document, here and in the editor), the tokens with how many features each got
 * (it varies under Feature and Mutual Choice), and the current token's features with bars, labels and how
 * well the SAE reconstructs it.
 */
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { encoderChoiceLabel, ENCODERS, encoderSettingDescription, isEncoderKind, OWN_ENCODER } from '../../src/core/sae/encoderKinds';
import type { FeaturesPayload } from '../../src/protocol/modelWorker';
import type { HostToWebview, PanelFeatures } from '../../src/protocol';
import { featureAcrossTokens } from '../../src/core/sae/rows';
import { featureName as name } from '../../src/extension/featureView';
import { el, fixed, fmt, send, visible } from '../common';
import { upperBound } from '../../src/core/sortedSearch';

type FeaturesMessage = Extract<HostToWebview, { type: 'features' }>;

/** Token chips shown around the current token (a long document is not drawn whole). */
const TOKEN_WINDOW = 1500;
const DETAIL_FEATURES = 12;
const COUNT_COLUMNS = 400;

interface FeatureState {
  view: PanelFeatures | null;
  highlighted: number | null;
  /** The highlighted feature's activation per row, and its maximum. */
  heat: Float32Array | null;
  heatMax: number;
  current: number;
  shadeError: boolean;
}

const st: FeatureState = { view: null, highlighted: null, heat: null, heatMax: 0, current: -1, shadeError: false };

/** The chooser's entries, from the encoder table: the SAE's own first (value ''), then every kind, each described as in the setting. */
const ENCODER_CHOICES: readonly { readonly value: string; readonly label: string; readonly help: string }[] = [
  { value: '', label: OWN_ENCODER.label, help: OWN_ENCODER.help },
  ...ENCODERS.map((e) => ({ value: e.id, label: encoderChoiceLabel(e), help: encoderSettingDescription(e) })),
];

const heatColor = (share: number): string => `color-mix(in srgb, var(--ti-costly) ${Math.round(Math.max(0, Math.min(1, share)) * 85)}%, transparent)`;

export function createFeaturesView(container: HTMLElement): { onMessage(m: FeaturesMessage): void; onCursor(utf16: number): void } {
  const encoder = el('vscode-single-select', { id: 'features-encoder', 'aria-label': 'Encoder' });
  for (const c of ENCODER_CHOICES) encoder.append(el('vscode-option', { value: c.value, description: c.help }, c.label));
  const kField = el('vscode-textfield', { id: 'features-k', type: 'number', min: '1', placeholder: "SAE's k", 'aria-label': 'k: features per token' });
  const mField = el('vscode-textfield', { id: 'features-m', type: 'number', min: '1', placeholder: 'auto', 'aria-label': 'm: tokens per feature (Feature Choice)' });
  const run = el('vscode-button', { id: 'features-run' }, 'Run');
  const cancel = el('vscode-button', { id: 'features-cancel', secondary: '', disabled: '' }, 'Cancel');
  const progress = el('vscode-progress-bar', { id: 'features-progress', max: '100', value: '0' });
  progress.hidden = true;
  const info = el('p', { id: 'features-info', 'aria-live': 'polite' });
  const message = el('p', { id: 'features-message', class: 'message' }, 'Run Show Features (or press Run) with tokenInspector.featureModel and tokenInspector.sae set.');
  const ranking = el('table', { class: 'data', id: 'features-ranking' });
  const shade = el('vscode-checkbox', { label: 'Shade tokens by reconstruction error', id: 'features-shade' });
  const tokens = el('div', { class: 'feature-tokens', id: 'features-tokens', role: 'list', 'aria-label': 'Tokens with their active feature counts' });
  const counts = el('div', { class: 'count-strip', id: 'features-counts', role: 'img', 'aria-label': 'Active features per token' });
  const detail = el('div', { id: 'features-token', 'aria-live': 'polite' });
  container.append(
    el(
      'p',
      { class: 'explain' },
      "SAE features of each token, read from the model's hidden state at the SAE's hook. Under ReLU, JumpReLU and TopK every token chooses its features; under Feature Choice each feature chooses its tokens and under Mutual Choice the whole document shares one budget, so the number of features per token varies. Selected = chosen by the allocation; active = selected with activation > 0.",
    ),
    el('div', { class: 'toolbar wrap' }, el('span', {}, 'Encoder'), encoder, el('span', {}, 'k'), kField, el('span', {}, 'm'), mField, run, cancel),
    progress,
    info,
    message,
    el(
      'div',
      { class: 'features-grid' },
      el('section', {}, el('h3', {}, 'Document features (by total activation; click to highlight)'), ranking),
      el('section', {}, el('h3', {}, 'Tokens (badge: active features)'), shade, tokens, el('h3', {}, 'Active features per token'), counts, detail),
    ),
  );

  const intValue = (f: HTMLElement): number | null => {
    const v = (f as unknown as { value: string }).value.trim();
    return /^\d+$/.test(v) && parseInt(v, 10) >= 1 ? parseInt(v, 10) : null;
  };
  run.addEventListener('click', () => {
    const e = (encoder as unknown as { value: string }).value;
    send({ type: 'runFeatures', encoder: isEncoderKind(e) ? e : null, k: intValue(kField), m: intValue(mField) });
  });
  cancel.addEventListener('click', () => send({ type: 'cancelFeatures' }));
  shade.addEventListener('change', () => {
    st.shadeError = (shade as unknown as { checked: boolean }).checked;
    renderTokens();
  });
  ranking.addEventListener('click', (e) => {
    const across = (e.target as HTMLElement).closest('[data-workspace-feature]');
    if (across) {
      e.preventDefault();
      return send({ type: 'showFeatureInWorkspace', feature: Number(across.getAttribute('data-workspace-feature')) });
    }
    const row = (e.target as HTMLElement).closest('[data-feature]');
    if (!row) return;
    const f = Number(row.getAttribute('data-feature'));
    send({ type: 'highlightFeature', feature: f === st.highlighted ? null : f });
  });
  tokens.addEventListener('click', (e) => {
    const c = (e.target as HTMLElement).closest('[data-t]');
    if (!c) return;
    st.current = Number(c.getAttribute('data-t'));
    renderTokens();
    renderDetail();
    send({ type: 'selectFeatureToken', index: st.current });
  });

  function renderInfo(p: FeaturesPayload): void {
    let active = 0;
    let nmse = 0;
    let fve = 0;
    let nN = 0;
    let nF = 0;
    for (let t = 0; t < p.tokenCount; t++) {
      active += p.active[t];
      if (Number.isFinite(p.normalizedMse[t])) {
        nmse += p.normalizedMse[t];
        nN++;
      }
      if (Number.isFinite(p.varianceExplained[t])) {
        fve += p.varianceExplained[t];
        nF++;
      }
    }
    let selected = 0;
    for (const s of p.selected) selected += s;
    const n = Math.max(1, p.tokenCount);
    const budget = `${p.k !== null ? ` k=${p.k}` : ''}${p.m !== null ? ` m=${p.m}` : ''}`;
    info.textContent =
      `${p.model} · SAE ${p.sae.format} ${p.sae.architecture}, ${p.sae.hook}, ${fmt(p.sae.dSae)} features · ${p.encoder}${budget} · ${fmt(p.tokenCount)} tokens · ` +
      `${fixed(selected / n, 1)} selected and ${fixed(active / n, 1)} active per token · normalized MSE ${nN ? fixed(nmse / nN, 3) : '–'} · variance explained ${nF ? fixed(fve / nF, 3) : '–'} · ${Math.round(p.elapsedMs)} ms`;
    info.setAttribute('data-tokens', String(p.tokenCount));
    info.setAttribute('data-encoder', p.encoder);
    info.setAttribute('data-active', String(active));
  }

  function renderRanking(p: FeaturesPayload): void {
    const max = p.ranking[0]?.totalActivation ?? 1;
    const body = el('tbody', {});
    for (const r of p.ranking) {
      const bar = el('span', { class: 'bar' });
      bar.style.width = `${(r.totalActivation / max) * 100}%`;
      bar.style.background = 'var(--ti-costly)';
      body.append(
        el(
          'tr',
          { 'data-feature': String(r.index), class: r.index === st.highlighted ? 'mine' : '', tabindex: '0', role: 'button', 'aria-pressed': String(r.index === st.highlighted) },
          el(
            'th',
            { scope: 'row' },
            name(p, r.index),
            ' ',
            el('a', { href: '#', class: 'workspace-link', 'data-workspace-feature': String(r.index), 'aria-label': `feature ${r.index} across the workspace`, title: `Feature ${r.index} across the workspace: its top contexts, histogram and logit effects (the Feature tab)` }, '↗'),
          ),
          el('td', { class: 'num' }, fixed(r.totalActivation)),
          el('td', { class: 'num' }, fmt(r.activeTokens)),
          el('td', { class: 'num' }, fixed(r.maxActivation)),
          el('td', { class: 'barcell' }, bar),
        ),
      );
    }
    ranking.replaceChildren(el('thead', {}, el('tr', {}, ...['Feature', 'Total', 'Tokens', 'Max', ''].map((h) => el('th', { scope: 'col' }, h)))), body);
  }
  ranking.addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key === 'Enter') ((e.target as HTMLElement).closest('[data-feature]') as HTMLElement | null)?.click();
  });

  function renderTokens(): void {
    const v = st.view;
    if (!v) return void tokens.replaceChildren();
    const p = v.result;
    const center = st.current >= 0 ? st.current : 0;
    const from = Math.max(0, Math.min(center - TOKEN_WINDOW / 2, p.tokenCount - TOKEN_WINDOW));
    const to = Math.min(p.tokenCount, from + TOKEN_WINDOW);
    const frag = document.createDocumentFragment();
    if (from > 0) frag.append(el('span', { class: 'more' }, `… ${fmt(from)} tokens before `));
    for (let t = from; t < to; t++) {
      const text = p.added[t] ? `⟨${p.ids[t]}⟩` : visible(v.text.slice(p.utf16Start[t], p.utf16End[t]));
      const cls = ['chip', t % 2 ? 'odd' : 'even'];
      if (t === st.current) cls.push('current');
      if (p.added[t]) cls.push('special');
      const heat = st.heat?.[t] ?? 0;
      const c = el('span', { class: cls.join(' '), 'data-t': String(t), role: 'listitem', 'aria-label': `token ${t}, ${p.active[t]} active features` }, text, el('sup', { class: 'badge' }, String(p.active[t])));
      if (st.heat && heat > 0) {
        c.style.background = heatColor(heat / st.heatMax);
        c.setAttribute('data-heat', heat.toFixed(4));
      } else if (st.shadeError && Number.isFinite(p.normalizedMse[t])) c.style.background = `color-mix(in srgb, var(--vscode-editorError-foreground, #f14c4c) ${Math.round(Math.min(1, p.normalizedMse[t]) * 80)}%, transparent)`;
      c.title = `#${t} · id ${p.ids[t]} · ${p.active[t]} active / ${p.selected[t]} selected · normalized MSE ${fixed(p.normalizedMse[t], 3)}${st.heat ? ` · feature ${st.highlighted}: ${fixed(heat, 3)}` : ''}`;
      frag.append(c);
    }
    if (to < p.tokenCount) frag.append(el('span', { class: 'more' }, ` … ${fmt(p.tokenCount - to)} tokens after`));
    tokens.replaceChildren(frag);
  }

  function renderCounts(p: FeaturesPayload): void {
    const step = Math.max(1, Math.ceil(p.tokenCount / COUNT_COLUMNS));
    let max = 1;
    for (const a of p.active) max = Math.max(max, a);
    const frag = document.createDocumentFragment();
    for (let t = 0; t < p.tokenCount; t += step) {
      let sum = 0;
      const end = Math.min(p.tokenCount, t + step);
      for (let u = t; u < end; u++) sum += p.active[u];
      const mean = sum / (end - t);
      const col = el('div', { class: 'col', 'data-t': String(t), title: `tokens ${t}–${end - 1}: ${fixed(mean, 1)} active features per token` });
      col.style.height = `${(mean / max) * 100}%`;
      frag.append(col);
    }
    counts.replaceChildren(frag);
  }
  counts.addEventListener('click', (e) => {
    const t = (e.target as HTMLElement).getAttribute('data-t');
    if (t === null) return;
    st.current = Number(t);
    renderTokens();
    renderDetail();
  });

  function renderDetail(): void {
    const v = st.view;
    const t = st.current;
    if (!v || t < 0 || t >= v.result.tokenCount) return void detail.replaceChildren();
    const p = v.result;
    const from = p.rowStart[t];
    const shown = Math.min(DETAIL_FEATURES, p.rowStart[t + 1] - from);
    let max = 0;
    for (let e = from; e < from + shown; e++) max = Math.max(max, p.activation[e]);
    const body = el('tbody', {});
    for (let e = from; e < from + shown; e++) {
      const f = p.featureIndex[e];
      const bar = el('span', { class: 'bar' });
      bar.style.width = `${max > 0 ? (p.activation[e] / max) * 100 : 0}%`;
      bar.style.background = 'var(--ti-costly)';
      body.append(el('tr', { 'data-feature': String(f), class: f === st.highlighted ? 'mine' : '' }, el('th', { scope: 'row' }, name(p, f)), el('td', { class: 'num' }, fixed(p.activation[e], 3)), el('td', { class: 'barcell' }, bar)));
    }
    const table = el('table', { class: 'data', id: 'features-token-table' }, el('thead', {}, el('tr', {}, ...['Feature', 'Activation', ''].map((h) => el('th', { scope: 'col' }, h)))), body);
    table.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest('[data-feature]');
      if (row) send({ type: 'highlightFeature', feature: Number(row.getAttribute('data-feature')) });
    });
    const text = p.added[t] ? `(added by the model, id ${p.ids[t]})` : JSON.stringify(v.text.slice(p.utf16Start[t], p.utf16End[t]));
    detail.replaceChildren(
      el('h3', {}, `Token ${t}: ${text}`),
      el(
        'p',
        { id: 'features-token-info', 'data-active': String(p.active[t]), 'data-selected': String(p.selected[t]) },
        `id ${p.ids[t]} · bytes ${p.byteStart[t]}–${p.byteEnd[t]} · ${p.active[t]} active of ${p.selected[t]} selected · reconstruction: normalized MSE ${fixed(p.normalizedMse[t], 3)}, variance explained ${fixed(p.varianceExplained[t], 3)}`,
      ),
      shown ? table : el('p', { class: 'message' }, 'No feature selected for this token.'),
    );
  }

  function setHighlight(f: number | null): void {
    st.highlighted = f;
    st.heat = null;
    st.heatMax = 0;
    if (f !== null && st.view) {
      st.heat = featureAcrossTokens(st.view.result, f);
      for (const a of st.heat) st.heatMax = Math.max(st.heatMax, a);
    }
  }

  return {
    onMessage(m) {
      progress.hidden = !m.running;
      progress.setAttribute('value', String(Math.round(m.progress * 100)));
      if (m.running) cancel.removeAttribute('disabled');
      else cancel.setAttribute('disabled', '');
      message.textContent = m.running ? 'Reading hidden states and encoding…' : (m.message ?? '');
      if (m.view !== undefined) {
        st.view = m.view;
        if (!m.view) {
          info.textContent = '';
          ranking.replaceChildren();
          counts.replaceChildren();
          st.current = -1;
        } else {
          st.current = Math.min(Math.max(st.current, 0), m.view.result.tokenCount - 1);
          renderInfo(m.view.result);
          renderCounts(m.view.result);
          for (const w of m.view.result.warnings) message.append(el('span', { class: 'warning' }, ` ⚠ ${w}`));
        }
        setHighlight(m.highlighted);
        if (st.view) renderRanking(st.view.result);
        renderTokens();
        renderDetail();
        return;
      }
      if (m.highlighted !== st.highlighted) {
        setHighlight(m.highlighted);
        if (st.view) renderRanking(st.view.result);
        renderTokens();
        renderDetail();
      }
    },
    onCursor(utf16) {
      const p = st.view?.result;
      if (!p) return;
      // The last row starting at or before the cursor (utf16Start never decreases).
      const t = Math.max(0, upperBound(p.utf16Start, utf16, 0, p.tokenCount) - 1);
      if (t === st.current) return;
      st.current = t;
      renderTokens();
      renderDetail();
    },
  };
}
