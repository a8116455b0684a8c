/**
 * Hidden states tapped from an ONNX causal LM: where the TransformerLens hooks (`blocks.L.hook_resid_pre`,
 * `hook_resid_post`, `hook_mlp_out`) sit in the graph, and a graph cut down to compute one of them.
 *
 * Hooks are found by structure, not by one exporter's tensor names: in a pre-norm transformer every block
 * normalizes the residual stream before attention and before the MLP, and the final norm reads the last
 * block's output, so the inputs of the normalizations in node order are resid_pre(0), resid_mid(0),
 * resid_post(0) = resid_pre(1), …, resid_post(L-1): 2L+1 tensors. A normalization is a LayerNormalization /
 * SimplifiedLayerNormalization / RMSNormalization op or its decomposed form (LayerNorm: ReduceMean(X) and
 * Sub(X, mean); RMSNorm: ReduceMean(Pow(X, 2) or Mul(X, X)), X possibly behind a Cast).
 *
 * A tap graph adds an Identity from the hook's tensor to an output named after the hook, makes it the first
 * output and drops everything not needed for it; the KV cache of the layers before the hook (`present.*`, the
 * ones the kept nodes compute) stays as further outputs, so that states after an edit can be computed from the
 * first changed token on (hiddenStates.ts). It is written next to the original graph (external-data
 * initializers keep their relative file locations) and named by the source file's size and mtime, so an
 * edited or re-downloaded model gets new taps.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { onnx } from 'onnx-proto';
import { hookName, isSafeHookName, parseHookName } from '../../sae/hooks';
import { ModelError } from './folder';
import { halfToNumber } from './tensors';
import { readBoundedTextSync } from '../../files/boundedRead';

/** Bumped when the locating or tapping rules change, so that cached taps are rebuilt. */
const TAP_FORMAT_VERSION = 3;

const NORM_OPS = new Set(['LayerNormalization', 'SimplifiedLayerNormalization', 'RMSNormalization']);
/** ONNX Runtime's fusions that swallow the residual add into the norm: the stream is no longer a tensor. */
const FUSED_RESIDUAL_OPS = new Set(['SkipLayerNormalization', 'SkipSimplifiedLayerNormalization', 'SkipGroupNorm', 'EmbedLayerNormalization']);

/** How the blocks add to the residual stream. */
export type BlockLayout = 'sequential' | 'parallel';

interface GraphHooks {
  /** Hook name → tensor name, in block order. */
  readonly hooks: ReadonlyMap<string, string>;
  readonly layerCount: number;
  /** `sequential`: attention then MLP, each with its own residual add; `parallel`: one add per block (no mlp_out). */
  readonly layout: BlockLayout;
}

// ---------------------------------------------------------------------------------------------- reading

/** Decodes an ONNX model file's bytes; a clear ModelError when it is not one. */
export function decodeModel(bytes: Uint8Array, path: string): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new ModelError(`${path} is not a valid ONNX model (${(e as Error).message}); download or export it again`);
  }
  if (!model.graph || !model.graph.node || model.graph.node.length === 0) throw new ModelError(`${path} is not a valid ONNX model (it holds no graph)`);
  return model;
}

function readModelFile(path: string): onnx.ModelProto {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ModelError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeModel(bytes, path);
}

// ---------------------------------------------------------------------------------------------- graph view

/**
 * The graph to search and cut. A merged decoder (Optimum's `decoder_model_merged`) holds the model twice in
 * an `If` on `use_cache_branch`; the no-cache branch (else) is inlined, so both layouts read the same way.
 */
