/**
 * Probabilities in the editor: scores from the workspace n-gram model (trained in the worker on the
 * workspace's files, the scored file left out) for the document's current version, GLTR-style colours by rank
 * bucket or surprisal, and the exact next-byte distribution at a position. Results for an older version are
 * never shown.
 */
import * as vscode from 'vscode';
import { spreadSurprisal } from '../core/lm/score';
import type { NextBytesPayload, ScoresPayload } from '../protocol';
import type { Analysis } from './analysisService';
import type { Ctx } from './context';
import { KeyedDebouncer } from './debounce';
import { tokenizerRefKey, WORKSPACE_NGRAM } from './settings';

export interface DocumentScoresView {
  readonly version: number;
  readonly tokenizerKey: string;
  readonly scores: ScoresPayload;
}

/** GLTR's rank buckets: top 10, top 100, top 1000, the rest. */
export function rankBucket(rank: number): 0 | 1 | 2 | 3 {
  return rank <= 10 ? 0 : rank <= 100 ? 1 : rank <= 1000 ? 2 : 3;
}

/** Surprisal bins in bits: < 2, < 4, < 8, < 12, ≥ 12. */
export function surprisalBin(bits: number): 0 | 1 | 2 | 3 | 4 {
  return bits < 2 ? 0 : bits < 4 ? 1 : bits < 8 ? 2 : bits < 12 ? 3 : 4;
}

const SCORE_DEBOUNCE_MS = 250;
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

  constructor(private readonly ctx: Pick<Ctx, 'analyses' | 'settings' | 'worker' | 'models' | 'log' | 'storage'>) {
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
      this.ctx.settings.onDidChange('probabilities', () => this.refreshVisible()),
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

  private target(doc: vscode.TextDocument) {
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri) ?? vscode.workspace.workspaceFolders?.[0];
    return {
      docKey: doc.uri.toString(),
      version: doc.version,
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

  /** A hub repo id is resolved (downloaded when allowed) once; its folder's tokenizer then tokenizes the editor. */
  private async resolveNeural(spec: string): Promise<boolean> {
    if (this.ctx.settings.isModelResolved(spec)) return true;
    const reply = await this.ctx.models.request({ kind: 'load', model: { spec }, hub: this.ctx.settings.hub() }).catch((e: Error) => ({ kind: 'error' as const, requestId: -1, code: 'internal' as const, message: e.message }));
    if (reply.kind !== 'loaded') {
      void vscode.window.showWarningMessage(`Token Inspector: ${reply.kind === 'error' ? reply.message : 'the model did not load'}`);
      return false;
    }
    this.ctx.settings.rememberModelFolder(spec, reply.model.folder);
    this.ctx.analyses.refreshAll();
    return false; // the documents are re-tokenized with the model's tokenizer first
  }

  /** Scores from an ONNX model in the model worker, for the analysis of the document's current version. */
  private async scoreNeural(doc: vscode.TextDocument, a: Analysis, spec: string): Promise<ScoresPayload | undefined> {
    let reply;
    if (spec === 'remote') {
      // The endpoint scores exactly the token ids shown (sent as ids); it gives log-probs and top-k only.
      const endpoint = this.ctx.settings.remoteEndpoint();
      if (!endpoint) {
        void vscode.window.showWarningMessage('Token Inspector: set tokenInspector.remoteEndpoint to {"url": "http://host:port/v1/completions"} to score with a remote model.');
        return undefined;
      }
      const tok = this.ctx.settings.tokenizerFor(doc);
      reply = await this.ctx.models.request({ kind: 'remoteScore', endpoint, tokenizer: { id: tok.id, path: tok.path }, ids: a.stream.ids.slice() });
    } else reply = await this.ctx.models.request({ kind: 'score', model: { spec }, hub: this.ctx.settings.hub(), ids: a.stream.ids.slice(), topK: 5 });
    if (reply.kind !== 'scored') {
      if (reply.kind === 'error') void vscode.window.showWarningMessage(`Token Inspector: ${reply.message}`);
      return undefined;
    }
    const sc = reply.scores;
    const ids = [...new Set(Array.from(sc.topIds).filter((id) => id >= 0))];
    const texts = await this.ctx.worker.request({ kind: 'tokenTexts', tokenizer: this.ctx.settings.tokenizerFor(doc), ids });
    const nan = (): Float64Array => new Float64Array(sc.count).fill(NaN);
    return {
      model: { id: spec === 'remote' ? reply.model : spec, description: spec === 'remote' ? 'remote endpoint (rank and entropy unavailable)' : `ONNX causal LM ${spec}` },
      count: sc.count,
      logProbs: sc.logProbs,
      ranks: sc.ranks ?? nan(),
      entropies: sc.entropies ?? nan(),
      topK: sc.topK,
      topIds: sc.topIds,
      topLogProbs: sc.topLogProbs,
      topTexts: texts.kind === 'tokenTexts' ? texts.texts : {},
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
          this.scores.set(key, { version: a.version, tokenizerKey: a.tokenizerKey, scores });
          this.ctx.log(`scores ${key} v${a.version} ${spec} count=${scores.count}`);
          if (a.version === doc.version) this.emitter.fire(doc);
        }
      } catch (e) {
        this.ctx.log(`scores failed: ${(e as Error).message}`);
      } finally {
        this.inFlight.delete(key);
      }
      if (doc.version !== a.version) this.schedule(doc);
      return;
    }
    this.inFlight.add(key);
    const t = this.target(doc);
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
      const reply = await this.ctx.worker.request({ kind: 'score', ...t }, (d, n) => progress?.(d, n));
      finishProgress?.();
      if (reply.kind === 'scores') {
        this.scores.set(key, { version: reply.version, tokenizerKey: tokenizerRefKey(t.tokenizer), scores: reply.scores });
        this.ctx.log(`scores ${key} v${reply.version} ${reply.scores.model.id} count=${reply.scores.count}`);
        if (reply.version === doc.version) this.emitter.fire(doc);
      } else if (reply.kind === 'error') {
        this.ctx.log(`scores failed: ${reply.message}`);
        void vscode.window.showWarningMessage(`Token Inspector: ${reply.message}`);
      }
    } catch (e) {
      this.ctx.log(`scores failed: ${(e as Error).message}`);
    } finally {
      this.inFlight.delete(key);
    }
    if (doc.version !== t.version) this.schedule(doc);
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
      const reply = await this.ctx.worker.request({ kind: 'retrain', tokenizer: t.tokenizer, workspaceRoot: t.workspaceRoot as string, storageDir: t.storageDir }, (d, n) => p.report({ message: `${d}/${n} files` }));
      if (reply.kind === 'trained') {
        this.ctx.log(`retrained: ${reply.description}`);
        if (!quiet) void vscode.window.showInformationMessage(`Token Inspector: ${reply.description}`);
      }
    });
    this.scores.clear();
    this.refreshVisible();
  }

  /** The exact next-byte distribution (with the naive and token-healing baselines) at a UTF-16 offset. */
  async nextBytes(doc: vscode.TextDocument, utf16Offset: number): Promise<NextBytesPayload | undefined> {
    // The exact next-byte view runs on the workspace n-gram (a neural model would need many forward passes per byte).
    if (!this.ctx.analyses.current(doc) || this.ctx.settings.probabilityModel() !== WORKSPACE_NGRAM) return undefined;
    const reply = await this.ctx.worker.request({ kind: 'nextBytes', ...this.target(doc), utf16Offset }).catch(() => undefined);
    if (reply?.kind === 'nextBytes' && reply.version === doc.version) return reply.result;
    if (reply?.kind === 'error') this.ctx.log(`next bytes failed: ${reply.message}`);
    return undefined;
  }
}

