/**
 * The panel's tabs, in the order they are shown: the one list the host (src/extension/panel/tabs.ts) and the
 * webview (webview/panel/tabs.ts) both build from, matched by id. Plain constants: it bundles for the browser.
 */
export const PANEL_TABS = [
  { id: 'tokens', title: 'Tokens' },
  { id: 'scratch', title: 'Scratch' },
  { id: 'compare', title: 'Compare' },
  { id: 'premiums', title: 'Language premiums' },
  { id: 'nextByte', title: 'Next byte' },
  { id: 'features', title: 'Features' },
  { id: 'feature', title: 'Feature' },
] as const;

export type PanelTabId = (typeof PANEL_TABS)[number]['id'];

export const PANEL_TAB_IDS: readonly PanelTabId[] = PANEL_TABS.map((t) => t.id);

export function isPanelTabId(x: unknown): x is PanelTabId {
  return (PANEL_TAB_IDS as readonly unknown[]).includes(x);
}

/** A message union as a map from each message's `type` to that message: how either side types a tab's messages. */
export type ByType<U extends { readonly type: string }> = { readonly [M in U as M['type']]: M };
