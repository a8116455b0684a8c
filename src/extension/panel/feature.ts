/**
 * The panel's Feature tab, host side: one feature of the workspace feature index (src/extension/featureIndex.ts):
 * its label, frequency, histogram, top contexts and logit effects; a click on a context's token opens its file
 * there. The webview side is webview/panel/feature.ts.
 *
 * A tab of its own rather than a part of the Features tab: the Features tab is about the open document (its
 * tokens, its ranking, the heatmap) and follows the editor; this view is about one feature across the workspace
 * and stays on that feature while the user moves between the files its contexts open.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../context';
import { panelTab, type FromWebview, type PanelHost, type PanelTab } from './tab';

type Handled = 'openFeatureContext' | 'findFeature' | 'indexFeatures';

class FeatureTab implements PanelTab<Handled> {
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly ctx: Pick<Ctx, 'featureIndex' | 'log'>,
    private readonly host: PanelHost<'featureView'>,
  ) {
    this.subscription = ctx.featureIndex.onDidChange(() => this.send());
  }

  private send(): void {
    const s = this.ctx.featureIndex.state;
    this.host.post({ type: 'featureView', report: s.report, root: s.root, indexing: s.indexing, message: s.message });
  }

  onReady(): void {
    this.send();
  }

  onShown(): void {
    this.send();
  }

  async handle(m: FromWebview<Handled>): Promise<void> {
    if (m.type === 'findFeature') return void vscode.commands.executeCommand('tokenInspector.findFeature');
    if (m.type === 'indexFeatures') return void vscode.commands.executeCommand('tokenInspector.indexWorkspaceFeatures');
    const root = this.ctx.featureIndex.state.root;
    if (!root) return;
    // The path comes from the webview: only a file inside the indexed folder is opened.
    const file = resolve(join(root, m.path));
    const rel = relative(root, file);
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) return this.ctx.log(`feature context outside the indexed folder ignored: ${m.path}`);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    const range = new vscode.Range(doc.positionAt(m.utf16Start), doc.positionAt(m.utf16End));
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    this.ctx.log(`feature context opened ${m.path}:${m.utf16Start}-${m.utf16End} selected=${JSON.stringify(doc.getText(range))}`);
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

export const featureTab = panelTab({
  handles: ['openFeatureContext', 'findFeature', 'indexFeatures'],
  sends: ['featureView'],
  create: (ctx, host) => new FeatureTab(ctx, host),
});
