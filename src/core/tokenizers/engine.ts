/**
 * The tokenization engine: added-token matching -> normalization -> pre-tokenization -> BPE, producing a
 * byte-exact TokenStream against the original text. One engine serves Hugging Face byte-level BPE,
 * SentencePiece-style BPE (byte fallback, `▁`) and tiktoken rank files.
 */
import { AlignedString, UnitKind } from '../text/aligned';
import type { Normalizer } from '../text/normalizers';
import { Utf16ToUtf8Walker, utf8LengthOfCodePoint, wellFormed } from '../text/utf8';
import { BpeMerger, MERGE_ID_BITS, type PairLookup } from './bpe';
import { TokenizerError } from './errors';
import { BYTE_TO_CHAR, bytesFromSpelling } from './byteLevel';
import { preTokenize, type SplitStep } from './preTokenizer';
import { hasUnsafeCodePoints } from './regex';
import {
  TokenFlag,
  type AddedTokenInfo,
  type EncodeOptions,
  type RestartRules,
  type TokenStream,
  type Tokenizer,
  type TokenizerAlgorithm,
} from './types';

export interface AddedTokenSpec {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
  /** Matched in the normalized text (true) or in the original text (false). */
  readonly normalized: boolean;
}

/**
 * Where a piece of text starts: at the very start of the input ('document'), right after an added token
 * ('segment'), or in the middle of text that an incremental window continues ('continuation').
 */
export type PieceStart = 'document' | 'segment' | 'continuation';

export interface EngineConfig {
  readonly algorithm: TokenizerAlgorithm;
  /** Initial symbols: raw bytes (byte-level BPE) or characters with optional byte fallback (SentencePiece). */
  readonly symbols: 'bytes' | 'chars';
  /** Vocabulary spelling -> id (byte-level spellings use the GPT-2 alphabet). */
  readonly vocab: ReadonlyMap<string, number>;
  readonly pairLookup: PairLookup;
  /** A word that is itself in the vocabulary is emitted whole without merging (tiktoken, Llama 3). */
  readonly ignoreMerges: boolean;
  readonly byteFallback: boolean;
  readonly unkId: number;
  readonly fuseUnk: boolean;
  readonly normalizer: Normalizer | null;
  /** A rewrite done by the pre-tokenizer before splitting (Metaspace, ByteLevel add_prefix_space). */
  readonly preNormalizer: ((s: AlignedString, start: PieceStart) => AlignedString) | null;
  readonly splits: readonly SplitStep[];
  readonly addedTokens: readonly AddedTokenSpec[];
  readonly postAdded: readonly AddedTokenInfo[];
}

/** A UTF-16 trie for leftmost-longest matching of added tokens (as Hugging Face's AddedVocabulary does). */
class AddedTrie {
  private readonly root = new Map<number, TrieNode>();
  size = 0;

  add(content: string, id: number): void {
    if (!content) return;
    let level = this.root;
    let node: TrieNode | undefined;
    for (let i = 0; i < content.length; i++) {
      const c = content.charCodeAt(i);
      node = level.get(c);
      if (!node) {
        node = { id: -1, children: new Map() };
        level.set(c, node);
      }
      level = node.children;
    }
    if (node) node.id = id;
    this.size++;
  }

  /** Flat [start, end, id] triples of non-overlapping leftmost-longest matches. */
  find(text: string): number[] {
    const out: number[] = [];
    if (this.size === 0) return out;
    const root = this.root;
    for (let i = 0; i < text.length; ) {
      let level = root.get(text.charCodeAt(i));
      let bestEnd = -1;
      let bestId = -1;
      for (let j = i; level; ) {
        if (level.id >= 0) {
          bestEnd = j + 1;
          bestId = level.id;
        }
        j++;
        if (j >= text.length) break;
        level = level.children.get(text.charCodeAt(j));
      }
      if (bestEnd > 0) {
        out.push(i, bestEnd, bestId);
        i = bestEnd;
      } else i++;
    }
    return out;
  }
}
interface TrieNode {
  id: number;
  children: Map<number, TrieNode>;
}

