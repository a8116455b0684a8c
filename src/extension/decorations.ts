/**
 * Token boundaries in the editor: alternating theme-coloured backgrounds, visible whitespace inside tokens,
 * partial-character and zero-width tokens marked. Only visible lines are decorated, and on long lines only a
 * window of columns around the cursor, so a 5 MB single-line file stays fluid.
 */
import * as vscode from 'vscode';
import { charUtf16Length } from '../core/text/utf8';
import { TokenFlag } from '../core/tokenizers/types';
import type { AnalysisService, RegionAnalysis } from './analysisService';
import type { Ctx } from './context';
import { rankBucket } from '../core/lm/rankHistogram';
import { surprisalBin } from './probabilities';

const color = (id: string): vscode.ThemeColor => new vscode.ThemeColor(id);

/**
 * Keeps right-to-left text in its order. VS Code renders a line as one span per run of equal decorations, and
 * gives each span that holds right-to-left characters `style="unicode-bidi:isolate"`. Undecorated, an Arabic
 * line is one such span, laid out right to left inside; with one span per token each word becomes its own
 * isolate, and isolates are neutral to the line's left-to-right paragraph, so the words went left to right. The
 * token spans are made plain inline spans again (`unicode-bidi: normal`, important to win over the inline
 * style), so the whole line takes part in one bidi run as it does undecorated. Spans without right-to-left text
 * are not isolated by VS Code, so this changes nothing for them. (VS Code's decoration options have no bidi
 * field: the declaration rides on `letterSpacing`, whose `normal` is the default.)
 */
const KEEP_BIDI_ORDER = 'normal; unicode-bidi: normal !important';

