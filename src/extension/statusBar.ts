/**
 * The status bar item: the document's token count (and the selection's), the tokens the model adds (BOS),
 * and the tokenizer; a click opens the tokenizer picker. Files too large for VS Code to hand to extensions
 * get a pointer to the CLI instead. It follows the last active editor, so it stays while the panel or the
 * sidebar has the focus; while a new version is tokenized it keeps the last count (no flicker at each
 * keystroke); a failed tokenizer's item opens the setting it came from. Screen readers get plain sentences.
 */
import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import type { AnalysisService } from './analysisService';
import type { Ctx } from './context';

/** VS Code does not give extensions documents above this size. */
const EXTENSION_FILE_LIMIT_BYTES = 50 * 1024 * 1024;

const fmt = (n: number): string => n.toLocaleString('en-US');

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tokenInspector.status', vscode.StatusBarAlignment.Right, 100);
  private readonly disposables: vscode.Disposable[] = [];
  private selection: { key: string; count: number | undefined } = { key: '', count: undefined };
  private selectionTimer: NodeJS.Timeout | undefined;

  private readonly analyses: AnalysisService;
  private readonly settings: Ctx['settings'];
  private readonly editors: Ctx['editors'];

  constructor(ctx: Pick<Ctx, 'analyses' | 'settings' | 'editors'>) {
    this.analyses = ctx.analyses;
    this.settings = ctx.settings;
    this.editors = ctx.editors;
    this.item.name = 'Token Inspector';
    this.item.command = 'tokenInspector.selectTokenizer';
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.update()),
      vscode.window.tabGroups.onDidChangeTabs(() => this.update()),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === this.editors.editor) this.scheduleSelection();
      }),
      ctx.analyses.onDidAnalyze((doc) => {
        if (doc === this.editors.editor?.document) {
          this.update();
          this.scheduleSelection();
        }
      }),
      ctx.settings.onDidChange('statusBar', () => this.update()),
    );
    this.update();
  }

  dispose(): void {
    if (this.selectionTimer) clearTimeout(this.selectionTimer);
    for (const d of this.disposables) d.dispose();
  }

  private selectionKey(editor: vscode.TextEditor): string {
    return `${editor.document.uri.toString()}@${editor.document.version}:${editor.selections.map((s) => `${editor.document.offsetAt(s.start)}-${editor.document.offsetAt(s.end)}`).join(',')}`;
  }

  private scheduleSelection(): void {
    if (this.selectionTimer) clearTimeout(this.selectionTimer);
    this.selectionTimer = setTimeout(() => void this.countSelection(), 60);
  }

  private async countSelection(): Promise<void> {
    const editor = this.editors.editor;
    if (!editor) return;
    const key = this.selectionKey(editor);
    if (editor.selections.every((s) => s.isEmpty)) {
      this.selection = { key, count: undefined };
      return this.update();
    }
    if (this.selection.key === key) return;
    let total = 0;
    for (const s of editor.selections) {
      if (s.isEmpty) continue;
      const n = await this.analyses.count(editor.document, editor.document.getText(s));
      if (n === undefined) return;
      total += n;
    }
    if (this.selectionKey(editor) !== key) return; // the selection moved on meanwhile
    this.selection = { key, count: total };
    this.update();
  }

  /** When the active tab is a file VS Code kept from extensions because of its size, say so. */
  private largeFileInTab(): string | undefined {
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    if (!(tab?.input instanceof vscode.TabInputText) || tab.input.uri.scheme !== 'file') return undefined;
    try {
      const size = statSync(tab.input.uri.fsPath).size;
      return size > EXTENSION_FILE_LIMIT_BYTES ? tab.input.uri.fsPath : undefined;
    } catch {
      return undefined;
    }
  }

  update(): void {
    const editor = this.editors.editor;
    if (!editor) {
      const large = this.largeFileInTab();
      if (large) {
        this.item.text = '$(warning) Too large for the editor: use the CLI';
        this.item.tooltip = `VS Code does not hand files over 50 MB to extensions. Count it with:\n  npx token-inspector tokenize "${large}"`;
        this.item.command = { title: 'Count with the CLI', command: 'tokenInspector.showLargeFileHelp', arguments: [large] };
        this.item.accessibilityInformation = { label: 'Token Inspector: this file is too large for VS Code to hand to extensions; count it with the command-line tool' };
        this.item.show();
      } else this.item.hide();
      return;
    }
    this.item.command = 'tokenInspector.selectTokenizer';
    const doc = editor.document;
    const current = this.analyses.current(doc);
    const error = this.analyses.error(doc);
    if (error) {
      const setting = this.settings.tokenizerSettingFor(doc);
      this.item.text = '$(error) Tokenizer failed';
      this.item.tooltip = `${error}\n\nClick to open ${setting}; fixing it tokenizes again.`;
      this.item.command = { title: 'Open Setting', command: 'workbench.action.openSettings', arguments: [setting] };
      this.item.accessibilityInformation = { label: `Token Inspector: the tokenizer failed. ${error}. Activate to open the setting ${setting}.` };
      this.item.show();
      return;
    }
    // While a newer version is tokenized the last count stays (marked in the tooltip only), so typing does not flicker.
    const a = current ?? this.analyses.latest(doc);
    if (!current) this.analyses.request(doc);
    if (!a) {
      this.item.text = '$(loading~spin) Tokens…';
      this.item.tooltip = 'Token Inspector is tokenizing this document';
      this.item.accessibilityInformation = { label: 'Token Inspector is tokenizing this document' };
      this.item.show();
      return;
    }
    const s = a.stream;
    const pinned = this.settings.isPinned(doc);
    // A rendered chat prompt already holds the BOS its template writes: the tokenizer adds none on top.
    const bos = pinned ? [] : s.addedTokens.filter((t) => t.position === 'start');
    const sel = current && this.selection.key === this.selectionKey(editor) ? this.selection.count : undefined;
    this.item.text = `$(symbol-numeric) ${fmt(s.count)} tokens${bos.length ? ` (+${bos.length} BOS)` : ''}${sel !== undefined ? ` · ${fmt(sel)} selected` : ''} · ${a.tokenizer.id}`;
    this.item.accessibilityInformation = {
      label: `${fmt(s.count)} tokens${bos.length ? `, plus ${bos.length} beginning-of-sequence token${bos.length > 1 ? 's' : ''} the model adds` : ''}${sel !== undefined ? `, ${fmt(sel)} in the selection` : ''}, tokenizer ${a.tokenizer.name}${current ? '' : ', updating'}. Activate to choose another tokenizer.`,
    };
    const md = new vscode.MarkdownString();
    if (!current) md.appendMarkdown('*Updating: the count of the previous edit is shown until this one is tokenized.*\n\n');
    if (pinned) md.appendMarkdown('A chat prompt as the model receives it: the template\'s special tokens are tokens, and its BOS is in the text.\n\n');
    md.appendMarkdown(`**${a.tokenizer.name}** (${a.tokenizer.algorithm}, ${fmt(a.tokenizer.vocabSize)} ids)\n\n`);
    md.appendMarkdown(`Document: **${fmt(s.count)}** tokens, ${fmt(s.byteLength)} bytes, ${(s.byteLength / Math.max(1, s.count)).toFixed(2)} bytes/token\n\n`);
    if (s.addedTokens.length && !pinned) {
      md.appendMarkdown(`The model adds ${s.addedTokens.map((t) => `\`${t.text}\` (${t.position})`).join(', ')}: ${fmt(s.count + s.addedTokens.length)} tokens as the model sees them.\n\n`);
    }
    if (sel !== undefined) md.appendMarkdown(`Selection: **${fmt(sel)}** tokens (counted on its own)\n\n`);
    md.appendMarkdown(`Tokenized in ${a.elapsedMs.toFixed(1)} ms · click to choose another tokenizer`);
    this.item.tooltip = md;
    this.item.show();
  }
}
