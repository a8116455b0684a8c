/**
 * A time budget for split patterns that have no hand-written scanner (issue 17). A custom tokenizer.json can
 * hold a pattern such as `(a+)+$` that V8's backtracking engine takes 2^n steps to fail on; a RegExp cannot be
 * interrupted from its own thread, so under a budget the matching runs in a helper thread instead, called
 * synchronously: the caller posts the text and the ranges to search, waits on a shared flag with
 * `Atomics.wait` for at most the budget, and reads the answer with `receiveMessageOnPort`. Past the budget the
 * helper is terminated (V8 interrupts a running regex) and the caller gets a PatternBudgetError naming the
 * file; the next call starts a fresh helper. Callers stay synchronous, so every CLI command is covered without
 * restructuring.
 *
 * Off by default: the CLI switches it on (src/cli/main.ts). In the editor the tokenization and jobs workers
 * already have deadlines that terminate and restart them, and the patterns with scanners (every bundled
 * tokenizer but DeepSeek-V3) never reach a RegExp, so their hot path is untouched.
 *
 * The helper is an inline `eval` worker (plain JavaScript, no imports), so it is the same code under tsx and
 * in every esbuild bundle. It must find the same pieces as preTokenizer.ts's `matches` and the engine's loop:
 * a range is searched as its own string unless it is the whole text, and an empty match moves on by one code
 * point (preTokenizer.ts's afterEmptyMatch; test/unit/patternBudget.test.ts compares the two on a fuzzed corpus).
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { TokenizerError } from './errors';

export interface PatternBudget {
  /** What any one call may take, ms. */
  readonly baseMs: number;
  /** Added per million UTF-16 units searched in the call, ms. */
  readonly msPerMillionUnits: number;
  /** How long the helper thread may take to start, ms (not part of the budget: a loaded machine starts threads slowly). */
  readonly startMs: number;
}

/**
 * The CLI's budget: 2 s, plus 5 s per million characters searched. The normal patterns without a scanner
 * measured (`npm run bench:pattern-budget`, a shared 2-core machine) search a million characters in 140 ms
 * (DeepSeek-V3's third step on its exact Unicode tables) to 160-270 ms (GPT-2's pattern as a custom one, exact
 * tables), so a legitimate input has some 20x in hand on a loaded machine; `(a+)+$` on 41 characters (2^40
 * steps) is stopped after 2 s.
 */
export const CLI_PATTERN_BUDGET: PatternBudget = { baseMs: 2_000, msPerMillionUnits: 5_000, startMs: 30_000 };

/** A pattern ran past its budget: the message names the file, the pattern and the budget. */
export class PatternBudgetError extends TokenizerError {
  constructor(message: string) {
    super(message);
    this.name = 'PatternBudgetError';
  }
}

/** The pieces found: `spans` as flat [start, end) pairs (positions in the whole text), `counts[i]` of them in range i. */
export interface BudgetedMatches {
  readonly spans: Int32Array;
  readonly counts: Int32Array;
}

const HELPER_SOURCE = `
'use strict';
const { workerData } = require('node:worker_threads');
const { flag, port, jobs } = workerData;
const state = new Int32Array(flag);
const compiled = new Map();
function find(m) {
  const key = m.flags + '/' + m.source;
  let re = compiled.get(key);
  if (re === undefined) compiled.set(key, (re = new RegExp(m.source, m.flags)));
  const text = m.text;
  const ranges = m.ranges;
  const counts = new Int32Array(ranges.length >> 1);
  let spans = new Int32Array(1024);
  let n = 0;
  for (let r = 0; r < ranges.length; r += 2) {
    const a = ranges[r];
    const b = ranges[r + 1];
    const hay = a === 0 && b === text.length ? text : text.slice(a, b);
    const before = n;
    re.lastIndex = 0;
    for (let x = re.exec(hay); x !== null; x = re.exec(hay)) {
      const len = x[0].length;
      if (len === 0) {
        const i = re.lastIndex;
        const c = hay.charCodeAt(i);
        re.lastIndex = c >= 0xd800 && c <= 0xdbff && i + 1 < hay.length && (hay.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? i + 2 : i + 1;
        continue;
      }
      if (n + 2 > spans.length) {
        const grown = new Int32Array(spans.length * 2);
        grown.set(spans);
        spans = grown;
      }
      spans[n++] = a + x.index;
      spans[n++] = a + x.index + len;
    }
    counts[r >> 1] = (n - before) >> 1;
  }
  return { spans: spans.slice(0, n), counts };
}
jobs.on('message', (m) => {
  let reply;
  try {
    const found = find(m);
    reply = { seq: m.seq, spans: found.spans, counts: found.counts };
  } catch (e) {
    reply = { seq: m.seq, error: String((e && e.message) || e) };
  }
  port.postMessage(reply);
  Atomics.store(state, 0, m.seq);
  Atomics.notify(state, 0);
});
Atomics.store(state, 1, 1);
Atomics.notify(state, 1);
`;