function tokenType(parity: 'Even' | 'Odd'): vscode.TextEditorDecorationType {
  return vscode.window.createTextEditorDecorationType({
    backgroundColor: color(`tokenInspector.tokenBackground${parity}`),
    letterSpacing: KEEP_BIDI_ORDER,
    borderRadius: '2px',
    border: '1px solid',
    borderColor: color('tokenInspector.tokenBorder'),
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
}

function probabilityType(colorId: string): vscode.TextEditorDecorationType {
  return vscode.window.createTextEditorDecorationType({ backgroundColor: color(colorId), letterSpacing: KEEP_BIDI_ORDER, borderRadius: '2px', border: '1px solid', borderColor: color('tokenInspector.tokenBorder') });
}

/** A glyph drawn over the character it marks (zero width, so the text does not move). */
function glyphType(glyph: string): vscode.TextEditorDecorationType {
  return vscode.window.createTextEditorDecorationType({
    before: { contentText: glyph, color: color('tokenInspector.whitespaceForeground'), width: '0', textDecoration: 'none; position: relative; pointer-events: none;' },
  });
}

/** Render at most this many lines around the visible ones (scrolling a little needs no new work). */
const EXTRA_LINES = 20;
/** Clear a stale picture after this long without a fresh analysis. */
const STALE_CLEAR_MS = 150;

export class TokenDecorator implements vscode.Disposable {
  private readonly even = tokenType('Even');
  private readonly odd = tokenType('Odd');
  private readonly space = glyphType('·');
  private readonly tab = glyphType('→');
  private readonly newlineEven = vscode.window.createTextEditorDecorationType({
    after: { contentText: '↵', color: color('tokenInspector.whitespaceForeground'), backgroundColor: color('tokenInspector.tokenBackgroundEven') },
  });
  private readonly newlineOdd = vscode.window.createTextEditorDecorationType({
    after: { contentText: '↵', color: color('tokenInspector.whitespaceForeground'), backgroundColor: color('tokenInspector.tokenBackgroundOdd') },
  });
  private readonly partial = vscode.window.createTextEditorDecorationType({
    borderStyle: 'none none dashed none',
    borderWidth: '0 0 2px 0',
    borderColor: color('tokenInspector.partialTokenBorder'),
  });
  private readonly zeroWidth = vscode.window.createTextEditorDecorationType({
    before: { contentText: '▏', color: color('tokenInspector.partialTokenBorder'), width: '0' },
  });
  /** GLTR rank buckets (top 10, 100, 1000, rest) and surprisal bins (<2, <4, <8, <12, ≥12 bits). */
  private readonly rankTypes = ['top10', 'top100', 'top1000', 'rest'].map((k) => probabilityType(`tokenInspector.rank.${k}`));
  private readonly surprisalTypes = [0, 1, 2, 3, 4].map((k) => probabilityType(`tokenInspector.surprisal.${k}`));
  private readonly types = [this.even, this.odd, this.space, this.tab, this.newlineEven, this.newlineOdd, this.partial, this.zeroWidth, ...this.rankTypes, ...this.surprisalTypes];
  private readonly staleTimers = new Map<vscode.TextEditor, NodeJS.Timeout>();
  /** The version last drawn per document, to log each new picture once (the e2e tests time keystroke to decoration). */
  private readonly drawnVersions = new WeakMap<vscode.TextDocument, number>();
  /**
   * The colour of token i is (i + shift) % 2. A region's tokens are numbered from the region's start, since the
   * tokens before it are not counted yet; when the whole text's come, the shift is set so that every token
   * keeps the colour the region gave it (no colour swap), and it stays for the document (an edit that adds a
   * token flips the colours after it, as it always did).
   */
  private readonly parityShifts = new WeakMap<vscode.TextDocument, number>();
  /** The region drawn for a document's version, until the whole text's tokens replace it. */
  private readonly regionsDrawn = new WeakMap<vscode.TextDocument, { version: number; utf16Start: number; shift: number }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: Pick<Ctx, 'analyses' | 'probabilities' | 'settings' | 'log'>) {
    const { analyses, probabilities, settings } = ctx;
    this.disposables.push(
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.render(e.textEditor)),
      vscode.window.onDidChangeVisibleTextEditors((eds) => eds.forEach((ed) => this.render(ed))),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        // Long lines follow the cursor. (A selection event can arrive after an edit removed its line.)
        const doc = e.textEditor.document;
        const line = e.selections[0].active.line;
        if (line < doc.lineCount && doc.lineAt(line).text.length > settings.get('maxDecoratedColumns')) this.render(e.textEditor);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => this.markStale(e.document)),
      analyses.onDidAnalyze((doc) => vscode.window.visibleTextEditors.filter((ed) => ed.document === doc).forEach((ed) => this.render(ed))),
      analyses.onDidAnalyzeRegion((doc) => vscode.window.visibleTextEditors.filter((ed) => ed.document === doc).forEach((ed) => this.render(ed))),
      // Colour tokens by probability when that service has scores for the document's current version.
      probabilities.onDidScore((doc) => vscode.window.visibleTextEditors.filter((ed) => ed.document === doc).forEach((ed) => this.render(ed))),
      settings.onDidChange('decorations', () => this.renderAll()),
    );
  }

  dispose(): void {
    for (const t of this.types) t.dispose();
    for (const d of this.disposables) d.dispose();
    for (const t of this.staleTimers.values()) clearTimeout(t);
  }

  renderAll(): void {
    for (const ed of vscode.window.visibleTextEditors) this.render(ed);
  }

  private clear(editor: vscode.TextEditor): void {
    for (const t of this.types) editor.setDecorations(t, []);
  }

  /** After an edit the old picture is wrong: give the worker a moment, then clear it. */
  private markStale(doc: vscode.TextDocument): void {
    for (const ed of vscode.window.visibleTextEditors) {
      if (ed.document !== doc) continue;
      const old = this.staleTimers.get(ed);
      if (old) clearTimeout(old);
      this.staleTimers.set(
        ed,
        setTimeout(() => {
          this.staleTimers.delete(ed);
          if (!this.ctx.analyses.current(doc)) this.clear(ed);
        }, STALE_CLEAR_MS),
      );
    }
  }

  render(editor: vscode.TextEditor): void {
    const t0 = performance.now();
    this.renderNow(editor);
    const ms = performance.now() - t0;
    if (ms > 8) this.ctx.log(`slow: decorations ${ms.toFixed(1)}ms`);
  }

  private renderNow(editor: vscode.TextEditor): void {
    const doc = editor.document;
    if (!this.ctx.settings.get('showBoundaries')) return this.clear(editor);
    const analysis = this.ctx.analyses.current(doc);
    // Until the whole text's tokens come, a long document's visible lines may have theirs (equal there).
    const region = analysis ? undefined : this.ctx.analyses.region(doc);
    if (!analysis) {
      this.ctx.analyses.request(doc);
      if (!region) return;
    } else {
      const pending = this.staleTimers.get(editor);
      if (pending) {
        clearTimeout(pending);
        this.staleTimers.delete(editor);
      }
      const drawn = this.regionsDrawn.get(doc);
      if (drawn) {
        this.regionsDrawn.delete(doc);
        if (drawn.version === analysis.version) this.parityShifts.set(doc, (drawn.shift + cleanBoundaryAt(analysis.stream, drawn.utf16Start)) & 1);
      }
    }
    const shift = this.parityShifts.get(doc) ?? 0;
    const s = analysis ? analysis.stream : (region as RegionAnalysis).stream;
    const out = { even: [] as vscode.Range[], odd: [] as vscode.Range[], space: [] as vscode.Range[], tab: [] as vscode.Range[], nlEven: [] as vscode.Range[], nlOdd: [] as vscode.Range[], partial: [] as vscode.Range[], zero: [] as vscode.Range[] };
    // In probability mode a token's background is its bucket instead of its parity (scores are per token of the
    // whole text: a region is drawn by parity).
    const p = this.ctx.probabilities;
    const view = p.enabled && analysis ? p.current(doc) : undefined;
    const buckets = view ? (p.colorBy === 'surprisal' ? this.surprisalTypes : this.rankTypes) : undefined;
    const bucketRanges: vscode.Range[][] = buckets ? buckets.map(() => []) : [];
    const bucketOf = view
      ? p.colorBy === 'surprisal'
        ? (i: number) => surprisalBin(-view.scores.logProbs[i] / Math.LN2)
        : (i: number) => rankBucket(view.scores.ranks?.[i] ?? NaN)
      : undefined;
    const maxCols = this.ctx.settings.get('maxDecoratedColumns');
    const cursor = editor.selection.active;
    const done = new Set<number>();
    let linesDrawn = 0;
    for (const vr of editor.visibleRanges) {
      const first = Math.max(0, vr.start.line - EXTRA_LINES);
      const last = Math.min(doc.lineCount - 1, vr.end.line + EXTRA_LINES);
      for (let line = first; line <= last; line++) {
        if (done.has(line)) continue;
        done.add(line);
        const text = doc.lineAt(line).text;
        const lineStart = doc.offsetAt(new vscode.Position(line, 0));
        // Of a region, only its whole lines (line breaks included): the tokens outside it are not known yet.
        if (region && (lineStart < region.utf16Start || lineStart + text.length >= region.utf16End)) continue;
        linesDrawn++;
        let colLo = 0;
        let colHi = text.length;
        if (text.length > maxCols) {
          const center = cursor.line === line ? cursor.character : 0;
          colLo = Math.max(0, center - (maxCols >> 1));
          colHi = Math.min(text.length, colLo + maxCols);
        }
        this.decorateLine(s, shift, line, lineStart, text, colLo, colHi, out, bucketOf && ((i: number, r: vscode.Range) => bucketRanges[bucketOf(i)].push(r)));
      }
    }
    editor.setDecorations(this.even, out.even);
    editor.setDecorations(this.odd, out.odd);
    for (const t of [...this.rankTypes, ...this.surprisalTypes]) {
      const own = buckets?.indexOf(t) ?? -1;
      editor.setDecorations(t, own >= 0 ? bucketRanges[own] : []);
    }
    editor.setDecorations(this.space, out.space);
    editor.setDecorations(this.tab, out.tab);
    editor.setDecorations(this.newlineEven, out.nlEven);
    editor.setDecorations(this.newlineOdd, out.nlOdd);
    editor.setDecorations(this.partial, out.partial);
    editor.setDecorations(this.zeroWidth, out.zero);
    // A region is logged (and its colours kept) once it draws a line: the editor may have scrolled away from it.
    if (region) {
      if (linesDrawn > 0 && this.regionsDrawn.get(doc)?.version !== region.version) {
        this.regionsDrawn.set(doc, { version: region.version, utf16Start: region.utf16Start, shift });
        this.ctx.log(`decorated ${doc.uri.toString()} v${region.version} region [${region.utf16Start}, ${region.utf16End})`);
      }
    } else if (analysis && this.drawnVersions.get(doc) !== analysis.version) {
      this.drawnVersions.set(doc, analysis.version);
      this.ctx.log(`decorated ${doc.uri.toString()} v${analysis.version}${shift ? ' (colours shifted by one token to keep the region\'s)' : ''}`);
    }
  }

  private decorateLine(
    s: Analysis['stream'],
    shift: number,
    line: number,
    lineStart: number,
    text: string,
    colLo: number,
    colHi: number,
    out: Record<'even' | 'odd' | 'space' | 'tab' | 'nlEven' | 'nlOdd' | 'partial' | 'zero', vscode.Range[]>,
    bucket?: (i: number, r: vscode.Range) => void,
  ): void {
    const u = s.utf16Offsets;
    const lo = lineStart + colLo;
    const hi = lineStart + colHi;
    // First token that ends after lo.
    let a = 0;
    let b = s.count;
    while (a < b) {
      const m = (a + b) >> 1;
      if (u[m + 1] <= lo && !(u[m + 1] === lo && s.byteIntoChar[m + 1] > 0)) a = m + 1;
      else b = m;
    }
    for (let i = a; i < s.count && u[i] < hi; i++) {
      let end = u[i + 1];
      if (s.byteIntoChar[i + 1] > 0) {
        const rel = end - lineStart;
        end += rel >= 0 && rel < text.length ? charUtf16Length(text, rel) : 1;
      }
      const c0 = Math.max(u[i], lo) - lineStart;
      const c1 = Math.min(end, hi) - lineStart;
      const f = s.flags[i];
      if (f & TokenFlag.ZeroWidth) {
        out.zero.push(new vscode.Range(line, Math.max(0, c0), line, Math.max(0, c0)));
        continue;
      }
      if (c1 > c0) {
        const r = new vscode.Range(line, c0, line, c1);
        if (bucket) bucket(i, r);
        else ((i + shift) % 2 === 0 ? out.even : out.odd).push(r);
        if (f & TokenFlag.Partial) out.partial.push(r);
        for (let c = c0; c < c1; c++) {
          const ch = text.charCodeAt(c);
          if (ch === 32) out.space.push(new vscode.Range(line, c, line, c + 1));
          else if (ch === 9) out.tab.push(new vscode.Range(line, c, line, c + 1));
        }
      }
      // The line break belongs to the token that covers the end of the line.
      const eol = lineStart + text.length;
      if (colHi === text.length && u[i] <= eol && end > eol) ((i + shift) % 2 === 0 ? out.nlEven : out.nlOdd).push(new vscode.Range(line, text.length, line, text.length));
    }
  }
}

type Analysis = NonNullable<ReturnType<AnalysisService['current']>>;

/** The index of the last boundary of `s` at UTF-16 offset u on a character boundary (a restart point has one). */
function cleanBoundaryAt(s: Analysis['stream'], u: number): number {
  let a = 0;
  let b = s.count + 1;
  while (a < b) {
    const m = (a + b) >> 1;
    if (s.utf16Offsets[m] <= u) a = m + 1;
    else b = m;
  }
  for (let i = a - 1; i >= 0 && s.utf16Offsets[i] === u; i--) if (s.byteIntoChar[i] === 0) return i;
  return 0;
}
