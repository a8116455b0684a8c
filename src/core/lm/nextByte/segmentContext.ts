/**
 * Per-tokenizer facts for the next-byte analysis of BPE without a splitting pre-tokenizer (SentencePiece-style
 * vocabularies in Hugging Face form: Mistral, Gemma 3), built on first use and cached with the tokenizer.
 *
 * Such a tokenizer reads the text as: added tokens matched in the raw text (leftmost-longest; Gemma's newline
 * and tab runs, HTML tags, `<unusedN>`), the text between them normalized character by character (a space
 * becomes `▁`; Mistral also puts one `▁` before the text's start) and BPE'd as one word: one symbol per
 * character in the vocabulary, the `<0xNN>` tokens of the UTF-8 bytes of any other character (byte fallback),
 * merges by lowest rank, leftmost first. The analysis (segmentAnalysis.ts) works on the normalized text, the
 * bytes the model reads; the raw text of normalized bytes is the tokenizer's decoding (`▁` read as a space).
 *
 * Supported when (checked here, else the tokenizer is not analysed this way): symbols are characters with
 * byte fallback for every byte, no merge involves a byte-fallback token, no pre-tokenizer rewrite, the only
 * split is on ' ' (which the normalizer has removed), the normalizer maps characters one to one (a space to
 * `▁`; a prepended `▁`), no whole-word rule, and every added token matched inside text is matched in the raw
 * text and is ASCII, or holds a `▁` (then it never matches a decoded text, which has no `▁`).
 */
import { AlignedString } from '../../text/aligned';
import { BpeTokenizer, type EngineConfig } from '../../tokenizers/engine';
import type { Tokenizer } from '../../tokenizers/types';
import type { BaseDistribution } from '../model';
import { PieceBpe, TokenChains } from './bpe';
import { latin1, TokenTable } from './tokenTable';

const MARK = '\u2581';

/** What an id is to the added-token matcher when its text is scanned alone. */
export const enum AddedKind {
  /** No added token matches inside its text: an ordinary BPE token. */
  Plain = 0,
  /** Its text is exactly one added token's content and it is that token's id. */
  Whole = 1,
  /** A match would cut its text: it is never one token of an encoding. */
  Never = 2,
}

/** Leftmost-longest matching of added-token contents in raw text, as the engine's AddedTrie does. */
export class AddedMatcher {
  private readonly byContent = new Map<string, number>();
  /** The contents, sorted (those that start with a given text are one range). */
  private readonly sorted: string[];
  readonly maxLength: number;
  private readonly firstChars = new Set<number>();

  constructor(contents: readonly { readonly content: string; readonly id: number }[]) {
    let max = 0;
    for (const c of contents) {
      if (c.content.length === 0) continue;
      this.byContent.set(c.content, c.id);
      max = Math.max(max, c.content.length);
      this.firstChars.add(c.content.charCodeAt(0));
    }
    this.sorted = Array.from(this.byContent.keys()).sort();
    this.maxLength = max;
  }

  get empty(): boolean {
    return this.byContent.size === 0;
  }

  /** Whether the text holds a character that starts some content. */
  mayMatch(s: string, from = 0): boolean {
    for (let i = from; i < s.length; i++) if (this.firstChars.has(s.charCodeAt(i))) return true;
    return false;
  }

  /** The longest content at position i of s (its id and length), or undefined. */
  longestAt(s: string, i: number): { id: number; length: number } | undefined {
    if (!this.firstChars.has(s.charCodeAt(i))) return undefined;
    for (let n = Math.min(this.maxLength, s.length - i); n > 0; n--) {
      const id = this.byContent.get(s.slice(i, i + n));
      if (id !== undefined) return { id, length: n };
    }
    return undefined;
  }

  /** Contents that s[i..] is a proper prefix of (the match at i could still grow), as the text each needs next. */
  remaindersAt(s: string, i: number): string[] {
    const out: string[] = [];
    if (!this.firstChars.has(s.charCodeAt(i))) return out;
    const head = s.slice(i);
    const list = this.sorted;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid] < head) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < list.length && list[k].startsWith(head); k++) if (list[k].length > head.length) out.push(list[k].slice(head.length));
    return out;
  }

  /**
   * The scan of s from `from` (a position the scan reaches free): the matches, and the remainders of every
   * position it reaches whose text to the end could still grow into a longer content.
   */
  scan(s: string, from = 0): { matches: number[]; remainders: string[]; lastEnd: number } {
    const matches: number[] = [];
    const remainders: string[] = [];
    let lastEnd = -1;
    for (let i = from; i < s.length; ) {
      if (s.length - i < this.maxLength) for (const r of this.remaindersAt(s, i)) remainders.push(r);
      const m = this.longestAt(s, i);
      if (m) {
        matches.push(i, i + m.length, m.id);
        i += m.length;
        lastEnd = i;
      } else i++;
    }
    return { matches, remainders, lastEnd };
  }
}

