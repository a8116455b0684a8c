/**
 * The tokens of one region of a text (the lines an editor shows), equal to the whole text's tokens there,
 * without encoding the rest: what the editor draws first when a large document opens.
 *
 * The region runs from R, the last restart point at or before the start asked for, to Q, the first restart
 * point at or after the end asked for (Tokenizer.restartRules, see documentTokens.ts: no token crosses a
 * restart point, and the text after it encodes on its own as in the whole text). It is encoded up to Q2, the
 * restart point after Q, and kept up to Q, so that the slice's end cannot change its last tokens (lookaheads
 * such as `\s+(?!\S)` see the end of a string), as the incremental window and the chunked encoder do.
 */
import { utf8Length } from '../text/utf8';
import type { EncodeOptions, TokenStream, Tokenizer } from '../tokenizers/types';
import { restartExtent, streamBeforeRestart } from './documentTokens';

/** How far to look for a restart point on either side of the region before giving up. */
const MAX_SCAN_UTF16 = 1 << 16;

export interface RegionTokens {
  /** The region [utf16Start, utf16End) of the text, and its UTF-8 offset in the text. */
  readonly utf16Start: number;
  readonly utf16End: number;
  readonly byteStart: number;
  /** Its tokens; offsets relative to the region's start (add utf16Start / byteStart for the text's). */
  readonly stream: TokenStream;
}

/**
 * The tokens of the region around [utf16From, utf16To) of `text`, or undefined when no restart point lies
 * within MAX_SCAN_UTF16 on a side that is not the text's end (a region would then be most of the text anyway).
 */
export function encodeRegion(tokenizer: Tokenizer, text: string, utf16From: number, utf16To: number, options: EncodeOptions = {}): RegionTokens | undefined {
  const total = text.length;
  const from = Math.max(0, Math.min(utf16From, total));
  const to = Math.max(from, Math.min(utf16To, total));
  const rules = options.allowSpecial === true ? tokenizer.restartRulesWithSpecial : tokenizer.restartRules;

  let r = -1;
  for (let p = Math.min(from, total - 1); p >= 1 && p >= from - MAX_SCAN_UTF16; p--) {
    if (restartExtent(text, p, rules) >= 0) {
      r = p;
      break;
    }
  }
  if (r < 0) {
    if (from > MAX_SCAN_UTF16) return undefined;
    r = 0;
  }
  const after = (start: number): number => {
    const limit = Math.min(total, start + MAX_SCAN_UTF16);
    for (let p = start; p < limit; p++) if (restartExtent(text, p, rules) >= 0) return p;
    return limit === total ? total : -1;
  };
  const q = to >= total ? total : after(Math.max(to, r + 1));
  if (q < 0) return undefined;
  const q2 = q >= total ? total : after(q + 1);
  if (q2 < 0) return undefined;

  const encoded = tokenizer.encode(text.slice(r, q2), { ...options, continuation: r > 0 });
  const stream = streamBeforeRestart(encoded, q - r, q < q2);
  return { utf16Start: r, utf16End: q, byteStart: r === 0 ? 0 : utf8Length(text.slice(0, r)), stream };
}
