/**
 * The unembedding W_U and the final norm's scale, read from an ONNX causal LM's initializers, for a feature's
 * logit effects (logitEffects.ts).
 *
 * Found by structure: the node that produces the graph's `logits` output is a MatMul(X, W) or a Gemm(X, W)
 * whose W is an initializer of shape [d, V], or a Transpose of one of shape [V, d] (a tied embedding: GPT-2
 * exports read `wte` through a Transpose), or a Gemm with transB and W [V, d]. X is the final norm's output:
 * a LayerNormalization / SimplifiedLayerNormalization / RMSNormalization op (scale = its second input), or
 * the decomposed form Add(Mul(normalized, γ), β) / Mul(normalized, γ), with LayerNorm told from RMSNorm by
 * the centring Sub(x, ReduceMean(x)) upstream. Casts are looked through. A bias after the head is ignored (it
 * is the same for every feature). Quantized weights are refused with a message.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { onnx } from 'onnx-proto';
import { ModelError } from '../../lm/onnx/folder';
import { decodeModel, flatGraph } from '../../lm/onnx/taps';
import { halfToNumber } from '../../lm/onnx/tensors';

export type FinalNorm = 'layernorm' | 'rmsnorm' | 'none';

export interface Unembedding {
  readonly vocabSize: number;
  readonly dModel: number;
  /** W_U as stored: `[V, d]` row-major when `rowsAreTokens` (a tied embedding), else `[d, V]`. */
  readonly weights: Float32Array;
  readonly rowsAreTokens: boolean;
  /** The initializer W_U was read from, and whether the embedding lookup (a Gather) reads it too. */
  readonly tensorName: string;
  readonly tied: boolean;
  readonly norm: FinalNorm;
  /** The final norm's scale γ [d] (absent without a norm, or a norm without a scale). */
  readonly normScale?: Float32Array;
}

/** Most bytes of one initializer read here (a 256k × 8k fp32 head is 8 GB: not for this view). */
const MAX_WEIGHT_BYTES = 2 ** 31;

function tensorFloats(t: onnx.ITensorProto, graphPath: string): Float32Array {
  const name = t.name ?? '?';
  const count = (t.dims ?? []).reduce((n: number, d) => n * Number(d), 1);
  const type = t.dataType ?? 0;
  const elementBytes = type === onnx.TensorProto.DataType.FLOAT ? 4 : type === onnx.TensorProto.DataType.FLOAT16 ? 2 : 0;
  if (!elementBytes) throw new ModelError(`${graphPath}: the unembedding ${name} is of ONNX type ${type}, not float32 or float16 (a quantized export? logit effects need the fp32 or fp16 model)`);
  if (count * elementBytes > MAX_WEIGHT_BYTES) throw new ModelError(`${graphPath}: the unembedding ${name} is ${count * elementBytes} bytes, more than this view reads`);
  let raw: Uint8Array | undefined;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const entry = (k: string) => t.externalData?.find((e) => e.key === k)?.value ?? undefined;
    const location = entry('location');
    const dir = dirname(graphPath);
    const file = location ? normalize(join(dir, location)) : undefined;
    if (!file || !(file + sep).startsWith(dir + sep) || file === dir) throw new ModelError(`${graphPath}: the unembedding ${name} is stored outside the model's folder`);
    const offset = Number(entry('offset') ?? 0);
    const length = Number(entry('length') ?? count * elementBytes);
    if (length !== count * elementBytes) throw new ModelError(`${graphPath}: the unembedding ${name} has ${length} bytes of external data for ${count} values`);
    raw = readFileSync(file).subarray(offset, offset + length);
  } else if (t.rawData && t.rawData.length) raw = t.rawData;
  if (raw) {
    if (raw.length !== count * elementBytes) throw new ModelError(`${graphPath}: the unembedding ${name} has ${raw.length} bytes for ${count} values`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(count);
    if (elementBytes === 4) for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
    else for (let i = 0; i < count; i++) out[i] = halfToNumber(view.getUint16(2 * i, true));
    return out;
  }
  if (type === onnx.TensorProto.DataType.FLOAT && t.floatData && t.floatData.length === count) return Float32Array.from(t.floatData);
  if (type === onnx.TensorProto.DataType.FLOAT16 && t.int32Data && t.int32Data.length === count) return Float32Array.from(t.int32Data, halfToNumber);
  throw new ModelError(`${graphPath}: the unembedding ${name} holds no data`);
}

