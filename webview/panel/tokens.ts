/**
 * The panel's Tokens tab: the document as token chips, virtualized by line and scroll-synced with the editor;
 * a click (or Enter, or the arrow keys) selects a token in the editor. The host side is
 * src/extension/panel/tokens.ts.
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import { RANK_BUCKET_LABELS, rankBucket, rankHistogram } from '../../src/core/lm/rankHistogram';
import { upperBound } from '../../src/core/sortedSearch';
import { TokenFlag } from '../../src/core/tokenizers/types';
import type { PanelDocument } from '../../src/protocol';
import { el, fmt, send, visible } from '../common';
import { webviewTab } from './tab';

const ROW_HEIGHT_PX = 26;
const OVERSCAN_ROWS = 10;
/** A line with more tokens than this shows the first ones and a count of the rest. */
const MAX_CHIPS_PER_ROW = 1500;

export function createTokensView(container: HTMLElement) {
  const state = {
    doc: null as PanelDocument | null,
    lineStarts: new Uint32Array([0]),
    /** First token index whose start is on or after each line's start. */
    lineFirstToken: new Uint32Array([0]),
    showIds: false,
    showSurprisal: false,
    showRanks: false,
    currentToken: -1,
  };

  const header = el('div', { class: 'toolbar' });
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
  const ranksBox = el('vscode-checkbox', { label: 'Colour by rank', id: 'ranks-box', disabled: '' });
  ranksBox.addEventListener('change', () => {
    state.showRanks = (ranksBox as unknown as { checked: boolean }).checked;
    renderRows(true);
  });
  const docInfo = el('span', { class: 'doc-info', id: 'doc-info', 'aria-live': 'polite' });
  header.append(docInfo, surprisalBox, ranksBox, idsBox);
  /** Why the probability views are off, or GLTR's rank histogram with its legend, on screen. */
  const probabilityInfo = el('div', { class: 'gltr', id: 'gltr', 'aria-live': 'polite' });
  const scroller = el('div', { class: 'scroller', id: 'scroller', tabindex: '0', role: 'list', 'aria-label': 'Tokens of the document, by line' });
  const spacer = el('div', { class: 'spacer' });
  const rows = el('div', { class: 'rows' });
  spacer.append(rows);
  scroller.append(spacer);
  const legend = el(
    'div',
    { class: 'legend' },
    el('span', { class: 'chip even' }, 'token'),
    el('span', { class: 'chip odd' }, 'token'),
    ' shades alternate so that neighbouring tokens stay apart ',
    el('span', { class: 'chip partial' }, 'part of a character'),
    el('span', { class: 'chip zero' }, 'zero-width'),
    el('span', { class: 'chip special' }, 'special'),
    ' · space, → tab, ↵ newline',
  );
  container.append(header, probabilityInfo, scroller, legend);

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
    if (f & TokenFlag.Special) cls.push('special');
    if (f & TokenFlag.ZeroWidth) cls.push('zero');
    if (i === state.currentToken) cls.push('current');
    const ranks = state.doc?.tokenRanks;
    if (state.showRanks && ranks && !Number.isNaN(ranks[i])) cls.push(`rank${rankBucket(ranks[i])}`);
    const text = f & TokenFlag.ZeroWidth ? '∅' : visible(tokenText(i));
    const e = el('span', { class: cls.join(' '), 'data-i': String(i), role: 'listitem', 'aria-label': `token ${i}, id ${s.ids[i]}, ${f & TokenFlag.ZeroWidth ? 'zero-width' : JSON.stringify(tokenText(i))}` });
    const bits = state.doc?.charSurprisalBits;
    if (state.showSurprisal && bits && !(f & TokenFlag.ZeroWidth)) {
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
    e.title = `#${i} · id ${s.ids[i]} · bytes ${s.byteOffsets[i]}–${s.byteOffsets[i + 1]}${ranks && !Number.isNaN(ranks[i]) ? ` · rank ${ranks[i]}` : ''}`;
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
      if (s.flags[i] & TokenFlag.Partial) {
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
  window.addEventListener('resize', () => renderRows(true));

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

  function setEnabled(box: HTMLElement, on: boolean): void {
    if (on) box.removeAttribute('disabled');
    else box.setAttribute('disabled', '');
  }

  function showProbabilityInfo(doc: PanelDocument): void {
    const reason =
      doc.probabilities === 'off'
        ? 'Surprisal per character and the rank summary need probabilities: run Token Inspector: Show Probabilities.'
        : doc.probabilities === 'pending'
          ? 'Scoring the document: surprisal per character and the rank summary appear when the model has scored it.'
          : doc.tokenRanks
            ? null
            : `${doc.scoredBy ?? 'The model'} gives no ranks (a remote endpoint returns its top 20 only): no rank summary.`;
    surprisalBox.title = doc.charSurprisalBits ? 'Shade each character by its surprisal' : (reason ?? '');
    ranksBox.title = doc.tokenRanks ? "Colour each token by its rank in the model's distribution" : (reason ?? '');
    if (reason !== null) {
      probabilityInfo.replaceChildren(el('p', { class: 'message', id: 'probability-reason' }, reason));
      return;
    }
    const h = rankHistogram(doc.tokenRanks as Float64Array);
    const bars = el('div', { class: 'gltr-bars', role: 'img', 'aria-label': `rank histogram: ${RANK_BUCKET_LABELS.map((l, k) => `${l} ${h.counts[k]}`).join(', ')}` });
    const legendItems = el('div', { class: 'gltr-legend', id: 'gltr-legend' });
    RANK_BUCKET_LABELS.forEach((label, k) => {
      const share = h.ranked ? h.counts[k] / h.ranked : 0;
      const bar = el('span', { class: `gltr-bar rank${k}` });
      bar.style.width = `${share * 100}%`;
      bars.append(bar);
      legendItems.append(
        el(
          'span',
          { class: 'gltr-item', 'data-bucket': String(k), 'data-count': String(h.counts[k]) },
          el('span', { class: `swatch rank${k}` }),
          ` ${label}: `,
          el('b', { class: 'count' }, fmt(h.counts[k])),
          ` (${(share * 100).toFixed(1)}%)`,
        ),
      );
    });
    probabilityInfo.replaceChildren(
      el('div', { class: 'gltr-title' }, `Rank of each token in ${doc.scoredBy ?? 'the model'}'s distribution, GLTR-style (${fmt(h.ranked)} tokens; more beyond the top 10 reads as human-written):`),
      bars,
      legendItems,
    );
  }

  function setDocument(doc: PanelDocument | null, message?: string): void {
    state.doc = doc;
    if (!doc) {
      docInfo.textContent = message ?? 'No document';
      probabilityInfo.replaceChildren();
      rows.replaceChildren();
      return;
    }
    computeLines(doc.text);
    setEnabled(surprisalBox, doc.charSurprisalBits !== undefined);
    setEnabled(ranksBox, doc.tokenRanks !== undefined);
    showProbabilityInfo(doc);
    docInfo.textContent = `${doc.fileName} · ${fmt(doc.stream.count)} tokens${doc.stream.addedTokens.length ? ` (+${doc.stream.addedTokens.length} added by the model)` : ''} · ${doc.tokenizer.name}`;
    docInfo.setAttribute('data-count', String(doc.stream.count));
    renderRows(true);
  }

  return webviewTab({
    receives: ['document', 'cursor', 'reveal'],
    onMessage(m) {
      switch (m.type) {
        case 'document':
          return setDocument(m.doc, m.message);
        case 'cursor':
          return setCursor(m.utf16Offset);
        case 'reveal':
          if (!state.doc) return;
          programmaticScroll = true;
          scroller.scrollTop = m.line * ROW_HEIGHT_PX;
          renderRows();
          return;
      }
    },
  });
}
