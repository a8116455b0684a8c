/**
 * `npm run bench:next-byte`: the latency of the exact next-byte distribution after a cursor move, on the
 * benchmark corpus (~1 MB) with the workspace n-gram, for every bundled tokenizer, and for the fixture ONNX
 * model (test/fixtures/tiny-gpt2, its own GPT-2 tokenizer) on the same document.
 *
 * Per tokenizer: the document is encoded once (the editor keeps its token stream) and an order-4 n-gram is
 * trained on it (the workspace n-gram as the editor trains it, the document included); then the cursor is put
 * at pseudo-random offsets and `nextByteDistribution(model, tokenizer, text, offset, { documentStream })` is
 * timed, wall clock, from the call to the result (top characters included). The first call per tokenizer
 * builds the tokenizer's analysis context and is reported apart ("first"). Tokenizers are interleaved round by
 * round so that a shared machine's load falls on all of them alike.
 *
 * Options: --positions N (per tokenizer, default 60), --tokenizers a,b (default: all bundled), --onnx N
 * (positions for the ONNX fixture, default 12; 0 to skip), --seed S, --slowest N (print each subject's N
 * slowest positions with the text before the cursor), --json.
 */
import { join } from 'node:path';
import { loadavg } from 'node:os';
import type { LanguageModel } from '../src/core/lm/model';
import { trainNgram } from '../src/core/lm/ngram';
import { nextByteDistribution } from '../src/core/lm/nextByte';
import { loadOnnxModel } from '../src/core/lm/onnx';
import { BUNDLED_TOKENIZERS } from '../src/core/tokenizers/catalog';
import { loadTokenizer } from '../src/core/tokenizers/loader';
import type { TokenStream, Tokenizer } from '../src/core/tokenizers/types';
import { buildCorpus, REPO_ROOT } from './corpus';
import { median, mulberry32, quantile, randomInt } from './stats';

interface Subject {
  readonly label: string;
  readonly tokenizer: Tokenizer;
  readonly model: LanguageModel;
  readonly stream: TokenStream;
  readonly positions: number;
  readonly samples: number[];
  /** The cursor offset of each sample. */
  readonly offsets: number[];
  readonly cpuSamples: number[];
  readonly inexact: Map<string, number>;
  firstMs: number;
  exact: number;
  calls: number;
}

function option(name: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : undefined;
}

/** Wall-clock ms of one call; its CPU ms (this process, all threads) go to cpuSamples when `record`. */
async function timed(s: Subject, text: string, offset: number, record: boolean): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await nextByteDistribution(s.model, s.tokenizer, text, offset, { documentStream: s.stream });
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (record) s.cpuSamples.push((c.user + c.system) / 1000);
  s.calls++;
  if (r.exact) s.exact++;
  else s.inexact.set(r.inexactReason ?? '?', (s.inexact.get(r.inexactReason ?? '?') ?? 0) + 1);
  return ms;
}

async function main(): Promise<void> {
  const positions = Number(option('positions') ?? 60);
  const onnxPositions = Number(option('onnx') ?? 12);
  const seed = Number(option('seed') ?? 1);
  const ids = option('tokenizers')?.split(',') ?? BUNDLED_TOKENIZERS.map((e) => e.id);
  const corpus = buildCorpus();
  const text = corpus.text;
  const subjects: Subject[] = [];
  for (const id of ids) {
    const { tokenizer } = await loadTokenizer(id);
    const stream = tokenizer.encode(text);
    const model = trainNgram(tokenizer.vocabSize, [{ key: 'doc', ids: stream.ids }], { order: 4 }).languageModel;
    subjects.push({ label: id, tokenizer, model, stream, positions, samples: [], offsets: [], cpuSamples: [], inexact: new Map(), firstMs: NaN, exact: 0, calls: 0 });
  }
  if (onnxPositions > 0) {
    const model = await loadOnnxModel(join(REPO_ROOT, 'test', 'fixtures', 'tiny-gpt2'), { allowDownloads: false });
    const tokenizer = model.tokenizer.tokenizer;
    subjects.push({ label: 'tiny-gpt2 (ONNX)', tokenizer, model, stream: tokenizer.encode(text), positions: onnxPositions, samples: [], offsets: [], cpuSamples: [], inexact: new Map(), firstMs: NaN, exact: 0, calls: 0 });
  }
  const rng = mulberry32(seed);
  for (const s of subjects) s.firstMs = await timed(s, text, randomInt(rng, 0, text.length), false);
  const rounds = Math.max(...subjects.map((s) => s.positions));
  for (let r = 0; r < rounds; r++) {
    const offset = randomInt(rng, 0, text.length);
    for (const s of subjects) {
      if (s.samples.length >= s.positions) continue;
      s.samples.push(await timed(s, text, offset, true));
      s.offsets.push(offset);
    }
  }
  const rows = subjects.map((s) => ({
    subject: s.label,
    positions: s.samples.length,
    medianMs: median(s.samples),
    p95Ms: quantile(s.samples, 0.95),
    maxMs: Math.max(...s.samples),
    cpuMedianMs: median(s.cpuSamples),
    cpuP95Ms: quantile(s.cpuSamples, 0.95),
    firstMs: s.firstMs,
    exactShare: s.exact / s.calls,
    inexact: Object.fromEntries(s.inexact),
  }));
  const header = { corpusBytes: Buffer.byteLength(text), sha256: corpus.sha256.slice(0, 12), node: process.version, loadAverage: loadavg().map((v) => v.toFixed(2)).join(' ') };
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ ...header, rows }, null, 2) + '\n');
    return;
  }
  console.log(`next byte after a cursor move: ${header.corpusBytes} bytes (sha256 ${header.sha256}…), order-4 n-gram, ${node()}, load average ${header.loadAverage}`);
  console.log('subject'.padEnd(20) + 'positions'.padStart(10) + 'median ms'.padStart(11) + 'p95 ms'.padStart(9) + 'max ms'.padStart(9) + 'first ms'.padStart(10) + 'cpu med'.padStart(9) + 'cpu p95'.padStart(9) + 'exact'.padStart(7));
  const f = (v: number): string => v.toFixed(1);
  for (const r of rows) console.log(r.subject.padEnd(20) + String(r.positions).padStart(10) + f(r.medianMs).padStart(11) + f(r.p95Ms).padStart(9) + f(r.maxMs).padStart(9) + f(r.firstMs).padStart(10) + f(r.cpuMedianMs).padStart(9) + f(r.cpuP95Ms).padStart(9) + `${Math.round(r.exactShare * 100)}%`.padStart(7));
  for (const r of rows) for (const [why, n] of Object.entries(r.inexact)) console.log(`  ${r.subject}: ${n} not exact: ${why}`);
  const slowest = Number(option('slowest') ?? 0);
  for (const s of slowest > 0 ? subjects : []) {
    const order = s.samples.map((_, k) => k).sort((a, b) => s.samples[b] - s.samples[a]);
    for (const k of order.slice(0, slowest)) console.log(`  ${s.label}: ${f(s.samples[k])} ms at offset ${s.offsets[k]} after ${JSON.stringify(text.slice(Math.max(0, s.offsets[k] - 30), s.offsets[k]))}`);
  }
}

function node(): string {
  return `Node ${process.version}`;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