export class SegmentContext {
  readonly table: TokenTable;
  readonly bpe: PieceBpe;
  readonly chains: TokenChains;
  readonly matcher: AddedMatcher;
  /** 1 for the `<0xNN>` byte-fallback ids. */
  readonly isFallback: Uint8Array;
  /** The fallback id of each byte value. */
  readonly fallbackOf: Int32Array;
  /** Per id (usable, not fallback): AddedKind. */
  readonly addedKind: Uint8Array;
  /** Per id: 1 when it can be laid where a new BPE segment starts (plain and BPE of its own text, or a whole added token). */
  readonly startValid: Uint8Array;
  /** The normalizer puts `▁` before the text's start (Mistral). */
  readonly prepends: boolean;
  /** Some added token matched in text holds `▁` (Gemma 3's `▁▁` runs): a typed `▁` then differs from a space. */
  readonly markContents: boolean;
  private readonly completionMemo = new Map<string, boolean>();
  private readonly startSums = new WeakMap<BaseDistribution, Float64Array>();
  private readonly crossedMemo = new Map<number, Int32Array>();
  private readonly crossedSums = new WeakMap<BaseDistribution, Map<number, Float64Array>>();
  private readonly plainIds: Int32Array;
  /** Code points c for which some token holds c followed by `▁` (no wall between them). */
  private readonly beforeMark = new Set<number>();

  constructor(
    readonly tokenizer: BpeTokenizer,
    readonly cfg: EngineConfig,
    matchable: readonly { readonly content: string; readonly id: number }[],
    prepends: boolean,
  ) {
    const V = tokenizer.vocabSize;
    this.prepends = prepends;
    this.markContents = matchable.some((m) => m.content.includes(MARK));
    this.matcher = new AddedMatcher(matchable.filter((m) => !m.content.includes(MARK)));
    this.isFallback = new Uint8Array(V);
    this.fallbackOf = new Int32Array(256).fill(-1);
    for (let b = 0; b < 256; b++) {
      const id = cfg.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      if (id !== undefined && id < V) {
        this.isFallback[id] = 1;
        this.fallbackOf[b] = id;
      }
    }
    const special = new Set<number>();
    for (const t of cfg.addedTokens) if (t.special) special.add(t.id);
    this.table = new TokenTable(V, (id) => tokenizer.tokenBytes(id), special);
    this.bpe = new PieceBpe(cfg, V);
    this.chains = new TokenChains(this.bpe, this.table);
    const addedIds = new Map<number, string>();
    for (const m of matchable) addedIds.set(m.id, m.content);
    this.addedKind = new Uint8Array(V);
    this.startValid = new Uint8Array(V);
    const plain: number[] = [];
    for (let id = 0; id < V; id++) {
      if (!this.table.usable[id] || this.isFallback[id]) continue;
      const text = this.table.text(id);
      if (text === undefined) {
        this.addedKind[id] = AddedKind.Never;
        continue;
      }
      const raw = text.replaceAll(MARK, ' ');
      let kind = AddedKind.Plain;
      if (this.matcher.mayMatch(raw)) {
        const { matches } = this.matcher.scan(raw);
        if (matches.length === 3 && matches[0] === 0 && matches[1] === raw.length && matches[2] === id) kind = AddedKind.Whole;
        else if (matches.length > 0) kind = AddedKind.Never;
      }
      this.addedKind[id] = kind;
      if (kind === AddedKind.Whole) this.startValid[id] = 1;
      else if (kind === AddedKind.Plain && this.chains.mergesSelf(id)) {
        this.startValid[id] = 1;
        plain.push(id);
      }
    }
    this.plainIds = Int32Array.from(plain);
    for (const sp of cfg.vocab.keys()) {
      for (let i = sp.indexOf(MARK, 1); i > 0; i = sp.indexOf(MARK, i + 1)) {
        const lo = sp.charCodeAt(i - 1);
        this.beforeMark.add(lo >= 0xdc00 && lo <= 0xdfff && i >= 2 ? (sp.codePointAt(i - 2) as number) : lo);
      }
    }
  }

  /** Whether the character has no token of its own (and is in no added token's content): its bytes never merge. */
  private inert(ch: string): boolean {
    return this.cfg.vocab.get(ch) === undefined && (ch.charCodeAt(0) >= 0x80 || !this.matcher.mayMatch(ch));
  }

