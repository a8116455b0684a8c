/**
 * What a panel tab is on the host side: a module that declares the webview messages it handles and the ones
 * it sends, and makes the tab from the extension's context and what the panel shell gives it. The shell
 * (panel.ts) routes each webview message to the one tab that handles it (the table is tabs.ts).
 */
import * as vscode from 'vscode';
import type { ByType } from '../../panelTabs';
import type { HostToWebview, WebviewToHost } from '../../protocol';
import type { Ctx } from '../context';

export type FromWebviewType = WebviewToHost['type'];
export type ToWebviewType = HostToWebview['type'];
export type FromWebview<T extends FromWebviewType> = ByType<WebviewToHost>[T];
export type ToWebview<T extends ToWebviewType> = ByType<HostToWebview>[T];

/** What the panel shell gives a tab. */
export interface PanelHost<S extends ToWebviewType> {
  /** The editor the panel follows: the last text editor that was active while the panel was open. */
  editor(): vscode.TextEditor | undefined;
  /** Whether the panel exists (it may be behind other editors). */
  isOpen(): boolean;
  /** Whether this tab is the one selected. */
  isShown(): boolean;
  /** Posts to the webview once it is ready; before that the message is dropped (the tab resends on ready). */
  post(message: ToWebview<S>): void;
}

export interface PanelTab<H extends FromWebviewType> {
  /** One of the messages the module declares in `handles`. */
  handle?(message: FromWebview<H>): Promise<void> | void;
  /** The webview (re)loaded: send what the tab shows. */
  onReady?(): void;
  /** The tab was selected, in the webview or by a command. */
  onShown?(): void;
  /** The panel follows another editor now. */
  onEditor?(): void;
  dispose?(): void;
}

export interface PanelTabModule<H extends FromWebviewType, S extends ToWebviewType> {
  /** The webview messages this tab handles: each message type is routed to one tab. */
  readonly handles: readonly H[];
  /** The messages this tab sends (`host.post` accepts only these). */
  readonly sends: readonly S[];
  create(ctx: Ctx, host: PanelHost<S>): PanelTab<H>;
}

/** Declares a tab module (infers its message types from the lists). */
export function panelTab<H extends FromWebviewType = never, S extends ToWebviewType = never>(module: PanelTabModule<H, S>): PanelTabModule<H, S> {
  return module;
}

/** Selects UTF-16 range [u0, u1) in the editor and brings it into view. */
export async function selectRange(ed: vscode.TextEditor, u0: number, u1: number): Promise<void> {
  const start = ed.document.positionAt(u0);
  const end = ed.document.positionAt(u1);
  const shown = await vscode.window.showTextDocument(ed.document, { viewColumn: ed.viewColumn, preserveFocus: false });
  shown.selection = new vscode.Selection(start, end);
  shown.revealRange(new vscode.Range(start, end), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

/** The file name without its folders. */
export function baseName(doc: vscode.TextDocument): string {
  return doc.fileName.split(/[\\/]/).pop() ?? doc.fileName;
}
