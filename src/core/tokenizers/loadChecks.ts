/**
 * Load-time checks for tokenizer files that parse but lie (issue 17): a vocabulary that cannot encode every
 * byte (the engine would emit id 4294967295), an empty one (everything id 0), absurdly long added tokens and
 * absurdly deep pre-tokenizer or normalizer trees (out of memory, or `Maximum call stack size exceeded`).
 * Kept apart from the loaders so that they stay small; each check throws a one-line TokenizerError.
 */
import { BYTE_TO_CHAR } from './byteLevel';
import { TokenizerError } from './errors';

/** Added tokens are names like `<|im_start|>`; the longest in the bundled tokenizers is under 100 characters. */
export const MAX_ADDED_TOKEN_CHARS = 4096;
/** Sequences nest a level or two in real files. */
export const MAX_SECTION_DEPTH = 64;

/** The nesting depth of a JSON value, measured without recursion. */
function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return max;
}

/** Refuses a section (pre_tokenizer, normalizer, decoder, post_processor) nested deeper than MAX_SECTION_DEPTH. */
export function checkSectionDepth(src: string, name: string, section: unknown): void {
  const depth = jsonDepth(section, MAX_SECTION_DEPTH);
  if (depth > MAX_SECTION_DEPTH) throw new TokenizerError(`${src}: the ${name} section is nested over ${MAX_SECTION_DEPTH} levels deep; it is not a tokenizer file this tool can read`);
}

export function checkAddedTokenLength(src: string, content: string): void {
  if (content.length > MAX_ADDED_TOKEN_CHARS) {
    throw new TokenizerError(`${src}: an added token of ${content.length} characters (starting ${JSON.stringify(content.slice(0, 20))}) is over the ${MAX_ADDED_TOKEN_CHARS} allowed`);
  }
}

/**
 * The vocabulary covers every input: not empty; a byte-level vocabulary holds the 256 byte symbols; with
 * byte_fallback, the 256 `<0xNN>` tokens; a named unk_token is in it.
 */
export function checkVocabularyCoverage(src: string, vocab: ReadonlyMap<string, number>, o: { byteLevel: boolean; byteFallback: boolean; unkToken: string | undefined }): void {
  if (vocab.size === 0) throw new TokenizerError(`${src}: model.vocab is empty`);
  if (o.byteLevel) {
    const missing = BYTE_TO_CHAR.map((c, b) => (vocab.has(c) ? -1 : b)).filter((b) => b >= 0);
    if (missing.length) throw new TokenizerError(`${src}: a byte-level vocabulary without the tokens of ${missing.length} of the 256 bytes (e.g. 0x${missing[0].toString(16).padStart(2, '0')}, ${JSON.stringify(BYTE_TO_CHAR[missing[0]])}): it cannot encode every text`);
  }
  if (o.byteFallback) {
    for (let b = 0; b < 256; b++) {
      const name = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
      if (!vocab.has(name)) throw new TokenizerError(`${src}: byte_fallback is on but the vocabulary has no ${name}: it cannot encode every text`);
    }
  }
  if (o.unkToken !== undefined && !vocab.has(o.unkToken)) throw new TokenizerError(`${src}: unk_token ${JSON.stringify(o.unkToken.slice(0, 40))} is not in the vocabulary`);
}
