/**
 * Runs several CLI invocations from source in one child process (one tsx start-up for all of them), each timed,
 * with its exit code and output; the child's peak RSS covers them all. A run that hangs makes the child miss
 * `timeoutMs`, and the child is killed: the promise rejects naming the runs that finished.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface CliRun {
  readonly args: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CliBatch {
  readonly runs: readonly CliRun[];
  /** The child's peak resident set over all runs, MB. */
  readonly maxRssMb: number;
}

const CHILD = `
const { main } = require('./src/cli/main.ts');
const batches = JSON.parse(process.env.TI_CLI_RUNS);
(async () => {
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  for (const args of batches) {
    let stdout = '', stderr = '';
    process.stdout.write = (s) => ((stdout += String(s)), true);
    process.stderr.write = (s) => ((stderr += String(s)), true);
    const t0 = performance.now();
    let code;
    try { code = await main(args); } catch (e) { code = -2; stderr += String(e && e.stack || e); }
    const ms = performance.now() - t0;
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    realOut(JSON.stringify({ args, code, stdout: stdout.slice(0, 20000), stderr: stderr.slice(0, 20000), ms }) + '\\n');
  }
  realOut(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\\n');
  process.exit(0);
})();
`;

export function runCliBatch(argLists: readonly (readonly string[])[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = {}): Promise<CliBatch> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', CHILD], {
      cwd: join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env, TI_CLI_RUNS: JSON.stringify(argLists) },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      const done = out.split('\n').filter(Boolean).length;
      reject(new Error(`the CLI runs did not finish within ${timeoutMs} ms (${done} of ${argLists.length} done; stuck on ${JSON.stringify(argLists[done])})`));
    }, timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as CliRun | { maxRssMb: number });
      const last = lines.pop();
      if (!last || !('maxRssMb' in last)) return reject(new Error(`the CLI child ended early: ${err.slice(-2000)}`));
      resolve({ runs: lines as CliRun[], maxRssMb: last.maxRssMb });
    });
  });
}
