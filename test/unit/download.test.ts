import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OnnxCausalLM } from '../../src/core/lm/onnx';
import { DownloadError, downloadModel, downloadRepoFiles, redirectAllowed, resolveModelSpec, type DownloadProgress } from '../../src/core/models/download';
import {
  checkRepoFile,
  defaultHubCacheDir,
  findCachedSnapshot,
  insideCache,
  isValidRepoFile,
  isValidRepoId,
  listCachedModels,
  removeCachedModel,
  repoFolderName,
  repoIdOfFolder,
} from '../../src/core/models/hubCache';
import { filesUnder, gitSha1, HUB_COMMIT, sha256, startFakeHub, type FakeHub } from '../harness/fakeHub';

const FIXTURE = join(__dirname, '..', 'fixtures', 'tiny-gpt2');
const REPO = 'test-org/tiny-gpt2';
const COMMIT = HUB_COMMIT;
const FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'];

const contents = new Map<string, Buffer>(FILES.map((f) => [f, readFileSync(join(FIXTURE, f))]));

let hub: FakeHub;
const root = mkdtempSync(join(tmpdir(), 'ti-hub-'));
let n = 0;
const freshCache = () => join(root, `cache-${n++}`);

before(async () => {
  hub = await startFakeHub(new Map([[REPO, contents]]));
});
after(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

const resetHub = (): void => hub.reset();

test('a model downloads into the Hugging Face cache layout, verified, and loads from there', async () => {
  resetHub();
  const cacheDir = freshCache();
  const progress: DownloadProgress[] = [];
  const r = await downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url, onProgress: (p) => progress.push(p) });
  assert.equal(r.commit, COMMIT);
  assert.deepEqual([...r.files].sort(), [...FILES].sort());
  const repoDir = join(cacheDir, 'models--test-org--tiny-gpt2');
  assert.equal(r.folder, join(repoDir, 'snapshots', COMMIT));
  assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), COMMIT);
  // Blobs named by ETag (sha256 for the LFS graph, git sha1 for the rest); snapshot files link to them.
  const graph = contents.get('onnx/model.onnx') as Buffer;
  assert.ok(existsSync(join(repoDir, 'blobs', sha256(graph))));
  assert.ok(existsSync(join(repoDir, 'blobs', gitSha1(contents.get('config.json') as Buffer))));
  const link = join(r.folder, 'onnx', 'model.onnx');
  if (lstatSync(link).isSymbolicLink()) assert.equal(readlinkSync(link), join('..', '..', '..', 'blobs', sha256(graph)));
  for (const f of FILES) assert.ok(readFileSync(join(r.folder, f)).equals(contents.get(f) as Buffer), f);
  assert.ok(!filesUnder(repoDir).some((p) => p.endsWith('.incomplete') || p.endsWith('.tmp')));
  // Progress: ends at the total, counts files.
  const last = progress[progress.length - 1];
  const total = [...contents.values()].reduce((s, b) => s + b.length, 0);
  assert.equal(last.total, total);
  assert.equal(last.bytes, total);
  assert.equal(last.filesDone, FILES.length);
  assert.equal(r.downloadedBytes, total);
  const graphReports = progress.filter((p) => p.file === 'onnx/model.onnx');
  assert.ok(graphReports.every((p, i) => i === 0 || p.fileBytes >= graphReports[i - 1].fileBytes));
  assert.equal(graphReports[graphReports.length - 1].fileBytes, (contents.get('onnx/model.onnx') as Buffer).length);

  // The cache is found without the network, and the model loads from it.
  hub.requests.length = 0;
  const folder = await resolveModelSpec(REPO, { cacheDir, allowDownloads: false, host: hub.url });
  assert.equal(folder, r.folder);
  assert.equal(hub.requests.length, 0);
  const m = await OnnxCausalLM.load(folder, { threads: 1 });
  const ref = await OnnxCausalLM.load(FIXTURE, { threads: 1 });
  try {
    assert.deepEqual(Array.from((await m.score([15496, 11, 995])).logProbs), Array.from((await ref.score([15496, 11, 995])).logProbs));
  } finally {
    await m.dispose();
    await ref.dispose();
  }
  // The cache folder itself loads too (refs/main → snapshot).
  assert.equal(findCachedSnapshot(cacheDir, REPO), r.folder);

  // A second download fetches nothing again (blobs are there) but checks the hub.
  hub.requests.length = 0;
  const again = await downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url });
  assert.equal(again.downloadedBytes, 0);
  assert.ok(!hub.requests.some((q) => q.startsWith('GET /cdn/') || (q.startsWith('GET') && q.includes('/resolve/'))));
});