/** One word's tokens, relative to the word: ids, end boundaries (UTF-16 rounded down + bytes into char), flags. */
interface WordTokens {
  readonly ids: Uint32Array;
  readonly endUtf16: Uint32Array;
  readonly endInto: Uint8Array;
  readonly flags: Uint8Array;
}

const WORD_CACHE_LIMIT = 100_000;
const CACHEABLE_WORD_LENGTH = 256;

/** Growable typed-array output for the token stream under construction. */
class StreamBuilder {
  n = 0;
  ids = new Uint32Array(1024);
  /** Boundary after token i in ORIGINAL coordinates: UTF-16 position of the char start, bytes into it. */
  endUtf16 = new Uint32Array(1024);
  endInto = new Uint8Array(1024);
  flags = new Uint8Array(1024);

  push(id: number, endUtf16: number, endInto: number, flags: number): void {
    if (this.n === this.ids.length) this.grow();
    const i = this.n++;
    this.ids[i] = id;
    this.endUtf16[i] = endUtf16;
    this.endInto[i] = endInto;
    this.flags[i] = flags;
  }

  private grow(): void {
    const cap = this.ids.length * 2;
    const ids = new Uint32Array(cap);
    ids.set(this.ids);
    this.ids = ids;
    const eu = new Uint32Array(cap);
    eu.set(this.endUtf16);
    this.endUtf16 = eu;
    const ei = new Uint8Array(cap);
    ei.set(this.endInto);
    this.endInto = ei;
    const f = new Uint8Array(cap);
    f.set(this.flags);
    this.flags = f;
  }
}

export class BpeTokenizer implements Tokenizer {
  readonly algorithm: TokenizerAlgorithm;
  readonly vocabSize: number;
  readonly addedTokens: readonly AddedTokenInfo[];
  readonly restartRules: RestartRules;
  private readonly hasExactPatterns: boolean;
  private readonly merger: BpeMerger;
  private readonly idToSpelling: string[];
  private readonly addedById = new Map<number, AddedTokenSpec>();
  private readonly rawTrie = new AddedTrie();
  private readonly normTrie = new AddedTrie();
  private readonly rawTrieSpecial = new AddedTrie();
  private readonly normTrieSpecial = new AddedTrie();
  private readonly byteToId = new Int32Array(256).fill(-1);
  private readonly fallbackIds = new Set<number>();
  private readonly wordCache = new Map<string, WordTokens>();
  private symIds = new Int32Array(256);
  private symLens = new Int32Array(256);
  private symFlags = new Uint8Array(256);
  private readonly tokenBytesCache = new Map<number, Uint8Array>();

  constructor(private readonly cfg: EngineConfig) {
    this.algorithm = cfg.algorithm;
    this.addedTokens = cfg.postAdded;
    this.merger = new BpeMerger(cfg.pairLookup);
    let maxId = -1;
    let bad: number | undefined;
    const check = (id: number): void => {
      if (!(Number.isInteger(id) && id >= 0 && id < MERGE_ID_BITS)) bad ??= id;
      else if (id > maxId) maxId = id;
    };
    for (const id of cfg.vocab.values()) check(id);
    for (const t of cfg.addedTokens) check(t.id);
    // The id table below is sized by the largest id: an absurd one would exhaust memory (the loaders name
    // the entry; this is the last line of defence for every source).
    if (bad !== undefined) throw new TokenizerError(`the tokenizer has the token id ${bad}, outside 0..${MERGE_ID_BITS - 1}`);
    this.vocabSize = maxId + 1;
    this.idToSpelling = new Array<string>(this.vocabSize).fill('');
    for (const [s, id] of cfg.vocab) this.idToSpelling[id] = s;
    for (const t of cfg.addedTokens) {
      this.addedById.set(t.id, t);
      this.idToSpelling[t.id] = t.content;
      // Special tokens are text unless the caller allows them; non-special added tokens always match.
      const both = t.normalized ? [this.normTrieSpecial] : [this.rawTrieSpecial];
      if (!t.special) both.push(t.normalized ? this.normTrie : this.rawTrie);
      for (const trie of both) trie.add(t.content, t.id);
    }
    if (cfg.symbols === 'bytes') {
      for (let b = 0; b < 256; b++) this.byteToId[b] = cfg.vocab.get(BYTE_TO_CHAR[b]) ?? -1;
    } else if (cfg.byteFallback) {
      for (let b = 0; b < 256; b++) {
        const id = cfg.vocab.get('<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>');
        if (id !== undefined) {
          this.byteToId[b] = id;
          this.fallbackIds.add(id);
        }
      }
    }
    this.restartRules = this.computeRestartRules();
    this.hasExactPatterns = cfg.splits.some((st) => st.exactPattern !== undefined);
  }

