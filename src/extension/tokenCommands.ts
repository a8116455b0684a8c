/**
 * Commands over the active document's tokens: Export Tokens (JSON, CSV), Go to Token, Split Selection by
 * Token Budget, Copy Token Ids. They read the analysis of the document's current version only.
 */
import * as vscode from 'vscode';
import { splitByTokenBudget, type BudgetChunk } from '../core/analysis/budget';
import { tokenJson, type TokenJson } from '../core/analysis/stream';
import { utf8Encode } from '../core/text/utf8';
import type { Analysis, AnalysisService } from './analysisService';
import type { LastEditor } from './lastEditor';

async function currentAnalysis(analyses: AnalysisService, editors?: LastEditor): Promise<{ editor: vscode.TextEditor; a: Analysis } | undefined> {
  const editor = editors?.editor ?? vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Token Inspector: open a file first.');
    return undefined;
  }
  let a = analyses.current(editor.document);
  if (!a) {
    analyses.request(editor.document);
    a = await new Promise<Analysis | undefined>((resolve) => {
      const sub = analyses.onDidAnalyze((d) => {
        if (d === editor.document) {
          sub.dispose();
          resolve(analyses.current(d));
        }
      });
      setTimeout(() => {
        sub.dispose();
        resolve(analyses.current(editor.document));
      }, 10_000);
    });
  }
  if (!a) void vscode.window.showWarningMessage('Token Inspector: the document is not tokenized yet; try again in a moment.');
  return a ? { editor, a } : undefined;
}

function tokensOf(a: Analysis, text: string): TokenJson[] {
  const utf8 = utf8Encode(text.toWellFormed());
  const out: TokenJson[] = [];
  for (let i = 0; i < a.stream.count; i++) out.push(tokenJson(a.stream, text, utf8, i));
  return out;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function tokensCsv(tokens: readonly TokenJson[]): string {
  const rows = ['index,id,text,byteStart,byteEnd,utf16Start,utf16End,partial,special,zeroWidth'];
  tokens.forEach((t, i) => rows.push([i, t.id, csvField(t.text), t.bytes[0], t.bytes[1], t.utf16[0], t.utf16[1], t.partial, t.special, t.zeroWidth].join(',')));
  return rows.join('\n') + '\n';
}

/** Export Tokens (JSON or CSV, with byte and UTF-16 offsets). */
export async function exportTokens(analyses: AnalysisService): Promise<void> {
  const got = await currentAnalysis(analyses);
  if (!got) return;
  const { editor, a } = got;
  const format = await vscode.window.showQuickPick(['JSON', 'CSV'], { title: 'Export Tokens as' });
  if (!format) return;
  const text = editor.document.getText();
  const tokens = tokensOf(a, text);
  const base = editor.document.uri.path.split('/').pop() ?? 'document';
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.joinPath(editor.document.uri, '..', `${base}.${a.tokenizer.id}.tokens.${format.toLowerCase()}`),
    filters: format === 'JSON' ? { JSON: ['json'] } : { CSV: ['csv'] },
  });
  if (!target) return;
  const body =
    format === 'JSON'
      ? JSON.stringify({ tokenizer: a.tokenizer.id, byteLength: a.stream.byteLength, utf16Length: a.stream.utf16Length, count: a.stream.count, addedTokens: a.stream.addedTokens, tokens }, null, 1)
      : tokensCsv(tokens);
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(body));
  void vscode.window.showInformationMessage(`Token Inspector: exported ${a.stream.count} tokens to ${target.fsPath}`);
}

/** Go to Token: selects the token with the given index. */
export async function goToToken(analyses: AnalysisService): Promise<void> {
  const got = await currentAnalysis(analyses);
  if (!got) return;
  const { editor, a } = got;
  const input = await vscode.window.showInputBox({
    title: 'Go to Token',
    prompt: `Token index, 0 to ${a.stream.count - 1}`,
    validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) < a.stream.count ? undefined : `a whole number from 0 to ${a.stream.count - 1}`),
  });
  if (input === undefined) return;
  const i = Number(input.trim());
  const start = editor.document.positionAt(a.stream.utf16Offsets[i]);
  const end = editor.document.positionAt(Math.max(a.stream.utf16Offsets[i + 1], a.stream.utf16Offsets[i]));
  editor.selection = new vscode.Selection(start, end);
  editor.revealRange(new vscode.Range(start, end), vscode.TextEditorRevealType.InCenter);
}

