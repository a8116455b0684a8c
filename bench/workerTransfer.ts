/**
 * What the jobs worker (src/worker/workspaceWorker.ts) pays to work on an open document, the two ways it could:
 *  - per request: the host posts the document's text and its current token stream (structured clone: the host
 *    keeps its copy for the decorations, so the arrays are copied, not transferred);
 *  - a mirror: the jobs worker holds its own copy of every open document, fed by the same edits, re-tokenizing
 *    a window around each edit as the tokenization worker does (and the whole text when it lost it).
 * Prints JSON: the round trip of a request carrying text + stream through a real worker_threads Worker, the
 * same round trip without them, a full encode (what the worker pays when it must tokenize itself), and one
 * incremental edit (what a mirror pays on every keystroke, whether or not a job ever runs).
 *
 *   node --import tsx bench/workerTransfer.ts [--mb 1] [--runs 30]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DocumentTokens } from '../src/core/analysis/documentTokens';
import { loadTokenizer } from '../src/core/tokenizers/loader';
import { median, quantile } from './stats';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main(): Promise<void> {
  const mb = arg('mb', 1);
  const runs = arg('runs', 30);
  const unit = readFileSync(join(__dirname, '..', 'sample-workspace', 'code.ts'), 'utf8');
  const text = unit.repeat(Math.ceil((mb * 1_000_000) / unit.length));
  const tokenizer = (await loadTokenizer('o200k_base')).tokenizer;
  const stream = tokenizer.encode(text);
  // The worker answers each message with a tiny ack once it has been deserialized (touching one array).
  const worker = new Worker(`require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m.stream ? m.stream.ids[0] + m.text.length : 0));`, { eval: true });
  const roundTrip = (msg: unknown): Promise<number> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      worker.once('message', () => resolve(performance.now() - t0));
      worker.postMessage(msg);
    });
  const empty: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so load on a shared machine falls on both alike.
    empty.push(await roundTrip({ kind: 'score' }));
    full.push(await roundTrip({ kind: 'score', text, stream }));
  }
  await worker.terminate();
  const encode: number[] = [];
  for (let i = 0; i < Math.max(5, runs / 5); i++) {
    const t0 = performance.now();
    tokenizer.encode(text);
    encode.push(performance.now() - t0);
  }
  const doc = new DocumentTokens(tokenizer, text);
  const edit: number[] = [];
  for (let i = 0; i < runs * 10; i++) {
    const at = Math.floor(((i * 7919) % 997) / 997 * (doc.text.length - 10));
    const t0 = performance.now();
    doc.applyEdit(at, 0, 'x');
    void doc.stream.count;
    edit.push(performance.now() - t0);
  }
  const ms = (xs: number[]) => ({ median: +median(xs).toFixed(2), p90: +quantile(xs, 0.9).toFixed(2) });
  const streamBytes = stream.ids.byteLength + stream.byteOffsets.byteLength + stream.utf16Offsets.byteLength + stream.flags.byteLength + stream.byteIntoChar.byteLength;
  console.log(
    JSON.stringify(
      {
        node: process.version,
        textUtf16: text.length,
        tokens: stream.count,
        streamBytes,
        runs,
        roundTripEmptyMs: ms(empty),
        roundTripTextAndStreamMs: ms(full),
        fullEncodeMs: ms(encode),
        incrementalEditMs: ms(edit),
      },
      null,
      2,
    ),
  );
}

void main();
