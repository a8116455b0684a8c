/**
 * The panel's Features tab, host side: the followed document's SAE features (resent only when they are a new
 * result), the run state with progress, and the highlighted feature; runs, cancels and highlights for the
 * webview. The webview side is webview/panel/features.ts.
 */
import * as vscode from 'vscode';
import type { Ctx } from '../context';
import type { FeaturesView } from '../featureView';
import { baseName, panelTab, selectRange, type FromWebview, type PanelHost, type PanelTab } from './tab';

type Handles = 'runFeatures' | 'cancelFeatures' | 'highlightFeature' | 'showFeatureInWorkspace' | 'selectFeatureToken';

class FeaturesTab implements PanelTab<Handles> {
  /** What the tab shows: a result (each run makes a new one), none for a document, or unknown after a reload. */
  private sent: FeaturesView | string | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly ctx: Pick<Ctx, 'features'>,
    private readonly host: PanelHost<'features'>,
  ) {
    this.disposables = [
      ctx.features.onDidChange((doc) => {
        if (doc === host.editor()?.document) this.send();
      }),
    ];
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  onReady(): void {
    this.sent = undefined;
    this.send();
  }

  onEditor(): void {
    this.send();
  }

  async handle(m: FromWebview<Handles>): Promise<void> {
    // The workspace view needs no editor: the Feature tab reads the workspace feature index.
    if (m.type === 'showFeatureInWorkspace') return void vscode.commands.executeCommand('tokenInspector.showFeature', m.feature);
    const ed = this.host.editor();
    if (!ed) return;
    const { features } = this.ctx;
    switch (m.type) {
      case 'runFeatures':
        // The tab shows its own progress, Cancel button and messages.
        await features.run(ed.document, { encoder: m.encoder ?? undefined, k: m.k ?? undefined, m: m.m ?? undefined }, false);
        return;
      case 'cancelFeatures':
        features.cancel(ed.document);
        return;
      case 'highlightFeature':
        features.highlight(ed.document, m.feature);
        return;
      case 'selectFeatureToken': {
        const v = features.current(ed.document);
        if (!v || m.index >= v.result.tokenCount) return;
        return selectRange(ed, v.result.utf16Start[m.index], v.result.utf16End[m.index]);
      }
    }
  }

  /** The run state always, the features themselves only when they changed. */
  private send(): void {
    const ed = this.host.editor();
    if (!ed || ed.document.isClosed) {
      this.sent = undefined;
      return this.host.post({ type: 'features', view: null, running: false, progress: 0, highlighted: null, message: 'Open a file to see its features.' });
    }
    const { features } = this.ctx;
    const doc = ed.document;
    const v = features.current(doc);
    const st = features.state(doc);
    const key = v ?? `none:${doc.uri.toString()}`;
    const changed = key !== this.sent;
    this.sent = key;
    const view = !changed ? undefined : v ? { fileName: baseName(doc), version: v.version, text: doc.getText(), result: v.result } : null;
    this.host.post({ type: 'features', view, running: st.running, progress: st.progress, message: st.message, highlighted: features.highlighted(doc) });
  }
}

export const featuresTab = panelTab({
  handles: ['runFeatures', 'cancelFeatures', 'highlightFeature', 'showFeatureInWorkspace', 'selectFeatureToken'],
  sends: ['features'],
  create: (ctx, host) => new FeaturesTab(ctx, host),
});
