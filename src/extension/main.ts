/**
 * Token Inspector's extension host entry. Activation only wires things up: it builds the one context
 * (context.ts), the features over it and the command table (commands.ts); the workers start, and tokenizers
 * load, on first use.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { ModelEvents } from '../protocol/modelWorker';
import { AnalysisService } from './analysisService';
import { ContextGauge } from './apiCounts';
import { registerCommands } from './commands';
import type { Ctx, Log } from './context';
import { TokenDecorator } from './decorations';
import { FeatureIndexService } from './featureIndex';
import { FeatureService } from './features';
import { LastEditor } from './lastEditor';
import { registerHover } from './hover';
import { TokenPanel } from './panel/panel';
import { ProbabilityService } from './probabilities';
import { Settings } from './settings';
import { SidebarProvider } from './sidebar';
import { StatusBar } from './statusBar';
import { modelWorkerClient, tokenWorkerClient, workspaceWorkerClient, type WorkerIncident } from './workerClient';

let active: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Token Inspector', { log: true });
  // End-to-end tests read this file to know when work has finished; users never set it.
  const testLog = process.env.TOKEN_INSPECTOR_TEST_LOG;
  const log: Log = (line) => {
    output.info(line);
    if (testLog) appendFileSync(testLog, `${Date.now()} ${line}\n`);
  };
  const subscriptions = context.subscriptions;
  const settings = new Settings(log);
  // A worker that stops (a crash, or a request past its deadline) is reported once per incident; it restarts on
  // the next request.
  const tell = (incident: WorkerIncident, then: string): void => {
    log(incident.message);
    if (!incident.repeat) void vscode.window.showWarningMessage(`Token Inspector: ${incident.message}. ${then}`);
  };
  const worker = tokenWorkerClient(join(context.extensionPath, 'dist', 'tokenWorker.js'), {
    onIncident: (incident) => {
      tell(incident, 'It restarts now.');
      // The open documents are analysed again (not the one whose analysis ran past its deadline).
      setTimeout(() => analyses.restarted(incident), 500);
    },
    log,
  });
  const jobs = workspaceWorkerClient(join(context.extensionPath, 'dist', 'workspaceWorker.js'), { onIncident: (incident) => tell(incident, 'It restarts on the next request.'), log });
  const models = modelWorkerClient(
    join(context.extensionPath, 'dist', 'modelWorker.js'),
    { onIncident: (incident) => tell(incident, 'It restarts on the next request.'), log },
    { onEvent: { runtime: runtimeNotice(log, subscriptions) } },
  );
  const storage = {
    extensionUri: context.extensionUri,
    premiumsCacheDir: vscode.Uri.joinPath(context.globalStorageUri, 'premiums').fsPath,
    modelsDir: vscode.Uri.joinPath(context.globalStorageUri, 'models').fsPath,
    featureIndexDir: vscode.Uri.joinPath(context.globalStorageUri, 'feature-indexes').fsPath,
  };
  const analyses = new AnalysisService(worker, settings, log);
  const base = { log, settings, storage, worker, jobs, models, analyses };
  const editors = new LastEditor();
  const ctx: Ctx = { ...base, probabilities: new ProbabilityService(base), features: new FeatureService(base), featureIndex: new FeatureIndexService(base), editors };
  active = ctx;
  const panel = new TokenPanel(ctx);
  const sidebar = new SidebarProvider(ctx);
  subscriptions.push(
    output,
    editors,
    settings,
    analyses,
    settings.onDidChange('tokenization', () => analyses.refreshAll()),
    ctx.probabilities,
    ctx.features,
    ctx.featureIndex,
    new TokenDecorator(ctx),
    new StatusBar(ctx),
    new ContextGauge(ctx),
    registerHover(ctx),
    panel,
    sidebar,
    vscode.window.registerWebviewViewProvider(SidebarProvider.viewId, sidebar),
    vscode.window.registerWebviewPanelSerializer(TokenPanel.viewType, panel),
    ...registerCommands({ ...ctx, panel }),
  );
  if (testLog) subscriptions.push(monitorEventLoop(log));
  log('activated');
}

/**
 * The model worker says once which ONNX Runtime runs its models; on the universal package's WASM fallback
 * (no native runtime for this platform in it, docs/RUNTIME.md) the status bar says so, once per session.
 */
function runtimeNotice(log: Log, subscriptions: vscode.Disposable[]): (event: ModelEvents['runtime']) => void {
  let told = false;
  return ({ runtime, origin }) => {
    log(`model runtime ${runtime} ${origin}`);
    if (runtime !== 'wasm' || told) return;
    told = true;
    // Short enough to fit the status bar.
    subscriptions.push(vscode.window.setStatusBarMessage('$(info) Token Inspector: the model runs on the slower WASM runtime (universal package)', 60_000));
  };
}

/**
 * In test runs, report how long the extension host's event loop was blocked (p99 and max over each 2 s):
 * the end-to-end tests type into a large file and read it back.
 */
function monitorEventLoop(log: Log): vscode.Disposable {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const timer = setInterval(() => {
    if (h.count > 0) log(`eventLoopDelay p99=${(h.percentile(99) / 1e6).toFixed(1)}ms max=${(h.max / 1e6).toFixed(1)}ms`);
    h.reset();
  }, 2000);
  return { dispose: () => (clearInterval(timer), h.disable()) };
}

export async function deactivate(): Promise<void> {
  await active?.models.dispose();
  await active?.jobs.dispose();
  await active?.worker.dispose();
  active = undefined;
}
