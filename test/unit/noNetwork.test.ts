/**
 * No network unless the user allows it (issue 11): with the default configuration, everything the extension
 * does by default opens no socket, resolves no host name and fetches nothing, in the tokenization and the
 * workspace jobs workers (run from source through their clients, as the extension drives them) and in this
 * process; with downloads on, every connection goes to the configured hub host and nowhere else. Attempts are
 * recorded by test/unit/helpers/netGuard.ts (patched net / tls / dgram / dns / fetch), in the workers through
 * the TI_TEST_NET_LOG hook of test/fixtures/workers/hooks.js.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import dns from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadOnnxModel } from '../../src/core/lm/onnx';
import { findModel } from '../../src/core/models/catalog';
import { DownloadError, downloadModel, resolveModelSpec } from '../../src/core/models/download';
import { applyPriceOverrides, contextFraction, inputCost } from '../../src/core/models/prices';
import { tokenWorkerClient, workspaceWorkerClient } from '../../src/extension/workerClient';
import { recordNetwork, type NetAttempt } from './helpers/netGuard';
import { deadline } from '../harness/deadline';

const WORKER_SCRIPT = join(__dirname, '..', 'fixtures', 'workers', 'tokenWorker.js');
const JOBS_SCRIPT = join(__dirname, '..', 'fixtures', 'workers', 'workspaceWorker.js');
const FIXTURE_MODEL = join(__dirname, '..', 'fixtures', 'tiny-gpt2');
const SAMPLE_WORKSPACE = join(__dirname, '..', '..', 'sample-workspace');
/** The extension's defaults (package.json): the editor's tokenizer, Compare's list, the model. */
const DEFAULT_TOKENIZER = 'o200k_base';
const DEFAULT_COMPARE = ['o200k_base', 'cl100k_base', 'llama3', 'qwen3', 'gemma3', 'deepseek_v3', 'mistral', 'gpt2'];
const DEFAULT_MODEL = 'gpt-4o';

