/**
 * The activity-bar view: the current tokenizer with a quick picker, counts for the document and selection,
 * relative-cost bars for the chosen tokenizers, and buttons for the panel's modes.
 */
import * as vscode from 'vscode';
import { isWebviewToHost, type HostToWebview, type TokenizerRef } from '../protocol';
import type { AnalysisService } from './analysisService';
import { resolveTokenizerId, tokenizerChoices } from './panel';
import { compareTokenizerIds, referenceTokenizerId, tokenizerFor } from './settings';
import { setTokenizer } from './tokenizerPicker';
import { webviewHtml, webviewOptions } from './webviewHtml';
import type { WorkerClient } from './workerClient';

/** Relative costs are recomputed at most this often while typing. */
const COSTS_DEBOUNCE_MS = 400;
/** Above this size the sidebar compares only the first part of the document (it says so). */
const COSTS_MAX_UTF16 = 400_000;

export class SidebarProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'tokenInspector.sidebar';
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private costs: { key: string; rows: { tokenizer: string; relativeCost: number | null; count: number }[] } = { key: '', rows: [] };
  private costsTimer: NodeJS.Timeout | undefined;
  private selectionTokens: number | null = null;
  /** The last text editor that had focus: focusing a webview leaves no active text editor. */
  private editor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly analyses: AnalysisService,
    private readonly worker: WorkerClient,
    private readonly log: (line: string) => void,
  ) {
    this.disposables.push(
      analyses.onDidAnalyze((doc) => {
        if (doc === this.editor?.document) this.refresh();
      }),
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        if (ed) this.editor = ed;
        this.refresh();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) void this.countSelection(e.textEditor);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('tokenInspector')) {
          this.costs.key = '';
          this.refresh();
        }
      }),
    );
  }

  dispose(): void {
    if (this.costsTimer) clearTimeout(this.costsTimer);
    for (const d of this.disposables) d.dispose();
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    view.webview.options = webviewOptions(this.context.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.context.extensionUri, 'sidebar', 'Token Inspector');
    view.webview.onDidReceiveMessage((raw: unknown) => {
      if (!isWebviewToHost(raw)) {
        this.log(`sidebar: ignored an invalid message ${JSON.stringify(raw)?.slice(0, 200)}`);
        return;
      }
      if (raw.type === 'ready') {
        this.ready = true;
        this.refresh();
      } else if (raw.type === 'setTokenizer') {
        if (resolveTokenizerId(raw.id)) void setTokenizer(raw.id, undefined);
      } else if (raw.type === 'run') {
        const command = { showPanel: 'tokenInspector.showPanel', compare: 'tokenInspector.compareTokenizers', premiums: 'tokenInspector.showLanguagePremiums', selectTokenizer: 'tokenInspector.selectTokenizer' }[raw.command];
        void vscode.commands.executeCommand(command);
      }
    });
    view.onDidDispose(() => {
      this.view = undefined;
      this.ready = false;
    });
  }

  private post(msg: HostToWebview): void {
    if (this.view && this.ready) void this.view.webview.postMessage(msg);
  }

  private async countSelection(editor: vscode.TextEditor): Promise<void> {
    const sel = editor.selections.filter((s) => !s.isEmpty);
    if (!sel.length) this.selectionTokens = null;
    else {
      let total = 0;
      for (const s of sel) total += (await this.analyses.count(editor.document, editor.document.getText(s))) ?? 0;
      this.selectionTokens = total;
    }
    this.refresh();
  }

  private refresh(): void {
    if (!this.view || !this.ready) return;
    const editor = this.editor && !this.editor.document.isClosed ? this.editor : undefined;
    const ref = tokenizerFor(editor?.document);
    const a = editor ? this.analyses.current(editor.document) : undefined;
    this.post({ type: 'tokenizers', all: tokenizerChoices(), compare: compareTokenizerIds(), reference: referenceTokenizerId(), current: ref.id });
    this.post({
      type: 'summary',
      tokenizer: { id: ref.id, name: a?.tokenizer.name ?? ref.id },
      documentTokens: a ? a.stream.count : null,
      selectionTokens: this.selectionTokens,
      added: a ? a.stream.addedTokens.length : 0,
      costs: this.costs.rows,
    });
    if (editor && a) this.scheduleCosts(editor.document);
  }

  private scheduleCosts(doc: vscode.TextDocument): void {
    const key = `${doc.uri.toString()}@${doc.version}:${compareTokenizerIds().join(',')}:${referenceTokenizerId()}`;
    if (key === this.costs.key) return;
    if (this.costsTimer) clearTimeout(this.costsTimer);
    this.costsTimer = setTimeout(async () => {
      this.costsTimer = undefined;
      const refs = compareTokenizerIds().map(resolveTokenizerId).filter((r): r is TokenizerRef => r !== undefined);
      const reference = resolveTokenizerId(referenceTokenizerId()) ?? { id: 'o200k_base' };
      const reply = await this.worker.request({ kind: 'compare', text: doc.getText().slice(0, COSTS_MAX_UTF16), tokenizers: refs, reference }).catch(() => undefined);
      if (reply?.kind !== 'compared') return;
      this.costs = { key, rows: reply.result.tokenizers.map((r) => ({ tokenizer: r.tokenizer, relativeCost: r.relativeCost, count: r.count })) };
      this.refresh();
    }, COSTS_DEBOUNCE_MS);
  }
}
