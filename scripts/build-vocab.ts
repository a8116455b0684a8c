/**
 * Converts every bundled vocabulary (catalog.ts) into a compact binary file dist/tokenizers/<id>.bin that the
 * loader reads without parsing JSON (format: src/core/tokenizers/compact.ts). Each file is verified against
 * the JSON loader before it is written. A file is rebuilt only when it is missing, has another format version,
 * or is older than its source, the source's tokenizer_config.json, or the loader code that shapes it.
 *
 *   node --import tsx scripts/build-vocab.ts [--out DIR] [--force] [--no-verify] [ID ...]
 *
 * `node esbuild.mjs` runs it (bundled into .cache/build-vocab.cjs) after building the catalog.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { chatTemplateAssetJson } from '../src/core/models/chat';
import { BUNDLED_TOKENIZERS, type CatalogEntry } from '../src/core/tokenizers/catalog';
import { COMPACT_MAGIC, COMPACT_VERSION } from '../src/core/tokenizers/compact';
import { compactFromHfJson, compactFromTiktoken, encodeCompact, verifyCompact, type BuiltCompact } from '../src/core/tokenizers/compactBuild';
import { parseTiktokenJson } from '../src/core/tokenizers/tiktokenLoader';

export interface BuildVocabOptions {
  /** The repository root (holds package.json and node_modules). */
  readonly root: string;
  /** Where the .bin files go; default <root>/dist/tokenizers. */
  readonly outDir?: string;
  /** Only these ids (default: every bundled tokenizer). */
  readonly ids?: readonly string[];
  /** Rebuild even when up to date. */
  readonly force?: boolean;
  /** Skip the check against the JSON loader (faster, for experiments only). */
  readonly verify?: boolean;
  readonly log?: (line: string) => void;
}

export interface BuiltVocab {
  readonly id: string;
  readonly path: string;
  readonly bytes: number;
  readonly sourceBytes: number;
  /** False when the file was up to date. */
  readonly rebuilt: boolean;
  readonly ms: number;
}

/**
 * Source files whose changes can change a compact file's content. The normalizer, pre-tokenizer and engine are
 * rebuilt at load from the JSON parts the header keeps, so their code is not among them.
 */
function codeDependencies(root: string): string[] {
  const dir = join(root, 'src', 'core', 'tokenizers');
  const files = ['catalog.ts', 'compact.ts', 'compactBuild.ts', 'hfLoader.ts', 'tiktokenLoader.ts', 'bpe.ts', 'byteLevel.ts'].map((f) => join(dir, f));
  files.push(join(root, 'scripts', 'build-vocab.ts'));
  return files;
}

function fileVersion(path: string): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(12);
    if (readSync(fd, b, 0, 12, 0) < 12 || b.toString('latin1', 0, 8) !== COMPACT_MAGIC) return undefined;
    return b.readUInt32LE(8);
  } finally {
    closeSync(fd);
  }
}

function upToDate(out: string, inputs: readonly string[]): boolean {
  if (!existsSync(out)) return false;
  if (fileVersion(out) !== COMPACT_VERSION) return false;
  const t = statSync(out).mtimeMs;
  return inputs.every((p) => !existsSync(p) || statSync(p).mtimeMs <= t);
}

/** Builds the compact data of one catalog entry from its npm package file. */
export function buildCompactForEntry(entry: CatalogEntry, root: string): { built: BuiltCompact; sourcePath: string; sourceBytes: number } {
  const req = createRequire(join(root, 'package.json'));
  const sourcePath = req.resolve(`${entry.source.package}/${entry.source.file}`);
  const text = readFileSync(sourcePath, 'utf8');
  const sourceBytes = statSync(sourcePath).size;
  const info = { id: entry.id, source: { package: entry.source.package, version: entry.source.version, file: entry.source.file, bytes: sourceBytes } };
  let built: BuiltCompact;
  if (entry.source.format === 'tiktoken-json') {
    built = compactFromTiktoken(parseTiktokenJson(text, basename(sourcePath)), info);
  } else {
    const cfgPath = join(dirname(sourcePath), 'tokenizer_config.json');
    const config = existsSync(cfgPath) ? (JSON.parse(readFileSync(cfgPath, 'utf8')) as unknown) : undefined;
    built = compactFromHfJson(text, info, { sourceName: `${entry.id} tokenizer.json`, config, bosToken: entry.bosToken });
  }
  return { built, sourcePath, sourceBytes };
}

export function buildVocabularies(options: BuildVocabOptions): BuiltVocab[] {
  const root = options.root;
  const outDir = options.outDir ?? join(root, 'dist', 'tokenizers');
  const log = options.log ?? ((line: string) => console.log(line));
  mkdirSync(outDir, { recursive: true });
  const req = createRequire(join(root, 'package.json'));
  const code = codeDependencies(root);
  const results: BuiltVocab[] = [];
  const entries = BUNDLED_TOKENIZERS.filter((e) => !options.ids || options.ids.includes(e.id));
  if (options.ids) for (const id of options.ids) if (!entries.some((e) => e.id === id)) throw new Error(`unknown bundled tokenizer ${id}`);
  for (const entry of entries) {
    const t0 = performance.now();
    const out = join(outDir, `${entry.id}.bin`);
    // The chat template travels beside the vocabulary (the packaged extension has no tokenizer_config.json).
    const chat = chatTemplateAssetJson(entry.id);
    if (chat) writeFileSync(join(outDir, `${entry.id}.chat.json`), chat);
    // The JSON copies earlier builds left here are superseded by the .bin.
    for (const stale of [`${entry.id}.json`, `${entry.id}.config.json`]) rmSync(join(outDir, stale), { force: true });
    const sourcePath = req.resolve(`${entry.source.package}/${entry.source.file}`);
    const inputs = [sourcePath, join(dirname(sourcePath), 'tokenizer_config.json'), ...code];
    if (!options.force && upToDate(out, inputs)) {
      results.push({ id: entry.id, path: out, bytes: statSync(out).size, sourceBytes: statSync(sourcePath).size, rebuilt: false, ms: performance.now() - t0 });
      continue;
    }
    const { built, sourceBytes } = buildCompactForEntry(entry, root);
    const bytes = encodeCompact(built.data);
    if (options.verify !== false) verifyCompact(bytes, built);
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, out);
    const ms = performance.now() - t0;
    results.push({ id: entry.id, path: out, bytes: bytes.length, sourceBytes, rebuilt: true, ms });
    log(`vocab ${entry.id}: ${(sourceBytes / 2 ** 20).toFixed(1)} MB JSON -> ${(bytes.length / 2 ** 20).toFixed(1)} MB ${basename(out)} (${Math.round(ms)} ms)`);
  }
  return results;
}

function main(argv: readonly string[]): void {
  const ids: string[] = [];
  let outDir: string | undefined;
  let force = false;
  let verify = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') outDir = resolve(argv[++i] ?? '');
    else if (a === '--force') force = true;
    else if (a === '--no-verify') verify = false;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}; usage: build-vocab.ts [--out DIR] [--force] [--no-verify] [ID ...]`);
    else ids.push(a);
  }
  const root = resolve(__dirname, '..');
  const results = buildVocabularies({ root, outDir, ids: ids.length ? ids : undefined, force, verify });
  const fresh = results.filter((r) => r.rebuilt).length;
  console.log(`${results.length} compact vocabularies in ${outDir ?? join(root, 'dist', 'tokenizers')} (${fresh} rebuilt)`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`build-vocab: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
