/**
 * SAEs by hub repo id (core/sae/download.ts) against a local server laid out like the hub: only the one SAE's
 * files are fetched, into the Hugging Face cache, verified; downloads off touch nothing; `features --sae ID`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { makeFeaturesCommand } from '../../src/cli/commands/features';
import { DownloadError } from '../../src/core/models/download';
import { findCachedSnapshot } from '../../src/core/models/hubCache';
import { downloadSae, resolveSaeSpec, saeFoldersInListing } from '../../src/core/sae/download';
import { SaeError } from '../../src/core/sae/errors';
import { loadSae } from '../../src/core/sae/loader';
import type { SparseAutoencoder } from '../../src/core/sae/types';
import { filesUnder, HUB_COMMIT, startFakeHub, type FakeHub } from '../harness/fakeHub';

const FIXTURES = join(__dirname, '..', 'fixtures', 'sae');
const SNAPSHOT = join('snapshots', HUB_COMMIT);
const SPARSIFY = join(FIXTURES, 'hf-cache', 'models--fixture--sparsify-tiny-gpt2');
const GEMMA = join(FIXTURES, 'hf-cache', 'models--fixture--gemma-scope-tiny-res');
const GEMMA_SAE = 'layer_1/width_128/average_l0_20';

const SAES = 'fixture/tiny-saes';
const GEMMA_REPO = 'fixture/gemma-scope-tiny-res';
const SPARSITY = Buffer.from('not read by the loader, fetched when the repo has it');

/** Repo file → local file, laid out as published SAE repos are (one folder per SAE). */
function repoFiles(entries: [string, string][]): Map<string, Buffer> {
  return new Map(entries.map(([name, path]) => [name, readFileSync(path)]));
}
const saes = repoFiles([
  ['README.md', join(FIXTURES, 'text.txt')],
  ['saelens-standard/cfg.json', join(FIXTURES, 'saelens-standard', 'cfg.json')],
  ['saelens-standard/sae_weights.safetensors', join(FIXTURES, 'saelens-standard', 'sae_weights.safetensors')],
  ['saelens-standard/expected.json', join(FIXTURES, 'saelens-standard', 'expected.json')],
  ['saelens-jumprelu/cfg.json', join(FIXTURES, 'saelens-jumprelu', 'cfg.json')],
  ['saelens-jumprelu/sae_weights.safetensors', join(FIXTURES, 'saelens-jumprelu', 'sae_weights.safetensors')],
  ['layers.0/cfg.json', join(SPARSIFY, SNAPSHOT, 'layers.0', 'cfg.json')],
  ['layers.0/sae.safetensors', join(SPARSIFY, SNAPSHOT, 'layers.0', 'sae.safetensors')],
]);
saes.set('saelens-standard/sparsity.safetensors', SPARSITY);
const gemma = repoFiles([[`${GEMMA_SAE}/params.npz`, join(GEMMA, SNAPSHOT, GEMMA_SAE, 'params.npz')]]);

let hub: FakeHub;
const root = mkdtempSync(join(tmpdir(), 'ti-sae-hub-'));
let n = 0;
const freshCache = () => join(root, `cache-${n++}`);

