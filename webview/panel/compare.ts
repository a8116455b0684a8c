/**
 * The panel's Compare tab: the chosen tokenizers side by side on the document or the selection (count, bytes
 * and characters per token, fertility, words split, relative cost with bars), the relative cost per line
 * (click a line to go there), and the tokens themselves side by side, one row of chips per tokenizer under each
 * line. The host side is src/extension/panel/compare.ts.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import type { CompareResult } from '../../src/core/analysis/compare';
import type { SideBySide } from '../../src/protocol';
import { costColor, el, fixed, fmt, send, tokensWord } from '../common';
import { chipsOf, firstTokenOfLines, lineStarts } from './chips';
import { checkedTokenizers, tokenizerChecks } from './checks';
import { webviewTab } from './tab';

/** At most this many lines of side-by-side chips. */
const MAX_SIDE_BY_SIDE_LINES = 500;

export function createCompareView(container: HTMLElement) {
  /** The user's choice; the setting's list until the first Compare. */
  let compareIds: string[] = [];
  const controls = el('div', { class: 'toolbar wrap', id: 'compare-controls' });
  const run = el('vscode-button', { id: 'compare-run' }, 'Compare');
  const selectionOnly = el('vscode-checkbox', { label: 'Selection only', id: 'compare-selection' });
  const out = el('div', { id: 'compare-out', 'aria-live': 'polite' });
  container.append(controls, el('div', { class: 'toolbar' }, selectionOnly, run), out);
  run.addEventListener('click', () => {
    compareIds = checkedTokenizers(controls);
    out.replaceChildren(el('vscode-progress-bar', {}));
    send({ type: 'compare', tokenizers: compareIds, scope: (selectionOnly as unknown as { checked: boolean }).checked ? 'selection' : 'document' });
  });

  /** The text's lines, each with one row of chips per tokenizer (the first MAX_SIDE_BY_SIDE_LINES lines). */
  function sideBySide(chips: SideBySide): HTMLElement {
    const starts = lineStarts(chips.text);
    const firsts = chips.streams.map((s) => firstTokenOfLines(s.stream, starts));
    const lines = Math.min(starts.length, MAX_SIDE_BY_SIDE_LINES);
    const grid = el('div', { class: 'side-by-side', id: 'compare-chips', role: 'table', 'aria-label': 'Tokens side by side, by line' });
    for (let l = 0; l < lines; l++) {
      const block = el('div', { class: 'sbs-line', 'data-line': String(l), role: 'rowgroup' });
      block.append(el('div', { class: 'sbs-ln', role: 'row' }, `line ${l + 1}`));
      chips.streams.forEach((s, k) => {
        const from = firsts[k][l];
        const to = l + 1 < starts.length ? firsts[k][l + 1] : s.stream.count;
        block.append(
          el(
            'div',
            { class: 'sbs-row', role: 'row', 'data-tokenizer': s.tokenizer, 'data-count': String(to - from) },
            el('span', { class: 'sbs-name', role: 'rowheader', title: s.name }, s.name),
            el('span', { class: 'sbs-count', title: tokensWord(to - from) }, String(to - from)),
            el('span', { class: 'sbs-chips', role: 'cell' }, ...chipsOf(chips.text, s.stream, from, to, { maxChips: 400 })),
          ),
        );
      });
      grid.append(block);
    }
    const notes: string[] = [];
    if (chips.cut) notes.push(`The text is long: its first ${fmt(chips.text.length)} characters are tokenized here (the table counts all of it).`);
    if (starts.length > lines) notes.push(`The first ${fmt(lines)} lines of ${fmt(starts.length)} are shown.`);
    return el('div', {}, ...notes.map((n) => el('p', { class: 'message' }, n)), grid);
  }

  function render(result: CompareResult | null, scope: string, message?: string, chips?: SideBySide): void {
    if (!result) {
      out.replaceChildren(el('p', { class: 'message' }, message ?? 'Choose tokenizers and press Compare.'));
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
    out.replaceChildren(
      el('p', {}, `${scope === 'selection' ? 'Selection' : 'Document'}: ${fmt(result.bytes)} bytes, ${fmt(result.chars)} characters, ${fmt(result.words)} words. Relative cost = tokens ÷ tokens under ${result.reference} (${fmt(result.referenceCount)}).`),
      table,
      el('h3', {}, 'Relative cost per line (blue cheaper, orange costlier than the reference; click a line to go there)'),
      strips,
      ...(chips
        ? [el('h3', {}, 'Tokens side by side (each line of the text, one row per tokenizer; the number is its tokens on that line)'), sideBySide(chips)]
        : []),
    );
  }

  return webviewTab({
    receives: ['tokenizers', 'compare'],
    onMessage(m) {
      switch (m.type) {
        case 'tokenizers':
          if (!compareIds.length) compareIds = [...m.compare];
          return tokenizerChecks(controls, m.all, compareIds);
        case 'compare':
          return render(m.result, m.scope, m.message, m.chips);
      }
    },
  });
}
