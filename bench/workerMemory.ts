/**
 * The tokenization worker's memory: the built worker (dist/tokenWorker.js, from `npm run build`) in a fresh
 * Node process, driven as the extension host drives it (bench/workerHost.ts, bundled with esbuild and run
 * with plain node so that no TypeScript loader sits in the measured process): one ~1 MB document analysed
 * under three tokenizers in turn, counted under each, then edited 50 times at typing pace. The figure is the whole
 * process's resident memory, Node's own baseline (~45 MB) included.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { WorkerMemoryReport } from './workerHost';

export const DEFAULT_WORKER_TOKENIZERS: readonly string[] = ['o200k_base', 'llama3', 'gemma3'];
/** The target: resident memory of the worker's process, in MB (10^6 bytes). */
export const WORKER_MEMORY_TARGET_MB = 300;

export type WorkerMemoryResult =
  | (WorkerMemoryReport & { readonly worker: string })
  | { readonly ok: false; readonly error: string; readonly tokenizers: readonly string[] };

const REPO_ROOT = join(__dirname, '..');
const WORKER_BUNDLE = join(REPO_ROOT, 'dist', 'tokenWorker.js');
const TIMEOUT_MS = 300_000;

export function measureWorkerMemory(text: string, tokenizers: readonly string[], edits = 50): WorkerMemoryResult {
  const fail = (error: string): WorkerMemoryResult => ({ ok: false, error, tokenizers });
  if (!existsSync(WORKER_BUNDLE)) return fail('dist/tokenWorker.js is missing: run `npm run build` first');
  const dir = mkdtempSync(join(tmpdir(), 'token-inspector-worker-memory-'));
  try {
    const host = join(dir, 'workerHost.js');
    buildSync({ entryPoints: [join(__dirname, 'workerHost.ts')], outfile: host, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent' });
    const textPath = join(dir, 'document.txt');
    writeFileSync(textPath, text);
    const child = spawnSync(process.execPath, [host, '--worker', WORKER_BUNDLE, '--text', textPath, '--tokenizers', tokenizers.join(','), '--edits', String(edits)], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: TIMEOUT_MS,
      maxBuffer: 16 * 2 ** 20,
    });
    if (child.error) return fail(child.error.message);
    const last = child.stdout.trim().split('\n').pop() ?? '';
    try {
      const parsed = JSON.parse(last) as WorkerMemoryReport | { ok: false; error: string };
      return parsed.ok ? { ...parsed, worker: 'dist/tokenWorker.js' } : fail(parsed.error);
    } catch {
      return fail(`exit ${child.status}: ${(child.stderr || child.stdout).trim().split('\n').slice(-3).join(' | ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