export function flatGraph(graph: onnx.IGraphProto): onnx.IGraphProto {
  const nodes = graph.node ?? [];
  const inputs = new Set((graph.input ?? []).map((v) => v.name ?? ''));
  const merged = nodes.findIndex((n) => n.opType === 'If' && (n.domain ?? '') === '' && inputs.has(n.input?.[0] ?? '') && /use_cache_branch/.test(n.input?.[0] ?? ''));
  if (merged < 0) return graph;
  const ifNode = nodes[merged];
  const branch = ifNode.attribute?.find((a) => a.name === 'else_branch')?.g;
  if (!branch) return graph;
  const outs = ifNode.output ?? [];
  const branchOuts = branch.output ?? [];
  const inlined: onnx.INodeProto[] = [...(branch.node ?? [])];
  branchOuts.forEach((o, i) => {
    if (outs[i]) inlined.push({ opType: 'Identity', name: `inline/${outs[i]}`, input: [o.name ?? ''], output: [outs[i]] });
  });
  return {
    ...graph,
    node: [...nodes.slice(0, merged), ...inlined, ...nodes.slice(merged + 1)],
    initializer: [...(graph.initializer ?? []), ...(branch.initializer ?? [])],
    valueInfo: [...(graph.valueInfo ?? []), ...(branch.valueInfo ?? []), ...(branch.output ?? [])],
  };
}

/** Every name a node reads: its inputs and, for control flow, anything its subgraphs read (an over-estimate). */
function readsOf(node: onnx.INodeProto): string[] {
  const out = (node.input ?? []).filter((n) => n !== '');
  const walk = (g: onnx.IGraphProto) => {
    for (const n of g.node ?? []) out.push(...readsOf(n));
  };
  for (const a of node.attribute ?? []) {
    if (a.g) walk(a.g);
    for (const g of a.graphs ?? []) walk(g);
  }
  return out;
}


/** The value of a one-element tensor, when it is stored in the graph itself. */
function scalarOf(t: onnx.ITensorProto | null | undefined): number | undefined {
  if (!t) return undefined;
  const count = (t.dims ?? []).reduce<number>((p, d) => p * Number(d), 1);
  if (count !== 1) return undefined;
  const T = onnx.TensorProto.DataType;
  const raw = t.rawData && t.rawData.length ? new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength) : undefined;
  switch (t.dataType) {
    case T.FLOAT:
      return raw ? raw.getFloat32(0, true) : t.floatData?.[0];
    case T.DOUBLE:
      return raw ? raw.getFloat64(0, true) : t.doubleData?.[0];
    case T.FLOAT16:
      return raw ? halfToNumber(raw.getUint16(0, true)) : t.int32Data?.[0] !== undefined ? halfToNumber(t.int32Data[0]) : undefined;
    case T.INT32:
      return raw ? raw.getInt32(0, true) : t.int32Data?.[0];
    case T.INT64:
      return raw ? Number(raw.getBigInt64(0, true)) : t.int64Data?.[0] !== undefined ? Number(t.int64Data[0]) : undefined;
    default:
      return undefined;
  }
}

/** Producers, consumers and constants of a graph, indexed once. */
class GraphIndex {
  readonly nodes: readonly onnx.INodeProto[];
  private readonly producer = new Map<string, number>();
  private readonly consumers = new Map<string, number[]>();
  private readonly constants = new Map<string, onnx.ITensorProto>();

  constructor(readonly graph: onnx.IGraphProto) {
    this.nodes = graph.node ?? [];
    this.nodes.forEach((n, i) => {
      for (const o of n.output ?? []) if (o) this.producer.set(o, i);
      for (const x of n.input ?? []) {
        if (!x) continue;
        const list = this.consumers.get(x);
        if (list) list.push(i);
        else this.consumers.set(x, [i]);
      }
      if (n.opType === 'Constant') {
        const value = n.attribute?.find((a) => a.name === 'value')?.t;
        if (value && n.output?.[0]) this.constants.set(n.output[0], value);
      }
    });
    for (const t of graph.initializer ?? []) if (t.name) this.constants.set(t.name, t);
  }

  producerOf(tensor: string): onnx.INodeProto | undefined {
    const i = this.producer.get(tensor);
    return i === undefined ? undefined : this.nodes[i];
  }

  consumersOf(tensor: string): onnx.INodeProto[] {
    return (this.consumers.get(tensor) ?? []).map((i) => this.nodes[i]);
  }

  scalar(tensor: string): number | undefined {
    return scalarOf(this.constants.get(tensor));
  }

  /** The tensor before any Casts (fp16 exports cast the stream to fp32 for the norm). */
  throughCasts(tensor: string): string {
    let t = tensor;
    for (let hop = 0; hop < 4; hop++) {
      const p = this.producerOf(t);
      if (!p || p.opType !== 'Cast' || !p.input?.[0]) break;
      t = p.input[0];
    }
    return t;
  }