  /**
   * A regex pre-tokenizer always ends a piece at a newline followed by a line that starts with a printable
   * ASCII character (other than `/`, which o200k's punctuation run may swallow), and between a letter and a
   * space that starts a new word. Without one, a newline is still a wall when it is a non-special added token
   * (Gemma) or a symbol that no merge touches (Mistral's `<0x0A>`). Added tokens that contain such a spot
   * would cross it, so they switch the rule off.
   */
  private computeRestartRules(): RestartRules {
    const cfg = this.cfg;
    const regexSplit = cfg.splits.some((st) => st.pattern instanceof RegExp);
    const crossesNewline = cfg.addedTokens.some((t) => /\n[^\n]/.test(t.content));
    const crossesSpaceWord = cfg.addedTokens.some((t) => /[A-Za-z] [A-Za-z]/.test(t.content));
    let newlineWall = regexSplit;
    if (!newlineWall && cfg.addedTokens.some((t) => t.content === '\n' && !t.special && !t.normalized)) newlineWall = true;
    if (!newlineWall && cfg.symbols === 'chars') {
      const nl = cfg.vocab.get('\n') ?? this.byteToId[10];
      if (nl >= 0 && !this.hasMergeWith(nl)) newlineWall = true;
    }
    const afterNewline = newlineWall && !crossesNewline;
    // Whether indentation after a line break starts a new piece is the pattern's choice: ask it.
    const indentedSplits = ['a;\n  b', 'a\n\tb', 'a\n \t b', 'a\r\n    b'].every((t) => {
      const ranges = preTokenize(t, cfg.splits);
      const at = t.indexOf('\n') + 1;
      for (let r = 0; r < ranges.length; r += 3) if (ranges[r] === at) return true;
      return false;
    });
    return { afterNewline, afterNewlineIndented: afterNewline && (!regexSplit || indentedSplits), beforeSpaceWord: regexSplit && !crossesSpaceWord };
  }

  private hasMergeWith(id: number): boolean {
    for (const other of this.cfg.vocab.values()) {
      if (this.cfg.pairLookup(id, other) >= 0 || this.cfg.pairLookup(other, id) >= 0) return true;
    }
    return false;
  }

  /** The engine's configuration (read-only), for analyses that need the pre-tokenizer and merges (lm/preTokens.ts). */
  get config(): EngineConfig {
    return this.cfg;
  }

  specialTokenId(text: string): number | undefined {
    for (const t of this.cfg.addedTokens) if (t.content === text) return t.id;
    return undefined;
  }

  tokenName(id: number): string {
    return this.idToSpelling[id] ?? '';
  }

  tokenBytes(id: number): Uint8Array {
    let b = this.tokenBytesCache.get(id);
    if (b) return b;
    const spelling = this.idToSpelling[id] ?? '';
    const added = this.addedById.get(id);
    if (added) b = new TextEncoder().encode(added.content);
    else if (this.cfg.symbols === 'bytes') b = bytesFromSpelling(spelling) ?? new TextEncoder().encode(spelling);
    else if (this.fallbackIds.has(id)) b = Uint8Array.of(parseInt(spelling.slice(3, 5), 16));
    else b = new TextEncoder().encode(spelling);
    this.tokenBytesCache.set(id, b);
    return b;
  }

