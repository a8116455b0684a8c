/**
 * Loads an SAE from a local folder or file, in the formats people publish:
 * - SAELens: `cfg.json` + `sae_weights.safetensors` (architectures standard, jumprelu, topk; 6.x configs with
 *   `metadata{hook_name, model_name, neuronpedia_id, …}` and older flat ones with `hook_point`/`hook_name`,
 *   `hook_layer`, `activation_fn_str`, `activation_fn_kwargs`);
 * - EleutherAI sparsify: `cfg.json` (`d_in`, `num_latents` | `expansion_factor`, `k`) + `sae.safetensors`
 *   (`encoder.weight` [d_sae, d_in], `encoder.bias`, `W_dec` [d_sae, d_in], `b_dec`); the folder name is the
 *   module it reads (`layers.6` → blocks.6.hook_resid_post);
 * - Gemma Scope: `params.npz` (`W_enc` [d_in, d_sae], `W_dec`, `b_enc`, `b_dec`, `threshold`); the hook comes
 *   from the path (`…-res/…/layer_20/…` → blocks.20.hook_resid_post), as SAELens derives it.
 * A Hugging Face cache folder (`models--org--name`, resolved through refs/main to its snapshot) works too; a
 * folder holding several SAEs asks for one. Pickled PyTorch files are refused: unpickling can run code.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileSource, memorySource, type ByteSource } from './bytes';
import { SaeError } from './errors';
import { checkedHookName, hookFromModulePath, hookName } from './hooks';
import { packEncoder } from './kernel';
import { MAX_HEADER_BYTES, npyHeaderFromPrefix, readNpy, type NpyArray } from './npy';
import { openSafetensors, type SafetensorsFile } from './safetensors';
import type { SaeNormalization, SparseAutoencoder, WeightDtype } from './types';
import { openZipEntry, peekZipEntry, readZipDirectory } from './zip';
import { readBoundedTextSync } from '../files/boundedRead';

export interface LoadSaeOptions {
  /** A folder inside the given folder (or repository snapshot) that holds the SAE, e.g. `layer_20/width_16k/average_l0_71`. */
  readonly subfolder?: string;
  /** The hook to read, overriding (or supplying) what the files say. */
  readonly hook?: string;
  /** For `normalize_activations: expected_average_only_in`: the factor the input is scaled by (√d_in / mean ‖x‖). */
  readonly normScalingFactor?: number;
}

export const SAELENS_WEIGHTS = 'sae_weights.safetensors';
export const SPARSIFY_WEIGHTS = 'sae.safetensors';
export const GEMMA_SCOPE_PARAMS = 'params.npz';
const CONFIG = 'cfg.json';
const PICKLE_EXTENSIONS = new Set(['.pt', '.pth', '.ckpt', '.pkl', '.pickle', '.bin']);
const SEARCH_DEPTH = 4;

// ---------------------------------------------------------------------------------------------- paths

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** `models--org--name` → `org/name`. */
function repoIdOf(component: string): string | undefined {
  const m = /^models--(.+)$/.exec(component);
  return m ? m[1].replace('--', '/') : undefined;
}

/** The repository id when `path` lies in a Hugging Face cache repository folder. */
export function hfRepoIdOfPath(path: string): string | undefined {
  const parts = resolve(path).split(sep);
  for (let i = parts.length - 1; i >= 0; i--) {
    const id = repoIdOf(parts[i]);
    if (id) return id;
  }
  return undefined;
}

