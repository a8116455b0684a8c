/**
 * tiktoken rank files: the `.tiktoken` format (`base64 rank` per line) and the JSON the `tiktoken`/`js-tiktoken`
 * packages ship ({pat_str, special_tokens, bpe_ranks} with compressed `! offset tok tok ...` lines).
 * A pair merges when the concatenation of its bytes is a token; its rank is that token's rank (= its id).
 */
import { MERGE_ID_BITS, type PairLookup } from './bpe';
import { BYTE_TO_CHAR } from './byteLevel';
import { BpeTokenizer, type AddedTokenSpec, type EngineConfig } from './engine';
import { TokenizerError } from './errors';
import { jsonErrorMessage } from './jsonError';
import { compileSplitPattern } from './regex';

/** cl100k/o200k's pattern family default for a bare `.tiktoken` file (the file itself carries no pattern). */
export const CL100K_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

function spellingOfBase64(b64: string): string {
  const bytes = Buffer.from(b64, 'base64');
  let s = '';
  for (const b of bytes) s += BYTE_TO_CHAR[b];
  return s;
}

export interface TiktokenSource {
  readonly ranks: ReadonlyMap<string, number>;
  readonly pattern: string;
  readonly specialTokens: Readonly<Record<string, number>>;
  /** The file it came from, for messages. */
  readonly sourceName?: string;
}

/** Parses a `.tiktoken` file (`base64 rank` lines). */
export function parseTiktokenFile(text: string, sourceName: string): Map<string, number> {
  const ranks = new Map<string, number>();
  const rankLines = new Map<number, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const sp = line.indexOf(' ');
    const rank = Number(line.slice(sp + 1));
    if (sp <= 0 || !Number.isInteger(rank) || rank < 0 || !/^[A-Za-z0-9+/=]+$/.test(line.slice(0, sp))) {
      throw new TokenizerError(`${sourceName} line ${i + 1} is not "base64 rank"`);
    }
    const spelling = spellingOfBase64(line.slice(0, sp));
    // tiktoken refuses a rank given twice (two tokens would decode from one id) and a token given twice.
    const firstLine = rankLines.get(rank);
    if (firstLine !== undefined) throw new TokenizerError(`${sourceName} line ${i + 1} gives the rank ${rank} again (first on line ${firstLine})`);
    if (ranks.has(spelling)) throw new TokenizerError(`${sourceName} line ${i + 1} gives the token ${line.slice(0, sp)} a second rank`);
    rankLines.set(rank, i + 1);
    ranks.set(spelling, rank);
  }
  if (ranks.size === 0) throw new TokenizerError(`${sourceName} holds no ranks`);
  return ranks;
}

/** Parses the tiktoken npm packages' JSON encoding files. */
export function parseTiktokenJson(text: string, sourceName: string): TiktokenSource {
  let json: { pat_str?: unknown; special_tokens?: unknown; bpe_ranks?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new TokenizerError(jsonErrorMessage(text, sourceName));
  }
  if (typeof json !== 'object' || json === null) throw new TokenizerError(`${sourceName} is not a tiktoken encoding object`);
  if (typeof json.pat_str !== 'string' || typeof json.bpe_ranks !== 'string') {
    throw new TokenizerError(`${sourceName} lacks pat_str or bpe_ranks`);
  }
  const ranks = new Map<string, number>();
  for (const line of json.bpe_ranks.split('\n')) {
    if (!line) continue;
    const parts = line.split(' ');
    const offset = Number(parts[1]);
    if (!Number.isInteger(offset) || offset < 0 || offset >= MERGE_ID_BITS) throw new TokenizerError(`${sourceName}: bpe_ranks line ${JSON.stringify(line.slice(0, 40))} has no valid rank offset`);
    for (let i = 2; i < parts.length; i++) ranks.set(spellingOfBase64(parts[i]), offset + i - 2);
  }
  const specials: Record<string, number> = {};
  if (typeof json.special_tokens === 'object' && json.special_tokens !== null) {
    for (const [k, v] of Object.entries(json.special_tokens)) {
      if (typeof v !== 'number') continue;
      if (!Number.isInteger(v) || v < 0 || v >= MERGE_ID_BITS) throw new TokenizerError(`${sourceName}: special token ${JSON.stringify(k.slice(0, 40))} has the id ${v}, outside 0..${MERGE_ID_BITS - 1}`);
      specials[k] = v;
    }
  }
  return { ranks, pattern: json.pat_str, specialTokens: specials };
}

export function tiktokenConfig(src: TiktokenSource): EngineConfig {
  const { ranks } = src;
  const spellings: string[] = [];
  for (const [s, r] of ranks) {
    if (r >= MERGE_ID_BITS) throw new TokenizerError(`rank ${r} is too large (ranks are below ${MERGE_ID_BITS})`);
    spellings[r] = s;
  }
  const memo = new Map<number, number>();
  const pairLookup: PairLookup = (l, r) => {
    const key = l * MERGE_ID_BITS + r;
    let v = memo.get(key);
    if (v === undefined) {
      const id = ranks.get(spellings[l] + spellings[r]);
      v = id === undefined ? -1 : id * MERGE_ID_BITS + id;
      memo.set(key, v);
    }
    return v;
  };
  const addedTokens: AddedTokenSpec[] = Object.entries(src.specialTokens).map(([content, id]) => ({
    id,
    content,
    special: true,
    normalized: false,
  }));
  return {
    algorithm: 'tiktoken-bpe',
    symbols: 'bytes',
    vocab: ranks,
    pairLookup,
    ignoreMerges: true,
    byteFallback: false,
    unkId: 0,
    fuseUnk: false,
    normalizer: null,
    preNormalizer: null,
    splits: [{ ...compileSplitPattern(src.pattern), behavior: 'Isolated', invert: false, ...(src.sourceName !== undefined ? { origin: src.sourceName } : {}) }],
    addedTokens,
    postAdded: [],
  };
}

export function loadTiktoken(src: TiktokenSource): BpeTokenizer {
  return new BpeTokenizer(tiktokenConfig(src));
}
