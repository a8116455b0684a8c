/**
 * The features lens: SAE feature activations per token, computed in the model worker (the model's hidden
 * states at the SAE's hook, then the chosen encoder), shown in the hover, the panel, and as a heatmap of one
 * feature across the document. Results belong to one version of one document and are never shown for another;
 * after an edit they are recomputed (debounced) for documents the user ran them on.
 */
import * as vscode from 'vscode';
import type { EncoderKind } from '../core/sae/encode';
import { KeyedDebouncer } from './debounce';
import { featureAcrossTokens } from '../core/sae/rows';
import type { Ctx } from './context';
import type { FeaturesView } from './featureView';
import { documentLabel } from './requestLabels';
import { SECTION } from './settings';
import { WorkerCancelledError, WorkerRequestError } from './workerClient';

/** What the panel may change for one run; the settings give the rest. */
export interface FeatureRunOptions {
  readonly encoder?: EncoderKind;
  readonly k?: number;
  readonly m?: number;
}

export interface FeatureRunState {
  readonly running: boolean;
  /** 0..1 while running. */
  readonly progress: number;
  readonly message?: string;
}

const RERUN_AFTER_EDIT_MS = 1500;
/** Heatmap steps: a token's activation as a share of the feature's strongest in the document. */
const HEAT_LEVELS = 6;
/** At most this many tokens are painted for one feature (the strongest). */
const MAX_HEAT_RANGES = 20_000;