/** A Hugging Face cache repository folder → the snapshot folder (refs/main's, else the only or newest one). */
export function resolveHfCacheFolder(dir: string): string {
  if (!repoIdOf(basename(resolve(dir))) || !isDir(join(dir, 'snapshots'))) return dir;
  const snapshots = readdirSync(join(dir, 'snapshots')).filter((s) => isDir(join(dir, 'snapshots', s)));
  if (snapshots.length === 0) throw new SaeError(`${dir}: a Hugging Face cache folder with no snapshots (the download did not finish?)`);
  const refMain = join(dir, 'refs', 'main');
  const rev = existsSync(refMain) ? readFileSync(refMain, 'utf8').trim() : undefined;
  if (rev && snapshots.includes(rev)) return join(dir, 'snapshots', rev);
  const newest = snapshots
    .map((s) => ({ s, t: statSync(join(dir, 'snapshots', s)).mtimeMs }))
    .sort((a, b) => b.t - a.t || a.s.localeCompare(b.s))[0].s;
  return join(dir, 'snapshots', newest);
}

type FolderKind = 'saelens' | 'sparsify' | 'gemma-scope' | 'pickle' | 'config-only';

function folderKind(dir: string): FolderKind | undefined {
  const has = (f: string) => existsSync(join(dir, f));
  if (has(SAELENS_WEIGHTS)) return 'saelens';
  if (has(SPARSIFY_WEIGHTS)) return 'sparsify';
  if (has(GEMMA_SCOPE_PARAMS)) return 'gemma-scope';
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  if (names.some((n) => PICKLE_EXTENSIONS.has(extname(n).toLowerCase()) && n !== 'training_args.bin')) return 'pickle';
  if (has(CONFIG)) return 'config-only';
  return undefined;
}

/** Folders under `root` (itself included) that hold an SAE, as paths relative to root; at most `limit`. */
export function findSaeFolders(root: string, limit = 1000): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (found.length >= limit) return;
    const kind = folderKind(dir);
    if (kind === 'saelens' || kind === 'sparsify' || kind === 'gemma-scope') {
      found.push(relative(root, dir) || '.');
      return;
    }
    if (depth >= SEARCH_DEPTH) return;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith('.') || n === 'blobs' || n === 'refs' || n === 'node_modules') continue;
      const p = join(dir, n);
      if (isDir(p)) walk(p, depth + 1);
    }
  };
  walk(root, 0);
  return found;
}

// ---------------------------------------------------------------------------------------------- pickles

/** Refuse pickled PyTorch files with the reason and the way out. */
function pickleRefusal(path: string): SaeError {
  return new SaeError(
    `${path} is a pickled PyTorch file: Token Inspector does not open pickles, because unpickling can run arbitrary code. ` +
      `Convert it once to safetensors in Python: safetensors.torch.save_file({k: v.contiguous() for k, v in torch.load(PATH, weights_only=True).items() if torch.is_tensor(v)}, "sae_weights.safetensors"), ` +
      `rename the tensors to W_enc [d_in, d_sae], b_enc, W_dec [d_sae, d_in], b_dec and add a SAELens cfg.json ` +
      `(OpenAI's TopK SAEs: W_enc = encoder.weight.T, b_enc = latent_bias, W_dec = decoder.weight.T, b_dec = pre_bias; architecture "topk", k, normalize_activations "layer_norm")`,
  );
}

/** A pickle (protocol 2+), or torch's zip format (an archive holding `…/data.pkl`). */
function looksLikePickle(head: Uint8Array): boolean {
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return true;
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    const nameLen = head[26] | (head[27] << 8);
    const name = new TextDecoder().decode(head.subarray(30, 30 + nameLen));
    return /(^|\/)data\.pkl$/.test(name) || /(^|\/)(version|byteorder)$/.test(name);
  }
  return false;
}

function readHead(path: string, length: number): Uint8Array {
  const src = fileSource(path);
  try {
    return src.read(0, Math.min(length, src.sizeBytes));
  } finally {
    src.close();
  }
}

// ---------------------------------------------------------------------------------------------- helpers

type Json = Record<string, unknown>;