test('manage: list cached models with disk use, remove one', async () => {
  resetHub();
  const cacheDir = freshCache();
  await downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url });
  const list = listCachedModels(cacheDir);
  assert.equal(list.length, 1);
  const [e] = list;
  assert.equal(e.repoId, REPO);
  const total = [...contents.values()].reduce((s, b) => s + b.length, 0);
  assert.equal(e.sizeBytes, total + COMMIT.length, 'each file counted once (links are not counted again), plus refs/main');
  assert.deepEqual(e.snapshots, [COMMIT]);
  assert.deepEqual(e.refs, { main: COMMIT });
  assert.ok(e.hasOnnx);
  assert.deepEqual([...e.files].sort(), [...FILES].sort());
  assert.equal(e.incomplete, 0);
  assert.equal(removeCachedModel(cacheDir, REPO), e.sizeBytes);
  assert.deepEqual(listCachedModels(cacheDir), []);
  assert.throws(() => removeCachedModel(cacheDir, REPO), /not in the cache/);
  assert.throws(() => removeCachedModel(cacheDir, '../etc'), /not a Hugging Face repo id/);
  assert.deepEqual(listCachedModels(join(root, 'no-such-cache')), []);
});

test('a cancelled download leaves no half file and no trace in the cache', async () => {
  resetHub();
  hub.behaviour.throttleBytes = 64 * 1024;
  hub.behaviour.throttleMs = 5;
  const cacheDir = freshCache();
  const ac = new AbortController();
  let sawGraphBytes = false;
  await assert.rejects(
    downloadModel(REPO, {
      cacheDir,
      allowDownloads: true,
      host: hub.url,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.file === 'onnx/model.onnx' && p.bytes > 0 && !sawGraphBytes) {
          sawGraphBytes = true;
          ac.abort();
        }
      },
    }),
    (e: Error) => e instanceof DownloadError && e.kind === 'cancelled' && e.name === 'AbortError' && /cancelled/.test(e.message),
  );
  assert.ok(sawGraphBytes, 'cancelled in the middle of the graph');
  assert.deepEqual(filesUnder(cacheDir), []);
  assert.ok(!existsSync(join(cacheDir, 'models--test-org--tiny-gpt2')));
});

test('a corrupted download (checksum mismatch) is a clear error and leaves nothing in the cache', async () => {
  resetHub();
  hub.behaviour.corrupt = true;
  const cacheDir = freshCache();
  await assert.rejects(
    downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url }),
    (e: Error) => e instanceof DownloadError && e.kind === 'verification' && /onnx\/model\.onnx: checksum mismatch \(sha256 [0-9a-f]{64}, the hub announced [0-9a-f]{64}\); nothing was written/.test(e.message),
  );
  assert.deepEqual(filesUnder(cacheDir), []);
  assert.equal(findCachedSnapshot(cacheDir, REPO), undefined);

  // Into a cache that already holds another revision: that one stays as it was.
  hub.behaviour.corrupt = false;
  await downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url });
  const before = filesUnder(cacheDir).sort();
  hub.behaviour.corrupt = true;
  hub.behaviour.commit = 'fedcba9876543210fedcba9876543210fedcba98';
  rmSync(join(cacheDir, 'models--test-org--tiny-gpt2', 'blobs', sha256(contents.get('onnx/model.onnx') as Buffer)));
  const kept = filesUnder(cacheDir).sort();
  await assert.rejects(downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url }), /checksum mismatch/);
  assert.deepEqual(filesUnder(cacheDir).sort(), kept);
  assert.equal(readFileSync(join(cacheDir, 'models--test-org--tiny-gpt2', 'refs', 'main'), 'utf8'), COMMIT);
  assert.ok(before.length > kept.length);
});

