/**
 * Token Inspector's settings, read through one object: typed values with package.json's defaults (the table
 * is settingsTable.ts), scoped by document where the setting is, and a change dispatcher that refreshes only
 * what the changed settings show. No other module calls `vscode.workspace.getConfiguration`.
 */
import * as vscode from 'vscode';
import { BUNDLED_TOKENIZERS, findBundled } from '../core/tokenizers/catalog';
import type { TokenizerRef } from '../protocol';
import {
  DEFAULTS,
  isScopedByDocument,
  readSetting,
  REFRESH_TARGETS,
  refreshesFor,
  SECTION,
  SETTING_KEYS,
  type CustomTokenizer,
  type RefreshTarget,
  type RemoteEndpoint,
  type SaeEncoderSetting,
  type SettingKey,
  type SettingValue,
  WORKSPACE_NGRAM,
} from './settingsTable';

export { SECTION, WORKSPACE_NGRAM, type CustomTokenizer, type RefreshTarget, type SaeEncoderSetting } from './settingsTable';

export interface HubSettings {
  readonly allowDownloads: boolean;
  /** Undefined: the standard Hugging Face cache. */
  readonly cacheDir?: string;
  readonly host?: string;
}

export interface SaeSettings {
  readonly spec: string;
  readonly subfolder?: string;
  readonly hook?: string;
  readonly labels?: string;
  /** Undefined: the SAE's own activation. */
  readonly encoder?: Exclude<SaeEncoderSetting, ''>;
  readonly k?: number;
  readonly m?: number;
}

export function tokenizerRefKey(ref: TokenizerRef): string {
  return ref.path ? `${ref.id}@${ref.path}` : ref.id;
}

export class Settings implements vscode.Disposable {
  /**
   * Model references (hub repo ids and local folders) the model worker loaded, with their folders. Only a model
   * that loaded decides the editor's tokenizer: a bad model path leaves tokenizing as the tokenizer setting says.
   */
  private readonly resolvedModelFolders = new Map<string, string>();
  /** Documents whose tokens are fixed by what made them (a rendered chat prompt): by URI. */
  private readonly pinned = new Map<string, { readonly tokenizer: TokenizerRef; readonly allowSpecial: boolean }>();
  private readonly emitters = new Map<RefreshTarget, vscode.EventEmitter<void>>(REFRESH_TARGETS.map((t) => [t, new vscode.EventEmitter<void>()]));
  private readonly subscription: vscode.Disposable;

