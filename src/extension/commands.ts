/**
 * The command table: every contributed command id (commandIds.ts) to its handler, registered in one loop by
 * `registerCommands`. A command's arguments come from wherever VS Code's `executeCommand` was called (menus,
 * links, other extensions): each handler checks them before use.
 */
import * as vscode from 'vscode';
import { countAsChat, countFolder, selectModel } from './apiCounts';
import { COMMAND_IDS, type CommandId } from './commandIds';
import type { Ctx } from './context';
import { featureName } from './featureView';
import type { TokenPanel } from './panel/panel';
import { SECTION } from './settings';
import { copyTokenIds, exportTokens, goToToken, splitSelectionByTokenBudget } from './tokenCommands';
import { addTokenizerFromFile, selectTokenizer } from './tokenizerPicker';

/** What commands reach: the context and the panel. */
export interface CommandCtx extends Ctx {
  readonly panel: TokenPanel;
}

type CommandHandler = (...args: unknown[]) => unknown;

const COMMANDS: { readonly [K in CommandId]: (ctx: CommandCtx) => CommandHandler } = {
  'tokenInspector.selectTokenizer': (ctx) => () => selectTokenizer(ctx),
  'tokenInspector.addTokenizerFromFile': (ctx) => (path?: unknown) => addTokenizerFromFile(ctx, typeof path === 'string' ? path : undefined),
  'tokenInspector.toggleBoundaries': (ctx) => () => ctx.settings.update('showBoundaries', !ctx.settings.get('showBoundaries'), vscode.ConfigurationTarget.Global),
  'tokenInspector.showLargeFileHelp': (ctx) => (path?: unknown) => showLargeFileHelp(ctx, typeof path === 'string' ? path : 'FILE'),
  'tokenInspector.showPanel': (ctx) => () => ctx.panel.show('tokens'),
  'tokenInspector.compareTokenizers': (ctx) => () => ctx.panel.show('compare'),
  'tokenInspector.showLanguagePremiums': (ctx) => () => ctx.panel.show('premiums'),
  'tokenInspector.exportTokens': (ctx) => () => exportTokens(ctx.analyses),
  'tokenInspector.goToToken': (ctx) => () => goToToken(ctx.analyses),
  'tokenInspector.splitByTokenBudget': (ctx) => () => splitSelectionByTokenBudget(ctx.analyses, ctx.editors),
  'tokenInspector.copyTokenIds': (ctx) => () => copyTokenIds(ctx.analyses),
  'tokenInspector.selectModel': (ctx) => () => selectModel(ctx),
  'tokenInspector.countAsChat': (ctx) => () => countAsChat(ctx),
  'tokenInspector.countFolder': (ctx) => (uri?: unknown) => countFolder(ctx, uri instanceof vscode.Uri ? uri : undefined),
  'tokenInspector.showProbabilities': (ctx) => () => ctx.settings.update('showProbabilities', !ctx.settings.get('showProbabilities'), vscode.ConfigurationTarget.Global),
  'tokenInspector.retrainModel': (ctx) => () => ctx.probabilities.retrain(),
  'tokenInspector.showNextByte': (ctx) => () => ctx.panel.show('nextByte'),
  'tokenInspector.manageModels': (ctx) => () => manageModels(ctx),
  'tokenInspector.showFeatures': (ctx) => () => showFeatures(ctx),
  'tokenInspector.highlightFeature': (ctx) => (feature?: unknown) => highlightFeature(ctx, feature),
  'tokenInspector.clearFeatureHighlight': (ctx) => () => {
    const doc = vscode.window.activeTextEditor?.document;
    if (doc) ctx.features.highlight(doc, null);
  },
  'tokenInspector.indexWorkspaceFeatures': (ctx) => () => ctx.featureIndex.build(),
  'tokenInspector.findFeature': (ctx) => () => ctx.featureIndex.find(() => ctx.panel.show('feature')),
  'tokenInspector.showFeature': (ctx) => (feature?: unknown) =>
    typeof feature === 'number' && Number.isInteger(feature) && feature >= 0 ? (ctx.panel.show('feature'), ctx.featureIndex.show(feature)) : ctx.featureIndex.find(() => ctx.panel.show('feature')),
};

