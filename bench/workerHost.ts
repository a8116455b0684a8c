/**
 * Child program of the worker-memory benchmark (bench/workerMemory.ts bundles it and runs it with plain node,
 * no tsx): starts the built tokenization worker (dist/tokenWorker.js) with the resource limits the extension
 * gives it (src/extension/workerClient.ts), has it analyse one document under each tokenizer in turn, compare
 * the tokenizers on it, then apply single-character edits at typing pace (EDIT_INTERVAL_MS apart: back to
 * back, the worker never idles and its freed typed arrays wait far longer to be swept), and prints one JSON
 * line: the process's resident memory before the worker started, after the work, and at its peak.
 *
 *   node workerHost.js --worker /abs/dist/tokenWorker.js --text FILE --tokenizers a,b,c [--edits 50]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { HostToTokenWorker, TokenWorkerToHost } from '../src/protocol';

export interface WorkerMemoryReport {
  readonly ok: true;
  readonly tokenizers: readonly string[];
  readonly documentBytes: number;
  readonly tokensPerTokenizer: readonly number[];
  readonly edits: number;
  /** process.memoryUsage().rss, MiB: before the worker started, and after the work. */
  readonly rssBeforeWorkerMb: number;
  readonly rssAfterMb: number;
  /** The process's RSS high-water mark (getrusage), MiB. */
  readonly peakRssMb: number;
  readonly elapsedMs: number;
}

const MIB = 1024 * 1024;
/** Time between edits: faster than anyone types. */
export const EDIT_INTERVAL_MS = 30;
/** As src/extension/workerClient.ts starts the worker. */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 4096 };

function rssMb(): number {
  return process.memoryUsage().rss / MIB;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { worker: { type: 'string' }, text: { type: 'string' }, tokenizers: { type: 'string' }, edits: { type: 'string' } } });
  if (!values.worker || !values.text || !values.tokenizers) throw new Error('usage: workerHost --worker PATH --text FILE --tokenizers a,b,c [--edits N]');
  const text = readFileSync(values.text, 'utf8');
  const tokenizers = values.tokenizers.split(',');
  const edits = Number(values.edits ?? 50);
  const t0 = performance.now();
  const rssBeforeWorkerMb = rssMb();
  const worker = new Worker(values.worker, { resourceLimits: RESOURCE_LIMITS });
  let nextId = 1;
  const pending = new Map<number, { resolve: (reply: TokenWorkerToHost) => void; reject: (e: Error) => void }>();
  worker.on('message', (reply: TokenWorkerToHost) => {
    const requestId = 'requestId' in reply ? reply.requestId : -1;
    pending.get(requestId)?.resolve(reply);
    pending.delete(requestId);
  });
  worker.on('error', (e) => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  });
  const request = (make: (requestId: number) => HostToTokenWorker): Promise<TokenWorkerToHost> =>
    new Promise((resolve, reject) => {
      const requestId = nextId++;
      pending.set(requestId, { resolve, reject });
      worker.postMessage(make(requestId));
    });
  const expect = <K extends TokenWorkerToHost['kind']>(reply: TokenWorkerToHost, kind: K): Extract<TokenWorkerToHost, { kind: K }> => {
    if (reply.kind !== kind) throw new Error(`the worker answered ${reply.kind}${reply.kind === 'error' ? `: ${reply.message}` : ''}`);
    return reply as Extract<TokenWorkerToHost, { kind: K }>;
  };
  const docKey = 'file:///bench/document.txt';
  let version = 1;
  const tokensPerTokenizer: number[] = [];
  for (const id of tokenizers) {
    const reply = await request((requestId) => ({ kind: 'analyze', requestId, docKey, version: ++version, tokenizer: { id }, allowSpecial: false, text }));
    tokensPerTokenizer.push(expect(reply, 'analysis').stream.count);
  }
  const [reference, ...others] = tokenizers.map((id) => ({ id }));
  expect(await request((requestId) => ({ kind: 'compare', requestId, text, tokenizers: others, reference })), 'compared');
  // Typing under the last tokenizer: edits sent as changes, as the host sends them.
  let current = text;
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(((e + 1) * current.length) / (edits + 1));
    const change = { rangeOffset: at, rangeLength: 0, text: e % 2 ? 'x' : ' ' };
    current = current.slice(0, at) + change.text + current.slice(at);
    const base = version;
    const reply = await request((requestId) => ({ kind: 'analyze', requestId, docKey, version: ++version, baseVersion: base, tokenizer: { id: tokenizers[tokenizers.length - 1] }, allowSpecial: false, changes: [change] }));
    expect(reply, 'analysis');
    await new Promise((resolve) => setTimeout(resolve, EDIT_INTERVAL_MS));
  }
  const report: WorkerMemoryReport = {
    ok: true,
    tokenizers,
    documentBytes: Buffer.byteLength(text, 'utf8'),
    tokensPerTokenizer,
    edits,
    rssBeforeWorkerMb,
    rssAfterMb: rssMb(),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    elapsedMs: performance.now() - t0,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
  await worker.terminate();
}

main().catch((err: unknown) => {
  process.stdout.write(JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) }) + '\n');
  process.exitCode = 1;
});
