/**
 * What a panel tab is in the webview: it draws into its tab panel and declares the host messages it shows
 * (the shell, main.ts, hands each message to every tab that receives it). The table is tabs.ts.
 */
import type { ByType } from '../../src/panelTabs';
import type { HostToWebview } from '../../src/protocol';

export type ToWebviewType = HostToWebview['type'];
export type ToWebview<T extends ToWebviewType> = ByType<HostToWebview>[T];

export interface WebviewTab<R extends ToWebviewType> {
  /** The host messages this tab shows. */
  readonly receives: readonly R[];
  onMessage(message: ToWebview<R>): void;
}

/** A tab's module: makes the tab in its (empty) tab panel. */
export type WebviewTabModule = (container: HTMLElement) => WebviewTab<ToWebviewType>;

/** Declares a tab (infers the messages it receives from the list). */
export function webviewTab<R extends ToWebviewType>(tab: WebviewTab<R>): WebviewTab<R> {
  return tab;
}
