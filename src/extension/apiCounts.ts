/**
 * Counts as the API sees them: the context-window gauge (with the input price in its tooltip), Count as Chat
 * Message, Count Tokens in Folder (explorer), and Select Model (a model sets its tokenizer too).
 */
import * as vscode from 'vscode';
import type { FolderTotals } from '../core/analysis/folderTotals';
import { findModel, inputLimit, MODELS, type ModelEntry } from '../core/models/catalog';
import { countFigures, formatShare, formatUsd } from '../core/models/countFigures';
import { applyPriceOverrides, inputCost } from '../core/models/prices';
import type { Ctx } from './context';
import { documentLabel } from './requestLabels';
import { SECTION, type Settings } from './settings';
import { setTokenizer } from './tokenizerPicker';
import { WorkerCancelledError } from './workerClient';

/** The gauge turns to warning at this share of the context window, and to error past it. */
const WARNING_FRACTION = 0.8;

const fmt = (n: number): string => n.toLocaleString('en-US');
const usd = (x: number): string => (x >= 1 ? `$${x.toFixed(2)}` : x >= 0.01 ? `$${x.toFixed(3)}` : `$${x.toPrecision(2)}`);

/**
 * Why a model has no price, in one sentence: open-weight models are priced by whoever serves them (the
 * catalog's source note says so at length; the tooltip says it once).
 */
export function noListPrice(model: Pick<ModelEntry, 'name'>): string {
  return `No list price for ${model.name}: open weights are priced by whoever serves them; set yours in ${SECTION}.prices.`;
}

/** Where a price comes from, for a tooltip: the user's setting or the list, and its date (not the catalog's notes on other sources). */
export function priceOrigin(model: Pick<ModelEntry, 'priceSource' | 'priceDate'>): string {
  return model.priceSource.includes(`${SECTION}.prices`) ? `your ${SECTION}.prices setting` : `list price, ${model.priceDate}`;
}

/** The catalog with the user's price overrides (tokenInspector.prices) applied. */
export function pricedModels(settings: Settings): readonly ModelEntry[] {
  return applyPriceOverrides(settings.get('prices'), MODELS, { source: 'your tokenInspector.prices setting' }).models;
}

/** The chosen model, with the user's price overrides applied; an unknown one falls back to the default model. */
export function currentModel(settings: Settings): ModelEntry {
  const models = pricedModels(settings);
  return findModel(settings.get('model'), models) ?? (findModel(settings.default('model'), models) as ModelEntry);
}

export class ContextGauge implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tokenInspector.gauge', vscode.StatusBarAlignment.Right, 99);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: Pick<Ctx, 'analyses' | 'settings'>) {
    this.item.name = 'Token Inspector: context window';
    this.item.command = 'tokenInspector.selectModel';
    this.disposables.push(
      this.item,
      ctx.analyses.onDidAnalyze((doc) => {
        if (doc === vscode.window.activeTextEditor?.document) this.update();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      ctx.settings.onDidChange('gauge', () => this.update()),
    );
    this.update();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  update(): void {
    const editor = vscode.window.activeTextEditor;
    const a = editor && this.ctx.analyses.current(editor.document);
    if (!editor || !a) return this.item.hide();
    const model = currentModel(this.ctx.settings);
    const tokens = a.stream.count + a.stream.addedTokens.length;
    const limit = inputLimit(model);
    const fraction = tokens / limit;
    const pct = fraction < 0.01 && tokens > 0 ? '<1' : String(Math.round(fraction * 100));
    this.item.text = `$(dashboard) ${pct}% of ${limit >= 1000 ? `${Math.round(limit / 1000)}k` : limit} · ${model.name}`;
    this.item.backgroundColor = fraction > 1 ? new vscode.ThemeColor('statusBarItem.errorBackground') : fraction >= WARNING_FRACTION ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${model.name}**: ${fmt(tokens)} of ${fmt(limit)} input tokens (${(fraction * 100).toFixed(1)}%)\n\n`);
    if (this.ctx.settings.tokenizerFor(editor.document).id !== model.tokenizer) {
      md.appendMarkdown(`Counted with ${a.tokenizer.name}; ${model.name} uses \`${model.tokenizer}\` — choose the model to switch.\n\n`);
    }
    const cost = inputCost(tokens, model);
    md.appendMarkdown(
      cost === null
        ? noListPrice(model)
        : `Input cost: **${usd(cost)}** at $${model.inputPricePerMTok}/M tokens (${priceOrigin(model)}).`,
    );
    md.appendMarkdown('\n\nThe document as one prompt, without a chat template: **Token Inspector: Count as Chat Message** adds it.');
    this.item.tooltip = md;
    this.item.show();
  }
}

