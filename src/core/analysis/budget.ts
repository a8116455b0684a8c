/**
 * Splitting text into chunks of at most N tokens, cut at token boundaries. A cut never falls inside a
 * character: tokens that split one character stay in the same chunk (a chunk may then hold fewer tokens).
 * Counts are the document stream's; a chunk tokenized on its own can differ by a token at its edges, where
 * a word was cut (the cut is at a token boundary, so usually it does not).
 */
import type { TokenStream } from '../tokenizers/types';

interface Chunk {
  readonly utf16Start: number;
  readonly utf16End: number;
  readonly tokens: number;
}

export function splitByTokenBudget(stream: TokenStream, utf16Start: number, utf16End: number, budget: number): Chunk[] {
  if (!(budget >= 1)) throw new RangeError('the token budget must be at least 1');
  const u = stream.utf16Offsets;
  const n = stream.count;
  // Tokens overlapping [utf16Start, utf16End).
  let first = 0;
  while (first < n && u[first + 1] <= utf16Start && !(u[first + 1] === utf16Start && stream.byteIntoChar[first + 1] > 0)) first++;
  let last = first;
  while (last < n && u[last] < utf16End) last++;
  const chunks: Chunk[] = [];
  let start = first;
  let chunkStart = utf16Start;
  while (start < last) {
    let end = Math.min(last, start + budget);
    // Do not cut inside a character: move the cut back to a clean boundary (or forward if none).
    let cut = end;
    while (cut > start && cut < last && stream.byteIntoChar[cut] > 0) cut--;
    if (cut === start) {
      cut = end;
      while (cut < last && stream.byteIntoChar[cut] > 0) cut++;
    }
    end = cut;
    const chunkEnd = end >= last ? utf16End : u[end];
    chunks.push({ utf16Start: chunkStart, utf16End: chunkEnd, tokens: end - start });
    chunkStart = chunkEnd;
    start = end;
  }
  return chunks;
}
