/**
 * Where the analysis of the text before the cursor starts: a restart point R (documentTokens.ts: no token
 * crosses it, and the tokens after it are those of the text after it encoded on its own, whatever follows),
 * and the fixed tokens before R, which no continuation can change.
 */
import { restartExtent } from '../../analysis/documentTokens';
import type { RestartRules, TokenStream, Tokenizer } from '../../tokenizers/types';
import { lowerBound } from '../../sortedSearch';
import { utf8Length } from '../../text/utf8';

/**
 * The last restart point at or before the end of `x` whose defining characters lie in `x` and that is at most
 * `maxLookback` UTF-16 units back; 0 when the text is that short; -1 when none exists in a longer text.
 */
export function regionStart(x: string, rules: RestartRules, maxLookback: number): number {
  for (let p = x.length - 1; p >= 1 && p >= x.length - maxLookback; p--) if (restartExtent(x, p, rules) >= 0) return p;
  return x.length <= maxLookback ? 0 : -1;
}

function restartBefore(x: string, at: number, rules: RestartRules): number {
  for (let p = Math.min(at, x.length - 1); p >= 1; p--) if (restartExtent(x, p, rules) >= 0) return p;
  return 0;
}

/**
 * The tokens of x[0, R): from the document's token stream when the caller has one (R is a token boundary in
 * it), else encoded. With `contextTokens` small and the text long, only a tail that holds that many tokens is
 * encoded (from an earlier restart point): the model never looks further back, and every probability the
 * analysis compares is relative to these fixed tokens.
 */
export function fixedTokens(tokenizer: Tokenizer, x: string, R: number, contextTokens: number, stream: TokenStream | undefined, whole: boolean): Uint32Array {
  if (R === 0) return new Uint32Array(0);
  if (stream) {
    const byte = utf8Length(x, 0, R);
    const k = lowerBound(stream.byteOffsets, byte, 0, stream.count);
    if (stream.byteOffsets[k] === byte && stream.byteIntoChar[k] === 0) return stream.ids.slice(0, k);
  }
  if (!whole && contextTokens <= 4096) {
    let span = 16 * contextTokens + 1024;
    while (span < R) {
      const from = restartBefore(x, R - span, tokenizer.restartRules);
      if (from <= 0) break;
      const ids = tokenizer.encode(x.slice(from, R), { continuation: true }).ids;
      if (ids.length >= contextTokens) return ids;
      span *= 2;
    }
  }
  return tokenizer.encode(x.slice(0, R)).ids;
}