test('an unreachable host and a host that never answers give clear errors (refused, timeout)', async () => {
  resetHub();
  // A port nobody listens on.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const cacheDir = freshCache();
  await assert.rejects(
    downloadModel(REPO, { cacheDir, allowDownloads: true, host: `http://127.0.0.1:${port}`, timeoutMs: 2000 }),
    (e: Error) => e instanceof DownloadError && e.kind === 'unreachable' && /cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/.test(e.message),
  );
  // A server that accepts connections and never answers.
  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const t0 = Date.now();
  try {
    await assert.rejects(
      downloadModel(REPO, { cacheDir, allowDownloads: true, host: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, timeoutMs: 300 }),
      (e: Error) => e instanceof DownloadError && e.kind === 'timeout' && /no answer from http:\/\/127\.0\.0\.1:\d+ within 300 ms/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
  }
  // The CDN stalls in the middle of the graph.
  hub.behaviour.hangCdn = true;
  await assert.rejects(downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url, timeoutMs: 300 }), (e: Error) => e instanceof DownloadError && e.kind === 'timeout');
  assert.deepEqual(filesUnder(cacheDir), []);
});

test('with downloads off nothing touches the network', async () => {
  resetHub();
  const cacheDir = freshCache();
  let fetches = 0;
  const spy: typeof fetch = (...args) => {
    fetches++;
    return fetch(...args);
  };
  const off = { cacheDir, allowDownloads: false, host: hub.url, fetch: spy };
  await assert.rejects(resolveModelSpec(REPO, off), (e: Error) => e instanceof DownloadError && e.kind === 'disabled' && /not in the model cache .* downloads are off: allow them \(the tokenInspector\.allowDownloads setting/.test(e.message));
  await assert.rejects(downloadModel(REPO, off), (e: Error) => e instanceof DownloadError && e.kind === 'disabled');
  await assert.rejects(downloadRepoFiles(REPO, [{ name: 'config.json' }], off), (e: Error) => e instanceof DownloadError && e.kind === 'disabled');
  // A missing `allowDownloads` counts as off.
  await assert.rejects(downloadModel(REPO, { cacheDir, host: hub.url, fetch: spy } as unknown as Parameters<typeof downloadModel>[1]), /downloads are off/);
  assert.equal(fetches, 0);
  assert.deepEqual(hub.requests, []);
  assert.ok(!existsSync(cacheDir));
  // A path is a path: no lookup, no network.
  assert.equal(await resolveModelSpec(FIXTURE, off), FIXTURE);
  assert.equal(await resolveModelSpec('./models/x', off), './models/x');
  assert.equal(fetches, 0);
});

test('a plain mirror without the API: optional files are probed, missing ones skipped', async () => {
  resetHub();
  hub.behaviour.noApi = true;
  const cacheDir = freshCache();
  const r = await downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url });
  assert.deepEqual([...r.files].sort(), [...FILES].sort()); // special_tokens_map.json and model.onnx_data: 404, skipped
  assert.ok(hub.requests.includes('HEAD /test-org/tiny-gpt2/resolve/main/onnx/model.onnx_data'));
  // A repo that is not there.
  await assert.rejects(downloadModel('test-org/missing', { cacheDir, allowDownloads: true, host: hub.url }), (e: Error) => e instanceof DownloadError && e.kind === 'not-found' && /test-org\/missing\/config\.json was not found/.test(e.message));
  // A dtype the repo lacks (with the API: named up front).
  hub.behaviour.noApi = false;
  await assert.rejects(downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url, dtype: 'q8' }), /has no onnx\/model_quantized\.onnx; it has the dtypes fp32/);
});

