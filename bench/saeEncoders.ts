/**
 * SAE encoders: the time of one encode under every encoder kind, on two shapes.
 *
 *   npm run bench:sae                               fixture + d=256 (7 timed rounds)
 *   npm run bench:sae -- --runs 15 --tokens 2048    more rounds, a longer document
 *   npm run bench:sae -- --baseline DIR             also time DIR's build (a checkout of another commit, e.g.
 *                                                   `git archive main | tar -x -C DIR`), case by case in turn
 *   other flags: --shape fixture|d256 (one shape only), --features F (d=256 shape; default 8192),
 *                --batch B (fixture encodes per timing; default 400), --kernel wasm|js|auto, --json (JSON only)
 *
 * - fixture: test/fixtures/sae/saelens-jumprelu (d_in 32, 128 features, 12 tokens) with the k and m of its
 *   expected.json cases. An encode takes microseconds, so each timing is a batch of encodes: this shape shows
 *   the fixed cost of an encode (planning, allocation, dispatch).
 * - d=256: a random SAE with d_in 256, F features (about 50 positive pre-activations per token, as a trained
 *   ReLU SAE's L0), n tokens, k = 32. This shape shows the per-entry work of each allocation beside the kernel.
 *
 * Cases are interleaved round by round (every case once per round, after one warm-up round; with --baseline,
 * each case under both builds in turn, the first one alternating) and each figure is the median over rounds.
 * `encode` is the encoding's own `encodeMs` (pre-activations, allocation, row sort); `total` adds the
 * reconstruction; `cpu` is the process's CPU time for the whole encode, steadier than wall time on a machine
 * that other work shares. `checksum` hashes the selected (token, feature, activation) entries, so two builds
 * can be seen to give the same result.
 */
import { readFileSync } from 'node:fs';
import { arch, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeHiddenStates, type EncodeOptions, type SaeEncoding } from '../src/core/sae/encode';
import { packEncoder, type KernelKind } from '../src/core/sae/kernel';
import { loadSae } from '../src/core/sae/loader';
import { readNpy } from '../src/core/sae/npy';
import { fileSource } from '../src/core/sae/bytes';
import type { SparseAutoencoder } from '../src/core/sae/types';
import { median, mulberry32 } from './stats';
import { REPO_ROOT } from './corpus';

interface BenchCase {
  readonly shape: 'fixture' | 'd256';
  readonly label: string;
  readonly sae: SparseAutoencoder;
  readonly hidden: Float32Array;
  readonly options: EncodeOptions;
  /** Encodes per timing. */
  readonly batch: number;
}

type Encode = typeof encodeHiddenStates;

interface Build {
  readonly name: string;
  readonly encode: Encode;
}

interface CaseResult {
  readonly build: string;
  readonly shape: string;
  readonly label: string;
  readonly tokens: number;
  readonly dIn: number;
  readonly dSae: number;
  readonly kernel: string;
  readonly selected: number;
  readonly checksum: string;
  /** Median over rounds of the time of one encode, in milliseconds. */
  readonly encodeMs: number;
  readonly totalMs: number;
  readonly cpuMs: number;
  readonly rounds: number;
}

function positiveInt(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
}

const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'sae', 'saelens-jumprelu');

function fixtureCases(kernel: KernelKind | 'auto', batch: number): BenchCase[] {
  const sae = loadSae(FIXTURE);
  const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as { input: string; cases: { encoder: EncodeOptions['encoder']; k: number | null; m: number | null }[] };
  const src = fileSource(join(FIXTURE, expected.input));
  let hidden: Float32Array;
  try {
    hidden = readNpy(src).data;
  } finally {
    src.close();
  }
  return expected.cases.map((c) => ({
    shape: 'fixture',
    label: `${c.encoder}${c.k !== null ? ` k=${c.k}` : ''}${c.m !== null && c.encoder === 'feature-choice' ? ` m=${c.m}` : ''}`,
    sae,
    hidden,
    options: { encoder: c.encoder, k: c.k ?? undefined, m: c.encoder === 'feature-choice' ? (c.m ?? undefined) : undefined, kernel },
    batch,
  }));
}

