/**
 * Keeps every open document's token stream current: sends edits (or the whole text) to the worker, caches the
 * result by (document, version, tokenizer), and never hands out a result for an older version of the text.
 */
import * as vscode from 'vscode';
import type { StreamPayload, TextChange, TokenizerDescription, TokenizerRef } from '../protocol';
import type { AnalyzeParams, AnalyzeRegion, Utf16Range } from '../protocol/tokenWorker';
import { documentLabel, tokenizerLabel } from './requestLabels';
import { tokenizerRefKey, type Settings } from './settings';
import { WorkerCrashedError, WorkerDeadlineError, WorkerRequestError, type TokenWorkerClient, type WorkerIncident } from './workerClient';

export interface Analysis {
  readonly docKey: string;
  readonly version: number;
  readonly tokenizerKey: string;
  readonly tokenizer: TokenizerDescription;
  readonly stream: StreamPayload;
  readonly elapsedMs: number;
}

/** The tokens of the lines on screen, sent before the whole text's (equal to them there): only for drawing. */
export interface RegionAnalysis extends AnalyzeRegion {
  readonly tokenizerKey: string;
}

interface DocEntry {
  /** The version the worker holds once its last request is applied (undefined: send the whole text). */
  workerVersion: number | undefined;
  /** Edits since workerVersion, each relative to the text the previous one produced. */
  changes: TextChange[];
  analysis: Analysis | undefined;
  /** The visible region's tokens while the whole text's are on their way (dropped when they come). */
  region: RegionAnalysis | undefined;
  /**
   * Why the last analysis failed. Not retried by itself for the same version and tokenizer (an edit or a
   * setting change retries), except `afterRestart`: the worker stopped under it, and it is retried once the
   * worker restarts.
   */
  error: { tokenizerKey: string; version: number; message: string; afterRestart: boolean } | undefined;
  running: boolean;
  dirty: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** End-to-end tests time each edit to its decorations (with TOKEN_INSPECTOR_TEST_LOG set); otherwise edits are not logged. */
const LOG_EDITS = process.env.TOKEN_INSPECTOR_TEST_LOG !== undefined;

const OPEN_SETTING = 'Open Setting';
const SELECT_TOKENIZER = 'Select Tokenizer';

/** Typing faster than this re-analyses once per burst. */
const DEBOUNCE_MS = 15;
/**
 * Documents at least this long (UTF-16 units) have the lines on screen tokenized first when their whole text is
 * sent (opening, a worker restart): encoding 1 MB takes 0.2-0.6 s on a 2-core machine, these lines a few ms.
 */
const VISIBLE_FIRST_UTF16 = 1 << 17;
/** Lines around the visible ones in that first region (the decorations draw 20 beyond them). */
const VISIBLE_MARGIN_LINES = 40;
/** A region longer than this (editors far apart in one document) is not worth sending first. */
const MAX_VISIBLE_UTF16 = 1 << 18;

export class AnalysisService implements vscode.Disposable {
  private readonly entries = new Map<string, DocEntry>();
  private readonly emitter = new vscode.EventEmitter<vscode.TextDocument>();
  /** Fires when a document's analysis for its current version (or an error) arrives. */
  readonly onDidAnalyze = this.emitter.event;
  private readonly regionEmitter = new vscode.EventEmitter<vscode.TextDocument>();
  /** Fires when the tokens of a document's visible lines arrive ahead of the whole text's (see region()). */
  readonly onDidAnalyzeRegion = this.regionEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly shownErrors = new Set<string>();

