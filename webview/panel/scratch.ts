/**
 * The panel's Scratch tab: paste or type text to see its tokens, or paste token ids ("[9906, 11, 1917]",
 * "9906 11 1917") to see what they decode to, under a tokenizer chosen here. The host side is
 * src/extension/panel/scratch.ts.
 */
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { utf8Length } from '../../src/core/text/utf8';
import { MAX_SCRATCH_UTF16, type ScratchResult } from '../../src/protocol';
import { el, fmt, send, tokensWord, visible } from '../common';
import { chipsOf, firstTokenOfLines, lineStarts } from './chips';
import { webviewTab } from './tab';

/** Tokenize this long after the last keystroke. */
const INPUT_DEBOUNCE_MS = 150;
/** At most this many lines of chips. */
const MAX_LINES = 2000;

type ReadAs = 'auto' | 'text' | 'ids';

export function createScratchView(container: HTMLElement) {
  let tokenizer = '';
  let timer: number | undefined;
  const tokenizerSelect = el('vscode-single-select', { id: 'scratch-tokenizer', 'aria-label': 'Tokenizer for the scratch input' });
  const readAs = el(
    'vscode-single-select',
    { id: 'scratch-as', 'aria-label': 'Read the input as' },
    el('vscode-option', { value: 'auto', selected: '' }, 'Text, or ids if it is a list of numbers'),
    el('vscode-option', { value: 'text' }, 'Text'),
    el('vscode-option', { value: 'ids' }, 'Token ids'),
  );
  const input = el('textarea', {
    id: 'scratch-input',
    class: 'scratch-input',
    rows: '6',
    maxlength: String(MAX_SCRATCH_UTF16),
    spellcheck: 'false',
    placeholder: 'Paste text to see its tokens, or token ids such as [9906, 11, 1917] to decode them',
    'aria-label': 'Scratch input: text to tokenize or token ids to decode',
  });
  const info = el('div', { class: 'scratch-info', id: 'scratch-info', 'aria-live': 'polite' });
  const out = el('div', { class: 'scratch-out', id: 'scratch-out' });
  container.append(el('div', { class: 'toolbar wrap' }, el('span', {}, 'Tokenizer'), tokenizerSelect, el('span', {}, 'Read as'), readAs), input, info, out);

  const value = (e: HTMLElement): string => (e as unknown as { value: string }).value;
  function run(): void {
    timer = undefined;
    if (!tokenizer) return;
    if (!input.value) {
      info.textContent = '';
      out.replaceChildren();
      return;
    }
    send({ type: 'scratch', input: input.value, tokenizer, as: (value(readAs) || 'auto') as ReadAs });
  }
  function schedule(): void {
    if (timer !== undefined) window.clearTimeout(timer);
    timer = window.setTimeout(run, INPUT_DEBOUNCE_MS);
  }
  input.addEventListener('input', schedule);
  readAs.addEventListener('change', schedule);
  tokenizerSelect.addEventListener('change', () => {
    tokenizer = value(tokenizerSelect) || tokenizer;
    schedule();
  });

  function render(result: ScratchResult | null, message?: string): void {
    if (!result) {
      info.textContent = message ?? '';
      out.replaceChildren();
      return;
    }
    if (result.kind === 'ids') {
      const d = result.decoded;
      info.replaceChildren(
        `${tokensWord(d.tokens.length)} decoded with ${result.tokenizer.name}`,
        ...(d.unknownIds.length ? [el('span', { class: 'warning' }, ` · not in its vocabulary: ${d.unknownIds.slice(0, 20).join(', ')}${d.unknownIds.length > 20 ? ', …' : ''}`)] : []),
      );
      info.setAttribute('data-count', String(d.tokens.length));
      const chips = d.tokens.map((t, i) =>
        el(
          'span',
          { class: `chip ${i % 2 ? 'odd' : 'even'}${t.unknown ? ' unknown' : ''}`, 'data-i': String(i), 'data-id': String(t.id), title: t.unknown ? `${t.id} is not an id of ${result.tokenizer.name}` : `id ${t.id} · ${t.byteLength} bytes` },
          t.unknown ? '?' : visible(t.text),
          el('sub', {}, String(t.id)),
        ),
      );
      out.replaceChildren(el('h3', {}, 'Decoded text'), el('pre', { class: 'decoded', id: 'scratch-decoded' }, d.text), el('h3', {}, 'Tokens'), el('div', { class: 'chips' }, ...chips));
      return;
    }
    const { text, stream } = result;
    info.replaceChildren(
      `${tokensWord(stream.count)} under ${result.tokenizer.name} · ${fmt(text.length)} characters (UTF-16) · ${fmt(utf8Length(text))} bytes${stream.count ? ` · ${(utf8Length(text) / stream.count).toFixed(2)} bytes per token` : ''}`,
    );
    info.setAttribute('data-count', String(stream.count));
    const starts = lineStarts(text);
    const first = firstTokenOfLines(stream, starts);
    const rows: HTMLElement[] = [];
    for (let l = 0; l < Math.min(starts.length, MAX_LINES); l++) {
      const end = l + 1 < starts.length ? first[l + 1] : stream.count;
      rows.push(el('div', { class: 'chip-line' }, el('span', { class: 'ln', 'aria-hidden': 'true' }, String(l + 1)), ...chipsOf(text, stream, first[l], end, { showIds: true })));
    }
    if (starts.length > MAX_LINES) rows.push(el('p', { class: 'message' }, `The first ${fmt(MAX_LINES)} lines of ${fmt(starts.length)} are shown.`));
    out.replaceChildren(...rows);
  }

  return webviewTab({
    receives: ['tokenizers', 'scratch'],
    onMessage(m) {
      if (m.type === 'scratch') return render(m.result, m.message);
      // The editor's tokenizer until the user picks one here.
      const keep = tokenizer && m.all.some((t) => t.id === tokenizer) ? tokenizer : m.current;
      tokenizerSelect.replaceChildren(...m.all.map((t) => el('vscode-option', t.id === keep ? { value: t.id, selected: '' } : { value: t.id }, t.name)));
      (tokenizerSelect as unknown as { value: string }).value = keep;
      tokenizer = keep;
    },
  });
}
