/**
 * A brute-force oracle for the exact next-byte distribution, independent of src/core/lm/nextByte: it uses only
 * the tokenizer's `encode` and `tokenBytes` and the model's next-token probabilities.
 *
 * - A token sequence g is valid iff some continuation s makes g a prefix of encode(decode(g)·s), decided
 *   straight from that definition: decode g, append each continuation of a generous fixed list (the end of
 *   the text, single characters of every kind, pairs, whitespace runs followed by a letter, contraction
 *   tails; when g ends inside a character, completions of that character first), encode the whole text from
 *   its start and compare.
 * - The model puts probability on a known support only (a set of ids and the end of text), so the oracle
 *   enumerates every sequence of support tokens whose bytes cover a text.
 * - P(w) = Σ over valid covers of w; P(next = b | x) ∝ P(x·b), with P(x·END) = P(encode(x))·p(END | encode(x)),
 *   normalised once.
 */
import type { LanguageModel, NextTokenDistribution } from '../../../src/core/lm/model';
import type { Tokenizer } from '../../../src/core/tokenizers/types';

const CHARS = [
  'a', 'e', 'n', 's', 't', 'r', 'l', 'v', 'm', 'd', 'x', 'S', 'T', 'R', 'Q', 'Z', 'é', 'É', 'ß', 'ǅ', 'ʰ', '中', 'ア', 'ㄱ', 'ℵ',
  '0', '1', '7', '٣', '½', '²', '.', ',', "'", '"', '(', ')', '/', '\\', '-', '_', '#', '<', '>', '|', '€', '😀', '\u0301', '\u200b', '\u00ad', '\x00', '\x7f',
  ' ', '\t', '\n', '\r', '\u00a0', '\u2003', '\u3000', '\u0085', '\u2028', '\ufeff',
];
const TAILS = ["'s", "'re", "'ll", "'ve", "'d", "'t", "'m", "'S", "'RE", 'ing', ' a', '  a', '   a', '\n a', ' \na', '\n\na', '\t a', ' (', '  (', ' 1', '  1', '12', '123', '1234', 'aB', 'Ab', 'AB', 'ab', '\r\na', '\n\n', '  \n', ' \n ', '\n  ', ' ', '  ', '\n', '.\n', '.\n\n', ';\n', '//', '/a', 'a/'];

/** Continuations tried for a decoded text that ends on a character boundary. */
export const CONTINUATIONS: readonly string[] = (() => {
  const out = new Set<string>(['']);
  for (const c of CHARS) out.add(c);
  for (const t of TAILS) out.add(t);
  const pairs = ['a', 'A', '1', '.', ' ', '\n', "'", 'é', '中'];
  for (const a of pairs) for (const b of pairs) out.add(a + b);
  return Array.from(out);
})();

/** Continuations tried after each completion of a character the sequence ends inside. */
const PARTIAL_CONTINUATIONS = ['', ' ', '  a', 'a', 'A', '.', '\n', '\n\n', '1', "'", 'é', '中', '😀', '\u0301', '\u0308', '\u0327'];

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const GENERAL_CATEGORIES = ['Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'Mn', 'Mc', 'Me', 'Nd', 'Nl', 'No', 'Pc', 'Pd', 'Ps', 'Pe', 'Pi', 'Pf', 'Po', 'Sm', 'Sc', 'Sk', 'So', 'Zs', 'Zl', 'Zp', 'Cc', 'Cf', 'Co', 'Cn'];
const completionMemo = new Map<string, string[]>();

/**
 * Characters whose UTF-8 begins with the given bytes: two of each kind, where a kind is the general category
 * (from the engine's own \p{…}), White_Space, and whether NFC and NFKC change the character. A pattern, a
 * normalizer or a merge can only tell characters apart by such properties or by their bytes, and the bytes
 * are sampled too (a spread of `max` over the range).
 */
function completions(begun: Uint8Array, max: number): string[] {
  const key = Array.from(begun).join(',');
  const hit = completionMemo.get(key);
  if (hit) return hit;
  const lead = begun[0];
  const n = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
  const all: string[] = [];
  if (n > 0) {
    const free = n - begun.length;
    const total = 64 ** free;
    const bytes = new Uint8Array(n);
    bytes.set(begun);
    for (let k = 0; k < total; k++) {
      let v = k;
      for (let j = n - 1; j >= begun.length; j--) {
        bytes[j] = 0x80 | (v & 0x3f);
        v >>= 6;
      }
      try {
        all.push(fatal.decode(bytes));
      } catch {
        // not a character
      }
    }
  }
  const kinds = new Map<string, string[]>();
  const category = new RegExp(GENERAL_CATEGORIES.map((gc) => `(?<${gc}>\\p{General_Category=${gc}})`).join('|'), 'u');
  const categoryOf = (c: string): string => {
    const groups = category.exec(c)?.groups ?? {};
    for (const gc of GENERAL_CATEGORIES) if (groups[gc] !== undefined) return gc;
    return '';
  };
  const space = /\s/u;
  for (let k = 0; k < all.length; k++) {
    const c = all[k];
    const kind = `${categoryOf(c)}|${space.test(c)}|${c.normalize('NFC') !== c}|${c.normalize('NFKC') !== c}`;
    let list = kinds.get(kind);
    if (!list) kinds.set(kind, (list = []));
    if (list.length < 2) list.push(c);
  }
  const out = new Set<string>();
  for (const list of kinds.values()) for (const c of list) out.add(c);
  const step = Math.max(1, Math.floor(all.length / max));
  for (let k = 0; k < all.length; k += step) out.add(all[k]);
  const result = Array.from(out);
  completionMemo.set(key, result);
  return result;
}

/** The longest prefix of the bytes that is well-formed UTF-8 and ends on a character boundary, as text. */
function decodeLongestPrefix(b: Uint8Array): string | undefined {
  const end = b.length - begunLength(b);
  try {
    return fatal.decode(b.subarray(0, end));
  } catch {
    return undefined;
  }
}

/** The bytes of a trailing incomplete character (0 to 3 bytes). */
function begunLength(b: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, b.length); k++) {
    const c = b[b.length - k];
    if ((c & 0xc0) === 0x80) continue;
    const n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return n > k ? k : 0;
  }
  return 0;
}