  /**
   * The last position of the normalized text (a UTF-16 index, 0 when none) where no merge and no added token
   * can cross, whatever follows: before a `▁` that follows a character c when no token holds c▁, and either side
   * of a character without a token of its own. Tokens never cross it, so every cover shares the tokens before
   * it and the analysis may start there.
   */
  lastWall(normalized: string): number {
    let next: string | undefined;
    for (let i = normalized.length; i > 0; ) {
      const lo = normalized.charCodeAt(i - 1);
      const w = lo >= 0xdc00 && lo <= 0xdfff && i >= 2 ? 2 : 1;
      const ch = normalized.slice(i - w, i);
      if (next !== undefined) {
        if (next === MARK && ch !== MARK && !this.beforeMark.has(ch.codePointAt(0) as number)) return i;
        if (this.inert(ch) || this.inert(next)) return i;
      }
      next = ch;
      i -= w;
    }
    return 0;
  }

  /** Whether some character whose UTF-8 starts with `prefix` (1 to 3 bytes) has no token of its own (its bytes are fallback tokens). */
  outsideCompletion(prefix: Uint8Array): boolean {
    const key = latin1(prefix);
    const hit = this.completionMemo.get(key);
    if (hit !== undefined) return hit;
    const lead = prefix[0];
    const n = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    let found = false;
    if (n > 0 && prefix.length <= n) {
      // The code points with this UTF-8 prefix are one interval: the free continuation bits all 0 to all 1.
      let lo = n === 1 ? lead : lead & (0xff >> (n + 1));
      let hi = lo;
      for (let k = 1; k < n; k++) {
        const c = k < prefix.length ? prefix[k] & 0x3f : -1;
        lo = (lo << 6) | (c < 0 ? 0 : c);
        hi = (hi << 6) | (c < 0 ? 0x3f : c);
      }
      const min = [0, 0, 0x80, 0x800, 0x10000][n];
      const max = [0, 0x7f, 0x7ff, 0xffff, 0x10ffff][n];
      lo = Math.max(lo, min);
      hi = Math.min(hi, max);
      for (let cp = lo; cp <= hi && !found; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue; // not a character
        const ch = String.fromCodePoint(cp);
        if (this.cfg.vocab.get(ch === ' ' ? MARK : ch) === undefined) found = true;
      }
    }
    this.completionMemo.set(key, found);
    return found;
  }

  /** Σ base.prob over the ids valid at a segment's start, by first byte (cached per base distribution). */
  startBaseSums(base: BaseDistribution): Float64Array {
    let s = this.startSums.get(base);
    if (!s) {
      s = new Float64Array(256);
      const T = this.table;
      for (let id = 0; id < T.vocabSize; id++) if (this.startValid[id]) s[T.firstByte[id]] += base.prob(id);
      this.startSums.set(base, s);
    }
    return s;
  }

  /**
   * The plain ids t valid at a segment's start whose boundary with `left` (a plain token before them in the
   * same segment) does not survive BPE of the two (ascending). Cached for recent `left`s.
   */
  crossed(left: number): Int32Array {
    let c = this.crossedMemo.get(left);
    if (!c) {
      // A crossing merge joins a symbol of left's last chain with a partner in t's first chain: only such t are tried.
      const index = this.firstIndex();
      const last = this.chains.last(left);
      const bc = this.chains.crossingsAfter(last);
      const stamp = ++this.stampGen;
      const out: number[] = [];
      for (const sigma of last.ids) {
        for (const pi of this.bpe.merges.partners(sigma).ids) {
          for (let k = index.start[pi]; k < index.start[pi + 1]; k++) {
            const t = index.ids[k];
            if (this.stamps[t] === stamp) continue;
            this.stamps[t] = stamp;
            if (bc.crosses(this.chains.first(t))) out.push(t);
          }
        }
      }
      out.sort((a, b) => a - b);
      c = Int32Array.from(out);
      if (this.crossedMemo.size >= 2048) this.crossedMemo.delete(this.crossedMemo.keys().next().value as number);
      this.crossedMemo.set(left, c);
    }
    return c;
  }

  private stampGen = 0;
  private stamps = new Int32Array(0);
  private firstIndexCache: { start: Int32Array; ids: Int32Array } | undefined;

