/**
 * Splitting text into chunks of at most N tokens as the model sees them, cut at token boundaries.
 *
 * - A cut never falls inside a user-perceived character (an extended grapheme cluster, by `Intl.Segmenter`):
 *   not inside a code point (tokens that split one stay together) and not between a base and its combining
 *   marks (a Thai consonant and its vowel sign, an emoji and its modifier). A chunk may then hold fewer tokens;
 *   one cluster of more tokens than the budget is a chunk of its own, over the budget (`over`).
 * - The tokens the model adds to every text (`addedTokens`: BOS, EOS) count against each chunk's budget, since
 *   each chunk is sent on its own.
 * Counts are the document stream's; a chunk tokenized on its own can differ by a token at its edges where a
 * word was cut (callers that need the exact figure count each chunk again: `Split Selection by Token Budget`).
 */
import type { TokenStream } from '../tokenizers/types';

export interface BudgetChunk {
  readonly utf16Start: number;
  readonly utf16End: number;
  /** The document stream's tokens in the chunk, without the added ones. */
  readonly tokens: number;
  /** One grapheme cluster of more tokens than the budget allows: it could not be cut. */
  readonly over: boolean;
}

/**
 * Grapheme-cluster starts in text[utf16Start, utf16End), relative to utf16Start (1: a cluster starts there;
 * the range's end counts as one).
 */
export function graphemeStarts(text: string, utf16Start: number, utf16End: number): Uint8Array {
  const starts = new Uint8Array(utf16End - utf16Start + 1);
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const seg of segmenter.segment(text.slice(utf16Start, utf16End))) starts[seg.index] = 1;
  starts[utf16End - utf16Start] = 1;
  return starts;
}

/**
 * Chunks of text[utf16Start, utf16End) holding at most `budget` tokens each, `addedTokens` of them being the
 * ones the model adds to every text. `text` is the text the stream was made from.
 */
export function splitByTokenBudget(stream: TokenStream, text: string, utf16Start: number, utf16End: number, budget: number, addedTokens = 0): BudgetChunk[] {
  if (!(budget >= 1)) throw new RangeError('the token budget must be at least 1');
  const capacity = budget - addedTokens;
  if (!(capacity >= 1)) throw new RangeError(`the token budget must be more than the ${addedTokens} tokens the model adds to every text`);
  const u = stream.utf16Offsets;
  const n = stream.count;
  // Tokens overlapping [utf16Start, utf16End).
  let first = 0;
  while (first < n && u[first + 1] <= utf16Start && !(u[first + 1] === utf16Start && stream.byteIntoChar[first + 1] > 0)) first++;
  let last = first;
  while (last < n && u[last] < utf16End) last++;
  const clusters = graphemeStarts(text, utf16Start, utf16End);
  // Token boundary j is a place to cut when it falls between two grapheme clusters.
  const clean = (j: number): boolean => stream.byteIntoChar[j] === 0 && u[j] >= utf16Start && u[j] <= utf16End && clusters[u[j] - utf16Start] === 1;
  const chunks: BudgetChunk[] = [];
  let start = first;
  let chunkStart = utf16Start;
  while (start < last) {
    let cut = Math.min(last, start + capacity);
    // Move the cut back to a clean boundary, or forward past a cluster longer than the budget.
    while (cut > start && cut < last && !clean(cut)) cut--;
    let over = false;
    if (cut === start) {
      cut = Math.min(last, start + capacity);
      while (cut < last && !clean(cut)) cut++;
      over = cut - start > capacity;
    }
    const chunkEnd = cut >= last ? utf16End : u[cut];
    chunks.push({ utf16Start: chunkStart, utf16End: chunkEnd, tokens: cut - start, over });
    chunkStart = chunkEnd;
    start = cut;
  }
  return chunks;
}
