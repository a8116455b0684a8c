/**
 * Token Inspector benchmark: every bundled tokenizer through Token Inspector's engine and through the peers
 * that implement the same encoding, side by side on one fixed corpus (bench/corpus.ts).
 *
 *   npm run bench                      full run (~1 MB corpus, 1 warm-up + 5 timed encodes per engine)
 *   npm run bench -- --quick           smoke run (~100 KB corpus, 1 + 3 encodes, 110 incremental edits)
 *   npm run bench -- --only gpt2,qwen3 restrict to some bundled tokenizers
 *   npm run bench -- --json            print the results as JSON only (progress still goes to stderr)
 *   npm run bench -- --markdown        print a Markdown table (for the README)
 *   npm run bench -- --repeat 3        measure every engine 3 times, interleaved (ours, peer, peer, ours, ...):
 *                                      on a shared machine the ratios of the same round are compared
 *   other flags: --runs N, --incremental ID (tokenizer for the incremental section; default o200k_base),
 *                --worker-tokenizers a,b,c (the worker-memory section; default o200k_base,llama3,gemma3),
 *                --engines a,b (only these peers, besides ours and each tokenizer's reference; e.g.
 *                gpt-tokenizer,hf-tokenizers-rust: the peers the targets name),
 *                --out PATH (default bench/results/latest.json; latest-quick.json with --quick)
 *
 * Each (tokenizer, engine) is measured in a fresh child process (bench/coldLoad.ts): cold load, peak RSS and
 * throughput belong to that engine alone. The parent compares every engine's ids with the reference's, and
 * prints each target (bench/targets.ts) beside its figure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLED_TOKENIZERS, type CatalogEntry } from '../src/core/tokenizers/catalog';
import { bundledFilePath, loadTokenizer } from '../src/core/tokenizers/loader';
import { buildCorpus, REPO_ROOT, type Corpus } from './corpus';
import { ENGINE_NAMES, engineVersion, isEngineName, type EngineName } from './engines';
import { writeSpecialFreeTokenizerJson } from './hfJson';
import {
  FULL_INCREMENTAL_OPTIONS,
  QUICK_INCREMENTAL_OPTIONS,
  findIncrementalModule,
  runIncremental,
  type IncrementalOptions,
  type IncrementalResult,
} from './incremental';
import type { Measurement, MeasurementFailure, MeasurementResult } from './measure';
import { pairsFor, referenceEngine, tokenizerConfigPathFor, type BenchPair, type HfPeerFiles } from './plan';
import { formatCorpusParts, formatMarkdown, formatText } from './report';
import { BYTES_PER_MB, firstDifference, median } from './stats';
import { checkTargets } from './targets';
import { DEFAULT_WORKER_TOKENIZERS, measureWorkerMemory, type WorkerMemoryResult } from './workerMemory';
import { RESULTS_SCHEMA_VERSION, type BenchResults, type MachineInfo, type OkRow, type ResultRow, type RowBase } from './results';

interface RunArgs {
  readonly quick: boolean;
  readonly json: boolean;
  readonly markdown: boolean;
  readonly only: readonly string[] | null;
  readonly timedRuns: number;
  readonly warmupRuns: number;
  readonly incrementalTokenizer: string | null;
  readonly repeat: number;
  readonly workerTokenizers: readonly string[];
  /** Peers to run (ours and each tokenizer's reference always run); null: every peer. */
  readonly engines: readonly EngineName[] | null;
  readonly outPath: string;
}

const QUICK_CORPUS_SCALE = 0.1;
const CHILD_TIMEOUT_MS = 480_000;
const COLD_LOAD_SCRIPT = join(__dirname, 'coldLoad.ts');