  /** For each symbol, the plain start-valid ids whose first-symbol chain holds it (CSR). */
  private firstIndex(): { start: Int32Array; ids: Int32Array } {
    if (!this.firstIndexCache) {
      const V = this.table.vocabSize;
      this.stamps = new Int32Array(V);
      const count = new Int32Array(V + 1);
      for (const t of this.plainIds) for (const s of this.chains.first(t).ids) count[s + 1]++;
      for (let s = 0; s < V; s++) count[s + 1] += count[s];
      const ids = new Int32Array(count[V]);
      const fill = count.slice(0, V);
      for (const t of this.plainIds) for (const s of this.chains.first(t).ids) ids[fill[s]++] = t;
      this.firstIndexCache = { start: count, ids };
    }
    return this.firstIndexCache;
  }

  private readonly sortedSums = new WeakMap<BaseDistribution, Float64Array>();

  /** Prefix sums of base.prob over the start-valid ids in byte-sorted order (positions [lo, hi): s[hi] - s[lo]). */
  sortedStartSums(base: BaseDistribution): Float64Array {
    let s = this.sortedSums.get(base);
    if (!s) {
      const T = this.table;
      s = new Float64Array(T.vocabSize + 1);
      for (let pos = 0; pos < T.vocabSize; pos++) {
        const id = T.sortedIds[pos];
        s[pos + 1] = s[pos] + (this.startValid[id] ? base.prob(id) : 0);
      }
      this.sortedSums.set(base, s);
    }
    return s;
  }

  /** Σ base.prob over crossed(left), by first byte. */
  crossedBaseSums(left: number, base: BaseDistribution): Float64Array {
    let inner = this.crossedSums.get(base);
    if (!inner) this.crossedSums.set(base, (inner = new Map()));
    let s = inner.get(left);
    if (!s) {
      s = new Float64Array(256);
      const T = this.table;
      for (const t of this.crossed(left)) s[T.firstByte[t]] += base.prob(t);
      if (inner.size >= 2048) inner.delete(inner.keys().next().value as number);
      inner.set(left, s);
    }
    return s;
  }

  /** Whether BPE of left·right keeps the boundary (both plain, valid at a start). */
  keeps(left: number, right: number): boolean {
    return !this.chains.crossingsAfter(this.chains.last(left)).crosses(this.chains.first(right));
  }
}

const contexts = new WeakMap<Tokenizer, SegmentContext | null>();

/** Whether no merge takes a byte-fallback token on either side. */
function fallbackInert(bpe: PieceBpe, fallbackIds: readonly number[], V: number): boolean {
  const fb = new Set(fallbackIds);
  for (const f of fallbackIds) if (bpe.merges.partners(f).ids.length > 0) return false;
  for (let id = 0; id < V; id++) for (const r of bpe.merges.partners(id).ids) if (fb.has(r)) return false;
  return true;
}

/** The context for a tokenizer this analysis supports (see the header), or undefined. */
export function segmentContextOf(tokenizer: Tokenizer): SegmentContext | undefined {
  let c = contexts.get(tokenizer);
  if (c === undefined) {
    c = null;
    if (tokenizer instanceof BpeTokenizer) {
      const cfg = tokenizer.config;
      const splitsInert = cfg.splits.every((s) => s.pattern === ' ' && !s.invert);
      if (cfg.symbols === 'chars' && cfg.byteFallback && !cfg.ignoreMerges && !cfg.preNormalizer && splitsInert) {
        const norm = cfg.normalizer;
        const apply = (t: string, atStart: boolean): string => (norm ? norm(AlignedString.identity(t, 0), atStart).text : t);
        // The normalizer must act as "a space becomes ▁, maybe one ▁ before the start": probed.
        const probes = ['a b', ' x ', 'é中😀\t\n', MARK + 'q', '\u00a0\u3000'];
        const prepends = apply('a', true) === MARK + 'a';
        const ok = probes.every((p) => apply(p, false) === p.replaceAll(' ', MARK) && apply(p, true) === (prepends ? MARK : '') + p.replaceAll(' ', MARK));
        const matchable = cfg.addedTokens.filter((t) => !t.special);
        const addedOk = matchable.every((t) => !t.normalized && (t.content.includes(MARK) || /^[\x00-\x7f]+$/.test(t.content)));
        const fallbackIds: number[] = [];
        for (let b = 0; b < 256; b++) {
          const id = cfg.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
          if (id !== undefined) fallbackIds.push(id);
        }
        if (ok && addedOk && fallbackIds.length === 256) {
          const ctx = new SegmentContext(
            tokenizer,
            cfg,
            matchable.map((t) => ({ content: t.content, id: t.id })),
            prepends,
          );
          if (fallbackInert(ctx.bpe, fallbackIds, tokenizer.vocabSize)) c = ctx;
        }
      }
    }
    contexts.set(tokenizer, c);
  }
  return c ?? undefined;
}