/** A random SAE of width 256 whose bias leaves about 50 of F pre-activations positive per token. */
function d256Cases(tokens: number, features: number, kernel: KernelKind | 'auto'): BenchCase[] {
  const dIn = 256;
  const rnd = mulberry32(256);
  const u = () => rnd() - 0.5;
  const wEnc = new Float32Array(dIn * features);
  for (let i = 0; i < wEnc.length; i++) wEnc[i] = u() * 0.1;
  const wDec = new Float32Array(features * dIn);
  for (let i = 0; i < wDec.length; i++) wDec[i] = u() * 0.05;
  const hidden = new Float32Array(tokens * dIn);
  for (let i = 0; i < hidden.length; i++) hidden[i] = u() * 4;
  // Pre-activation spread: sqrt(dIn · Var(x) · Var(w)) with Var(u·a) = a²/12.
  const spread = Math.sqrt(dIn * (16 / 12) * (0.01 / 12));
  const positiveShare = 50 / features;
  // The bias that leaves `positiveShare` of a normal(0, spread) above zero (a few bisection steps on erfc).
  let lo = 0;
  let hi = 10;
  for (let i = 0; i < 60; i++) {
    const z = (lo + hi) / 2;
    if (normalTail(z) > positiveShare) lo = z;
    else hi = z;
  }
  const bias = -lo * spread;
  const sae: SparseAutoencoder = {
    format: 'saelens',
    architecture: 'topk',
    dIn,
    dSae: features,
    encoder: packEncoder(wEnc, new Float32Array(features).fill(bias), dIn, features, 'in-sae'),
    wDec,
    bDec: new Float32Array(dIn),
    threshold: new Float32Array(features).fill(spread * 0.1),
    k: 32,
    applyBDecToInput: true,
    normalization: 'none',
    storedDtype: 'F32',
    path: 'bench-d256',
  };
  const kinds = ['relu', 'jumprelu', 'topk', 'feature-choice', 'mutual-choice'] as const;
  return kinds.map((encoder) => ({ shape: 'd256', label: `${encoder} k=32`, sae, hidden, options: { encoder, k: 32, kernel }, batch: 1 }));
}

/** P(Z > z) for a standard normal (Abramowitz–Stegun 7.1.26; enough to place a bias). */
function normalTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return erfc / 2;
}

/** FNV-1a over the selected entries' tokens, features and activation bits. */
function checksum(enc: SaeEncoding): string {
  let h = 0x811c9dc5;
  const mix = (v: number) => {
    h ^= v;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  const bits = new Uint32Array(enc.activation.buffer, enc.activation.byteOffset, enc.activation.length);
  for (let t = 0; t < enc.tokenCount; t++) {
    for (let e = enc.rowStart[t]; e < enc.rowStart[t + 1]; e++) {
      mix(t);
      mix(enc.featureIndex[e]);
      mix(bits[e]);
    }
  }
  return h.toString(16).padStart(8, '0');
}

interface Timing {
  readonly encodeMs: number;
  readonly totalMs: number;
  readonly cpuMs: number;
  readonly last: SaeEncoding;
}

/** One timing of a case: the mean over its batch of encodes. */
function timeCase(encode: Encode, c: BenchCase): Timing {
  let encodeMs = 0;
  let last: SaeEncoding | undefined;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < c.batch; i++) {
    last = encode(c.sae, c.hidden, c.options);
    encodeMs += last.encodeMs;
  }
  const totalMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { encodeMs: encodeMs / c.batch, totalMs: totalMs / c.batch, cpuMs: (used.user + used.system) / 1000 / c.batch, last: last as SaeEncoding };
}