function parseRunArgs(argv: readonly string[]): RunArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      only: { type: 'string' },
      runs: { type: 'string' },
      incremental: { type: 'string' },
      repeat: { type: 'string' },
      'worker-tokenizers': { type: 'string' },
      engines: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const only = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : null;
  const unknown = (only ?? []).filter((id) => !BUNDLED_TOKENIZERS.some((e) => e.id === id));
  if (unknown.length) throw new Error(`--only: unknown tokenizer(s) ${unknown.join(', ')}; bundled: ${BUNDLED_TOKENIZERS.map((e) => e.id).join(', ')}`);
  const timedRuns = values.runs ? Number(values.runs) : quick ? 3 : 5;
  if (!Number.isInteger(timedRuns) || timedRuns < 1) throw new Error(`--runs must be a positive integer`);
  const selected = only ?? BUNDLED_TOKENIZERS.map((e) => e.id);
  const incrementalTokenizer = values.incremental ?? (selected.includes('o200k_base') ? 'o200k_base' : selected[0] ?? null);
  const outPath = values.out ?? join(__dirname, 'results', quick ? 'latest-quick.json' : 'latest.json');
  const repeat = values.repeat ? Number(values.repeat) : 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a positive integer');
  const workerTokenizers = values['worker-tokenizers'] ? values['worker-tokenizers'].split(',').map((x) => x.trim()).filter(Boolean) : DEFAULT_WORKER_TOKENIZERS;
  const unknownWorker = workerTokenizers.filter((id) => !BUNDLED_TOKENIZERS.some((e) => e.id === id));
  if (unknownWorker.length) throw new Error(`--worker-tokenizers: unknown tokenizer(s) ${unknownWorker.join(', ')}`);
  const engineList = values.engines ? values.engines.split(',').map((x) => x.trim()).filter(Boolean) : null;
  const unknownEngines = (engineList ?? []).filter((e) => !isEngineName(e));
  if (unknownEngines.length) throw new Error(`--engines: unknown engine(s) ${unknownEngines.join(', ')}; known: ${ENGINE_NAMES.join(', ')}`);
  const engines = engineList ? engineList.filter(isEngineName) : null;
  return { quick, json: values.json ?? false, markdown: values.markdown ?? false, only, timedRuns, warmupRuns: 1, incrementalTokenizer, repeat, workerTokenizers, engines, outPath };
}

function log(message: string): void {
  process.stderr.write(message + '\n');
}

function machineInfo(loadAverageAtStart: number): MachineInfo {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    nodeVersion: process.version,
    platform: platform(),
    arch: arch(),
    osRelease: release(),
    totalMemoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: { atStart: loadAverageAtStart, atEnd: loadavg()[0] },
  };
}

function gitInfo(): BenchResults['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, encoding: 'utf8' });
    return { commit, srcDirty: status.trim().length > 0 };
  } catch {
    return { commit: null, srcDirty: null };
  }
}

/** Writes the special-free tokenizer.json copies the Hugging Face peers load, one per selected entry. */
function prepareHfFiles(entries: readonly CatalogEntry[], workDir: string): Map<string, HfPeerFiles> {
  const files = new Map<string, HfPeerFiles>();
  for (const entry of entries.filter((e) => e.source.format === 'hf')) {
    const original = bundledFilePath(entry);
    const tokenizerJsonPath = join(workDir, `${entry.id}.tokenizer.json`);
    writeSpecialFreeTokenizerJson(original, tokenizerJsonPath);
    files.set(entry.id, { tokenizerJsonPath, configPath: tokenizerConfigPathFor(original) });
  }
  return files;
}

function idsPath(workDir: string, pair: BenchPair): string {
  return join(workDir, `${pair.tokenizerId}.${pair.spec.engine}.ids`);
}

function childArgs(pair: BenchPair, args: RunArgs, workDir: string): string[] {
  const { spec } = pair;
  const list = ['--import', 'tsx', COLD_LOAD_SCRIPT, pair.tokenizerId, '--engine', spec.engine, '--target', spec.target];
  if (spec.configPath) list.push('--config', spec.configPath);
  list.push('--scale', String(args.quick ? QUICK_CORPUS_SCALE : 1), '--warmup', String(args.warmupRuns), '--runs', String(args.timedRuns));
  list.push('--ids-out', idsPath(workDir, pair));
  return list;
}

