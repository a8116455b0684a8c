/**
 * The panel: the document as token chips (virtualized by line, scroll-synced with the editor), Compare and
 * Language Premiums. Runs in the webview; it only renders what the extension host sends.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import type { CompareResult } from '../../src/core/analysis/compare';
import type { PremiumRow } from '../../src/core/premiums/premiums';
import type { HostToWebview, PanelDocument, PanelMode, TokenizerChoice } from '../../src/protocol';
import { costColor, el, fixed, fmt, onHostMessage, send, visible } from '../common';
import { createFeaturesView } from './features';
import { upperBound } from '../../src/core/sortedSearch';

const FLAG_SPECIAL = 1;
const FLAG_PARTIAL = 2;
const FLAG_ZERO = 8;
const ROW_HEIGHT_PX = 26;
const OVERSCAN_ROWS = 10;
/** A line with more tokens than this shows the first ones and a count of the rest. */
const MAX_CHIPS_PER_ROW = 1500;

interface State {
  doc: PanelDocument | null;
  lineStarts: Uint32Array;
  /** First token index whose start is on or after each line's start. */
  lineFirstToken: Uint32Array;
  showIds: boolean;
  showSurprisal: boolean;
  currentToken: number;
  tokenizers: readonly TokenizerChoice[];
  compareIds: string[];
  reference: string;
  premiumIds: string[];
  premiums: readonly PremiumRow[] | null;
  premiumSort: { key: string; desc: boolean };
  documentScript: string | null;
  compare: CompareResult | null;
}

const state: State = {
  doc: null,
  lineStarts: new Uint32Array([0]),
  lineFirstToken: new Uint32Array([0]),
  showIds: false,
  showSurprisal: false,
  currentToken: -1,
  tokenizers: [],
  compareIds: [],
  reference: 'o200k_base',
  premiumIds: ['gpt2', 'o200k_base', 'llama3', 'gemma3'],
  premiums: null,
  premiumSort: { key: 'premium', desc: true },
  documentScript: null,
  compare: null,
};

// ---------- layout ----------
const app = document.getElementById('app') as HTMLElement;
const tabs = el('vscode-tabs', { 'selected-index': '0', panel: '' });
const tokensPanel = el('vscode-tab-panel', { id: 'tokens-view' });
const comparePanel = el('vscode-tab-panel', { id: 'compare-view' });
const premiumsPanel = el('vscode-tab-panel', { id: 'premiums-view' });
const nextBytePanel = el('vscode-tab-panel', { id: 'nextbyte-view' });
const featuresPanel = el('vscode-tab-panel', { id: 'features-view' });
tabs.append(
  el('vscode-tab-header', { slot: 'header', id: 'tab-tokens' }, 'Tokens'),
  tokensPanel,
  el('vscode-tab-header', { slot: 'header', id: 'tab-compare' }, 'Compare'),
  comparePanel,
  el('vscode-tab-header', { slot: 'header', id: 'tab-premiums' }, 'Language premiums'),
  premiumsPanel,
  el('vscode-tab-header', { slot: 'header', id: 'tab-nextbyte' }, 'Next byte'),
  nextBytePanel,
  el('vscode-tab-header', { slot: 'header', id: 'tab-features' }, 'Features'),
  featuresPanel,
);
app.append(tabs);
const MODES: PanelMode[] = ['tokens', 'compare', 'premiums', 'nextByte', 'features'];
tabs.addEventListener('vsc-tabs-select', (e: Event) => {
  const i = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
  send({ type: 'mode', mode: MODES[i] ?? 'tokens' });
});