/** The encoder of another checkout (its own modules: kernel, heaps and all). */
async function baselineBuild(dir: string): Promise<Build> {
  const mod = (await import(pathToFileURL(join(dir, 'src', 'core', 'sae', 'encode.ts')).href)) as { encodeHiddenStates?: Encode; default?: { encodeHiddenStates?: Encode } };
  const encode = mod.encodeHiddenStates ?? mod.default?.encodeHiddenStates;
  if (!encode) throw new Error(`${dir}/src/core/sae/encode.ts has no encodeHiddenStates`);
  return { name: 'baseline', encode };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      tokens: { type: 'string' },
      features: { type: 'string' },
      batch: { type: 'string' },
      kernel: { type: 'string', default: 'auto' },
      baseline: { type: 'string' },
      shape: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const runs = positiveInt(values.runs, 7, 'runs');
  const tokens = positiveInt(values.tokens, 1024, 'tokens');
  const features = positiveInt(values.features, 8192, 'features');
  const batch = positiveInt(values.batch, 400, 'batch');
  const kernel = values.kernel as KernelKind | 'auto';
  if (!['wasm', 'js', 'auto'].includes(kernel)) throw new Error(`--kernel must be wasm, js or auto, got ${kernel}`);
  const builds: Build[] = [...(values.baseline ? [await baselineBuild(values.baseline)] : []), { name: 'this', encode: encodeHiddenStates }];

  if (values.shape !== undefined && values.shape !== 'fixture' && values.shape !== 'd256') throw new Error(`--shape must be fixture or d256, got ${values.shape}`);
  const cases = [...(values.shape !== 'd256' ? fixtureCases(kernel, batch) : []), ...(values.shape !== 'fixture' ? d256Cases(tokens, features, kernel) : [])];
  const runsOf = builds.map(() => cases.map((): Timing[] => []));
  for (let round = -1; round < runs; round++) {
    cases.forEach((c, i) => {
      // The builds take turns going first, so that neither always runs on the caches the other left.
      const order = round % 2 === 0 ? builds.map((_, j) => j) : builds.map((_, j) => builds.length - 1 - j);
      for (const j of order) {
        const r = timeCase(builds[j].encode, c);
        if (round >= 0) runsOf[j][i].push(r); // round -1 warms up
      }
      if (!values.json && round >= 0) process.stderr.write('.');
    });
  }
  if (!values.json) process.stderr.write('\n');
  const results: CaseResult[] = [];
  cases.forEach((c, i) =>
    builds.forEach((b, j) => {
      const timings = runsOf[j][i];
      const last = timings[timings.length - 1].last;
      results.push({
        build: b.name,
        shape: c.shape,
        label: c.label,
        tokens: last.tokenCount,
        dIn: c.sae.dIn,
        dSae: c.sae.dSae,
        kernel: last.kernel,
        selected: last.featureIndex.length,
        checksum: checksum(last),
        encodeMs: median(timings.map((t) => t.encodeMs)),
        totalMs: median(timings.map((t) => t.totalMs)),
        cpuMs: median(timings.map((t) => t.cpuMs)),
        rounds: runs,
      });
    }),
  );
  const machine = { node: process.version, arch: arch(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', loadavg1: loadavg()[0] };
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ machine, results }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}, load ${machine.loadavg1.toFixed(2)}; median of ${runs} rounds\n`);
  const wide = builds.length > 1;
  process.stdout.write(`${wide ? 'build'.padEnd(10) : ''}${'shape'.padEnd(8)}${'case'.padEnd(28)}${'tokens×d×F'.padEnd(18)}${'kernel'.padEnd(7)}${'selected'.padStart(9)}${'encode ms'.padStart(12)}${'total ms'.padStart(12)}${'cpu ms'.padStart(12)}  checksum\n`);
  for (const r of results) {
    const fmt = (ms: number) => (ms < 1 ? ms.toFixed(4) : ms.toFixed(1)).padStart(12);
    process.stdout.write(
      `${wide ? r.build.padEnd(10) : ''}${r.shape.padEnd(8)}${r.label.padEnd(28)}${`${r.tokens}×${r.dIn}×${r.dSae}`.padEnd(18)}${r.kernel.padEnd(7)}${String(r.selected).padStart(9)}${fmt(r.encodeMs)}${fmt(r.totalMs)}${fmt(r.cpuMs)}  ${r.checksum}\n`,
    );
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