/** Copy Token Ids: the ids of the tokens that overlap the selection (or all), as JSON. */
export async function copyTokenIds(analyses: AnalysisService): Promise<void> {
  const got = await currentAnalysis(analyses);
  if (!got) return;
  const { editor, a } = got;
  const s = a.stream;
  const sel = editor.selection;
  let first = 0;
  let last = s.count;
  if (!sel.isEmpty) {
    const u0 = editor.document.offsetAt(sel.start);
    const u1 = editor.document.offsetAt(sel.end);
    // Tokens that overlap the selection.
    while (first < s.count && s.utf16Offsets[first + 1] <= u0) first++;
    last = first;
    while (last < s.count && s.utf16Offsets[last] < u1) last++;
  }
  const ids = Array.from(s.ids.subarray(first, last));
  await vscode.env.clipboard.writeText(JSON.stringify(ids));
  void vscode.window.showInformationMessage(`Token Inspector: copied ${ids.length} token ids (${a.tokenizer.id}).`);
}

/** A chunk tokenized on its own may take a token more than in the document (a word cut at its edge): shrink it this many times at most. */
const MAX_SHRINKS = 8;

/**
 * Split Selection by Token Budget: chunks of at most N tokens as the model sees each of them (the tokens it adds,
 * such as a BOS, included), cut at token boundaries between grapheme clusters, as untitled documents. Each chunk
 * is counted again on its own and shrunk until it fits.
 */
export async function splitSelectionByTokenBudget(analyses: AnalysisService, editors?: LastEditor): Promise<void> {
  const got = await currentAnalysis(analyses, editors);
  if (!got) return;
  const { editor, a } = got;
  const added = a.stream.addedTokens.length;
  const input = await vscode.window.showInputBox({
    title: 'Split Selection by Token Budget',
    prompt: `At most this many tokens per chunk, as the model sees it${added ? ` (the ${added} it adds to every text included)` : ''}`,
    value: '1000',
    validateInput: (v) => (/^[1-9]\d*$/.test(v.trim()) && Number(v) > added ? undefined : `a whole number above ${added}`),
  });
  if (!input) return;
  const budget = Number(input);
  const doc = editor.document;
  const version = doc.version;
  const sel = editor.selection;
  const u0 = sel.isEmpty ? 0 : doc.offsetAt(sel.start);
  const u1 = sel.isEmpty ? a.stream.utf16Length : doc.offsetAt(sel.end);
  const text = doc.getText();
  const chunks: BudgetChunk[] = [];
  for (let pos = u0; pos < u1; ) {
    let chunk = splitByTokenBudget(a.stream, text, pos, u1, budget, added)[0];
    if (!chunk) break;
    for (let shrink = 1; shrink <= MAX_SHRINKS && !chunk.over; shrink++) {
      const alone = await analyses.countAlone(doc, text.slice(chunk.utf16Start, chunk.utf16End), `a ${budget}-token chunk`);
      if (!alone || alone.count + alone.added <= budget || budget - shrink - added < 1) break;
      const smaller = splitByTokenBudget(a.stream, text, pos, u1, budget - shrink, added)[0];
      if (!smaller || smaller.utf16End <= pos) break;
      chunk = smaller;
    }
    chunks.push(chunk);
    pos = chunk.utf16End;
  }
  if (doc.version !== version) return void vscode.window.showWarningMessage('Token Inspector: the document changed while it was being split; run Split Selection by Token Budget again.');
  if (chunks.length > 20) {
    const go = await vscode.window.showWarningMessage(`That makes ${chunks.length} chunks, each opened as a new document. Continue?`, { modal: true }, 'Open All');
    if (!go) return;
  }
  for (const c of chunks) {
    const chunkDoc = await vscode.workspace.openTextDocument({ content: text.slice(c.utf16Start, c.utf16End), language: doc.languageId });
    await vscode.window.showTextDocument(chunkDoc, { preview: false, preserveFocus: true });
  }
  const over = chunks.filter((c) => c.over).length;
  void vscode.window.showInformationMessage(
    `Token Inspector: ${chunks.length} chunks of at most ${budget} tokens${added ? ` (${added} added by the model included)` : ''} (${a.tokenizer.id}).${over ? ` ${over} single character${over > 1 ? 's' : ''} took more tokens than that and could not be cut.` : ''}`,
  );
}