  /** ReduceMean(X) whose output a Sub(X, mean) reads: the mean of a LayerNorm. */
  isLayerNormMean(node: onnx.INodeProto): boolean {
    const x = node.input?.[0];
    const mean = node.output?.[0];
    if (!x || !mean) return false;
    return this.consumersOf(mean).some((c) => c.opType === 'Sub' && c.input?.[0] === x && c.input?.[1] === mean);
  }

  /** The X of ReduceMean(Pow(X, 2)) or ReduceMean(Mul(X, X)), unless X is a LayerNorm's centred input (its variance). */
  rmsInput(node: onnx.INodeProto): string | undefined {
    const sq = this.producerOf(node.input?.[0] ?? '');
    if (!sq) return undefined;
    let x: string | undefined;
    if (sq.opType === 'Pow') {
      const exponent = this.scalar(sq.input?.[1] ?? '');
      if (exponent === undefined || exponent === 2) x = sq.input?.[0];
    } else if (sq.opType === 'Mul' && sq.input?.[0] && sq.input[0] === sq.input[1]) x = sq.input[0];
    if (!x) return undefined;
    const centred = this.producerOf(x);
    if (centred?.opType === 'Sub') {
      const mean = this.producerOf(centred.input?.[1] ?? '');
      if (mean?.opType === 'ReduceMean' && mean.input?.[0] === centred.input?.[0]) return undefined;
    }
    return x;
  }
}

// ---------------------------------------------------------------------------------------------- locating

interface NormSite {
  readonly tensor: string;
  readonly kind: string;
}

/** The normalizations' input tensors, in node order, each once. */
function normalizationInputs(index: GraphIndex, where: string): NormSite[] {
  const sites: NormSite[] = [];
  const seen = new Set<string>();
  const add = (tensor: string | undefined, kind: string) => {
    if (!tensor) return;
    const t = index.throughCasts(tensor);
    if (seen.has(t)) return;
    seen.add(t);
    sites.push({ tensor: t, kind });
  };
  for (const node of index.nodes) {
    const op = node.opType ?? '';
    if (FUSED_RESIDUAL_OPS.has(op)) {
      throw new ModelError(
        `${where} is an optimized export: ${op} fused the residual additions into the normalizations, so the residual stream (the hidden states an SAE reads) is not a tensor of the graph; use an unoptimized export (e.g. Optimum's plain \`optimum-cli export onnx\`, or onnx/model.onnx rather than an *_optimized.onnx)`,
      );
    }
    if (NORM_OPS.has(op)) add(node.input?.[0], op);
    else if (op === 'ReduceMean') {
      if (index.isLayerNormMean(node)) add(node.input?.[0], 'LayerNorm (decomposed)');
      else add(index.rmsInput(node), 'RMSNorm (decomposed)');
    }
  }
  return sites;
}

/** True when `from` is an input of the Add producing `to`, or of an Add feeding it (up to `depth` Adds deep). */
function addsOnto(index: GraphIndex, from: string, to: string, depth: number): boolean {
  const p = index.producerOf(to);
  if (!p || p.opType !== 'Add') return false;
  const ins = (p.input ?? []).map((x) => index.throughCasts(x));
  if (ins.includes(from)) return true;
  return depth > 1 && ins.some((x) => addsOnto(index, from, x, depth - 1));
}