  constructor(private readonly log: (line: string) => void) {
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      const changed = SETTING_KEYS.filter((k) => e.affectsConfiguration(`${SECTION}.${k}`));
      // A change inside the section that names no known key (none expected): refresh everything.
      const targets = changed.length ? refreshesFor(changed) : [...REFRESH_TARGETS];
      this.log(`configuration changed: ${changed.join(', ') || 'unknown'} → ${targets.join(', ') || 'nothing to refresh'}`);
      this.refresh(targets);
    });
  }

  dispose(): void {
    this.subscription.dispose();
    for (const e of this.emitters.values()) e.dispose();
  }

  /** Calls `listener` whenever a setting that `target` shows changes. */
  onDidChange(target: RefreshTarget, listener: () => void): vscode.Disposable {
    return (this.emitters.get(target) as vscode.EventEmitter<void>).event(listener);
  }

  /** Runs the listeners of these targets, in the table's order. */
  private refresh(targets: readonly RefreshTarget[]): void {
    for (const t of REFRESH_TARGETS) if (targets.includes(t)) this.emitters.get(t)?.fire();
  }

  /** A setting's value (for the document's folder and language where it is scoped so), else its default. */
  get<K extends SettingKey>(key: K, doc?: vscode.TextDocument): SettingValue<K> {
    const scope = doc && isScopedByDocument(key) ? { uri: doc.uri, languageId: doc.languageId } : undefined;
    return readSetting(key, vscode.workspace.getConfiguration(SECTION, scope).get<unknown>(key)) ?? DEFAULTS[key];
  }

  default<K extends SettingKey>(key: K): SettingValue<K> {
    return DEFAULTS[key];
  }

  /** The workspace's settings when a folder is open, else the user's. */
  workspaceOrGlobal(): vscode.ConfigurationTarget {
    return vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  }

  /** Sets a value; with `languageId`, for that language only. */
  async update<K extends SettingKey>(key: K, value: SettingValue<K>, target: vscode.ConfigurationTarget, languageId?: string): Promise<void> {
    await vscode.workspace.getConfiguration(SECTION, languageId ? { languageId } : undefined).update(key, value, target, languageId !== undefined);
  }

  /** VS Code's own `files.exclude` for a folder: the globs turned on. */
  filesExclude(folder: vscode.Uri): string[] {
    const raw = vscode.workspace.getConfiguration('files', folder).get<unknown>('exclude');
    if (typeof raw !== 'object' || raw === null) return [];
    return Object.entries(raw).filter(([, on]) => on === true).map(([glob]) => glob);
  }

  // ---------- tokenizers ----------

  customTokenizers(): CustomTokenizer[] {
    return this.get('customTokenizers');
  }

  /** A tokenizer id (bundled, or the name of one of the user's) as a reference, or undefined. */
  resolveTokenizer(id: string): TokenizerRef | undefined {
    const b = findBundled(id);
    if (b) return { id: b.id };
    const c = this.customTokenizers().find((t) => t.name === id);
    return c ? { id: c.name, path: c.path } : undefined;
  }

  /** The ids that resolve, as references (unknown ids are left out). */
  resolveTokenizers(ids: readonly string[]): TokenizerRef[] {
    return ids.map((id) => this.resolveTokenizer(id)).filter((r): r is TokenizerRef => r !== undefined);
  }

  tokenizerChoices(): { id: string; name: string }[] {
    return [...BUNDLED_TOKENIZERS.map((e) => ({ id: e.id, name: e.name })), ...this.customTokenizers().map((c) => ({ id: c.name, name: c.name }))];
  }

  /** The tokenizer for a document (language- and folder-aware): a neural model's own, the setting's, or the default. */
  tokenizerFor(doc: vscode.TextDocument | undefined): TokenizerRef {
    const pin = doc && this.pinned.get(doc.uri.toString());
    if (pin) return pin.tokenizer;
    const neural = this.neuralModelFolder();
    if (neural) return { id: neural.split(/[\\/]/).filter(Boolean).pop() ?? 'model', path: neural };
    return this.resolveTokenizer(this.get('tokenizer', doc)) ?? { id: DEFAULTS.tokenizer };
  }

  allowSpecial(doc: vscode.TextDocument): boolean {
    return this.pinned.get(doc.uri.toString())?.allowSpecial ?? this.get('allowSpecialTokens', doc);
  }

  /**
   * Tokenizes a document with this tokenizer whatever the settings say (a chat prompt rendered for a model:
   * its template's special tokens are tokens, as the model receives them). Unpinned when it closes.
   */
  pinDocument(uri: vscode.Uri, tokenizer: TokenizerRef, allowSpecial: boolean): vscode.Disposable {
    const key = uri.toString();
    this.pinned.set(key, { tokenizer, allowSpecial });
    return { dispose: () => this.pinned.delete(key) };
  }

  isPinned(doc: vscode.TextDocument): boolean {
    return this.pinned.has(doc.uri.toString());
  }

  /** The setting a document's tokenizer comes from (what to open when it fails). */
  tokenizerSettingFor(doc: vscode.TextDocument | undefined): string {
    if (this.neuralModelFolder()) return `${SECTION}.probabilityModel`;
    const ref = this.resolveTokenizer(this.get('tokenizer', doc));
    return ref?.path ? `${SECTION}.customTokenizers` : `${SECTION}.tokenizer`;
  }

  /** The tokenizers Compare and the sidebar show side by side. */
  compareTokenizerIds(): string[] {
    return this.get('compareTokenizers');
  }

  /** Relative cost is measured against this tokenizer. */
  referenceTokenizerId(): string {
    return this.get('referenceTokenizer');
  }

  /** The reference tokenizer resolved; an unknown id falls back to the default reference. */
  referenceTokenizer(): TokenizerRef {
    return this.resolveTokenizer(this.referenceTokenizerId()) ?? { id: DEFAULTS.referenceTokenizer };
  }

  // ---------- models ----------

  /** The model probability mode uses: the built-in workspace n-gram, "remote", or an ONNX model folder or hub repo id. */
  probabilityModel(): string {
    return this.get('probabilityModel');
  }

  /** Remembers the folder a model reference loaded from: its tokenizer then tokenizes the editor. */
  rememberModelFolder(spec: string, folder: string): void {
    this.resolvedModelFolders.set(spec, folder);
  }

  /** A model that failed to load (or stopped loading) no longer decides the tokenizer. */
  forgetModelFolder(spec: string): boolean {
    return this.resolvedModelFolders.delete(spec);
  }

  /** Whether a model reference needs no loading first (the endpoint, or a model loaded before). */
  isModelResolved(spec: string): boolean {
    return spec === 'remote' || this.resolvedModelFolders.has(spec);
  }

  /** A neural model's folder when probability mode uses one: its own tokenizer then tokenizes the editor. */
  neuralModelFolder(): string | undefined {
    if (!this.get('showProbabilities')) return undefined;
    const spec = this.probabilityModel();
    if (spec === WORKSPACE_NGRAM) return undefined;
    return this.resolvedModelFolders.get(spec);
  }

  hub(): HubSettings {
    return { allowDownloads: this.get('allowDownloads'), cacheDir: this.get('modelCacheDir') || undefined, host: this.get('modelHubHost') || undefined };
  }

  /** An OpenAI-compatible completions endpoint for probabilities (probabilityModel = "remote"); off by default. */
  remoteEndpoint(): RemoteEndpoint | undefined {
    return this.get('remoteEndpoint') ?? undefined;
  }

  /** The model whose hidden states the SAE reads: tokenInspector.featureModel, else an ONNX probability model. */
  featureModel(): string | undefined {
    const v = this.get('featureModel');
    if (v) return v;
    const p = this.probabilityModel();
    return p !== WORKSPACE_NGRAM && p !== 'remote' ? p : undefined;
  }

  /** The SAE settings, or undefined when no SAE is set. */
  sae(): SaeSettings | undefined {
    const spec = this.get('sae');
    if (!spec) return undefined;
    const positive = (n: number): number | undefined => (n >= 1 ? n : undefined);
    return {
      spec,
      subfolder: this.get('saeId') || undefined,
      hook: this.get('saeHook') || undefined,
      labels: this.get('saeLabels') || undefined,
      encoder: this.get('saeEncoder') || undefined,
      k: positive(this.get('saeK')),
      m: positive(this.get('saeM')),
    };
  }
}
