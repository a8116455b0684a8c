/**
 * The workspace feature index on the extension side: **Index Workspace Features** builds it in the model worker
 * (a notification with progress and Cancel), a saved file updates it (only that file is read through the model),
 * **Find Feature…** searches it (by index, by label, or by the features that fire most on the selection) and the
 * panel's Feature tab shows one feature. The index is saved in the extension's global storage, one file per
 * folder, model and SAE.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import type { FeatureReport } from '../core/sae/workspaceIndex/featureReport';
import type { FoundFeature, SaeRef } from '../protocol/modelWorker';
import type { Ctx } from './context';
import { SECTION } from './settings';
import { WorkerCancelledError, WorkerRequestError } from './workerClient';

export interface FeatureViewState {
  readonly report: FeatureReport | null;
  readonly root: string | null;
  readonly indexing: { readonly done: number; readonly total: number } | null;
  readonly message?: string;
}

interface Target {
  readonly folder: vscode.WorkspaceFolder;
  readonly model: string;
  readonly sae: SaeRef;
  readonly indexPath: string;
}

export class FeatureIndexService implements vscode.Disposable {
  private viewState: FeatureViewState = { report: null, root: null, indexing: null };
  private readonly emitter = new vscode.EventEmitter<void>();
  /** Fires when the feature shown or the indexing progress changes. */
  readonly onDidChange = this.emitter.event;
  private building: AbortController | undefined;
  private readonly disposables: vscode.Disposable[] = [this.emitter];

  constructor(private readonly ctx: Pick<Ctx, 'settings' | 'models' | 'log' | 'storage'>) {
    this.disposables.push(vscode.workspace.onDidSaveTextDocument((doc) => void this.updateFile(doc)));
  }

  dispose(): void {
    this.building?.abort();
    for (const d of this.disposables) d.dispose();
  }

  get state(): FeatureViewState {
    return this.viewState;
  }

  private set(s: Partial<FeatureViewState>): void {
    this.viewState = { ...this.viewState, ...s };
    this.emitter.fire();
  }

  /** The folder, model and SAE the index is of; undefined (with a message) when one is not set. */
  private target(loud: boolean): Target | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const model = this.ctx.settings.featureModel();
    const sae = this.ctx.settings.sae();
    const missing = !folder
      ? 'Open a folder to index its features.'
      : !model
        ? `Set ${SECTION}.featureModel to an ONNX model folder or hub repo id (the model whose hidden states the SAE reads).`
        : !sae
          ? `Set ${SECTION}.sae to an SAE folder (SAELens, sparsify), a Gemma Scope params.npz, or a hub repo id with ${SECTION}.saeId.`
          : undefined;
    if (missing || !folder || !model || !sae) {
      if (loud) void vscode.window.showWarningMessage(`Token Inspector: ${missing}`);
      return undefined;
    }
    const ref: SaeRef = { spec: sae.spec, subfolder: sae.subfolder, hook: sae.hook, labels: sae.labels };
    const key = createHash('sha256').update(JSON.stringify([folder.uri.fsPath, model, sae.spec, sae.subfolder ?? '', sae.hook ?? ''])).digest('hex').slice(0, 24);
    return { folder, model, sae: ref, indexPath: join(this.ctx.storage.featureIndexDir, `${key}.json`) };
  }

  private label(t: Target, what: string): string {
    return `${what} of ${t.folder.name} with ${t.sae.spec} (${SECTION}.sae) on ${t.model} (${SECTION}.featureModel)`;
  }

  /** Token Inspector: Index Workspace Features (also a refresh: files whose content is unchanged are not read again). */
  async build(): Promise<void> {
    const t = this.target(true);
    if (!t) return;
    this.building?.abort();
    const ac = new AbortController();
    this.building = ac;
    this.set({ indexing: { done: 0, total: 0 }, message: undefined });
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Token Inspector: indexing workspace features', cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => ac.abort());
        let lastShare = 0;
        try {
          const r = await this.ctx.models.request(
            'featureIndex',
            { model: { spec: t.model }, hub: this.ctx.settings.hub(), sae: t.sae, root: t.folder.uri.fsPath, exclude: this.ctx.settings.filesExclude(t.folder.uri), indexPath: t.indexPath },
            {
              label: this.label(t, 'indexing the SAE features'),
              signal: ac.signal,
              onProgress: (p) => {
                if (p.stage !== 'files' || !p.total) return;
                const share = p.done / p.total;
                progress.report({ message: `${p.done}/${p.total} files${p.path ? ` · ${p.path}` : ''}`, increment: (share - lastShare) * 100 });
                lastShare = share;
                this.set({ indexing: { done: p.done, total: p.total } });
              },
            },
          );
          this.ctx.log(`feature index files=${r.files} tokens=${r.tokens} indexed=${r.filesIndexed} unchanged=${r.filesUnchanged} removed=${r.filesRemoved} ms=${Math.round(r.elapsedMs)}`);
          this.set({ indexing: null, message: undefined });
          void vscode.window.setStatusBarMessage(`$(check) Token Inspector: ${r.files} files, ${r.tokens} tokens indexed for ${r.dSae} features`, 10_000);
        } catch (e) {
          this.set({ indexing: null, message: e instanceof WorkerCancelledError ? 'Indexing was cancelled.' : (e as Error).message });
          if (e instanceof WorkerCancelledError) return;
          this.ctx.log(`feature index failed: ${(e as Error).message}`);
          if (e instanceof WorkerRequestError) void vscode.window.showErrorMessage(`Token Inspector: ${e.message}`);
          else throw e;
        } finally {
          if (this.building === ac) this.building = undefined;
        }
      },
    );
  }

  /** A saved file of the indexed folder: its entry is brought up to date (only it is read through the model). */
  private async updateFile(doc: vscode.TextDocument): Promise<void> {
    if (doc.uri.scheme !== 'file' || this.building) return;
    const t = this.target(false);
    if (!t || !existsSync(t.indexPath)) return;
    const rel = relative(t.folder.uri.fsPath, doc.uri.fsPath);
    if (!rel || rel.startsWith('..')) return;
    const path = rel.split(sep).join('/');
    try {
      const r = await this.ctx.models.request(
        'featureIndex',
        { model: { spec: t.model }, hub: this.ctx.settings.hub(), sae: t.sae, root: t.folder.uri.fsPath, exclude: this.ctx.settings.filesExclude(t.folder.uri), indexPath: t.indexPath, only: [path] },
        { label: this.label(t, `updating the SAE feature index for ${path}`) },
      );
      this.ctx.log(`feature index update ${path} indexed=${r.filesIndexed} ms=${Math.round(r.elapsedMs)}`);
      if (r.filesIndexed && this.viewState.report) await this.show(this.viewState.report.index, false);
    } catch (e) {
      this.ctx.log(`feature index update of ${path} failed: ${(e as Error).message}`);
    }
  }

  /** Shows feature f in the panel's Feature tab. */
  async show(f: number, loud = true): Promise<void> {
    const t = this.target(loud);
    if (!t) return;
    try {
      const report = await this.ctx.models.request(
        'feature',
        { model: { spec: t.model }, hub: this.ctx.settings.hub(), sae: t.sae, indexPath: t.indexPath, feature: f },
        { label: this.label(t, `reading feature ${f} of the feature index`) },
      );
      this.ctx.log(`feature view ${f} contexts=${report.contexts.length} label=${report.label?.source ?? 'none'} effects=${report.logitEffects ? report.logitEffects.promoted.length : 0}`);
      this.set({ report, root: t.folder.uri.fsPath, message: undefined });
    } catch (e) {
      if (!(e instanceof WorkerRequestError)) throw e;
      this.set({ message: e.message });
      if (loud) void this.offerIndexing(e.message);
    }
  }

  private async offerIndexing(message: string): Promise<void> {
    const pick = await vscode.window.showErrorMessage(`Token Inspector: ${message}`, 'Index Workspace Features');
    if (pick) await this.build();
  }

  /**
   * Token Inspector: Find Feature…: the features of the index by strength, searched by index (`#12`) or label as
   * you type; with a selection, first the features that fire most on it.
   */
  async find(reveal: () => void): Promise<void> {
    const t = this.target(true);
    if (!t) return;
    const editor = vscode.window.activeTextEditor;
    const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : undefined;
    const request = (params: { query?: string; text?: string }) =>
      this.ctx.models.request(
        'findFeatures',
        { model: { spec: t.model }, hub: this.ctx.settings.hub(), sae: t.sae, indexPath: t.indexPath, allowSpecial: editor ? this.ctx.settings.allowSpecial(editor.document) : false, ...params },
        { label: this.label(t, 'searching the feature index') },
      );
    let all: readonly FoundFeature[];
    let onSelection: readonly FoundFeature[] = [];
    try {
      [all, onSelection] = await Promise.all([request({ query: '' }).then((r) => r.matches), selection ? request({ text: selection }).then((r) => r.matches) : Promise.resolve([])]);
    } catch (e) {
      if (!(e instanceof WorkerRequestError)) throw e;
      return void this.offerIndexing(e.message);
    }
    type Item = vscode.QuickPickItem & { feature?: number };
    const item = (m: FoundFeature, onText: boolean): Item => ({
      label: `#${m.index}`,
      description: m.label ? `${m.label.text}${m.label.source === 'automatic' ? ' (automatic)' : ''}` : undefined,
      detail: `${onText ? `total ${m.totalActivation?.toFixed(2)} on the selection · ` : ''}max ${m.maxActivation.toFixed(2)} · fires on ${(m.frequency * 100).toFixed(2)}% of the workspace's tokens`,
      feature: m.index,
    });
    const items: Item[] = [];
    if (onSelection.length) items.push({ label: 'Firing most on the selection', kind: vscode.QuickPickItemKind.Separator }, ...onSelection.map((m) => item(m, true)), { label: 'All features, strongest first', kind: vscode.QuickPickItemKind.Separator });
    items.push(...all.map((m) => item(m, false)));
    const pick = await vscode.window.showQuickPick(items, { title: 'Find Feature: type an index (#12) or words of its label', matchOnDescription: true, matchOnDetail: false });
    if (pick?.feature === undefined) return;
    reveal();
    await this.show(pick.feature);
  }
}
