/**
 * The tokenization worker: holds each open document's text, applies edits, and returns token streams as
 * transferable typed arrays. Tokenizers load here, on first use, never in the extension host. Nothing slow
 * runs here (workspace jobs have their own worker, workspaceWorker.ts), so a keystroke's tokens never wait.
 */
import { DocumentTokens } from '../core/analysis/documentTokens';
import { encodeRegion } from '../core/analysis/regionTokens';
import { tokenDisplayText } from '../core/lm/score';
import { TokenizerError } from '../core/tokenizers/errors';
import type { TokenStream, Tokenizer } from '../core/tokenizers/types';
import type { StreamPayload, TextChange } from '../protocol/payloads';
import { TOKEN_WORKER, type AnalyzeParams, type AnalyzeRegion, type AnalyzeResult, type TokenNotifications, type TokenRequests, type Utf16Range } from '../protocol/tokenWorker';
import { errorMessage, serve } from './serve';
import { describeTokenizer, loadRef, tokenizerKey } from './tokenizers';

interface DocState {
  version: number;
  text: string;
  /** Incremental token state per tokenizer key. */
  tokens: Map<string, DocumentTokens>;
}

const docs = new Map<string, DocState>();

function streamPayload(s: TokenStream): { payload: StreamPayload; transfer: ArrayBuffer[] } {
  // Copies, so the worker's incremental state keeps its own arrays while these are transferred.
  const ids = s.ids.slice();
  const byteOffsets = s.byteOffsets.slice();
  const utf16Offsets = s.utf16Offsets.slice();
  const flags = s.flags.slice();
  const byteIntoChar = s.byteIntoChar.slice();
  return {
    payload: { count: s.count, ids, byteOffsets, utf16Offsets, flags, byteIntoChar, byteLength: s.byteLength, utf16Length: s.utf16Length, addedTokens: s.addedTokens },
    transfer: [ids.buffer, byteOffsets.buffer, utf16Offsets.buffer, flags.buffer, byteIntoChar.buffer] as ArrayBuffer[],
  };
}

/** Applies edits in order; each edit's offsets refer to the text produced by the previous one. */
function applyChanges(state: DocState, changes: readonly TextChange[]): boolean {
  let text = state.text;
  for (const c of changes) {
    if (c.rangeOffset + c.rangeLength > text.length) return false;
    text = text.slice(0, c.rangeOffset) + c.text + text.slice(c.rangeOffset + c.rangeLength);
    for (const t of state.tokens.values()) t.applyEdit(c.rangeOffset, c.rangeLength, c.text);
  }
  state.text = text;
  return true;
}

/** True while `state` is still the worker's copy of the document at `version` (no close, reopen or edit since). */
function stillCurrent(docKey: string, state: DocState, version: number): boolean {
  return docs.get(docKey) === state && state.version === version;
}

/**
 * The tokens of the region around the visible lines, in the document's offsets, or undefined when there is no
 * restart point near them (the whole text's tokens come next either way).
 */
function visibleRegion(tokenizer: Tokenizer, text: string, version: number, visible: Utf16Range, allowSpecial: boolean): AnalyzeRegion | undefined {
  const region = encodeRegion(tokenizer, text, visible.utf16Start, visible.utf16End, { allowSpecial });
  // A region that is the whole text would only delay the whole text's tokens.
  if (!region || (region.utf16Start === 0 && region.utf16End === text.length)) return undefined;
  const s = region.stream;
  const { payload } = streamPayload(s);
  for (let i = 0; i <= s.count; i++) {
    payload.utf16Offsets[i] += region.utf16Start;
    payload.byteOffsets[i] += region.byteStart;
  }
  return { version, utf16Start: region.utf16Start, utf16End: region.utf16End, stream: payload };
}

async function analyze(p: AnalyzeParams, transfer: (...b: ArrayBufferLike[]) => void, progress: (region: AnalyzeRegion) => void): Promise<AnalyzeResult> {
  const t0 = performance.now();
  let state = docs.get(p.docKey);
  if ('text' in p) {
    state = { version: p.version, text: p.text, tokens: new Map() };
    docs.set(p.docKey, state);
  } else {
    // Edits that do not add up to the length the host has would give a wrong picture: ask for the text.
    if (!state || state.version !== p.baseVersion || !applyChanges(state, p.changes) || state.text.length !== p.utf16Length) {
      docs.delete(p.docKey);
      return { status: 'needText' };
    }
    state.version = p.version;
  }
  // The text of this version, kept in case the document moves on (or is closed) while the tokenizer loads.
  const text = state.text;
  const l = await loadRef(p.tokenizer);
  let stream: TokenStream;
  if (stillCurrent(p.docKey, state, p.version)) {
    const key = tokenizerKey(p.tokenizer) + (p.allowSpecial ? '#special' : '');
    let dt = state.tokens.get(key);
    // The lines on screen first: the host draws them while the whole text is encoded.
    if (!dt && 'text' in p && p.visible) {
      const region = visibleRegion(l.tokenizer, text, p.version, p.visible, p.allowSpecial);
      if (region) progress(region);
    }
    if (!dt) {
      // Keep one tokenizer's state per document: switching tokenizers starts afresh.
      state.tokens.clear();
      dt = new DocumentTokens(l.tokenizer, state.text, { allowSpecial: p.allowSpecial });
      state.tokens.set(key, dt);
    }
    stream = dt.stream;
  } else {
    // Superseded meanwhile: answer for the version asked (the host drops it if it has moved on), leaving the
    // newer state alone.
    stream = l.tokenizer.encode(text, { allowSpecial: p.allowSpecial });
  }
  const { payload, transfer: buffers } = streamPayload(stream);
  transfer(...buffers);
  return { status: 'analysis', tokenizer: describeTokenizer(l, p.tokenizer), stream: payload, elapsedMs: performance.now() - t0 };
}

serve<TokenRequests, TokenNotifications>(
  TOKEN_WORKER,
  {
    analyze: (p, ctx) => analyze(p, ctx.transfer, ctx.progress),
    count: async (p) => {
      const l = await loadRef(p.tokenizer);
      const s = l.tokenizer.encode(p.text, { allowSpecial: p.allowSpecial });
      return { count: s.count, addedCount: s.addedTokens.length };
    },
    describe: async (p) => describeTokenizer(await loadRef(p.tokenizer), p.tokenizer),
    tokenTexts: async (p) => {
      const l = await loadRef(p.tokenizer);
      const texts: Record<string, string> = {};
      for (const id of p.ids) texts[id] = tokenDisplayText(l.tokenizer, id);
      return texts;
    },
  },
  { close: (p) => void docs.delete(p.docKey) },
  (e) => (e instanceof TokenizerError ? { code: 'tokenizer', message: e.message } : { code: 'internal', message: `tokenization failed: ${errorMessage(e)}` }),
);
