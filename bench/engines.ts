/**
 * The engines the bench compares: Token Inspector's own (src/core, `encode` with spans) and its peers.
 * Each loader requires its package only when called, so a child process that loads one engine pays only
 * for that engine (cold load and peak memory are per engine).
 *
 * Every encoder treats special-token text (`<|endoftext|>`, `<s>`, ...) as ordinary text, adds no BOS/EOS
 * and passes its input through `toWellFormed()` (Token Inspector's engine does that itself):
 *  - tiktoken (WASM): `encode_ordinary`;
 *  - js-tiktoken: `encode(text, [], [])` (nothing allowed, nothing disallowed), loaded through
 *    `js-tiktoken/lite` plus the one rank file needed (the package's main entry embeds all five rank tables);
 *  - gpt-tokenizer: `encode(text, { disallowedSpecial: new Set() })`;
 *  - Hugging Face (Rust binding and tokenizers.js): a special-free copy of the tokenizer.json (hfJson.ts),
 *    encoded with add-special-tokens off.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Tiktoken as JsTiktoken, TiktokenBPE } from 'js-tiktoken';

export const ENGINE_NAMES = [
  'token-inspector',
  'tiktoken-wasm',
  'js-tiktoken',
  'gpt-tokenizer',
  'hf-tokenizers-rust',
  'hf-tokenizers-js',
] as const;

export type EngineName = (typeof ENGINE_NAMES)[number];

export function isEngineName(s: string): s is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(s);
}

interface EngineInfo {
  /** npm package the engine comes from ('.' for this repository). */
  readonly packageName: string;
  readonly description: string;
}

export const ENGINE_INFO: Readonly<Record<EngineName, EngineInfo>> = {
  'token-inspector': { packageName: '.', description: "Token Inspector's engine, encode() with byte/UTF-16 spans" },
  'tiktoken-wasm': { packageName: 'tiktoken', description: 'OpenAI tiktoken (Rust) compiled to WASM, encode_ordinary' },
  'js-tiktoken': { packageName: 'js-tiktoken', description: 'pure-JS port of tiktoken' },
  'gpt-tokenizer': { packageName: 'gpt-tokenizer', description: 'pure-JS BPE with merge cache' },
  'hf-tokenizers-rust': { packageName: 'tokenizers', description: 'Hugging Face tokenizers, Rust napi binding' },
  'hf-tokenizers-js': { packageName: '@huggingface/tokenizers', description: 'Hugging Face tokenizers.js (transformers.js)' },
};

/** What to load: an engine and its target. */
export interface EngineSpec {
  readonly engine: EngineName;
  /**
   * token-inspector: a bundled tokenizer id; tiktoken-wasm, js-tiktoken, gpt-tokenizer: an encoding name;
   * hf-tokenizers-*: the path of a (special-free) tokenizer.json.
   */
  readonly target: string;
  /** hf-tokenizers-js: the tokenizer_config.json to pass along, if any. */
  readonly configPath?: string;
}

export interface Encoder {
  /** The timed operation: token ids of `text`. */
  encode(text: string): Promise<ArrayLike<number>>;
}

export interface LoadedEncoder {
  readonly encoder: Encoder;
  /** Requiring the package's code (and, for packages that embed their vocabularies, the vocabulary). */
  readonly importMs: number;
  /** Building the tokenizer from its vocabulary file. */
  readonly constructMs: number;
}

const requireHere = createRequire(__filename);
const REPO_ROOT = join(__dirname, '..');