const pct = (p: number): string => (p >= 0.1 ? `${(p * 100).toFixed(1)}%` : p >= 0.001 ? `${(p * 100).toFixed(2)}%` : p.toExponential(1));

/** The hover's probability section for tokens first..last. */
export function probabilityMarkdown(view: DocumentScoresView, first: number, last: number): string {
  const s = view.scores;
  let md = `\n**${s.model.id}** (${s.model.description})\n\n| # | log-prob | p | surprisal | rank | entropy | top alternatives |\n|---:|---:|---:|---:|---:|---:|---|\n`;
  for (let i = first; i <= last; i++) {
    const lp = s.logProbs[i];
    const h = s.entropies[i];
    const alts: string[] = [];
    for (let j = 0; j < s.topK; j++) {
      const id = s.topIds[i * s.topK + j];
      if (id < 0) break;
      const text = (s.topTexts[id] ?? '').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/ /g, '·').replace(/[|`]/g, (c) => `\\${c}`);
      alts.push(`\`${text || '∅'}\` ${pct(Math.exp(s.topLogProbs[i * s.topK + j]))}`);
    }
    md += `| ${i} | ${lp.toFixed(3)} | ${pct(Math.exp(lp))} | ${(-lp / Math.LN2).toFixed(2)} bits | ${s.ranks[i]} | ${Number.isNaN(h) ? '—' : `${(h / Math.LN2).toFixed(2)} bits`} | ${alts.join(', ')} |\n`;
  }
  md += `\nColours: rank in the model's distribution, GLTR-style: top 10 · top 100 · top 1000 · beyond.\n`;
  return md;
}

/** The hover's next-byte line: the most probable next characters, exact next to naive. */
export function nextBytesMarkdown(r: NextBytesPayload): string {
  const chars = r.topCharacters.slice(0, 5).map((c) => `\`${c.text.replace(/\n/g, '\\n').replace(/ /g, '·').replace(/`/g, "'") || '∅'}\` ${pct(c.probability)}`);
  return `\nNext character here${r.exact ? '' : ` (within a ${r.window}-byte window)`}: ${chars.join(', ')}\n`;
}