// Tokens view
const tokensHeader = el('div', { class: 'toolbar' });
const idsBox = el('vscode-checkbox', { label: 'Show ids' });
idsBox.addEventListener('change', () => {
  state.showIds = (idsBox as unknown as { checked: boolean }).checked;
  renderRows(true);
});
const surprisalBox = el('vscode-checkbox', { label: 'Surprisal per character', id: 'surprisal-box', disabled: '' });
surprisalBox.addEventListener('change', () => {
  state.showSurprisal = (surprisalBox as unknown as { checked: boolean }).checked;
  renderRows(true);
});
const docInfo = el('span', { class: 'doc-info', id: 'doc-info', 'aria-live': 'polite' });
tokensHeader.append(docInfo, surprisalBox, idsBox);
const scroller = el('div', { class: 'scroller', id: 'scroller', tabindex: '0', role: 'list', 'aria-label': 'Tokens of the document, by line' });
const spacer = el('div', { class: 'spacer' });
const rows = el('div', { class: 'rows' });
spacer.append(rows);
scroller.append(spacer);
const legend = el(
  'div',
  { class: 'legend' },
  el('span', { class: 'chip even' }, 'token'),
  el('span', { class: 'chip odd' }, 'next token'),
  el('span', { class: 'chip partial' }, 'part of a character'),
  el('span', { class: 'chip zero' }, 'zero-width'),
  el('span', { class: 'chip special' }, 'special'),
  ' · space, → tab, ↵ newline',
);
tokensPanel.append(tokensHeader, scroller, legend);

// ---------- tokens view ----------
function computeLines(text: string): void {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
  }
  state.lineStarts = Uint32Array.from(starts);
  const s = state.doc?.stream;
  const first = new Uint32Array(starts.length);
  if (s) {
    let t = 0;
    for (let l = 0; l < starts.length; l++) {
      while (t < s.count && s.utf16Offsets[t] < starts[l]) t++;
      first[l] = t;
    }
  }
  state.lineFirstToken = first;
}

function tokenText(i: number): string {
  const d = state.doc as PanelDocument;
  const s = d.stream;
  return d.text.slice(s.utf16Offsets[i], s.utf16Offsets[i + 1]);
}

function chip(i: number): HTMLElement {
  const s = (state.doc as PanelDocument).stream;
  const f = s.flags[i];
  const cls = ['chip', i % 2 ? 'odd' : 'even'];
  if (f & FLAG_SPECIAL) cls.push('special');
  if (f & FLAG_ZERO) cls.push('zero');
  if (i === state.currentToken) cls.push('current');
  const text = f & FLAG_ZERO ? '∅' : visible(tokenText(i));
  const e = el('span', { class: cls.join(' '), 'data-i': String(i), role: 'listitem', 'aria-label': `token ${i}, id ${s.ids[i]}, ${f & FLAG_ZERO ? 'zero-width' : JSON.stringify(tokenText(i))}` });
  const bits = state.doc?.charSurprisalBits;
  if (state.showSurprisal && bits && !(f & FLAG_ZERO)) {
    // Each character shaded by its own surprisal (its bytes' share of the token's).
    for (let u = s.utf16Offsets[i]; u < s.utf16Offsets[i + 1]; ) {
      const cp = (state.doc as PanelDocument).text.codePointAt(u) ?? 0;
      const n = cp > 0xffff ? 2 : 1;
      const c = el('span', { class: 'char', title: `${bits[u].toFixed(2)} bits` }, visible(String.fromCodePoint(cp)));
      c.style.background = `color-mix(in srgb, var(--ti-costly) ${Math.min(100, Math.round((bits[u] / 16) * 100))}%, transparent)`;
      e.append(c);
      u += n;
    }
  } else e.append(text);
  if (state.showIds) e.append(el('sub', {}, String(s.ids[i])));
  e.title = `#${i} · id ${s.ids[i]} · bytes ${s.byteOffsets[i]}–${s.byteOffsets[i + 1]}`;
  return e;
}