function describeSites(sites: readonly NormSite[]): string {
  const counts = new Map<string, number>();
  for (const s of sites) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} × ${k}`).join(', ');
}

/** Finds the residual-stream hooks of `model` (see the file comment); `layerCount` from config.json. */
export function locateHooks(model: onnx.IModelProto, layerCount: number, where: string): GraphHooks {
  if (!model.graph) throw new ModelError(`${where} holds no graph`);
  const index = new GraphIndex(flatGraph(model.graph));
  const all = normalizationInputs(index, where);
  const L = layerCount;
  if (all.length === 0) throw new ModelError(`${where}: found no normalization (LayerNormalization, RMSNorm or their decomposed forms), so the residual stream cannot be located`);
  // Norms off the stream (of queries and keys, Gemma's post-norms of sub-layer outputs) feed no residual add.
  const onStream = (depth: number) => all.filter((x, k) => all.some((y, j) => j !== k && (addsOnto(index, x.tensor, y.tensor, depth) || addsOnto(index, y.tensor, x.tensor, depth))));
  let layout: BlockLayout;
  let sites = onStream(1);
  if (sites.length === 2 * L + 1) layout = 'sequential';
  else if (onStream(2).length === L + 1) {
    layout = 'parallel';
    sites = onStream(2);
  } else {
    const aside = all.length - sites.length;
    throw new ModelError(
      `${where}: found ${sites.length} normalization inputs on the residual stream (${describeSites(sites) || 'none'}${aside ? `; ${aside} other normalizations left aside` : ''}), but a pre-norm model with ${L} blocks has ${2 * L + 1} ` +
        `(two per block and a final one) or ${L + 1} (one per block with parallel attention and MLP): this architecture's residual stream cannot be located`,
    );
  }
  const s = sites.map((x) => x.tensor);
  // Each residual tensor is the previous one plus a sub-layer's output: otherwise these are not a pre-norm stream.
  for (let k = 0; k + 1 < s.length; k++) {
    if (!addsOnto(index, s[k], s[k + 1], layout === 'sequential' ? 1 : 2)) {
      throw new ModelError(`${where}: the normalization inputs do not form a pre-norm residual stream (${s[k + 1]} is not ${s[k]} plus a sub-layer's output); post-norm models are not supported`);
    }
  }
  const hooks = new Map<string, string>();
  for (let l = 0; l < L; l++) {
    if (layout === 'sequential') {
      const pre = s[2 * l];
      const mid = s[2 * l + 1];
      const post = s[2 * l + 2];
      hooks.set(hookName(l, 'resid_pre'), pre);
      hooks.set(hookName(l, 'resid_post'), post);
      const add = index.producerOf(post);
      const ins = add?.input ?? [];
      const at = ins.findIndex((x) => index.throughCasts(x) === mid);
      if (add?.opType === 'Add' && ins.length === 2 && at >= 0) hooks.set(hookName(l, 'mlp_out'), ins[1 - at]);
    } else {
      hooks.set(hookName(l, 'resid_pre'), s[l]);
      hooks.set(hookName(l, 'resid_post'), s[l + 1]);
    }
  }
  return { hooks, layerCount: L, layout };
}

// ---------------------------------------------------------------------------------------------- tap graph

/**
 * The model cut down to compute `tensor` as the only output, named `hook`: the nodes it needs (walking back
 * from it), and the inputs and initializers those read. Initializers are shared, not copied.
 */