export interface OracleModel {
  readonly model: LanguageModel;
  /** Ids with nonzero probability (the end-of-text id excluded). */
  readonly support: readonly number[];
}

export class NextByteOracle {
  readonly bytes: Uint8Array[] = [];
  private readonly validMemo = new Map<string, boolean>();
  private readonly distMemo = new Map<string, NextTokenDistribution>();
  private readonly probMemo = new Map<string, number>();
  encodes = 0;
  /** Tokens longer than one byte that begin with a UTF-8 continuation byte. */
  private readonly continuationTokens: Uint8Array[] = [];

  constructor(
    readonly tokenizer: Tokenizer,
    readonly m: OracleModel,
    /** Encode with normalization in mind: the oracle's texts are what `encode` reads. */
    readonly continuations: readonly string[] = CONTINUATIONS,
    /**
     * The text a token sequence's bytes decode to, as the tokenizer's decoder gives it (identity for
     * byte-level vocabularies; SentencePiece-style ones read `▁` as a space and drop the `▁` their normalizer
     * puts before the text): decode(t) in the definition.
     */
    readonly decodeText: (decoded: string) => string = (s) => s,
  ) {
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      const b = tokenizer.tokenBytes(id);
      this.bytes.push(b);
      if (b.length > 1 && (b[0] & 0xc0) === 0x80) this.continuationTokens.push(b);
    }
  }

  private async dist(seq: readonly number[]): Promise<NextTokenDistribution> {
    const key = seq.join(',');
    let d = this.distMemo.get(key);
    if (!d) {
      const n = this.m.model.contextTokens;
      const r = this.m.model.nextDistribution(Uint32Array.from(seq.slice(Math.max(0, seq.length - n))));
      d = r instanceof Promise ? await r : r;
      this.distMemo.set(key, d);
    }
    return d;
  }

  async prob(seq: readonly number[]): Promise<number> {
    const key = seq.join(',');
    let p = this.probMemo.get(key);
    if (p === undefined) {
      p = seq.length === 0 ? 1 : (await this.prob(seq.slice(0, -1))) * (await this.dist(seq.slice(0, -1))).prob(seq[seq.length - 1]);
      this.probMemo.set(key, p);
    }
    return p;
  }

  /** The definition: some continuation s makes seq a prefix of encode(decode(seq)·s). */
  valid(seq: readonly number[]): boolean {
    const key = seq.join(',');
    const hit = this.validMemo.get(key);
    if (hit !== undefined) return hit;
    const all = concatBytes(seq.map((t) => this.bytes[t]));
    const begun = begunLength(all);
    const heads: string[] = [];
    if (begun === 0) {
      try {
        heads.push(fatal.decode(all));
      } catch {
        // not text
      }
    } else {
      let whole: string | undefined;
      try {
        whole = fatal.decode(all.subarray(0, all.length - begun));
      } catch {
        whole = undefined;
      }
      if (whole !== undefined) for (const c of completions(all.subarray(all.length - begun), 96)) heads.push(whole + c);
      // A merge can join the character's last bytes with the next character's: the vocabulary's own tokens
      // that start with continuation bytes complete the character as such a token would.
      const cut = all.length - begun;
      const need = (all[cut] >= 0xf0 ? 4 : all[cut] >= 0xe0 ? 3 : 2) - begun;
      if (whole !== undefined) {
        for (const tb of this.continuationTokens) {
          if (tb.length <= need) continue;
          let fits = true;
          for (let k = 0; k < need && fits; k++) if ((tb[k] & 0xc0) !== 0x80) fits = false;
          if (!fits) continue;
          const text = decodeLongestPrefix(concatBytes([all.subarray(cut), tb]));
          if (text !== undefined) heads.push(whole + text);
        }
      }
    }
    let ok = false;
    const conts = begun === 0 ? this.continuations : PARTIAL_CONTINUATIONS;
    outer: for (const h of heads) {
      for (const s of conts) {
        this.encodes++;
        const ids = this.tokenizer.encode(this.decodeText(h) + s).ids;
        if (ids.length < seq.length) continue;
        let same = true;
        for (let k = 0; k < seq.length && same; k++) if (ids[k] !== seq[k]) same = false;
        if (same) {
          ok = true;
          break outer;
        }
      }
    }
    this.validMemo.set(key, ok);
    return ok;
  }

  /**
   * Valid sequences of support tokens whose bytes are exactly w[0, i) for some i ≤ |w| (by i), built token by
   * token (validity is prefix-closed: a prefix of a valid sequence is valid).
   */
  private exactPrefixes(w: Uint8Array): number[][][] {
    const at: number[][][] = Array.from({ length: w.length + 1 }, () => []);
    at[0].push([]);
    for (let i = 0; i < w.length; i++) {
      for (const g of at[i]) {
        for (const t of this.m.support) {
          const tb = this.bytes[t];
          if (tb.length === 0 || i + tb.length > w.length) continue;
          let match = true;
          for (let k = 0; k < tb.length && match; k++) if (tb[k] !== w[i + k]) match = false;
          if (!match) continue;
          const next = [...g, t];
          if (this.valid(next)) at[i + tb.length].push(next);
        }
      }
    }
    return at;
  }

  /** Unnormalized P(x·b) for the 256 bytes and end, and P(x) (x: bytes, possibly ending inside a character). */
  async masses(x: Uint8Array): Promise<{ mass: Float64Array; prefixMass: number }> {
    const at = this.exactPrefixes(x);
    const mass = new Float64Array(257);
    let prefixMass = x.length === 0 ? 1 : 0;
    for (let i = 0; i <= x.length; i++) {
      for (const g of at[i]) {
        const pg = await this.prob(g);
        if (pg === 0) continue;
        const d = await this.dist(g);
        for (const t of this.m.support) {
          const tb = this.bytes[t];
          if (tb.length === 0 || i + tb.length <= x.length) continue;
          let match = true;
          for (let k = 0; i + k < x.length && match; k++) if (tb[k] !== x[i + k]) match = false;
          if (!match) continue;
          const next = [...g, t];
          if (!this.valid(next)) continue;
          const q = pg * d.prob(t);
          mass[tb[x.length - i]] += q;
          if (i < x.length) prefixMass += q;
        }
        // Covers that end exactly at the end of x.
        if (i < x.length) {
          for (const t of this.m.support) {
            const tb = this.bytes[t];
            if (i + tb.length !== x.length) continue;
            let match = true;
            for (let k = 0; k < tb.length && match; k++) if (tb[k] !== x[i + k]) match = false;
            if (match && this.valid([...g, t])) prefixMass += pg * d.prob(t);
          }
        }
      }
    }
    if (begunLength(x) === 0) {
      let text: string | undefined;
      try {
        text = fatal.decode(x);
      } catch {
        text = undefined;
      }
      if (text !== undefined) {
        const canon = Array.from(this.tokenizer.encode(this.decodeText(text)).ids);
        mass[256] = (await this.prob(canon)) * (await this.dist(canon)).prob(this.m.model.endOfTextId);
      }
    }
    return { mass, prefixMass };
  }

  /** The normalized next-byte distribution after x. */
  async distribution(x: Uint8Array): Promise<Float64Array> {
    const { mass } = await this.masses(x);
    let z = 0;
    for (const v of mass) z += v;
    return mass.map((v) => v / z);
  }
}
