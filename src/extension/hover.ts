/**
 * The hover on a token: index, id, text with escapes, UTF-8 bytes, byte and character ranges. Tokens that
 * split one character are shown together as that character (never as U+FFFD).
 */
import * as vscode from 'vscode';
import { escapedText, escapeBytes, tokensAtUtf16, tokenUtf16Range } from '../core/analysis/stream';
import { decodeUtf8Strict, hexBytes, utf8Encode } from '../core/text/utf8';
import { TokenFlag } from '../core/tokenizers/types';
import type { Analysis, AnalysisService } from './analysisService';
import type { Ctx } from './context';
import { featuresMarkdown, featureTokensAt, SHOW_FEATURE_COMMAND } from './featureView';
import { nextBytesMarkdown, probabilityMarkdown } from './probabilities';

/** How long a hover waits for the analysis of the current version before giving up. */
const HOVER_WAIT_MS = 1500;

function waitForAnalysis(service: AnalysisService, doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<Analysis | undefined> {
  const now = service.current(doc);
  if (now) return Promise.resolve(now);
  service.request(doc);
  return new Promise((resolve) => {
    const done = (a: Analysis | undefined): void => {
      sub.dispose();
      cancel.dispose();
      clearTimeout(timer);
      resolve(a);
    };
    const sub = service.onDidAnalyze((d) => {
      if (d === doc && service.current(doc)) done(service.current(doc));
    });
    const cancel = token.onCancellationRequested(() => done(undefined));
    const timer = setTimeout(() => done(service.current(doc)), HOVER_WAIT_MS);
  });
}

function codeSpan(s: string): string {
  const ticks = s.includes('`') ? '``' : '`';
  return `${ticks}${s.replace(/\|/g, '\\|')}${ticks}`;
}

/** `U+0020 U+1F468`. */
export function codePoints(s: string): string {
  return [...s].map((c) => 'U+' + (c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')).join(' ');
}

/**
 * Which characters the boundaries between tokens first..last fall inside, in words: "A token boundary falls
 * inside 👨 (U+1F468)." The tokens may also cover whole characters (a space before an emoji); those are not split.
 */
export function splitCharactersSentence(s: Analysis['stream'], text: string, first: number, last: number): string {
  const split: string[] = [];
  const seen = new Set<number>();
  for (let k = first + 1; k <= last; k++) {
    if (s.byteIntoChar[k] === 0) continue;
    const u = s.utf16Offsets[k];
    if (seen.has(u)) continue;
    seen.add(u);
    split.push(String.fromCodePoint(text.codePointAt(u) ?? 0xfffd));
  }
  const chars = split.map((c) => `${codeSpan(c)} (${codePoints(c)})`).join(', ');
  return split.length === 1 ? `A token boundary falls inside the character ${chars}.` : `Token boundaries fall inside the characters ${chars}.`;
}

export function hoverMarkdown(a: Analysis, text: string, first: number, last: number): vscode.MarkdownString {
  const s = a.stream;
  const md = new vscode.MarkdownString(undefined, true);
  md.isTrusted = false;
  const range = (i: number): [number, number] => tokenUtf16Range(s, text, i);
  // Encode only the neighbourhood: the tokens' bytes are a slice of it.
  const u0 = range(first)[0];
  const u1 = range(last)[1];
  const local = utf8Encode(text.slice(u0, u1).toWellFormed());
  const localByte0 = s.byteOffsets[first] - s.byteIntoChar[first];
  const bytesOf = (i: number): Uint8Array => local.subarray(s.byteOffsets[i] - localByte0, s.byteOffsets[i + 1] - localByte0);
  const title = first === last ? `token ${first.toLocaleString('en-US')}` : `tokens ${first}–${last}`;
  md.appendMarkdown(`**Token Inspector** · ${a.tokenizer.name} · ${title} of ${s.count.toLocaleString('en-US')}\n\n`);
  if (first !== last) {
    const together = decodeUtf8Strict(local.subarray(s.byteOffsets[first] - localByte0, s.byteOffsets[last + 1] - localByte0));
    const shown = together ?? text.slice(u0, u1);
    md.appendMarkdown(`${splitCharactersSentence(s, text, first, last)} Together these ${last - first + 1} tokens spell ${codeSpan(shown)} (${codePoints(shown)}).\n\n`);
  }
  md.appendMarkdown('| # | id | text | UTF-8 bytes | bytes | chars |\n|---:|---:|---|---|---|---|\n');
  for (let i = first; i <= last; i++) {
    const [c0, c1] = range(i);
    const f = s.flags[i];
    const bytes = bytesOf(i);
    let shown: string;
    if (f & TokenFlag.Partial) shown = escapeBytes(bytes);
    else if (f & TokenFlag.ZeroWidth) shown = '(zero-width)';
    else shown = escapedText(text.slice(s.utf16Offsets[i], s.utf16Offsets[i + 1]));
    const marks = [f & TokenFlag.Partial ? 'partial' : '', f & TokenFlag.Special ? 'special' : '', f & TokenFlag.ByteFallback ? 'byte fallback' : '', f & TokenFlag.Normalized ? 'normalized' : '']
      .filter(Boolean)
      .join(', ');
    md.appendMarkdown(
      `| ${i} | ${s.ids[i]} | ${codeSpan(shown)}${marks ? ` *${marks}*` : ''} | ${codeSpan(hexBytes(bytes) || '—')} | ${s.byteOffsets[i]}–${s.byteOffsets[i + 1]} | ${c0}–${c1} |\n`,
    );
  }
  if (s.addedTokens.length && first === 0) {
    md.appendMarkdown(`\nThe model also adds ${s.addedTokens.map((t) => `${codeSpan(t.text)} (${t.id}, ${t.position})`).join(', ')}.\n`);
  }
  return md;
}

/** How long a hover waits for the next-byte distribution under the mouse. */
const NEXT_BYTE_WAIT_MS = 800;

export function registerHover({ analyses: service, probabilities, features }: Pick<Ctx, 'analyses' | 'probabilities' | 'features'>): vscode.Disposable {
  return vscode.languages.registerHoverProvider(
    '*',
    {
      async provideHover(doc, position, token) {
        const a = await waitForAnalysis(service, doc, token);
        if (!a || token.isCancellationRequested || a.version !== doc.version) return undefined;
        const text = doc.getText();
        const offset = doc.offsetAt(position);
        const at = tokensAtUtf16(a.stream, text, offset);
        if (!at) return undefined;
        const [first, last] = at;
        const [u0, u1] = [tokenUtf16Range(a.stream, text, first)[0], tokenUtf16Range(a.stream, text, last)[1]];
        const md = hoverMarkdown(a, text, first, last);
        const fv = features.current(doc);
        if (fv) {
          const rows = featureTokensAt(fv.result, offset);
          if (rows.length) {
            md.appendMarkdown(featuresMarkdown(fv, rows, features.highlighted(doc), 5, true));
            // Only the feature view's command runs from the hover's links.
            md.isTrusted = { enabledCommands: [SHOW_FEATURE_COMMAND] };
          }
        }
        if (probabilities.enabled) {
          const view = probabilities.current(doc);
          if (view) md.appendMarkdown(probabilityMarkdown(view, first, last));
          const next = await Promise.race([probabilities.nextBytes(doc, offset, 'hover'), new Promise<undefined>((r) => setTimeout(r, NEXT_BYTE_WAIT_MS))]);
          if (next && 'result' in next && !token.isCancellationRequested) md.appendMarkdown(nextBytesMarkdown(next.result));
        }
        return new vscode.Hover(md, new vscode.Range(doc.positionAt(u0), doc.positionAt(u1)));
      },
    },
  );
}
