/**
 * Token counts of long texts in bounded memory: the text is tokenized in chunks (default 1M UTF-16 units)
 * split at the tokenizer's restart points (Tokenizer.restartRules, the same positions the incremental
 * re-tokenizer relies on), so the chunked count equals the whole-text count. A text with no restart point for
 * a long stretch (a multi-megabyte line with no `\n` followed by a line start) is split at a line break, or
 * anywhere, and the count is flagged `approximate`. See ChunkedEncoder.
 */
import type { Tokenizer } from '../tokenizers/types';
import { ChunkedEncoder, type EncodedPart } from './chunkedEncoder';

const DEFAULT_CHUNK_UNITS = 1 << 20;

/** Counts the tokens of a text fed in pieces in bounded memory (see ChunkedEncoder: exact at restart points). */
export class ChunkedTokenCounter {
  private readonly encoder: ChunkedEncoder;
  private total = 0;
  private approx = false;

  constructor(tokenizer: Tokenizer, chunkUnits = DEFAULT_CHUNK_UNITS, allowSpecial = false) {
    this.encoder = new ChunkedEncoder(tokenizer, allowSpecial, chunkUnits * 8);
  }

  get count(): number {
    return this.total;
  }

  /** True when the text had to be split where the count may differ from the whole text's by a token or so. */
  get approximate(): boolean {
    return this.approx;
  }

  private add(parts: readonly EncodedPart[]): void {
    for (const p of parts) {
      this.total += p.stream.count;
      if (p.approximate) this.approx = true;
    }
  }

  push(text: string): void {
    this.add(this.encoder.push(text));
  }

  finish(): number {
    this.add(this.encoder.end());
    return this.total;
  }
}

/** Counts a whole text in bounded chunks (exactly the count of encoding it at once, see ChunkedTokenCounter). */
export function countTextTokens(tokenizer: Tokenizer, text: string, options: { chunkUnits?: number; allowSpecial?: boolean } = {}): { count: number; approximate: boolean } {
  const chunk = options.chunkUnits ?? DEFAULT_CHUNK_UNITS;
  if (text.length <= chunk * 2) return { count: text.length ? tokenizer.encodeIds(text, { allowSpecial: options.allowSpecial === true }).length : 0, approximate: false };
  const counter = new ChunkedTokenCounter(tokenizer, chunk, options.allowSpecial === true);
  for (let i = 0; i < text.length; i += chunk) counter.push(text.slice(i, i + chunk));
  return { count: counter.finish(), approximate: counter.approximate };
}
