/**
 * The panel's tabs in the webview, by id (the ids, titles and order are src/panelTabs.ts; the host side is
 * src/extension/panel/tabs.ts). Each module draws into its own tab panel.
 */
import type { PanelTabId } from '../../src/panelTabs';
import { createCompareView } from './compare';
import { createFeatureView } from './feature';
import { createFeaturesView } from './features';
import { createNextByteView } from './nextByte';
import { createPremiumsView } from './premiums';
import { createScratchView } from './scratch';
import { webviewTab, type WebviewTabModule } from './tab';
import { createTokensView } from './tokens';

export const WEBVIEW_TABS: { readonly [K in PanelTabId]: WebviewTabModule } = {
  tokens: createTokensView,
  scratch: createScratchView,
  compare: createCompareView,
  premiums: createPremiumsView,
  nextByte: createNextByteView,
  features: (container) => {
    const view = createFeaturesView(container);
    return webviewTab({ receives: ['features', 'cursor'], onMessage: (m) => (m.type === 'features' ? view.onMessage(m) : view.onCursor(m.utf16Offset)) });
  },
  feature: createFeatureView,
};
