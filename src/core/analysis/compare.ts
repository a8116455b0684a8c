/**
 * The same text under several tokenizers, side by side, against a reference tokenizer (relative cost).
 * Used by the CLI's `compare` and by the panel's Compare view (in the worker).
 */
import type { LoadedTokenizer } from '../tokenizers/loader';
import { perLineRelativeCost, relativeCost, textMetrics, type LineCost } from './metrics';

interface CompareRow {
  readonly tokenizer: string;
  readonly name: string;
  readonly count: number;
  readonly bytesPerToken: number;
  readonly charsPerToken: number;
  readonly fertility: number;
  readonly continuedWordShare: number;
  readonly renyiEfficiency: number | null;
  /** Tokens under this tokenizer / tokens under the reference; null when the reference has none. */
  readonly relativeCost: number | null;
}

export interface CompareResult {
  readonly reference: string;
  readonly referenceCount: number;
  readonly bytes: number;
  readonly chars: number;
  readonly words: number;
  readonly tokenizers: CompareRow[];
  readonly lines: { readonly tokenizer: string; readonly lines: LineCost[] }[];
}

export function compareTokenizers(text: string, tokenizers: readonly LoadedTokenizer[], reference: LoadedTokenizer): CompareResult {
  const refStream = reference.tokenizer.encode(text);
  const base = textMetrics(text, refStream);
  const rows: CompareRow[] = [];
  const lines: CompareResult['lines'] = [];
  for (const t of tokenizers) {
    const stream = t.id === reference.id ? refStream : t.tokenizer.encode(text);
    const m = textMetrics(text, stream, t.tokenizer.vocabSize);
    rows.push({
      tokenizer: t.id,
      name: t.name,
      count: m.count,
      bytesPerToken: m.bytesPerToken,
      charsPerToken: m.charsPerToken,
      fertility: m.fertility,
      continuedWordShare: m.continuedWordShare,
      renyiEfficiency: m.renyiEfficiency,
      relativeCost: relativeCost(m.count, refStream.count),
    });
    lines.push({ tokenizer: t.id, lines: perLineRelativeCost(text, stream, refStream) });
  }
  return { reference: reference.id, referenceCount: refStream.count, bytes: base.bytes, chars: base.chars, words: base.words, tokenizers: rows, lines };
}