/** Registers every command of the table. */
export function registerCommands(ctx: CommandCtx): vscode.Disposable[] {
  return COMMAND_IDS.map((id) => vscode.commands.registerCommand(id, COMMANDS[id](ctx)));
}

/** A file too large for VS Code to hand to extensions: the CLI command that counts it, to copy. */
async function showLargeFileHelp(ctx: Pick<Ctx, 'settings'>, file: string): Promise<void> {
  const tokenizer = ctx.settings.tokenizerFor(undefined);
  const cmd = `npx token-inspector tokenize "${file}" --tokenizer ${tokenizer.path ? `"${tokenizer.path}"` : tokenizer.id}`;
  const pick = await vscode.window.showInformationMessage(
    `VS Code does not hand files over 50 MB to extensions. The Token Inspector CLI counts them in bounded memory: ${cmd}`,
    'Copy Command',
  );
  if (pick) await vscode.env.clipboard.writeText(cmd);
}

/** Token Inspector: Manage Models: the downloaded models with their disk use; pick one to remove it. */
async function manageModels(ctx: Pick<Ctx, 'settings' | 'models'>): Promise<void> {
  const cacheDir = ctx.settings.hub().cacheDir;
  const label = `listing the model cache ${cacheDir ?? ''} (${SECTION}.modelCacheDir)`;
  const cache = await ctx.models.request('listCache', { cacheDir }, { label }).catch((e: Error) => void vscode.window.showErrorMessage(`Token Inspector: ${e.message}`));
  if (!cache) return;
  if (!cache.models.length) return void vscode.window.showInformationMessage(`Token Inspector: no models in ${cache.cacheDir}.`);
  const pick = await vscode.window.showQuickPick(
    cache.models.map((m) => ({ label: m.repoId, description: `${(m.sizeBytes / 2 ** 20).toFixed(1)} MB`, detail: m.folder, repoId: m.repoId })),
    { title: `Models in ${cache.cacheDir} (pick one to remove it)` },
  );
  if (!pick) return;
  const sure = await vscode.window.showWarningMessage(`Remove ${pick.repoId} from the cache?`, { modal: true }, 'Remove');
  if (sure !== 'Remove') return;
  const removed = await ctx.models
    .request('removeCached', { cacheDir, repoId: pick.repoId }, { label: `removing ${pick.repoId} from the model cache` })
    .catch((e: Error) => void vscode.window.showErrorMessage(`Token Inspector: ${e.message}`));
  if (removed) void vscode.window.showInformationMessage(`Token Inspector: removed ${removed.repoId} (${(removed.bytes / 2 ** 20).toFixed(1)} MB).`);
}

async function showFeatures(ctx: CommandCtx): Promise<void> {
  const doc = vscode.window.activeTextEditor?.document;
  if (!doc) return void vscode.window.showInformationMessage('Token Inspector: open a file to see its SAE features.');
  ctx.panel.show('features');
  await ctx.features.run(doc);
}

/** Highlights a feature across the document: the one given (an index), or one picked by total activation. */
async function highlightFeature(ctx: Pick<Ctx, 'features'>, feature: unknown): Promise<void> {
  const doc = vscode.window.activeTextEditor?.document;
  const view = doc && ctx.features.current(doc);
  if (!doc || !view) return void vscode.window.showInformationMessage('Token Inspector: run Show Features on this file first.');
  if (typeof feature === 'number' && Number.isInteger(feature) && feature >= 0 && feature < view.result.sae.dSae) return ctx.features.highlight(doc, feature);
  const pick = await vscode.window.showQuickPick(
    view.result.ranking.map((r) => ({ label: featureName(view.result, r.index), description: `total ${r.totalActivation.toFixed(2)} · ${r.activeTokens} tokens · max ${r.maxActivation.toFixed(2)}`, feature: r.index })),
    { title: 'Highlight a feature across the document (by total activation)', matchOnDescription: true },
  );
  if (pick) ctx.features.highlight(doc, pick.feature);
}
