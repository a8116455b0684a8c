/**
 * The panel beside the code: the shell around its tabs (tabs.ts). It owns the webview and the editor the
 * panel follows, validates every message from the webview and routes it to the tab that handles it; the
 * tabs send what they show. Heavy work runs in the workers.
 */
import * as vscode from 'vscode';
import { isPanelTabId, PANEL_TABS, type PanelTabId } from '../../panelTabs';
import { isWebviewToHost, type HostToWebview } from '../../protocol';
import { WEBVIEW_RUN_COMMANDS } from '../commandIds';
import type { Ctx } from '../context';
import { setTokenizer } from '../tokenizerPicker';
import { webviewHtml, webviewOptions } from '../webviewHtml';
import type { FromWebview, FromWebviewType, PanelHost, PanelTab } from './tab';
import { HOST_TABS, SHELL_HANDLES, type AnyPanelTabModule, type EveryMessageRouted } from './tabs';

type ShellMessage = FromWebview<(typeof SHELL_HANDLES)[number]>;
type AnyTab = PanelTab<FromWebviewType>;

function isShellMessage(m: FromWebview<FromWebviewType>): m is ShellMessage {
  return (SHELL_HANDLES as readonly string[]).includes(m.type);
}

/** Each message type to the one tab that handles it. `routed` is `true` only while every type has a handler. */
function routeTable(tabs: readonly (readonly [AnyPanelTabModule, AnyTab])[], _routed: EveryMessageRouted): Map<FromWebviewType, AnyTab> {
  const routes = new Map<FromWebviewType, AnyTab>();
  for (const [module, tab] of tabs) {
    for (const type of module.handles) {
      if (routes.has(type) || (SHELL_HANDLES as readonly string[]).includes(type)) throw new Error(`panel: two handlers for the webview message '${type}'`);
      if (!tab.handle) throw new Error(`panel: a tab declares the webview message '${type}' but has no handler`);
      routes.set(type, tab);
    }
  }
  return routes;
}

/** What the webview saves with vscode.setState (webview/panel/main.ts), read back when VS Code restores the panel. */
export function restoredTab(state: unknown): PanelTabId {
  const mode = typeof state === 'object' && state !== null ? (state as { mode?: unknown }).mode : undefined;
  return isPanelTabId(mode) ? mode : 'tokens';
}

export class TokenPanel implements vscode.Disposable, vscode.WebviewPanelSerializer {
  static readonly viewType = 'tokenInspector.panel';
  private panel: vscode.WebviewPanel | undefined;
  private editor: vscode.TextEditor | undefined;
  private mode: PanelTabId = 'tokens';
  private ready = false;
  private readonly tabs = new Map<PanelTabId, AnyTab>();
  private readonly routes: Map<FromWebviewType, AnyTab>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: Ctx) {
    const made: (readonly [AnyPanelTabModule, AnyTab])[] = [];
    for (const { id } of PANEL_TABS) {
      const module: AnyPanelTabModule = HOST_TABS[id];
      const tab = module.create(ctx, this.hostFor(id));
      this.tabs.set(id, tab);
      made.push([module, tab]);
    }
    this.routes = routeTable(made, true);
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        if (ed && this.panel) {
          this.editor = ed;
          for (const tab of this.tabs.values()) tab.onEditor?.();
        }
      }),
      ctx.settings.onDidChange('panel', () => this.sendTokenizers()),
    );
  }

  dispose(): void {
    this.panel?.dispose();
    for (const tab of this.tabs.values()) tab.dispose?.();
    for (const d of this.disposables) d.dispose();
  }

  /** What a tab sees of the shell. */
  private hostFor(id: PanelTabId): PanelHost<HostToWebview['type']> {
    return {
      editor: () => this.editor,
      isOpen: () => this.panel !== undefined,
      isShown: () => this.mode === id,
      post: (m) => this.post(m),
    };
  }

  /** Opens the panel (or brings it forward) on a tab, following the active editor. */
  show(mode: PanelTabId): void {
    this.mode = mode;
    const editor = vscode.window.activeTextEditor ?? this.editor;
    const followsAnother = editor !== this.editor;
    this.editor = editor;
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      this.post({ type: 'mode', mode });
      if (followsAnother) for (const tab of this.tabs.values()) tab.onEditor?.();
      this.tabs.get(mode)?.onShown?.();
      return;
    }
    const panel = vscode.window.createWebviewPanel(TokenPanel.viewType, 'Token Inspector', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      ...webviewOptions(this.ctx.storage.extensionUri),
      retainContextWhenHidden: true,
    });
    this.adopt(panel);
  }

  /**
   * A panel VS Code kept across a window reload (registered with registerWebviewPanelSerializer): it gets its
   * page again, on the tab it showed, following the active editor.
   */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    this.panel?.dispose();
    this.mode = restoredTab(state);
    this.editor = vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0] ?? this.editor;
    panel.webview.options = webviewOptions(this.ctx.storage.extensionUri);
    this.adopt(panel);
    this.ctx.log(`panel restored on ${this.mode}`);
  }

  private adopt(panel: vscode.WebviewPanel): void {
    const { extensionUri } = this.ctx.storage;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'token-inspector.svg');
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'panel', 'Token Inspector');
    panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m));
    panel.onDidDispose(() => {
      if (this.panel !== panel) return;
      this.panel = undefined;
      this.ready = false;
    });
    this.panel = panel;
  }

  private post(msg: HostToWebview): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(msg);
  }

  private sendTokenizers(): void {
    const { settings } = this.ctx;
    this.post({
      type: 'tokenizers',
      all: settings.tokenizerChoices(),
      compare: settings.compareTokenizerIds(),
      reference: settings.referenceTokenizerId(),
      current: settings.tokenizerFor(this.editor?.document).id,
    });
  }

  private onMessage(raw: unknown): void {
    if (!isWebviewToHost(raw)) {
      this.ctx.log(`panel: ignored an invalid message ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    const fail = (e: Error): void => this.ctx.log(`panel: ${e.message}`);
    try {
      void Promise.resolve(isShellMessage(raw) ? this.handle(raw) : this.routes.get(raw.type)?.handle?.(raw)).catch(fail);
    } catch (e) {
      fail(e as Error);
    }
  }

  private async handle(m: ShellMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.sendTokenizers();
        this.post({ type: 'mode', mode: this.mode });
        for (const tab of this.tabs.values()) tab.onReady?.();
        this.tabs.get(this.mode)?.onShown?.();
        return;
      case 'mode':
        this.mode = m.mode;
        this.tabs.get(m.mode)?.onShown?.();
        return;
      case 'setTokenizer':
        if (this.ctx.settings.resolveTokenizer(m.id)) await setTokenizer(this.ctx.settings, m.id, undefined);
        return;
      case 'run':
        await vscode.commands.executeCommand(WEBVIEW_RUN_COMMANDS[m.command]);
        return;
    }
  }
}