/**
 * The Count Tokens in Folder report: tokens per file under each tokenizer and, for the selected model's
 * tokenizer, the share of its context window and the input cost, as `token-inspector count --model` gives them.
 */
export function folderReport(root: string, r: FolderTotals, tokenizerIds: readonly string[], model: ModelEntry): string {
  const t = r.totals;
  const figures = (tokens: Readonly<Record<string, number>>): string[] => {
    const f = countFigures(tokens[model.tokenizer] ?? 0, model);
    return [formatShare(f.fraction), formatUsd(f.inputCost)];
  };
  const price =
    model.inputPricePerMTok === null ? `no list price (${SECTION}.prices sets one)` : `${formatUsd(model.inputPricePerMTok)} per 1M input tokens (${model.priceDate})`;
  const lines = [
    `# Tokens in ${root}`,
    '',
    `${model.name}: tokenizer ${model.tokenizer}, context window ${fmt(model.contextWindow)} tokens, ${price}.`,
    '',
    `${fmt(t.files)} files, ${fmt(t.bytes)} bytes; skipped: ${fmt(t.skippedBinary)} binary, ${fmt(t.skippedIgnored)} ignored files and ${fmt(t.skippedIgnoredFolders)} ignored folders, ${fmt(t.skippedUnreadable + t.skippedOther)} unreadable or other.`,
    '',
    `| | ${tokenizerIds.join(' | ')} | context (${model.name}) | cost (${model.name}) |`,
    `|---|${tokenizerIds.map(() => '---:').join('|')}|---:|---:|`,
    `| **total** | ${[...tokenizerIds.map((id) => fmt(t.tokens[id] ?? 0)), ...figures(t.tokens)].map((x) => `**${x}**`).join(' | ')} |`,
  ];
  const files = [...r.files].sort((a, b) => (b.tokens[tokenizerIds[0]] ?? 0) - (a.tokens[tokenizerIds[0]] ?? 0));
  for (const f of files.slice(0, 500)) lines.push(`| ${f.path} | ${[...tokenizerIds.map((id) => fmt(f.tokens[id] ?? 0)), ...figures(f.tokens)].join(' | ')} |`);
  if (files.length > 500) lines.push(`| … ${fmt(files.length - 500)} more files | |`);
  return lines.join('\n') + '\n';
}

/** Select Model: sets the model (context window, price, chat template) and its tokenizer. */
export async function selectModel(ctx: Pick<Ctx, 'settings'>): Promise<void> {
  const current = currentModel(ctx.settings);
  const pick = await vscode.window.showQuickPick(
    MODELS.map((m) => ({
      label: `${m.id === current.id ? '$(check) ' : ''}${m.name}`,
      description: `${m.vendor} · ${fmt(m.contextWindow)} tokens · ${m.tokenizer}`,
      detail: m.inputPricePerMTok === null ? 'no list price' : `$${m.inputPricePerMTok}/M input tokens (${m.priceDate})`,
      model: m,
    })),
    { title: 'Select Model (sets its tokenizer, context window and price)', matchOnDescription: true },
  );
  if (!pick) return;
  await ctx.settings.update('model', pick.model.id, ctx.settings.workspaceOrGlobal());
  await setTokenizer(ctx.settings, pick.model.tokenizer, undefined);
}

/**
 * Count as Chat Message: the selection or document as a user or system message under the model's chat template.
 * The count is written to the output channel (it outlives the notification), and Show Prompt opens the rendered
 * prompt tokenized as the model receives it: with the model's tokenizer, the template's special tokens as
 * tokens and its BOS in the text (none added on top), so its status bar says the same number.
 */
