/**
 * The panel's Tokens tab, host side: sends the followed document's token stream (with surprisal per
 * character when probabilities are on) and the cursor, keeps the chips and the editor scrolled together, and
 * selects a clicked chip's range in the editor. The webview side is webview/panel/tokens.ts.
 */
import * as vscode from 'vscode';
import { tokenUtf16Range } from '../../core/analysis/stream';
import { utf8LengthOfCodePoint } from '../../core/text/utf8';
import type { Ctx } from '../context';
import { baseName, panelTab, selectRange, type FromWebview, type PanelHost, type PanelTab } from './tab';

/** After the host scrolls one side, ignore the echo from the other side for this long. */
const ECHO_MS = 400;
/** Re-send the document to the panel at most this often while typing. */
const DOCUMENT_DEBOUNCE_MS = 120;

/** Per-byte surprisal summed per character, on the character's first UTF-16 unit (for the panel's shading). */
function charSurprisal(text: string, perByte: Float64Array): Float32Array {
  const out = new Float32Array(text.length);
  let b = 0;
  for (let u = 0; u < text.length && b < perByte.length; ) {
    const cp = text.codePointAt(u) as number;
    const units = cp > 0xffff ? 2 : 1;
    const bytes = utf8LengthOfCodePoint(cp);
    let sum = 0;
    for (let k = 0; k < bytes && b < perByte.length; k++) sum += perByte[b++];
    out[u] = sum;
    u += units;
  }
  return out;
}

type Handles = 'selectToken' | 'scrolled';
type Sends = 'document' | 'cursor' | 'reveal';

class TokensTab implements PanelTab<Handles> {
  private lastHostScroll = 0;
  private lastPanelScroll = 0;
  private docTimer: NodeJS.Timeout | undefined;
  /** What the webview shows: document, version, tokenizer and whether scored. */
  private sentVersion = '';
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly ctx: Pick<Ctx, 'analyses' | 'probabilities' | 'settings' | 'log'>,
    private readonly host: PanelHost<Sends>,
  ) {
    this.disposables = [
      ctx.analyses.onDidAnalyze((doc) => {
        if (doc === host.editor()?.document) this.sendDocument(false);
      }),
      // Probabilities turned on or off: the surprisal box and the rank summary say so at once.
      ctx.settings.onDidChange('probabilities', () => this.sendDocument(false)),
      ctx.probabilities.onDidScore((doc) => {
        if (doc === host.editor()?.document) {
          this.sentVersion = '';
          this.sendDocument(false);
        }
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        // A selection's start, not its active end: selecting a token (a chip's click) ends at the next token's start.
        const sel = e.selections[0];
        if (e.textEditor === host.editor()) host.post({ type: 'cursor', utf16Offset: e.textEditor.document.offsetAt(sel.isEmpty ? sel.active : sel.start) });
      }),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
        if (e.textEditor !== host.editor() || !e.visibleRanges.length) return;
        if (Date.now() - this.lastPanelScroll < ECHO_MS) return;
        this.lastHostScroll = Date.now();
        host.post({ type: 'reveal', line: e.visibleRanges[0].start.line });
      }),
    ];
  }

  dispose(): void {
    if (this.docTimer) clearTimeout(this.docTimer);
    for (const d of this.disposables) d.dispose();
  }

  onReady(): void {
    this.sentVersion = '';
    this.sendDocument(true);
  }

  onEditor(): void {
    this.sendDocument(true);
  }

  async handle(m: FromWebview<Handles>): Promise<void> {
    const ed = this.host.editor();
    if (!ed) return;
    switch (m.type) {
      case 'selectToken': {
        const a = this.ctx.analyses.current(ed.document);
        // Logged either way: a click that selects nothing must say why in the log.
        if (!a || m.index >= a.stream.count) {
          this.ctx.log(`panel select token ${m.index}: ${a ? `beyond ${a.stream.count} tokens` : 'no current analysis'} of ${ed.document.uri.toString()} v${ed.document.version}`);
          return;
        }
        const [u0, u1] = tokenUtf16Range(a.stream, ed.document.getText(), m.index);
        await selectRange(ed, u0, u1);
        this.ctx.log(`panel selected token ${m.index} [${u0}, ${u1}) of ${a.docKey} v${a.version}`);
        return;
      }
      case 'scrolled': {
        if (Date.now() - this.lastHostScroll < ECHO_MS) return;
        this.lastPanelScroll = Date.now();
        const line = Math.min(m.line, ed.document.lineCount - 1);
        ed.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.AtTop);
        return;
      }
    }
  }

  private sendDocument(now: boolean): void {
    if (!this.host.isOpen()) return;
    if (this.docTimer) clearTimeout(this.docTimer);
    const send = (): void => {
      this.docTimer = undefined;
      const ed = this.host.editor();
      if (!ed || ed.document.isClosed) return this.host.post({ type: 'document', doc: null, message: 'Open a file to see its tokens.' });
      const a = this.ctx.analyses.current(ed.document);
      if (!a) {
        this.ctx.analyses.request(ed.document);
        return;
      }
      const probabilities = this.ctx.probabilities;
      const scores = probabilities.enabled ? probabilities.current(ed.document) : undefined;
      const key = `${a.docKey}@${a.version}:${a.tokenizerKey}:${scores ? 'scored' : probabilities.enabled ? 'pending' : 'off'}`;
      if (key === this.sentVersion) return;
      this.sentVersion = key;
      this.host.post({
        type: 'document',
        doc: {
          uri: a.docKey,
          fileName: baseName(ed.document),
          version: a.version,
          tokenizer: { id: a.tokenizer.id, name: a.tokenizer.name },
          text: ed.document.getText(),
          stream: a.stream,
          probabilities: scores ? 'scored' : probabilities.enabled ? 'pending' : 'off',
          ...(scores
            ? {
                scoredBy: scores.model.id,
                charSurprisalBits: charSurprisal(ed.document.getText(), scores.surprisalBits),
                ...(scores.scores.ranks ? { tokenRanks: scores.scores.ranks } : {}),
              }
            : {}),
        },
      });
      const sel = ed.selection;
      this.host.post({ type: 'cursor', utf16Offset: ed.document.offsetAt(sel.isEmpty ? sel.active : sel.start) });
      this.ctx.log(`panel document ${a.docKey} v${a.version} ${a.stream.count} tokens`);
    };
    if (now) send();
    else this.docTimer = setTimeout(send, DOCUMENT_DEBOUNCE_MS);
  }
}

export const tokensTab = panelTab({
  handles: ['selectToken', 'scrolled'],
  sends: ['document', 'cursor', 'reveal'],
  create: (ctx, host) => new TokensTab(ctx, host),
});
