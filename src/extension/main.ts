/**
 * Token Inspector's extension host entry. Activation only wires things up: the worker starts, and
 * tokenizers load, on first use.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { AnalysisService } from './analysisService';
import { ContextGauge, registerApiCountCommands } from './apiCounts';
import { TokenDecorator } from './decorations';
import { FeatureService } from './features';
import { featureName } from './featureView';
import { registerHover } from './hover';
import { ProbabilityService } from './probabilities';
import { TokenPanel } from './panel';
import { SidebarProvider } from './sidebar';
import { hubSettings, SECTION } from './settings';
import { StatusBar } from './statusBar';
import { registerTokenCommands } from './tokenCommands';
import { addTokenizerFromFile, selectTokenizer } from './tokenizerPicker';
import { ModelWorkerClient, WorkerClient } from './workerClient';

let worker: WorkerClient | undefined;
let modelWorker: ModelWorkerClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Token Inspector', { log: true });
  // End-to-end tests read this file to know when work has finished; users never set it.
  const testLog = process.env.TOKEN_INSPECTOR_TEST_LOG;
  const log = (line: string): void => {
    output.info(line);
    if (testLog) appendFileSync(testLog, `${Date.now()} ${line}\n`);
  };
  worker = new WorkerClient(
    join(context.extensionPath, 'dist', 'tokenWorker.js'),
    (message, firstTime) => {
      log(message);
      if (!firstTime) return;
      void vscode.window.showWarningMessage(`Token Inspector: ${message}. It restarts now (and, should it fail again, on the next edit).`);
      // One automatic retry: a document that crashes it again waits for the user's next edit.
      setTimeout(() => analyses.refreshAll(), 500);
    },
    log,
  );
  const analyses = new AnalysisService(worker, log);
  const decorator = new TokenDecorator(analyses, log);
  const status = new StatusBar(analyses);
  const w = worker;
  const models = new ModelWorkerClient(join(context.extensionPath, 'dist', 'modelWorker.js'), (message, firstTime) => {
    log(message);
    if (firstTime) void vscode.window.showWarningMessage(`Token Inspector: ${message}. It restarts on the next request.`);
  }, log);
  modelWorker = models;
  const probabilities = new ProbabilityService(context, analyses, w, models, log);
  const features = new FeatureService(models, log);
  const panel = new TokenPanel(context, analyses, w, log, probabilities, features);
  const sidebar = new SidebarProvider(context, analyses, w, log);
  context.subscriptions.push(
    output,
    analyses,
    decorator,
    status,
    probabilities,
    decorator.useProbabilities(probabilities),
    features,
    registerHover(analyses, probabilities, features),
    vscode.commands.registerCommand('tokenInspector.showFeatures', async () => {
      const doc = vscode.window.activeTextEditor?.document;
      if (!doc) return void vscode.window.showInformationMessage('Token Inspector: open a file to see its SAE features.');
      panel.show('features');
      await features.run(doc);
    }),
    vscode.commands.registerCommand('tokenInspector.highlightFeature', async (feature?: unknown) => {
      const doc = vscode.window.activeTextEditor?.document;
      const view = doc && features.current(doc);
      if (!doc || !view) return void vscode.window.showInformationMessage('Token Inspector: run Show Features on this file first.');
      if (typeof feature === 'number' && Number.isInteger(feature) && feature >= 0 && feature < view.result.sae.dSae) return features.highlight(doc, feature);
      const pick = await vscode.window.showQuickPick(
        view.result.ranking.map((r) => ({ label: featureName(view.result, r.index), description: `total ${r.totalActivation.toFixed(2)} · ${r.activeTokens} tokens · max ${r.maxActivation.toFixed(2)}`, feature: r.index })),
        { title: 'Highlight a feature across the document (by total activation)', matchOnDescription: true },
      );
      if (pick) features.highlight(doc, pick.feature);
    }),
    vscode.commands.registerCommand('tokenInspector.clearFeatureHighlight', () => {
      const doc = vscode.window.activeTextEditor?.document;
      if (doc) features.highlight(doc, null);
    }),
    vscode.commands.registerCommand('tokenInspector.showProbabilities', async () => {
      const cfg = vscode.workspace.getConfiguration(SECTION);
      await cfg.update('showProbabilities', cfg.get<boolean>('showProbabilities') !== true, vscode.ConfigurationTarget.Global);
    }),
    vscode.commands.registerCommand('tokenInspector.retrainModel', () => probabilities.retrain()),
    vscode.commands.registerCommand('tokenInspector.manageModels', () => manageModels(models)),
    vscode.commands.registerCommand('tokenInspector.showNextByte', () => panel.show('nextByte')),
    panel,
    sidebar,
    vscode.window.registerWebviewViewProvider(SidebarProvider.viewId, sidebar),
    ...registerTokenCommands(analyses),
    new ContextGauge(analyses),
    ...registerApiCountCommands(analyses, w, log),
    vscode.commands.registerCommand('tokenInspector.showPanel', () => panel.show('tokens')),
    vscode.commands.registerCommand('tokenInspector.compareTokenizers', () => panel.show('compare')),
    vscode.commands.registerCommand('tokenInspector.showLanguagePremiums', () => panel.show('premiums')),
    vscode.commands.registerCommand('tokenInspector.selectTokenizer', () => selectTokenizer(w)),
    vscode.commands.registerCommand('tokenInspector.addTokenizerFromFile', (path?: unknown) => addTokenizerFromFile(w, typeof path === 'string' ? path : undefined)),
    vscode.commands.registerCommand('tokenInspector.toggleBoundaries', async () => {
      const cfg = vscode.workspace.getConfiguration(SECTION);
      await cfg.update('showBoundaries', cfg.get<boolean>('showBoundaries') === false, vscode.ConfigurationTarget.Global);
    }),
    vscode.commands.registerCommand('tokenInspector.showLargeFileHelp', async (path?: unknown) => {
      const file = typeof path === 'string' ? path : 'FILE';
      const cmd = `npx token-inspector tokenize "${file}" --tokenizer o200k_base`;
      const pick = await vscode.window.showInformationMessage(
        `VS Code does not hand files over 50 MB to extensions. The Token Inspector CLI counts them in bounded memory: ${cmd}`,
        'Copy Command',
      );
      if (pick) await vscode.env.clipboard.writeText(cmd);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      log('configuration changed');
      analyses.refreshAll();
      probabilities.refreshVisible();
      decorator.renderAll();
      status.update();
    }),
  );
  if (testLog) context.subscriptions.push(monitorEventLoop(log));
  log('activated');
}

/** Token Inspector: Manage Models: the downloaded models with their disk use; pick one to remove it. */
async function manageModels(models: ModelWorkerClient): Promise<void> {
  const cacheDir = hubSettings().cacheDir;
  const reply = await models.request({ kind: 'listCache', cacheDir });
  if (reply.kind !== 'cache') return void vscode.window.showErrorMessage(`Token Inspector: ${reply.kind === 'error' ? reply.message : 'no answer'}`);
  if (!reply.models.length) return void vscode.window.showInformationMessage(`Token Inspector: no models in ${reply.cacheDir}.`);
  const pick = await vscode.window.showQuickPick(
    reply.models.map((m) => ({ label: m.repoId, description: `${(m.sizeBytes / 2 ** 20).toFixed(1)} MB`, detail: m.folder, repoId: m.repoId })),
    { title: `Models in ${reply.cacheDir} (pick one to remove it)` },
  );
  if (!pick) return;
  const sure = await vscode.window.showWarningMessage(`Remove ${pick.repoId} from the cache?`, { modal: true }, 'Remove');
  if (sure !== 'Remove') return;
  const removed = await models.request({ kind: 'removeCached', cacheDir, repoId: pick.repoId });
  if (removed.kind === 'removed') void vscode.window.showInformationMessage(`Token Inspector: removed ${removed.repoId} (${(removed.bytes / 2 ** 20).toFixed(1)} MB).`);
}

/**
 * In test runs, report how long the extension host's event loop was blocked (p99 and max over each 2 s):
 * the end-to-end tests type into a large file and read it back.
 */
function monitorEventLoop(log: (line: string) => void): vscode.Disposable {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const timer = setInterval(() => {
    if (h.count > 0) log(`eventLoopDelay p99=${(h.percentile(99) / 1e6).toFixed(1)}ms max=${(h.max / 1e6).toFixed(1)}ms`);
    h.reset();
  }, 2000);
  return { dispose: () => (clearInterval(timer), h.disable()) };
}

export async function deactivate(): Promise<void> {
  await modelWorker?.dispose();
  await worker?.dispose();
  worker = undefined;
}