export function buildTapModel(model: onnx.IModelProto, hook: string, tensor: string, dModel?: number): onnx.IModelProto {
  if (!model.graph) throw new ModelError('the model holds no graph');
  const graph = flatGraph(model.graph);
  const nodes = graph.node ?? [];
  const tap: onnx.INodeProto = { opType: 'Identity', name: `tap/${hook}`, input: [tensor], output: [hook] };
  const needed = new Set<string>([tensor]);
  const kept: onnx.INodeProto[] = [];
  // Nodes are topologically sorted: one pass backwards collects everything the tensor depends on.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    kept.push(n);
    for (const x of readsOf(n)) needed.add(x);
  }
  kept.reverse();
  kept.push(tap);
  const producedHere = new Set(kept.flatMap((n) => n.output ?? []));
  const input = (graph.input ?? []).filter((v) => needed.has(v.name ?? '') && !producedHere.has(v.name ?? ''));
  const graphInputs = new Set(input.map((v) => v.name));
  const graphInputNames = new Set((graph.input ?? []).map((v) => v.name ?? ''));
  if (!producedHere.has(tensor) && !graphInputNames.has(tensor) && !(graph.initializer ?? []).some((t) => t.name === tensor)) {
    throw new ModelError(`the graph has no tensor ${tensor}`);
  }
  const initializer = (graph.initializer ?? []).filter((t) => needed.has(t.name ?? ''));
  const sparseInitializer = (graph.sparseInitializer ?? []).filter((t) => needed.has(t.values?.name ?? ''));
  const valueInfo = (graph.valueInfo ?? []).filter((v) => needed.has(v.name ?? '') && !graphInputs.has(v.name));

  const known = (graph.valueInfo ?? []).find((v) => v.name === tensor)?.type?.tensorType;
  const logits = (graph.output ?? []).find((v) => v.name === 'logits')?.type?.tensorType ?? graph.output?.[0]?.type?.tensorType;
  const elemType = known?.elemType ?? logits?.elemType ?? onnx.TensorProto.DataType.FLOAT;
  const logitDims = logits?.shape?.dim ?? [];
  const dim = (i: number, fallback: string): onnx.TensorShapeProto.IDimension => (logitDims[i]?.dimParam ? { dimParam: logitDims[i].dimParam } : { dimParam: fallback });
  const output: onnx.IValueInfoProto = {
    name: hook,
    type: { tensorType: { elemType, shape: { dim: [dim(0, 'batch_size'), dim(1, 'sequence_length'), dModel ? { dimValue: dModel } : { dimParam: 'hidden_size' }] } } },
  };
  // The cache of the layers the tap runs, as the original graph names it (a graph without one has none).
  const presents = (graph.output ?? []).filter((v) => /^present/.test(v.name ?? '') && producedHere.has(v.name ?? ''));
  return {
    ...model,
    graph: { name: `${graph.name ?? 'graph'}_tap`, node: kept, input, output: [output, ...presents], initializer, sparseInitializer, valueInfo },
  };
}

// ---------------------------------------------------------------------------------------------- cached taps

/** 8 hex digits naming a graph file's version (size and mtime) and the tap format. */
export function graphSignature(graphPath: string): string {
  const st = statSync(graphPath);
  return createHash('sha256').update(`${TAP_FORMAT_VERSION}:${st.size}:${st.mtimeMs}`).digest('hex').slice(0, 8);
}

/** `onnx/model.tap.blocks.0.hook_resid_post.1a2b3c4d.onnx` for `onnx/model.onnx`. */
export function tapFilePath(graphPath: string, hook: string, signature: string): string {
  // Built from checked parts only: a hook name (no separators, no `..`) and 8 hex digits, next to the graph.
  if (!isSafeHookName(hook)) throw new ModelError(`${graphPath}: ${JSON.stringify(hook.slice(0, 80))} is not a hook name (blocks.N.hook_… or hook_embed)`);
  if (!/^[0-9a-f]{8}$/.test(signature)) throw new ModelError(`${graphPath}: ${JSON.stringify(signature)} is not a graph signature`);
  return join(dirname(graphPath), `${basename(graphPath, '.onnx')}.tap.${hook}.${signature}.onnx`);
}

/** `onnx/model.tap.1a2b3c4d.json`: the located hooks, so later loads need not decode the graph. */
function hooksFilePath(graphPath: string, signature: string): string {
  return join(dirname(graphPath), `${basename(graphPath, '.onnx')}.tap.${signature}.json`);
}

function notWritable(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
}

/** Writes via a temporary file and a rename, so a reader never sees half a file. */
function writeAtomically(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Removes taps of earlier versions of the graph (another signature). */
function removeStaleTaps(graphPath: string, signature: string): void {
  const base = basename(graphPath, '.onnx');
  const dir = dirname(graphPath);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(`${base}.tap.`)) continue;
    const m = /\.([0-9a-f]{8})\.(?:onnx|json)$/.exec(name);
    if (m && m[1] !== signature) rmSync(join(dir, name), { force: true });
  }
}

function hasExternalData(model: onnx.IModelProto): boolean {
  return (model.graph?.initializer ?? []).some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
}

interface HooksFile {
  readonly version: number;
  readonly layerCount: number;
  readonly layout: BlockLayout;
  readonly hooks: Record<string, string>;
}