const scratch = mkdtempSync(join(tmpdir(), 'ti-nonet-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const within = <T>(p: Promise<T>, ms = 300_000): Promise<T> => deadline(p, ms);

test('the default configuration opens no socket: tokenizing, Compare, premiums, chat and folder counts, the workspace n-gram, the catalog and prices, a model by repo id with downloads off', { timeout: 600_000 }, async () => {
  const netLog = join(scratch, 'worker-net.log');
  writeFileSync(netLog, '');
  process.env.TI_TEST_NET_LOG = netLog;
  const here: NetAttempt[] = [];
  const restore = recordNetwork((a) => here.push(a));
  const hooks = { onIncident: (i: { message: string }) => assert.fail(`a worker crashed: ${i.message}`), log: () => undefined };
  const client = tokenWorkerClient(WORKER_SCRIPT, hooks);
  const jobs = workspaceWorkerClient(JOBS_SCRIPT, hooks);
  try {
    // In the tokenization worker: what opening, editing and looking at a file does with the default settings.
    const text = readFileSync(join(SAMPLE_WORKSPACE, 'emoji-cjk.md'), 'utf8');
    const tokenizer = { id: DEFAULT_TOKENIZER };
    const doc = { docKey: 'file:///doc.md', tokenizer, allowSpecial: false };
    assert.equal((await within(client.request('analyze', { ...doc, version: 1, text, utf16Length: text.length }))).status, 'analysis');
    const v2 = await within(client.request('analyze', { ...doc, version: 2, baseVersion: 1, changes: [{ rangeOffset: 0, rangeLength: 0, text: 'x' }], utf16Length: text.length + 1 }));
    assert.ok(v2.status === 'analysis');
    await within(client.request('count', { tokenizer, text: text.slice(0, 100), allowSpecial: false }));
    await within(client.request('describe', { tokenizer }));
    // In the jobs worker. The sidebar's relative costs and the panel's Compare: every default tokenizer loads.
    const compared = await within(jobs.request('compare', { text, tokenizers: DEFAULT_COMPARE.map((id) => ({ id })), reference: tokenizer }));
    assert.equal(compared.tokenizers.length, DEFAULT_COMPARE.length);
    // Language premiums on the bundled UDHR texts, cached on disk.
    const premiums = await within(jobs.request('premiums', { tokenizers: [{ id: 'o200k_base' }, { id: 'gpt2' }], cacheDir: join(scratch, 'premiums') }));
    assert.ok(premiums.length > 500);
    // API counts: a chat message under the default model's template, a folder.
    await within(jobs.request('chat', { model: DEFAULT_MODEL, text, role: 'user' }));
    await within(jobs.request('chat', { model: 'llama-3.1-8b', text, role: 'system' }));
    await within(jobs.request('countFolder', { root: SAMPLE_WORKSPACE, tokenizers: [tokenizer], exclude: [] }));
    // Probabilities with the default model: the workspace n-gram, trained here, scored, the next byte.
    const ws = join(scratch, 'workspace');
    mkdirSync(ws);
    for (const f of ['code.ts', 'emoji-cjk.md', 'mixed-eol.txt']) writeFileSync(join(ws, f), readFileSync(join(SAMPLE_WORKSPACE, f)));
    const v2Text = 'x' + text;
    const target = { tokenizer, allowSpecial: false, text: v2Text, stream: v2.stream, workspaceRoot: ws, path: join(ws, 'emoji-cjk.md'), storageDir: join(scratch, 'storage') };
    await within(jobs.request('retrain', { tokenizer, workspaceRoot: ws, storageDir: target.storageDir }));
    const scores = await within(jobs.request('score', target));
    await within(jobs.request('nextBytes', { ...target, utf16Offset: 10 }));
    await within(client.request('tokenTexts', { tokenizer, ids: Array.from(scores.scores.topIds.slice(0, 10)).filter((id) => id >= 0) }));

    // In this process: the model catalog and prices, and a model by repo id that is not cached, downloads off.
    const model = findModel(DEFAULT_MODEL);
    assert.ok(model);
    assert.ok(inputCost(1000, model) !== undefined && contextFraction(1000, model) > 0);
    applyPriceOverrides({ 'gpt-4o': 2.5 });
    const cacheDir = join(scratch, 'hf-cache');
    for (const load of [() => loadOnnxModel('test-org/not-cached', { allowDownloads: false, cacheDir }), () => resolveModelSpec('test-org/not-cached', { allowDownloads: false, cacheDir })]) {
      await assert.rejects(load(), (e: Error) => e instanceof DownloadError && e.kind === 'disabled' && /test-org\/not-cached is not in the model cache .* and downloads are off: allow them/.test(e.message));
    }
    assert.ok(!existsSync(cacheDir), 'nothing was written to the cache');

    // The worker's log records (not vacuous): one request to a closed local port, asked for on purpose.
    await within(client.request('count', { tokenizer, text: '\u0000net', allowSpecial: false }));
  } finally {
    await client.dispose();
    await jobs.dispose();
    restore();
    delete process.env.TI_TEST_NET_LOG;
  }
  const inWorker = readFileSync(netLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as NetAttempt);
  const probe = (a: NetAttempt) => a.target === 'http://127.0.0.1:9/' || a.target === '127.0.0.1:9';
  assert.ok(inWorker.some((a) => a.api === 'fetch' && probe(a)), `the worker's network log records: ${JSON.stringify(inWorker)}`);
  assert.deepEqual(inWorker.filter((a) => a.kind === 'network' && !probe(a)), [], 'no network attempt in the workers');
  assert.deepEqual(here.filter((a) => a.kind === 'network'), [], 'no network attempt in this process');
});

test('the guard sees what it must: a socket, a DNS lookup and a fetch in this process are recorded', async () => {
  const seen: NetAttempt[] = [];
  const restore = recordNetwork((a) => seen.push(a));
  try {
    await new Promise<void>((resolve) => {
      const s = net.connect(9, '127.0.0.1');
      s.on('error', () => resolve());
      s.on('connect', () => (s.destroy(), resolve()));
    });
    await fetch('http://127.0.0.1:9/').catch(() => undefined);
    await new Promise<void>((resolve) => dns.lookup('localhost', () => resolve()));
  } finally {
    restore();
  }
  assert.ok(seen.some((a) => a.api === 'net.connect' && a.target === '127.0.0.1:9'), JSON.stringify(seen));
  assert.ok(seen.some((a) => a.api === 'net.Socket#connect'), JSON.stringify(seen));
  assert.ok(seen.some((a) => a.api === 'fetch' && a.target === 'http://127.0.0.1:9/'));
  assert.ok(seen.some((a) => a.api === 'dns.lookup' && a.target === 'localhost'));
});

/** A hub with one repo (the tiny GPT-2 fixture): the listing API, resolve URLs, LFS files behind a same-host CDN path. */
async function startHub(repo: string): Promise<{ host: string; port: number; requests: string[]; server: Server }> {
  const files = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'];
  const bodies = new Map(files.map((f) => [f, readFileSync(join(FIXTURE_MODEL, f))]));
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
  const commit = '0123456789abcdef0123456789abcdef01234567';
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(`${req.method} ${path}`);
    if (path === `/api/models/${repo}/revision/main`) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: repo, sha: commit, siblings: files.map((rfilename) => ({ rfilename })) }));
    const m = new RegExp(`^/${repo}/resolve/main/(.+)$`).exec(path);
    const body = m ? bodies.get(decodeURIComponent(m[1])) : undefined;
    if (m && body && m[1].endsWith('.onnx')) {
      return void res.writeHead(302, { location: `/cdn/${sha256(body)}`, 'x-linked-etag': `"${sha256(body)}"`, 'x-linked-size': String(body.length), 'x-repo-commit': commit }).end();
    }
    if (body) return void res.writeHead(200, { etag: `"${gitSha1(body)}"`, 'content-length': String(body.length), 'x-repo-commit': commit }).end(req.method === 'HEAD' ? undefined : body);
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    const blob = cdn ? [...bodies.values()].find((b) => sha256(b) === cdn[1]) : undefined;
    if (blob) return void res.writeHead(200, { 'content-length': String(blob.length) }).end(blob);
    res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { host: `http://127.0.0.1:${port}`, port, requests, server };
}

