import type { WebviewToHost } from '../protocol';

/**
 * Every command the extension contributes, by id. No `vscode` here: a unit test checks this list against
 * package.json's `contributes.commands`, and the command table (commands.ts) must have exactly these keys.
 */
export const COMMAND_IDS = [
  'tokenInspector.selectTokenizer',
  'tokenInspector.addTokenizerFromFile',
  'tokenInspector.toggleBoundaries',
  'tokenInspector.showLargeFileHelp',
  'tokenInspector.showPanel',
  'tokenInspector.compareTokenizers',
  'tokenInspector.showLanguagePremiums',
  'tokenInspector.exportTokens',
  'tokenInspector.goToToken',
  'tokenInspector.splitByTokenBudget',
  'tokenInspector.copyTokenIds',
  'tokenInspector.selectModel',
  'tokenInspector.countAsChat',
  'tokenInspector.countFolder',
  'tokenInspector.showProbabilities',
  'tokenInspector.retrainModel',
  'tokenInspector.showNextByte',
  'tokenInspector.manageModels',
  'tokenInspector.showFeatures',
  'tokenInspector.highlightFeature',
  'tokenInspector.clearFeatureHighlight',
  'tokenInspector.indexWorkspaceFeatures',
  'tokenInspector.findFeature',
  'tokenInspector.showFeature',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];

/** The commands a webview's buttons may run (`{type: 'run'}` messages), by the name the webview sends. */
export const WEBVIEW_RUN_COMMANDS = {
  showPanel: 'tokenInspector.showPanel',
  compare: 'tokenInspector.compareTokenizers',
  premiums: 'tokenInspector.showLanguagePremiums',
  selectTokenizer: 'tokenInspector.selectTokenizer',
} as const satisfies Record<Extract<WebviewToHost, { type: 'run' }>['command'], CommandId>;