  constructor(
    private readonly worker: TokenWorkerClient,
    private readonly settings: Settings,
    private readonly log: (line: string) => void,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => this.onChange(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)),
      this.emitter,
      this.regionEmitter,
    );
    // The e2e tests time opening a file from the moment the extension hears of the document.
    if (LOG_EDITS) this.disposables.push(vscode.workspace.onDidOpenTextDocument((d) => this.log(`opened ${this.key(d)} v${d.version}`)));
  }

  dispose(): void {
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    for (const d of this.disposables) d.dispose();
  }

  private key(doc: vscode.TextDocument): string {
    return doc.uri.toString();
  }

  private entry(doc: vscode.TextDocument): DocEntry {
    let e = this.entries.get(this.key(doc));
    if (!e) {
      e = { workerVersion: undefined, changes: [], analysis: undefined, region: undefined, error: undefined, running: false, dirty: false, timer: undefined };
      this.entries.set(this.key(doc), e);
    }
    return e;
  }

  private onChange(ev: vscode.TextDocumentChangeEvent): void {
    const e = this.entries.get(this.key(ev.document));
    if (!e) return;
    if (LOG_EDITS && ev.contentChanges.length) this.log(`edit ${this.key(ev.document)} v${ev.document.version}`);
    // Changes of one event refer to the text before it; applied from the end they stay valid in sequence.
    const sorted = [...ev.contentChanges].sort((a, b) => b.rangeOffset - a.rangeOffset);
    for (const c of sorted) e.changes.push({ rangeOffset: c.rangeOffset, rangeLength: c.rangeLength, text: c.text });
    this.schedule(ev.document, e);
  }

  private forget(doc: vscode.TextDocument): void {
    const e = this.entries.get(this.key(doc));
    if (e?.timer) clearTimeout(e.timer);
    this.entries.delete(this.key(doc));
    this.worker.notify('close', { docKey: this.key(doc) });
  }

  private schedule(doc: vscode.TextDocument, e: DocEntry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = setTimeout(() => {
      e.timer = undefined;
      void this.run(doc, e);
    }, DEBOUNCE_MS);
  }

  /** The analysis for the document's current version and tokenizer, if ready. */
  current(doc: vscode.TextDocument): Analysis | undefined {
    const e = this.entries.get(this.key(doc));
    const a = e?.analysis;
    if (!a || a.version !== doc.version || a.tokenizerKey !== tokenizerRefKey(this.settings.tokenizerFor(doc))) return undefined;
    return a;
  }

  /**
   * The tokens of the document's visible lines for its current version and tokenizer, while the whole text's
   * are not there yet: for the decorations only (counts and every other view wait for the whole text).
   */
  region(doc: vscode.TextDocument): RegionAnalysis | undefined {
    const e = this.entries.get(this.key(doc));
    const r = e?.region;
    if (!r || r.version !== doc.version || r.tokenizerKey !== tokenizerRefKey(this.settings.tokenizerFor(doc)) || this.current(doc)) return undefined;
    return r;
  }

  /** The lines the editors of a long document show (with a margin), to tokenize first; undefined otherwise. */
  private visibleRange(doc: vscode.TextDocument, utf16Length: number): Utf16Range | undefined {
    if (utf16Length < VISIBLE_FIRST_UTF16) return undefined;
    let first = Infinity;
    let last = -1;
    for (const ed of vscode.window.visibleTextEditors) {
      if (ed.document !== doc) continue;
      for (const r of ed.visibleRanges) {
        first = Math.min(first, r.start.line);
        last = Math.max(last, r.end.line);
      }
    }
    if (last < 0) return undefined;
    const start = doc.offsetAt(new vscode.Position(Math.max(0, first - VISIBLE_MARGIN_LINES), 0));
    const end = doc.offsetAt(doc.lineAt(Math.min(doc.lineCount - 1, last + VISIBLE_MARGIN_LINES)).rangeIncludingLineBreak.end);
    return end - start <= MAX_VISIBLE_UTF16 ? { utf16Start: start, utf16End: end } : undefined;
  }

  /**
   * The last analysis made with the document's current tokenizer, whatever its version: what the status bar
   * keeps showing while a newer version is being tokenized (so that it does not flicker at each keystroke).
   */
  latest(doc: vscode.TextDocument): Analysis | undefined {
    const a = this.entries.get(this.key(doc))?.analysis;
    return a && a.tokenizerKey === tokenizerRefKey(this.settings.tokenizerFor(doc)) ? a : undefined;
  }

  /** The last error for the document's tokenizer, if its analysis failed. */
  error(doc: vscode.TextDocument): string | undefined {
    const e = this.entries.get(this.key(doc));
    return e?.error && e.error.tokenizerKey === tokenizerRefKey(this.settings.tokenizerFor(doc)) ? e.error.message : undefined;
  }

  /** Makes sure an analysis for the current version is coming; resolves when one is there (or failed). */
  request(doc: vscode.TextDocument): void {
    const e = this.entry(doc);
    if (e.error && e.error.version === doc.version && e.error.tokenizerKey === tokenizerRefKey(this.settings.tokenizerFor(doc))) return;
    if (this.current(doc) || e.running || e.timer) {
      if (e.running) e.dirty = true;
      return;
    }
    void this.run(doc, e);
  }

  /** Re-analyses every known document (after a tokenizer or setting change), failed ones included. */
  refreshAll(): void {
    for (const e of this.entries.values()) e.error = undefined;
    this.shownErrors.clear();
    for (const doc of vscode.workspace.textDocuments) if (this.entries.has(this.key(doc))) this.request(doc);
  }

  /**
   * The tokenization worker stopped (and restarts on the next request): it holds no document now. The visible
   * documents are analysed again, and those whose analysis it took down are retried, except after a crash
   * that already happened before (a document that crashes it every time waits for the next edit). A document
   * whose own analysis ran past its deadline is not retried until it changes.
   */
  restarted(incident: WorkerIncident): void {
    const retry = incident.cause === 'deadline' || !incident.repeat;
    for (const e of this.entries.values()) {
      e.workerVersion = undefined;
      e.changes = [];
      if (retry && e.error?.afterRestart) e.error = undefined;
    }
    if (!retry) return;
    const visible = new Set(vscode.window.visibleTextEditors.map((ed) => ed.document));
    for (const doc of vscode.workspace.textDocuments) {
      const e = this.entries.get(this.key(doc));
      if (!e || e.error || doc.isClosed) continue;
      if (visible.has(doc) && !e.running && !e.timer) void this.run(doc, e);
      else if (!this.current(doc)) this.request(doc);
    }
  }

  private async run(doc: vscode.TextDocument, e: DocEntry): Promise<void> {
    if (e.running) {
      e.dirty = true;
      return;
    }
    if (doc.isClosed) return;
    e.running = true;
    e.dirty = false;
    const ref: TokenizerRef = this.settings.tokenizerFor(doc);
    const tokenizerKey = tokenizerRefKey(ref);
    const version = doc.version;
    const base = e.workerVersion;
    const changes = e.changes;
    e.changes = [];
    e.workerVersion = version;
    const common = { docKey: this.key(doc), version, tokenizer: ref, allowSpecial: this.settings.allowSpecial(doc), utf16Length: doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end) };
    const label = `tokenizing ${documentLabel(doc)} with ${tokenizerLabel(ref, this.settings)}`;
    // The e2e tests split the time from opening a file to its boundaries: VS Code, the worker, the decorations.
    if (LOG_EDITS && base === undefined) this.log(`analyze ${common.docKey} v${version} whole text ${common.utf16Length} units`);
    const onProgress = (region: AnalyzeRegion): void => {
      // Never drawn for a version or tokenizer the document has left, nor after the whole text's tokens.
      if (doc.isClosed || doc.version !== region.version || region.version !== version || e.analysis?.version === version) return;
      if (tokenizerRefKey(this.settings.tokenizerFor(doc)) !== tokenizerKey) return;
      e.region = { ...region, tokenizerKey };
      if (LOG_EDITS) this.log(`region ${common.docKey} v${version} [${region.utf16Start}, ${region.utf16End}) count=${region.stream.count}`);
      this.regionEmitter.fire(doc);
    };
    const whole = (): AnalyzeParams => {
      const visible = this.visibleRange(doc, common.utf16Length);
      return { ...common, text: doc.getText(), ...(visible && { visible }) };
    };
    try {
      let r = await this.worker.request('analyze', base !== undefined ? { ...common, baseVersion: base, changes } : whole(), { label, onProgress });
      // The text sent now is the document's text at `version` only if nothing changed meanwhile.
      if (r.status === 'needText' && doc.version === version && !doc.isClosed) r = await this.worker.request('analyze', whole(), { label, onProgress });
      if (r.status === 'needText') {
        e.workerVersion = undefined;
        e.dirty = true;
      } else {
        e.analysis = { docKey: common.docKey, version, tokenizerKey, tokenizer: r.tokenizer, stream: r.stream, elapsedMs: r.elapsedMs };
        e.region = undefined;
        e.error = undefined;
        this.log(`analysis ${doc.uri.toString()} v${version} ${r.tokenizer.id} count=${r.stream.count} ${r.elapsedMs.toFixed(1)}ms`);
      }
    } catch (err) {
      // The worker may not hold this version: the next request sends the whole text.
      e.workerVersion = undefined;
      e.region = undefined;
      const message = (err as Error).message;
      // A worker that stopped under this request (and not because of it) restarts: retry then.
      const afterRestart = err instanceof WorkerCrashedError && !(err instanceof WorkerDeadlineError);
      e.error = { tokenizerKey, version, message, afterRestart };
      if (err instanceof WorkerRequestError) this.showErrorOnce(tokenizerKey, message, this.settings.tokenizerSettingFor(doc));
      this.log(`analysis failed: ${message}`);
    } finally {
      e.running = false;
    }
    const t1 = performance.now();
    // Requests that came in meanwhile are satisfied if this result is for the current version and tokenizer.
    if (doc.version !== version || (e.dirty && !this.current(doc) && !e.error)) this.schedule(doc, e);
    else if (!doc.isClosed) this.emitter.fire(doc);
    const ms = performance.now() - t1;
    if (ms > 8) this.log(`slow: presenting an analysis took ${ms.toFixed(1)}ms`);
  }

  /** Tells a tokenizer's failure once, offering the setting it came from (fixing it tokenizes again). */
  private showErrorOnce(tokenizerKey: string, message: string, setting: string): void {
    const k = `${tokenizerKey}\n${message}`;
    if (this.shownErrors.has(k)) return;
    this.shownErrors.add(k);
    void vscode.window.showErrorMessage(`Token Inspector: ${message}`, OPEN_SETTING, SELECT_TOKENIZER).then((pick) => {
      if (pick === OPEN_SETTING) void vscode.commands.executeCommand('workbench.action.openSettings', setting);
      else if (pick === SELECT_TOKENIZER) void vscode.commands.executeCommand('tokenInspector.selectTokenizer');
    });
  }

  /** Counts a piece of text (a selection) on its own. */
  async count(doc: vscode.TextDocument, text: string): Promise<number | undefined> {
    return (await this.countAlone(doc, text, 'the selection'))?.count;
  }

  /** A piece of the document tokenized on its own: its tokens and those the model adds to it (BOS). */
  async countAlone(doc: vscode.TextDocument, text: string, what: string): Promise<{ count: number; added: number } | undefined> {
    const ref = this.settings.tokenizerFor(doc);
    const label = `counting ${what} in ${documentLabel(doc)} with ${tokenizerLabel(ref, this.settings)}`;
    const r = await this.worker.request('count', { tokenizer: ref, text, allowSpecial: this.settings.allowSpecial(doc) }, { label }).catch(() => undefined);
    return r && { count: r.count, added: r.addedCount };
  }
}