before(async () => {
  hub = await startFakeHub(
    new Map([
      [SAES, saes],
      [GEMMA_REPO, gemma],
    ]),
  );
});
after(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

/** The SAE without where it was read from. */
function weights(sae: SparseAutoencoder): SparseAutoencoder {
  return { ...sae, path: '', repoId: undefined };
}

test('an SAE by repo id and subfolder: only its files are fetched into the cache, and it loads as the local one', async () => {
  hub.reset();
  const cacheDir = freshCache();
  const options = { cacheDir, allowDownloads: true, host: hub.url, subfolder: 'saelens-standard' };
  const folder = await resolveSaeSpec(SAES, options);
  assert.equal(folder, join(cacheDir, 'models--fixture--tiny-saes', SNAPSHOT));
  assert.deepEqual(
    filesUnder(join(folder))
      .map((p) => relative(folder, p))
      .sort(),
    ['saelens-standard/cfg.json', 'saelens-standard/sae_weights.safetensors', 'saelens-standard/sparsity.safetensors'],
  );
  // No request for another SAE's files, or for files the SAE does not need.
  assert.ok(!hub.requests.some((q) => /saelens-jumprelu|layers\.0|README|expected\.json/.test(q)), hub.requests.join('\n'));
  const sae = loadSae(folder, { subfolder: 'saelens-standard' });
  assert.equal(sae.repoId, SAES);
  assert.deepEqual(weights(sae), weights(loadSae(join(FIXTURES, 'saelens-standard'))));

  // Found in the cache next time, without the network, downloads on or off.
  hub.requests.length = 0;
  assert.equal(await resolveSaeSpec(SAES, { ...options, allowDownloads: false }), folder);
  assert.equal(await resolveSaeSpec(SAES, options), folder);
  assert.deepEqual(hub.requests, []);

  // A second SAE of the same repo joins the snapshot.
  const sparsify = await resolveSaeSpec(SAES, { ...options, subfolder: 'layers.0/' });
  assert.equal(sparsify, folder);
  assert.deepEqual(weights(loadSae(sparsify, { subfolder: 'layers.0' })), weights(loadSae(join(SPARSIFY, SNAPSHOT, 'layers.0'))));
});

test('a repo holding one SAE needs no subfolder; Gemma Scope takes its hook from the cached path', async () => {
  hub.reset();
  const cacheDir = freshCache();
  const folder = await resolveSaeSpec(GEMMA_REPO, { cacheDir, allowDownloads: true, host: hub.url });
  const sae = loadSae(folder);
  const local = loadSae(GEMMA);
  assert.equal(sae.hook, 'blocks.1.hook_resid_post');
  assert.equal(sae.repoId, GEMMA_REPO);
  assert.deepEqual(weights(sae), weights(local));
});

test('which SAE: several without a subfolder, or a subfolder the repo lacks, are named errors before any download', async () => {
  hub.reset();
  const cacheDir = freshCache();
  await assert.rejects(resolveSaeSpec(SAES, { cacheDir, allowDownloads: true, host: hub.url }), (e: unknown) => e instanceof SaeError && /fixture\/tiny-saes holds 3 SAEs; choose one by its folder \(the CLI's --sae-id\): layers\.0, saelens-jumprelu, saelens-standard/.test(e.message));
  await assert.rejects(
    resolveSaeSpec(SAES, { cacheDir, allowDownloads: true, host: hub.url, subfolder: 'saelens' }),
    (e: unknown) => e instanceof DownloadError && e.kind === 'not-found' && /has no SAE in saelens; it has SAEs in saelens-jumprelu, saelens-standard$/.test(e.message),
  );
  await assert.rejects(resolveSaeSpec(SAES, { cacheDir, allowDownloads: true, host: hub.url, subfolder: '../../etc' }), /not a folder name inside a repository/);
  assert.ok(!hub.requests.some((q) => q.includes('/resolve/')));
  assert.deepEqual(filesUnder(cacheDir), []);
  assert.deepEqual(
    [...saeFoldersInListing(['a/cfg.json', 'a/sae_weights.safetensors', 'b/cfg.json', 'c/params.npz', 'sae.safetensors', 'cfg.json'])].map(([f, l]) => [f, l.format]),
    [
      ['', 'sparsify'],
      ['a', 'saelens'],
      ['c', 'gemma-scope'],
    ],
  );
});

test('downloads off: no request is made, nothing is written, and the message says how to turn them on', async () => {
  hub.reset();
  const cacheDir = freshCache();
  let fetches = 0;
  const spy: typeof fetch = (...args) => {
    fetches++;
    return fetch(...args);
  };
  await assert.rejects(
    resolveSaeSpec(SAES, { cacheDir, allowDownloads: false, host: hub.url, subfolder: 'saelens-standard', fetch: spy }),
    (e: unknown) => e instanceof DownloadError && e.kind === 'disabled' && /the SAE fixture\/tiny-saes \(saelens-standard\) is not in the cache .* downloads are off: allow them \(the tokenInspector\.allowDownloads setting, the CLI's --allow-downloads\)/.test(e.message),
  );
  await assert.rejects(downloadSae(SAES, { cacheDir, allowDownloads: false, host: hub.url, fetch: spy }), (e: unknown) => e instanceof DownloadError && e.kind === 'disabled');
  assert.equal(fetches, 0);
  assert.deepEqual(hub.requests, []);
  assert.ok(!existsSync(cacheDir));
  // A path is a path.
  assert.equal(await resolveSaeSpec(join(FIXTURES, 'saelens-standard'), { cacheDir, allowDownloads: false }), join(FIXTURES, 'saelens-standard'));
  await assert.rejects(resolveSaeSpec('not a repo/../x', { cacheDir, allowDownloads: false }), /neither an SAE folder or file nor a Hugging Face repo id/);
});

test('a checksum mismatch is a clear error and leaves nothing behind', async () => {
  hub.reset();
  hub.behaviour.corrupt = true;
  const cacheDir = freshCache();
  await assert.rejects(
    resolveSaeSpec(SAES, { cacheDir, allowDownloads: true, host: hub.url, subfolder: 'saelens-jumprelu' }),
    (e: unknown) => e instanceof DownloadError && e.kind === 'verification' && /saelens-jumprelu\/sae_weights\.safetensors: checksum mismatch .*nothing was written/.test(e.message),
  );
  assert.deepEqual(filesUnder(cacheDir), []);
  assert.equal(findCachedSnapshot(cacheDir, SAES), undefined);
});

test('a plain mirror without the listing API: the SAE files are probed; a folder without one is a clear error', async () => {
  hub.reset();
  hub.behaviour.noApi = true;
  const cacheDir = freshCache();
  const folder = await resolveSaeSpec(SAES, { cacheDir, allowDownloads: true, host: hub.url, subfolder: 'saelens-jumprelu' });
  assert.deepEqual(weights(loadSae(folder, { subfolder: 'saelens-jumprelu' })), weights(loadSae(join(FIXTURES, 'saelens-jumprelu'))));
  await assert.rejects(resolveSaeSpec(SAES, { cacheDir, allowDownloads: true, host: hub.url, subfolder: 'nothing-here' }), (e: unknown) => e instanceof DownloadError && e.kind === 'not-found' && /has no SAE in nothing-here/.test(e.message));
});

test('features --sae ID --sae-id SUBFOLDER --allow-downloads: the same result as the local folder', async () => {
  hub.reset();
  const cacheDir = freshCache();
  const text = join(FIXTURES, 'text.txt');
  const hidden = join(FIXTURES, 'input.npy');
  const run = async (argv: string[]) => {
    const chunks: string[] = [];
    await makeFeaturesCommand({ write: (s) => chunks.push(s) }).run([text, '--model', 'gpt2', '--hidden', hidden, '--encoder', 'topk', '--k', '4', '--json', ...argv]);
    return JSON.parse(chunks.join('\n')) as { sae: string; tokens: unknown[]; summary: unknown };
  };
  const hubArgs = ['--sae', SAES, '--sae-id', 'saelens-standard', '--cache-dir', cacheDir, '--hub-host', hub.url];
  await assert.rejects(run(hubArgs), (e: unknown) => e instanceof DownloadError && e.kind === 'disabled');
  assert.deepEqual(hub.requests, []);
  const viaHub = await run([...hubArgs, '--allow-downloads']);
  const local = await run(['--sae', join(FIXTURES, 'saelens-standard')]);
  assert.equal(viaHub.sae, SAES);
  assert.deepEqual(viaHub.tokens, local.tokens);
  const summary = (x: unknown) => ({ ...(x as Record<string, unknown>), encodeMs: 0 });
  assert.deepEqual(summary(viaHub.summary), summary(local.summary));
});
