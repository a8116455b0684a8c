/**
 * The panel beside the code: the document as token chips that follow the editor, Compare (tokenizers side by
 * side, relative cost per line) and Language Premiums. Heavy work runs in the worker; every message from the
 * webview is validated before use.
 */
import * as vscode from 'vscode';
import { tokenUtf16Range } from '../core/analysis/stream';
import { detectScript } from '../core/premiums/script';
import { BUNDLED_TOKENIZERS, findBundled } from '../core/tokenizers/catalog';
import { isWebviewToHost, type HostToWebview, type PanelMode, type TokenizerRef, type WebviewToHost } from '../protocol';
import type { AnalysisService } from './analysisService';
import type { FeatureService } from './features';
import type { FeaturesView } from './featureView';
import type { ProbabilityService } from './probabilities';
import { compareTokenizerIds, customTokenizers, referenceTokenizerId, tokenizerFor } from './settings';
import { setTokenizer } from './tokenizerPicker';
import { webviewHtml, webviewOptions } from './webviewHtml';
import type { WorkerClient } from './workerClient';

/** Resolves a tokenizer id from a webview (bundled or one of the user's) to a reference, or undefined. */
export function resolveTokenizerId(id: string): TokenizerRef | undefined {
  const b = findBundled(id);
  if (b) return { id: b.id };
  const c = customTokenizers().find((t) => t.name === id);
  return c ? { id: c.name, path: c.path } : undefined;
}

export function tokenizerChoices(): { id: string; name: string }[] {
  return [...BUNDLED_TOKENIZERS.map((e) => ({ id: e.id, name: e.name })), ...customTokenizers().map((c) => ({ id: c.name, name: c.name }))];
}

/** Per-byte surprisal summed per character, on the character's first UTF-16 unit (for the panel's shading). */
function charSurprisal(text: string, perByte: Float64Array): Float32Array {
  const out = new Float32Array(text.length);
  let b = 0;
  for (let u = 0; u < text.length && b < perByte.length; ) {
    const cp = text.codePointAt(u) as number;
    const units = cp > 0xffff ? 2 : 1;
    const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    let sum = 0;
    for (let k = 0; k < bytes && b < perByte.length; k++) sum += perByte[b++];
    out[u] = sum;
    u += units;
  }
  return out;
}

/** After the host scrolls one side, ignore the echo from the other side for this long. */
const ECHO_MS = 400;
/** Re-send the document to the panel at most this often while typing. */
const DOCUMENT_DEBOUNCE_MS = 120;