interface Reply {
  readonly seq: number;
  readonly spans?: Int32Array;
  readonly counts?: Int32Array;
  readonly error?: string;
}

class Helper {
  private readonly worker: Worker;
  /** [0]: the last job answered; [1]: 1 once the helper listens. */
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private readonly replies: MessagePort;
  private readonly jobs: MessagePort;
  private seq = 0;
  private ready = false;

  constructor() {
    const replies = new MessageChannel();
    const jobs = new MessageChannel();
    this.replies = replies.port1;
    this.jobs = jobs.port1;
    this.worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { flag: this.state.buffer, port: replies.port2, jobs: jobs.port2 }, transferList: [replies.port2, jobs.port2] });
    // An idle helper must not keep a process alive.
    this.worker.unref();
    this.replies.unref();
    this.jobs.unref();
  }

  /** The answer, or null when the helper ran past `budgetMs` (it is terminated then). */
  run(job: { source: string; flags: string; text: string; ranges: Int32Array }, budgetMs: number, startMs: number): Reply | null {
    if (!this.ready) {
      if (Atomics.wait(this.state, 1, 0, startMs) === 'timed-out' && Atomics.load(this.state, 1) === 0) {
        this.terminate();
        throw new TokenizerError(`the thread that runs split patterns under a time budget did not start within ${startMs / 1000} s`);
      }
      this.ready = true;
    }
    const seq = ++this.seq;
    this.jobs.postMessage({ seq, ...job });
    const deadline = performance.now() + budgetMs;
    while (Atomics.load(this.state, 0) !== seq) {
      const left = deadline - performance.now();
      if (left <= 0) {
        this.terminate();
        return null;
      }
      Atomics.wait(this.state, 0, seq - 1, left);
    }
    const message = receiveMessageOnPort(this.replies);
    if (message === undefined) throw new TokenizerError('the split-pattern thread answered without a result');
    return message.message as Reply;
  }

  terminate(): void {
    void this.worker.terminate().catch(() => undefined);
    this.replies.close();
    this.jobs.close();
  }
}

let active: PatternBudget | null = null;
let helper: Helper | null = null;

/** Runs split patterns without a scanner under `budget` from now on, in this thread (the CLI calls it once). */
export function enablePatternBudget(budget: PatternBudget = CLI_PATTERN_BUDGET): void {
  active = budget;
}

/** Back to plain RegExp matching. `stopHelper`: also stop the helper thread (else it idles, unref'd, for the next enable). */
export function disablePatternBudget(stopHelper = false): void {
  active = null;
  if (stopHelper) {
    helper?.terminate();
    helper = null;
  }
}

/** The budget in force, or null (the default: patterns run in the caller's thread). */
export function activePatternBudget(): PatternBudget | null {
  return active;
}

/** What a call searching `units` UTF-16 units may take, ms. */
export function budgetMsFor(units: number, budget: PatternBudget): number {
  return Math.round(budget.baseMs + (budget.msPerMillionUnits * units) / 1e6);
}

function shownPattern(source: string): string {
  const s = JSON.stringify(source);
  return s.length > 60 ? `${s.slice(0, 57)}…"` : s;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The matches of `re` in each range `[ranges[2i], ranges[2i+1])` of `text` (see the module comment for the
 * rules), found in the helper thread within the budget. `origin` names the file the pattern came from.
 * Throws PatternBudgetError past the budget.
 */
export function budgetedMatches(text: string, ranges: Int32Array, re: RegExp, origin: string | undefined, budget: PatternBudget, role = 'split pattern'): BudgetedMatches {
  let units = 0;
  for (let r = 0; r < ranges.length; r += 2) units += ranges[r + 1] - ranges[r];
  const ms = budgetMsFor(units, budget);
  helper ??= new Helper();
  const reply = helper.run({ source: re.source, flags: re.flags, text, ranges }, ms, budget.startMs);
  if (reply === null) {
    helper = null;
    const what = `${origin ?? 'a tokenizer'}: its ${role} ${shownPattern(re.source)}`;
    throw new PatternBudgetError(
      `${what} ran past its time budget (${seconds(ms)} for ${units.toLocaleString('en-US')} characters; ${seconds(budget.baseMs)} + ${seconds(budget.msPerMillionUnits)} per million): it backtracks too much; simplify the pattern`,
    );
  }
  if (reply.error !== undefined || reply.spans === undefined || reply.counts === undefined) {
    throw new TokenizerError(`${origin ?? 'a tokenizer'}: its ${role} ${shownPattern(re.source)} failed: ${(reply.error ?? 'no result').split('\n')[0]}`);
  }
  return { spans: reply.spans, counts: reply.counts };
}