function readHooksFile(path: string, layerCount: number): GraphHooks | undefined {
  try {
    const raw = JSON.parse(readBoundedTextSync(path, 'config')) as Partial<HooksFile>;
    if (raw.version !== TAP_FORMAT_VERSION || raw.layerCount !== layerCount || (raw.layout !== 'sequential' && raw.layout !== 'parallel')) return undefined;
    if (typeof raw.hooks !== 'object' || raw.hooks === null) return undefined;
    const hooks = new Map<string, string>();
    // The file sits in a model folder anyone could have written: keep only hook names of this model's layers.
    for (const [k, v] of Object.entries(raw.hooks)) {
      if (typeof v !== 'string' || !isSafeHookName(k)) continue;
      const layer = parseHookName(k)?.layer;
      if (layer !== undefined && layer >= layerCount) continue;
      hooks.set(k, v);
    }
    return { hooks, layerCount, layout: raw.layout };
  } catch {
    return undefined;
  }
}

/** Where a tap graph is: a file next to the source graph, or (a read-only folder, no external data) bytes in memory. */
type TapGraph = { readonly kind: 'file'; readonly path: string; readonly reused: boolean } | { readonly kind: 'memory'; readonly bytes: Uint8Array };

/**
 * The hooks of one ONNX graph file and its tap graphs, cached next to it. Opening reads the cached hook map
 * when there is one for this version of the file, else decodes the graph.
 */
export class GraphTaps {
  private decoded: onnx.ModelProto | undefined;

  private constructor(
    readonly graphPath: string,
    readonly signature: string,
    readonly graphHooks: GraphHooks,
    private readonly dModel: number | undefined,
    decoded: onnx.ModelProto | undefined,
  ) {
    this.decoded = decoded;
  }

  static open(graphPath: string, options: { layerCount: number; dModel?: number }): GraphTaps {
    let signature: string;
    try {
      signature = graphSignature(graphPath);
    } catch {
      throw new ModelError(`${graphPath} does not exist`);
    }
    const cached = readHooksFile(hooksFilePath(graphPath, signature), options.layerCount);
    if (cached) return new GraphTaps(graphPath, signature, cached, options.dModel, undefined);
    const model = readModelFile(graphPath);
    const graphHooks = locateHooks(model, options.layerCount, graphPath);
    const file: HooksFile = { version: TAP_FORMAT_VERSION, layerCount: graphHooks.layerCount, layout: graphHooks.layout, hooks: Object.fromEntries(graphHooks.hooks) };
    try {
      removeStaleTaps(graphPath, signature);
      writeAtomically(hooksFilePath(graphPath, signature), JSON.stringify(file, null, 1));
    } catch {
      // Only a shortcut for the next load: a read-only folder is handled when a tap is written.
    }
    return new GraphTaps(graphPath, signature, graphHooks, options.dModel, model);
  }

  get hooks(): ReadonlyMap<string, string> {
    return this.graphHooks.hooks;
  }

  /** The tap graph for `hook`: the cached file, else built (and written when the folder allows). */
  tap(hook: string): TapGraph {
    const tensor = this.graphHooks.hooks.get(hook);
    if (tensor === undefined) throw new ModelError(`${this.graphPath} has no hook ${hook}; it has ${[...this.graphHooks.hooks.keys()].join(', ')}`);
    const path = tapFilePath(this.graphPath, hook, this.signature);
    try {
      if (statSync(path).isFile()) return { kind: 'file', path, reused: true };
    } catch {
      // not built yet
    }
    const model = this.decoded ?? readModelFile(this.graphPath);
    this.decoded = model;
    const bytes = onnx.ModelProto.encode(buildTapModel(model, hook, tensor, this.dModel)).finish();
    try {
      writeAtomically(path, bytes);
      return { kind: 'file', path, reused: false };
    } catch (e) {
      if (notWritable(e) && !hasExternalData(model)) return { kind: 'memory', bytes };
      const why = notWritable(e) ? 'the folder is not writable' : (e as Error).message;
      throw new ModelError(
        `cannot write the tap graph ${path} (${why}); it must sit next to ${basename(this.graphPath)}, whose weights it reads from the same folder: make ${dirname(path)} writable or copy the model to a writable folder`,
      );
    }
  }

  /** Forgets the decoded source graph (it can be large); taps not yet built decode it again. */
  release(): void {
    this.decoded = undefined;
  }
}
