/**
 * A byte-level BPE trainer for tiny fixture vocabularies (tests of the next-byte analysis brute-force every
 * token sequence, so they need a vocabulary of a few hundred tokens). Produces the text of a Hugging Face
 * tokenizer.json (ByteLevel pre-tokenizer with GPT-2's pattern, BPE model) that the real loader reads.
 * Training: the corpus is cut by the pattern, words counted, and the most frequent adjacent pair merged
 * (ties: the smaller pair in code-unit order) until `merges` merges are made or no pair is left.
 */
import { BYTE_TO_CHAR } from '../tokenizers/byteLevel';
import { GPT2_PATTERN } from '../tokenizers/hfLoader';
import { compilePattern } from '../tokenizers/regex';
import { utf8Encode } from '../text/utf8';

interface TinyBpeOptions {
  /** Emit `ignore_merges: true` (a word that is itself a token is emitted whole, as tiktoken and Llama 3 do). */
  readonly ignoreMerges?: boolean;
  /** A split pattern instead of GPT-2's (written as in tokenizer.json: `(?i:...)`, `\p{L}`, `\s`), as o200k-style files do. */
  readonly pattern?: string;
}

export function trainTinyByteLevelBpe(corpus: string, merges: number, options: TinyBpeOptions = {}): string {
  const re = compilePattern(options.pattern ?? GPT2_PATTERN);
  const counts = new Map<string, number>();
  for (const m of corpus.matchAll(re)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  const words: { syms: string[]; count: number }[] = [];
  for (const [w, c] of counts) words.push({ syms: Array.from(utf8Encode(w), (b) => BYTE_TO_CHAR[b]), count: c });
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[BYTE_TO_CHAR[b]] = b;
  const mergeList: string[] = [];
  for (let k = 0; k < merges; k++) {
    const pairs = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.syms.length; i++) {
      const key = w.syms[i] + '\u0000' + w.syms[i + 1];
      pairs.set(key, (pairs.get(key) ?? 0) + w.count);
    }
    let best = '';
    let bestCount = 0;
    for (const [key, c] of pairs) if (c > bestCount || (c === bestCount && key < best)) [best, bestCount] = [key, c];
    if (!best) break;
    const [a, b] = best.split('\u0000');
    const merged = a + b;
    if (vocab[merged] === undefined) vocab[merged] = 256 + Object.keys(vocab).length - 256;
    mergeList.push(`${a} ${b}`);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          out.push(merged);
          i++;
        } else out.push(w.syms[i]);
      }
      w.syms = out;
    }
  }
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: options.pattern
      ? {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: options.pattern }, behavior: 'Isolated', invert: false },
            { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
          ],
        }
      : { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: options.ignoreMerges === true,
      vocab,
      merges: mergeList,
    },
  });
}
