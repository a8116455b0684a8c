/**
 * Counting a large folder with the pool of count workers (src/worker/countPool.ts) against one worker and
 * against counting in one thread, on a generated tree of mixed text files (the bench corpus cut into files of
 * 2 KB to 2 MB, in nested folders), under o200k_base. Prints, per way, the wall time and MB/s (median of the
 * runs, the ways interleaved), the pool's speed-up over one worker beside its target (≥ 1.7× on 2 cores), the
 * process's peak resident memory (threads included) and whether every way gave the same totals, file by file.
 *
 * The workers run dist/countWorker.js when it is built (npm run build), as the CLI and the extension do.
 *
 *   npm run bench:count [-- --mb 100 --runs 3 --workers N]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { countFolder, type FolderTotals } from '../src/core/analysis/folderTotals';
import { nodeFolderFs } from '../src/core/files/folderFs';
import { loadTokenizer } from '../src/core/tokenizers/loader';
import { countPool } from '../src/worker/countPool';
import { buildCorpus } from './corpus';
import { median } from './stats';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

const TARGET_SPEEDUP_2_CORES = 1.7;

/** Writes ≥ `mb` MB of files cut from the corpus; returns the folder. */
function makeTree(mb: number): { dir: string; files: number; bytes: number } {
  const dir = mkdtempSync(join(tmpdir(), 'ti-bench-count-'));
  const text = buildCorpus().text;
  let bytes = 0;
  let files = 0;
  let at = 0;
  let seed = 1;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  while (bytes < mb * 1_000_000) {
    // File sizes spread over three orders of magnitude, as in a real repository.
    const units = Math.floor(2_000 * Math.pow(1000, next()));
    if (at + units > text.length) at = 0;
    const piece = text.slice(at, at + units).toWellFormed();
    at += units;
    const sub = join(dir, `p${files % 13}`, `q${files % 5}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${files}.txt`), piece);
    bytes += Buffer.byteLength(piece);
    files++;
  }
  return { dir, files, bytes };
}

async function main(): Promise<void> {
  const mb = arg('mb', 100);
  const runs = arg('runs', 3);
  const workers = arg('workers', availableParallelism());
  const tree = makeTree(mb);
  const refs = [{ id: 'o200k_base' }];
  // The bundled worker when built (what the CLI and the extension run: vocabularies from dist/tokenizers), else the source.
  const bundled = join(__dirname, '..', 'dist', 'countWorker.js');
  const script = existsSync(bundled) ? bundled : undefined;
  const tokenizers = [{ id: 'o200k_base', tokenizer: (await loadTokenizer('o200k_base')).tokenizer }];
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const ways: { name: string; run: () => Promise<FolderTotals> }[] = [
    { name: 'one thread (no workers)', run: () => countFolder(nodeFolderFs(tree.dir), { tokenizers }) },
    ...[1, workers].map((n) => ({
      name: `pool of ${n} worker${n === 1 ? '' : 's'}`,
      run: async () => {
        const pool = countPool(n, undefined, script);
        try {
          return await countFolder(nodeFolderFs(tree.dir), { tokenizers, counter: pool.counterFor(tree.dir, refs), concurrency: pool.size });
        } finally {
          await pool.close();
        }
      },
    })),
  ];
  const ms = ways.map(() => [] as number[]);
  const results: (FolderTotals | undefined)[] = ways.map(() => undefined);
  for (let r = 0; r < runs; r++) {
    for (let w = 0; w < ways.length; w++) {
      const t0 = performance.now();
      results[w] = await ways[w].run();
      ms[w].push(performance.now() - t0);
    }
  }
  clearInterval(sampler);
  rmSync(tree.dir, { recursive: true, force: true });
  const identical = results.every((x) => isDeepStrictEqual(x, results[0]));
  const rows = ways.map((w, i) => ({ way: w.name, medianMs: Math.round(median(ms[i])), mbPerSecond: +(tree.bytes / 1e6 / (median(ms[i]) / 1000)).toFixed(2), runsMs: ms[i].map(Math.round) }));
  const speedup = median(ms[1]) / median(ms[2]);
  console.log(
    JSON.stringify(
      {
        machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
        tree: { files: tree.files, megabytes: +(tree.bytes / 1e6).toFixed(1) },
        tokenizer: 'o200k_base',
        workerScript: script ? 'dist/countWorker.js (bundled)' : 'src/worker/countWorker.ts (tsx)',
        runs,
        ways: rows,
        poolSpeedup: { workers, overOneWorker: +speedup.toFixed(2), target: workers >= 2 ? TARGET_SPEEDUP_2_CORES : null, met: workers >= 2 ? speedup >= TARGET_SPEEDUP_2_CORES : null },
        totalTokens: results[0]?.totals.tokens,
        identicalTotalsFileByFile: identical,
        peakRssMiB: Math.round(peakRss / 2 ** 20),
      },
      null,
      2,
    ),
  );
  if (!identical) process.exitCode = 1;
}

void main();