export class FeatureService implements vscode.Disposable {
  private readonly views = new Map<string, FeaturesView>();
  /** Documents the user ran features on: edits recompute them. */
  private readonly following = new Set<string>();
  private readonly timers = new KeyedDebouncer();
  private readonly running = new Map<string, AbortController>();
  private readonly states = new Map<string, FeatureRunState>();
  private readonly runOptions = new Map<string, FeatureRunOptions>();
  private readonly emitter = new vscode.EventEmitter<vscode.TextDocument>();
  /** Fires when a document's features, run state or highlighted feature change. */
  readonly onDidChange = this.emitter.event;
  private highlightedFeature: { docKey: string; feature: number } | undefined;
  private readonly heatTypes = Array.from({ length: HEAT_LEVELS }, (_, i) =>
    vscode.window.createTextEditorDecorationType({
      backgroundColor: `rgba(230, 120, 20, ${(0.12 + (0.6 * (i + 1)) / HEAT_LEVELS).toFixed(2)})`,
      borderRadius: '2px',
      overviewRulerColor: i >= HEAT_LEVELS / 2 ? 'rgba(230, 120, 20, 0.8)' : undefined,
      overviewRulerLane: vscode.OverviewRulerLane.Center,
    }),
  );
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: Pick<Ctx, 'settings' | 'models' | 'log'>) {
    this.disposables.push(
      this.emitter,
      ...this.heatTypes,
      vscode.workspace.onDidChangeTextDocument((e) => {
        const key = e.document.uri.toString();
        if (!e.contentChanges.length) return;
        this.running.get(key)?.abort();
        if (this.highlightedFeature?.docKey === key) this.paint();
        if (this.following.has(key)) this.schedule(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        const key = doc.uri.toString();
        this.running.get(key)?.abort();
        this.views.delete(key);
        this.following.delete(key);
        this.states.delete(key);
        this.timers.cancel(key);
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.paint()),
    );
  }

  dispose(): void {
    this.timers.dispose();
    for (const c of this.running.values()) c.abort();
    for (const d of this.disposables) d.dispose();
  }

  /** Features for the document's current version, if computed. */
  current(doc: vscode.TextDocument): FeaturesView | undefined {
    const v = this.views.get(doc.uri.toString());
    return v && v.version === doc.version ? v : undefined;
  }

  state(doc: vscode.TextDocument): FeatureRunState {
    return this.states.get(doc.uri.toString()) ?? { running: false, progress: 0 };
  }

  highlighted(doc: vscode.TextDocument): number | null {
    return this.highlightedFeature?.docKey === doc.uri.toString() ? this.highlightedFeature.feature : null;
  }

  private setState(doc: vscode.TextDocument, s: FeatureRunState): void {
    this.states.set(doc.uri.toString(), s);
    this.emitter.fire(doc);
  }

  private schedule(doc: vscode.TextDocument): void {
    this.timers.schedule(doc.uri.toString(), RERUN_AFTER_EDIT_MS, () => {
      if (!doc.isClosed) void this.run(doc, undefined, false);
    });
  }

  cancel(doc: vscode.TextDocument): void {
    this.running.get(doc.uri.toString())?.abort();
    this.following.delete(doc.uri.toString());
  }

  /**
   * Computes the document's features. `options` (from the panel) stick to the document for later re-runs;
   * `loud` runs show their progress in the status bar and their errors as messages (the panel shows both).
   */
  async run(doc: vscode.TextDocument, options?: FeatureRunOptions, loud = true): Promise<FeaturesView | undefined> {
    const key = doc.uri.toString();
    if (options) this.runOptions.set(key, options);
    const model = this.ctx.settings.featureModel();
    const sae = this.ctx.settings.sae();
    if (!model || !sae) {
      const message = !model
        ? 'Set tokenInspector.featureModel to an ONNX model folder or hub repo id (the model whose hidden states the SAE reads).'
        : 'Set tokenInspector.sae to an SAE folder (SAELens, sparsify), a Gemma Scope params.npz, or a hub repo id with tokenInspector.saeId.';
      this.setState(doc, { running: false, progress: 0, message });
      if (loud) {
        const pick = await vscode.window.showWarningMessage(`Token Inspector: ${message}`, 'Open Settings');
        if (pick) await vscode.commands.executeCommand('workbench.action.openSettings', !model ? 'tokenInspector.featureModel' : 'tokenInspector.sae');
      }
      return undefined;
    }
    this.running.get(key)?.abort();
    const ac = new AbortController();
    this.running.set(key, ac);
    this.following.add(key);
    const version = doc.version;
    const o = { ...sae, ...this.runOptions.get(key) };
    this.setState(doc, { running: true, progress: 0 });
    const work = async (report: (share: number) => void): Promise<FeaturesView | undefined> => {
      let result;
      try {
        result = await this.ctx.models.request(
          'features',
          {
            model: { spec: model },
            hub: this.ctx.settings.hub(),
            sae: { spec: sae.spec, subfolder: sae.subfolder, hook: sae.hook, labels: sae.labels },
            text: doc.getText(),
            encoder: o.encoder,
            k: o.k,
            m: o.m,
            allowSpecial: this.ctx.settings.allowSpecial(doc),
          },
          {
            label: `SAE features of ${documentLabel(doc)} with ${sae.spec} (${SECTION}.sae) on ${model} (${SECTION}.featureModel)`,
            signal: ac.signal,
            // A download reports bytes of the files' total (when the hub gave their sizes), then the model reports windows.
            onProgress: (p) => report(p.stage === 'download' ? (p.download.total ? p.download.bytes / p.download.total : 0) : p.total ? p.done / p.total : 0),
          },
        );
      } catch (e) {
        if (e instanceof WorkerCancelledError) {
          // A newer run replaced this one: its state stands.
          if (this.running.get(key) === ac) this.setState(doc, { running: false, progress: 0, message: 'Cancelled.' });
          return undefined;
        }
        if (!(e instanceof WorkerRequestError)) throw e;
        this.ctx.log(`features failed: ${e.message}`);
        this.following.delete(key);
        this.setState(doc, { running: false, progress: 0, message: e.message });
        if (loud) void vscode.window.showErrorMessage(`Token Inspector: ${e.message}`);
        return undefined;
      }
      // An edit during the run makes it stale: it is dropped, and the edit schedules a new one.
      if (doc.isClosed || doc.version !== version) return undefined;
      const view: FeaturesView = { docKey: key, version, result };
      this.views.set(key, view);
      this.ctx.log(`features ${key} v${version} ${result.encoder} tokens=${result.tokenCount} entries=${result.featureIndex.length} top=${result.ranking[0]?.index ?? -1} ms=${Math.round(result.elapsedMs)}`);
      this.setState(doc, { running: false, progress: 1 });
      this.paint();
      return view;
    };
    try {
      if (!loud) return await work((share) => this.setState(doc, { running: true, progress: share }));
      // The status bar shows that it runs; the panel's Features tab shows how far, with a Cancel button.
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'SAE features' }, (progress) =>
        work((share) => {
          progress.report({ message: `${Math.round(share * 100)}%` });
          this.setState(doc, { running: true, progress: share });
        }),
      );
    } catch (e) {
      this.ctx.log(`features failed: ${(e as Error).message}`);
      this.setState(doc, { running: false, progress: 0, message: (e as Error).message });
      return undefined;
    } finally {
      if (this.running.get(key) === ac) this.running.delete(key);
    }
  }

  /** Highlights feature f across the document (null clears), in the editor and the panel. */
  highlight(doc: vscode.TextDocument, feature: number | null): void {
    this.highlightedFeature = feature === null ? undefined : { docKey: doc.uri.toString(), feature };
    this.paint();
    this.ctx.log(`feature highlight ${feature ?? 'none'}`);
    this.emitter.fire(doc);
  }

  /** Paints the highlighted feature's heatmap in every visible editor of its document (and clears the others). */
  private paint(): void {
    const h = this.highlightedFeature;
    for (const ed of vscode.window.visibleTextEditors) {
      const view = h && ed.document.uri.toString() === h.docKey ? this.current(ed.document) : undefined;
      const levels: vscode.Range[][] = this.heatTypes.map(() => []);
      if (view && h) {
        const p = view.result;
        const acts = featureAcrossTokens(p, h.feature);
        let max = 0;
        for (const a of acts) max = Math.max(max, a);
        const order = [...acts.keys()].filter((t) => acts[t] > 0 && !p.added[t]).sort((a, b) => acts[b] - acts[a]).slice(0, MAX_HEAT_RANGES);
        for (const t of order) {
          const level = Math.min(HEAT_LEVELS - 1, Math.floor((acts[t] / max) * HEAT_LEVELS));
          levels[level].push(new vscode.Range(ed.document.positionAt(p.utf16Start[t]), ed.document.positionAt(p.utf16End[t])));
        }
      }
      this.heatTypes.forEach((type, i) => ed.setDecorations(type, levels[i]));
    }
  }
}
