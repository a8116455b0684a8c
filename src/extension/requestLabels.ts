/**
 * Short labels for worker requests: what is being done, to which file, with which tokenizer and the setting it
 * came from. A worker stopped for missing a deadline names them, so the user knows what to change.
 */
import type * as vscode from 'vscode';
import type { TokenizerRef } from '../protocol';
import { SECTION, type Settings } from './settings';

export function tokenizerLabel(ref: TokenizerRef, settings: Pick<Settings, 'customTokenizers'>): string {
  if (!ref.path) return `${ref.id} (${SECTION}.tokenizer)`;
  if (settings.customTokenizers().some((c) => c.path === ref.path)) return `the tokenizer at ${ref.path} (${SECTION}.customTokenizers)`;
  return `the tokenizer of ${ref.path} (${SECTION}.probabilityModel)`;
}

/** The document's file name (or its URI's last part). */
export function documentLabel(doc: vscode.TextDocument): string {
  return doc.uri.path.split('/').filter(Boolean).pop() ?? doc.uri.toString();
}
