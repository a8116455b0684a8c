/**
 * Hidden states tapped from the ONNX graph (core/lm/onnx/taps.ts, hiddenStates.ts) on the tiny GPT-2 fixture,
 * against torch's residual stream; windows, caching of the tap graphs, the errors; and `features` end to end.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { makeFeaturesCommand, onnxHiddenStateSource } from '../../src/cli/commands/features';
import { LmAbortError } from '../../src/core/lm/model';
import { buildTapModel, decodeModel, graphSignature, locateHooks, ModelError, OnnxHiddenStates, planWindows, tapFilePath } from '../../src/core/lm/onnx';
import { encodeNpy } from '../../src/core/sae';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'tiny-gpt2');
const SAE_FIXTURES = join(ROOT, 'test', 'fixtures', 'sae');
const D = 32;

interface RefSequence {
  ids: number[];
  residPost?: number[][][];
}
const ref = JSON.parse(readFileSync(join(FIXTURE, 'reference_logits.json'), 'utf8')) as { sequences: RefSequence[] };

const scratch = mkdtempSync(join(tmpdir(), 'ti-hidden-'));
let copies = 0;
/** A copy of the fixture model in a temp folder (tap graphs are written next to the graph). */
function modelCopy(): string {
  // Named as the model the fixture SAEs were trained on.
  const dir = join(scratch, `${copies++}`, 'tiny-gpt2');
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

let model: string;
let states: OnnxHiddenStates;
before(async () => {
  model = modelCopy();
  states = await OnnxHiddenStates.open(model, { threads: 1 });
});
after(async () => {
  await states.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

function graphOf(dir: string): onnx.ModelProto {
  const path = join(dir, 'onnx', 'model.onnx');
  return decodeModel(readFileSync(path), path);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A float32 initializer of the fixture graph as an array. */
function initializer(m: onnx.ModelProto, name: string): Float32Array {
  const t = m.graph?.initializer?.find((x) => x.name === name);
  assert.ok(t?.rawData, `initializer ${name}`);
  const copy = Uint8Array.from(t.rawData);
  return new Float32Array(copy.buffer);
}

test('the hooks are located by structure: two blocks, three hooks each, resid_pre(1) is resid_post(0)', () => {
  assert.deepEqual(states.availableHooks, ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post', 'blocks.0.hook_mlp_out', 'blocks.1.hook_resid_pre', 'blocks.1.hook_resid_post', 'blocks.1.hook_mlp_out']);
  assert.equal(states.layout, 'sequential');
  assert.equal(states.modelName, 'tiny-gpt2');
  assert.equal(states.dModel, D);
  assert.equal(states.contextLength, 1024);
  assert.equal(states.tokenizer.tokenizer.vocabSize, 50257);
  const found = locateHooks(graphOf(model), 2, 'fixture');
  assert.equal(found.hooks.get('blocks.1.hook_resid_pre'), found.hooks.get('blocks.0.hook_resid_post'));
  // The LayerNorm variance's ReduceMean (over Pow(Sub(…))) is not taken for a norm input: 5 distinct inputs, not 10.
  assert.throws(
    () => locateHooks(graphOf(model), 3, 'fixture'),
    (e: unknown) => e instanceof ModelError && /found 5 normalization inputs on the residual stream \(5 × LayerNorm \(decomposed\)\), but a pre-norm model with 3 blocks has 7/.test(e.message),
  );
  // Norms of queries and keys (Qwen3, OLMo 2) are not on the residual stream: left aside.
  const qk = graphOf(model);
  qk.graph?.node?.push(
    { opType: 'LayerNormalization', input: ['/inner/h.0/Split_output_0', 'inner.h.0.ln_1.weight'], output: ['q_norm.0'] },
    { opType: 'SimplifiedLayerNormalization', input: ['/inner/h.1/Split_output_1', 'inner.h.0.ln_1.weight'], output: ['k_norm.1'] },
  );
  assert.deepEqual(locateHooks(qk, 2, 'with q/k norms').hooks, found.hooks);
});

type NormKind = 'LayerNormalization' | 'SimplifiedLayerNormalization' | 'rms-pow-cast' | 'rms-mul';

/** A small pre-norm graph (structure only): blocks of norm → MatMul → residual Add, one or two per block. */
function syntheticGraph(norm: NormKind, layout: 'sequential' | 'parallel', L: number): onnx.IModelProto {
  const nodes: onnx.INodeProto[] = [{ opType: 'Gather', input: ['wte', 'input_ids'], output: ['x0'] }];
  let k = 0;
  const normOf = (x: string): string => {
    const o = `norm${k++}`;
    if (norm === 'LayerNormalization' || norm === 'SimplifiedLayerNormalization') nodes.push({ opType: norm, input: [x, 'gamma'], output: [o] });
    else {
      nodes.push({ opType: 'Cast', input: [x], output: [`${o}/cast`] });
      if (norm === 'rms-mul') nodes.push({ opType: 'Mul', input: [`${o}/cast`, `${o}/cast`], output: [`${o}/sq`] });
      else nodes.push({ opType: 'Pow', input: [`${o}/cast`, 'two'], output: [`${o}/sq`] });
      nodes.push({ opType: 'ReduceMean', input: [`${o}/sq`], output: [`${o}/ms`] }, { opType: 'Sqrt', input: [`${o}/ms`], output: [`${o}/rms`] }, { opType: 'Div', input: [`${o}/cast`, `${o}/rms`], output: [o] });
    }
    return o;
  };
  const sub = (x: string, name: string): string => {
    nodes.push({ opType: 'MatMul', input: [normOf(x), 'w'], output: [name] });
    return name;
  };
  let x = 'x0';
  for (let l = 0; l < L; l++) {
    if (layout === 'sequential') {
      nodes.push({ opType: 'Add', input: [x, sub(x, `attn${l}`)], output: [`mid${l}`] });
      nodes.push({ opType: 'Add', input: [`mid${l}`, sub(`mid${l}`, `mlp${l}`)], output: [`x${l + 1}`] });
    } else {
      // GPT-NeoX: one norm read by attention and MLP; attn + mlp + residual.
      const n = normOf(x);
      nodes.push({ opType: 'MatMul', input: [n, 'w'], output: [`attn${l}`] }, { opType: 'MatMul', input: [n, 'w2'], output: [`mlp${l}`] });
      nodes.push({ opType: 'Add', input: [`mlp${l}`, `attn${l}`], output: [`sum${l}`] }, { opType: 'Add', input: [`sum${l}`, x], output: [`x${l + 1}`] });
    }
    x = `x${l + 1}`;
  }
  nodes.push({ opType: 'MatMul', input: [normOf(x), 'wte_t'], output: ['logits'] });
  const two: onnx.ITensorProto = { name: 'two', dataType: onnx.TensorProto.DataType.FLOAT, dims: [], rawData: new Uint8Array(new Float32Array([2]).buffer) };
  return { irVersion: 7, opsetImport: [{ domain: '', version: 14 }], graph: { name: 'synthetic', node: nodes, initializer: [two], input: [{ name: 'input_ids' }], output: [{ name: 'logits' }] } };
}

test('hooks by structure across norm forms (LayerNormalization, SimplifiedLayerNormalization, RMSNorm decomposed behind a Cast) and parallel blocks', () => {
  for (const norm of ['LayerNormalization', 'SimplifiedLayerNormalization', 'rms-pow-cast', 'rms-mul'] as const) {
    const seq = locateHooks(syntheticGraph(norm, 'sequential', 3), 3, norm);
    assert.equal(seq.layout, 'sequential', norm);
    assert.deepEqual(
      Object.fromEntries(seq.hooks),
      Object.fromEntries([0, 1, 2].flatMap((l) => [[`blocks.${l}.hook_resid_pre`, `x${l}`], [`blocks.${l}.hook_resid_post`, `x${l + 1}`], [`blocks.${l}.hook_mlp_out`, `mlp${l}`]])),
      norm,
    );
    const par = locateHooks(syntheticGraph(norm, 'parallel', 3), 3, norm);
    assert.equal(par.layout, 'parallel', norm);
    assert.deepEqual(Object.fromEntries(par.hooks), Object.fromEntries([0, 1, 2].flatMap((l) => [[`blocks.${l}.hook_resid_pre`, `x${l}`], [`blocks.${l}.hook_resid_post`, `x${l + 1}`]])), norm);
  }
  // x ** 3 is no mean square: no norm there.
  const cube = syntheticGraph('rms-pow-cast', 'sequential', 1);
  const t = cube.graph?.initializer?.[0] as onnx.ITensorProto;
  t.rawData = new Uint8Array(new Float32Array([3]).buffer);
  assert.throws(() => locateHooks(cube, 1, 'cube'), /found no normalization/);
});

test('tapped resid_post matches torch within 1e-4 for both blocks (first two reference sequences)', async () => {
  let worst = 0;
  for (const seq of ref.sequences.filter((s) => s.residPost)) {
    for (let l = 0; l < 2; l++) {
      const h = await states.hiddenStates(Uint32Array.from(seq.ids), `blocks.${l}.hook_resid_post`);
      assert.equal(h.dModel, D);
      assert.equal(h.data.length, seq.ids.length * D);
      const err = maxAbsDiff(h.data, (seq.residPost as number[][][])[l].flat());
      worst = Math.max(worst, err);
      assert.ok(err < 1e-4, `${seq.ids.length} tokens, block ${l}: max abs error ${err}`);
    }
  }
  console.log(`# resid_post vs torch: max abs error ${worst.toExponential(2)}`);
});

test('resid_pre(0) is the token plus position embedding; resid_pre(1) is resid_post(0) exactly', async () => {
  const ids = Uint32Array.from(ref.sequences[1].ids);
  const g = graphOf(model);
  const wte = initializer(g, 'inner.wte.weight');
  const wpe = initializer(g, 'inner.wpe.weight');
  const pre0 = await states.hiddenStates(ids, 'blocks.0.hook_resid_pre');
  const want = new Float32Array(ids.length * D);
  for (let p = 0; p < ids.length; p++) for (let j = 0; j < D; j++) want[p * D + j] = Math.fround(wte[ids[p] * D + j] + wpe[p * D + j]);
  assert.ok(maxAbsDiff(pre0.data, want) < 1e-6);
  const pre1 = await states.hiddenStates(ids, 'blocks.1.hook_resid_pre');
  const post0 = await states.hiddenStates(ids, 'blocks.0.hook_resid_post');
  assert.deepEqual(pre1.data, post0.data);
});

test('mlp_out(l) + resid_mid(l) = resid_post(l)', async () => {
  const g = graphOf(model);
  const found = locateHooks(g, 2, 'fixture');
  const ids = Uint32Array.from(ref.sequences[0].ids);
  const feeds = (session: ort.InferenceSession) => {
    const f: Record<string, ort.Tensor> = {};
    const T = ids.length;
    for (const name of session.inputNames) {
      if (name === 'input_ids') f[name] = new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, T]);
      else if (name === 'attention_mask') f[name] = new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]);
      else if (name === 'position_ids') f[name] = new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt(i)), [1, T]);
      else f[name] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 16]);
    }
    return f;
  };
  for (let l = 0; l < 2; l++) {
    const post = found.hooks.get(`blocks.${l}.hook_resid_post`) as string;
    const mlp = found.hooks.get(`blocks.${l}.hook_mlp_out`) as string;
    // resid_mid: the residual add's other input, which is also the MLP norm's input.
    const add = g.graph?.node?.find((n) => n.output?.includes(post));
    const mid = add?.input?.find((x) => x !== mlp) as string;
    assert.ok(mid && mid !== mlp);
    const session = await ort.InferenceSession.create(onnx.ModelProto.encode(buildTapModel(g, 'mid', mid, D)).finish());
    const midStates = (await session.run(feeds(session))).mid.data as Float32Array;
    await session.release();
    const mlpOut = await states.hiddenStates(ids, `blocks.${l}.hook_mlp_out`);
    const postStates = await states.hiddenStates(ids, `blocks.${l}.hook_resid_post`);
    const sum = midStates.map((v, i) => Math.fround(v + mlpOut.data[i]));
    assert.ok(maxAbsDiff(sum, postStates.data) < 1e-6, `block ${l}`);
  }
});