/** Reads W_U and the final norm of the ONNX graph at `graphPath` (see the file comment). */
export function readUnembedding(graphPath: string): Unembedding {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(graphPath);
  } catch (e) {
    throw new ModelError(`cannot read ${graphPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const model = decodeModel(bytes, graphPath);
  const graph = flatGraph(model.graph as onnx.IGraphProto);
  const nodes = graph.node ?? [];
  const producer = new Map<string, onnx.INodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) if (o) producer.set(o, n);
  const inits = new Map<string, onnx.ITensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) inits.set(t.name, t);
  const throughCasts = (x: string): string => {
    for (let hop = 0; hop < 4; hop++) {
      const p = producer.get(x);
      if (!p || (p.opType !== 'Cast' && p.opType !== 'Identity') || !p.input?.[0]) break;
      x = p.input[0];
    }
    return x;
  };
  const shape = (name: string): number[] => (inits.get(name)?.dims ?? []).map(Number);

  const outputs = (graph.output ?? []).map((o) => o.name ?? '');
  const logitsName = outputs.find((o) => o === 'logits') ?? outputs[0];
  if (!logitsName) throw new ModelError(`${graphPath} has no outputs`);
  let head = producer.get(throughCasts(logitsName));
  // A bias added after the head: the MatMul is one step up.
  if (head?.opType === 'Add') head = (head.input ?? []).map((x) => producer.get(throughCasts(x))).find((p) => p?.opType === 'MatMul' || p?.opType === 'Gemm');
  if (!head || (head.opType !== 'MatMul' && head.opType !== 'Gemm')) throw new ModelError(`${graphPath}: ${logitsName} does not come from a MatMul or Gemm with the unembedding, so the logit effects cannot be read`);
  const x = throughCasts(head.input?.[0] ?? '');
  let w = throughCasts(head.input?.[1] ?? '');
  let transposed = head.opType === 'Gemm' && (head.attribute ?? []).some((a) => a.name === 'transB' && Number(a.i) === 1);
  const t = producer.get(w);
  if (t?.opType === 'Transpose' && t.input?.[0]) {
    const perm = (t.attribute ?? []).find((a) => a.name === 'perm')?.ints?.map(Number);
    if (perm && !(perm.length === 2 && perm[0] === 1 && perm[1] === 0)) throw new ModelError(`${graphPath}: the unembedding is transposed with perm [${perm.join(', ')}]`);
    w = throughCasts(t.input[0]);
    transposed = !transposed;
  }
  const init = inits.get(w);
  if (!init) throw new ModelError(`${graphPath}: the unembedding (${w}) is computed, not stored as an initializer; logit effects need it stored`);
  const dims = shape(w);
  if (dims.length !== 2) throw new ModelError(`${graphPath}: the unembedding ${w} has shape [${dims.join(', ')}], not a matrix`);
  const [vocabSize, dModel] = transposed ? dims : [dims[1], dims[0]];
  const weights = tensorFloats(init, graphPath);
  const tied = nodes.some((n) => n.opType === 'Gather' && throughCasts(n.input?.[0] ?? '') === w);

  // The final norm that produces X.
  let norm: FinalNorm = 'none';
  let normScale: Float32Array | undefined;
  const isVector = (name: string) => inits.has(name) && shape(name).reduce((a, b) => a * b, 1) === dModel;
  let p = producer.get(x);
  if (p && ['LayerNormalization', 'SimplifiedLayerNormalization', 'RMSNormalization'].includes(p.opType ?? '')) {
    norm = p.opType === 'LayerNormalization' ? 'layernorm' : 'rmsnorm';
    const scale = throughCasts(p.input?.[1] ?? '');
    if (isVector(scale)) normScale = tensorFloats(inits.get(scale) as onnx.ITensorProto, graphPath);
  } else {
    if (p?.opType === 'Add') {
      const other = (p.input ?? []).map(throughCasts).find((i) => !isVector(i));
      p = other ? producer.get(other) : undefined;
    }
    if (p?.opType === 'Mul') {
      const ins = (p.input ?? []).map(throughCasts);
      const scale = ins.find(isVector);
      const normalized = ins.find((i) => !isVector(i));
      if (scale && normalized) {
        normScale = tensorFloats(inits.get(scale) as onnx.ITensorProto, graphPath);
        norm = centred(normalized, producer, throughCasts) ? 'layernorm' : 'rmsnorm';
      }
    }
  }
  return { vocabSize, dModel, weights, rowsAreTokens: transposed, tensorName: w, tied, norm, normScale };
}

/** Whether `normalized` = (x − mean(x)) / … : a LayerNorm's output rather than an RMSNorm's. */
function centred(normalized: string, producer: ReadonlyMap<string, onnx.INodeProto>, throughCasts: (x: string) => string): boolean {
  const seen = new Set<string>();
  const stack = [normalized];
  while (stack.length && seen.size < 16) {
    const name = throughCasts(stack.pop() as string);
    if (seen.has(name)) continue;
    seen.add(name);
    const n = producer.get(name);
    if (!n) continue;
    if (n.opType === 'Sub') {
      const mean = producer.get(throughCasts(n.input?.[1] ?? ''));
      if (mean?.opType === 'ReduceMean') return true;
    }
    if (n.opType === 'Div' || n.opType === 'Mul') stack.push(...(n.input ?? []));
  }
  return false;
}
