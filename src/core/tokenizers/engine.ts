/**
 * The tokenization engine: added-token matching -> normalization -> pre-tokenization -> BPE, producing a
 * byte-exact TokenStream against the original text. One engine serves Hugging Face byte-level BPE,
 * SentencePiece-style BPE (byte fallback, `▁`) and tiktoken rank files.
 */
import { AlignedString } from '../text/aligned';
import type { Normalizer } from '../text/normalizers';
import { utf8Encode, utf8LengthOfCodePoint, wellFormed } from '../text/utf8';
import { BpeMerger, MERGE_ID_BITS, type PairLookup } from './bpe';
import { TokenizerError } from './errors';
import { BYTE_TO_CHAR, bytesFromSpelling, spellingFromBytes } from './byteLevel';
import { activePatternBudget, budgetedMatches } from './patternBudget';
import { afterEmptyMatch, preTokenize, type SplitStep } from './preTokenizer';
import { StreamBuilder } from './streamBuilder';
import { CharClass, classBits, hasUnsafeCodePoints, isWordEndChar } from './unicodeClasses';
import { MAX_CACHED_WORD_UNITS, newTokenRun, WordCache, type TokenRun } from './wordCache';
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

/**
 * A UTF-16 trie for leftmost-longest matching of added tokens (as Hugging Face's AddedVocabulary does). One
 * map from (node, code unit) to child node for the whole trie: Gemma 3's 6,400 added tokens make 26K nodes,
 * which as a Map per node cost megabytes.
 */
class AddedTrie {
  /** node * 2^16 + code unit -> child node; node 0 is the root. */
  private readonly edges = new Map<number, number>();
  /** The token id that ends at each node, or -1. */
  private tokenAt: number[] = [-1];
  /** 1 for each UTF-16 unit that starts some added token (made with the first token). */
  private firstUnits = new Uint8Array(0);
  size = 0;

  add(content: string, id: number): void {
    if (!content) return;
    if (this.firstUnits.length === 0) this.firstUnits = new Uint8Array(0x10000);
    this.firstUnits[content.charCodeAt(0)] = 1;
    let node = 0;
    for (let i = 0; i < content.length; i++) {
      const key = node * 0x10000 + content.charCodeAt(i);
      let child = this.edges.get(key);
      if (child === undefined) {
        child = this.tokenAt.length;
        this.tokenAt.push(-1);
        this.edges.set(key, child);
      }
      node = child;
    }
    this.tokenAt[node] = id;
    this.size++;
  }

  /** Flat [start, end, id] triples of non-overlapping leftmost-longest matches. */
  find(text: string): number[] {
    const out: number[] = [];
    if (this.size === 0) return out;
    const first = this.firstUnits;
    const edges = this.edges;
    const tokenAt = this.tokenAt;
    for (let i = 0; i < text.length; ) {
      // Most positions start no added token: one table read instead of a map lookup.
      if (first[text.charCodeAt(i)] === 0) {
        i++;
        continue;
      }
      let bestEnd = -1;
      let bestId = -1;
      let node: number | undefined = 0;
      for (let j = i; j < text.length; j++) {
        node = edges.get(node * 0x10000 + text.charCodeAt(j));
        if (node === undefined) break;
        if (tokenAt[node] >= 0) {
          bestEnd = j + 1;
          bestId = tokenAt[node];
        }
      }
      if (bestEnd > 0) {
        out.push(i, bestEnd, bestId);
        i = bestEnd;
      } else i++;
    }
    return out;
  }
}

/** Words longer than this (UTF-16 units) are cut at walls (computeWallRules) before BPE, when the vocabulary allows. */
const WALL_SPLIT_MIN_UNITS = 24;
const SPACE_MARK = 0x2581;
// Local copies of imported constants read per token (per-read getters under tsx's CommonJS form, see scanners.ts).
const PARTIAL: number = TokenFlag.Partial;
const NORMALIZED: number = TokenFlag.Normalized;
const BYTE_FALLBACK: number = TokenFlag.ByteFallback;
const MAX_CACHED_UNITS: number = MAX_CACHED_WORD_UNITS;

