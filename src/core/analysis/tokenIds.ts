/**
 * Token ids as people paste them ("[9906, 11, 1917]", "9906 11 1917", "9906,11,1917") and what they decode to
 * under one tokenizer: the scratch input of the panel (and anything else that reads pasted ids).
 */
import { tokenDisplayText } from '../lm/score';
import type { Tokenizer } from '../tokenizers/types';

/** More ids than this are refused (a pasted list, not a corpus). */
export const MAX_PASTED_IDS = 100_000;

/**
 * The ids in `input` when it is nothing but a list of whole numbers (in brackets or not, separated by commas
 * or white space, a trailing comma allowed); null when it is text, or longer than `maxIds`. A scan, not a
 * regular expression: pasted input can be long.
 */
export function parseTokenIds(input: string, maxIds = MAX_PASTED_IDS): number[] | null {
  let body = input.trim();
  if (body.startsWith('[') !== body.endsWith(']')) return null;
  if (body.startsWith('[')) body = body.slice(1, -1).trim();
  if (body.endsWith(',')) body = body.slice(0, -1).trimEnd();
  if (!body) return null;
  const ids: number[] = [];
  let i = 0;
  while (i < body.length) {
    const start = i;
    while (i < body.length && body.charCodeAt(i) >= 48 && body.charCodeAt(i) <= 57) i++;
    if (i === start || i - start > 10 || ids.length >= maxIds) return null;
    ids.push(Number(body.slice(start, i)));
    if (i === body.length) break;
    // One separator: white space, or one comma with white space around it.
    let commas = 0;
    const sep = i;
    while (i < body.length && (body[i] === ',' || WHITE.test(body[i]))) if (body[i++] === ',') commas++;
    if (commas > 1 || i === sep || i === body.length) return null;
  }
  return ids;
}

const WHITE = /\s/;

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
