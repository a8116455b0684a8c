/**
 * Where an ONNX causal LM lives on disk and what it declares: a plain folder
 * (`config.json`, `tokenizer.json`, `onnx/model.onnx`) or a Hugging Face cache model folder
 * (`models--org--name/snapshots/<rev>/…`, the snapshot named by `refs/main` first).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readBoundedTextSync } from '../../files/boundedRead';

/** A model that cannot be loaded or run, with a message meant for the user. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
}

/** Weight variants of an ONNX export, as transformers.js names them (`onnx/model{suffix}.onnx`). */
export const ONNX_DTYPES = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
} as const;
export type OnnxDtype = keyof typeof ONNX_DTYPES;

export function isOnnxDtype(x: unknown): x is OnnxDtype {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(ONNX_DTYPES, x);
}

/**
 * Graph names of a causal LM export: `model` (Optimum ≥ 1.22, onnx-community/…, transformers.js v3+), or the
 * older `decoder_model_merged` (Xenova/… repos such as Xenova/gpt2), which transformers.js still runs.
 */
export const GRAPH_BASES = ['model', 'decoder_model_merged'] as const;
export type GraphBase = (typeof GRAPH_BASES)[number];

/** The graph file of a dtype, relative to the model folder. */
export function onnxFileName(dtype: OnnxDtype, base: GraphBase = 'model'): string {
  return `onnx/${base}${ONNX_DTYPES[dtype]}.onnx`;
}

/** What the loader needs from config.json (names differ between architectures). */
export interface ModelConfig {
  readonly modelType: string;
  readonly vocabSize: number;
  /** Longest sequence the model was trained on (positions), if declared. */
  readonly contextLength?: number;
  readonly bosTokenId?: number;
  readonly eosTokenIds: readonly number[];
}

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

function readJson(path: string, what: string): unknown {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new ModelError(`${what} is missing: ${path}`);
  }
  if (size > MAX_CONFIG_BYTES) throw new ModelError(`${path} is ${size} bytes, too large for ${what}`);
  try {
    return JSON.parse(readBoundedTextSync(path, 'config', { error: (m) => new ModelError(m), maxBytes: MAX_CONFIG_BYTES }));
  } catch (e) {
    if (e instanceof ModelError) throw e;
    throw new ModelError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

const posInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0;
const idInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

/** Reads and checks config.json of a model folder. */
export function readModelConfig(folder: string): ModelConfig {
  const raw = readJson(join(folder, 'config.json'), 'the model configuration (config.json)');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelError(`${join(folder, 'config.json')} is not a JSON object`);
  const cfg = raw as Record<string, unknown>;
  // Multimodal configs nest the language model's settings.
  const text = typeof cfg.text_config === 'object' && cfg.text_config !== null ? (cfg.text_config as Record<string, unknown>) : cfg;
  const vocabSize = text.vocab_size ?? cfg.vocab_size;
  if (!posInt(vocabSize)) throw new ModelError(`${join(folder, 'config.json')} declares no vocab_size`);
  const ctx = [text.max_position_embeddings, text.n_positions, text.n_ctx, cfg.max_position_embeddings, cfg.n_positions].find(posInt);
  const bos = [text.bos_token_id, cfg.bos_token_id].find(idInt);
  const eosRaw = text.eos_token_id ?? cfg.eos_token_id;
  const eosTokenIds = Array.isArray(eosRaw) ? eosRaw.filter(idInt) : idInt(eosRaw) ? [eosRaw] : [];
  const modelType = typeof cfg.model_type === 'string' ? cfg.model_type : 'unknown';
  return { modelType, vocabSize, contextLength: ctx, bosTokenId: bos, eosTokenIds };
}

/**
 * The folder that holds the model files: `dir` itself, or for a Hugging Face cache model folder the snapshot
 * `refs/main` names (else the newest snapshot holding a config.json).
 */
export function resolveModelFolder(dir: string): string {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new ModelError(`the model folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new ModelError(`${dir} is not a folder (a model is a folder with config.json, tokenizer.json and onnx/model.onnx)`);
  if (existsSync(join(dir, 'config.json'))) return dir;
  const snapshots = join(dir, 'snapshots');
  if (existsSync(snapshots)) {
    const refMain = join(dir, 'refs', 'main');
    if (existsSync(refMain)) {
      const rev = readFileSync(refMain, 'utf8').trim();
      if (/^[0-9A-Za-z._-]{1,128}$/.test(rev) && rev !== '.' && rev !== '..' && existsSync(join(snapshots, rev, 'config.json'))) return join(snapshots, rev);
    }
    const candidates = readdirSync(snapshots)
      .map((s) => join(snapshots, s))
      .filter((p) => existsSync(join(p, 'config.json')))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (candidates.length) return candidates[0];
    throw new ModelError(`${dir} is a Hugging Face cache folder without a snapshot holding config.json`);
  }
  throw new ModelError(`${dir} holds no config.json: not a model folder (expected config.json, tokenizer.json and onnx/model.onnx)`);
}

/** Checks the files an ONNX model folder must hold; returns the graph's name (base) and absolute path. */
export function checkModelFiles(folder: string, dtype: OnnxDtype): { base: GraphBase; path: string } {
  if (!existsSync(join(folder, 'tokenizer.json'))) throw new ModelError(`${folder} holds no tokenizer.json (the model's own tokenizer is needed)`);
  for (const base of GRAPH_BASES) {
    const path = join(folder, onnxFileName(dtype, base));
    if (existsSync(path)) return { base, path };
  }
  {
    const onnxDir = join(folder, 'onnx');
    const present = existsSync(onnxDir) ? readdirSync(onnxDir).filter((f) => f.endsWith('.onnx')) : [];
    const hint = present.length ? ` (the folder has ${present.join(', ')}: choose the matching dtype)` : ' (export the model to ONNX first, e.g. with Optimum, or use an onnx-community repository)';
    throw new ModelError(`${folder} has no ${onnxFileName(dtype)}${hint}`);
  }
}
