/** Reading Token Inspector's settings for a document, and resolving the chosen tokenizer. */
import * as vscode from 'vscode';
import { findBundled } from '../core/tokenizers/catalog';
import { isEncoderKind, type EncoderKind } from '../core/sae/encoderKinds';
import type { TokenizerRef } from '../protocol';

export const SECTION = 'tokenInspector';

export interface CustomTokenizer {
  readonly name: string;
  readonly path: string;
}

export function customTokenizers(): CustomTokenizer[] {
  const raw = vscode.workspace.getConfiguration(SECTION).get<unknown>('customTokenizers');
  if (!Array.isArray(raw)) return [];
  return raw.filter((x): x is CustomTokenizer => typeof x === 'object' && x !== null && typeof x.name === 'string' && typeof x.path === 'string');
}

export const WORKSPACE_NGRAM = 'workspace-ngram';

/** The model probability mode uses: the built-in workspace n-gram, or an ONNX model folder or hub repo id. */
export function probabilityModel(): string {
  const v = vscode.workspace.getConfiguration(SECTION).get<string>('probabilityModel');
  return v && v.trim() ? v.trim() : WORKSPACE_NGRAM;
}

/** Hub repo ids resolved to their downloaded folders (filled in when the model worker loads them). */
export const resolvedModelFolders = new Map<string, string>();

/** A neural model's folder when probability mode uses one: its own tokenizer then tokenizes the editor. */
export function neuralModelFolder(): string | undefined {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  if (cfg.get<boolean>('showProbabilities') !== true) return undefined;
  const spec = probabilityModel();
  if (spec === WORKSPACE_NGRAM) return undefined;
  return resolvedModelFolders.get(spec) ?? (/^[A-Za-z]:[\\/]|^[/~.]/.test(spec) ? spec : undefined);
}

export function hubSettings(): { allowDownloads: boolean; cacheDir?: string; host?: string } {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const cacheDir = cfg.get<string>('modelCacheDir')?.trim();
  const host = cfg.get<string>('modelHubHost')?.trim();
  return { allowDownloads: cfg.get<boolean>('allowDownloads') === true, cacheDir: cacheDir || undefined, host: host || undefined };
}

/** The tokenizer setting for a document (language- and folder-aware), resolved to a bundled id or a file. */
export function tokenizerFor(doc: vscode.TextDocument | undefined): TokenizerRef {
  const neural = neuralModelFolder();
  if (neural) return { id: neural.split(/[\\/]/).filter(Boolean).pop() ?? 'model', path: neural };
  const cfg = vscode.workspace.getConfiguration(SECTION, doc ? { uri: doc.uri, languageId: doc.languageId } : undefined);
  const id = cfg.get<string>('tokenizer') ?? 'o200k_base';
  const bundled = findBundled(id);
  if (bundled) return { id: bundled.id };
  const custom = customTokenizers().find((c) => c.name === id);
  if (custom) return { id: custom.name, path: custom.path };
  return { id: 'o200k_base' };
}

export function tokenizerRefKey(ref: TokenizerRef): string {
  return ref.path ? `${ref.id}@${ref.path}` : ref.id;
}

export function allowSpecial(doc: vscode.TextDocument): boolean {
  return vscode.workspace.getConfiguration(SECTION, doc.uri).get<boolean>('allowSpecialTokens') === true;
}

export function showBoundaries(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>('showBoundaries') !== false;
}

export function maxDecoratedColumns(): number {
  return Math.max(200, vscode.workspace.getConfiguration(SECTION).get<number>('maxDecoratedColumns') ?? 4000);
}

export const DEFAULT_COMPARE = ['o200k_base', 'cl100k_base', 'llama3', 'qwen3', 'gemma3', 'deepseek_v3', 'mistral', 'gpt2'];

/** The tokenizers Compare and the sidebar show side by side. */
export function compareTokenizerIds(): string[] {
  const raw = vscode.workspace.getConfiguration(SECTION).get<unknown>('compareTokenizers');
  const ids = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
  return ids.length ? ids : DEFAULT_COMPARE;
}

/** Relative cost is measured against this tokenizer. */
export function referenceTokenizerId(): string {
  return vscode.workspace.getConfiguration(SECTION).get<string>('referenceTokenizer') ?? 'o200k_base';
}

/** An OpenAI-compatible completions endpoint for probabilities (probabilityModel = "remote"); off by default. */
export function remoteEndpoint(): { url: string; model?: string; topK?: number } | undefined {
  const raw = vscode.workspace.getConfiguration(SECTION).get<unknown>('remoteEndpoint');
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as { url?: unknown; model?: unknown; topK?: unknown };
  if (typeof r.url !== 'string' || !/^https?:\/\//.test(r.url)) return undefined;
  return { url: r.url, model: typeof r.model === 'string' ? r.model : undefined, topK: typeof r.topK === 'number' ? Math.min(20, Math.max(1, r.topK)) : undefined };
}

/** The model whose hidden states the SAE reads: tokenInspector.featureModel, else an ONNX probability model. */
export function featureModel(): string | undefined {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const v = cfg.get<string>('featureModel')?.trim();
  if (v) return v;
  const p = probabilityModel();
  return p !== WORKSPACE_NGRAM && p !== 'remote' ? p : undefined;
}

export interface SaeSettings {
  readonly spec: string;
  readonly subfolder?: string;
  readonly hook?: string;
  readonly labels?: string;
  /** Undefined: the SAE's own activation. */
  readonly encoder?: EncoderKind;
  readonly k?: number;
  readonly m?: number;
}

/** The SAE settings, or undefined when no SAE is set. */
export function saeSettings(): SaeSettings | undefined {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const str = (key: string): string | undefined => cfg.get<string>(key)?.trim() || undefined;
  const spec = str('sae');
  if (!spec) return undefined;
  const encoder = str('saeEncoder');
  const positive = (key: string): number | undefined => {
    const n = cfg.get<number>(key);
    return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : undefined;
  };
  return {
    spec,
    subfolder: str('saeId'),
    hook: str('saeHook'),
    labels: str('saeLabels'),
    encoder: isEncoderKind(encoder) ? encoder : undefined,
    k: positive('saeK'),
    m: positive('saeM'),
  };
}
