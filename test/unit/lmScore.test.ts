/**
 * Document scoring (src/core/lm/score.ts), workspace discovery and training (src/core/lm/workspaceFiles.ts)
 * and the `score` CLI: per-byte surprisal adds up to per-token surprisal (zero-width tokens included), windows
 * and cancellation, an async model, .gitignore rules, and the CLI's JSON.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main';
import { DenseDistribution, type LanguageModel, type NextTokenDistribution } from '../../src/core/lm/model';
import { trainNgram } from '../../src/core/lm/ngram';
import { rankBucket, scoreDocument, scoredToken, spreadSurprisal, tokenDisplayText } from '../../src/core/lm/score';
import {
  defaultWorkspaceFor,
  findRepositoryRoot,
  listWorkspaceFiles,
  trainWorkspaceNgram,
  workspaceKey,
} from '../../src/core/lm/workspaceFiles';
import { parseGitignore } from '../../src/core/files/gitignore';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import { TokenFlag } from '../../src/core/tokenizers/types';

const TEXTS = [
  'function add(a, b) {\n  return a + b;\n}\n',
  'function sub(a, b) {\n  return a - b;\n}\n',
  'const greeting = "Hello, world!";\nconsole.log(greeting);\n',
  'export function mul(a, b) {\n  return a * b; // product\n}\n',
];

function sum(a: ArrayLike<number>, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i];
  return s;
}

test('spreading: each token evenly over its bytes; zero-width tokens go to the next token, or the previous at the end', () => {
  // Tokens over 6 bytes: [0,2) [2,2) zero-width [2,5) [5,6) [6,6) zero-width at the end.
  const offsets = Uint32Array.of(0, 2, 2, 5, 6, 6);
  const ln2 = Math.LN2;
  const logProbs = Float64Array.of(-2 * ln2, -3 * ln2, -3 * ln2, -1 * ln2, -4 * ln2); // 2, 3, 3, 1, 4 bits
  const bits = spreadSurprisal(offsets, 5, 6, logProbs);
  const expected = [1, 1, 2, 2, 2, 1 + 4];
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(bits[i] - expected[i]) < 1e-12, `byte ${i}: ${bits[i]}`);
  assert.ok(Math.abs(sum(bits) - 13) < 1e-12);
  // Only zero-width tokens and no bytes: nothing to spread on.
  assert.equal(spreadSurprisal(Uint32Array.of(0, 0), 1, 0, Float64Array.of(-1)).length, 0);
});

test('per-byte surprisal sums to per-token surprisal (gpt2, o200k, mistral with a zero-width token)', async () => {
  for (const id of ['gpt2', 'o200k_base', 'mistral']) {
    const { tokenizer } = await loadTokenizer(id);
    const model = trainNgram(
      tokenizer.vocabSize,
      TEXTS.map((t, i) => ({ key: `f${i}`, ids: tokenizer.encodeIds(t) })),
      { order: 3 },
    );
    // Mistral prepends a zero-width `▁` before a text that starts with a digit; é splits into partial bytes elsewhere.
    const text = '1 émoji 😀 and ﬁne\nfunction add(a, b) {\n  return a + b;\n}\n';
    const scores = await scoreDocument(model.withoutDocument('f0'), tokenizer, text, { topK: 3, windowTokens: 5 });
    const s = scores.stream;
    let tokenBits = 0;
    for (let i = 0; i < scores.count; i++) tokenBits += -scores.logProbs[i] / Math.LN2;
    assert.ok(Math.abs(sum(scores.surprisalBits) - tokenBits) < 1e-9 * tokenBits, `${id}: ${sum(scores.surprisalBits)} vs ${tokenBits}`);
    assert.equal(scores.surprisalBits.length, s.byteLength);
    // Token by token, for tokens with bytes and no zero-width neighbour before them.
    for (let i = 1; i < scores.count; i++) {
      if (s.byteOffsets[i + 1] === s.byteOffsets[i] || s.byteOffsets[i] === s.byteOffsets[i - 1]) continue;
      const bits = sum(scores.surprisalBits, s.byteOffsets[i], s.byteOffsets[i + 1]);
      assert.ok(Math.abs(bits + scores.logProbs[i] / Math.LN2) < 1e-9, `${id} token ${i}`);
    }
    if (id === 'mistral') assert.ok(s.flags.some((f) => (f & TokenFlag.ZeroWidth) !== 0), 'mistral has a zero-width token here');
    // The object form.
    const t = scoredToken(scores, tokenizer, 3);
    assert.equal(t.id, s.ids[3]);
    assert.equal(t.byteStart, s.byteOffsets[3]);
    assert.equal(t.top.length, 3);
    assert.ok(t.rank >= 1 && t.entropy !== null && t.entropy > 0);
    assert.ok(t.top[0].logProb >= t.top[1].logProb);
    assert.equal(t.top[0].text, tokenDisplayText(tokenizer, t.top[0].id));
  }
});

test('windows do not change scores; progress is reported; an abort rejects', async () => {
  const { tokenizer } = await loadTokenizer('gpt2');
  const model = trainNgram(
    tokenizer.vocabSize,
    TEXTS.map((t, i) => ({ key: `f${i}`, ids: tokenizer.encodeIds(t) })),
    { order: 4 },
  ).languageModel;
  const text = TEXTS.join('\n').repeat(3);
  const a = await scoreDocument(model, tokenizer, text, { windowTokens: 1000 });
  const progress: number[] = [];
  const b = await scoreDocument(model, tokenizer, text, { windowTokens: 7, onProgress: (done) => progress.push(done) });
  assert.deepEqual(Array.from(a.logProbs), Array.from(b.logProbs));
  assert.deepEqual(Array.from(a.ranks), Array.from(b.ranks));
  assert.equal(progress.at(-1), b.count);
  assert.ok(progress.length > 5);
  const ac = new AbortController();
  const p = scoreDocument(model, tokenizer, text, { windowTokens: 5, onProgress: (done) => done > 20 && ac.abort(), signal: ac.signal });
  await assert.rejects(p, (e: Error) => e.name === 'AbortError');
  assert.equal(rankBucket(1), 0);
  assert.equal(rankBucket(100), 1);
  assert.equal(rankBucket(1000), 2);
  assert.equal(rankBucket(1001), 3);
});

test('an asynchronous model with dense distributions scores through the same path', async () => {
  const { tokenizer } = await loadTokenizer('gpt2');
  const V = tokenizer.vocabSize + 1;
  // A toy model: P(next) ∝ 1 + (id + last) mod 7, answered asynchronously.
  const toy: LanguageModel = {
    id: 'toy',
    description: 'toy',
    vocabSize: V,
    endOfTextId: V - 1,
    contextTokens: 1,
    async nextDistribution(context): Promise<NextTokenDistribution> {
      const last = context.length ? context[context.length - 1] : 0;
      const probs = new Float64Array(V);
      let z = 0;
      for (let i = 0; i < V; i++) z += probs[i] = 1 + ((i + last) % 7);
      for (let i = 0; i < V; i++) probs[i] /= z;
      return new DenseDistribution(probs);
    },
  };
  const scores = await scoreDocument(toy, tokenizer, 'ab cd', { topK: 2 });
  for (let i = 0; i < scores.count; i++) {
    const last = i ? scores.stream.ids[i - 1] : 0;
    const w = 1 + ((scores.stream.ids[i] + last) % 7);
    let z = 0;
    for (let v = 0; v < V; v++) z += 1 + ((v + last) % 7);
    assert.ok(Math.abs(scores.logProbs[i] - Math.log(w / z)) < 1e-12);
    // Rank: ids with a larger weight come first; equal weights share the best rank.
    let better = 0;
    for (let v = 0; v < V; v++) if (1 + ((v + last) % 7) > w) better++;
    assert.equal(scores.ranks[i], better + 1);
  }
});

test('workspace files: skips .git, node_modules, binaries, large files, and honours .gitignore', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ti-ws-'));
  try {
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, '.git', 'HEAD'), 'ref: x');
    mkdirSync(join(root, 'node_modules', 'x'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'x', 'a.js'), 'x');
    mkdirSync(join(root, 'src', 'deep'), { recursive: true });
    mkdirSync(join(root, 'build'));
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, '.gitignore'), '# comment\nbuild/\n*.log\n/top.txt\ndocs/*.md\n!docs/keep.md\n');
    writeFileSync(join(root, 'src', '.gitignore'), 'secret.ts\n');
    writeFileSync(join(root, 'src', 'a.ts'), TEXTS[0]);
    writeFileSync(join(root, 'src', 'secret.ts'), 'x');
    writeFileSync(join(root, 'src', 'deep', 'b.ts'), TEXTS[1]);
    writeFileSync(join(root, 'src', 'deep', 'top.txt'), 'not anchored here');
    writeFileSync(join(root, 'top.txt'), 'anchored: ignored');
    writeFileSync(join(root, 'build', 'out.js'), 'x');
    writeFileSync(join(root, 'run.log'), 'x');
    writeFileSync(join(root, 'docs', 'a.md'), 'x');
    writeFileSync(join(root, 'docs', 'keep.md'), 'kept');
    writeFileSync(join(root, 'image.png'), 'x');
    writeFileSync(join(root, 'data.bin2'), Buffer.from([1, 0, 2, 3]));
    writeFileSync(join(root, 'big.txt'), 'x'.repeat(1024 * 1024 + 1));
    const files = listWorkspaceFiles(root);
    assert.deepEqual(
      files.map((f) => f.relativePath),
      ['.gitignore', 'data.bin2', 'docs/keep.md', 'src/.gitignore', 'src/a.ts', 'src/deep/b.ts', 'src/deep/top.txt'],
    );
    assert.equal(findRepositoryRoot(join(root, 'src', 'deep', 'b.ts')), root);
    assert.equal(defaultWorkspaceFor(join(root, 'src', 'a.ts')), root);
    assert.equal(workspaceKey(root, join(root, 'src', 'a.ts')), 'src/a.ts');
    assert.equal(workspaceKey(root, join(tmpdir(), 'elsewhere.ts')), undefined);
    const { tokenizer } = await loadTokenizer('gpt2');
    const trained = await trainWorkspaceNgram(files, tokenizer, { order: 3 });
    assert.equal(trained.skippedBinary, 1, 'data.bin2 holds a NUL byte');
    assert.equal(trained.files, 6);
    assert.ok(trained.model.hasDocument('src/a.ts'));
    const rules = parseGitignore('**/gen/**\n\\#notcomment\n');
    assert.ok(rules[0].regex.test('a/gen/b.ts') && rules[0].regex.test('gen/x'));
    assert.ok(rules[1].regex.test('#notcomment'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

async function runCli(argv: string[]): Promise<{ code: number; stdout: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string | Uint8Array) => {
    chunks.push(typeof s === 'string' ? s : Buffer.from(s).toString());
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await main(argv);
    return { code, stdout: chunks.join('') };
  } finally {
    process.stdout.write = write;
  }
}

test('CLI score --json: shape, leave-one-out, and the same numbers as the core', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ti-score-'));
  try {
    mkdirSync(join(root, '.git'));
    TEXTS.forEach((t, i) => writeFileSync(join(root, `f${i}.js`), t));
    const file = join(root, 'f1.js');
    const { code, stdout } = await runCli(['score', file, '--model', 'workspace-ngram', '--tokenizer', 'gpt2', '--json']);
    assert.equal(code, 0);
    const json = JSON.parse(stdout) as {
      model: string;
      tokenizer: string;
      training: { files: number; leftOut: boolean };
      tokens: { id: number; bytes: [number, number]; logProb: number; rank: number; entropy: number | null; top: { id: number; text: string; logProb: number }[] }[];
      bytes: { offset: number; surprisalBits: number }[];
    };
    assert.equal(json.model, 'workspace-ngram');
    assert.equal(json.tokenizer, 'gpt2');
    assert.equal(json.training.files, 4);
    assert.equal(json.training.leftOut, true);
    assert.equal(json.bytes.length, Buffer.byteLength(TEXTS[1]));
    assert.equal(json.tokens[0].bytes[0], 0);
    assert.equal(json.tokens.at(-1)?.bytes[1], json.bytes.length);
    assert.equal(json.tokens[0].top.length, 5);
    // The same numbers from the core.
    const { tokenizer } = await loadTokenizer('gpt2');
    const model = trainNgram(
      tokenizer.vocabSize,
      TEXTS.map((t, i) => ({ key: `f${i}.js`, ids: tokenizer.encodeIds(t) })),
      { order: 4 },
    );
    const scores = await scoreDocument(model.withoutDocument('f1.js'), tokenizer, TEXTS[1]);
    json.tokens.forEach((t, i) => {
      assert.equal(t.id, scores.stream.ids[i]);
      assert.equal(t.logProb, scores.logProbs[i]);
      assert.equal(t.rank, scores.ranks[i]);
    });
    let bits = 0;
    for (const b of json.bytes) bits += b.surprisalBits;
    let tokenBits = 0;
    for (const t of json.tokens) tokenBits -= t.logProb / Math.LN2;
    assert.ok(Math.abs(bits - tokenBits) < 1e-9 * tokenBits);
    const human = await runCli(['score', file, '--tokenizer', 'gpt2', '--workspace', root]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /left out/);
    assert.equal((await runCli(['score', file, '--model', 'gpt-5'])).code, 2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