/** Tokens i..j that split one character, shown together as that character. */
function splitGroup(i: number, j: number): HTMLElement {
  const d = state.doc as PanelDocument;
  const s = d.stream;
  const u0 = s.utf16Offsets[i];
  let u1 = s.utf16Offsets[j + 1];
  if (s.byteIntoChar[j + 1] > 0) u1 += (d.text.codePointAt(u1) ?? 0) > 0xffff ? 2 : 1;
  const ids = [];
  for (let k = i; k <= j; k++) ids.push(s.ids[k]);
  const g = el('span', { class: `chip partial ${i % 2 ? 'odd' : 'even'}${state.currentToken >= i && state.currentToken <= j ? ' current' : ''}`, 'data-i': String(i), role: 'listitem', 'aria-label': `tokens ${i} to ${j}, ids ${ids.join(' ')}, together ${d.text.slice(u0, u1)}` }, visible(d.text.slice(u0, u1)));
  g.append(el('sup', { class: 'split-count' }, `×${j - i + 1}`));
  if (state.showIds) g.append(el('sub', {}, ids.join(' ')));
  g.title = `#${i}–${j} split one character · ids ${ids.join(', ')}`;
  return g;
}

function renderRow(line: number): HTMLElement {
  const d = state.doc as PanelDocument;
  const s = d.stream;
  const row = el('div', { class: 'row' });
  row.style.top = `${line * ROW_HEIGHT_PX}px`;
  row.append(el('span', { class: 'ln', 'aria-hidden': 'true' }, String(line + 1)));
  const lineEnd = line + 1 < state.lineStarts.length ? state.lineStarts[line + 1] : d.text.length;
  // A token that spans a line break is shown once, on the line where it starts.
  let i = state.lineFirstToken[line];
  let shown = 0;
  for (; i < s.count && s.utf16Offsets[i] < lineEnd; i++) {
    if (shown++ >= MAX_CHIPS_PER_ROW) {
      row.append(el('span', { class: 'more' }, `… more tokens on this line`));
      break;
    }
    if (s.flags[i] & FLAG_PARTIAL) {
      let j = i;
      while (j + 1 < s.count && s.byteIntoChar[j + 1] > 0) j++;
      row.append(splitGroup(i, j));
      i = j;
    } else row.append(chip(i));
  }
  return row;
}

let rendered = { first: -1, last: -1 };
function renderRows(force = false): void {
  if (!state.doc) return;
  const lines = state.lineStarts.length;
  spacer.style.height = `${lines * ROW_HEIGHT_PX}px`;
  const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT_PX) - OVERSCAN_ROWS);
  const last = Math.min(lines - 1, Math.ceil((scroller.scrollTop + scroller.clientHeight) / ROW_HEIGHT_PX) + OVERSCAN_ROWS);
  if (!force && first === rendered.first && last === rendered.last) return;
  rendered = { first, last };
  const frag = document.createDocumentFragment();
  for (let l = first; l <= last; l++) frag.append(renderRow(l));
  rows.replaceChildren(frag);
}

let programmaticScroll = false;
let scrollPostTimer: number | undefined;
scroller.addEventListener('scroll', () => {
  renderRows();
  if (programmaticScroll) {
    programmaticScroll = false;
    return;
  }
  if (scrollPostTimer !== undefined) window.clearTimeout(scrollPostTimer);
  scrollPostTimer = window.setTimeout(() => send({ type: 'scrolled', line: Math.floor(scroller.scrollTop / ROW_HEIGHT_PX) }), 60);
});
scroller.addEventListener('click', (e) => {
  const t = (e.target as HTMLElement).closest('[data-i]');
  if (t) send({ type: 'selectToken', index: Number(t.getAttribute('data-i')) });
});
scroller.addEventListener('keydown', (e) => {
  if (!state.doc) return;
  const s = state.doc.stream;
  if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
    const next = Math.max(0, Math.min(s.count - 1, state.currentToken + (e.key === 'ArrowRight' ? 1 : -1)));
    send({ type: 'selectToken', index: next });
    e.preventDefault();
  } else if (e.key === 'Enter' && state.currentToken >= 0) send({ type: 'selectToken', index: state.currentToken });
});

function lineOf(utf16: number): number {
  return Math.max(0, upperBound(state.lineStarts, utf16) - 1);
}

