/**
 * Probabilities in the editor: scores from the workspace n-gram model (trained in the workspace jobs worker on the
 * workspace's files, the scored file left out) for the document's current version, GLTR-style colours by rank
 * bucket or surprisal, and the exact next-byte distribution at a position. Results for an older version are
 * never shown.
 */
import * as vscode from 'vscode';
import { spreadSurprisal } from '../core/lm/score';
import type { DocumentScoresPayload, NextBytesPayload } from '../protocol';
import type { Analysis } from './analysisService';
import type { Ctx } from './context';
import { KeyedDebouncer } from './debounce';
import { documentLabel, tokenizerLabel } from './requestLabels';
import { SECTION, tokenizerRefKey, WORKSPACE_NGRAM } from './settings';
import { WorkerCancelledError, WorkerRequestError } from './workerClient';
import { formatPercent } from '../core/lm/formatProbability';

/** A document's scores for one version and tokenizer. */
export interface DocumentScoresView extends DocumentScoresPayload {
  readonly version: number;
  readonly tokenizerKey: string;
}


/** Surprisal bins in bits: < 2, < 4, < 8, < 12, ≥ 12. */
export function surprisalBin(bits: number): 0 | 1 | 2 | 3 | 4 {
  return bits < 2 ? 0 : bits < 4 ? 1 : bits < 8 ? 2 : bits < 12 ? 3 : 4;
}

const SCORE_DEBOUNCE_MS = 250;

