/**
 * The activity-bar view: the current tokenizer with a quick picker, counts for the document and selection,
 * the chosen models at a glance (tokens, share of the context window, input cost), relative-cost bars for the
 * chosen tokenizers, and buttons for the panel's modes.
 */
import * as vscode from 'vscode';
import { findModel, type ModelEntry } from '../core/models/catalog';
import { countFigures } from '../core/models/countFigures';
import { isWebviewToHost, type HostToWebview, type ModelGlance } from '../protocol';
import { currentModel, pricedModels } from './apiCounts';
import { WEBVIEW_RUN_COMMANDS } from './commandIds';
import type { Ctx } from './context';
import { documentLabel } from './requestLabels';
import { SECTION } from './settings';
import { setTokenizer } from './tokenizerPicker';
import { webviewHtml, webviewOptions } from './webviewHtml';

/** Relative costs are recomputed at most this often while typing. */
const COSTS_DEBOUNCE_MS = 400;
/** Above this size the sidebar compares only the first part of the document (it says so). */
const COSTS_MAX_UTF16 = 400_000;

export class SidebarProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'tokenInspector.sidebar';
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private costs: { key: string; rows: { tokenizer: string; relativeCost: number | null; count: number }[]; models: ModelGlance[]; partial: boolean } = { key: '', rows: [], models: [], partial: false };
  private costsTimer: NodeJS.Timeout | undefined;
  private selectionTokens: number | null = null;
  /** The last text editor that had focus: focusing a webview leaves no active text editor. */
  private editor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: Pick<Ctx, 'analyses' | 'settings' | 'jobs' | 'log' | 'storage'>) {
    this.disposables.push(
      ctx.analyses.onDidAnalyze((doc) => {
        if (doc === this.editor?.document) this.refresh();
      }),
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        if (ed) this.editor = ed;
        this.refresh();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) void this.countSelection(e.textEditor);
      }),
      ctx.settings.onDidChange('sidebar', () => {
        this.costs.key = '';
        this.refresh();
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
    view.webview.options = webviewOptions(this.ctx.storage.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.ctx.storage.extensionUri, 'sidebar', 'Token Inspector');
    view.webview.onDidReceiveMessage((raw: unknown) => {
      if (!isWebviewToHost(raw)) {
        this.ctx.log(`sidebar: ignored an invalid message ${JSON.stringify(raw)?.slice(0, 200)}`);
        return;
      }
      if (raw.type === 'ready') {
        this.ready = true;
        this.refresh();
      } else if (raw.type === 'setTokenizer') {
        if (this.ctx.settings.resolveTokenizer(raw.id)) void setTokenizer(this.ctx.settings, raw.id, undefined);
      } else if (raw.type === 'run') {
        void vscode.commands.executeCommand(WEBVIEW_RUN_COMMANDS[raw.command]);
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
      for (const s of sel) total += (await this.ctx.analyses.count(editor.document, editor.document.getText(s))) ?? 0;
      this.selectionTokens = total;
    }
    this.refresh();
  }

  private refresh(): void {
    if (!this.view || !this.ready) return;
    const editor = this.editor && !this.editor.document.isClosed ? this.editor : undefined;
    const { settings } = this.ctx;
    const ref = settings.tokenizerFor(editor?.document);
    const a = editor ? this.ctx.analyses.current(editor.document) : undefined;
    this.post({ type: 'tokenizers', all: settings.tokenizerChoices(), compare: settings.compareTokenizerIds(), reference: settings.referenceTokenizerId(), current: ref.id });
    this.post({
      type: 'summary',
      tokenizer: { id: ref.id, name: a?.tokenizer.name ?? ref.id },
      documentTokens: a ? a.stream.count : null,
      selectionTokens: this.selectionTokens,
      added: a ? a.stream.addedTokens.length : 0,
      costs: this.costs.rows,
      // The rows are another document's (or version's) until this one's come: the view says it is computing.
      computing: !!editor && (!a || this.costs.key !== this.costsKey(editor.document)),
      models: this.costs.models,
      partial: this.costs.partial,
    });
    if (editor && a) this.scheduleCosts(editor.document);
  }

  /** What the relative costs were computed for: the document's version, the tokenizers compared and the models at a glance. */
  private costsKey(doc: vscode.TextDocument, models = this.glanceModels()): string {
    const { settings } = this.ctx;
    return `${doc.uri.toString()}@${doc.version}:${settings.compareTokenizerIds().join(',')}:${settings.referenceTokenizerId()}:${models.map((m) => `${m.id}=${m.inputPricePerMTok}`).join(',')}`;
  }

  /** The selected model first, then the sidebarModels setting's (unknown ids are left out). */
  private glanceModels(): ModelEntry[] {
    const { settings } = this.ctx;
    const selected = currentModel(settings);
    const catalog = pricedModels(settings);
    const out = [selected];
    for (const id of settings.get('sidebarModels')) {
      const m = findModel(id, catalog);
      if (m && !out.some((o) => o.id === m.id)) out.push(m);
    }
    return out;
  }

  private scheduleCosts(doc: vscode.TextDocument): void {
    const { settings } = this.ctx;
    const models = this.glanceModels();
    const key = this.costsKey(doc, models);
    if (key === this.costs.key) return;
    if (this.costsTimer) clearTimeout(this.costsTimer);
    this.costsTimer = setTimeout(async () => {
      this.costsTimer = undefined;
      const compareIds = settings.compareTokenizerIds();
      // One job counts the document under the compared tokenizers and the models' tokenizers together.
      const ids = [...new Set([...compareIds, ...models.map((m) => m.tokenizer)])];
      const refs = settings.resolveTokenizers(ids);
      const label = `relative costs of ${documentLabel(doc)} (${SECTION}.compareTokenizers, ${SECTION}.sidebarModels)`;
      const text = doc.getText();
      const result = await this.ctx.jobs.request('compare', { text: text.slice(0, COSTS_MAX_UTF16), tokenizers: refs, reference: settings.referenceTokenizer() }, { label }).catch((e: Error) => {
        this.ctx.log(`sidebar: ${label} failed: ${e.message}`);
        return undefined;
      });
      if (!result) {
        // No rows rather than another document's shown as computing forever.
        this.costs = { key, rows: [], models: [], partial: false };
        this.refresh();
        return;
      }
      const counts = new Map(result.tokenizers.map((r) => [r.tokenizer, r.count]));
      this.costs = {
        key,
        rows: result.tokenizers.filter((r) => compareIds.includes(r.tokenizer)).map((r) => ({ tokenizer: r.tokenizer, relativeCost: r.relativeCost, count: r.count })),
        models: models.flatMap((m) => {
          const tokens = counts.get(m.tokenizer);
          if (tokens === undefined) return [];
          const f = countFigures(tokens, m);
          return [{ id: m.id, name: m.name, tokenizer: m.tokenizer, tokens, contextWindow: m.contextWindow, fraction: f.fraction ?? 0, inputCost: f.inputCost }];
        }),
        partial: text.length > COSTS_MAX_UTF16,
      };
      this.refresh();
    }, COSTS_DEBOUNCE_MS);
  }
}