/** Runs one pair in a fresh `node --import tsx bench/coldLoad.ts` process and parses its JSON. */
function runChild(pair: BenchPair, args: RunArgs, workDir: string): MeasurementResult {
  const child = spawnSync(process.execPath, childArgs(pair, args, workDir), { cwd: REPO_ROOT, encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, maxBuffer: 16 * 2 ** 20 });
  const failure = (error: string): MeasurementResult => ({ ok: false, tokenizerId: pair.tokenizerId, engine: pair.spec.engine, error });
  if (child.error) return failure(child.error.message);
  const lastLine = child.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(lastLine) as MeasurementResult;
  } catch {
    return failure(`exit ${child.status}: ${(child.stderr || child.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  }
}

/** The display target: peers on tokenizer.json entries load a temporary special-free copy of the packaged file. */
function displayTarget(pair: BenchPair, entry: CatalogEntry): string {
  if (pair.spec.engine.startsWith('hf-tokenizers')) return `${entry.source.package}/${entry.source.file} (specials as text)`;
  return pair.spec.target;
}

function rowBase(pair: BenchPair, entry: CatalogEntry): RowBase {
  return {
    tokenizerId: pair.tokenizerId,
    engine: pair.spec.engine,
    engineVersion: engineVersion(pair.spec.engine),
    target: displayTarget(pair, entry),
    isReference: pair.isReference,
    referenceEngine: referenceEngine(entry),
  };
}

/**
 * One row from a pair's measurements over the rounds: medians across the rounds that succeeded (a round that
 * failed, say a peer past the time limit, counts as NaN in roundsMbPerSecond), memory at its highest.
 */
function toRow(pair: BenchPair, entry: CatalogEntry, rounds: readonly MeasurementResult[]): ResultRow {
  const base = rowBase(pair, entry);
  const ms = rounds.filter((m): m is Measurement => m.ok);
  const failed = rounds.find((m): m is MeasurementFailure => !m.ok);
  if (ms.length === 0) return { ...base, status: 'error', error: failed?.error ?? 'no measurement' };
  const allRuns = ms.flatMap((m) => m.encodeMsRuns);
  return {
    ...base,
    status: 'ok',
    ...(failed ? { roundErrors: rounds.filter((m): m is MeasurementFailure => !m.ok).map((m) => m.error) } : {}),
    mbPerSecond: median(ms.map((m) => m.mbPerSecond)),
    roundsMbPerSecond: rounds.map((m) => (m.ok ? m.mbPerSecond : Number.NaN)),
    ratioToFastestPeer: null,
    bestMbPerSecond: ms[0].corpusBytes / BYTES_PER_MB / (Math.min(...allRuns) / 1000),
    encodeMsMedian: median(ms.map((m) => m.encodeMsMedian)),
    encodeMsRuns: allRuns,
    firstEncodeMs: median(ms.map((m) => m.warmupEncodeMs[0] ?? Number.NaN)),
    coldLoadMs: median(ms.map((m) => m.coldLoadMs)),
    importMs: median(ms.map((m) => m.importMs)),
    constructMs: median(ms.map((m) => m.constructMs)),
    maxRssMb: Math.max(...ms.map((m) => m.maxRssMb)),
    baselineMaxRssMb: median(ms.map((m) => m.baselineMaxRssMb)),
    tokenCount: ms[0].tokenCount,
    idsMatchReference: null,
    firstMismatchIndex: null,
  };
}

function readIds(path: string): Uint32Array {
  const bytes = readFileSync(path);
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** Fills idsMatchReference / firstMismatchIndex of one tokenizer's rows from the ids files. */
function compareWithReference(rows: readonly ResultRow[], pairs: readonly BenchPair[], workDir: string): ResultRow[] {
  const refIndex = pairs.findIndex((p) => p.isReference);
  const refRow = rows[refIndex];
  if (refIndex < 0 || refRow?.status !== 'ok') return [...rows];
  const refIds = readIds(idsPath(workDir, pairs[refIndex]));
  return rows.map((row, i): ResultRow => {
    if (row.status !== 'ok' || row.isReference) return row;
    const mismatch = firstDifference(readIds(idsPath(workDir, pairs[i])), refIds);
    return { ...row, idsMatchReference: mismatch < 0, firstMismatchIndex: mismatch < 0 ? null : mismatch };
  });
}

/** mbPerSecond relative to the fastest peer (every engine but Token Inspector's) on the same tokenizer. */
function withRatios(rows: readonly ResultRow[]): ResultRow[] {
  const peerSpeeds = rows.filter((r): r is OkRow => r.status === 'ok' && r.engine !== 'token-inspector').map((r) => r.mbPerSecond);
  const fastestPeer = peerSpeeds.length ? Math.max(...peerSpeeds) : null;
  return rows.map((r) => (r.status === 'ok' && fastestPeer ? { ...r, ratioToFastestPeer: r.mbPerSecond / fastestPeer } : r));
}

function progressLine(index: number, total: number, pair: BenchPair, m: MeasurementResult): string {
  const head = `[${String(index).padStart(2)}/${total}] ${pair.tokenizerId} x ${pair.spec.engine}`;
  if (!m.ok) return `${head}: ERROR ${m.error}`;
  return `${head}: ${m.mbPerSecond.toFixed(2)} MB/s, cold load ${m.coldLoadMs.toFixed(0)} ms, max RSS ${m.maxRssMb.toFixed(0)} MiB`;
}

function runAllPairs(entries: readonly CatalogEntry[], args: RunArgs, workDir: string): ResultRow[] {
  const hfFiles = prepareHfFiles(entries, workDir);
  const wanted = (p: BenchPair): boolean => args.engines === null || p.spec.engine === 'token-inspector' || p.isReference || args.engines.includes(p.spec.engine);
  const plans = entries.map((entry) => ({ entry, pairs: pairsFor(entry, (e) => hfFiles.get(e.id) ?? { tokenizerJsonPath: bundledFilePath(e) }).filter(wanted) }));
  const total = plans.reduce((n, p) => n + p.pairs.length, 0);
  const rows: ResultRow[] = [];
  let done = 0;
  for (const { entry, pairs } of plans) {
    // Rounds interleave the engines of one tokenizer (ours, peer, peer, ours, peer, peer, ...), so that a
    // round's ratios are taken under the same load.
    const rounds: MeasurementResult[][] = pairs.map(() => []);
    for (let round = 0; round < args.repeat; round++) {
      pairs.forEach((pair, i) => {
        const m = runChild(pair, args, workDir);
        rounds[i].push(m);
        log(progressLine(++done, total * args.repeat, pair, m));
      });
    }
    const entryRows = pairs.map((pair, i) => toRow(pair, entry, rounds[i]));
    rows.push(...withRatios(compareWithReference(entryRows, pairs, workDir)));
  }
  return rows;
}

async function runIncrementalSection(tokenizerId: string | null, corpus: Corpus, options: IncrementalOptions): Promise<IncrementalResult | null> {
  if (tokenizerId === null) return null;
  try {
    const lookup = findIncrementalModule();
    if (!lookup.available) return { status: 'not available', tokenizerId, reason: lookup.reason };
    const { tokenizer } = await loadTokenizer(tokenizerId);
    log(`incremental: ${options.singleCharEdits} single-char edits + ${options.pasteEdits} pastes on ${tokenizerId}...`);
    return runIncremental(lookup.IncrementalDocument, lookup.implementation, tokenizerId, tokenizer, corpus.text, options);
  } catch (err) {
    return { status: 'error', tokenizerId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}

function runWorkerMemorySection(tokenizers: readonly string[], corpus: Corpus, quick: boolean): WorkerMemoryResult {
  log(`worker memory: dist/tokenWorker.js with ${tokenizers.join(', ')} on the corpus...`);
  return measureWorkerMemory(corpus.text, tokenizers, quick ? 10 : 50);
}

function notes(args: RunArgs, incremental: IncrementalOptions): string[] {
  return [
    'MB/s = 10^6 UTF-8 bytes per second, median of the timed encodes of the whole corpus (warm: caches filled by the warm-up encode); memory in MiB.' +
      (args.repeat > 1 ? ` Each engine ran in ${args.repeat} interleaved rounds (a fresh process each): MB/s is the median over rounds, a target's ratio the median of the rounds' ratios, with their range.` : ''),
    "Token Inspector's engine runs encode(), which also computes byte and UTF-16 spans for every token; peers return ids only.",
    'Cold load = requiring the package + building the tokenizer, in a fresh process (Token Inspector: src/core transpiled by tsx on the fly). gpt-tokenizer decodes its ranks lazily, so part of its load shows in the 1st encode.',
    'Ids compared on the whole corpus with the reference: tiktoken (WASM) encode_ordinary for OpenAI encodings, the Rust tokenizers binding for tokenizer.json files. Special-token text is ordinary text in every engine (HF peers load a copy of tokenizer.json without special added tokens).',
    ...(args.engines ? [`Peers run: ${args.engines.join(', ')} (--engines), besides each tokenizer's reference.`] : []),
    `Incremental check policy: ${args.quick ? 'quick run, ' : ''}${incremental.singleCharEdits} single-char edits + ${incremental.pasteEdits} pastes; full re-encode compared after each of the first ${incremental.checkAllFirst} edits, then every ${incremental.checkEvery}th edit and the last.`,
  ];
}

