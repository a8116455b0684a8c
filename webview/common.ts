/** Shared by the panel and the sidebar: the VS Code webview API and small DOM helpers. */
import { replaceControls, type ControlNames } from '../src/core/analysis/stream';
import type { HostToWebview, WebviewToHost } from '../src/protocol';

interface VsCodeApi {
  postMessage(msg: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

export function send(msg: WebviewToHost): void {
  vscode.postMessage(msg);
}

/** The webview's saved state (kept by VS Code across hiding and a window reload). */
export function getState(): unknown {
  return vscode.getState();
}

export function setState(state: unknown): void {
  vscode.setState(state);
}

export function onHostMessage(handler: (m: HostToWebview) => void): void {
  window.addEventListener('message', (e: MessageEvent<unknown>) => {
    const m = e.data;
    if (typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string') handler(m as HostToWebview);
  });
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

export const fmt = (n: number): string => n.toLocaleString('en-US');
export const fixed = (n: number | null, d = 2): string => (n === null || !Number.isFinite(n) ? '–' : n.toFixed(d));

const GLYPHS: ControlNames = { ' ': '·', '\t': '→', '\n': '↵', '\r': '␍' };

/** Whitespace made visible: space `·`, tab `→`, newline `↵`, CR `␍`, other controls as `\xNN`. */
export function visible(s: string): string {
  return replaceControls(s, GLYPHS);
}

/** A colour on a diverging blue–grey–orange scale for a cost ratio (colour-blind safe), with 1 in the middle. */
export function costColor(ratio: number | null): string {
  if (ratio === null) return 'transparent';
  const t = Math.max(-1, Math.min(1, Math.log2(ratio)));
  if (t >= 0) return `color-mix(in srgb, var(--ti-costly) ${Math.round(t * 100)}%, var(--ti-neutral))`;
  return `color-mix(in srgb, var(--ti-cheap) ${Math.round(-t * 100)}%, var(--ti-neutral))`;
}

/** "1 token", "2 tokens", "1,024 tokens". */
export function tokensWord(n: number): string {
  return `${fmt(n)} ${n === 1 ? 'token' : 'tokens'}`;
}

/** US dollars at a precision that shows small costs: $1.25, $0.012, $0.00031. */
export function usd(x: number): string {
  return x >= 1 ? `$${x.toFixed(2)}` : x >= 0.01 ? `$${x.toFixed(3)}` : x === 0 ? '$0' : `$${x.toPrecision(2)}`;
}