function readJsonObject(path: string): Json {
  let text: string;
  try {
    text = readBoundedTextSync(path, 'config', { error: (m) => new SaeError(m) });
  } catch (e) {
    if (e instanceof SaeError) throw e;
    throw new SaeError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new SaeError(`${path} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SaeError(`${path} is not a JSON object`);
  return v as Json;
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function checkShape(file: string, name: string, shape: readonly number[], expected: readonly number[], why: string): void {
  if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
    throw new SaeError(`${file}: ${name} has shape [${shape.join(', ')}] but ${why} (expected [${expected.join(', ')}])`);
  }
}

function checkFinite(file: string, name: string, a: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new SaeError(`${file}: ${name} holds a NaN or infinite value (element ${i})`);
  }
}

function allOnes(a: Float32Array): boolean {
  return a.every((v) => v === 1);
}

function normalizationOf(file: string, v: unknown): SaeNormalization {
  if (v === undefined || v === null || v === false || v === 'none') return 'none';
  if (v === true) return 'expected_average_only_in';
  if (v === 'expected_average_only_in' || v === 'constant_norm_rescale' || v === 'layer_norm') return v;
  throw new SaeError(`${file}: normalize_activations ${JSON.stringify(v)} is not one of none, expected_average_only_in, constant_norm_rescale, layer_norm`);
}

function checkNormalization(file: string, normalization: SaeNormalization, factor: number | undefined): void {
  if (normalization === 'expected_average_only_in' && !(factor !== undefined && Number.isFinite(factor) && factor > 0)) {
    throw new SaeError(
      `${file}: normalize_activations is expected_average_only_in, which scales inputs by a dataset-wide factor this folder does not hold ` +
        `(SAELens folds it into the weights, or reads it from its pretrained-SAE directory); give the factor (√d_in / mean ‖x‖) or use a folder with it folded in`,
    );
  }
}

// ---------------------------------------------------------------------------------------------- SAELens

/** What a SAELens cfg.json says about the SAE: those of its fields, as named on SparseAutoencoder. */
type SaeLensConfig = Pick<
  SparseAutoencoder,
  'architecture' | 'dIn' | 'dSae' | 'k' | 'applyBDecToInput' | 'normalization' | 'normScalingFactor' | 'hook' | 'modelName' | 'neuronpediaId' | 'prependBos' | 'contextSizeTokens'
>;

/** Reads a SAELens cfg.json, new (6.x, `metadata`) or old (flat, pre-6.0). */
export function parseSaeLensConfig(cfg: Json, file: string): SaeLensConfig {
  const meta = (typeof cfg.metadata === 'object' && cfg.metadata !== null ? cfg.metadata : typeof cfg.meta === 'object' && cfg.meta !== null ? cfg.meta : {}) as Json;
  const pick = (key: string): unknown => (meta[key] !== undefined && meta[key] !== null ? meta[key] : cfg[key]);
  const dIn = positiveInt(cfg.d_in);
  if (!dIn) throw new SaeError(`${file}: d_in is missing or not a positive integer`);
  const expansion = positiveInt(cfg.expansion_factor);
  const dSae = positiveInt(cfg.d_sae) ?? (expansion ? dIn * expansion : undefined);
  if (!dSae) throw new SaeError(`${file}: d_sae is missing (and no expansion_factor to derive it from)`);

  const activationFn = str(cfg.activation_fn_str) ?? str(cfg.activation_fn) ?? 'relu';
  let architecture = str(cfg.architecture) ?? 'standard';
  if (architecture === 'standard' && activationFn === 'topk') architecture = 'topk'; // pre-6.0 TopK SAEs
  if (architecture !== 'standard' && architecture !== 'jumprelu' && architecture !== 'topk') {
    throw new SaeError(`${file}: architecture ${JSON.stringify(architecture)} is not supported (standard, jumprelu and topk are)`);
  }
  if (activationFn !== 'relu' && activationFn !== 'topk') throw new SaeError(`${file}: activation function ${JSON.stringify(activationFn)} is not supported (relu and topk are)`);

  let k: number | undefined;
  if (architecture === 'topk') {
    const kwargs = (typeof cfg.activation_fn_kwargs === 'object' && cfg.activation_fn_kwargs !== null ? cfg.activation_fn_kwargs : {}) as Json;
    k = positiveInt(cfg.k) ?? positiveInt(kwargs.k);
    if (!k) throw new SaeError(`${file}: a topk SAE needs k (a positive integer)`);
    if (k > dSae) throw new SaeError(`${file}: k = ${k} exceeds d_sae = ${dSae}`);
  }
  if (cfg.finetuning_scaling_factor === true) throw new SaeError(`${file}: finetuning_scaling_factor is not supported`);
  if (cfg.rescale_acts_by_decoder_norm === true) throw new SaeError(`${file}: rescale_acts_by_decoder_norm is not supported`);
  const headIndex = pick('hook_head_index') ?? pick('hook_point_head_index');
  if (headIndex !== undefined && headIndex !== null) throw new SaeError(`${file}: SAEs on a single attention head (hook_head_index ${String(headIndex)}) are not supported`);

  const normalization = normalizationOf(file, cfg.normalize_activations);
  const factor = typeof cfg.norm_scaling_factor === 'number' ? cfg.norm_scaling_factor : undefined;
  return {
    architecture,
    dIn,
    dSae,
    k,
    applyBDecToInput: cfg.apply_b_dec_to_input === undefined || cfg.apply_b_dec_to_input === null ? true : cfg.apply_b_dec_to_input === true,
    normalization,
    normScalingFactor: factor,
    // The hook ends up in a file name (the tap graph): only a hook name gets through.
    hook: checkedHookName(str(pick('hook_name')) ?? str(pick('hook_point')), `${file}: hook_name`),
    modelName: str(pick('model_name')),
    neuronpediaId: str(pick('neuronpedia_id')),
    prependBos: typeof pick('prepend_bos') === 'boolean' ? (pick('prepend_bos') as boolean) : undefined,
    contextSizeTokens: positiveInt(pick('context_size')),
  };
}

/** The shape of a tensor the file must hold. */
function tensorShape(st: SafetensorsFile, file: string, name: string): readonly number[] {
  const t = st.tensors.get(name);
  if (!t) throw new SaeError(`${file}: has no tensor ${name} (it has ${[...st.tensors.keys()].join(', ') || 'none'})`);
  return t.shape;
}

/** The encoder and decoder tensors (named in the file's convention) as float32, each checked finite. */
function readWeights(
  st: SafetensorsFile,
  file: string,
  names: { readonly wEnc: string; readonly bEnc: string; readonly wDec: string; readonly bDec: string },
): { wEnc: Float32Array; bEnc: Float32Array; wDec: Float32Array; bDec: Float32Array; storedDtype: WeightDtype } {
  const storedDtype = st.tensors.get(names.wEnc)?.dtype as WeightDtype;
  const wEnc = st.readFloat32(names.wEnc);
  const bEnc = st.readFloat32(names.bEnc);
  const wDec = st.readFloat32(names.wDec);
  const bDec = st.readFloat32(names.bDec);
  for (const [n, a] of [[names.wEnc, wEnc], [names.bEnc, bEnc], [names.wDec, wDec], [names.bDec, bDec]] as const) checkFinite(file, n, a);
  return { wEnc, bEnc, wDec, bDec, storedDtype };
}

function withSafetensors<T>(path: string, f: (file: SafetensorsFile) => T): T {
  const src = fileSource(path);
  try {
    if (looksLikePickle(src.read(0, Math.min(512, src.sizeBytes)))) throw pickleRefusal(path);
    return f(openSafetensors(src));
  } finally {
    src.close();
  }
}

function loadSaeLens(dir: string, options: LoadSaeOptions): SparseAutoencoder {
  const cfgPath = join(dir, CONFIG);
  const weightsPath = join(dir, SAELENS_WEIGHTS);
  if (!existsSync(cfgPath)) throw new SaeError(`${dir}: has ${SAELENS_WEIGHTS} but no ${CONFIG} (a SAELens folder needs both)`);
  const cfg = parseSaeLensConfig(readJsonObject(cfgPath), cfgPath);
  const normScalingFactor = options.normScalingFactor ?? cfg.normScalingFactor;
  checkNormalization(cfgPath, cfg.normalization, normScalingFactor);
  return withSafetensors(weightsPath, (st) => {
    const { dIn, dSae } = cfg;
    const why = `${CONFIG} says d_in=${dIn}, d_sae=${dSae}`;
    const shapeOf = (name: string): readonly number[] => tensorShape(st, weightsPath, name);
    checkShape(weightsPath, 'W_enc', shapeOf('W_enc'), [dIn, dSae], why);
    checkShape(weightsPath, 'W_dec', shapeOf('W_dec'), [dSae, dIn], why);
    checkShape(weightsPath, 'b_enc', shapeOf('b_enc'), [dSae], why);
    checkShape(weightsPath, 'b_dec', shapeOf('b_dec'), [dIn], why);
    let threshold: Float32Array | undefined;
    if (cfg.architecture === 'jumprelu') {
      if (st.tensors.has('threshold')) {
        checkShape(weightsPath, 'threshold', shapeOf('threshold'), [dSae], why);
        threshold = st.readFloat32('threshold');
      } else if (st.tensors.has('log_threshold')) {
        checkShape(weightsPath, 'log_threshold', shapeOf('log_threshold'), [dSae], why);
        threshold = st.readFloat32('log_threshold').map(Math.exp);
      } else throw new SaeError(`${weightsPath}: a jumprelu SAE needs a threshold tensor`);
      checkFinite(weightsPath, 'threshold', threshold);
    }
    for (const name of ['scaling_factor', 'finetuning_scaling_factor']) {
      if (st.tensors.has(name) && !allOnes(st.readFloat32(name))) throw new SaeError(`${weightsPath}: a ${name} other than 1 is not supported`);
    }
    const { wEnc, bEnc, wDec, bDec, storedDtype } = readWeights(st, weightsPath, { wEnc: 'W_enc', bEnc: 'b_enc', wDec: 'W_dec', bDec: 'b_dec' });
    return {
      format: 'saelens',
      architecture: cfg.architecture,
      dIn,
      dSae,
      encoder: packEncoder(wEnc, bEnc, dIn, dSae, 'in-sae'),
      wDec,
      bDec,
      threshold,
      k: cfg.k,
      applyBDecToInput: cfg.applyBDecToInput,
      normalization: cfg.normalization,
      normScalingFactor: cfg.normalization === 'expected_average_only_in' ? normScalingFactor : undefined,
      hook: options.hook ?? cfg.hook,
      modelName: cfg.modelName,
      neuronpediaId: cfg.neuronpediaId,
      prependBos: cfg.prependBos,
      contextSizeTokens: cfg.contextSizeTokens,
      storedDtype,
      path: dir,
      repoId: hfRepoIdOfPath(dir),
    };
  });
}

// ---------------------------------------------------------------------------------------------- sparsify

function loadSparsify(dir: string, options: LoadSaeOptions): SparseAutoencoder {
  const cfgPath = join(dir, CONFIG);
  const weightsPath = join(dir, SPARSIFY_WEIGHTS);
  if (!existsSync(cfgPath)) throw new SaeError(`${dir}: has ${SPARSIFY_WEIGHTS} but no ${CONFIG} (a sparsify folder needs both)`);
  const cfg = readJsonObject(cfgPath);
  const dIn = positiveInt(cfg.d_in);
  if (!dIn) throw new SaeError(`${cfgPath}: d_in is missing or not a positive integer`);
  const dSae = positiveInt(cfg.num_latents) ?? (positiveInt(cfg.expansion_factor) ?? 0) * dIn;
  if (!dSae) throw new SaeError(`${cfgPath}: needs num_latents or expansion_factor`);
  const k = positiveInt(cfg.k);
  if (!k) throw new SaeError(`${cfgPath}: k is missing or not a positive integer`);
  if (k > dSae) throw new SaeError(`${cfgPath}: k = ${k} exceeds the ${dSae} latents`);
  if (cfg.activation !== undefined && cfg.activation !== 'topk') throw new SaeError(`${cfgPath}: activation ${JSON.stringify(cfg.activation)} is not supported (topk is)`);
  for (const flag of ['skip_connection', 'transcode', 'embed_skip', 'gram_lookup']) {
    if (cfg[flag] === true) throw new SaeError(`${cfgPath}: ${flag} is not supported (only plain sparse autoencoders are)`);
  }
  return withSafetensors(weightsPath, (st) => {
    const why = `${CONFIG} says d_in=${dIn} and ${dSae} latents`;
    const shapeOf = (name: string): readonly number[] => tensorShape(st, weightsPath, name);
    if (st.tensors.has('W_skip')) throw new SaeError(`${weightsPath}: has a skip connection (W_skip), which is not supported`);
    checkShape(weightsPath, 'encoder.weight', shapeOf('encoder.weight'), [dSae, dIn], why);
    checkShape(weightsPath, 'encoder.bias', shapeOf('encoder.bias'), [dSae], why);
    checkShape(weightsPath, 'W_dec', shapeOf('W_dec'), [dSae, dIn], why);
    checkShape(weightsPath, 'b_dec', shapeOf('b_dec'), [dIn], why);
    const { wEnc, bEnc, wDec, bDec, storedDtype } = readWeights(st, weightsPath, { wEnc: 'encoder.weight', bEnc: 'encoder.bias', wDec: 'W_dec', bDec: 'b_dec' });
    return {
      format: 'sparsify',
      architecture: 'topk',
      dIn,
      dSae,
      encoder: packEncoder(wEnc, bEnc, dIn, dSae, 'sae-in'),
      wDec,
      bDec,
      k,
      // sparsify encodes x − b_dec and applies no normalization.
      applyBDecToInput: true,
      normalization: 'none',
      hook: options.hook ?? hookFromModulePath(basename(resolve(dir))),
      storedDtype,
      path: dir,
      repoId: hfRepoIdOfPath(dir),
    };
  });
}

// ---------------------------------------------------------------------------------------------- Gemma Scope

/** The hook and model of a Gemma Scope SAE from its path, as SAELens's loader derives them. */
export function gemmaScopeHookFromPath(path: string): { hook?: string; modelName?: string } {
  const p = resolve(path).replace(/\\/g, '/');
  const repo = hfRepoIdOfPath(path) ?? p;
  const layerMatch = /(?:^|\/)layer_(\d+)(?:\/|$)/.exec(p);
  const m = /gemma-scope-(\d+b)-(pt|it)/.exec(repo);
  const modelName = m ? `gemma-2-${m[1]}${m[2] === 'it' ? '-it' : ''}` : undefined;
  if (/embedding/.test(p) && /-res\b/.test(repo)) return { hook: 'hook_embed', modelName };
  if (!layerMatch) return { modelName };
  const layer = parseInt(layerMatch[1], 10);
  if (/-res(?:[-_/]|$)/.test(repo)) return { hook: hookName(layer, 'resid_post'), modelName };
  if (/-mlp(?:[-_/]|$)/.test(repo)) return { hook: hookName(layer, 'mlp_out'), modelName };
  if (/-att(?:[-_/]|$)/.test(repo)) return { hook: hookName(layer, 'attn_z'), modelName };
  return { modelName };
}

/**
 * Reads every array of an .npz archive (keys without `.npy`). Every entry's .npy header is read first (from
 * its first bytes) and its declared shape checked against the entry's size, then `checkShapes` sees all shapes;
 * only then is anything inflated.
 */
export function readNpz(source: ByteSource, checkShapes?: (shapes: ReadonlyMap<string, readonly number[]>) => void): Map<string, NpyArray> {
  const entries = readZipDirectory(source).filter((e) => !e.name.endsWith('/'));
  const shapes = new Map<string, readonly number[]>();
  for (const entry of entries) {
    const name = `${source.name}!${entry.name}`;
    shapes.set(entry.name.replace(/\.npy$/, ''), npyHeaderFromPrefix(peekZipEntry(source, entry, MAX_HEADER_BYTES + 12), entry.uncompressedSizeBytes, name).shape);
  }
  checkShapes?.(shapes);
  const out = new Map<string, NpyArray>();
  for (const entry of entries) {
    const inner = openZipEntry(source, entry);
    out.set(entry.name.replace(/\.npy$/, ''), readNpy(inner, 0, inner.sizeBytes, inner.name));
  }
  return out;
}

/** Gemma Scope's arrays and their shapes, checked on the declared shapes (before inflating) and on the arrays. */
function checkGemmaShapes(file: string, shapes: ReadonlyMap<string, readonly number[]>): void {
  const get = (name: string): readonly number[] => {
    const s = shapes.get(name) ?? shapes.get(name.replace(/^W_/, 'w_'));
    if (!s) throw new SaeError(`${file}: has no array ${name} (it has ${[...shapes.keys()].join(', ') || 'none'})`);
    return s;
  };
  const wEnc = get('W_enc');
  if (wEnc.length !== 2) throw new SaeError(`${file}: W_enc has shape [${wEnc.join(', ')}], expected [d_in, d_sae]`);
  const [dIn, dSae] = wEnc;
  const why = `W_enc is [${dIn}, ${dSae}]`;
  checkShape(file, 'W_dec', get('W_dec'), [dSae, dIn], why);
  checkShape(file, 'b_enc', get('b_enc'), [dSae], why);
  checkShape(file, 'b_dec', get('b_dec'), [dIn], why);
  checkShape(file, 'threshold', get('threshold'), [dSae], why);
}

function loadGemmaScope(file: string, options: LoadSaeOptions): SparseAutoencoder {
  const src = fileSource(file);
  let arrays: Map<string, NpyArray>;
  try {
    arrays = readNpz(src, (shapes) => checkGemmaShapes(file, shapes));
  } finally {
    src.close();
  }
  const get = (name: string): NpyArray => {
    const a = arrays.get(name) ?? arrays.get(name.replace(/^W_/, 'w_'));
    if (!a) throw new SaeError(`${file}: has no array ${name} (it has ${[...arrays.keys()].join(', ') || 'none'})`);
    return a;
  };
  const wEnc = get('W_enc');
  if (wEnc.shape.length !== 2) throw new SaeError(`${file}: W_enc has shape [${wEnc.shape.join(', ')}], expected [d_in, d_sae]`);
  const [dIn, dSae] = wEnc.shape;
  const why = `W_enc is [${dIn}, ${dSae}]`;
  const wDec = get('W_dec');
  const bEnc = get('b_enc');
  const bDec = get('b_dec');
  const threshold = get('threshold');
  checkShape(file, 'W_dec', wDec.shape, [dSae, dIn], why);
  checkShape(file, 'b_enc', bEnc.shape, [dSae], why);
  checkShape(file, 'b_dec', bDec.shape, [dIn], why);
  checkShape(file, 'threshold', threshold.shape, [dSae], why);
  const scaling = arrays.get('scaling_factor');
  if (scaling && !allOnes(scaling.data)) throw new SaeError(`${file}: a scaling_factor other than 1 is not supported`);
  for (const [n, a] of [['W_enc', wEnc], ['W_dec', wDec], ['b_enc', bEnc], ['b_dec', bDec], ['threshold', threshold]] as const) checkFinite(file, n, a.data);
  const derived = gemmaScopeHookFromPath(dirname(file));
  return {
    format: 'gemma-scope',
    architecture: 'jumprelu',
    dIn,
    dSae,
    encoder: packEncoder(wEnc.data, bEnc.data, dIn, dSae, 'in-sae'),
    wDec: wDec.data,
    bDec: bDec.data,
    threshold: threshold.data,
    applyBDecToInput: false,
    normalization: 'none',
    hook: options.hook ?? derived.hook,
    modelName: derived.modelName,
    prependBos: true,
    storedDtype: wEnc.storedDtype,
    path: file,
    repoId: hfRepoIdOfPath(file),
  };
}

// ---------------------------------------------------------------------------------------------- entry

function loadFolder(dir: string, options: LoadSaeOptions): SparseAutoencoder {
  const kind = folderKind(dir);
  if (kind === 'saelens') return loadSaeLens(dir, options);
  if (kind === 'sparsify') return loadSparsify(dir, options);
  if (kind === 'gemma-scope') return loadGemmaScope(join(dir, GEMMA_SCOPE_PARAMS), options);
  const found = findSaeFolders(dir);
  if (found.length === 1) return loadFolder(join(dir, found[0]), options);
  if (found.length > 1) {
    const shown = found.slice(0, 8).join(', ');
    throw new SaeError(`${dir}: holds ${found.length >= 1000 ? 'over 1000' : found.length} SAEs; give one of them (${shown}${found.length > 8 ? ', …' : ''})`);
  }
  if (kind === 'pickle') {
    const pickle = readdirSync(dir).find((n) => PICKLE_EXTENSIONS.has(extname(n).toLowerCase()));
    throw pickleRefusal(join(dir, pickle ?? ''));
  }
  if (kind === 'config-only') throw new SaeError(`${dir}: has ${CONFIG} but no weights (${SAELENS_WEIGHTS} for SAELens, ${SPARSIFY_WEIGHTS} for sparsify)`);
  throw new SaeError(`${dir}: holds no SAE (looked for ${CONFIG} + ${SAELENS_WEIGHTS} (SAELens), ${CONFIG} + ${SPARSIFY_WEIGHTS} (sparsify), ${GEMMA_SCOPE_PARAMS} (Gemma Scope), up to ${SEARCH_DEPTH} folders deep)`);
}

/**
 * Loads an SAE from `path`: a folder (SAELens, sparsify, Gemma Scope; a Hugging Face cache repository folder;
 * a folder holding exactly one of those), or one of its files (cfg.json, the .safetensors, params.npz).
 */
export function loadSae(path: string, options: LoadSaeOptions = {}): SparseAutoencoder {
  checkedHookName(options.hook, 'the hook to read (--hook, tokenInspector.saeHook)');
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new SaeError(`${path} does not exist`);
  }
  if (st.isDirectory()) {
    let dir = resolveHfCacheFolder(path);
    if (options.subfolder) {
      dir = join(dir, options.subfolder);
      if (!isDir(dir)) throw new SaeError(`${path}: has no folder ${options.subfolder}`);
    }
    return loadFolder(dir, options);
  }
  const name = basename(path);
  const ext = extname(name).toLowerCase();
  if (PICKLE_EXTENSIONS.has(ext) || looksLikePickle(readHead(path, 512))) throw pickleRefusal(path);
  if (ext === '.npz') return loadGemmaScope(path, options);
  if (name === CONFIG || name === SAELENS_WEIGHTS || name === SPARSIFY_WEIGHTS) return loadFolder(dirname(path), options);
  if (ext === '.safetensors') {
    throw new SaeError(`${path}: a safetensors file by another name; an SAE is a folder with ${CONFIG} and ${SAELENS_WEIGHTS} (SAELens) or ${SPARSIFY_WEIGHTS} (sparsify)`);
  }
  throw new SaeError(`${path} is not an SAE file (give a folder with ${CONFIG} + ${SAELENS_WEIGHTS} or ${SPARSIFY_WEIGHTS}, or a ${GEMMA_SCOPE_PARAMS})`);
}

/** For tests and in-memory use: the arrays of .npz bytes. */
export function readNpzBytes(bytes: Uint8Array, name: string): Map<string, NpyArray> {
  return readNpz(memorySource(bytes, name));
}
