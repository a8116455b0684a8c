/**
 * Folder totals (src/core/analysis/folderTotals.ts with src/core/files/*) and the `count` CLI command:
 * - the fixture tree test/fixtures/folder-tree, copied to a temp folder where its gitignore.txt files become
 *   .gitignore files (negation, anchored and directory-only patterns, `**`, a nested .gitignore overriding the
 *   top one) and a binary file, a UTF-16 file and a .git folder are added; the files counted are checked
 *   against a list written by hand and against `git ls-files --others --exclude-standard` when git is present;
 * - per-file counts against each tokenizer's count of the file read with decodeFileBytes;
 * - chunked counting (restart points) and streamed reading (large files) against whole-text counts;
 * - exclude/include globs, progress, cancellation, ignore files above the folder;
 * - the CLI: JSON output, chat counts, globs, and one-line errors with a non-zero exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkedTokenCounter, countTextTokens } from '../../src/core/analysis/chunkedCount';
import { countFolder, listFolderFiles, type FolderProgress, type FolderTotals } from '../../src/core/analysis/folderTotals';
import { nodeFolderFs } from '../../src/core/files/folderFs';
import { globMatcher } from '../../src/core/files/glob';
import { isIgnored, parseGitignore } from '../../src/core/files/gitignore';
import { findParentIgnoreFiles } from '../../src/core/files/parentIgnoreFiles';
import { findModel } from '../../src/core/models/catalog';
import { countChat } from '../../src/core/models/chat';
import { decodeFileBytes } from '../../src/core/text/readFile';
import { BUNDLED_TOKENIZERS } from '../../src/core/tokenizers/catalog';
import { loadTokenizer, type LoadedTokenizer } from '../../src/core/tokenizers/loader';
import { hardStrings } from '../harness/hardStrings';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'folder-tree');

const hasGit = spawnSync('git', ['--version']).status === 0;

/** A temp copy of the fixture with its .gitignore files, a binary file, a UTF-16 file and a .git folder. */
function fixtureCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ti-folder-'));
  cpSync(FIXTURE, dir, { recursive: true });
  renameSync(join(dir, 'gitignore.txt'), join(dir, '.gitignore'));
  renameSync(join(dir, 'src', 'gitignore.txt'), join(dir, 'src', '.gitignore'));
  // Binary: a NUL byte in the first 512 bytes (PNG-like header).
  writeFileSync(join(dir, 'data.bin'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), Buffer.alloc(200, 7)]));
  // UTF-16 LE with a BOM: has NUL bytes but is text.
  writeFileSync(join(dir, 'utf16.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('UTF-16 text: naïve 🎉\r\nsecond line\r\n', 'utf16le')]));
  if (hasGit) spawnSync('git', ['init', '-q', dir]);
  else mkdirSync(join(dir, '.git'));
  return dir;
}

/** Written by hand from the fixture's gitignore.txt files. */
const COUNTED = [
  '.gitignore',
  'README.md',
  'docs/a/b/final.md',
  'docs/guide.md',
  'keep.log', // !keep.log re-includes it after *.log
  'src/.gitignore',
  'src/deep/util.ts',
  'src/important.log', // the nested !important.log overrides the top *.log
  'src/main.ts',
  'src/only-root.txt', // /only-root.txt is anchored to the top folder
  'tmp', // tmp/ matches folders only
  'utf16.txt',
];
const IGNORED_FILES = 8; // notes.log, only-root.txt, trailing-space.txt, #hash.txt, src/generated.ts, src/deep/trace.log, docs/draft-0.md, docs/a/b/draft-1.md
const IGNORED_FOLDERS = 3; // build (/build/), src/tmp (tmp/), .git

let tokenizersPromise: Promise<LoadedTokenizer[]> | undefined;
function tokenizers(): Promise<LoadedTokenizer[]> {
  tokenizersPromise ??= Promise.all([loadTokenizer('o200k_base'), loadTokenizer('llama3')]);
  return tokenizersPromise;
}

function expectedTokens(dir: string, path: string, t: LoadedTokenizer): number {
  const text = decodeFileBytes(readFileSync(join(dir, path)), path).text;
  return t.tokenizer.encodeIds(text).length;
}

test('gitignore rules: negation, anchoring, directory-only, **, escapes, nested precedence', () => {
  const rules = parseGitignore('# comment\n\n*.log\n!keep.log\n/build/\ntmp/\ndocs/**/draft-*.md\na/**\n**/deep/x\n\\!bang\n\\#hash\nsp\\ \nfoo[0-9].txt\nq?.md\n');
  const set = [{ rules, dir: '', prefix: '' }];
  const cases: [string, boolean, boolean][] = [
    ['x.log', false, true],
    ['sub/x.log', false, true],
    ['keep.log', false, false],
    ['sub/keep.log', false, false],
    ['build', true, true],
    ['build', false, false], // directory-only
    ['sub/build', true, false], // anchored
    ['tmp', true, true],
    ['sub/tmp', true, true],
    ['tmp', false, false],
    ['docs/draft-1.md', false, true],
    ['docs/x/y/draft-2.md', false, true],
    ['other/docs/draft-1.md', false, false],
    ['a/b/c.txt', false, true],
    ['a', true, false], // a/** matches what is inside a, not a itself
    ['deep/x', false, true],
    ['p/q/deep/x', false, true],
    ['!bang', false, true],
    ['#hash', false, true],
    ['sp ', false, true],
    ['foo7.txt', false, true],
    ['fooa.txt', false, false],
    ['qa.md', false, true],
    ['q/.md', false, false], // ? never matches /
  ];
  for (const [path, isDir, expected] of cases) assert.equal(isIgnored(set, path, isDir), expected, `${path}${isDir ? '/' : ''}`);
  // A nested file's rules apply below its folder only, and win over the outer ones.
  const nested = [...set, { rules: parseGitignore('!*.log\ngen.ts\n'), dir: 'src', prefix: '' }];
  assert.equal(isIgnored(nested, 'src/a.log', false), false);
  assert.equal(isIgnored(nested, 'lib/a.log', false), true);
  assert.equal(isIgnored(nested, 'src/x/gen.ts', false), true);
  assert.equal(isIgnored(nested, 'gen.ts', false), false);
  // Rules from above the folder see paths prefixed with the folder's place under them.
  const above = [{ rules: parseGitignore('pkg/dist/\n/pkg/top.txt\n'), dir: '', prefix: 'pkg' }];
  assert.equal(isIgnored(above, 'dist', true), true);
  assert.equal(isIgnored(above, 'top.txt', false), true);
  assert.equal(isIgnored(above, 'x/top.txt', false), false);
});

test('VS Code globs: **, *, ?, [..], {a,b}, folders', () => {
  const m = globMatcher(['**/node_modules', '**/*.{js,map}', 'out', 'docs/*.md', 'a?c', '**/[Tt]mp/**']);
  for (const p of ['node_modules', 'x/y/node_modules', 'a.js', 'x/a.map', 'out', 'docs/r.md', 'abc', 'tmp/x', 'x/Tmp/y/z']) assert.ok(m(p), p);
  for (const p of ['node_modules2', 'a.ts', 'x/out', 'docs/x/r.md', 'abbc', 'tmpx/y']) assert.ok(!m(p), p);
  assert.ok(!globMatcher([])('anything'));
});

test('countFolder on the fixture: .gitignore (negation, nested, anchored, dir-only, **), binary skipped and counted, nested folders', async () => {
  const dir = fixtureCopy();
  try {
    const toks = await tokenizers();
    const r = await countFolder(nodeFolderFs(dir), { tokenizers: toks });
    assert.deepEqual(
      r.files.map((f) => f.path),
      COUNTED,
    );
    assert.deepEqual(r.skipped, [{ path: 'data.bin', reason: 'binary' }]);
    assert.equal(r.totals.files, COUNTED.length);
    assert.equal(r.totals.skippedBinary, 1);
    assert.equal(r.totals.skippedIgnored, IGNORED_FILES);
    assert.equal(r.totals.skippedIgnoredFolders, IGNORED_FOLDERS);
    assert.equal(r.totals.skippedUnreadable, 0);
    for (const t of toks) {
      let sum = 0;
      for (const f of r.files) {
        const expected = expectedTokens(dir, f.path, t);
        assert.equal(f.tokens[t.id], expected, `${f.path} under ${t.id}`);
        sum += expected;
      }
      assert.equal(r.totals.tokens[t.id], sum);
    }
    assert.equal(r.totals.bytes, r.files.reduce((s, f) => s + readFileSync(join(dir, f.path)).length, 0));
    // The UTF-16 file is read as text (its NUL bytes are UTF-16, not binary).
    assert.ok((r.files.find((f) => f.path === 'utf16.txt')?.tokens.o200k_base ?? 0) > 5);
    if (hasGit) {
      // git's own idea of the files it does not ignore (binary files are files to git).
      const git = spawnSync('git', ['ls-files', '--others', '--exclude-standard'], { cwd: dir, encoding: 'utf8' });
      assert.equal(git.status, 0);
      const gitFiles = git.stdout.split('\n').filter(Boolean).sort();
      assert.deepEqual([...r.files.map((f) => f.path), 'data.bin'].sort(), gitFiles);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exclude globs (files.exclude, rooted at excludeBase), include globs, and gitignore off', async () => {
  const dir = fixtureCopy();
  try {
    const toks = await tokenizers();
    const fs = nodeFolderFs(dir);
    const ex = await countFolder(fs, { tokenizers: toks, exclude: ['**/*.md', 'src/deep'] });
    assert.deepEqual(
      ex.files.map((f) => f.path),
      COUNTED.filter((p) => !p.endsWith('.md') && !p.startsWith('src/deep/')),
    );
    // 3 .md files more, and src/deep/trace.log is no longer seen (its folder is not walked).
    assert.equal(ex.totals.skippedIgnored, IGNORED_FILES + 3 - 1);
    assert.equal(ex.totals.skippedIgnoredFolders, IGNORED_FOLDERS + 1);
    // Counting src/ of a workspace whose files.exclude says src/deep: the globs are rooted at the workspace.
    // The top .gitignore applies from above (found through the .git folder): src/tmp/ stays ignored.
    const sub = await listFolderFiles(nodeFolderFs(join(dir, 'src')), {
      exclude: ['src/deep'],
      excludeBase: 'src',
      parentIgnoreFiles: await findParentIgnoreFiles(join(dir, 'src')),
    });
    assert.deepEqual(
      sub.files.map((f) => f.path),
      ['.gitignore', 'important.log', 'main.ts', 'only-root.txt'],
    );
    const inc = await listFolderFiles(fs, { include: ['**/*.ts'] });
    assert.deepEqual(
      inc.files.map((f) => f.path),
      ['src/deep/util.ts', 'src/main.ts'],
    );
    const all = await listFolderFiles(fs, { gitignore: false });
    assert.equal(all.files.length, COUNTED.length + IGNORED_FILES + 1 /* data.bin */ + 2 /* build/out.js, src/tmp/cache.txt */);
    assert.equal(all.ignoredFolders, 1); // .git is never walked
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ignore files above the folder: .gitignore files up to the repository top and .git/info/exclude', async () => {
  const top = mkdtempSync(join(tmpdir(), 'ti-repo-'));
  try {
    mkdirSync(join(top, '.git', 'info'), { recursive: true });
    writeFileSync(join(top, '.git', 'info', 'exclude'), '*.tmp\n');
    writeFileSync(join(top, '.gitignore'), '*.secret\n/pkg/lib/generated/\n');
    mkdirSync(join(top, 'pkg', 'lib', 'generated'), { recursive: true });
    writeFileSync(join(top, 'pkg', '.gitignore'), '!keep.secret\n');
    writeFileSync(join(top, 'pkg', 'lib', 'a.ts'), 'a');
    writeFileSync(join(top, 'pkg', 'lib', 'b.secret'), 'b');
    writeFileSync(join(top, 'pkg', 'lib', 'keep.secret'), 'k');
    writeFileSync(join(top, 'pkg', 'lib', 'c.tmp'), 'c');
    writeFileSync(join(top, 'pkg', 'lib', 'generated', 'g.ts'), 'g');
    const folder = join(top, 'pkg', 'lib');
    const parents = await findParentIgnoreFiles(folder);
    assert.deepEqual(
      parents.map((p) => p.prefix),
      ['pkg/lib', 'pkg/lib', 'lib'],
    );
    const listed = await listFolderFiles(nodeFolderFs(folder), { parentIgnoreFiles: parents });
    assert.deepEqual(
      listed.files.map((f) => f.path),
      ['a.ts', 'keep.secret'],
    );
    assert.equal(listed.ignored, 2);
    assert.equal(listed.ignoredFolders, 1);
    assert.deepEqual(await findParentIgnoreFiles(tmpdir()), []);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

function multilingualText(): string {
  const parts = [...hardStrings(11, 400)];
  for (const f of ['README.md', 'code.ts', 'emoji-cjk.md', 'mixed-eol.txt']) parts.push(readFileSync(join(ROOT, 'sample-workspace', f), 'utf8'));
  // Lines of prose and code, and runs of spaces and blank lines around the restart points.
  return parts.join('\n') + '\n\n   \n\tindented line\n  \nlast words here';
}

test('chunked counting equals the whole-text count for every bundled tokenizer (split at restart points)', async () => {
  const text = multilingualText();
  // Source code with its indentation removed: a restart point on nearly every line.
  const code = readFileSync(join(ROOT, 'src', 'core', 'analysis', 'documentTokens.ts'), 'utf8')
    .split('\n')
    .map((l) => l.trimStart())
    .join('\n');
  for (const entry of BUNDLED_TOKENIZERS) {
    const t = (await loadTokenizer(entry.id)).tokenizer;
    const whole = t.encodeIds(text).length;
    for (const chunkUnits of [500, 1500]) {
      const r = countTextTokens(t, text, { chunkUnits });
      assert.equal(r.count, whole, `${entry.id} in chunks of ${chunkUnits}`);
      assert.equal(r.approximate, false, `${entry.id} in chunks of ${chunkUnits}`);
    }
    // Fed in odd pieces that split surrogate pairs and CRLFs.
    const c = new ChunkedTokenCounter(t, 500);
    for (let i = 0; i < text.length; i += 29) c.push(text.slice(i, i + 29));
    assert.equal(c.finish(), whole, `${entry.id} pushed in pieces`);
    assert.equal(c.approximate, false);
    // Very small chunks: restart points are frequent enough that nothing is forced.
    const small = countTextTokens(t, code, { chunkUnits: 40 });
    assert.deepEqual(small, { count: t.encodeIds(code).length, approximate: false }, `${entry.id}: code in chunks of 40`);
  }
});

test('a long stretch without restart points is split anyway and flagged approximate', async () => {
  const gemma = (await loadTokenizer('gemma3')).tokenizer; // restarts only after newlines
  const line = 'x'.repeat(3000);
  const r = countTextTokens(gemma, line, { chunkUnits: 100 });
  assert.equal(r.approximate, true);
  assert.ok(Math.abs(r.count - gemma.encodeIds(line).length) <= 10);
});

test('files over maxFileBytes are streamed (two passes, bounded chunks) with the same counts as whole reads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ti-stream-'));
  try {
    const text = multilingualText();
    writeFileSync(join(dir, 'a-utf8.txt'), text);
    writeFileSync(join(dir, 'b-bom.txt'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    writeFileSync(join(dir, 'c-crlf.txt'), text.replace(/\r?\n/g, '\r\n').replace('\r\n', '\n').replace('\r\n', '\r'));
    writeFileSync(join(dir, 'd-utf16le.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.toWellFormed(), 'utf16le')]));
    writeFileSync(join(dir, 'e-utf16be.txt'), Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text.toWellFormed(), 'utf16le').swap16()]));
    writeFileSync(join(dir, 'f-invalid.txt'), Buffer.concat([Buffer.from('bad bytes \xff\xfe here\n', 'latin1'), Buffer.from(text)]));
    writeFileSync(join(dir, 'g-lone-cr.txt'), 'one\rtwo\rthree\nfour\r');
    writeFileSync(join(dir, 'h-binary.bin'), Buffer.concat([Buffer.alloc(600, 65), Buffer.from([0]), Buffer.alloc(10, 66)]));
    writeFileSync(join(dir, 'i-binary-early.bin'), Buffer.concat([Buffer.from([0]), Buffer.alloc(2000, 66)]));
    const toks = await tokenizers();
    const fs = nodeFolderFs(dir);
    const whole = await countFolder(fs, { tokenizers: toks });
    const streamed = await countFolder(fs, { tokenizers: toks, maxFileBytes: 16, streamChunkBytes: 7, chunkUnits: 500 });
    assert.deepEqual(
      streamed.files.map((f) => f.streamed),
      streamed.files.map(() => true),
    );
    assert.deepEqual(
      streamed.files.map((f) => [f.path, f.tokens]),
      whole.files.map((f) => [f.path, f.tokens]),
    );
    assert.deepEqual(streamed.totals, whole.totals);
    assert.ok(streamed.files.every((f) => !f.approximate));
    // h-binary.bin has its NUL after the first 512 bytes: text, as VS Code reads it.
    assert.deepEqual(
      whole.skipped.map((s) => s.path),
      ['i-binary-early.bin'],
    );
    for (const f of whole.files) for (const t of toks) assert.equal(f.tokens[t.id], expectedTokens(dir, f.path, t), `${f.path} ${t.id}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('progress (scan, then count with the total bytes) and cancellation', async () => {
  const dir = fixtureCopy();
  try {
    const toks = await tokenizers();
    const events: FolderProgress[] = [];
    const r: FolderTotals = await countFolder(nodeFolderFs(dir), { tokenizers: toks, onProgress: (p) => events.push(p) });
    const scans = events.filter((e) => e.phase === 'scan');
    const counts = events.filter((e) => e.phase === 'count');
    assert.equal(scans.length, COUNTED.length + 1);
    assert.ok(counts.length >= COUNTED.length + 1);
    const last = counts[counts.length - 1];
    assert.equal(last.filesDone, last.filesFound);
    assert.equal(last.bytesDone, last.bytesTotal);
    assert.equal(last.bytesTotal, r.totals.bytes + readFileSync(join(dir, 'data.bin')).length);

    const ac = new AbortController();
    await assert.rejects(
      countFolder(nodeFolderFs(dir), {
        tokenizers: toks,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.phase === 'count' && p.filesDone === 2) ac.abort();
        },
      }),
      (e: unknown) => (e as Error).name === 'AbortError',
    );
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(countFolder(nodeFolderFs(dir), { tokenizers: toks, signal: pre.signal }), (e: unknown) => (e as Error).name === 'AbortError');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------------------
// The CLI
// ---------------------------------------------------------------------------------------------------------

function cli(args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface CliJson {
  model: { id: string; contextWindow: number; inputPricePerMTok: number | null } | null;
  tokenizer: string;
  files: { path: string; tokens: number; templateTokens: number | null; contextWindow: number | null; fraction: number | null; inputCost: number | null }[];
  total: { files: number; tokens: number; templateTokens: number | null; contextWindow: number | null; fraction: number | null; inputCost: number | null; skippedBinary: number; skippedIgnored: number; skippedIgnoredFolders: number };
}

test('CLI count: folders and files, --json with context fraction and cost, --as-chat, quoted globs', async () => {
  const dir = fixtureCopy();
  try {
    const toks = await tokenizers();
    const o200k = toks[0];
    const r = cli(['count', dir, join(dir, 'README.md'), '--model', 'gpt-4o', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as CliJson;
    assert.equal(j.model?.id, 'gpt-4o');
    assert.equal(j.tokenizer, 'o200k_base');
    assert.equal(j.files.length, COUNTED.length + 1);
    assert.equal(j.files[0].path, `${dir}/.gitignore`);
    const readme = expectedTokens(dir, 'README.md', o200k);
    assert.equal(j.files[j.files.length - 1].tokens, readme);
    const folderTotal = COUNTED.reduce((s, p) => s + expectedTokens(dir, p, o200k), 0);
    assert.equal(j.total.tokens, folderTotal + readme);
    assert.equal(j.total.contextWindow, 128000);
    assert.equal(j.total.fraction, j.total.tokens / 128000);
    assert.ok(Math.abs((j.total.inputCost ?? 0) - (j.total.tokens * 2.5) / 1e6) < 1e-12);
    assert.equal(j.total.templateTokens, null);
    assert.deepEqual([j.total.skippedBinary, j.total.skippedIgnored, j.total.skippedIgnoredFolders], [1, IGNORED_FILES, IGNORED_FOLDERS]);

    const chat = cli(['count', join(dir, 'docs', 'guide.md'), '--model', 'Llama 3.1 8B', '--as-chat', '--json']);
    assert.equal(chat.status, 0, chat.stderr);
    const cj = JSON.parse(chat.stdout) as CliJson;
    const expected = await countChat(findModel('llama-3.1-8b') ?? assert.fail(), decodeFileBytes(readFileSync(join(dir, 'docs', 'guide.md'))).text);
    assert.equal(cj.files[0].tokens, expected.tokens);
    assert.equal(cj.files[0].templateTokens, expected.templateTokens);
    assert.equal(cj.total.inputCost, null); // open weights: no list price
    assert.equal(cj.total.contextWindow, 131072);

    const glob = cli(['count', `${dir}/**/*.ts`, '--tokenizer', 'llama3', '--json']);
    assert.equal(glob.status, 0, glob.stderr);
    const gj = JSON.parse(glob.stdout) as CliJson;
    assert.deepEqual(
      gj.files.map((f) => f.path),
      [`${dir}/src/deep/util.ts`, `${dir}/src/main.ts`],
    );
    assert.equal(gj.model, null);
    assert.equal(gj.total.fraction, null);

    const table = cli(['count', dir, '--model', 'gpt-4o', '--as-chat', '--system', '--price', '5']);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^GPT-4o: tokenizer o200k_base, context window 128,000 tokens, \$5\.00 per 1M input tokens/);
    assert.match(table.stdout, /TOTAL \(12 files\)/);
    assert.match(table.stdout, /skipped: 1 binary, 8 ignored, 3 ignored folders not walked/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI count: bad input is one clear line on stderr and a non-zero exit', () => {
  const cases: [string[], RegExp][] = [
    [['count', 'README.md', '--model', 'gpt-9'], /unknown model "gpt-9"; known models: gpt-4o, /],
    [['count', 'no/such/file.txt', '--model', 'gpt-4o'], /no\/such\/file\.txt: no such file or folder/],
    [['count', '--model', 'gpt-4o'], /count needs a PATH/],
    [['count', 'README.md'], /count needs --model NAME/],
    [['count', 'README.md', '--model', 'gpt-4o', '--tokenizer', 'llama3'], /not both/],
    [['count', 'README.md', '--model', 'gpt-4o', '--system'], /only apply with --as-chat/],
    [['count', 'README.md', '--model', 'mistral-7b-v0.1', '--as-chat'], /no chat template ships for Mistral 7B/],
    [['count', 'README.md', '--tokenizer', 'o200k_base', '--as-chat'], /has no chat template/],
    [['count', 'README.md', '--model', 'gpt-4o', '--price', 'cheap'], /--price needs USD per million/],
    [['count', 'README.md', '--tokenizer', 'nope'], /unknown tokenizer "nope"/],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], /^token-inspector: /);
    assert.match(lines[0], message);
  }
});