test('with downloads on, every connection goes to the configured hub host and nowhere else', { timeout: 120_000 }, async () => {
  const repo = 'test-org/tiny-gpt2';
  const hub = await startHub(repo);
  const seen: NetAttempt[] = [];
  const restore = recordNetwork((a) => seen.push(a));
  try {
    const cacheDir = join(scratch, 'hf-cache-on');
    const r = await downloadModel(repo, { cacheDir, allowDownloads: true, host: hub.host });
    assert.ok(existsSync(join(r.folder, 'onnx', 'model.onnx')));
    // Found in the cache now: resolving it again asks nothing of the network.
    const before = seen.length;
    assert.equal(await resolveModelSpec(repo, { cacheDir, allowDownloads: true, host: hub.host }), r.folder);
    assert.equal(seen.length, before);
  } finally {
    restore();
    hub.server.closeAllConnections();
    await new Promise((r) => hub.server.close(r));
  }
  const network = seen.filter((a) => a.kind === 'network');
  assert.ok(network.some((a) => a.api === 'fetch') && network.some((a) => a.api === 'net.Socket#connect'), `connections were seen: ${JSON.stringify(network)}`);
  const elsewhere = network.filter((a) => a.target !== `127.0.0.1:${hub.port}` && !a.target.startsWith(`${hub.host}/`));
  assert.deepEqual(elsewhere, [], 'only the configured host');
  assert.ok(hub.requests.some((q) => q.startsWith('GET /cdn/')), 'the LFS redirect was followed on the same host');
});
