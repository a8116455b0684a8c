/**
 * Token ids as people paste them ("[9906, 11, 1917]", "9906 11 1917", "9906,11,1917") and what they decode to
 * under one tokenizer: the scratch input of the panel (and anything else that reads pasted ids).
 */
import { tokenDisplayText } from '../lm/score';
import type { Tokenizer } from '../tokenizers/types';

/** More ids than this are refused (a pasted list, not a corpus). */
export const MAX_PASTED_IDS = 100_000;

const ID_LIST = /^\s*\[?\s*(\d{1,10}(?:\s*[,\s]\s*\d{1,10})*)\s*,?\s*\]?\s*$/;

/**
 * The ids in `input` when it is nothing but a list of whole numbers (optionally in brackets, separated by
 * commas or white space); null when it is text, or longer than `maxIds`.
 */
export function parseTokenIds(input: string, maxIds = MAX_PASTED_IDS): number[] | null {
  // A bound before the regular expression: at most 11 characters per id.
  if (input.length > maxIds * 12 + 16) return null;
  const m = ID_LIST.exec(input);
  if (!m) return null;
  const ids = m[1].split(/[\s,]+/).map(Number);
  return ids.length <= maxIds && ids.every((n) => Number.isSafeInteger(n)) ? ids : null;
}

export interface DecodedToken {
  readonly id: number;
  /** The token's bytes as text, `\xNN` escapes where they are not whole characters; '' for an unknown id. */
  readonly text: string;
  readonly byteLength: number;
  /** The id is outside the vocabulary. */
  readonly unknown: boolean;
}

export interface DecodedIds {
  /** All the tokens' bytes decoded together as UTF-8 (a character split across tokens reads whole; invalid bytes as U+FFFD). */
  readonly text: string;
  readonly tokens: DecodedToken[];
  /** The ids outside the vocabulary, in order, without repeats. */
  readonly unknownIds: number[];
}

/** What `ids` spell under `tokenizer`. */
export function decodeIds(tokenizer: Tokenizer, ids: readonly number[]): DecodedIds {
  const parts: Uint8Array[] = [];
  const tokens: DecodedToken[] = [];
  const unknown = new Set<number>();
  let total = 0;
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= tokenizer.vocabSize) {
      unknown.add(id);
      tokens.push({ id, text: '', byteLength: 0, unknown: true });
      continue;
    }
    const bytes = tokenizer.tokenBytes(id);
    parts.push(bytes);
    total += bytes.length;
    tokens.push({ id, text: tokenDisplayText(tokenizer, id), byteLength: bytes.length, unknown: false });
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return { text: new TextDecoder('utf-8', { fatal: false }).decode(all), tokens, unknownIds: [...unknown] };
}