function setCursor(utf16: number): void {
  const s = state.doc?.stream;
  if (!s || !s.count) return;
  let lo = Math.max(0, upperBound(s.utf16Offsets, utf16, 0, s.count) - 1);
  while (lo > 0 && s.byteIntoChar[lo] > 0) lo--;
  state.currentToken = lo;
  const line = lineOf(s.utf16Offsets[lo]);
  const top = line * ROW_HEIGHT_PX;
  if (top < scroller.scrollTop || top > scroller.scrollTop + scroller.clientHeight - ROW_HEIGHT_PX) {
    programmaticScroll = true;
    scroller.scrollTop = Math.max(0, top - scroller.clientHeight / 3);
  }
  renderRows(true);
}

function setDocument(doc: PanelDocument | null, message?: string): void {
  state.doc = doc;
  if (!doc) {
    docInfo.textContent = message ?? 'No document';
    rows.replaceChildren();
    return;
  }
  computeLines(doc.text);
  if (doc.charSurprisalBits) surprisalBox.removeAttribute('disabled');
  else surprisalBox.setAttribute('disabled', '');
  docInfo.textContent = `${doc.fileName} · ${fmt(doc.stream.count)} tokens${doc.stream.addedTokens.length ? ` (+${doc.stream.addedTokens.length} added by the model)` : ''} · ${doc.tokenizer.name}`;
  docInfo.setAttribute('data-count', String(doc.stream.count));
  renderRows(true);
}

// ---------- compare view ----------
const compareControls = el('div', { class: 'toolbar wrap', id: 'compare-controls' });
const compareRun = el('vscode-button', { id: 'compare-run' }, 'Compare');
const compareSelection = el('vscode-checkbox', { label: 'Selection only', id: 'compare-selection' });
const compareOut = el('div', { id: 'compare-out', 'aria-live': 'polite' });
comparePanel.append(compareControls, el('div', { class: 'toolbar' }, compareSelection, compareRun), compareOut);
compareRun.addEventListener('click', () => {
  const ids = [...compareControls.querySelectorAll('vscode-checkbox')].filter((c) => (c as unknown as { checked: boolean }).checked).map((c) => c.getAttribute('data-id') as string);
  state.compareIds = ids;
  compareOut.replaceChildren(el('vscode-progress-bar', {}));
  send({ type: 'compare', tokenizers: ids, scope: (compareSelection as unknown as { checked: boolean }).checked ? 'selection' : 'document' });
});

function tokenizerChecks(container: HTMLElement, selected: readonly string[]): void {
  container.replaceChildren(
    ...state.tokenizers.map((t) => {
      const c = el('vscode-checkbox', { label: t.name, 'data-id': t.id });
      if (selected.includes(t.id)) c.setAttribute('checked', '');
      return c;
    }),
  );
}