/** Installed version of an engine's package (the repository's own version for token-inspector). */
export function engineVersion(engine: EngineName): string {
  const name = ENGINE_INFO[engine].packageName;
  const manifest = name === '.' ? join(REPO_ROOT, 'package.json') : join(REPO_ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

async function timedLoad<M>(importModule: () => M, construct: (mod: M) => Encoder | Promise<Encoder>): Promise<LoadedEncoder> {
  const t0 = performance.now();
  const mod = importModule();
  const t1 = performance.now();
  const encoder = await construct(mod);
  const t2 = performance.now();
  return { encoder, importMs: t1 - t0, constructMs: t2 - t1 };
}

type LoaderModule = typeof import('../src/core/tokenizers/loader');

function loadTokenInspector(spec: EngineSpec): Promise<LoadedEncoder> {
  return timedLoad(
    () => requireHere('../src/core/tokenizers/loader') as LoaderModule,
    async (mod) => {
      // The packaged compact vocabularies (dist/tokenizers/*.bin, from `npm run build`) when built, as users load them.
      const assetDir = join(__dirname, '..', 'dist', 'tokenizers');
      const { tokenizer } = await mod.loadTokenizer(spec.target, existsSync(assetDir) ? { assetDir } : {});
      return { encode: async (text) => tokenizer.encode(text).ids };
    },
  );
}

type TiktokenModule = typeof import('tiktoken');
type TiktokenEncodingName = Parameters<TiktokenModule['get_encoding']>[0];

function loadTiktokenWasm(spec: EngineSpec): Promise<LoadedEncoder> {
  return timedLoad(
    () => requireHere('tiktoken') as TiktokenModule,
    (mod) => {
      const enc = mod.get_encoding(spec.target as TiktokenEncodingName);
      return { encode: async (text) => enc.encode_ordinary(text.toWellFormed()) };
    },
  );
}

function loadJsTiktoken(spec: EngineSpec): Promise<LoadedEncoder> {
  return timedLoad(
    () => ({
      lite: requireHere('js-tiktoken/lite') as { Tiktoken: typeof JsTiktoken },
      ranks: requireHere(`js-tiktoken/ranks/${spec.target}`) as TiktokenBPE,
    }),
    ({ lite, ranks }) => {
      const enc = new lite.Tiktoken(ranks);
      return { encode: async (text) => enc.encode(text.toWellFormed(), [], []) };
    },
  );
}

type GptTokenizerEncodingModule = typeof import('gpt-tokenizer/cjs/encoding/o200k_base');

function loadGptTokenizer(spec: EngineSpec): Promise<LoadedEncoder> {
  return timedLoad(
    () => requireHere(`gpt-tokenizer/cjs/encoding/${spec.target}`) as GptTokenizerEncodingModule,
    (mod) => {
      const options = { disallowedSpecial: new Set<string>() };
      return { encode: async (text) => mod.encode(text.toWellFormed(), options) };
    },
  );
}

type RustTokenizersModule = typeof import('tokenizers');

function loadHfRust(spec: EngineSpec): Promise<LoadedEncoder> {
  return timedLoad(
    () => requireHere('tokenizers') as RustTokenizersModule,
    (mod) => {
      const tokenizer = mod.Tokenizer.fromFile(spec.target);
      const options = { addSpecialTokens: false };
      return {
        encode: async (text) => (await tokenizer.encode(text.toWellFormed(), null, options)).getIds(),
      };
    },
  );
}

type HfJsModule = typeof import('@huggingface/tokenizers');

function loadHfJs(spec: EngineSpec): Promise<LoadedEncoder> {
  return timedLoad(
    () => requireHere('@huggingface/tokenizers') as HfJsModule,
    (mod) => {
      const json = JSON.parse(readFileSync(spec.target, 'utf8')) as object;
      const config = spec.configPath ? (JSON.parse(readFileSync(spec.configPath, 'utf8')) as object) : {};
      const tokenizer = new mod.Tokenizer(json, config);
      const options = { add_special_tokens: false };
      return { encode: async (text) => tokenizer.encode(text.toWellFormed(), options).ids };
    },
  );
}

const LOADERS: Readonly<Record<EngineName, (spec: EngineSpec) => Promise<LoadedEncoder>>> = {
  'token-inspector': loadTokenInspector,
  'tiktoken-wasm': loadTiktokenWasm,
  'js-tiktoken': loadJsTiktoken,
  'gpt-tokenizer': loadGptTokenizer,
  'hf-tokenizers-rust': loadHfRust,
  'hf-tokenizers-js': loadHfJs,
};

/** Loads one engine on one target, timing the package import and the construction separately. */
export function loadEncoder(spec: EngineSpec): Promise<LoadedEncoder> {
  return LOADERS[spec.engine](spec);
}
