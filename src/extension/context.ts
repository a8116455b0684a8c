/**
 * The extension's one context, built once in activate() and handed to every feature: the log, the settings,
 * the workers' clients, the services over them, and where things are stored. A feature's constructor takes
 * the parts it uses (`Pick<Ctx, …>`), so the order of construction is checked by the compiler.
 */
import type * as vscode from 'vscode';
import type { AnalysisService } from './analysisService';
import type { FeatureIndexService } from './featureIndex';
import type { FeatureService } from './features';
import type { LastEditor } from './lastEditor';
import type { ProbabilityService } from './probabilities';
import type { Settings } from './settings';
import type { ModelWorkerClient, TokenWorkerClient, WorkspaceWorkerClient } from './workerClient';

export type Log = (line: string) => void;

/** Where the extension's files and caches are. */
export interface StoragePaths {
  /** The installed extension (webview scripts, media). */
  readonly extensionUri: vscode.Uri;
  /** The language-premium counts, cached across sessions. */
  readonly premiumsCacheDir: string;
  /** The workspace n-gram models, saved across sessions. */
  readonly modelsDir: string;
  /** The workspace feature indexes (one file per folder, model and SAE). */
  readonly featureIndexDir: string;
}

export interface Ctx {
  /** One line to the output channel (and to the test log in end-to-end runs). */
  readonly log: Log;
  readonly settings: Settings;
  readonly storage: StoragePaths;
  /** The tokenization worker: nothing else runs there. */
  readonly worker: TokenWorkerClient;
  /** The workspace jobs worker (training, scoring, next byte, premiums, Compare, chat and folder counts). */
  readonly jobs: WorkspaceWorkerClient;
  /** The ONNX model worker (neural scores, SAE features, the model cache). */
  readonly models: ModelWorkerClient;
  readonly analyses: AnalysisService;
  readonly probabilities: ProbabilityService;
  readonly features: FeatureService;
  /** The active text editor, or the last one while the panel or sidebar has the focus. */
  readonly editors: LastEditor;
  /** The workspace feature index: building, updating on save, one feature, Find Feature…. */
  readonly featureIndex: FeatureIndexService;
}
