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

interface AddedTokenJson {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
}

interface TokenizerJsonShape {
  added_tokens?: AddedTokenJson[];
  truncation?: unknown;
  padding?: unknown;
  model?: { vocab?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

function isDictVocab(v: unknown): v is Record<string, number> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The tokenizer.json text with special added tokens turned into ordinary text (see the file comment). */
export function specialFreeTokenizerJson(tokenizerJsonText: string): { json: string; removedSpecialTokens: number } {
  const json = JSON.parse(tokenizerJsonText) as TokenizerJsonShape;
  const added = json.added_tokens ?? [];
  const vocab = json.model?.vocab;
  if (isDictVocab(vocab)) {
    for (const t of added) {
      if (!Object.prototype.hasOwnProperty.call(vocab, t.content)) vocab[t.content] = t.id;
    }
  }
  json.added_tokens = added.filter((t) => !t.special);
  json.truncation = null;
  json.padding = null;
  return { json: JSON.stringify(json), removedSpecialTokens: added.length - json.added_tokens.length };
}

/** Writes the special-free copy of `sourcePath` to `destPath`; returns how many special tokens it removed. */
export function writeSpecialFreeTokenizerJson(sourcePath: string, destPath: string): number {
  const { json, removedSpecialTokens } = specialFreeTokenizerJson(readFileSync(sourcePath, 'utf8'));
  writeFileSync(destPath, json);
  return removedSpecialTokens;
}