test('ids, revisions and file names that could leave the cache are refused before any request', async () => {
  resetHub();
  const cacheDir = freshCache();
  for (const bad of ['../x', 'a/../../b', '/etc/passwd', 'a/b/c', 'a--b/c', '..', 'org/.', 'org/name.git', '', 'C:\\x', 'a b/c']) {
    assert.equal(isValidRepoId(bad), false, bad);
    await assert.rejects(downloadModel(bad, { cacheDir, allowDownloads: true, host: hub.url }), (e: Error) => /repo id|neither/.test(e.message), bad);
  }
  for (const good of ['gpt2', 'openai-community/gpt2', 'HuggingFaceTB/SmolLM2-135M-Instruct', 'onnx-community/Qwen2.5-0.5B-Instruct', 'Xenova/gpt2']) assert.ok(isValidRepoId(good), good);
  for (const bad of ['../x', 'onnx/../../x', '/abs', 'a\\b', 'C:/x', 'a//b', './a', 'a/./b', 'x\u0000y', '']) assert.equal(isValidRepoFile(bad), false, JSON.stringify(bad));
  assert.ok(isValidRepoFile('onnx/model_q4f16.onnx_data'));
  assert.throws(() => checkRepoFile('../../evil'), /not a file name this cache accepts/);
  await assert.rejects(downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url, revision: '../../x' }), /not a revision/);
  await assert.rejects(downloadRepoFiles(REPO, [{ name: '../../../evil' }], { cacheDir, allowDownloads: true, host: hub.url }), /not a file name/);
  assert.deepEqual(hub.requests, []);
  // A hub that lists an escaping external-data file, or sends an escaping commit: refused, nothing written.
  hub.behaviour.extraListing = ['onnx/model.onnx_data/../../../../evil'];
  await assert.rejects(downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url }), /not a file name/);
  hub.behaviour.extraListing = [];
  hub.behaviour.commit = '../../../escape';
  await assert.rejects(downloadModel(REPO, { cacheDir, allowDownloads: true, host: hub.url }), /sent no commit/);
  assert.deepEqual(filesUnder(cacheDir), []);
  assert.throws(() => insideCache(cacheDir, '..', 'x'), /outside the cache/);
  assert.equal(repoFolderName('a/b'), 'models--a--b');
  assert.equal(repoIdOfFolder('models--a--b'), 'a/b');
  assert.equal(repoIdOfFolder('datasets--a--b'), undefined);
  assert.equal(defaultHubCacheDir({ HF_HUB_CACHE: '/x/hub' }), '/x/hub');
  assert.equal(defaultHubCacheDir({ HF_HOME: '/h' }), join('/h', 'hub'));
  assert.ok(statSync(root).isDirectory());
});

test('downloads follow redirects only to the configured hub (and huggingface.co only to its own CDNs)', async () => {
  const body = Buffer.from('{"a": 1}\n');
  const digest = sha256(body);
  const requested: string[] = [];
  // A hub that sends the file elsewhere: HEAD gives the metadata, GET a redirect to `target`.
  const hubAnswering = (target: string): typeof fetch => (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    requested.push(`${init?.method ?? 'GET'} ${new URL(url).origin}`);
    if (init?.method === 'HEAD') return new Response(null, { status: 200, headers: { etag: `"${digest}"`, 'content-length': String(body.length), 'x-repo-commit': HUB_COMMIT } });
    if (url.startsWith(target)) return new Response(body, { status: 200 });
    return new Response(null, { status: 302, headers: { location: `${target}/blob` } });
  }) as typeof fetch;

  const cacheDir = mkdtempSync(join(tmpdir(), 'redirect-cache-'));
  try {
    const files = [{ name: 'config.json' }];
    requested.length = 0;
    await assert.rejects(
      downloadRepoFiles('org/model', files, { cacheDir, allowDownloads: true, host: 'http://127.0.0.1:9', fetch: hubAnswering('http://elsewhere.example') }),
      (e: Error) => e instanceof DownloadError && e.kind === 'protocol' && /sent the download to http:\/\/elsewhere\.example, which is not the configured hub/.test(e.message),
    );
    assert.ok(!requested.some((r) => r.includes('elsewhere')), `no request left for the other host: ${requested.join(', ')}`);
    assert.deepEqual(filesUnder(cacheDir).filter((f) => !f.includes('.lock')), [], 'nothing written');

    requested.length = 0;
    const r = await downloadRepoFiles('org/model', files, { cacheDir, allowDownloads: true, host: 'https://huggingface.co', fetch: hubAnswering('https://cdn-lfs.hf.co') });
    assert.equal(readFileSync(join(r.folder, 'config.json'), 'utf8'), '{"a": 1}\n');
    assert.ok(requested.includes('GET https://cdn-lfs.hf.co'), 'the official hub may use its CDN');
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
  assert.equal(redirectAllowed(new URL('https://cas-bridge.xethub.hf.co/x'), 'https://huggingface.co'), true);
  assert.equal(redirectAllowed(new URL('http://cdn-lfs.hf.co/x'), 'https://huggingface.co'), false, 'https only');
  assert.equal(redirectAllowed(new URL('https://cdn-lfs.hf.co/x'), 'https://my-mirror.example'), false, 'a mirror may not send us to the official CDN');
  assert.equal(redirectAllowed(new URL('https://evilhf.co/x'), 'https://huggingface.co'), false);
});
