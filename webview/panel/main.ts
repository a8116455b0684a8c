/**
 * The panel in the webview: the tab headers built from the shared tab list (src/panelTabs.ts), one module per
 * tab (tabs.ts), and the host's messages handed to the tabs that show them. It only renders what the
 * extension host sends.
 */
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import { isPanelTabId, PANEL_TABS, type PanelTabId } from '../../src/panelTabs';
import type { HostToWebview } from '../../src/protocol';
import { el, getState, onHostMessage, send, setState } from '../common';
import type { ToWebviewType, WebviewTab } from './tab';
import { WEBVIEW_TABS } from './tabs';

const app = document.getElementById('app') as HTMLElement;
const tabs = el('vscode-tabs', { 'selected-index': '0', panel: '' });
const views: WebviewTab<ToWebviewType>[] = [];
for (const { id, title } of PANEL_TABS) {
  // Element ids as the tests and styles know them: tab-nextbyte, nextbyte-view.
  const name = id.toLowerCase();
  const panel = el('vscode-tab-panel', { id: `${name}-view` });
  tabs.append(el('vscode-tab-header', { slot: 'header', id: `tab-${name}`, 'data-tab': id }, title), panel);
  views.push(WEBVIEW_TABS[id](panel));
}
app.append(tabs);

const headers = (): HTMLElement[] => [...tabs.querySelectorAll<HTMLElement>('vscode-tab-header')];

tabs.addEventListener('vsc-tabs-select', (e: Event) => {
  const i = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
  const id = headers()[i]?.getAttribute('data-tab');
  const mode = isPanelTabId(id) ? id : 'tokens';
  remember(mode);
  send({ type: 'mode', mode });
});

/** The tab shown, saved with the webview's state: VS Code hands it back when it restores the panel after a reload. */
function remember(mode: PanelTabId): void {
  const state = getState();
  setState({ ...(typeof state === 'object' && state !== null ? state : {}), mode });
}

function select(id: PanelTabId): void {
  const i = headers().findIndex((h) => h.getAttribute('data-tab') === id);
  if (i < 0) return;
  remember(id);
  tabs.setAttribute('selected-index', String(i));
  (tabs as unknown as { selectedIndex: number }).selectedIndex = i;
}

onHostMessage((m: HostToWebview) => {
  if (m.type === 'mode') return select(m.mode);
  for (const view of views) if (view.receives.includes(m.type)) view.onMessage(m);
});

send({ type: 'ready' });
