/**
 * The ids that CLI options naming a file or folder also take (args.ts reads an existing path first): bundled
 * tokenizers, the built-in n-gram model, Hugging Face repo ids.
 */
import { NGRAM_MODEL_ID } from '../core/lm/ngram';
import { isValidRepoId } from '../core/models/hubCache';
import { BUNDLED_TOKENIZERS, findBundled } from '../core/tokenizers/catalog';
import type { IdKind } from './args';

export const TOKENIZER_ID: IdKind = {
  noun: 'tokenizer',
  what: `a bundled tokenizer (${BUNDLED_TOKENIZERS.map((e) => e.id).join(', ')})`,
  accepts: (id) => findBundled(id) !== undefined,
};

/** `--tokenizers a,b,…` */
export const TOKENIZER_IDS: IdKind = { ...TOKENIZER_ID, list: true };

/** `score --model`: the built-in n-gram, else an ONNX model by Hugging Face repo id (found in the cache or downloaded). */
export const LANGUAGE_MODEL_ID: IdKind = {
  noun: 'model',
  what: `${NGRAM_MODEL_ID} or a Hugging Face repo id (org/name)`,
  accepts: (id) => id === NGRAM_MODEL_ID || isValidRepoId(id),
};

/** `next-bytes --model`: also `remote`, the endpoint of `--endpoint URL`. */
export const NEXT_BYTE_MODEL_ID: IdKind = {
  noun: 'model',
  what: `${NGRAM_MODEL_ID}, remote (with --endpoint URL) or a Hugging Face repo id (org/name)`,
  accepts: (id) => id === 'remote' || LANGUAGE_MODEL_ID.accepts(id),
};

/** A model on the Hugging Face hub. */
export const MODEL_REPO_ID: IdKind = { noun: 'model', what: 'a Hugging Face repo id (org/name)', accepts: isValidRepoId };

/** An SAE on the Hugging Face hub. */
export const SAE_REPO_ID: IdKind = { noun: 'SAE', what: 'a Hugging Face repo id (org/name)', accepts: isValidRepoId };
