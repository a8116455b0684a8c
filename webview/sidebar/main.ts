/**
 * The sidebar view: the current tokenizer (with a picker), counts, the chosen models at a glance (tokens,
 * context share, input cost), relative-cost bars for the chosen tokenizers, and buttons for the panel's modes.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { HostToWebview } from '../../src/protocol';
import { costColor, el, fixed, fmt, onHostMessage, send, tokensWord, usd } from '../common';

const app = document.getElementById('app') as HTMLElement;
const select = el('vscode-single-select', { id: 'tokenizer-select', 'aria-label': 'Tokenizer' });
const counts = el('div', { class: 'counts', id: 'counts', 'aria-live': 'polite' });
const models = el('div', { class: 'models', id: 'models' });
const costs = el('div', { class: 'costs', id: 'costs' });
const buttons = el(
  'div',
  { class: 'buttons' },
  el('vscode-button', { 'data-run': 'showPanel' }, 'Show Panel'),
  el('vscode-button', { 'data-run': 'compare', secondary: '' }, 'Compare Tokenizers'),
  el('vscode-button', { 'data-run': 'premiums', secondary: '' }, 'Language Premiums'),
);
app.append(el('label', { for: 'tokenizer-select', class: 'label' }, 'Tokenizer'), select, counts, el('h3', {}, 'Models'), models, el('h3', {}, 'Relative cost'), costs, buttons);
let filling = false;
select.addEventListener('change', () => {
  if (filling) return;
  const v = (select as unknown as { value: string }).value;
  if (v) send({ type: 'setTokenizer', id: v });
});
buttons.addEventListener('click', (e) => {
  const b = (e.target as HTMLElement).closest('[data-run]');
  const cmd = b?.getAttribute('data-run');
  if (cmd === 'showPanel' || cmd === 'compare' || cmd === 'premiums') send({ type: 'run', command: cmd });
});

let reference = 'o200k_base';
onHostMessage((m: HostToWebview) => {
  if (m.type === 'tokenizers') {
    reference = m.reference;
    filling = true;
    select.replaceChildren(...m.all.map((t) => el('vscode-option', t.id === m.current ? { value: t.id, selected: '' } : { value: t.id }, t.name)));
    (select as unknown as { value: string }).value = m.current;
    filling = false;
  } else if (m.type === 'summary') {
    counts.replaceChildren(
      el('div', { class: 'big', id: 'document-count' }, m.documentTokens === null ? '–' : fmt(m.documentTokens)),
      el('div', {}, `tokens in the document${m.added ? ` (+${m.added} added by the model)` : ''}`),
      el('div', { id: 'selection-count' }, m.selectionTokens === null ? 'No selection' : `${tokensWord(m.selectionTokens)} selected`),
    );
    const table = el('table', { class: 'data glance', id: 'models-table' });
    table.append(el('thead', {}, el('tr', {}, ...['Model', 'Tokens', 'Context', 'Input'].map((h) => el('th', { scope: 'col' }, h)))));
    const body = el('tbody', {});
    for (const g of m.models) {
      const pct = g.fraction < 0.001 && g.tokens > 0 ? '<0.1%' : `${(g.fraction * 100).toFixed(1)}%`;
      body.append(
        el(
          'tr',
          { 'data-model': g.id, title: `${g.name}: ${fmt(g.tokens)} tokens under ${g.tokenizer}, ${(g.fraction * 100).toFixed(2)}% of ${fmt(g.contextWindow)}` },
          el('th', { scope: 'row' }, g.name),
          el('td', { class: 'num tokens' }, fmt(g.tokens)),
          el('td', { class: `num share${g.fraction > 1 ? ' over' : ''}` }, pct),
          el('td', { class: 'num cost' }, g.inputCost === null ? 'no list price' : usd(g.inputCost)),
        ),
      );
    }
    table.append(body);
    models.replaceChildren(
      ...(m.models.length ? [table] : [el('div', { class: 'hint' }, m.documentTokens === null ? 'Open a file to see its cost per model.' : 'Counting…')]),
      ...(m.partial ? [el('div', { class: 'hint' }, 'The document is long: models and costs count its first 400,000 characters.')] : []),
    );
    const max = Math.max(1, ...m.costs.map((c) => c.relativeCost ?? 0));
    // Until this document's costs come, the rows are the previous document's: say so, and dim them.
    costs.setAttribute('aria-busy', m.computing ? 'true' : 'false');
    costs.style.opacity = m.computing ? '0.5' : '';
    costs.replaceChildren(
      el('div', { class: 'hint', id: 'costs-state' }, m.computing ? `Computing for this document… (tokens ÷ tokens under ${reference})` : `tokens ÷ tokens under ${reference}`),
      ...m.costs.map((c) => {
        const bar = el('span', { class: 'bar' });
        bar.style.width = `${((c.relativeCost ?? 0) / max) * 100}%`;
        bar.style.background = costColor(c.relativeCost);
        return el('div', { class: 'cost-row', 'data-tokenizer': c.tokenizer, title: `${fmt(c.count)} tokens` }, el('span', { class: 'name' }, c.tokenizer), el('span', { class: 'barwrap' }, bar), el('span', { class: 'num' }, `${fixed(c.relativeCost)}×`));
      }),
    );
  }
});
send({ type: 'ready' });
