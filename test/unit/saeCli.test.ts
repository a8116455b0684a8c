/**
 * `token-inspector features`: with `--hidden FILE.npy` against the torch references, with a stand-in
 * hidden-state source (the ONNX model's interface), and the messages when the parts do not fit.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeFeaturesCommand, NO_HIDDEN_STATE_SOURCE, type FeaturesCommandDeps } from '../../src/cli/commands/features';
import { encodeNpy, fileSource, readNpy, SaeError, type HiddenStateSource } from '../../src/core/sae';
import { ENCODERS } from '../../src/core/sae/encoderKinds';
import { loadTokenizer } from '../../src/core/tokenizers/loader';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'sae');
const TEXT = join(FIXTURES, 'text.txt');
const INPUT = join(FIXTURES, 'input.npy');
const STANDARD = join(FIXTURES, 'saelens-standard');
const tmp = mkdtempSync(join(tmpdir(), 'sae-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface JsonFeature {
  index: number;
  activation: number;
  label: string | null;
}
interface JsonToken {
  id: number;
  text: string;
  bytes: [number, number];
  added: boolean;
  selected: number;
  active: number;
  features: JsonFeature[];
  reconstructionError: number | null;
  varianceExplained: number | null;
}
interface JsonOutput {
  model: string;
  sae: string;
  encoder: string;
  k: number | null;
  m: number | null;
  hook: string | null;
  tokens: JsonToken[];
  summary: { tokens: number; selected: number; active: number };
}
interface ExpectedCase {
  encoder: string;
  k: number | null;
  m: number | null;
  selected: [number, number][][];
  normalizedMse: number[];
  varianceExplained: number[];
}

async function run(argv: string[], deps: FeaturesCommandDeps = {}): Promise<string> {
  const chunks: string[] = [];
  await makeFeaturesCommand({ ...deps, write: (s) => chunks.push(s) }).run(argv);
  return chunks.join('\n');
}

async function runJson(argv: string[], deps: FeaturesCommandDeps = {}): Promise<JsonOutput> {
  return JSON.parse(await run([...argv, '--json'], deps)) as JsonOutput;
}

function expectedCases(folder: string): ExpectedCase[] {
  return (JSON.parse(readFileSync(join(folder, 'expected.json'), 'utf8')) as { cases: ExpectedCase[] }).cases;
}

function inputMatrix(): Float32Array {
  const src = fileSource(INPUT);
  try {
    return readNpy(src).data;
  } finally {
    src.close();
  }
}

function near(a: number | null, b: number, what: string): void {
  assert.ok(a !== null && Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

test('--hidden FILE.npy: every encoder matches the torch reference token by token', async () => {
  const { tokenizer } = await loadTokenizer('gpt2');
  const stream = tokenizer.encode(readFileSync(TEXT, 'utf8'));
  for (const c of expectedCases(STANDARD)) {
    const argv = [TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', INPUT, '--encoder', c.encoder];
    if (c.k !== null) argv.push('--k', String(c.k));
    if (c.m !== null) argv.push('--m', String(c.m));
    const out = await runJson(argv);
    assert.equal(out.encoder, c.encoder);
    assert.equal(out.hook, 'blocks.1.hook_resid_pre');
    assert.equal(out.tokens.length, 12);
    out.tokens.forEach((t, i) => {
      assert.equal(t.id, stream.ids[i]);
      assert.deepEqual(t.bytes, [stream.byteOffsets[i], stream.byteOffsets[i + 1]]);
      assert.equal(t.added, false);
      const mine = [...t.features].sort((a, b) => a.index - b.index);
      assert.deepEqual(
        mine.map((f) => f.index),
        c.selected[i].map(([f]) => f),
        `${c.encoder}: token ${i}`,
      );
      mine.forEach((f, j) => near(f.activation, c.selected[i][j][1], `${c.encoder}: token ${i} feature ${f.index}`));
      assert.equal(t.selected, c.selected[i].length);
      assert.equal(t.active, c.selected[i].filter(([, a]) => a > 0).length);
      near(t.reconstructionError, c.normalizedMse[i], `${c.encoder}: token ${i} normalized MSE`);
      near(t.varianceExplained, c.varianceExplained[i], `${c.encoder}: token ${i} variance explained`);
      // Features come by activation, descending.
      for (let j = 1; j < t.features.length; j++) assert.ok(t.features[j - 1].activation >= t.features[j].activation);
    });
    if (c.encoder === 'topk') assert.ok(out.tokens.every((t) => t.selected === c.k));
    if (c.encoder === 'mutual-choice') assert.equal(out.summary.selected, (c.k as number) * 12);
  }
});

test('labels from a Neuronpedia export join through the SAE neuronpedia_id; unlabelled features are null', async () => {
  const out = await runJson([TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', INPUT, '--encoder', 'relu', '--labels', join(FIXTURES, 'labels', 'neuronpedia-explanations.jsonl')]);
  const all = out.tokens.flatMap((t) => t.features);
  assert.ok(all.length > 0);
  for (const f of all) assert.equal(f.label, f.index % 5 === 4 ? null : f.index === 0 ? 'fixture feature 0' : `fixture feature ${f.index}`);
  const text = await run([TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', INPUT, '--encoder', 'topk', '--k', '4', '--labels', join(FIXTURES, 'labels', 'plain.json')]);
  assert.match(text, /plain label \d+ \(#\d+\)/);
  assert.match(text, /#\d+ \d/); // an unlabelled feature shows its index
  assert.match(text, /^INDEX\s+TEXT\s+SEL\s+ACT\s+nMSE\s+TOP FEATURES$/m);
});

test('a BOS row: the SAE was trained with prepend_bos, and a matrix with one more row is read with <|endoftext|> first', async () => {
  const x = inputMatrix();
  const withBos = new Float32Array(13 * 32);
  withBos.set(x.subarray(0, 32), 0);
  withBos.set(x, 32);
  const path = join(tmp, 'bos.npy');
  writeFileSync(path, encodeNpy(withBos, [13, 32]));
  const out = await runJson([TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', path, '--encoder', 'topk', '--k', '5']);
  assert.equal(out.tokens.length, 13);
  assert.deepEqual({ id: out.tokens[0].id, text: out.tokens[0].text, bytes: out.tokens[0].bytes, added: out.tokens[0].added }, { id: 50256, text: '<|endoftext|>', bytes: [0, 0], added: true });
  assert.equal(out.tokens[1].text, 'The');
});

test('a hidden-state source (the ONNX model interface): the hook asked for, the BOS sent, the model checked', async () => {
  const x = inputMatrix();
  const asked: { ids: number[]; hook: string }[] = [];
  const source = (dModel = 32, hooks: readonly string[] | undefined = ['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre', 'blocks.1.hook_resid_post']): HiddenStateSource => ({
    modelName: 'tiny-gpt2',
    availableHooks: hooks,
    async hiddenStates(ids, hook) {
      asked.push({ ids: [...ids], hook });
      const data = new Float32Array(ids.length * dModel);
      for (let t = 0; t < ids.length; t++) for (let j = 0; j < dModel; j++) data[t * dModel + j] = x[(Math.max(0, t - 1) % 12) * 32 + (j % 32)];
      return { data, dModel };
    },
  });
  const out = await runJson([TEXT, '--model', 'gpt2', '--sae', STANDARD, '--encoder', 'topk', '--k', '3'], { hiddenStateSource: async () => source() });
  assert.equal(asked[0].hook, 'blocks.1.hook_resid_pre');
  assert.equal(asked[0].ids[0], 50256); // prepend_bos: TransformerLens's BOS for GPT-2
  assert.equal(asked[0].ids.length, 13);
  assert.equal(out.tokens.length, 13);
  assert.ok(out.tokens.every((t) => t.selected === 3));

  await assert.rejects(run([TEXT, '--model', 'gpt2', '--sae', STANDARD], { hiddenStateSource: async () => source(48) }), (e: unknown) => {
    assert.ok(e instanceof SaeError);
    assert.match(e.message, /reads vectors of width 32 \(d_in\) but tiny-gpt2's hidden state at blocks\.1\.hook_resid_pre has width 48: it belongs to another model \(it was trained on tiny-gpt2\)/);
    return true;
  });
  await assert.rejects(run([TEXT, '--model', 'gpt2', '--sae', STANDARD], { hiddenStateSource: async () => source(32, ['blocks.0.hook_resid_pre']) }), /reads blocks\.1\.hook_resid_pre, which tiny-gpt2 does not have; it has blocks\.0\.\.0 × hook_resid_pre/);
  await assert.rejects(
    run([TEXT, '--model', 'gpt2', '--sae', join(FIXTURES, 'gemma-scope-compressed')], { hiddenStateSource: async () => source() }),
    /does not say which hook it reads \(no hook_name in its config\); give one \(e\.g\. --hook blocks\.6\.hook_resid_post\)/,
  );
  const withHook = await runJson([TEXT, '--model', 'gpt2', '--sae', join(FIXTURES, 'gemma-scope-compressed'), '--hook', 'blocks.1.hook_resid_post'], { hiddenStateSource: async () => source() });
  assert.equal(withHook.hook, 'blocks.1.hook_resid_post');
  assert.equal(withHook.encoder, 'jumprelu');
});

test('messages: no ONNX model yet, rows or widths that do not fit, bad options', async () => {
  await assert.rejects(run([TEXT, '--model', 'gpt2', '--sae', STANDARD]), (e: unknown) => e instanceof SaeError && e.message === NO_HIDDEN_STATE_SOURCE);
  assert.match(NO_HIDDEN_STATE_SOURCE, /^hidden states need an ONNX model, .*give them with --hidden FILE\.npy/);
  const wide = join(tmp, 'wide.npy');
  writeFileSync(wide, encodeNpy(new Float32Array(12 * 16), [12, 16]));
  await assert.rejects(run([TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', wide]), /wide\.npy: rows of width 16, but the SAE reads width 32 \(d_in\)/);
  const short = join(tmp, 'short.npy');
  writeFileSync(short, encodeNpy(new Float32Array(5 * 32), [5, 32]));
  await assert.rejects(run([TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', short]), /short\.npy has 5 rows but .*text\.txt is 12 \(13 with the BOS the SAE expects\) tokens under gpt2/);
  await assert.rejects(run([TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', INPUT, '--encoder', 'jumprelu']), /jumprelu encoder needs per-feature thresholds/);
  await assert.rejects(run([TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', INPUT, '--encoder', 'topk']), /topk encoder needs k/);
  await assert.rejects(run([TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', INPUT, '--encoder', 'sparsest']), /--encoder must be one of relu, jumprelu, topk, feature-choice, mutual-choice/);
  await assert.rejects(run([TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', INPUT, '--k', 'many']), /--k needs a positive integer/);
  await assert.rejects(run([TEXT, '--sae', STANDARD]), /features needs --model/);
  await assert.rejects(run([TEXT, '--model', 'gpt2']), /features needs --sae/);
  await assert.rejects(run([TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', join(tmp, 'none.npy')]), /--hidden .*none\.npy: no such file/);
  await assert.rejects(run([TEXT, '--model', 'gpt2', '--sae', join(FIXTURES, 'hf-cache', 'models--fixture--sparsify-tiny-gpt2'), '--hidden', INPUT]), /holds 2 SAEs; give one of them \(layers\.0, layers\.1\)/);
  const sp = await runJson([TEXT, '--model', 'gpt2', '--sae', join(FIXTURES, 'hf-cache', 'models--fixture--sparsify-tiny-gpt2'), '--sae-id', 'layers.1', '--hidden', INPUT]);
  assert.equal(sp.encoder, 'topk');
  assert.equal(sp.k, 8);
});

test('features --help: every encoder kind of the table, what it selects and the budgets it reads', async () => {
  const help = await run(['--help']);
  const escape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(help, /--encoder relu\|jumprelu\|topk\|feature-choice\|mutual-choice\]/);
  for (const e of ENCODERS) assert.match(help, new RegExp(`^  ${escape(e.id)} +${escape(e.label)}: ${escape(e.help)}`, 'm'));
  assert.match(help, /^ {2}\(none\) +The SAE's own activation/m);
  assert.match(help, /^ {2}feature-choice +Feature Choice: .* \(--k, default the SAE's own k; --m, default max\(1, ⌈k·n\/F⌉\)\)$/m);
  assert.match(help, /^ {2}relu +ReLU: every feature with a positive pre-activation$/m);
});

test('registered in the CLI: exit codes and one-line messages through main', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { encoding: 'utf8', cwd: ROOT });
  const help = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), '--help'], { encoding: 'utf8', cwd: ROOT });
  assert.match(help, /features FILE --model PATH_OR_ID --sae PATH/);
  // `gpt2` names a bundled tokenizer, not an ONNX model this machine has: hidden states need one (or --hidden).
  const missing = cli(['features', TEXT, '--model', 'gpt2', '--sae', STANDARD, '--cache-dir', join(tmp, 'empty-cache')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr.trim(), /^token-inspector: hidden states need an ONNX model; --model gpt2: gpt2 is not in the model cache .* downloads are off.*; or give the hidden states with --hidden FILE\.npy$/);
  const pickle = cli(['features', TEXT, '--model', 'gpt2', '--sae', join(FIXTURES, 'bad', 'openai-topk.pt'), '--hidden', INPUT]);
  assert.equal(pickle.status, 1);
  assert.match(pickle.stderr, /^token-inspector: .*openai-topk\.pt is a pickled PyTorch file/);
  const usage = cli(['features', TEXT, '--model', 'gpt2', '--sae', STANDARD, '--encoder', 'nope']);
  assert.equal(usage.status, 2);
  const ok = cli(['features', TEXT, '--model', 'gpt2', '--sae', STANDARD, '--hidden', INPUT, '--json', '--encoder', 'mutual-choice', '--k', '2']);
  assert.equal(ok.status, 0, ok.stderr);
  const parsed = JSON.parse(ok.stdout) as JsonOutput;
  assert.equal(parsed.summary.selected, 24);
  assert.deepEqual(Object.keys(parsed.tokens[0]).slice(0, 3), ['id', 'text', 'bytes']);
});