function renderCompare(result: CompareResult | null, scope: string, message?: string): void {
  state.compare = result;
  if (!result) {
    compareOut.replaceChildren(el('p', { class: 'message' }, message ?? 'Choose tokenizers and press Compare.'));
    return;
  }
  const maxCost = Math.max(1, ...result.tokenizers.map((r) => r.relativeCost ?? 0));
  const table = el('table', { class: 'data', id: 'compare-table' });
  table.append(
    el('thead', {}, el('tr', {}, ...['Tokenizer', 'Tokens', 'Bytes/token', 'Chars/token', 'Fertility', 'Words split', 'Relative cost', ''].map((h) => el('th', { scope: 'col' }, h)))),
  );
  const body = el('tbody', {});
  for (const r of result.tokenizers) {
    const bar = el('span', { class: 'bar', role: 'img', 'aria-label': `relative cost ${fixed(r.relativeCost)}` });
    bar.style.width = `${((r.relativeCost ?? 0) / maxCost) * 100}%`;
    bar.style.background = costColor(r.relativeCost);
    body.append(
      el(
        'tr',
        { 'data-tokenizer': r.tokenizer },
        el('th', { scope: 'row' }, r.name),
        el('td', { class: 'num count' }, fmt(r.count)),
        el('td', { class: 'num' }, fixed(r.bytesPerToken)),
        el('td', { class: 'num' }, fixed(r.charsPerToken)),
        el('td', { class: 'num' }, fixed(r.fertility)),
        el('td', { class: 'num' }, `${(r.continuedWordShare * 100).toFixed(1)}%`),
        el('td', { class: 'num relative-cost' }, r.relativeCost === null ? '–' : `${r.relativeCost.toFixed(3)}×`),
        el('td', { class: 'barcell' }, bar),
      ),
    );
  }
  table.append(body);
  // The per-line strip: which lines cost most under each tokenizer relative to the reference.
  const strips = el('div', { class: 'strips', role: 'group', 'aria-label': 'Relative cost per line' });
  for (const l of result.lines) {
    const col = el('div', { class: 'strip' }, el('div', { class: 'strip-label' }, l.tokenizer));
    const cells = el('div', { class: 'strip-cells' });
    const step = Math.max(1, Math.ceil(l.lines.length / 600));
    for (let k = 0; k < l.lines.length; k += step) {
      const c = l.lines[k];
      const cell = el('div', { class: 'cell', 'data-line': String(c.line), title: `line ${c.line + 1}: ${c.tokens} vs ${c.referenceTokens} tokens (${fixed(c.relativeCost)}×)` });
      cell.style.background = costColor(c.relativeCost);
      cells.append(cell);
    }
    col.append(cells);
    strips.append(col);
  }
  strips.addEventListener('click', (e) => {
    const line = (e.target as HTMLElement).getAttribute('data-line');
    if (line !== null) send({ type: 'scrolled', line: Number(line) });
  });
  compareOut.replaceChildren(
    el('p', {}, `${scope === 'selection' ? 'Selection' : 'Document'}: ${fmt(result.bytes)} bytes, ${fmt(result.chars)} characters, ${fmt(result.words)} words. Relative cost = tokens ÷ tokens under ${result.reference} (${fmt(result.referenceCount)}).`),
    table,
    el('h3', {}, 'Relative cost per line (blue cheaper, orange costlier than the reference; click a line to go there)'),
    strips,
  );
}

// ---------- premiums view ----------
const premiumControls = el('div', { class: 'toolbar wrap', id: 'premium-controls' });
const premiumRun = el('vscode-button', { id: 'premiums-run' }, 'Compute premiums');
const premiumOut = el('div', { id: 'premiums-out', 'aria-live': 'polite' });
premiumsPanel.append(
  el('p', { class: 'explain' }, 'Token premium (Petrov et al. 2023): tokens for a language ÷ tokens for English on the same UDHR articles. The byte premium (bytes ÷ English bytes) separates the script’s cost from the tokenizer’s.'),
  premiumControls,
  el('div', { class: 'toolbar' }, premiumRun),
  premiumOut,
);
premiumRun.addEventListener('click', () => {
  state.premiumIds = [...premiumControls.querySelectorAll('vscode-checkbox')].filter((c) => (c as unknown as { checked: boolean }).checked).map((c) => c.getAttribute('data-id') as string);
  send({ type: 'premiums', tokenizers: state.premiumIds });
});

interface LanguageRow {
  language: string;
  name: string;
  script: string;
  articles: number;
  bytePremium: number;
  premium: Record<string, number>;
}

function languageRows(rows: readonly PremiumRow[]): LanguageRow[] {
  const by = new Map<string, LanguageRow>();
  for (const r of rows) {
    let row = by.get(r.code);
    if (!row) {
      row = { language: r.language, name: r.name, script: r.script, articles: r.articles, bytePremium: r.bytePremium, premium: {} };
      by.set(r.code, row);
    }
    row.premium[r.tokenizer] = r.premium;
  }
  return [...by.values()];
}