export class BpeTokenizer implements Tokenizer {
  readonly algorithm: TokenizerAlgorithm;
  readonly vocabSize: number;
  readonly addedTokens: readonly AddedTokenInfo[];
  readonly restartRules: RestartRules;
  readonly restartRulesWithSpecial: RestartRules;
  private readonly hasExactPatterns: boolean;
  private readonly merger: BpeMerger;
  /** The vocabulary's spelling of an id (added tokens aside): from the vocabulary itself when it can say. */
  private readonly vocabSpelling: (id: number) => string | undefined;
  private readonly addedById = new Map<number, AddedTokenSpec>();
  private readonly rawTrie = new AddedTrie();
  private readonly normTrie = new AddedTrie();
  private readonly rawTrieSpecial = new AddedTrie();
  private readonly normTrieSpecial = new AddedTrie();
  private readonly byteToId = new Int32Array(256).fill(-1);
  private readonly fallbackIds = new Set<number>();
  private readonly cache = new WordCache();
  /** computeWord's output. */
  private run: TokenRun = newTokenRun(256);
  /** Vocabulary id of each BMP character as a one-character token (chars symbols): -2 not looked up yet, -1 none. */
  private charIds: Int32Array | null = null;
  /** Where long words may be cut before BPE without changing it (chars symbols), once computed; null: nowhere. */
  private wallRules: WallRules | null | undefined;
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
    this.vocabSpelling = spellingLookup(cfg.vocab, this.vocabSize);
    for (const t of cfg.addedTokens) {
      this.addedById.set(t.id, t);
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
    // Special tokens are matched only with allowSpecial: without it, only the other added tokens can cross a point.
    this.restartRules = this.computeRestartRules(cfg.addedTokens.filter((t) => !t.special));
    this.restartRulesWithSpecial = this.computeRestartRules(cfg.addedTokens);
    this.hasExactPatterns = cfg.splits.some((st) => st.exactPattern !== undefined);
  }

  /**
   * A regex pre-tokenizer always ends a piece at a newline followed by a line that starts with a printable
   * ASCII character (other than `/`, which o200k's punctuation run may swallow), and between a letter and a
   * space that starts a new word. Without one, a newline is still a wall when it is a non-special added token
   * (Gemma) or a symbol that no merge touches (Mistral's `<0x0A>`). Added tokens that contain such a spot
   * would cross it, so they switch the rule off. For the known patterns (and newline walls), letters and
   * digits of every script count as ASCII letters do, unless a normalizer can expand a character.
   */
  private computeRestartRules(matchable: readonly AddedTokenSpec[]): RestartRules {
    const cfg = this.cfg;
    const regexSplit = cfg.splits.some((st) => st.pattern instanceof RegExp);
    const crossesNewline = matchable.some((t) => /\n[^\n]/.test(t.content));
    const crossesSpaceWord = matchable.some((t) => /[A-Za-z] [A-Za-z]/.test(t.content));
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
    // Letters and digits of every script: for the known patterns, and after a line break that is a wall. Not
    // with a normalizer that can expand a character (NFC/NFKC...): its zero-width tokens would sit at the point.
    const knownPatterns = cfg.splits.length > 0 && cfg.splits.every((st) => st.spaceBounded === true);
    const keepsUnits = cfg.normalizer === null || cfg.normalizer.unitwise === true;
    const lineStartWords = keepsUnits && afterNewline && (knownPatterns || !regexSplit);
    const wordEnds = keepsUnits && regexSplit && knownPatterns && !matchable.some((t) => holdsWordEnd(t.content));
    return { afterNewline, afterNewlineIndented: afterNewline && (!regexSplit || indentedSplits), beforeSpaceWord: regexSplit && !crossesSpaceWord, lineStartWords, wordEnds };
  }

  private hasMergeWith(id: number): boolean {
    for (const other of this.cfg.vocab.values()) {
      if (this.cfg.pairLookup(id, other) >= 0 || this.cfg.pairLookup(other, id) >= 0) return true;
    }
    return false;
  }

  /** The engine's configuration (read-only), for analyses that need the pre-tokenizer and merges (lm/nextByte/). */
  get config(): EngineConfig {
    return this.cfg;
  }

  specialTokenId(text: string): number | undefined {
    for (const t of this.cfg.addedTokens) if (t.content === text) return t.id;
    return undefined;
  }

  tokenName(id: number): string {
    return this.addedById.get(id)?.content ?? this.vocabSpelling(id) ?? '';
  }

