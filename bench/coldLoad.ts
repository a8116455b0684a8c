/**
 * Child process of the bench: cold-loads ONE engine on one tokenizer in a fresh process, encodes the
 * corpus, and prints one JSON object (a `MeasurementResult`) on stdout.
 *
 *   node --import tsx bench/coldLoad.ts ID [--engine token-inspector] [--target T] [--config PATH]
 *        [--scale 1] [--warmup 1] [--runs 5] [--ids-out PATH]
 *
 * ID is a bundled tokenizer id. --target defaults to ID (Token Inspector's engine); for peers it is an
 * encoding name or a tokenizer.json path (see engines.ts). Exit status 1 on failure (the JSON says why).
 */
import { parseArgs } from 'node:util';
import { buildCorpus } from './corpus';
import { isEngineName, type EngineSpec } from './engines';
import { measure, type MeasurementFailure } from './measure';

interface ChildArgs {
  readonly tokenizerId: string;
  readonly spec: EngineSpec;
  readonly scale: number;
  readonly warmupRuns: number;
  readonly timedRuns: number;
  readonly idsOutPath?: string;
}

function nonNegativeInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${value}`);
  return n;
}

function parseChildArgs(argv: readonly string[]): ChildArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      engine: { type: 'string', default: 'token-inspector' },
      target: { type: 'string' },
      config: { type: 'string' },
      scale: { type: 'string' },
      warmup: { type: 'string' },
      runs: { type: 'string' },
      'ids-out': { type: 'string' },
    },
  });
  const tokenizerId = positionals[0];
  if (!tokenizerId) throw new Error('usage: coldLoad.ts ID [--engine E] [--target T] [--config PATH] [--scale S] [--warmup N] [--runs N] [--ids-out PATH]');
  const engine = values.engine ?? 'token-inspector';
  if (!isEngineName(engine)) throw new Error(`unknown engine ${engine}`);
  return {
    tokenizerId,
    spec: { engine, target: values.target ?? tokenizerId, configPath: values.config },
    scale: values.scale === undefined ? 1 : Number(values.scale),
    warmupRuns: nonNegativeInt(values.warmup, 1, 'warmup'),
    timedRuns: Math.max(1, nonNegativeInt(values.runs, 5, 'runs')),
    idsOutPath: values['ids-out'],
  };
}

async function main(): Promise<void> {
  let args: ChildArgs | undefined;
  try {
    args = parseChildArgs(process.argv.slice(2));
    const corpus = buildCorpus({ scale: args.scale });
    const result = await measure(args.tokenizerId, args.spec, corpus, args);
    process.stdout.write(JSON.stringify(result) + '\n');
  } catch (err) {
    const failure: MeasurementFailure = {
      ok: false,
      tokenizerId: args?.tokenizerId ?? '?',
      engine: args?.spec.engine ?? '?',
      error: err instanceof Error ? err.message : String(err),
    };
    process.stdout.write(JSON.stringify(failure) + '\n');
    process.exitCode = 1;
  }
}

void main();
