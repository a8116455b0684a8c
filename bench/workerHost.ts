/**
 * Child program of the worker-memory benchmark (bench/workerMemory.ts bundles it and runs it with plain node,
 * no tsx): starts the built tokenization worker (dist/tokenWorker.js) with the resource limits the extension
 * gives it (src/extension/workerClient.ts), speaking its typed protocol (src/protocol/tokenWorker.ts): has it
 * analyse one document under each tokenizer in turn (the worker keeps one tokenizer's state per document),
 * count the whole document under each (as a selection count does), then apply single-character edits at typing pace (EDIT_INTERVAL_MS apart: back to
 * back, the worker never idles and its freed typed arrays wait far longer to be swept), and prints one JSON
 * line: the process's resident memory before the worker started, after the work, and at its peak.
 *
 *   node workerHost.js --worker /abs/dist/tokenWorker.js --text FILE --tokenizers a,b,c [--edits 50]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { RequestMessage, WorkerMessage } from '../src/protocol/requests';
import type { AnalyzeParams, AnalyzeResult, TokenRequests } from '../src/protocol/tokenWorker';

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
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (e: Error) => void }>();
  worker.on('message', (reply: WorkerMessage) => {
    if (reply.type !== 'result' && reply.type !== 'error') return;
    const p = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.type === 'result') p?.resolve(reply.result);
    else p?.reject(new Error(`the worker answered ${reply.code}: ${reply.message}`));
  });
  worker.on('error', (e) => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  });
  const request = (message: Omit<RequestMessage<TokenRequests>, 'id' | 'type'>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ type: 'request', id, ...message });
    });
  const analyze = async (params: AnalyzeParams): Promise<number> => {
    const result = (await request({ kind: 'analyze', params })) as AnalyzeResult;
    if (result.status !== 'analysis') throw new Error(`the worker answered ${result.status}`);
    return result.stream.count;
  };
  const docKey = 'file:///bench/document.txt';
  let version = 1;
  const tokensPerTokenizer: number[] = [];
  for (const id of tokenizers) {
    tokensPerTokenizer.push(await analyze({ docKey, version: ++version, tokenizer: { id }, allowSpecial: false, utf16Length: text.length, text }));
  }
  for (const id of tokenizers) await request({ kind: 'count', params: { tokenizer: { id }, text, allowSpecial: false } });
  // Typing under the last tokenizer: edits sent as changes, as the host sends them.
  let current = text;
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(((e + 1) * current.length) / (edits + 1));
    const change = { rangeOffset: at, rangeLength: 0, text: e % 2 ? 'x' : ' ' };
    current = current.slice(0, at) + change.text + current.slice(at);
    const baseVersion = version;
    const id = tokenizers[tokenizers.length - 1];
    await analyze({ docKey, version: ++version, baseVersion, tokenizer: { id }, allowSpecial: false, utf16Length: current.length, changes: [change] });
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