test('the tap graph is cached next to the model, reused on the next load, rebuilt when the model changes', async () => {
  const dir = modelCopy();
  const ids = Uint32Array.from(ref.sequences[0].ids);
  const first = await OnnxHiddenStates.open(dir, { threads: 1 });
  const a = await first.hiddenStates(ids, 'blocks.1.hook_resid_post');
  await first.dispose();
  const taps = () => readdirSync(join(dir, 'onnx')).filter((f) => f.includes('.tap.')).sort();
  const hooksFile = taps().find((f) => f.endsWith('.json')) as string;
  const tapFile = taps().find((f) => f.endsWith('.onnx')) as string;
  assert.match(tapFile, /^model\.tap\.blocks\.1\.hook_resid_post\.[0-9a-f]{8}\.onnx$/);
  assert.match(hooksFile, /^model\.tap\.[0-9a-f]{8}\.json$/);
  assert.equal(taps().length, 2);
  const st = statSync(join(dir, 'onnx', tapFile));
  // The tap holds only what the hook needs: no logits, the hook's state and the KV cache of the blocks it runs, fewer nodes.
  const tapGraph = decodeModel(readFileSync(join(dir, 'onnx', tapFile)), tapFile).graph as onnx.IGraphProto;
  assert.deepEqual(
    tapGraph.output?.map((o) => o.name),
    ['blocks.1.hook_resid_post', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value'],
  );
  assert.ok((tapGraph.node?.length ?? 0) < (graphOf(dir).graph?.node?.length ?? 0));

  const second = await OnnxHiddenStates.open(dir, { threads: 1 });
  assert.deepEqual((await second.hiddenStates(ids, 'blocks.1.hook_resid_post')).data, a.data);
  await second.dispose();
  const again = statSync(join(dir, 'onnx', tapFile));
  assert.equal(again.mtimeMs, st.mtimeMs);
  assert.equal(again.ino, st.ino);

  // A changed model (another mtime) gets new taps, and the old ones go.
  const later = new Date(Date.now() + 10_000);
  utimesSync(join(dir, 'onnx', 'model.onnx'), later, later);
  const third = await OnnxHiddenStates.open(dir, { threads: 1 });
  assert.deepEqual((await third.hiddenStates(ids, 'blocks.1.hook_resid_post')).data, a.data);
  await third.dispose();
  const now = taps();
  assert.equal(now.length, 2);
  assert.ok(!now.includes(tapFile) && !now.includes(hooksFile));
  assert.ok(!readdirSync(join(dir, 'onnx')).some((f) => f.endsWith('.tmp')));
});

test('windows cover every position once, each (after the first) with at least half a context before it', () => {
  for (const repeat of [false, true]) {
    for (const C of [3, 4, 5, 8, 9]) {
      for (let n = 0; n < 40; n++) {
        const ws = planWindows(n, C, repeat);
        const seen = new Array<number>(n).fill(0);
        ws.forEach((w, k) => {
          assert.ok(w.end - w.start + (w.prefixed ? 1 : 0) <= C, `window ${k} of ${n} fits ${C}`);
          for (let i = w.keepFrom; i < w.end; i++) {
            seen[i]++;
            if (k > 0) assert.ok(i - w.start >= Math.floor((C - (repeat ? 1 : 0)) / 2));
          }
          assert.equal(w.prefixed, repeat && k > 0);
        });
        assert.deepEqual(seen, new Array<number>(n).fill(1), `n=${n} C=${C} repeat=${repeat}`);
      }
    }
  }
});

test('a sequence longer than the context: each position equals a direct run over its window up to it', async () => {
  const ids = Uint32Array.from(ref.sequences[3].ids.slice(0, 40));
  const C = 8;
  const short = await OnnxHiddenStates.open(model, { threads: 1, contextLength: C });
  try {
    for (const repeat of [false, true]) {
      const progress: [number, number][] = [];
      const h = await short.hiddenStates(ids, 'blocks.1.hook_resid_post', { repeatFirstToken: repeat, onProgress: (d, t) => progress.push([d, t]) });
      const windows = planWindows(ids.length, C, repeat);
      assert.deepEqual(progress, [[0, 40], ...windows.map((w): [number, number] => [w.end, 40])]);
      let worst = 0;
      for (const w of windows) {
        for (let i = w.keepFrom; i < w.end; i++) {
          const prefix = w.prefixed ? [ids[0], ...ids.subarray(w.start, i + 1)] : [...ids.subarray(w.start, i + 1)];
          const direct = await states.hiddenStates(Uint32Array.from(prefix), 'blocks.1.hook_resid_post');
          worst = Math.max(worst, maxAbsDiff(h.data.subarray(i * D, (i + 1) * D), direct.data.subarray((prefix.length - 1) * D)));
        }
      }
      assert.ok(worst < 1e-5, `repeatFirstToken ${repeat}: ${worst}`);
      // Within the first window nothing changes.
      const whole = await states.hiddenStates(ids.subarray(0, C), 'blocks.1.hook_resid_post');
      assert.ok(maxAbsDiff(h.data.subarray(0, C * D), whole.data) < 1e-6);
    }
  } finally {
    await short.dispose();
  }
});

test('cancel between windows; then the source works on', async () => {
  const ids = Uint32Array.from(ref.sequences[3].ids);
  const short = await OnnxHiddenStates.open(model, { threads: 1, contextLength: 16 });
  try {
    const ac = new AbortController();
    let calls = 0;
    await assert.rejects(
      short.hiddenStates(ids, 'blocks.0.hook_resid_post', {
        signal: ac.signal,
        onProgress: (done) => {
          calls++;
          if (done > 0) ac.abort();
        },
      }),
      (e: unknown) => e instanceof LmAbortError && e.name === 'AbortError',
    );
    assert.equal(calls, 2, 'stopped after the first window');
    const aborted = AbortSignal.abort();
    await assert.rejects(short.hiddenStates(ids, 'blocks.0.hook_resid_post', { signal: aborted }), LmAbortError);
    assert.equal((await short.hiddenStates(ids, 'blocks.0.hook_resid_post')).data.length, ids.length * D);
  } finally {
    await short.dispose();
  }
  await assert.rejects(short.hiddenStates(ids, 'blocks.0.hook_resid_post'), /the model was unloaded/);
});

test('errors: a missing hook lists the available ones; ids outside the vocabulary', async () => {
  await assert.rejects(
    states.hiddenStates(Uint32Array.of(1, 2), 'blocks.7.hook_resid_post'),
    (e: unknown) => e instanceof ModelError && /has no hook blocks\.7\.hook_resid_post; it has blocks\.0\.hook_resid_pre, blocks\.0\.hook_resid_post, blocks\.0\.hook_mlp_out, blocks\.1\.hook_resid_pre/.test(e.message),
  );
  await assert.rejects(states.hiddenStates(Uint32Array.of(1, 50257), 'blocks.0.hook_resid_post'), /token id 50257 is outside the model's vocabulary \(50257 ids\)/);
  assert.deepEqual((await states.hiddenStates(new Uint32Array(0), 'blocks.0.hook_resid_post')).data.length, 0);
});

test('errors: an optimized graph with SkipLayerNormalization, a corrupt model.onnx', async () => {
  const fused = modelCopy();
  const g = graphOf(fused);
  const mean = g.graph?.node?.find((n) => n.opType === 'ReduceMean') as onnx.INodeProto;
  mean.opType = 'SkipLayerNormalization';
  mean.domain = 'com.microsoft';
  writeFileSync(join(fused, 'onnx', 'model.onnx'), onnx.ModelProto.encode(g).finish());
  await assert.rejects(OnnxHiddenStates.open(fused, { threads: 1 }), (e: unknown) => e instanceof ModelError && /optimized export: SkipLayerNormalization fused the residual additions into the normalizations.*use an unoptimized export/.test(e.message));

  const corrupt = modelCopy();
  const graphPath = join(corrupt, 'onnx', 'model.onnx');
  writeFileSync(graphPath, readFileSync(graphPath).subarray(0, 100_000));
  await assert.rejects(OnnxHiddenStates.open(corrupt, { threads: 1 }), (e: unknown) => e instanceof ModelError && /model\.onnx is not a valid ONNX model \(.+\); download or export it again/.test(e.message));
  writeFileSync(graphPath, 'this is not an ONNX model\n'.repeat(10));
  await assert.rejects(OnnxHiddenStates.open(corrupt, { threads: 1 }), /is not a valid ONNX model/);
  rmSync(join(corrupt, 'onnx', 'model.onnx'));
  await assert.rejects(OnnxHiddenStates.open(corrupt, { threads: 1 }), /has no onnx\/model\.onnx/);
});

test('weights in an external data file: the tap graph sits beside it and reads it from there', async () => {
  const dir = modelCopy();
  const g = graphOf(dir);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of g.graph?.initializer ?? []) {
    if (!t.rawData || t.rawData.length < 1024) continue;
    const pad = (4096 - (offset % 4096)) % 4096;
    chunks.push(new Uint8Array(pad), Uint8Array.from(t.rawData));
    offset += pad;
    t.externalData = [
      { key: 'location', value: 'model.onnx_data' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(t.rawData.length) },
    ];
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    offset += t.rawData.length;
    t.rawData = new Uint8Array(0);
  }
  writeFileSync(join(dir, 'onnx', 'model.onnx_data'), Buffer.concat(chunks));
  writeFileSync(join(dir, 'onnx', 'model.onnx'), onnx.ModelProto.encode(g).finish());
  assert.ok(statSync(join(dir, 'onnx', 'model.onnx')).size < 100_000);
  const m = await OnnxHiddenStates.open(dir, { threads: 1 });
  try {
    const ids = Uint32Array.from(ref.sequences[1].ids);
    assert.deepEqual((await m.hiddenStates(ids, 'blocks.1.hook_resid_post')).data, (await states.hiddenStates(ids, 'blocks.1.hook_resid_post')).data);
    const tap = readdirSync(join(dir, 'onnx')).find((f) => f.endsWith('.onnx') && f.includes('.tap.')) as string;
    assert.ok(statSync(join(dir, 'onnx', tap)).size < 100_000, 'the tap holds no weights of its own');
  } finally {
    await m.dispose();
  }
});

test('a merged decoder (If on use_cache_branch, as Xenova/… exports) is read through its no-cache branch', async () => {
  const dir = modelCopy();
  const g = graphOf(dir);
  const inner = g.graph as onnx.IGraphProto;
  const branch = (name: string): onnx.IGraphProto => ({ name, node: inner.node, output: inner.output });
  const merged: onnx.IModelProto = {
    ...g,
    graph: {
      name: 'merged',
      input: [...(inner.input ?? []), { name: 'use_cache_branch', type: { tensorType: { elemType: onnx.TensorProto.DataType.BOOL, shape: { dim: [{ dimValue: 1 }] } } } }],
      output: inner.output,
      initializer: inner.initializer,
      node: [
        {
          opType: 'If',
          name: 'optimum::if',
          input: ['use_cache_branch'],
          output: (inner.output ?? []).map((o) => o.name ?? ''),
          attribute: [
            { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('with_past') },
            { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('no_past') },
          ],
        },
      ],
    },
  };
  writeFileSync(join(dir, 'onnx', 'decoder_model_merged.onnx'), onnx.ModelProto.encode(merged).finish());
  rmSync(join(dir, 'onnx', 'model.onnx'));
  const m = await OnnxHiddenStates.open(dir, { threads: 1 });
  try {
    assert.deepEqual(m.availableHooks, states.availableHooks);
    const ids = Uint32Array.from(ref.sequences[1].ids);
    for (const hook of ['blocks.0.hook_mlp_out', 'blocks.1.hook_resid_post']) {
      assert.ok(maxAbsDiff((await m.hiddenStates(ids, hook)).data, (await states.hiddenStates(ids, hook)).data) < 1e-6, hook);
    }
    assert.ok(readdirSync(join(dir, 'onnx')).some((f) => /^decoder_model_merged\.tap\.blocks\.1\.hook_resid_post\.[0-9a-f]{8}\.onnx$/.test(f)));
  } finally {
    await m.dispose();
  }
});

// ---------------------------------------------------------------------------------------------- CLI

const TEXT = join(SAE_FIXTURES, 'text.txt');
const JUMPRELU = join(SAE_FIXTURES, 'saelens-jumprelu'); // blocks.0.hook_resid_post, d_in 32, prepend_bos

interface FeaturesJson {
  hook: string;
  warnings: string[];
  tokens: { id: number; text: string; added: boolean; features: { index: number; activation: number }[]; reconstructionError: number | null }[];
  summary: { tokens: number; selected: number };
}

async function features(argv: string[]): Promise<FeaturesJson> {
  const chunks: string[] = [];
  await makeFeaturesCommand({ hiddenStateSource: onnxHiddenStateSource, write: (s) => chunks.push(s) }).run([...argv, '--json']);
  return JSON.parse(chunks.join('\n')) as FeaturesJson;
}

test('features FILE --model FOLDER --sae SAE: the graph tapped at the SAE hook, the same as --hidden with those states', async () => {
  const out = await features([TEXT, '--model', model, '--sae', JUMPRELU]);
  assert.equal(out.hook, 'blocks.0.hook_resid_post');
  assert.deepEqual(out.warnings, []);
  // prepend_bos: the GPT-2 BOS first, then the text's 12 tokens.
  assert.equal(out.tokens.length, 13);
  assert.deepEqual({ id: out.tokens[0].id, text: out.tokens[0].text, added: out.tokens[0].added }, { id: 50256, text: '<|endoftext|>', added: true });
  assert.ok(out.summary.selected > 0);

  const ids = Uint32Array.from(out.tokens, (t) => t.id);
  const h = await states.hiddenStates(ids, 'blocks.0.hook_resid_post', { repeatFirstToken: true });
  const npy = join(scratch, 'states.npy');
  writeFileSync(npy, encodeNpy(h.data, [ids.length, D]));
  const viaNpy = await features([TEXT, '--model', model, '--sae', JUMPRELU, '--hidden', npy]);
  assert.deepEqual(viaNpy.tokens, out.tokens);

  // Another hook than the SAE's (with --hook) reads other states.
  const other = await features([TEXT, '--model', model, '--sae', JUMPRELU, '--hook', 'blocks.1.hook_resid_post']);
  assert.equal(other.hook, 'blocks.1.hook_resid_post');
  assert.notDeepEqual(other.tokens, out.tokens);
  await assert.rejects(features([TEXT, '--model', model, '--sae', JUMPRELU, '--hook', 'blocks.4.hook_resid_post']), /reads blocks\.4\.hook_resid_post, which .* does not have; it has blocks\.0\.\.1 × hook_resid_pre\|hook_resid_post\|hook_mlp_out/);
});

test('features through the CLI entry: exit 0 with JSON; a repo id not in the cache with downloads off is one clear line', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'features', ...args], { encoding: 'utf8', cwd: ROOT });
  const ok = cli([TEXT, '--model', model, '--sae', JUMPRELU, '--json', '--top', '3']);
  assert.equal(ok.status, 0, ok.stderr);
  const json = JSON.parse(ok.stdout) as FeaturesJson;
  assert.equal(json.tokens.length, 13);
  assert.ok(json.tokens.every((t) => t.features.length <= 3));
  const missing = cli([TEXT, '--model', 'test-org/not-here', '--sae', JUMPRELU, '--cache-dir', join(scratch, 'empty-cache')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr.trim(), /^token-inspector: hidden states need an ONNX model; --model test-org\/not-here: test-org\/not-here is not in the model cache .* downloads are off.*; or give the hidden states with --hidden FILE\.npy$/);
  assert.ok(!existsSync(join(scratch, 'empty-cache')));
});

