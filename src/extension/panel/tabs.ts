/**
 * The panel's tabs on the host side, by id (the ids, titles and order are src/panelTabs.ts). Adding a tab:
 * its entry in PANEL_TABS, its module here and its module in webview/panel/tabs.ts; the compiler asks for
 * each, and for a tab that handles every webview message type.
 */
import type { PanelTabId } from '../../panelTabs';
import { compareTab } from './compare';
import { featureTab } from './feature';
import { featuresTab } from './features';
import { nextByteTab } from './nextByte';
import { premiumsTab } from './premiums';
import { scratchTab } from './scratch';
import type { FromWebviewType, PanelTabModule, ToWebviewType } from './tab';
import { tokensTab } from './tokens';

export type AnyPanelTabModule = PanelTabModule<FromWebviewType, ToWebviewType>;

export const HOST_TABS = {
  tokens: tokensTab,
  scratch: scratchTab,
  compare: compareTab,
  premiums: premiumsTab,
  nextByte: nextByteTab,
  features: featuresTab,
  feature: featureTab,
} satisfies { readonly [K in PanelTabId]: AnyPanelTabModule };

/** The webview messages the shell handles itself (the panel's life, and the tokenizer picker and buttons it shares with the sidebar). */
export const SHELL_HANDLES = ['ready', 'mode', 'setTokenizer', 'run'] as const satisfies readonly FromWebviewType[];

type HandledBy<M> = M extends PanelTabModule<infer H, ToWebviewType> ? H : never;
type Routed = (typeof SHELL_HANDLES)[number] | HandledBy<(typeof HOST_TABS)[PanelTabId]>;
/**
 * `true` while every webview message type has a handler (the shell's or a tab's); otherwise an object naming
 * the unrouted types, so that the shell's `true` for it stops compiling.
 */
export type EveryMessageRouted = [Exclude<FromWebviewType, Routed>] extends [never] ? true : { readonly unrouted: Exclude<FromWebviewType, Routed> };