  encodeIds(text: string, options?: EncodeOptions): Uint32Array {
    return this.encode(text, options).ids;
  }

  encode(input: string, options?: EncodeOptions): TokenStream {
    const text = wellFormed(input);
    const allowSpecial = options?.allowSpecial === true;
    const out = new StreamBuilder();
    const rawMatches = (allowSpecial ? this.rawTrieSpecial : this.rawTrie).find(text);
    let last = 0;
    let start: PieceStart = options?.continuation === true ? 'continuation' : 'document';
    const emitText = (a: number, b: number): void => {
      if (b > a) this.encodeSegment(text, a, b, start, allowSpecial, out);
    };
    for (let i = 0; i < rawMatches.length; i += 3) {
      emitText(last, rawMatches[i]);
      const id = rawMatches[i + 2];
      out.push(id, rawMatches[i + 1], 0, this.addedById.get(id)?.special ? TokenFlag.Special : 0);
      last = rawMatches[i + 1];
      start = 'segment';
    }
    emitText(last, text.length);
    return this.finish(text, out);
  }

  /** Normalizes and tokenizes original text [a, b) (which holds no raw added token). */
  private encodeSegment(text: string, a: number, b: number, start: PieceStart, allowSpecial: boolean, out: StreamBuilder): void {
    let aligned = AlignedString.identity(a === 0 && b === text.length ? text : text.slice(a, b), a);
    if (this.cfg.normalizer) aligned = this.cfg.normalizer(aligned, start !== 'continuation');
    const matches = (allowSpecial ? this.normTrieSpecial : this.normTrie).find(aligned.text);
    let last = 0;
    for (let i = 0; i < matches.length; i += 3) {
      if (matches[i] > last) this.encodePiece(aligned.slice(last, matches[i]), last === 0 ? start : 'segment', out);
      const id = matches[i + 2];
      const [u, into] = aligned.mapBoundary(matches[i + 1], 0);
      out.push(id, u, into, this.addedById.get(id)?.special ? TokenFlag.Special : 0);
      last = matches[i + 1];
    }
    if (last === 0) this.encodePiece(aligned, start, out);
    else if (last < aligned.text.length) this.encodePiece(aligned.slice(last, aligned.text.length), 'segment', out);
  }

  /** Pre-tokenizes one normalized piece and BPE-encodes its words. */
  private encodePiece(piece: AlignedString, start: PieceStart, out: StreamBuilder): void {
    const aligned = this.cfg.preNormalizer ? this.cfg.preNormalizer(piece, start) : piece;
    const s = aligned.text;
    const exact = this.hasExactPatterns && hasUnsafeCodePoints(s);
    const splits = this.cfg.splits;
    const single = splits.length === 1 ? splits[0] : undefined;
    if (single && typeof single.pattern !== 'string' && (single.behavior === 'Isolated' || (single.behavior === 'Removed' && single.invert))) {
      // The common case (one regex, pieces are its matches): no intermediate range list.
      const re = exact && single.exactPattern ? single.exactPattern : single.pattern;
      const keepGaps = single.behavior === 'Isolated';
      re.lastIndex = 0;
      let last = 0;
      for (let m = re.exec(s); m !== null; m = re.exec(s)) {
        const word = m[0];
        if (word.length === 0) {
          re.lastIndex++;
          continue;
        }
        if (m.index > last && keepGaps) this.emitWord(aligned, s.slice(last, m.index), last, out);
        this.emitWord(aligned, word, m.index, out);
        last = m.index + word.length;
      }
      if (last < s.length && keepGaps) this.emitWord(aligned, s.slice(last), last, out);
      return;
    }
    const ranges = preTokenize(s, splits, exact);
    for (let r = 0; r < ranges.length; r += 3) {
      if (ranges[r + 2] === 0) continue; // a removed delimiter: its bytes join the next token's span
      this.emitWord(aligned, s.slice(ranges[r], ranges[r + 1]), ranges[r], out);
    }
  }

