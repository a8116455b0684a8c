/** The tokenizer checkboxes of the Compare and Language premiums tabs. */
import type { TokenizerChoice } from '../../src/protocol';
import { el } from '../common';

/** One checkbox per tokenizer, the `selected` ones checked. */
export function tokenizerChecks(container: HTMLElement, all: readonly TokenizerChoice[], selected: readonly string[]): void {
  container.replaceChildren(
    ...all.map((t) => {
      const c = el('vscode-checkbox', { label: t.name, 'data-id': t.id });
      if (selected.includes(t.id)) c.setAttribute('checked', '');
      return c;
    }),
  );
}

/** The ids of the checked tokenizers. */
export function checkedTokenizers(container: HTMLElement): string[] {
  return [...container.querySelectorAll('vscode-checkbox')].filter((c) => (c as unknown as { checked: boolean }).checked).map((c) => c.getAttribute('data-id') as string);
}