export async function countAsChat(ctx: Pick<Ctx, 'settings' | 'jobs' | 'log' | 'editors'>): Promise<void> {
  const editor = ctx.editors.editor;
  if (!editor) return void vscode.window.showInformationMessage('Token Inspector: open a file first.');
  const sel = editor.selections.filter((s) => !s.isEmpty);
  const text = sel.length ? sel.map((s) => editor.document.getText(s)).join('\n') : editor.document.getText();
  const picked = await vscode.window.showQuickPick(['user', 'system'], { title: 'Count as a chat message from' });
  if (picked !== 'user' && picked !== 'system') return;
  const role: 'user' | 'system' = picked;
  const model = currentModel(ctx.settings);
  const r = await ctx.jobs
    .request('chat', { model: model.id, text, role }, { label: `counting ${documentLabel(editor.document)} as a chat message for ${model.id} (${SECTION}.model)` })
    .catch((e: Error) => void vscode.window.showErrorMessage(`Token Inspector: ${e.message}`));
  if (!r) return;
  const cost = inputCost(r.tokens, model);
  const msg = `${sel.length ? 'Selection' : 'Document'} as a ${role} message for ${model.name}: ${fmt(r.tokens)} tokens (${fmt(r.contentTokens)} content + ${fmt(r.templateTokens)} template)${cost === null ? '' : `, ${usd(cost)} input`}.${r.notes.length ? ` ${r.notes.join(' ')}` : ''}`;
  ctx.log(`chat ${model.id} ${role} tokens=${r.tokens} content=${r.contentTokens} template=${r.templateTokens}`);
  ctx.log(`Count as Chat Message (${documentLabel(editor.document)}): ${msg}`);
  const choice = await vscode.window.showInformationMessage(msg, ...(r.rendered ? [SHOW_PROMPT] : []));
  if (choice !== SHOW_PROMPT || !r.rendered) return;
  const doc = await vscode.workspace.openTextDocument({ content: r.rendered, language: 'plaintext' });
  const pin = ctx.settings.pinDocument(doc.uri, ctx.settings.resolveTokenizer(model.tokenizer) ?? { id: model.tokenizer }, true);
  const closed = vscode.workspace.onDidCloseTextDocument((d) => {
    if (d !== doc) return;
    pin.dispose();
    closed.dispose();
  });
  await vscode.window.showTextDocument(doc);
}

const SHOW_PROMPT = 'Show Prompt';

/** Count Tokens in Folder: the explorer's folder (or one chosen) under the editor's and the model's tokenizers. */
export async function countFolder(ctx: Pick<Ctx, 'settings' | 'jobs' | 'log'>, uri?: vscode.Uri): Promise<void> {
  const folder = uri ?? (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Count Tokens in Folder' }))?.[0];
  if (!folder || folder.scheme !== 'file') return;
  const model = currentModel(ctx.settings);
  const ids = [...new Set([ctx.settings.tokenizerFor(vscode.window.activeTextEditor?.document).id, model.tokenizer])];
  const exclude = ctx.settings.filesExclude(folder);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Token Inspector: counting ${folder.fsPath}`, cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      let last = 0;
      return ctx.jobs
        .request(
          'countFolder',
          { root: folder.fsPath, tokenizers: ids.map((id) => ({ id })), exclude },
          {
            label: `counting tokens in ${folder.fsPath}`,
            signal: ac.signal,
            onProgress: ({ done, total }) => {
              const pct = total ? (done / total) * 100 : 0;
              progress.report({ message: `${fmt(done)} / ${fmt(total)} files`, increment: pct - last });
              last = pct;
            },
          },
        )
        .catch((e: Error) => {
          if (!(e instanceof WorkerCancelledError)) void vscode.window.showWarningMessage(`Token Inspector: ${e.message}`);
          return undefined;
        });
    },
  );
  if (!result) return;
  const t = result.totals;
  ctx.log(`folder ${folder.fsPath} files=${t.files} binary=${t.skippedBinary} ignored=${t.skippedIgnored} tokens=${JSON.stringify(t.tokens)}`);
  const doc = await vscode.workspace.openTextDocument({ content: folderReport(folder.fsPath, result, ids, model), language: 'markdown' });
  await vscode.window.showTextDocument(doc, { preview: true });
}