test('a tap graph that cannot be written is a clear error, and leaves no temporary file', async () => {
  const dir = modelCopy();
  const graphPath = join(dir, 'onnx', 'model.onnx');
  // A non-empty folder where the tap file would go: the rename onto it fails.
  const blocked = tapFilePath(graphPath, 'blocks.0.hook_resid_post', graphSignature(graphPath));
  mkdirSync(join(blocked, 'x'), { recursive: true });
  const m = await OnnxHiddenStates.open(dir, { threads: 1 });
  try {
    await assert.rejects(m.hiddenStates(Uint32Array.of(1, 2, 3), 'blocks.0.hook_resid_post'), (e: unknown) => e instanceof ModelError && /^cannot write the tap graph .*model\.tap\.blocks\.0\.hook_resid_post\.[0-9a-f]{8}\.onnx \(.+\); it must sit next to model\.onnx/.test(e.message));
    assert.ok(!readdirSync(join(dir, 'onnx')).some((f) => f.endsWith('.tmp')));
    // Other hooks still work.
    assert.equal((await m.hiddenStates(Uint32Array.of(1, 2, 3), 'blocks.1.hook_resid_post')).data.length, 3 * D);
  } finally {
    await m.dispose();
  }
});

test('the same text again (another encoder, k or m) reuses the last states; another text, hook or BOS rule reads anew', async () => {
  const s = await OnnxHiddenStates.open(model, { threads: 1 });
  try {
    const ids = Uint32Array.from(ref.sequences[1].ids);
    const hook = 'blocks.1.hook_resid_post';
    const first = await s.hiddenStates(ids, hook);
    assert.equal(await s.hiddenStates(Uint32Array.from(ids), hook), first, 'kept');
    const other = await s.hiddenStates(ids, 'blocks.0.hook_resid_post');
    assert.notEqual(other, first);
    assert.ok(maxAbsDiff(other.data, first.data) > 0, 'another hook, other states');
    const edited = Uint32Array.from(ids);
    edited[edited.length - 1] = 13;
    const again = await s.hiddenStates(edited, hook);
    assert.notEqual(again, first);
    // Causal: the unchanged prefix has the same states; the changed token does not.
    const n = ids.length;
    assert.equal(maxAbsDiff(again.data.subarray(0, (n - 1) * D), first.data.subarray(0, (n - 1) * D)), 0);
    assert.notEqual(await s.hiddenStates(edited, hook, { repeatFirstToken: true }), again, 'another BOS rule is another request');
  } finally {
    await s.dispose();
  }
});

