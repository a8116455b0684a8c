/**
 * Which (tokenizer, engine) pairs the bench runs, and which engine is the reference for each tokenizer.
 *
 * Every bundled tokenizer runs through Token Inspector's engine. Peers run the same encoding where they
 * have it: the tiktoken-family packages for OpenAI encodings (o200k_base, cl100k_base, p50k_base; r50k_base
 * for gpt2; gpt-tokenizer's o200k_harmony), the Hugging Face packages for every tokenizer.json entry.
 * Reference: tiktoken (WASM) for the OpenAI `.tiktoken`-format entries, the Rust `tokenizers` binding for
 * tokenizer.json entries (as in the parity tests, test/harness/reference.ts).
 */
import { dirname, join } from 'node:path';
import type { CatalogEntry } from '../src/core/tokenizers/catalog';
import type { EngineName, EngineSpec } from './engines';

export interface BenchPair {
  readonly tokenizerId: string;
  readonly spec: EngineSpec;
  readonly isReference: boolean;
}

/** Encodings of the tiktoken-family peers that produce the same ids as a bundled entry. */
interface OpenAiEquivalents {
  readonly 'tiktoken-wasm'?: string;
  readonly 'js-tiktoken'?: string;
  readonly 'gpt-tokenizer'?: string;
}

const OPENAI_EQUIVALENTS: Readonly<Record<string, OpenAiEquivalents>> = {
  o200k_base: { 'tiktoken-wasm': 'o200k_base', 'js-tiktoken': 'o200k_base', 'gpt-tokenizer': 'o200k_base' },
  cl100k_base: { 'tiktoken-wasm': 'cl100k_base', 'js-tiktoken': 'cl100k_base', 'gpt-tokenizer': 'cl100k_base' },
  p50k_base: { 'tiktoken-wasm': 'p50k_base', 'js-tiktoken': 'p50k_base', 'gpt-tokenizer': 'p50k_base' },
  // GPT-2's byte-level BPE is r50k_base (tiktoken also calls it gpt2).
  gpt2: { 'tiktoken-wasm': 'gpt2', 'js-tiktoken': 'gpt2', 'gpt-tokenizer': 'r50k_base' },
  // gpt-oss' vocabulary: o200k_base plus chat special tokens (only gpt-tokenizer ships it).
  o200k_harmony: { 'gpt-tokenizer': 'o200k_harmony' },
};

/** Where a tokenizer.json entry's peer files are: the special-free copy and the original config. */
export interface HfPeerFiles {
  readonly tokenizerJsonPath: string;
  readonly configPath?: string;
}

export function referenceEngine(entry: CatalogEntry): EngineName {
  return entry.source.format === 'tiktoken-json' ? 'tiktoken-wasm' : 'hf-tokenizers-rust';
}

/** The tokenizer_config.json that sits next to a packaged tokenizer.json. */
export function tokenizerConfigPathFor(tokenizerJsonPath: string): string {
  return join(dirname(tokenizerJsonPath), 'tokenizer_config.json');
}

function pair(entry: CatalogEntry, spec: EngineSpec): BenchPair {
  return { tokenizerId: entry.id, spec, isReference: spec.engine === referenceEngine(entry) };
}

/** The pairs for one bundled entry, Token Inspector's engine first. */
export function pairsFor(entry: CatalogEntry, hfFiles: (entry: CatalogEntry) => HfPeerFiles): BenchPair[] {
  const pairs: BenchPair[] = [pair(entry, { engine: 'token-inspector', target: entry.id })];
  if (entry.source.format === 'hf') {
    const files = hfFiles(entry);
    pairs.push(pair(entry, { engine: 'hf-tokenizers-rust', target: files.tokenizerJsonPath }));
    pairs.push(pair(entry, { engine: 'hf-tokenizers-js', target: files.tokenizerJsonPath, configPath: files.configPath }));
  }
  const equivalents = OPENAI_EQUIVALENTS[entry.id] ?? {};
  for (const engine of ['tiktoken-wasm', 'js-tiktoken', 'gpt-tokenizer'] as const) {
    const target = equivalents[engine];
    if (target) pairs.push(pair(entry, { engine, target }));
  }
  return pairs;
}