  /** Emits the tokens of one pre-token `word` found at `ws` in the (normalized) piece. */
  private emitWord(aligned: AlignedString, word: string, ws: number, out: StreamBuilder): void {
    const tokens = this.wordTokens(word);
    const n = tokens.ids.length;
    if (aligned.isIdentity) {
      const base = aligned.base + ws;
      for (let k = 0; k < n; k++) out.push(tokens.ids[k], base + tokens.endUtf16[k], tokens.endInto[k], tokens.flags[k]);
      return;
    }
    for (let k = 0; k < n; k++) {
      const relU = ws + tokens.endUtf16[k];
      const into = tokens.endInto[k];
      let flags = tokens.flags[k];
      const startU = k === 0 ? ws : ws + tokens.endUtf16[k - 1];
      const endU = into > 0 ? relU + 1 : relU;
      for (let i = startU; i < endU; i++) {
        if (aligned.kindAt(i) === UnitKind.Normalized) {
          flags |= TokenFlag.Normalized;
          break;
        }
      }
      const [u, mappedInto] = aligned.mapBoundary(relU, into);
      out.push(tokens.ids[k], u, mappedInto, flags);
    }
  }

  /** BPE of one pre-token, cached by its text. */
  private wordTokens(word: string): WordTokens {
    const cacheable = word.length <= CACHEABLE_WORD_LENGTH;
    if (cacheable) {
      const hit = this.wordCache.get(word);
      if (hit) return hit;
    }
    const result = this.computeWord(word, 0, word.length);
    if (cacheable) {
      if (this.wordCache.size >= WORD_CACHE_LIMIT) this.wordCache.clear();
      this.wordCache.set(word, result);
    }
    return result;
  }

  private ensureSymbols(n: number): void {
    if (this.symIds.length >= n) return;
    const cap = Math.max(n, this.symIds.length * 2);
    this.symIds = new Int32Array(cap);
    this.symLens = new Int32Array(cap);
    this.symFlags = new Uint8Array(cap);
  }