function writeResults(results: BenchResults, outPath: string): void {
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, JSON.stringify(results, null, 2) + '\n');
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const loadAverageAtStart = loadavg()[0];
  const args = parseRunArgs(process.argv.slice(2));
  const corpus = buildCorpus({ scale: args.quick ? QUICK_CORPUS_SCALE : 1 });
  const corpusBytes = Buffer.byteLength(corpus.text, 'utf8');
  log(`corpus: ${corpusBytes} bytes, sha256 ${corpus.sha256}`);
  const entries = BUNDLED_TOKENIZERS.filter((e) => args.only === null || args.only.includes(e.id));
  const incrementalOptions = args.quick ? QUICK_INCREMENTAL_OPTIONS : FULL_INCREMENTAL_OPTIONS;
  const workDir = mkdtempSync(join(tmpdir(), 'token-inspector-bench-'));
  let rows: ResultRow[];
  try {
    rows = runAllPairs(entries, args, workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const incremental = await runIncrementalSection(args.incrementalTokenizer, corpus, incrementalOptions);
  const workerMemory = runWorkerMemorySection(args.workerTokenizers, corpus, args.quick);
  const partial = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    generatedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - startedAt),
    machine: machineInfo(loadAverageAtStart),
    git: gitInfo(),
    settings: { quick: args.quick, warmupRuns: args.warmupRuns, timedRuns: args.timedRuns, repeat: args.repeat, only: args.only, notes: notes(args, incrementalOptions) },
    corpus: { sha256: corpus.sha256, bytes: corpusBytes, utf16Length: corpus.text.length, parts: corpus.parts },
    rows,
    incremental,
    workerMemory,
  };
  const results: BenchResults = { ...partial, targets: checkTargets(partial) };
  writeResults(results, args.outPath);
  if (args.json) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  process.stdout.write((args.markdown ? formatMarkdown(results) : `${formatText(results)}\nCorpus parts:\n${formatCorpusParts(results)}`) + '\n');
  log(`results written to ${relative(process.cwd(), args.outPath)} (${(results.durationMs / 1000).toFixed(0)} s)`);
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
