/**
 * The benchmark's corpus is fixed (same bytes and SHA-256 on every run) and about 1 MB, and the bench
 * script's smoke run (`--quick --only gpt2 --json`) works end to end and prints the documented fields.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCorpus, REPO_ROOT, truncateAtLine } from '../../bench/corpus';
import type { BenchResults } from '../../bench/results';

test('buildCorpus() is deterministic and about 1 MB', () => {
  const a = buildCorpus();
  const b = buildCorpus();
  assert.equal(a.sha256, b.sha256);
  assert.equal(a.text, b.text);
  assert.match(a.sha256, /^[0-9a-f]{64}$/);
  const bytes = Buffer.byteLength(a.text, 'utf8');
  assert.ok(bytes >= 900_000 && bytes <= 1_200_000, `corpus is ${bytes} bytes`);
  assert.equal(
    a.parts.reduce((n, p) => n + p.bytes, 0),
    bytes,
    'parts add up to the corpus',
  );
  assert.ok(a.parts.some((p) => p.name === 'bench/multilingual.txt' && p.bytes > 20_000));
  assert.equal(a.text, a.text.toWellFormed());
});

test('buildCorpus({ scale }) keeps the mix at a smaller size', () => {
  const quick = buildCorpus({ scale: 0.1 });
  const bytes = Buffer.byteLength(quick.text, 'utf8');
  assert.ok(bytes >= 80_000 && bytes <= 130_000, `quick corpus is ${bytes} bytes`);
  assert.deepEqual(
    quick.parts.map((p) => p.name),
    buildCorpus().parts.map((p) => p.name),
  );
  assert.ok(quick.parts.every((p) => p.bytes > 0));
});

test('truncateAtLine never splits a character and ends with a line break', () => {
  assert.equal(truncateAtLine(Buffer.from('ab\ncd\nef'), 6).toString(), 'ab\ncd\n');
  assert.equal(truncateAtLine(Buffer.from('ab\n世界世界世界'), 8).toString(), 'ab\n世\n');
  assert.equal(truncateAtLine(Buffer.from('short'), 100).toString(), 'short\n');
});

test('bench/run.ts --quick --only gpt2 --json exits 0 and prints the results', { timeout: 600_000 }, () => {
  const outDir = mkdtempSync(join(tmpdir(), 'bench-test-'));
  try {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'gpt2', '--json', '--out', join(outDir, 'results.json')],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 590_000 },
    );
    assert.equal(child.status, 0, `exit ${child.status}\n${child.stderr}`);
    const results = JSON.parse(child.stdout) as BenchResults;
    assert.equal(results.schemaVersion, 2);
    assert.equal(results.settings.quick, true);
    assert.equal(typeof results.machine.cpuModel, 'string');
    assert.ok(results.machine.cores >= 1);
    assert.equal(results.machine.nodeVersion, process.version);
    assert.equal(results.corpus.sha256, buildCorpus({ scale: 0.1 }).sha256);
    const engines = results.rows.map((r) => r.engine);
    assert.deepEqual(engines.slice(0, 3), ['token-inspector', 'hf-tokenizers-rust', 'hf-tokenizers-js']);
    for (const row of results.rows) {
      assert.equal(row.tokenizerId, 'gpt2');
      assert.equal(row.status, 'ok', row.status === 'error' ? row.error : '');
      if (row.status !== 'ok') continue;
      assert.ok(row.mbPerSecond > 0);
      assert.ok(row.ratioToFastestPeer !== null && row.ratioToFastestPeer > 0);
      assert.ok(row.coldLoadMs > 0);
      assert.ok(row.maxRssMb > 0);
      assert.ok(row.tokenCount > 0);
      assert.equal(row.isReference, row.engine === 'hf-tokenizers-rust');
      assert.equal(row.idsMatchReference, row.isReference ? null : true, `${row.engine} ids differ from the reference at ${row.firstMismatchIndex}`);
    }
    assert.ok(results.incremental !== null);
    assert.equal(results.incremental.tokenizerId, 'gpt2');
    assert.ok(['ok', 'not available'].includes(results.incremental.status), JSON.stringify(results.incremental));
    if (results.incremental.status === 'ok') assert.equal(results.incremental.mismatchedEdits, 0);
    // Every target beside its figure: GPT-2 is a Hugging Face vocabulary, held to 3x the Rust binding.
    const hf = results.targets.find((t) => t.what.startsWith('gpt2:') && t.what.includes('hf-tokenizers-rust'));
    assert.ok(hf, JSON.stringify(results.targets));
    assert.equal(hf.target, '>= 3x');
    assert.match(hf.figure, /^\d+\.\d\dx$/);
    assert.equal(typeof hf.met, 'boolean');
    assert.ok(results.targets.some((t) => t.what.startsWith('incremental (gpt2)')));
    // The worker's memory: measured from the built worker, or said why not.
    assert.ok(results.workerMemory !== null);
    if (results.workerMemory.ok) assert.ok(results.workerMemory.rssAfterMb > results.workerMemory.rssBeforeWorkerMb);
    else assert.match(results.workerMemory.error, /\S/);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});
