/**
 * A 100 MB file through the CLI in bounded memory: `count` and `tokenize` read it in pieces and tokenize
 * between restart points, so memory stays far below the file's size; the count is exact.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTokenizer } from '../../src/core/tokenizers/loader';

const UNIT = 'export function f(a, b) {\n  return a + b; // 😀 naïve 東京 ﬁne\n}\n';

/** Runs the CLI from source in a child process; returns stdout's tail, its length and the child's peak RSS. */
function runCli(args: string[]): Promise<{ code: number; tail: string; outBytes: number; maxRssMb: number; stderr: string }> {
  const script = `const {main}=require('./src/cli/main.ts');main(${JSON.stringify(args)}).then((c)=>{process.stderr.write('\\nRSS '+(process.resourceUsage().maxRSS/1024)+'\\n');process.exitCode=c;});`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    let outBytes = 0;
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      tail = (tail + b.toString('utf8')).slice(-4000);
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('close', (code) => resolve({ code: code ?? -1, tail, outBytes, maxRssMb: Number(/RSS ([\d.]+)/.exec(stderr)?.[1] ?? NaN), stderr }));
  });
}

// One Node version is enough for this one (npm test runs the unit tests on Node 20 and 24).
test('a 100 MB file is counted and tokenized in bounded memory, exactly', { timeout: 600_000, skip: process.env.TI_SKIP_LARGE_FILE === '1' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ti-large-'));
  const file = join(dir, 'big.txt');
  const fd = openSync(file, 'w');
  const block = UNIT.repeat(10_000);
  const blockBytes = Buffer.byteLength(block);
  const reps = Math.ceil((100 * 1024 * 1024) / blockBytes);
  for (let i = 0; i < reps; i++) writeSync(fd, block);
  closeSync(fd);
  try {
    const { tokenizer } = await loadTokenizer('o200k_base');
    // Every copy of UNIT starts a line with a letter (a restart point), so the whole counts UNIT's count times copies.
    const expected = tokenizer.encode(UNIT).count * 10_000 * reps;
    const counted = await runCli(['count', file, '--tokenizer', 'o200k_base', '--json']);
    assert.equal(counted.code, 0, counted.stderr);
    assert.match(counted.tail, new RegExp(`"tokens":${expected}\\b`));
    assert.ok(counted.maxRssMb < 400, `count peaked at ${counted.maxRssMb} MB for a 100 MB file`);
    const tokenized = await runCli(['tokenize', file, '--tokenizer', 'o200k_base', '--json']);
    assert.equal(tokenized.code, 0, tokenized.stderr);
    assert.match(tokenized.tail, new RegExp(`"count":${expected},"byteLength":${blockBytes * reps},`));
    assert.ok(tokenized.maxRssMb < 500, `tokenize peaked at ${tokenized.maxRssMb} MB for a 100 MB file`);
    console.log(`100 MB: count peak RSS ${counted.maxRssMb.toFixed(0)} MB; tokenize peak RSS ${tokenized.maxRssMb.toFixed(0)} MB, ${(tokenized.outBytes / 2 ** 30).toFixed(2)} GiB of JSON`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
