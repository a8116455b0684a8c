/**
 * Tokenizing text that arrives in pieces (a file read in blocks) in bounded memory. Text is cut at restart
 * points (see documentTokens.ts): the tokens after a restart point do not depend on the text before it. A part
 * ending at restart point R is encoded up to the NEXT restart point R2 and kept up to R, so that the end of the
 * slice cannot change its last tokens (lookaheads such as `\s+(?!\S)` see the end of a string); the stretch
 * [R, R2) is encoded again with the next part. What follows the last restart point waits for more text. Without restart points (a huge single line), parts grow until `maxPendingUtf16`, and
 * are then cut at the best available place (a newline, else a space) and flagged `approximate` at that cut.
 */
import type { TokenStream, Tokenizer } from '../tokenizers/types';
import { restartExtent, streamBeforeRestart } from './documentTokens';

export interface EncodedPart {
  /** UTF-16 and UTF-8 offsets of the part's start in the whole text. */
  readonly utf16Start: number;
  readonly byteStart: number;
  readonly text: string;
  readonly stream: TokenStream;
  /** The cut before this part was forced (no restart point within the limit): tokens there may differ. */
  readonly approximate: boolean;
}

export class ChunkedEncoder {
  private pending = '';
  private utf16Start = 0;
  private byteStart = 0;
  private first = true;
  private forced = false;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly allowSpecial = false,
    private readonly maxPendingUtf16 = 1 << 22,
  ) {}

  /** Adds text; returns the parts that became final. */
  push(text: string): EncodedPart[] {
    this.pending += text;
    const out: EncodedPart[] = [];
    const cuts = this.findCuts();
    if (cuts) out.push(this.emit(cuts[0], cuts[1]));
    if (this.pending.length > this.maxPendingUtf16) {
      // No restart point: cut at a line break or space near the end, and say so.
      const p = this.pending;
      let cut = p.lastIndexOf('\n', p.length - 2) + 1;
      if (cut <= 0) cut = p.lastIndexOf(' ', p.length - 2) + 1;
      if (cut <= 0) cut = p.length - 1;
      // Never cut a surrogate pair.
      const c = p.charCodeAt(cut - 1);
      if (c >= 0xd800 && c <= 0xdbff) cut--;
      out.push(this.emit(cut, cut));
      this.forced = true;
    }
    return out;
  }

  /** Encodes whatever is left. */
  end(): EncodedPart[] {
    return this.pending.length ? [this.emit(this.pending.length, this.pending.length)] : [];
  }

  /** The last two restart points in pending text whose defining characters are all present, or undefined. */
  private findCuts(): [number, number] | undefined {
    const p = this.pending;
    const rules = this.allowSpecial ? this.tokenizer.restartRulesWithSpecial : this.tokenizer.restartRules;
    let later = -1;
    for (let i = p.length - 1; i > 0; i--) {
      const ext = restartExtent(p, i, rules);
      if (ext < 0 || ext >= p.length) continue;
      if (later < 0) later = i;
      else return [i, later];
    }
    return undefined;
  }

  /** Emits pending[0, cut), encoded as part of pending[0, encodeTo). */
  private emit(cut: number, encodeTo: number): EncodedPart {
    const text = this.pending.slice(0, cut);
    const full = this.tokenizer.encode(encodeTo === cut ? text : this.pending.slice(0, encodeTo), { allowSpecial: this.allowSpecial, continuation: !this.first });
    const stream = streamBeforeRestart(full, cut, encodeTo !== cut);
    this.pending = this.pending.slice(cut);
    const part: EncodedPart = { utf16Start: this.utf16Start, byteStart: this.byteStart, text, stream, approximate: this.forced };
    this.forced = false;
    this.first = false;
    this.utf16Start += text.length;
    this.byteStart += stream.byteLength;
    return part;
  }
}