/** A warning the user acts on in a setting: its one button opens that setting. */
function warnWithSetting(message: string, key: 'probabilityModel' | 'remoteEndpoint'): void {
  void vscode.window.showWarningMessage(`Token Inspector: ${message}`, 'Open Setting').then((pick) => {
    if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.${key}`);
  });
}
/** Saves in a burst retrain the workspace model once, this long after the last. */
const RETRAIN_AFTER_SAVE_MS = 15_000;

export class ProbabilityService implements vscode.Disposable {
  private readonly scores = new Map<string, DocumentScoresView>();
  private readonly timers = new KeyedDebouncer();
  private readonly inFlight = new Set<string>();
  private readonly emitter = new vscode.EventEmitter<vscode.TextDocument>();
  readonly onDidScore = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private training: Promise<void> | undefined;
  /** Model references that failed to load, not tried again until a setting that names them changes. */
  private readonly failedModels = new Set<string>();
  private readonly loading = new Set<string>();

  constructor(private readonly ctx: Pick<Ctx, 'analyses' | 'settings' | 'worker' | 'jobs' | 'models' | 'log' | 'storage'>) {
    this.disposables.push(
      this.emitter,
      this.ctx.analyses.onDidAnalyze((doc) => {
        if (this.enabled && vscode.window.visibleTextEditors.some((e) => e.document === doc)) this.schedule(doc);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.scores.delete(doc.uri.toString())),
      // A document analysed while hidden (behind another editor) is scored when it shows again.
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshVisible()),
      // The workspace model follows the files: a saved change retrains it in the background (once per burst).
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (!this.enabled || this.ctx.settings.probabilityModel() !== WORKSPACE_NGRAM || !vscode.workspace.getWorkspaceFolder(doc.uri)) return;
        if (this.retrainTimer) clearTimeout(this.retrainTimer);
        this.retrainTimer = setTimeout(() => void this.retrain(true), RETRAIN_AFTER_SAVE_MS);
      }),
      this.ctx.settings.onDidChange('probabilities', () => {
        this.failedModels.clear();
        this.refreshVisible();
      }),
    );
  }

  private retrainTimer: NodeJS.Timeout | undefined;

  dispose(): void {
    if (this.retrainTimer) clearTimeout(this.retrainTimer);
    this.timers.dispose();
    for (const d of this.disposables) d.dispose();
  }

  get enabled(): boolean {
    return this.ctx.settings.get('showProbabilities');
  }

  get colorBy(): 'rank' | 'surprisal' {
    return this.ctx.settings.get('probabilityColors');
  }

  /** Scores for the document's current version and tokenizer, if ready. */
  current(doc: vscode.TextDocument): DocumentScoresView | undefined {
    const s = this.scores.get(doc.uri.toString());
    return s && s.version === doc.version && s.tokenizerKey === tokenizerRefKey(this.ctx.settings.tokenizerFor(doc)) ? s : undefined;
  }

  refreshVisible(): void {
    if (!this.enabled) return;
    for (const ed of vscode.window.visibleTextEditors) if (this.ctx.analyses.current(ed.document)) this.schedule(ed.document);
  }

  /** The workspace n-gram job on the document's current version (its text and the analysis of that version). */
  private job(doc: vscode.TextDocument, a: Analysis) {
    return { ...this.target(doc), text: doc.getText(), stream: a.stream };
  }

  private target(doc: vscode.TextDocument) {
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri) ?? vscode.workspace.workspaceFolders?.[0];
    return {
      tokenizer: this.ctx.settings.tokenizerFor(doc),
      allowSpecial: this.ctx.settings.allowSpecial(doc),
      workspaceRoot: folder?.uri.scheme === 'file' ? folder.uri.fsPath : null,
      path: doc.uri.scheme === 'file' ? doc.uri.fsPath : null,
      storageDir: this.ctx.storage.modelsDir,
    };
  }

  private schedule(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    if (this.current(doc)) return;
    this.timers.schedule(key, SCORE_DEBOUNCE_MS, () => void this.score(doc));
  }

  /**
   * A model reference (a hub repo id, downloaded when allowed, or a local folder) is loaded once before it
   * scores; its folder's tokenizer then tokenizes the editor. Until it has loaded, and when it fails, the editor
   * keeps the tokenizer setting's tokens: a bad model path never stops tokenizing. A failure is told once per
   * reference, with the setting to fix; changing that setting tries again.
   */
  private async resolveNeural(spec: string): Promise<boolean> {
    if (this.ctx.settings.isModelResolved(spec)) return true;
    if (this.failedModels.has(spec) || this.loading.has(spec)) return false;
    this.loading.add(spec);
    let model;
    try {
      model = await this.ctx.models.request('load', { model: { spec }, hub: this.ctx.settings.hub() }, { label: `loading ${spec} (${SECTION}.probabilityModel)` });
    } catch (e) {
      this.failedModels.add(spec);
      this.ctx.log(`model failed: ${(e as Error).message}`);
      warnWithSetting((e as Error).message, 'probabilityModel');
      return false;
    } finally {
      this.loading.delete(spec);
    }
    if (this.ctx.settings.probabilityModel() !== spec) return false; // the setting moved on meanwhile
    this.ctx.settings.rememberModelFolder(spec, model.folder);
    this.ctx.analyses.refreshAll();
    return false; // the documents are re-tokenized with the model's tokenizer first
  }

  /** Scores from an ONNX model in the model worker, for the analysis of the document's current version. */
  private async scoreNeural(doc: vscode.TextDocument, a: Analysis, spec: string): Promise<DocumentScoresPayload | undefined> {
    let scored;
    const ids = a.stream.ids.slice();
    if (spec === 'remote') {
      // The endpoint scores exactly the token ids shown (sent as ids); it gives log-probs and top-k only.
      const endpoint = this.ctx.settings.remoteEndpoint();
      if (!endpoint) {
        warnWithSetting('set tokenInspector.remoteEndpoint to {"url": "http://host:port/v1/completions"} to score with a remote model.', 'remoteEndpoint');
        return undefined;
      }
      const tok = this.ctx.settings.tokenizerFor(doc);
      const label = `scoring ${documentLabel(doc)} with ${endpoint.url} (${SECTION}.remoteEndpoint)`;
      scored = await this.ctx.models.request('remoteScore', { endpoint, tokenizer: { id: tok.id, path: tok.path }, ids }, { label, transfer: [ids.buffer as ArrayBuffer] });
    } else {
      const label = `scoring ${documentLabel(doc)} with ${spec} (${SECTION}.probabilityModel)`;
      scored = await this.ctx.models.request('score', { model: { spec }, hub: this.ctx.settings.hub(), ids, topK: 5 }, { label, transfer: [ids.buffer as ArrayBuffer] });
    }
    const sc = scored.scores;
    const topIds = [...new Set(Array.from(sc.topIds).filter((id) => id >= 0))];
    const tok = this.ctx.settings.tokenizerFor(doc);
    const texts = await this.ctx.worker.request('tokenTexts', { tokenizer: tok, ids: topIds }, { label: `reading token texts of ${tokenizerLabel(tok, this.ctx.settings)}` }).catch(() => ({}));
    return {
      model: { id: spec === 'remote' ? scored.model : spec, description: spec === 'remote' ? 'remote endpoint (rank and entropy unavailable)' : `ONNX causal LM ${spec}` },
      scores: sc,
      topTexts: texts,
      surprisalBits: spreadSurprisal(a.stream.byteOffsets, a.stream.count, a.stream.byteLength, sc.logProbs),
    };
  }

  private async score(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    if (this.inFlight.has(key) || doc.isClosed || !this.ctx.analyses.current(doc)) return;
    const spec = this.ctx.settings.probabilityModel();
    if (spec !== WORKSPACE_NGRAM) {
      if (!(await this.resolveNeural(spec))) return;
      const a = this.ctx.analyses.current(doc);
      if (!a) return;
      this.inFlight.add(key);
      try {
        const scores = await this.scoreNeural(doc, a, spec);
        if (scores) {
          this.scores.set(key, { version: a.version, tokenizerKey: a.tokenizerKey, ...scores });
          this.ctx.log(`scores ${key} v${a.version} ${spec} count=${scores.scores.count}`);
          if (a.version === doc.version) this.emitter.fire(doc);
        }
      } catch (e) {
        this.ctx.log(`scores failed: ${(e as Error).message}`);
        if (e instanceof WorkerRequestError) warnWithSetting(e.message, spec === 'remote' ? 'remoteEndpoint' : 'probabilityModel');
      } finally {
        this.inFlight.delete(key);
      }
      if (doc.version !== a.version) this.schedule(doc);
      return;
    }
    const a = this.ctx.analyses.current(doc);
    if (!a) return;
    this.inFlight.add(key);
    const t = this.job(doc, a);
    const version = a.version;
    try {
      let progress: ((done: number, total: number) => void) | undefined;
      let finishProgress: (() => void) | undefined;
      if (!this.training) {
        // The first request trains the model: show it (later ones are fast).
        this.training = new Promise<void>((resolve) => (finishProgress = resolve));
        void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Token Inspector: training the workspace model' }, async (p) => {
          progress = (done, total) => p.report({ message: `${done}/${total} files` });
          await this.training;
        });
      }
      const label = `scoring ${documentLabel(doc)} with the workspace model of ${t.workspaceRoot ?? 'no folder'} under ${tokenizerLabel(t.tokenizer, this.ctx.settings)}`;
      try {
        const r = await this.ctx.jobs.request('score', t, {
          label,
          onProgress: (p) => {
            if (p.stage === 'training') progress?.(p.done, p.total);
          },
        });
        this.scores.set(key, { version, tokenizerKey: tokenizerRefKey(t.tokenizer), ...r });
        this.ctx.log(`scores ${key} v${version} ${r.model.id} count=${r.scores.count}`);
        if (version === doc.version) this.emitter.fire(doc);
      } finally {
        finishProgress?.();
      }
    } catch (e) {
      this.ctx.log(`scores failed: ${(e as Error).message}`);
      if (e instanceof WorkerRequestError) void vscode.window.showWarningMessage(`Token Inspector: ${e.message}`);
    } finally {
      this.inFlight.delete(key);
    }
    if (doc.version !== version) this.schedule(doc);
  }

  /** Retrains the workspace model (quietly in the window's progress area after saves). */
  async retrain(quiet = false): Promise<void> {
    const doc = vscode.window.activeTextEditor?.document;
    const t = doc && this.target(doc);
    if (!t?.workspaceRoot) {
      if (!quiet) void vscode.window.showInformationMessage('Token Inspector: open a workspace folder to train the workspace model on.');
      return;
    }
    const location = quiet ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification;
    await vscode.window.withProgress({ location, title: 'Token Inspector: training the workspace model', cancellable: false }, async (p) => {
      const workspaceRoot = t.workspaceRoot as string;
      try {
        const r = await this.ctx.jobs.request(
          'retrain',
          { tokenizer: t.tokenizer, workspaceRoot, storageDir: t.storageDir },
          { label: `training the workspace model on ${workspaceRoot} under ${tokenizerLabel(t.tokenizer, this.ctx.settings)}`, onProgress: (n) => p.report({ message: `${n.done}/${n.total} files` }) },
        );
        this.ctx.log(`retrained: ${r.description}`);
        if (!quiet) void vscode.window.showInformationMessage(`Token Inspector: ${r.description}`);
      } catch (e) {
        this.ctx.log(`retraining failed: ${(e as Error).message}`);
        if (!quiet && e instanceof WorkerRequestError) void vscode.window.showWarningMessage(`Token Inspector: ${e.message}`);
      }
    });
    this.scores.clear();
    this.refreshVisible();
  }

  /**
   * The exact next-byte distribution (with the naive and token-healing baselines) at a UTF-16 offset, from the
   * model the probabilities view uses: the workspace n-gram (the jobs worker) or the ONNX model (the model
   * worker: one forward pass per distinct cover prefix on the KV cache of the text before them). Otherwise, or
   * when it cannot be computed now, a message that says why and what to do.
   */
  async nextBytes(doc: vscode.TextDocument, utf16Offset: number, asker: 'view' | 'hover' = 'view'): Promise<NextBytesAnswer> {
    const spec = this.ctx.settings.probabilityModel();
    if (spec === 'remote') return this.remoteNextBytes(doc, utf16Offset, asker);
    if (spec !== WORKSPACE_NGRAM && !this.ctx.settings.isModelResolved(spec)) {
      // The model is loaded (and the document re-tokenized with its tokenizer) by the probabilities view.
      return { message: `Loading ${spec} (${SECTION}.probabilityModel): run Token Inspector: Show Probabilities once, then move the cursor.` };
    }
    const a = this.ctx.analyses.current(doc);
    if (!a) return { message: 'The document is being tokenized; move the cursor again in a moment.' };
    const version = a.version;
    try {
      const label = `the next byte in ${documentLabel(doc)}`;
      const r =
        spec === WORKSPACE_NGRAM
          ? await this.ctx.jobs.request('nextBytes', { ...this.job(doc, a), utf16Offset }, { label })
          : await this.ctx.models.request('nextBytes', { model: { spec }, hub: this.ctx.settings.hub(), text: doc.getText(), stream: a.stream, utf16Offset }, { label: `${label} with ${spec} (${SECTION}.probabilityModel)` });
      // Shown only while the document is still at the version it was computed on.
      return doc.version === version ? { result: r } : { message: 'The document changed; move the cursor again.' };
    } catch (e) {
      this.ctx.log(`next bytes failed: ${(e as Error).message}`);
      return { message: (e as Error).message };
    }
  }

  /** The remote next-byte request in flight, cancelled by the next one. */
  private remoteNextByteAbort: AbortController | undefined;

  /**
   * The next byte from the remote endpoint's top-k (the model worker: one prompt per distinct cover prefix,
   * several per request). Asked only when the user has set the endpoint (VS Code hands the extension no
   * workspace value of it in Restricted Mode), and only by the view: a hover would send the document's tokens
   * on every mouse rest.
   */
  private async remoteNextBytes(doc: vscode.TextDocument, utf16Offset: number, asker: 'view' | 'hover'): Promise<NextBytesAnswer> {
    const endpoint = this.ctx.settings.remoteEndpoint();
    if (!endpoint) return { message: `Set ${SECTION}.remoteEndpoint to {"url": "http://host:port/v1/completions"} to see the next byte with a remote model.` };
    if (asker === 'hover') return { message: 'The next byte with the remote endpoint is shown in the Next byte view (Token Inspector: Show Next Byte).' };
    const a = this.ctx.analyses.current(doc);
    if (!a) return { message: 'The document is being tokenized; move the cursor again in a moment.' };
    const version = a.version;
    const tok = this.ctx.settings.tokenizerFor(doc);
    // A new cursor position cancels the request before it: its answer would not be shown, and each costs the
    // endpoint several requests.
    this.remoteNextByteAbort?.abort();
    const abort = (this.remoteNextByteAbort = new AbortController());
    try {
      const r = await this.ctx.models.request(
        'remoteNextBytes',
        { endpoint, tokenizer: { id: tok.id, path: tok.path }, text: doc.getText(), stream: a.stream, utf16Offset },
        { label: `the next byte in ${documentLabel(doc)} with ${endpoint.url} (${SECTION}.remoteEndpoint)`, signal: abort.signal },
      );
      return doc.version === version ? { result: r } : { message: 'The document changed; move the cursor again.' };
    } catch (e) {
      if (e instanceof WorkerCancelledError) return { message: 'The cursor moved; asking the endpoint again.' };
      this.ctx.log(`next bytes failed: ${(e as Error).message}`);
      return { message: `${(e as Error).message} (${SECTION}.remoteEndpoint)` };
    }
  }
}

/** What the next-byte view shows: a result, or why there is none. */
export type NextBytesAnswer = { readonly result: NextBytesPayload } | { readonly message: string };

const pct = formatPercent;

/** The hover's probability section for tokens first..last. */
export function probabilityMarkdown(view: DocumentScoresView, first: number, last: number): string {
  const s = view.scores;
  let md = `\n**${view.model.id}** (${view.model.description})\n\n| # | log-prob | p | surprisal | rank | entropy | top alternatives |\n|---:|---:|---:|---:|---:|---:|---|\n`;
  for (let i = first; i <= last; i++) {
    const lp = s.logProbs[i];
    const h = s.entropies?.[i] ?? NaN;
    const alts: string[] = [];
    for (let j = 0; j < s.topK; j++) {
      const id = s.topIds[i * s.topK + j];
      if (id < 0) break;
      const text = (view.topTexts[id] ?? '').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/ /g, '·').replace(/[|`]/g, (c) => `\\${c}`);
      alts.push(`\`${text || '∅'}\` ${pct(Math.exp(s.topLogProbs[i * s.topK + j]))}`);
    }
    md += `| ${i} | ${lp.toFixed(3)} | ${pct(Math.exp(lp))} | ${(-lp / Math.LN2).toFixed(2)} bits | ${s.ranks?.[i] ?? NaN} | ${Number.isNaN(h) ? '—' : `${(h / Math.LN2).toFixed(2)} bits`} | ${alts.join(', ')} |\n`;
  }
  md += `\nColours: rank in the model's distribution, GLTR-style: top 10 · top 100 · top 1000 · beyond.\n`;
  return md;
}

/** The hover's next-byte line: the most probable next characters, exact next to naive. */
export function nextBytesMarkdown(r: NextBytesPayload): string {
  const chars = r.topCharacters.slice(0, 5).map((c) => `\`${c.text.replace(/\n/g, '\\n').replace(/ /g, '·').replace(/`/g, "'") || '∅'}\` ${pct(c.probability)}`);
  return `\nNext character here${r.exact ? '' : ` (within a ${r.window}-byte window)`}: ${chars.join(', ')}\n`;
}
