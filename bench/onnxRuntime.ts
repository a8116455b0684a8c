/**
 * `npm run bench:onnx`: the native ONNX runtime against the WASM fallback (src/core/lm/onnx/backend.ts), through
 * the product's own path (transformers.js, src/core/lm/onnx/runtime.ts), on one model folder.
 *
 * Workload, as in docs/RUNTIME.md: 512 seeded random token ids fed in chunks of 128 with the KV cache (how the
 * model worker scores a document), then one token after the 512-token cache (the next-byte view's request).
 * Each run is a fresh process (a runtime is chosen once per process); the runtimes alternate run by run so
 * that a change in the machine's load hits both; the table gives medians.
 *
 *   npm run bench:onnx -- [--model DIR] [--runs 5] [--threads N] [--json]
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { onnxBackend } from '../src/core/lm/onnx/backend';
import { loadRuntimeModel, type PastState } from '../src/core/lm/onnx/runtime';
import { defaultThreads } from '../src/core/lm/onnx/threads';
import { maxRssMb } from './measure';
import { median, mulberry32, randomInt } from './stats';

const RUNTIMES = ['native', 'wasm'] as const;
type Runtime = (typeof RUNTIMES)[number];
const TOKENS = 512;
const CHUNK = 128;

interface RunResult {
  readonly runtime: Runtime;
  /** Choosing the runtime and importing transformers.js (once per process). */
  readonly importMs: number;
  /** Loading the model: its session (graph optimisation, weights) and tokenizer config. */
  readonly loadMs: number;
  /** The first 512-token pass after loading (what the first Show Probabilities waits for). */
  readonly firstForwardMs: number;
  /** A second pass over the same ids with a fresh cache. */
  readonly forwardMs: number;
  readonly nextTokenMs: number;
  readonly maxRssMb: number;
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

/** One run in this process: load, two 512-token passes, one cached step. */
async function child(folder: string, threads: number): Promise<RunResult> {
  const runtime = process.env.TOKEN_INSPECTOR_ONNX_RUNTIME as Runtime;
  const ti = performance.now();
  // In this order, as runtime.ts does it: transformers.js takes the WASM runtime only if it is chosen first.
  onnxBackend();
  await import('@huggingface/transformers');
  const importMs = performance.now() - ti;
  const t0 = performance.now();
  const model = await loadRuntimeModel(folder, { dtype: 'fp32', threads });
  const loadMs = performance.now() - t0;
  if (model.runtime !== runtime) throw new Error(`asked for ${runtime}, got ${model.runtime}`);
  const rng = mulberry32(42);
  const ids = Array.from({ length: TOKENS + 1 }, () => randomInt(rng, 0, 50000));
  const pass = async (): Promise<{ ms: number; past: PastState | undefined }> => {
    let past: PastState | undefined;
    const t = performance.now();
    for (let start = 0; start < TOKENS; start += CHUNK) past = (await model.forward(ids.slice(start, start + CHUNK), start, past)).past;
    return { ms: performance.now() - t, past };
  };
  const first = await pass();
  const second = await pass();
  const t1 = performance.now();
  await model.forward([ids[TOKENS]], TOKENS, second.past);
  const nextTokenMs = performance.now() - t1;
  await model.dispose();
  return { runtime, importMs, loadMs, firstForwardMs: first.ms, forwardMs: second.ms, nextTokenMs, maxRssMb: maxRssMb() };
}

function runOnce(runtime: Runtime, folder: string, threads: number): RunResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', '--model', folder, '--threads', String(threads)], {
    env: { ...process.env, TOKEN_INSPECTOR_ONNX_RUNTIME: runtime },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`${runtime} run failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line) as RunResult;
}

async function main(): Promise<void> {
  const folder = resolve(option('model', join(__dirname, '..', 'test', 'fixtures', 'tiny-gpt2')));
  const threads = Number(option('threads', String(defaultThreads())));
  if (process.argv.includes('--child')) {
    console.log(JSON.stringify(await child(folder, threads)));
    return;
  }
  const runs = Number(option('runs', '5'));
  const loadAtStart = loadavg()[0];
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which runtime goes first, so neither always runs right after the other.
    for (const runtime of i % 2 === 0 ? RUNTIMES : [...RUNTIMES].reverse()) {
      const r = runOnce(runtime, folder, threads);
      results.push(r);
      console.error(`run ${i + 1}/${runs} ${runtime}: import ${r.importMs.toFixed(0)} ms, load ${r.loadMs.toFixed(0)} ms, 512 tokens ${r.forwardMs.toFixed(0)} ms (first ${r.firstForwardMs.toFixed(0)} ms), next ${r.nextTokenMs.toFixed(1)} ms, RSS ${r.maxRssMb.toFixed(0)} MiB`);
    }
  }
  const summary = RUNTIMES.map((runtime) => {
    const mine = results.filter((r) => r.runtime === runtime);
    const m = (k: keyof Omit<RunResult, 'runtime'>): number => median(mine.map((r) => r[k]));
    return { runtime, runs: mine.length, importMs: m('importMs'), loadMs: m('loadMs'), firstForwardMs: m('firstForwardMs'), forwardMs: m('forwardMs'), nextTokenMs: m('nextTokenMs'), maxRssMb: m('maxRssMb') };
  });
  const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}; load average ${loadAtStart.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`;
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ model: folder, threads, machine, runs: results, medians: summary }, null, 2));
    return;
  }
  console.log(`Model: ${folder}\nMachine: ${machine}\nThreads: ${threads}; ${runs} runs per runtime, alternating; medians\n`);
  console.log('| runtime | 512-token forward | first 512-token forward | next token (512 cached) | model load | runtime import | max RSS |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of summary) {
    console.log(`| ${s.runtime === 'native' ? 'native (onnxruntime-node)' : 'WASM (onnxruntime-web)'} | ${s.forwardMs.toFixed(0)} ms | ${s.firstForwardMs.toFixed(0)} ms | ${s.nextTokenMs.toFixed(1)} ms | ${s.loadMs.toFixed(0)} ms | ${s.importMs.toFixed(0)} ms | ${s.maxRssMb.toFixed(0)} MiB |`);
  }
  const [n, w] = summary;
  console.log(`\nnative ÷ WASM, 512-token forward: ${(n.forwardMs / w.forwardMs).toFixed(2)}; next token: ${(n.nextTokenMs / w.nextTokenMs).toFixed(2)}`);
}

main().catch((e: unknown) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