test('after an edit, states are computed from the first changed token on the KV cache, equal to a full computation', async () => {
  const inc = await OnnxHiddenStates.open(model, { threads: 1 });
  const full = await OnnxHiddenStates.open(model, { threads: 1 });
  try {
    const enc = (t: string) => inc.tokenizer.tokenizer.encode(t).ids;
    const texts = [
      'def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n',
      'def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 3)\n', // an edit near the end
      'def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 3)\n# done\n', // typed at the end
      'def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1)', // deleted at the end
      'def fib(n):\n    return n if n < 2 else fib(n - 1)', // an edit near the start
    ];
    for (const hook of ['blocks.1.hook_resid_post', 'blocks.1.hook_resid_pre', 'blocks.0.hook_mlp_out']) {
      let prev: Uint32Array | undefined;
      for (const t of texts) {
        const ids = enc(t);
        const got = await inc.hiddenStates(ids, hook);
        let first = 0;
        if (prev) while (first < Math.min(prev.length, ids.length) && prev[first] === ids[first]) first++;
        // Computed: the positions from the first change (one when the text only got shorter: none).
        const expectComputed = prev ? (first === ids.length ? 0 : ids.length - first) : ids.length;
        assert.equal(inc.lastComputedPositions, expectComputed, `${hook}: positions computed for ${JSON.stringify(t.slice(-12))}`);
        // The reference: the same ids after another first token, so that nothing is reused.
        await full.hiddenStates(Uint32Array.of(ids[0] === 0 ? 1 : 0), hook);
        const want = await full.hiddenStates(ids, hook);
        assert.equal(full.lastComputedPositions, ids.length);
        assert.ok(maxAbsDiff(got.data, want.data) < 1e-4, `${hook}: ${maxAbsDiff(got.data, want.data)}`);
        prev = ids;
      }
    }
  } finally {
    await inc.dispose();
    await full.dispose();
  }
});
