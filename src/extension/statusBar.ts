/**
 * The status bar item: the document's token count (and the selection's), the tokens the model adds (BOS),
 * and the tokenizer; a click opens the tokenizer picker. Files too large for VS Code to hand to extensions
 * get a pointer to the CLI instead.
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

  constructor(ctx: Pick<Ctx, 'analyses' | 'settings'>) {
    this.analyses = ctx.analyses;
    this.item.name = 'Token Inspector';
    this.item.command = 'tokenInspector.selectTokenizer';
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.window.tabGroups.onDidChangeTabs(() => this.update()),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) this.scheduleSelection();
      }),
      ctx.analyses.onDidAnalyze((doc) => {
        if (doc === vscode.window.activeTextEditor?.document) {
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
    const editor = vscode.window.activeTextEditor;
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
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      const large = this.largeFileInTab();
      if (large) {
        this.item.text = '$(warning) Too large for the editor: use the CLI';
        this.item.tooltip = `VS Code does not hand files over 50 MB to extensions. Count it with:\n  npx token-inspector tokenize "${large}"`;
        this.item.command = { title: 'Count with the CLI', command: 'tokenInspector.showLargeFileHelp', arguments: [large] };
        this.item.show();
      } else this.item.hide();
      return;
    }
    this.item.command = 'tokenInspector.selectTokenizer';
    const doc = editor.document;
    const a = this.analyses.current(doc);
    const error = this.analyses.error(doc);
    if (error) {
      this.item.text = '$(error) Tokenizer failed';
      this.item.tooltip = error;
      this.item.show();
      return;
    }
    if (!a) {
      this.analyses.request(doc);
      this.item.text = '$(loading~spin) Tokens…';
      this.item.tooltip = 'Token Inspector is tokenizing this document';
      this.item.show();
      return;
    }
    const s = a.stream;
    const bos = s.addedTokens.filter((t) => t.position === 'start');
    const sel = this.selection.key === this.selectionKey(editor) ? this.selection.count : undefined;
    this.item.text = `$(symbol-numeric) ${fmt(s.count)} tokens${bos.length ? ` (+${bos.length} BOS)` : ''}${sel !== undefined ? ` · ${fmt(sel)} selected` : ''} · ${a.tokenizer.id}`;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${a.tokenizer.name}** (${a.tokenizer.algorithm}, ${fmt(a.tokenizer.vocabSize)} ids)\n\n`);
    md.appendMarkdown(`Document: **${fmt(s.count)}** tokens, ${fmt(s.byteLength)} bytes, ${(s.byteLength / Math.max(1, s.count)).toFixed(2)} bytes/token\n\n`);
    if (s.addedTokens.length) {
      md.appendMarkdown(`The model adds ${s.addedTokens.map((t) => `\`${t.text}\` (${t.position})`).join(', ')}: ${fmt(s.count + s.addedTokens.length)} tokens as the model sees them.\n\n`);
    }
    if (sel !== undefined) md.appendMarkdown(`Selection: **${fmt(sel)}** tokens (counted on its own)\n\n`);
    md.appendMarkdown(`Tokenized in ${a.elapsedMs.toFixed(1)} ms · click to choose another tokenizer`);
    this.item.tooltip = md;
    this.item.show();
  }
}
