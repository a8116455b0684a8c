/**
 * Token Inspector's extension host entry. Activation only wires things up: it builds the one context
 * (context.ts), the features over it and the command table (commands.ts); the workers start, and tokenizers
 * load, on first use.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { AnalysisService } from './analysisService';
import { ContextGauge } from './apiCounts';
import { registerCommands } from './commands';
import type { Ctx, Log } from './context';
import { TokenDecorator } from './decorations';
import { FeatureService } from './features';
import { registerHover } from './hover';
import { TokenPanel } from './panel/panel';
import { ProbabilityService } from './probabilities';
import { Settings } from './settings';
import { SidebarProvider } from './sidebar';
import { StatusBar } from './statusBar';
import { ModelWorkerClient, WorkerClient } from './workerClient';

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
  const worker = new WorkerClient(
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
  const models = new ModelWorkerClient(
    join(context.extensionPath, 'dist', 'modelWorker.js'),
    (message, firstTime) => {
      log(message);
      if (firstTime) void vscode.window.showWarningMessage(`Token Inspector: ${message}. It restarts on the next request.`);
    },
    log,
    { onRuntime: runtimeNotice(log, subscriptions) },
  );
  const storage = {
    extensionUri: context.extensionUri,
    premiumsCacheDir: vscode.Uri.joinPath(context.globalStorageUri, 'premiums').fsPath,
    modelsDir: vscode.Uri.joinPath(context.globalStorageUri, 'models').fsPath,
  };
  const analyses = new AnalysisService(worker, settings, log);
  const base = { log, settings, storage, worker, models, analyses };
  const ctx: Ctx = { ...base, probabilities: new ProbabilityService(base), features: new FeatureService(base) };
  active = ctx;
  const panel = new TokenPanel(ctx);
  const sidebar = new SidebarProvider(ctx);
  subscriptions.push(
    output,
    settings,
    analyses,
    settings.onDidChange('tokenization', () => analyses.refreshAll()),
    ctx.probabilities,
    ctx.features,
    new TokenDecorator(ctx),
    new StatusBar(ctx),
    new ContextGauge(ctx),
    registerHover(ctx),
    panel,
    sidebar,
    vscode.window.registerWebviewViewProvider(SidebarProvider.viewId, sidebar),
    ...registerCommands({ ...ctx, panel }),
  );
  if (testLog) subscriptions.push(monitorEventLoop(log));
  log('activated');
}

/**
 * The model worker says once which ONNX Runtime runs its models; on the universal package's WASM fallback
 * (no native runtime for this platform in it, docs/RUNTIME.md) the status bar says so, once per session.
 */
function runtimeNotice(log: Log, subscriptions: vscode.Disposable[]): (runtime: 'native' | 'wasm', origin: string) => void {
  let told = false;
  return (runtime, origin) => {
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
  await active?.worker.dispose();
  active = undefined;
}
