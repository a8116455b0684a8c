/**
 * The folder-count pool (src/worker/countPool.ts, src/core/analysis/fileBatches.ts): a folder counted by a pool
 * of workers gives exactly what one thread gives (files, order, skipped entries, totals), whatever the number
 * of workers and batch sizes; the CLI's `count --jobs N` prints the same JSON for every N.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countInBatches, fileBatches, type FileOutcome, type ListedFile } from '../../src/core/analysis/fileBatches';
import { countFolder } from '../../src/core/analysis/folderTotals';
import { nodeFolderFs } from '../../src/core/files/folderFs';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import { countPool } from '../../src/worker/countPool';
import { hardStrings, mulberry32 } from '../harness/hardStrings';

const ROOT = join(__dirname, '..', '..');

/** A tree of mixed text (hard strings, code, CJK), a binary file, a file over the streaming limit, a dangling link. */
function makeTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ti-pool-'));
  const rng = mulberry32(5);
  // Without NUL characters: a NUL near a file's start makes it binary.
  const strings = [...hardStrings(9, 400)].filter((x) => !x.includes('\0'));
  for (let i = 0; i < 60; i++) {
    const sub = join(dir, `d${i % 7}`, `e${i % 3}`);
    mkdirSync(sub, { recursive: true });
    const parts: string[] = [];
    const n = 5 + Math.floor(rng() * 200);
    for (let k = 0; k < n; k++) parts.push(strings[Math.floor(rng() * strings.length)]);
    writeFileSync(join(sub, `f${i}.txt`), parts.join(rng() < 0.5 ? '\n' : ' '));
  }
  writeFileSync(join(dir, 'big.md'), '# 長い文書\n'.repeat(40_000) + 'function f(x) { return x + 1; }\n'.repeat(10_000));
  writeFileSync(join(dir, 'blob.bin'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]), Buffer.alloc(300, 1)]));
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.txt'));
  return dir;
}

test('batches: consecutive, each under the byte cap or one large file alone, every file once', () => {
  const files: ListedFile[] = Array.from({ length: 50 }, (_, i) => ({ path: `f${i}`, size: (i * 7919) % 3000 }));
  const batches = fileBatches(files, 5000, 4);
  assert.deepEqual(batches.flat(), files);
  for (const b of batches) {
    assert.ok(b.length >= 1 && b.length <= 4);
    if (b.length > 1) assert.ok(b.reduce((s, f) => s + f.size, 0) <= 5000);
  }
});

test('batches finishing out of order still give the outcomes in the files\' order', async () => {
  const files: ListedFile[] = Array.from({ length: 30 }, (_, i) => ({ path: `f${i}`, size: 1 }));
  const batches = fileBatches(files, 10, 3);
  const rng = mulberry32(3);
  const counter = async (batch: readonly ListedFile[]): Promise<FileOutcome[]> => {
    await new Promise((r) => setTimeout(r, Math.floor(rng() * 15)));
    return batch.map((f) => ({ counted: { path: f.path, bytes: 1, tokens: { t: Number(f.path.slice(1)) }, streamed: false, approximate: false } }));
  };
  const out = await countInBatches(batches, counter, 4);
  assert.deepEqual(
    out.map((o) => ('counted' in o ? o.counted.path : '')),
    files.map((f) => f.path),
  );
});

test('a pool of 1, 2 and 3 workers counts a folder exactly as one thread does', async () => {
  const dir = makeTree();
  const pools = [1, 2, 3].map((n) => countPool(n));
  try {
    const refs = [{ id: 'o200k_base' }, { id: 'llama3' }];
    const tokenizers = [];
    for (const r of refs) tokenizers.push({ id: r.id, tokenizer: (await loadTokenizer(r.id)).tokenizer });
    const options = { tokenizers, maxFileBytes: 256 * 1024 };
    const local = await countFolder(nodeFolderFs(dir), options);
    assert.ok(local.totals.files >= 61 && local.totals.skippedBinary === 1 && local.totals.skippedOther === 1, JSON.stringify(local.totals));
    assert.ok(local.files.some((f) => f.streamed), 'big.md is read as a stream');
    for (const pool of pools) {
      const pooled = await countFolder(nodeFolderFs(dir), { ...options, counter: pool.counterFor(dir, refs, { maxFileBytes: 256 * 1024 }), concurrency: pool.size });
      assert.deepEqual(pooled, local, `${pool.size} workers`);
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('count --jobs N prints the same JSON for every N; a bad --jobs is a one-line usage error', () => {
  const dir = makeTree();
  try {
    const run = (...extra: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'count', dir, '--tokenizer', 'cl100k_base', '--json', ...extra], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
    const one = run('--jobs', '1');
    assert.equal(one.status, 0, one.stderr);
    const parsed = JSON.parse(one.stdout) as { total: { files: number; skippedBinary: number; skippedOther: number } };
    assert.ok(parsed.total.files >= 61 && parsed.total.skippedBinary === 1 && parsed.total.skippedOther === 1, one.stdout.slice(0, 400));
    for (const n of ['2', '3']) {
      const r = run('--jobs', n);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, one.stdout, `--jobs ${n}`);
    }
    const bad = run('--jobs', '0');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--jobs needs a whole number of workers from 1 to 64, got "0"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