  tokenBytes(id: number): Uint8Array {
    let b = this.tokenBytesCache.get(id);
    if (b) return b;
    const spelling = this.tokenName(id);
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
    // About four UTF-16 units per token in code and prose: one growth step at most, usually none.
    const out = new StreamBuilder(text, (text.length >> 2) + 16);
    const rawMatches = (allowSpecial ? this.rawTrieSpecial : this.rawTrie).find(text);
    // A unit-by-unit normalizer (Gemma's ' ' -> '▁') runs once over the text, not once per segment.
    const normalizer = this.cfg.normalizer;
    const normalized = normalizer?.unitwise === true && rawMatches.length > 0 ? normalizer(AlignedString.identity(text, 0), true) : null;
    let last = 0;
    let start: PieceStart = options?.continuation === true ? 'continuation' : 'document';
    for (let i = 0; i < rawMatches.length; i += 3) {
      if (rawMatches[i] > last) this.encodeSegment(text, last, rawMatches[i], start, allowSpecial, out, normalized);
      const id = rawMatches[i + 2];
      out.push(id, rawMatches[i + 1], 0, this.addedById.get(id)?.special ? TokenFlag.Special : 0);
      last = rawMatches[i + 1];
      start = 'segment';
    }
    if (text.length > last) this.encodeSegment(text, last, text.length, start, allowSpecial, out, normalized);
    return out.finish(this.cfg.postAdded);
  }

  /**
   * Normalizes and tokenizes original text [a, b) (which holds no raw added token); `normalized`: the whole
   * text through a unit-by-unit normalizer, to slice instead.
   */
  private encodeSegment(text: string, a: number, b: number, start: PieceStart, allowSpecial: boolean, out: StreamBuilder, normalized: AlignedString | null): void {
    let aligned: AlignedString;
    if (normalized !== null) aligned = normalized.slice(a, b);
    else {
      aligned = AlignedString.identity(a === 0 && b === text.length ? text : text.slice(a, b), a);
      if (this.cfg.normalizer) aligned = this.cfg.normalizer(aligned, start !== 'continuation');
    }
    const matches = (allowSpecial ? this.normTrieSpecial : this.normTrie).find(aligned.text);
    let last = 0;
    for (let i = 0; i < matches.length; i += 3) {
      if (matches[i] > last) this.encodePiece(aligned.slice(last, matches[i]), last === 0 ? start : 'segment', out);
      const id = matches[i + 2];
      const u = aligned.mapUtf16(matches[i + 1], 0);
      out.push(id, u, aligned.mappedInto, this.addedById.get(id)?.special ? TokenFlag.Special : 0);
      last = matches[i + 1];
    }
    if (last === 0) this.encodePiece(aligned, start, out);
    else if (last < aligned.text.length) this.encodePiece(aligned.slice(last, aligned.text.length), 'segment', out);
  }