function renderPremiums(): void {
  const rows = state.premiums;
  if (!rows) return;
  const ids = [...new Set(rows.map((r) => r.tokenizer))];
  const langs = languageRows(rows);
  const { key, desc } = state.premiumSort;
  const value = (r: LanguageRow): number | string => (key === 'name' ? r.name : key === 'script' ? r.script : key === 'bytePremium' ? r.bytePremium : (r.premium[key === 'premium' ? ids[0] : key] ?? 0));
  langs.sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const c = typeof x === 'string' ? x.localeCompare(String(y)) : x - (y as number);
    return desc ? -c : c;
  });
  const head = (label: string, k: string): HTMLElement => {
    const th = el('th', { scope: 'col', tabindex: '0', 'aria-sort': state.premiumSort.key === k ? (desc ? 'descending' : 'ascending') : 'none', 'data-sort': k }, label);
    return th;
  };
  const table = el('table', { class: 'data sortable', id: 'premiums-table' });
  table.append(el('thead', {}, el('tr', {}, head('Language', 'name'), head('Script', 'script'), el('th', {}, 'Articles'), ...ids.map((id) => head(id, id)), head('Byte premium', 'bytePremium'))));
  const body = el('tbody', {});
  const maxPremium = Math.max(1, ...langs.flatMap((l) => Object.values(l.premium)));
  for (const l of langs) {
    const mine = state.documentScript !== null && l.script === state.documentScript;
    body.append(
      el(
        'tr',
        { class: mine ? 'mine' : '', 'data-language': l.language },
        el('th', { scope: 'row' }, `${l.name} (${l.language})`),
        el('td', {}, l.script),
        el('td', { class: 'num' }, `${l.articles}/31`),
        ...ids.map((id) => {
          const p = l.premium[id] ?? null;
          const bar = el('span', { class: 'bar' });
          bar.style.width = `${((p ?? 0) / maxPremium) * 100}%`;
          bar.style.background = costColor(p);
          return el('td', { class: 'num premium', 'data-tokenizer': id }, el('span', { class: 'barwrap' }, bar), fixed(p));
        }),
        el('td', { class: 'num' }, fixed(l.bytePremium)),
      ),
    );
  }
  table.append(body);
  table.querySelectorAll('th[data-sort]').forEach((th) => {
    const sort = (): void => {
      const k = th.getAttribute('data-sort') as string;
      state.premiumSort = { key: k, desc: state.premiumSort.key === k ? !state.premiumSort.desc : true };
      renderPremiums();
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Enter') sort();
    });
  });
  // The chart: every language's premium under the first tokenizer, sorted; the document's script marked.
  const chart = el('div', { class: 'chart', role: 'img', 'aria-label': `Premiums of ${langs.length} languages under ${ids[0]}` });
  const sorted = [...langs].sort((a, b) => (a.premium[ids[0]] ?? 0) - (b.premium[ids[0]] ?? 0));
  const max = Math.max(1, ...sorted.map((l) => l.premium[ids[0]] ?? 0));
  for (const l of sorted) {
    const b = el('div', { class: `col${state.documentScript === l.script ? ' mine' : ''}`, title: `${l.name}: ${fixed(l.premium[ids[0]] ?? null)}× (${l.script})` });
    b.style.height = `${((l.premium[ids[0]] ?? 0) / max) * 100}%`;
    chart.append(b);
  }
  premiumOut.replaceChildren(
    el('p', {}, state.documentScript ? `Your document is mostly ${state.documentScript}: its languages are highlighted.` : ''),
    el('h3', {}, `Premium under ${ids[0]}, every language (sorted)`),
    chart,
    table,
  );
}

// ---------- next byte view ----------
const nextByteOut = el('div', { id: 'nextbyte-out', 'aria-live': 'polite' });
nextBytePanel.append(
  el('p', { class: 'explain' }, 'The exact distribution of the next byte at the cursor (Phan et al. 2024: every valid tokenization that covers the text so far counts), beside naive tokenization (the canonical tokens of the prefix, then the next token) and token healing (the last token backed off). Where they differ is the tokenization bias.'),
  nextByteOut,
);