export class TokenPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private editor: vscode.TextEditor | undefined;
  private mode: PanelMode = 'tokens';
  private ready = false;
  private lastHostScroll = 0;
  private lastPanelScroll = 0;
  private docTimer: NodeJS.Timeout | undefined;
  private sentVersion = '';
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly analyses: AnalysisService,
    private readonly worker: WorkerClient,
    private readonly log: (line: string) => void,
    private readonly probabilities: ProbabilityService,
    private readonly features: FeatureService,
  ) {
    this.disposables.push(
      features.onDidChange((doc) => {
        if (doc === this.editor?.document) this.sendFeatures();
      }),
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        if (ed && this.panel) {
          this.editor = ed;
          this.sendDocument(true);
          this.sendFeatures();
        }
      }),
      analyses.onDidAnalyze((doc) => {
        if (doc === this.editor?.document) this.sendDocument(false);
      }),
      probabilities.onDidScore((doc) => {
        if (doc === this.editor?.document) {
          this.sentVersion = '';
          this.sendDocument(false);
        }
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor !== this.editor) return;
        this.post({ type: 'cursor', utf16Offset: e.textEditor.document.offsetAt(e.selections[0].active) });
        if (this.mode === 'nextByte') this.scheduleNextByte();
      }),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
        if (e.textEditor !== this.editor || !e.visibleRanges.length) return;
        if (Date.now() - this.lastPanelScroll < ECHO_MS) return;
        this.lastHostScroll = Date.now();
        this.post({ type: 'reveal', line: e.visibleRanges[0].start.line });
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('tokenInspector')) this.sendTokenizers();
      }),
    );
  }

  dispose(): void {
    if (this.nextByteTimer) clearTimeout(this.nextByteTimer);
    this.panel?.dispose();
    if (this.docTimer) clearTimeout(this.docTimer);
    for (const d of this.disposables) d.dispose();
  }

  show(mode: PanelMode): void {
    this.mode = mode;
    this.editor = vscode.window.activeTextEditor ?? this.editor;
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      this.post({ type: 'mode', mode });
      this.sendDocument(true);
      if (mode === 'nextByte') this.scheduleNextByte();
      return;
    }
    const panel = vscode.window.createWebviewPanel('tokenInspector.panel', 'Token Inspector', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      ...webviewOptions(this.context.extensionUri),
      retainContextWhenHidden: true,
    });
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'token-inspector.svg');
    panel.webview.html = webviewHtml(panel.webview, this.context.extensionUri, 'panel', 'Token Inspector');
    panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m));
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
      this.sentVersion = '';
    });
    this.panel = panel;
  }

  private nextByteTimer: NodeJS.Timeout | undefined;
  private nextByteSeq = 0;

  /** The next-byte view follows the cursor: the latest position wins, older answers are dropped. */
  private scheduleNextByte(): void {
    if (this.nextByteTimer) clearTimeout(this.nextByteTimer);
    this.nextByteTimer = setTimeout(() => void this.sendNextByte(), 120);
  }

  private async sendNextByte(): Promise<void> {
    const ed = this.editor;
    if (!ed) return this.post({ type: 'nextByte', result: null, before: '', message: 'Open a file and put the cursor somewhere.' });
    const seq = ++this.nextByteSeq;
    const doc = ed.document;
    const offset = doc.offsetAt(ed.selection.active);
    const version = doc.version;
    const result = await this.probabilities.nextBytes(doc, offset);
    if (seq !== this.nextByteSeq || doc.version !== version) return;
    const before = doc.getText(new vscode.Range(doc.positionAt(Math.max(0, offset - 40)), doc.positionAt(offset)));
    this.post({ type: 'nextByte', result: result ?? null, before, message: result ? undefined : 'The workspace model is not ready (open a workspace folder; the first run trains it).' });
    if (result) this.log(`nextByte offset=${offset} exact=${result.exact} top=${JSON.stringify(result.topCharacters[0]?.text ?? '')}`);
  }

  /** What the Features tab shows: a result (each run makes a new one), none for a document, or unknown after a reload. */
  private sentFeatures: FeaturesView | string | undefined;

  /** The features tab: the run state always, the features themselves only when they changed. */
  private sendFeatures(): void {
    const ed = this.editor;
    if (!ed || ed.document.isClosed) {
      this.sentFeatures = undefined;
      return this.post({ type: 'features', view: null, running: false, progress: 0, highlighted: null, message: 'Open a file to see its features.' });
    }
    const doc = ed.document;
    const v = this.features.current(doc);
    const st = this.features.state(doc);
    const key = v ?? `none:${doc.uri.toString()}`;
    const changed = key !== this.sentFeatures;
    this.sentFeatures = key;
    const view = !changed ? undefined : v ? { fileName: doc.fileName.split(/[\\/]/).pop() ?? doc.fileName, version: v.version, text: doc.getText(), result: v.result } : null;
    this.post({ type: 'features', view, running: st.running, progress: st.progress, message: st.message, highlighted: this.features.highlighted(doc) });
  }

  private post(msg: HostToWebview): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(msg);
  }

  private sendTokenizers(): void {
    const doc = this.editor?.document;
    this.post({ type: 'tokenizers', all: tokenizerChoices(), compare: compareTokenizerIds(), reference: referenceTokenizerId(), current: tokenizerFor(doc).id });
  }

  private sendDocument(now: boolean): void {
    if (!this.panel) return;
    if (this.docTimer) clearTimeout(this.docTimer);
    const send = (): void => {
      this.docTimer = undefined;
      const ed = this.editor;
      if (!ed || ed.document.isClosed) return this.post({ type: 'document', doc: null, message: 'Open a file to see its tokens.' });
      const a = this.analyses.current(ed.document);
      if (!a) {
        this.analyses.request(ed.document);
        return;
      }
      const scores = this.probabilities.enabled ? this.probabilities.current(ed.document) : undefined;
      const key = `${a.docKey}@${a.version}:${a.tokenizerKey}:${scores ? 'scored' : ''}`;
      if (key === this.sentVersion) return;
      this.sentVersion = key;
      this.post({
        type: 'document',
        doc: {
          uri: a.docKey,
          fileName: ed.document.fileName.split(/[\\/]/).pop() ?? ed.document.fileName,
          version: a.version,
          tokenizer: { id: a.tokenizer.id, name: a.tokenizer.name },
          text: ed.document.getText(),
          stream: a.stream,
          charSurprisalBits: scores ? charSurprisal(ed.document.getText(), scores.scores.surprisalBits) : undefined,
        },
      });
      this.post({ type: 'cursor', utf16Offset: ed.document.offsetAt(ed.selection.active) });
      this.log(`panel document ${a.docKey} v${a.version} ${a.stream.count} tokens`);
    };
    if (now) send();
    else this.docTimer = setTimeout(send, DOCUMENT_DEBOUNCE_MS);
  }

  private onMessage(raw: unknown): void {
    if (!isWebviewToHost(raw)) {
      this.log(`panel: ignored an invalid message ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    void this.handle(raw).catch((e: Error) => this.log(`panel: ${e.message}`));
  }

  private async handle(m: WebviewToHost): Promise<void> {
    const ed = this.editor;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.sentVersion = '';
        this.sentFeatures = undefined;
        this.sendFeatures();
        this.sendTokenizers();
        this.post({ type: 'mode', mode: this.mode });
        this.sendDocument(true);
        if (this.mode === 'nextByte') this.scheduleNextByte();
        return;
      case 'mode':
        this.mode = m.mode;
        if (m.mode === 'nextByte') this.scheduleNextByte();
        return;
      case 'runFeatures':
        // The tab shows its own progress, Cancel button and messages.
        if (ed) await this.features.run(ed.document, { encoder: m.encoder ?? undefined, k: m.k ?? undefined, m: m.m ?? undefined }, false);
        return;
      case 'cancelFeatures':
        if (ed) this.features.cancel(ed.document);
        return;
      case 'highlightFeature':
        if (ed) this.features.highlight(ed.document, m.feature);
        return;
      case 'selectFeatureToken': {
        const v = ed && this.features.current(ed.document);
        if (!ed || !v || m.index >= v.result.tokenCount) return;
        return this.selectRange(ed, v.result.utf16Start[m.index], v.result.utf16End[m.index]);
      }
      case 'selectToken': {
        const a = ed && this.analyses.current(ed.document);
        if (!ed || !a || m.index >= a.stream.count) return;
        const [u0, u1] = tokenUtf16Range(a.stream, ed.document.getText(), m.index);
        return this.selectRange(ed, u0, u1);
      }
      case 'scrolled': {
        if (!ed || Date.now() - this.lastHostScroll < ECHO_MS) return;
        this.lastPanelScroll = Date.now();
        const line = Math.min(m.line, ed.document.lineCount - 1);
        ed.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.AtTop);
        return;
      }
      case 'compare':
        return this.compare(m.tokenizers, m.scope);
      case 'premiums':
        return this.premiums(m.tokenizers);
      case 'setTokenizer':
        if (resolveTokenizerId(m.id)) await setTokenizer(m.id, undefined);
        return;
      case 'run':
        await vscode.commands.executeCommand(
          { showPanel: 'tokenInspector.showPanel', compare: 'tokenInspector.compareTokenizers', premiums: 'tokenInspector.showLanguagePremiums', selectTokenizer: 'tokenInspector.selectTokenizer' }[m.command],
        );
        return;
    }
  }

  /** Selects UTF-16 range [u0, u1) in the editor and brings it into view. */
  private async selectRange(ed: vscode.TextEditor, u0: number, u1: number): Promise<void> {
    const start = ed.document.positionAt(u0);
    const end = ed.document.positionAt(u1);
    const shown = await vscode.window.showTextDocument(ed.document, { viewColumn: ed.viewColumn, preserveFocus: false });
    shown.selection = new vscode.Selection(start, end);
    shown.revealRange(new vscode.Range(start, end), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  async compare(ids: readonly string[], scope: 'document' | 'selection'): Promise<void> {
    const ed = this.editor ?? vscode.window.activeTextEditor;
    if (!ed) return this.post({ type: 'compare', result: null, scope, message: 'Open a file to compare tokenizers on it.' });
    const refs = ids.map(resolveTokenizerId).filter((r): r is TokenizerRef => r !== undefined);
    const reference = resolveTokenizerId(referenceTokenizerId()) ?? { id: 'o200k_base' };
    const sel = ed.selections.filter((s) => !s.isEmpty);
    const text = scope === 'selection' && sel.length ? sel.map((s) => ed.document.getText(s)).join('\n') : ed.document.getText();
    const reply = await this.worker.request({ kind: 'compare', text, tokenizers: refs, reference });
    if (reply.kind === 'compared') {
      this.post({ type: 'compare', result: reply.result, scope: scope === 'selection' && sel.length ? 'selection' : 'document' });
      this.log(`compare ${reply.result.tokenizers.map((r) => `${r.tokenizer}=${r.relativeCost?.toFixed(4)}`).join(' ')}`);
    } else if (reply.kind === 'error') this.post({ type: 'compare', result: null, scope, message: reply.message });
  }

  async premiums(ids: readonly string[]): Promise<void> {
    const refs = ids.map(resolveTokenizerId).filter((r): r is TokenizerRef => r !== undefined);
    const docText = this.editor?.document.getText() ?? '';
    const documentScript = docText.trim() ? detectScript(docText.slice(0, 200_000)).script : null;
    const cacheDir = vscode.Uri.joinPath(this.context.globalStorageUri, 'premiums').fsPath;
    this.post({ type: 'premiums', rows: null, documentScript, progress: 0 });
    const reply = await this.worker.request({ kind: 'premiums', tokenizers: refs, cacheDir }, (done, total) =>
      this.post({ type: 'premiums', rows: null, documentScript, progress: total ? done / total : 0 }),
    );
    if (reply.kind === 'premiums') {
      this.post({ type: 'premiums', rows: reply.rows, documentScript });
      this.log(`premiums ${reply.rows.length} rows`);
    } else if (reply.kind === 'error') this.post({ type: 'premiums', rows: null, documentScript, message: reply.message });
  }
}