  /** Pre-tokenizes one normalized piece and BPE-encodes its words. */
  private encodePiece(piece: AlignedString, start: PieceStart, out: StreamBuilder): void {
    const aligned = this.cfg.preNormalizer ? this.cfg.preNormalizer(piece, start) : piece;
    const s = aligned.text;
    const len = s.length;
    const splits = this.cfg.splits;
    const single = splits.length === 1 ? splits[0] : undefined;
    if (single?.scanner && single.behavior === 'Isolated' && !single.invert) {
      // A hand-written scanner for a known pattern (scanners.ts): the regex's pieces, always exact.
      const scan = single.scanner;
      let gap = -1;
      for (let p = 0; p < len; ) {
        const e = scan(s, p, len);
        if (e < 0) {
          // Nothing matches here: the regex would search on; the skipped text is a piece of its own.
          if (gap < 0) gap = p;
          const c = s.charCodeAt(p);
          p += c >= 0xd800 && c <= 0xdbff && p + 1 < len && (s.charCodeAt(p + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
          continue;
        }
        if (gap >= 0) {
          this.emitWord(aligned, gap, p, out);
          gap = -1;
        }
        this.emitWord(aligned, p, e, out);
        p = e;
      }
      if (gap >= 0) this.emitWord(aligned, gap, len, out);
      return;
    }
    if (splits.length === 0) {
      if (len > 0) this.emitWord(aligned, 0, len, out);
      return;
    }
    const exact = this.hasExactPatterns && hasUnsafeCodePoints(s);
    if (single && typeof single.pattern !== 'string' && (single.behavior === 'Isolated' || (single.behavior === 'Removed' && single.invert))) {
      // The common case (one regex, pieces are its matches): no intermediate range list.
      const re = exact && single.exactPattern ? single.exactPattern : single.pattern;
      const keepGaps = single.behavior === 'Isolated';
      const budget = activePatternBudget();
      if (budget !== null) {
        // Under a time budget (the CLI): the same matches, found in the helper thread (patternBudget.ts).
        const { spans } = budgetedMatches(s, Int32Array.of(0, len), re, single.origin, budget);
        let last = 0;
        for (let i = 0; i < spans.length; i += 2) {
          if (spans[i] > last && keepGaps) this.emitWord(aligned, last, spans[i], out);
          this.emitWord(aligned, spans[i], spans[i + 1], out);
          last = spans[i + 1];
        }
        if (last < len && keepGaps) this.emitWord(aligned, last, len, out);
        return;
      }
      re.lastIndex = 0;
      let last = 0;
      for (let m = re.exec(s); m !== null; m = re.exec(s)) {
        const wordLength = m[0].length;
        if (wordLength === 0) {
          re.lastIndex = afterEmptyMatch(s, re.lastIndex);
          continue;
        }
        if (m.index > last && keepGaps) this.emitWord(aligned, last, m.index, out);
        this.emitWord(aligned, m.index, m.index + wordLength, out);
        last = m.index + wordLength;
      }
      if (last < len && keepGaps) this.emitWord(aligned, last, len, out);
      return;
    }
    if (splits.every((st) => typeof st.pattern === 'string' && !st.invert && (st.pattern.length === 0 || !s.includes(st.pattern)))) {
      // String delimiters that do not occur (Gemma's ' ' after its normalizer made spaces '▁'): one word.
      if (len > 0) this.emitWord(aligned, 0, len, out);
      return;
    }
    const ranges = preTokenize(s, splits, exact);
    for (let r = 0; r < ranges.length; r += 3) {
      if (ranges[r + 2] === 0) continue; // a removed delimiter: its bytes join the next token's span
      this.emitWord(aligned, ranges[r], ranges[r + 1], out);
    }
  }

  /** Emits the tokens of pre-token [a, b) of the (normalized) piece, cut at walls first when it is long. */
  private emitWord(aligned: AlignedString, a: number, b: number, out: StreamBuilder): void {
    if (b - a >= WALL_SPLIT_MIN_UNITS && this.cfg.symbols === 'chars') {
      const rules = this.wallRules === undefined ? (this.wallRules = this.computeWallRules()) : this.wallRules;
      if (rules !== null) {
        const s = aligned.text;
        let from = a;
        for (let p = a + 1; p < b; p++) {
          if (this.isWall(s, p, rules)) {
            this.emitPart(aligned, from, p, out);
            from = p;
          }
        }
        this.emitPart(aligned, from, b, out);
        return;
      }
    }
    this.emitPart(aligned, a, b, out);
  }

  /** Emits the tokens of [a, b), BPE-encoded as one word (cached by its text). */
  private emitPart(aligned: AlignedString, a: number, b: number, out: StreamBuilder): void {
    const s = aligned.text;
    let run: TokenRun;
    let offset: number;
    let count: number;
    if (b - a <= MAX_CACHED_UNITS) {
      const cache = this.cache;
      let e = cache.find(s, a, b);
      if (e < 0) {
        const n = this.computeWord(s, a, b); // may replace this.run with a larger one: read it after
        e = cache.insert(s, a, b, this.run, n);
      }
      run = cache.tokens;
      offset = cache.tokenOffset(e);
      count = cache.tokenLength(e);
    } else {
      count = this.computeWord(s, a, b);
      run = this.run;
      offset = 0;
    }
    const baseUtf16 = aligned.identityBase(a, b);
    if (baseUtf16 >= 0 && baseUtf16 === out.lastUtf16 && out.lastInto === 0) {
      out.pushRun(run, offset, count, baseUtf16);
      return;
    }
    // Through the normalizer's alignment, token by token.
    for (let k = 0; k < count; k++) {
      const t = offset + k;
      const endRel = run.endUtf16[t];
      const into = run.endInto[t];
      let flags = run.flags[t] & ~PARTIAL;
      const startU = k === 0 ? a : a + run.endUtf16[t - 1];
      const endU = into > 0 ? a + endRel + 1 : a + endRel;
      if (aligned.hasNormalizedIn(startU, endU)) flags |= NORMALIZED;
      const u = aligned.mapUtf16(a + endRel, into);
      out.push(run.ids[t], u, aligned.mappedInto, flags);
    }
  }

  private ensureSymbols(n: number): void {
    if (this.symIds.length >= n) return;
    const cap = Math.max(n, this.symIds.length * 2);
    this.symIds = new Int32Array(cap);
    this.symLens = new Int32Array(cap);
    this.symFlags = new Uint8Array(cap);
  }

  /** The vocabulary id of a one-character token, -1 if none (memoized for the BMP). */
  private charId(s: string, i: number, units: number): number {
    if (units === 2) return this.cfg.vocab.get(s.slice(i, i + 2)) ?? -1;
    const c = s.charCodeAt(i);
    const table = this.charIds ?? (this.charIds = new Int32Array(0x10000).fill(-2));
    let id = table[c];
    if (id === -2) table[c] = id = this.cfg.vocab.get(String.fromCharCode(c)) ?? -1;
    return id;
  }

  /**
   * Where a word of chars symbols can be cut without changing its BPE: a position no merge crosses, because
   * no vocabulary token holds the two characters around it. Checked here for two kinds of spot, from the
   * vocabulary: before a `▁` that follows a character c when no token holds "c▁" (SentencePiece
   * vocabularies keep `▁` at the start of tokens), and either side of a character that has no token of its
   * own (its byte-fallback tokens take part in no merge). null when the vocabulary gives no such guarantee.
   */
  private computeWallRules(): WallRules | null {
    const cfg = this.cfg;
    if (cfg.ignoreMerges) return null; // whole-word lookup is per word: cutting would change it
    const markId = cfg.vocab.get(String.fromCharCode(SPACE_MARK));
    const beforeMark = new Uint8Array(0x10000);
    let markWalls = markId !== undefined;
    let fallbackInert = cfg.byteFallback && this.byteToId[0] >= 0;
    for (const spelling of cfg.vocab.keys()) {
      if (this.fallbackIds.size > 0 && spelling.includes('<0x') && !/^<0x[0-9A-Fa-f]{2}>$/.test(spelling)) fallbackInert = false;
      for (let i = spelling.indexOf(String.fromCharCode(SPACE_MARK), 1); i > 0; i = spelling.indexOf(String.fromCharCode(SPACE_MARK), i + 1)) {
        const c = spelling.charCodeAt(i - 1);
        if (c >= 0xdc00 && c <= 0xdfff) markWalls = false; // an astral character before it: not tracked
        else beforeMark[c] = 1;
      }
    }
    if (!markWalls && !fallbackInert) return null;
    return { beforeMark: markWalls ? beforeMark : null, fallbackInert };
  }

  /** True when position p of s (0 < p) is a wall under `rules`. */
  private isWall(s: string, p: number, rules: WallRules): boolean {
    const c = s.charCodeAt(p);
    const prev = s.charCodeAt(p - 1);
    // Surrogates are left alone: no wall next to an astral character.
    if (prev >= 0xd800 && prev <= 0xdfff) return false;
    const prevHasToken = this.charId(s, p - 1, 1) >= 0;
    if (!prevHasToken) return rules.fallbackInert;
    if (c === SPACE_MARK) return rules.beforeMark !== null && prev !== SPACE_MARK && rules.beforeMark[prev] === 0;
    return rules.fallbackInert && !(c >= 0xd800 && c <= 0xdfff) && this.charId(s, p, 1) < 0;
  }

  /** BPE of s[a, b) as one word into `this.run`; returns the number of tokens. */
  private computeWord(s: string, a: number, b: number): number {
    const cfg = this.cfg;
    // Up to 3 symbols per UTF-16 unit (4-byte characters are 2 units; byte fallback gives 1 symbol per byte).
    this.ensureSymbols((b - a) * 3 + 4);
    const ids = this.symIds;
    const lens = this.symLens;
    const fl = this.symFlags;
    let n = 0;
    let whole = -1;
    if (cfg.symbols === 'bytes') {
      const byteToId = this.byteToId;
      for (let i = a; i < b; i++) {
        let cp = s.charCodeAt(i);
        if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < b) {
          cp = ((cp - 0xd800) << 10) + (s.charCodeAt(i + 1) - 0xdc00) + 0x10000;
          i++;
        }
        n = pushUtf8Symbols(cp, byteToId, ids, lens, fl, n, 0);
      }
      if (cfg.ignoreMerges) whole = cfg.vocab.get(spellingFromBytes(utf8Encode(s.slice(a, b)))) ?? -1;
    } else {
      if (cfg.ignoreMerges) whole = cfg.vocab.get(s.slice(a, b)) ?? -1;
      let unkOpen = false;
      const fallback = cfg.byteFallback && this.byteToId[0] >= 0;
      for (let i = a; i < b; ) {
        const cp = s.codePointAt(i) as number;
        const cu = cp > 0xffff ? 2 : 1;
        const len = utf8LengthOfCodePoint(cp);
        const id = this.charId(s, i, cu);
        i += cu;
        if (id >= 0) {
          ids[n] = id;
          lens[n] = len;
          fl[n] = 0;
          n++;
          unkOpen = false;
        } else if (fallback) {
          n = pushUtf8Symbols(cp, this.byteToId, ids, lens, fl, n, BYTE_FALLBACK);
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
      if (this.fallbackIds.size) for (let k = 0; k < n; k++) fl[k] = this.fallbackIds.has(ids[k]) ? BYTE_FALLBACK : 0;
    }
    // Token end boundaries relative to the word: walk the word's characters by bytes.
    if (this.run.ids.length < n) this.run = newTokenRun(Math.max(n, this.run.ids.length * 2));
    const run = this.run;
    let u = a;
    let byteInChar = 0;
    let byteEnd = 0;
    let prevInto = 0;
    for (let k = 0; k < n; k++) {
      let remaining = lens[k];
      byteEnd += remaining;
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
      run.ids[k] = ids[k];
      run.endUtf16[k] = u - a;
      run.endInto[k] = byteInChar;
      run.endByte[k] = byteEnd;
      // Partial within the word (its ends are character boundaries): the stream's rule, applied once here.
      run.flags[k] = fl[k] | (byteInChar > 0 || prevInto > 0 ? PARTIAL : 0);
      prevInto = byteInChar;
    }
    return n;
  }

}

/**
 * id -> spelling: the vocabulary's own lookup when it has one (CompactVocab keeps no string per entry), else
 * a table built from its entries.
 */
function spellingLookup(vocab: ReadonlyMap<string, number>, size: number): (id: number) => string | undefined {
  const own = (vocab as { spellingOfId?: unknown }).spellingOfId;
  if (typeof own === 'function') return (id) => (own as (id: number) => string | undefined).call(vocab, id);
  const table = new Array<string | undefined>(size);
  for (const [s, id] of vocab) table[id] = s;
  return (id) => table[id];
}

interface WallRules {
  /** Characters c for which some token holds "c▁" (no wall between them); null: no walls before `▁`. */
  readonly beforeMark: Uint8Array | null;
  /** Characters without a token of their own are walls on both sides. */
  readonly fallbackInert: boolean;
}

/** True when s holds a letter or digit (the reference's tables) followed by a space or ASCII punctuation but `'`. */
function holdsWordEnd(s: string): boolean {
  for (let i = 1; i < s.length; i++) {
    if (!isWordEndChar(s.charCodeAt(i))) continue;
    const cp = s.codePointAt(i >= 2 && (s.charCodeAt(i - 1) & 0xfc00) === 0xdc00 ? i - 2 : i - 1) as number;
    if ((classBits(cp) & (CharClass.Letter | CharClass.Number)) !== 0) return true;
  }
  return false;
}

/** Appends the UTF-8 bytes of cp as initial symbols (each byte's id, length 1, the given flags); returns the new count. */
function pushUtf8Symbols(cp: number, byteToId: Int32Array, ids: Int32Array, lens: Int32Array, fl: Uint8Array, n: number, flags: number): number {
  if (cp < 0x80) {
    ids[n] = byteToId[cp];
  } else if (cp < 0x800) {
    ids[n] = byteToId[0xc0 | (cp >> 6)];
    lens[n] = 1;
    fl[n++] = flags;
    ids[n] = byteToId[0x80 | (cp & 63)];
  } else if (cp < 0x10000) {
    ids[n] = byteToId[0xe0 | (cp >> 12)];
    lens[n] = 1;
    fl[n++] = flags;
    ids[n] = byteToId[0x80 | ((cp >> 6) & 63)];
    lens[n] = 1;
    fl[n++] = flags;
    ids[n] = byteToId[0x80 | (cp & 63)];
  } else {
    ids[n] = byteToId[0xf0 | (cp >> 18)];
    lens[n] = 1;
    fl[n++] = flags;
    ids[n] = byteToId[0x80 | ((cp >> 12) & 63)];
    lens[n] = 1;
    fl[n++] = flags;
    ids[n] = byteToId[0x80 | ((cp >> 6) & 63)];
    lens[n] = 1;
    fl[n++] = flags;
    ids[n] = byteToId[0x80 | (cp & 63)];
  }
  lens[n] = 1;
  fl[n] = flags;
  return n + 1;
}