  private computeWord(s: string, a: number, b: number): WordTokens {
    const cfg = this.cfg;
    // Up to 4 symbols per UTF-16 unit (4-byte characters are 2 units; byte fallback gives 1 symbol per byte).
    this.ensureSymbols((b - a) * 3 + 4);
    const ids = this.symIds;
    const lens = this.symLens;
    const fl = this.symFlags;
    let n = 0;
    let whole = -1;
    if (cfg.symbols === 'bytes') {
      let spelling = '';
      for (let i = a; i < b; i++) {
        let cp = s.charCodeAt(i);
        if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < b) {
          cp = ((cp - 0xd800) << 10) + (s.charCodeAt(i + 1) - 0xdc00) + 0x10000;
          i++;
        }
        const len = utf8LengthOfCodePoint(cp);
        const bytes =
          len === 1
            ? [cp]
            : len === 2
              ? [0xc0 | (cp >> 6), 0x80 | (cp & 63)]
              : len === 3
                ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)]
                : [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
        for (const byte of bytes) {
          ids[n] = this.byteToId[byte];
          lens[n] = 1;
          fl[n] = 0;
          n++;
          if (cfg.ignoreMerges) spelling += BYTE_TO_CHAR[byte];
        }
      }
      if (cfg.ignoreMerges) whole = cfg.vocab.get(spelling) ?? -1;
    } else {
      if (cfg.ignoreMerges) whole = cfg.vocab.get(s.slice(a, b)) ?? -1;
      let unkOpen = false;
      for (let i = a; i < b; ) {
        const cp = s.codePointAt(i) as number;
        const cu = cp > 0xffff ? 2 : 1;
        const ch = s.slice(i, i + cu);
        const len = utf8LengthOfCodePoint(cp);
        i += cu;
        const id = cfg.vocab.get(ch);
        if (id !== undefined) {
          ids[n] = id;
          lens[n] = len;
          fl[n] = 0;
          n++;
          unkOpen = false;
        } else if (cfg.byteFallback && this.byteToId[0] >= 0) {
          const bytes = new TextEncoder().encode(ch);
          for (const byte of bytes) {
            ids[n] = this.byteToId[byte];
            lens[n] = 1;
            fl[n] = TokenFlag.ByteFallback;
            n++;
          }
          unkOpen = false;
        } else if (cfg.fuseUnk && unkOpen) {
          lens[n - 1] += len;
        } else {
          ids[n] = cfg.unkId;
          lens[n] = len;
          fl[n] = 0;
          n++;
          unkOpen = true;
        }
      }
    }
    if (whole >= 0) {
      let total = 0;
      for (let i = 0; i < n; i++) total += lens[i];
      ids[0] = whole;
      lens[0] = total;
      fl[0] = 0;
      n = 1;
    } else {
      n = this.merger.merge(ids, lens, n);
      if (this.fallbackIds.size) for (let k = 0; k < n; k++) fl[k] = this.fallbackIds.has(ids[k]) ? TokenFlag.ByteFallback : 0;
    }
    // Token end boundaries relative to the word: walk the word's characters by bytes.
    const endUtf16 = new Uint32Array(n);
    const endInto = new Uint8Array(n);
    const flags = new Uint8Array(n);
    let u = a;
    let byteInChar = 0;
    for (let k = 0; k < n; k++) {
      let remaining = lens[k];
      while (remaining > 0) {
        const cp = s.codePointAt(u) as number;
        const clen = utf8LengthOfCodePoint(cp);
        const take = Math.min(remaining, clen - byteInChar);
        byteInChar += take;
        remaining -= take;
        if (byteInChar === clen) {
          u += cp > 0xffff ? 2 : 1;
          byteInChar = 0;
        }
      }
      endUtf16[k] = u - a;
      endInto[k] = byteInChar;
      flags[k] = fl[k];
    }
    return { ids: Uint32Array.from(ids.subarray(0, n)), endUtf16, endInto, flags };
  }

  /** Converts the builder's boundaries into the final stream with byte offsets and flags. */
  private finish(text: string, out: StreamBuilder): TokenStream {
    const n = out.n;
    const byteOffsets = new Uint32Array(n + 1);
    const utf16Offsets = new Uint32Array(n + 1);
    const flags = out.flags.slice(0, n);
    const byteIntoChar = new Uint8Array(n + 1);
    const walker = new Utf16ToUtf8Walker(text);
    let prevInto = 0;
    let prevU = 0;
    for (let i = 0; i < n; i++) {
      let u = out.endUtf16[i];
      let into = out.endInto[i];
      if (i === n - 1) {
        u = text.length;
        into = 0;
      }
      if (u < prevU || (u === prevU && into < prevInto)) {
        // Never let a boundary go backwards (defensive: normalizer alignment of exotic input).
        u = prevU;
        into = prevInto;
      }
      utf16Offsets[i + 1] = u;
      byteIntoChar[i + 1] = into;
      byteOffsets[i + 1] = walker.byteAt(u) + into;
      if (into > 0 || prevInto > 0) flags[i] |= TokenFlag.Partial;
      if (byteOffsets[i + 1] === byteOffsets[i]) flags[i] |= TokenFlag.ZeroWidth;
      prevU = u;
      prevInto = into;
    }
    const byteLength = n > 0 ? byteOffsets[n] : walker.byteAt(text.length);
    return {
      count: n,
      ids: out.ids.slice(0, n),
      byteOffsets,
      utf16Offsets,
      flags,
      byteIntoChar,
      byteLength,
      utf16Length: text.length,
      addedTokens: this.cfg.postAdded,
    };
  }
}
