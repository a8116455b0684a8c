/**
 * The text editor the user last worked in. VS Code's `activeTextEditor` is undefined while the panel, the
 * sidebar or another webview has the focus, which is exactly when one inspects a token: the status bar and the
 * commands over a document's tokens follow the last active editor while it is still visible.
 */
import * as vscode from 'vscode';

export class LastEditor implements vscode.Disposable {
  private last: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private readonly subscription = vscode.window.onDidChangeActiveTextEditor((ed) => {
    if (ed) this.last = ed;
  });

  dispose(): void {
    this.subscription.dispose();
  }

  /** The active text editor, else the last one while its document is open and shown in some editor group. */
  get editor(): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active) return active;
    const last = this.last;
    if (!last || last.document.isClosed) return undefined;
    // The same document may be shown by a new editor object after a layout change: prefer that one.
    return vscode.window.visibleTextEditors.find((ed) => ed === last) ?? vscode.window.visibleTextEditors.find((ed) => ed.document === last.document);
  }
}
