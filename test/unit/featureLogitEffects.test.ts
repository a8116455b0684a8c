/**
 * Reading the unembedding and the final norm from ONNX graphs of other shapes than the fixture GPT-2's (whose
 * γ is all ones and whose head is the tied embedding): a LayerNormalization op before an untied MatMul [d, V],
 * and a decomposed RMSNorm before a Gemm with transB [V, d]. The effects are checked against W_dec[f] · W_U
 * written out by hand.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { onnx } from 'onnx-proto';
import { logitEffects, logitEffectVector, readUnembedding } from '../../src/core/sae/workspaceIndex';

const dir = mkdtempSync(join(tmpdir(), 'ti-unembed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const D = 4;
const V = 6;
const gamma = [0.5, 2, -1, 1.5];
// W as [d, V] (row i = residual dimension i).
const wDV = Array.from({ length: D * V }, (_, k) => Math.sin(k * 1.7) * 3);

function tensor(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}

function save(name: string, nodes: onnx.INodeProto[], initializer: onnx.ITensorProto[]): string {
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'g', node: nodes, initializer, input: [{ name: 'x' }], output: [{ name: 'logits' }] },
  };
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, onnx.ModelProto.encode(model).finish());
  return path;
}

function naive(dirV: number[], centre: boolean): number[] {
  const mean = centre ? dirV.reduce((s, x) => s + x, 0) / D : 0;
  const v = dirV.map((x, i) => (x - mean) * gamma[i]);
  return Array.from({ length: V }, (_, j) => v.reduce((s, vi, i) => s + vi * wDV[i * V + j], 0));
}

const direction = Float32Array.from([1, -2, 0.5, 3]);

test('a LayerNormalization op and an untied MatMul [d, V]', () => {
  const path = save('ln', [
    { opType: 'LayerNormalization', input: ['x', 'gamma', 'beta'], output: ['n'] },
    { opType: 'MatMul', input: ['n', 'W'], output: ['logits'] },
  ], [tensor('gamma', [D], gamma), tensor('beta', [D], [0, 0, 0, 0]), tensor('W', [D, V], wDV)]);
  const u = readUnembedding(path);
  assert.deepEqual([u.vocabSize, u.dModel, u.norm, u.tied, u.rowsAreTokens], [V, D, 'layernorm', false, false]);
  const want = naive([...direction], true);
  Array.from(logitEffectVector(u, direction)).forEach((x, j) => assert.ok(Math.abs(x - want[j]) < 1e-5, `token ${j}`));
  const order = want.map((_, j) => j).sort((a, b) => want[b] - want[a]);
  assert.deepEqual(logitEffects(u, direction, 2).promoted.map((t) => t.id), order.slice(0, 2));
  assert.deepEqual(logitEffects(u, direction, 2).suppressed.map((t) => t.id), order.slice(-2).reverse());
});

test('a decomposed RMSNorm and a Gemm with transB [V, d]', () => {
  const wVD = Array.from({ length: V * D }, (_, k) => wDV[(k % D) * V + Math.floor(k / D)]);
  const path = save('rms', [
    { opType: 'Pow', input: ['x', 'two'], output: ['sq'] },
    { opType: 'ReduceMean', input: ['sq'], output: ['ms'] },
    { opType: 'Sqrt', input: ['ms'], output: ['rms'] },
    { opType: 'Div', input: ['x', 'rms'], output: ['n0'] },
    { opType: 'Mul', input: ['n0', 'gamma'], output: ['n'] },
    { opType: 'Gemm', input: ['n', 'W'], output: ['logits'], attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
  ], [tensor('two', [], [2]), tensor('gamma', [D], gamma), tensor('W', [V, D], wVD)]);
  const u = readUnembedding(path);
  assert.deepEqual([u.vocabSize, u.dModel, u.norm, u.tied, u.rowsAreTokens], [V, D, 'rmsnorm', false, true]);
  const want = naive([...direction], false);
  Array.from(logitEffectVector(u, direction)).forEach((x, j) => assert.ok(Math.abs(x - want[j]) < 1e-5, `token ${j}`));
});

test('a head that is not a stored matrix is refused with the graph’s name', () => {
  const path = save('computed', [
    { opType: 'Relu', input: ['W0'], output: ['W'] },
    { opType: 'MatMul', input: ['x', 'W'], output: ['logits'] },
  ], [tensor('W0', [D, V], wDV)]);
  assert.throws(() => readUnembedding(path), (e: Error) => e.message.includes(path) && /computed, not stored/.test(e.message));
});