function byteLabel(b: number): string {
  if (b === 256) return 'end of text';
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  if (b === 32) return `${hex} ·`;
  if (b === 10) return `${hex} ↵`;
  if (b === 9) return `${hex} →`;
  return b > 32 && b < 127 ? `${hex} ${String.fromCharCode(b)}` : hex;
}

function renderNextByte(m: Extract<HostToWebview, { type: 'nextByte' }>): void {
  const r = m.result;
  if (!r) {
    nextByteOut.replaceChildren(el('p', { class: 'message' }, m.message ?? ''));
    return;
  }
  const order = Array.from({ length: 257 }, (_, i) => i).sort((a, b) => r.distribution[b] - r.distribution[a] || a - b);
  const top = order.slice(0, 12);
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
      { 'data-byte': String(b), class: diffs[k] === maxDiff && maxDiff > 0.01 ? 'mine' : '' },
      el('th', { scope: 'row' }, byteLabel(b)),
      el('td', { class: 'num exact' }, `${(r.distribution[b] * 100).toFixed(2)}%`),
      el('td', { class: 'num' }, `${(r.naive[b] * 100).toFixed(2)}%`),
      el('td', { class: 'num' }, `${(r.healing[b] * 100).toFixed(2)}%`),
      el('td', { class: 'barcell' }, bar),
    );
    body.append(row);
  });
  table.append(body);
  nextByteOut.replaceChildren(
    el('p', {}, el('code', {}, visible(m.before)), el('strong', {}, '▮'), ` byte ${fmt(r.byteOffset)}${r.exact ? ' · exact' : ` · within a ${r.window}-byte window (${r.inexactReason ?? 'no pre-token boundary'})`} · ${r.ms.toFixed(1)} ms`),
    el('h3', {}, 'Next character'),
    el('p', { id: 'nextbyte-chars' }, r.topCharacters.slice(0, 8).map((c) => `${visible(c.text) || '∅'} ${(c.probability * 100).toFixed(1)}%`).join(' · ')),
    el('h3', {}, 'Next byte (the row where exact and naive differ most is highlighted)'),
    table,
  );
}

const featuresView = createFeaturesView(featuresPanel);

// ---------- messages ----------
onHostMessage((m: HostToWebview) => {
  switch (m.type) {
    case 'document':
      setDocument(m.doc, m.message);
      return;
    case 'cursor':
      setCursor(m.utf16Offset);
      featuresView.onCursor(m.utf16Offset);
      return;
    case 'reveal':
      if (!state.doc) return;
      programmaticScroll = true;
      scroller.scrollTop = m.line * ROW_HEIGHT_PX;
      renderRows();
      return;
    case 'mode':
      tabs.setAttribute('selected-index', String(MODES.indexOf(m.mode)));
      (tabs as unknown as { selectedIndex: number }).selectedIndex = MODES.indexOf(m.mode);
      return;
    case 'tokenizers':
      state.tokenizers = m.all;
      state.reference = m.reference;
      if (!state.compareIds.length) state.compareIds = [...m.compare];
      tokenizerChecks(compareControls, state.compareIds);
      tokenizerChecks(premiumControls, state.premiumIds);
      return;
    case 'compare':
      renderCompare(m.result, m.scope, m.message);
      return;
    case 'premiums':
      state.documentScript = m.documentScript;
      if (m.rows) {
        state.premiums = m.rows;
        renderPremiums();
      } else if (m.message) premiumOut.replaceChildren(el('p', { class: 'message' }, m.message));
      else premiumOut.replaceChildren(el('vscode-progress-bar', { value: String(Math.round((m.progress ?? 0) * 100)), max: '100' }), el('p', {}, `Counting tokens in ${fmt(532)} translations…`));
      return;
    case 'nextByte':
      renderNextByte(m);
      return;
    case 'features':
      featuresView.onMessage(m);
      return;
    case 'summary':
      return;
  }
});

window.addEventListener('resize', () => renderRows(true));
send({ type: 'ready' });
