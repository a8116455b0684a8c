/**
 * The panel's Language premiums tab: Petrov et al.'s token premium per language and tokenizer on the UDHR
 * translations, with the byte premium beside it, sortable, with a chart; the languages of the document's
 * script are highlighted. The host side is src/extension/panel/premiums.ts.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import type { PremiumRow } from '../../src/core/premiums/premiums';
import { costColor, el, fixed, fmt, send } from '../common';
import { checkedTokenizers, tokenizerChecks } from './checks';
import { webviewTab } from './tab';

/** The translations the premiums are counted on (for the progress message). */
const UDHR_TRANSLATIONS = 532;

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

export function createPremiumsView(container: HTMLElement) {
  const state = {
    ids: ['gpt2', 'o200k_base', 'llama3', 'gemma3'],
    rows: null as readonly PremiumRow[] | null,
    sort: { key: 'premium', desc: true },
    documentScript: null as string | null,
  };
  const controls = el('div', { class: 'toolbar wrap', id: 'premium-controls' });
  const run = el('vscode-button', { id: 'premiums-run' }, 'Compute premiums');
  const out = el('div', { id: 'premiums-out', 'aria-live': 'polite' });
  container.append(
    el('p', { class: 'explain' }, 'Token premium (Petrov et al. 2023): tokens for a language ÷ tokens for English on the same UDHR articles. The byte premium (bytes ÷ English bytes) separates the script’s cost from the tokenizer’s.'),
    controls,
    el('div', { class: 'toolbar' }, run),
    out,
  );
  run.addEventListener('click', () => {
    state.ids = checkedTokenizers(controls);
    send({ type: 'premiums', tokenizers: state.ids });
  });

  function render(): void {
    const rows = state.rows;
    if (!rows) return;
    const ids = [...new Set(rows.map((r) => r.tokenizer))];
    const langs = languageRows(rows);
    const { key, desc } = state.sort;
    const value = (r: LanguageRow): number | string => (key === 'name' ? r.name : key === 'script' ? r.script : key === 'bytePremium' ? r.bytePremium : (r.premium[key === 'premium' ? ids[0] : key] ?? 0));
    langs.sort((a, b) => {
      const x = value(a);
      const y = value(b);
      const c = typeof x === 'string' ? x.localeCompare(String(y)) : x - (y as number);
      return desc ? -c : c;
    });
    const head = (label: string, k: string): HTMLElement => el('th', { scope: 'col', tabindex: '0', 'aria-sort': state.sort.key === k ? (desc ? 'descending' : 'ascending') : 'none', 'data-sort': k }, label);
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
        state.sort = { key: k, desc: state.sort.key === k ? !state.sort.desc : true };
        render();
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
    out.replaceChildren(
      el('p', {}, state.documentScript ? `Your document is mostly ${state.documentScript}: its languages are highlighted.` : ''),
      el('h3', {}, `Premium under ${ids[0]}, every language (sorted)`),
      chart,
      table,
    );
  }

  return webviewTab({
    receives: ['tokenizers', 'premiums'],
    onMessage(m) {
      switch (m.type) {
        case 'tokenizers':
          return tokenizerChecks(controls, m.all, state.ids);
        case 'premiums':
          state.documentScript = m.documentScript;
          if (m.rows) {
            state.rows = m.rows;
            render();
          } else if (m.message) out.replaceChildren(el('p', { class: 'message' }, m.message));
          else out.replaceChildren(el('vscode-progress-bar', { value: String(Math.round((m.progress ?? 0) * 100)), max: '100' }), el('p', {}, `Counting tokens in ${fmt(UDHR_TRANSLATIONS)} translations…`));
          return;
      }
    },
  });
}
