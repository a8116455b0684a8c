/**
 * The panel's Compare tab, host side: the followed document (or its selection) under the chosen tokenizers
 * side by side, computed in the workspace jobs worker, relative to the reference tokenizer. The webview side is
 * webview/panel/compare.ts.
 */
import * as vscode from 'vscode';
import { MAX_CHIP_TEXT_UTF16 } from '../../protocol/workspaceWorker';
import type { Ctx } from '../context';
import { documentLabel } from '../requestLabels';
import { SECTION } from '../settings';
import { panelTab, type FromWebview, type PanelHost, type PanelTab } from './tab';

/** The text the side-by-side chips show: all of it, or its first MAX_CHIP_TEXT_UTF16 units cut at a line end. */
export function chipText(text: string): string {
  if (text.length <= MAX_CHIP_TEXT_UTF16) return text;
  const cut = text.lastIndexOf('\n', MAX_CHIP_TEXT_UTF16 - 1);
  if (cut > 0) return text.slice(0, cut + 1);
  // One long line: never between the halves of a surrogate pair.
  const high = text.charCodeAt(MAX_CHIP_TEXT_UTF16 - 1);
  return text.slice(0, high >= 0xd800 && high <= 0xdbff ? MAX_CHIP_TEXT_UTF16 - 1 : MAX_CHIP_TEXT_UTF16);
}

class CompareTab implements PanelTab<'compare'> {
  constructor(
    private readonly ctx: Pick<Ctx, 'settings' | 'jobs' | 'log'>,
    private readonly host: PanelHost<'compare'>,
  ) {}

  async handle({ tokenizers: ids, scope }: FromWebview<'compare'>): Promise<void> {
    const { settings } = this.ctx;
    const ed = this.host.editor() ?? vscode.window.activeTextEditor;
    if (!ed) return this.host.post({ type: 'compare', result: null, scope, message: 'Open a file to compare tokenizers on it.' });
    const refs = settings.resolveTokenizers(ids);
    const sel = ed.selections.filter((s) => !s.isEmpty);
    const text = scope === 'selection' && sel.length ? sel.map((s) => ed.document.getText(s)).join('\n') : ed.document.getText();
    try {
      const label = `comparing tokenizers on ${documentLabel(ed.document)} (${SECTION}.compareTokenizers)`;
      const result = await this.ctx.jobs.request('compare', { text, tokenizers: refs, reference: settings.referenceTokenizer() }, { label });
      const shown = chipText(text);
      const { streams } = await this.ctx.jobs.request('tokenStreams', { text: shown, tokenizers: refs, allowSpecial: false }, { label: `tokenizing ${documentLabel(ed.document)} side by side (${SECTION}.compareTokenizers)` });
      this.host.post({ type: 'compare', result, scope: scope === 'selection' && sel.length ? 'selection' : 'document', chips: { text: shown, cut: shown.length < text.length, streams } });
      this.ctx.log(`compare ${result.tokenizers.map((r) => `${r.tokenizer}=${r.relativeCost?.toFixed(4)}`).join(' ')}`);
    } catch (e) {
      this.host.post({ type: 'compare', result: null, scope, message: (e as Error).message });
    }
  }
}

export const compareTab = panelTab({
  handles: ['compare'],
  sends: ['compare'],
  create: (ctx, host) => new CompareTab(ctx, host),
});
