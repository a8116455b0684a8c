/**
 * A copy of a tokenizer.json in which special added tokens are ordinary text, for the Hugging Face peers
 * (the Rust `tokenizers` binding and @huggingface/tokenizers). Neither has an encode option that stops it
 * from matching special tokens such as `<s>` or `<|endoftext|>` in the text, so, as the parity tests'
 * reference does (test/harness/reference.ts, `hfReference`), the special entries are removed from
 * `added_tokens`; every added token missing from a dict `model.vocab` is first put there with its file id,
 * so that removing entries does not renumber the non-special added tokens that follow them.
 * Truncation and padding are turned off.
 *
 * The bench writes the copy once to a temporary file, and the peers load that file as a user would load
 * theirs (`Tokenizer.fromFile`, `new Tokenizer(json, config)`), so their cold-load time is the library's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { specialFreeTokenizerJson } from '../test/harness/reference';

/** Writes the special-free copy of `sourcePath` to `destPath`; returns how many special tokens it removed. */
export function writeSpecialFreeTokenizerJson(sourcePath: string, destPath: string): number {
  const { json, removed } = specialFreeTokenizerJson(readFileSync(sourcePath, 'utf8'));
  writeFileSync(destPath, json);
  return removed.length;
}
