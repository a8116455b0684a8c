/**
 * Token Inspector: Select Tokenizer (by model name, with search; for all files or for one language) and
 * Token Inspector: Add Tokenizer from File (a tokenizer.json, a folder, or a .tiktoken file).
 */
import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import { BUNDLED_TOKENIZERS } from '../core/tokenizers/catalog';
import type { TokenizerRef } from '../protocol';
import type { Ctx } from './context';
import type { CustomTokenizer, Settings } from './settings';

interface PickItem extends vscode.QuickPickItem {
  readonly value?: string;
  readonly addFromFile?: boolean;
}

/** Saves the tokenizer for the workspace (or, without a folder, the user), for all files or one language. */
export async function setTokenizer(settings: Settings, id: string, languageId: string | undefined): Promise<void> {
  await settings.update('tokenizer', id, settings.workspaceOrGlobal(), languageId);
}

export async function selectTokenizer(ctx: Pick<Ctx, 'settings' | 'worker'>): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const current = ctx.settings.tokenizerFor(editor?.document).id;
  const languageId = editor?.document.languageId;
  const qp = vscode.window.createQuickPick<PickItem>();
  qp.title = 'Select Tokenizer';
  qp.placeholder = 'Type a model name (GPT-4o, Llama 3.1, Qwen3, Gemma 3, …)';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  let perLanguage = false;
  const languageButton = (): vscode.QuickInputButton => ({
    iconPath: new vscode.ThemeIcon(perLanguage ? 'filter-filled' : 'filter'),
    tooltip: perLanguage ? `Applies to ${languageId} files only (click for all files)` : `Applies to all files (click for ${languageId} files only)`,
  });
  if (languageId) qp.buttons = [languageButton()];
  const items: PickItem[] = [{ label: 'Bundled', kind: vscode.QuickPickItemKind.Separator }];
  for (const e of BUNDLED_TOKENIZERS) {
    items.push({
      label: `${e.id === current ? '$(check) ' : ''}${e.name}`,
      description: `${e.id} · ${e.models.join(', ')}`,
      detail: `${e.algorithm}, ${e.vocabSize.toLocaleString('en-US')} ids${e.exact ? '' : ' · approximate'} · ${e.source.package}@${e.source.version} · ${e.vocabularyTerms}`,
      value: e.id,
    });
  }
  const custom = ctx.settings.customTokenizers();
  if (custom.length) items.push({ label: 'Yours', kind: vscode.QuickPickItemKind.Separator });
  for (const c of custom) items.push({ label: `${c.name === current ? '$(check) ' : ''}${c.name}`, description: c.path, value: c.name });
  items.push({ label: '', kind: vscode.QuickPickItemKind.Separator }, { label: '$(add) Add Tokenizer from File…', addFromFile: true });
  qp.items = items;
  const chosen = await new Promise<PickItem | undefined>((resolve) => {
    qp.onDidTriggerButton(() => {
      perLanguage = !perLanguage;
      qp.buttons = [languageButton()];
    });
    qp.onDidAccept(() => {
      resolve(qp.selectedItems[0]);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  if (!chosen) return;
  if (chosen.addFromFile) return addTokenizerFromFile(ctx);
  if (chosen.value) await setTokenizer(ctx.settings, chosen.value, perLanguage ? languageId : undefined);
}

function nameFor(path: string, existing: readonly CustomTokenizer[]): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  const file = parts[parts.length - 1] ?? 'tokenizer';
  const base = /^tokenizer(\.json)?$/.test(file) && parts.length > 1 ? parts[parts.length - 2] : file.replace(/\.(json|tiktoken)$/, '');
  let name = base;
  for (let k = 2; existing.some((c) => c.name === name && c.path !== path); k++) name = `${base} (${k})`;
  return name;
}

/**
 * What a file that failed to load was expected to be, when its name says it is no tokenizer file (a `.md`
 * read as JSON would only say "not valid JSON: line 1"); undefined for a tokenizer's own names and folders.
 */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function notATokenizerFile(path: string): string | undefined {
  if (isFolder(path)) return undefined;
  const name = path.split(/[\\/]/).pop() ?? path;
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const ext = name.slice(dot + 1).toLowerCase();
  if (ext === 'json' || ext === 'tiktoken') return undefined;
  return `a .${ext} file is not a tokenizer: Add Tokenizer from File takes a Hugging Face tokenizer.json, a folder holding one, or a .tiktoken rank file`;
}

export async function addTokenizerFromFile(ctx: Pick<Ctx, 'settings' | 'worker'>, given?: string): Promise<void> {
  let path = given;
  if (!path) {
    const picked = await vscode.window.showOpenDialog({
      title: 'Add Tokenizer: a tokenizer.json, a folder holding one, or a .tiktoken file',
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: false,
      filters: { Tokenizers: ['json', 'tiktoken'], 'All files': ['*'] },
    });
    if (!picked?.length) return;
    path = picked[0].fsPath;
  }
  const existing = ctx.settings.customTokenizers();
  const ref: TokenizerRef = { id: nameFor(path, existing), path };
  const file = path;
  const described = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Token Inspector: loading tokenizer…' }, () =>
    ctx.worker.request('describe', { tokenizer: ref }, { label: `loading ${file} (Add Tokenizer from File)` }).catch((e: Error) => void vscode.window.showErrorMessage(`Token Inspector could not use ${file}: ${notATokenizerFile(file) ?? e.message}`)),
  );
  if (!described) return;
  const list = [...existing.filter((c) => c.name !== ref.id), { name: ref.id, path }];
  await ctx.settings.update('customTokenizers', list, vscode.ConfigurationTarget.Global);
  await setTokenizer(ctx.settings, ref.id, undefined);
  void vscode.window.showInformationMessage(`Token Inspector: using ${ref.id} (${described.algorithm}, ${described.vocabSize.toLocaleString('en-US')} ids).`);
}
