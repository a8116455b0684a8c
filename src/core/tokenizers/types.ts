/**
 * The public shape of a tokenizer and of the token stream it produces.
 * Plain TypeScript: used by the worker, the CLI, tests and benchmarks. Never imports 'vscode'.
 */

/** Per-token flag bits stored in `TokenStream.flags`. */
export const TokenFlag = {
  /** An added/special token (only when `allowSpecial` is on; otherwise such text is ordinary text). */
  Special: 1,
  /** The token starts or ends inside a character: it covers only some of that character's UTF-8 bytes. */
  Partial: 2,
  /** A `<0xNN>` byte-fallback token (SentencePiece-style vocabularies). */
  ByteFallback: 4,
  /** The token has no bytes of its own in the original text (a prepended `▁`, the 2nd token of an NFKC expansion). */
  ZeroWidth: 8,
  /** The token covers text that the tokenizer's normalizer changed (NFC/NFKC/lowercase), so its bytes differ from the original's. */
  Normalized: 16,
} as const;
export type TokenFlagBit = (typeof TokenFlag)[keyof typeof TokenFlag];

/**
 * One text under one tokenizer, as a struct of typed arrays (no object per token).
 * Token i covers original UTF-8 bytes [byteOffsets[i], byteOffsets[i+1]).
 * utf16Offsets[i] is the UTF-16 offset of the character that contains byte boundary i, rounded down:
 * a boundary inside a character sits at that character's start. Use `tokenUtf16Range` for the range to show.
 */
export interface TokenStream {
  readonly count: number;
  readonly ids: Uint32Array;
  /** n+1 boundaries into the UTF-8 bytes of the (well-formed) text. Never decreasing; [0] = 0, [n] = byteLength. */
  readonly byteOffsets: Uint32Array;
  /** n+1 boundaries into the UTF-16 code units of the text. Never decreasing. */
  readonly utf16Offsets: Uint32Array;
  readonly flags: Uint8Array;
  /** n+1: how many bytes into the character at utf16Offsets[i] boundary i falls (0 on a character boundary). */
  readonly byteIntoChar: Uint8Array;
  readonly byteLength: number;
  readonly utf16Length: number;
  /** Tokens the model adds around the text (BOS/EOS), not part of the stream. */
  readonly addedTokens: readonly AddedTokenInfo[];
}

export interface AddedTokenInfo {
  readonly id: number;
  readonly text: string;
  readonly position: 'start' | 'end';
}

export type TokenizerAlgorithm = 'byte-level-bpe' | 'sentencepiece-bpe' | 'tiktoken-bpe';

export interface EncodeOptions {
  /** Match special tokens such as `<|endoftext|>` in the text; off by default (such text is ordinary text). */
  readonly allowSpecial?: boolean;
  /**
   * The text continues a document (an incremental re-tokenization window that starts mid-document): nothing
   * is prepended at its start (Mistral's `▁`, ByteLevel's prefix space, Metaspace's `first` scheme).
   */
  readonly continuation?: boolean;
}

/** The engine behind one catalog entry. */
export interface Tokenizer {
  readonly algorithm: TokenizerAlgorithm;
  /** Number of ids (base vocabulary plus added tokens). */
  readonly vocabSize: number;
  /** Encode text into a byte-exact token stream. The text is made well-formed (lone surrogates -> U+FFFD) first. */
  encode(text: string, options?: EncodeOptions): TokenStream;
  /** Only the ids (faster path for counting). */
  encodeIds(text: string, options?: EncodeOptions): Uint32Array;
  /** The raw bytes a token id stands for (in the tokenizer's normalized space). */
  tokenBytes(id: number): Uint8Array;
  /** The vocabulary's own spelling of the token (e.g. `Ġthe`, `▁the`, `<0x0A>`), for display. */
  tokenName(id: number): string;
  /** Tokens the model adds around a text (BOS/EOS) according to its post-processor/config. */
  readonly addedTokens: readonly AddedTokenInfo[];
  /** Id of a special token by its text, if any. */
  specialTokenId(text: string): number | undefined;
  /** Where tokenization can restart mid-document with the same result (see analysis/documentTokens.ts). */
  readonly restartRules: RestartRules;
  /** The same for text encoded with `allowSpecial` (special tokens, which may cross more points, then match). */
  readonly restartRulesWithSpecial: RestartRules;
}

/**
 * Positions where no token can cross and where encoding the rest of the text on its own gives the same tokens
 * as encoding the whole text. Derived from the tokenizer's structure, proven by the edit-sequence property tests.
 */
export interface RestartRules {
  /** After a newline whose line starts with a printable ASCII character other than `/` or `\`. */
  readonly afterNewline: boolean;
  /**
   * The same after indentation (spaces/tabs first): only where the pattern keeps a line break apart from the
   * indentation after it (`\s*[\r\n]+` before `\s+(?!\S)`, as cl100k/o200k/Llama 3 do; GPT-2's does not).
   */
  readonly afterNewlineIndented: boolean;
  /** Between an ASCII letter and a space followed by an ASCII letter (regex pre-tokenizers split there). */
  readonly beforeSpaceWord: boolean;
  /**
   * afterNewline also holds for a line that starts (after indentation, where allowed) with a letter or digit
   * of any script (the reference's Unicode tables): for the known pre-tokenizer patterns (SplitStep.spaceBounded),
   * where no piece holds a line break followed by a letter or digit, and where a line break is a wall.
   */
  readonly lineStartWords?: boolean;
  /**
   * Where a word ends: after a letter or digit of any script, before a space or an ASCII punctuation character
   * other than the apostrophe (contractions), whatever follows: for the known pre-tokenizer patterns, where no
   * piece holds a letter or digit followed by either.
   */
  readonly wordEnds?: boolean;
}
