/**
 * The span rules every token stream must satisfy (see src/core/tokenizers/types.ts). Returns a list of
 * violations (empty when the stream is right) so property tests can report the first bad case clearly.
 */
import { TokenFlag, type TokenStream, type Tokenizer } from '../../src/core/tokenizers/types';

const enc = new TextEncoder();

function utf8Len(s: string): number {
  return enc.encode(s).length;
}

export interface InvariantOptions {
  /** Byte-level tokenizers without a normalizer: every token's own bytes equal its original bytes. */
  readonly lossless?: boolean;
  /** SentencePiece-style: the tokens' bytes spell the text with `▁` for spaces (plus a prepended `▁`). */
  readonly metaspace?: { readonly prepend: boolean };
}

export function checkStream(tok: Tokenizer, input: string, s: TokenStream, options: InvariantOptions = {}): string[] {
  const text = input.toWellFormed();
  const errs: string[] = [];
  const utf8 = enc.encode(text);
  // prefixBytes[u] = UTF-8 length of text[0:u], computed independently of the engine's walker.
  const prefixBytes = new Uint32Array(text.length + 1);
  for (let u = 0; u < text.length; u++) {
    const c = text.charCodeAt(u);
    const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : c >= 0xdc00 && c <= 0xdfff ? 0 : 3;
    prefixBytes[u + 1] = prefixBytes[u] + len;
  }
  const n = s.count;
  if (s.ids.length !== n || s.byteOffsets.length !== n + 1 || s.utf16Offsets.length !== n + 1 || s.flags.length !== n) {
    return [`array lengths do not match count ${n}`];
  }
  if (s.byteLength !== utf8.length) errs.push(`byteLength ${s.byteLength} != ${utf8.length}`);
  if (s.utf16Length !== text.length) errs.push(`utf16Length ${s.utf16Length} != ${text.length}`);
  if (n === 0) {
    if (text.length > 0) errs.push('no tokens for non-empty text');
    return errs;
  }
  if (s.byteOffsets[0] !== 0 || s.utf16Offsets[0] !== 0) errs.push('first boundary is not 0');
  if (s.byteOffsets[n] !== utf8.length) errs.push(`last byte boundary ${s.byteOffsets[n]} != ${utf8.length}`);
  if (s.utf16Offsets[n] !== text.length) errs.push(`last UTF-16 boundary ${s.utf16Offsets[n]} != ${text.length}`);
  for (let i = 0; i <= n && errs.length < 5; i++) {
    if (i > 0 && s.byteOffsets[i] < s.byteOffsets[i - 1]) errs.push(`byte boundary ${i} decreases`);
    if (i > 0 && s.utf16Offsets[i] < s.utf16Offsets[i - 1]) errs.push(`UTF-16 boundary ${i} decreases`);
    const u = s.utf16Offsets[i];
    const into = s.byteIntoChar[i];
    const c = text.charCodeAt(u - 1);
    if (u > 0 && u < text.length && c >= 0xd800 && c <= 0xdbff) errs.push(`boundary ${i} splits a surrogate pair`);
    const expectedByte = prefixBytes[u] + into;
    if (s.byteOffsets[i] !== expectedByte) errs.push(`boundary ${i}: byte ${s.byteOffsets[i]} != utf8(text[0:${u}]) + ${into} = ${expectedByte}`);
    if (into > 0) {
      const cp = text.codePointAt(u) ?? 0;
      if (into >= utf8Len(String.fromCodePoint(cp))) errs.push(`boundary ${i}: ${into} bytes into a ${utf8Len(String.fromCodePoint(cp))}-byte character`);
    }
    if (i < n) {
      const partial = s.byteIntoChar[i] > 0 || s.byteIntoChar[i + 1] > 0;
      if (partial !== ((s.flags[i] & TokenFlag.Partial) !== 0)) errs.push(`token ${i}: Partial flag ${!partial}, boundaries say ${partial}`);
      const zero = s.byteOffsets[i] === s.byteOffsets[i + 1];
      if (zero !== ((s.flags[i] & TokenFlag.ZeroWidth) !== 0)) errs.push(`token ${i}: ZeroWidth flag wrong`);
      if (s.ids[i] >= tok.vocabSize) errs.push(`token ${i}: id ${s.ids[i]} >= vocabSize ${tok.vocabSize}`);
    }
  }
  if (options.lossless) {
    for (let i = 0; i < n && errs.length < 8; i++) {
      const own = tok.tokenBytes(s.ids[i]);
      const orig = utf8.subarray(s.byteOffsets[i], s.byteOffsets[i + 1]);
      if (own.length !== orig.length || own.some((b, k) => b !== orig[k])) errs.push(`token ${i} (id ${s.ids[i]}): its bytes differ from the text's bytes at [${s.byteOffsets[i]}, ${s.byteOffsets[i + 1]})`);
    }
  }
  if (options.metaspace) {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < n; i++) parts.push(tok.tokenBytes(s.ids[i]));
    const all = Buffer.concat(parts).toString('utf8').replaceAll('\u2581', ' ');
    const expected = (options.metaspace.prepend && text.length > 0 ? ' ' : '') + text.replaceAll('\u2581', ' ');
    if (all !== expected) errs.push('the tokens do not spell the text');
  }
  return errs;
}
