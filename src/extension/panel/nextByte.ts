/**
 * The panel's Next byte tab, host side: follows the cursor of the followed editor while the tab is shown and
 * sends the exact next-byte distribution there (with the naive and token-healing baselines). The latest
 * cursor position wins; older answers are dropped. The webview side is webview/panel/nextByte.ts.
 */
import * as vscode from 'vscode';
import type { Ctx } from '../context';
import { panelTab, type FromWebview, type PanelHost, type PanelTab } from './tab';

/** The context shown before the cursor, without the half of a surrogate pair its cut may leave at the start. */
export function wholeCharacters(before: string): string {
  const first = before.charCodeAt(0);
  return first >= 0xdc00 && first <= 0xdfff ? before.slice(1) : before;
}

/** Wait for the cursor to rest this long before asking. */
const CURSOR_DEBOUNCE_MS = 120;
/** The text shown before the cursor. */
const CONTEXT_UTF16 = 40;

/** A result sent to the webview, until it says the result is on screen (for the log that times the view). */
interface Draw {
  readonly drawId: number;
  /** When the cursor last moved before it, and when the answer reached the host (Date.now()). */
  readonly cursorAt: number;
  readonly answeredAt: number;
  /** The computation's own time (the worker's). */
  readonly computeMs: number;
}

class NextByteTab implements PanelTab<'nextBytePainted'> {
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private cursorAt = 0;
  private draw: Draw | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly ctx: Pick<Ctx, 'probabilities' | 'log'>,
    private readonly host: PanelHost<'nextByte'>,
  ) {
    this.disposables = [
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === host.editor() && host.isShown()) {
          this.cursorAt = Date.now();
          this.schedule();
        }
      }),
    ];
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }

  /** The webview painted a result: how long after its computation ended (the view's target is 50 ms). */
  handle(m: FromWebview<'nextBytePainted'>): void {
    const d = this.draw;
    if (!d || d.drawId !== m.drawId) return;
    this.draw = undefined;
    const now = Date.now();
    this.ctx.log(
      `nextByte painted ${now - d.answeredAt} ms after the computation (which took ${d.computeMs.toFixed(1)} ms)${d.cursorAt ? `, ${now - d.cursorAt} ms after the cursor moved` : ''}; in the webview: DOM ${m.domMs.toFixed(1)} ms, painted ${m.paintMs.toFixed(1)} ms after the message came`,
    );
  }

  onShown(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.send(), CURSOR_DEBOUNCE_MS);
  }

  private async send(): Promise<void> {
    const ed = this.host.editor();
    if (!ed) return this.host.post({ type: 'nextByte', result: null, before: '', message: 'Open a file and put the cursor somewhere.' });
    const seq = ++this.seq;
    const doc = ed.document;
    const offset = doc.offsetAt(ed.selection.active);
    const version = doc.version;
    const answer = await this.ctx.probabilities.nextBytes(doc, offset);
    const answeredAt = Date.now();
    if (seq !== this.seq || doc.version !== version) return;
    const before = wholeCharacters(doc.getText(new vscode.Range(doc.positionAt(Math.max(0, offset - CONTEXT_UTF16)), doc.positionAt(offset))));
    if ('message' in answer) return this.host.post({ type: 'nextByte', result: null, before, message: answer.message });
    const result = answer.result;
    this.draw = { drawId: seq, cursorAt: this.cursorAt, answeredAt, computeMs: result.ms };
    this.host.post({ type: 'nextByte', result, before, drawId: seq });
    this.ctx.log(`nextByte offset=${offset} exact=${result.exact} top=${JSON.stringify(result.topCharacters[0]?.text ?? '')}`);
  }
}

export const nextByteTab = panelTab({
  handles: ['nextBytePainted'],
  sends: ['nextByte'],
  create: (ctx, host) => new NextByteTab(ctx, host),
});
