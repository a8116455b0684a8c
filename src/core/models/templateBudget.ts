/**
 * Chat templates come from a tokenizer_config.json anyone can write, and @huggingface/jinja runs them to the end:
 * `{% for i in range(100000000) %}` allocates a 10⁸-element list and ends in a heap out-of-memory; a nested loop
 * runs for minutes. This module runs a render under a budget: a time limit checked every 1024 evaluation steps,
 * a cap on the length of any string a step produces, and a `range()` that refuses more than MAX_RANGE numbers
 * (a loop builds a scope per item before its first iteration, out of reach of the time check: 10⁵ keep that short).
 *
 * The interpreter offers no hook, so its `evaluate` and the environment's `set` (which installs the global
 * `range`) are wrapped once, on the prototypes the class Template uses; the wrappers do nothing unless a
 * budgeted render is running. Renders are synchronous, so one budget at a time is all there is.
 */
import { Environment, Interpreter } from '@huggingface/jinja';

export const TEMPLATE_TIME_BUDGET_MS = 2_000;
/** Output characters allowed beyond twice the messages' own characters. */
export const TEMPLATE_OUTPUT_SLACK_CHARS = 4 * 2 ** 20;
export const MAX_RANGE = 100_000;

export class TemplateBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateBudgetError';
  }
}

interface Budget {
  readonly deadline: number;
  readonly timeMs: number;
  readonly maxChars: number;
  steps: number;
}

let active: Budget | undefined;

interface RuntimeValueLike {
  readonly type: string;
  readonly value: unknown;
}
type Evaluate = (this: unknown, statement: unknown, environment: unknown) => RuntimeValueLike;

function step(b: Budget): void {
  if ((++b.steps & 1023) === 0 && performance.now() > b.deadline) throw new TemplateBudgetError(`it ran past its ${b.timeMs / 1000} s budget (a loop that does not end?)`);
}

let installed = false;
function install(): void {
  if (installed) return;
  installed = true;
  const proto = Interpreter.prototype as unknown as { evaluate: Evaluate; evaluateBlock: Evaluate };
  const original = proto.evaluate;
  proto.evaluate = function (this: unknown, statement: unknown, environment: unknown): RuntimeValueLike {
    const b = active;
    if (b) step(b);
    const v = original.call(this, statement, environment);
    if (b && v.type === 'StringValue' && (v.value as string).length > b.maxChars) throw new TemplateBudgetError(`it produced over ${b.maxChars} characters`);
    return v;
  };
  // A loop with an empty body evaluates no statement per iteration, but a block.
  const originalBlock = proto.evaluateBlock;
  proto.evaluateBlock = function (this: unknown, statements: unknown, environment: unknown): RuntimeValueLike {
    const b = active;
    if (b) step(b);
    const v = originalBlock.call(this, statements, environment);
    if (b && (v.value as string).length > b.maxChars) throw new TemplateBudgetError(`it produced over ${b.maxChars} characters`);
    return v;
  };
  const env = Environment.prototype as unknown as { set: (this: unknown, name: string, value: unknown) => unknown };
  const set = env.set;
  env.set = function (this: unknown, name: string, value: unknown): unknown {
    return set.call(this, name, active && name === 'range' ? budgetedRange : value);
  };
}

/** Jinja's `range`, refusing more than MAX_RANGE numbers (it builds the whole list at once). */
export function budgetedRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0) throw new Error('range() step must not be zero');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (!Number.isFinite(count) || count > MAX_RANGE) throw new TemplateBudgetError(`range() of ${count} numbers is over the ${MAX_RANGE} allowed`);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(start + i * step);
  return out;
}

/** Runs `render` under the budget; `inputChars` (the messages' length) scales the output cap. */
export function withTemplateBudget<T>(inputChars: number, render: () => T, timeMs = TEMPLATE_TIME_BUDGET_MS): T {
  install();
  const outer = active;
  active = { deadline: performance.now() + timeMs, timeMs, maxChars: 2 * inputChars + TEMPLATE_OUTPUT_SLACK_CHARS, steps: 0 };
  try {
    return render();
  } finally {
    active = outer;
  }
}
