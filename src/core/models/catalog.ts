/**
 * The model catalog: model names users know, mapped to a bundled tokenizer, a context window, how a chat
 * message is framed, and an input price. Data only; prices can be overridden (see prices.ts).
 *
 * Where the figures come from (each entry names its own source and date):
 * - OpenAI context windows: the `gpt-tokenizer` npm package, version 4.0.0 (published 2026-08-16), file
 *   src/models.gen.ts, which its maintainers scrape from OpenAI's model catalog
 *   (developers.openai.com/api/docs/models). test/unit/modelCatalog.test.ts checks every figure taken from
 *   it against the installed package.
 * - OpenAI prices: taken from the same file only where it is self-consistent (GPT-4 $30, GPT-4 Turbo $10,
 *   GPT-3.5 Turbo $0.50, o1 $15 per million input tokens). Its figures for GPT-4o, GPT-4.1 and GPT-5 are all
 *   $10 (GPT-4 Turbo's price: a scraper artefact), o3's is o1's $15, GPT-4o mini, GPT-4.1 mini/nano, GPT-5
 *   mini/nano and o4-mini have none, and the gpt-oss figures ($0.0002, $0.0005) are not prices of anything
 *   OpenAI sells. For those models the entry carries OpenAI's published list price with the date it was in
 *   effect (all of them on 2025-08-07, GPT-5's launch), and says so in its `priceNote`.
 * - Open-weight models (Llama, Qwen3, Gemma 3, DeepSeek, Mistral, gpt-oss): context windows from the model
 *   cards; no list price (the price depends on who serves the weights), so `inputPricePerMTok` is null and
 *   users can set their own.
 */

/**
 * How a text becomes a chat message for this model:
 * - 'hf': the `chat_template` of the tokenizer's tokenizer_config.json (Jinja, rendered with @huggingface/jinja);
 * - 'openai': the documented per-message overhead of OpenAI's chat format (see chat.ts);
 * - 'none': no template ships with the bundled tokenizer; only plain counts are available.
 */
type ChatTemplateKind = 'hf' | 'openai' | 'none';

export interface ModelEntry {
  /** Stable id: the API model name for OpenAI, `family-size` for open weights (`llama-3.1-8b`). */
  readonly id: string;
  /** Display name (`GPT-4o`, `Llama 3.1 8B`). */
  readonly name: string;
  /** Other spellings that findModel accepts. */
  readonly aliases: readonly string[];
  readonly vendor: string;
  /** A bundled tokenizer id (src/core/tokenizers/catalog.ts). */
  readonly tokenizer: string;
  /** Tokens the model can attend to (input + output). */
  readonly contextWindow: number;
  /** A smaller limit on input tokens, where the vendor states one (GPT-5: 272,000 of its 400,000). */
  readonly maxInputTokens?: number;
  readonly contextSource: string;
  readonly chatTemplate: ChatTemplateKind;
  /** USD per million input tokens; null when there is no list price. */
  readonly inputPricePerMTok: number | null;
  /** A URL or a package@version the price was read from, or why there is none. */
  readonly priceSource: string;
  /** ISO date (YYYY-MM-DD) the price was in effect / read. */
  readonly priceDate: string;
  readonly priceNote?: string;
  /** Caveats about the count (template differences, approximations). */
  readonly note?: string;
}

/** The package the OpenAI figures are read from, with its version. */
export const GPT_TOKENIZER_SOURCE = 'gpt-tokenizer@4.0.0 (src/models.gen.ts, from developers.openai.com/api/docs/models)';
const GPT_TOKENIZER_DATE = '2026-08-16';
const OPENAI_PRICING = 'https://platform.openai.com/docs/pricing';
const OPENAI_PRICE_DATE = '2025-08-07';
const NO_LIST_PRICE = 'no list price: open weights, priced by whoever serves them (set your own)';
/** The day the open-weight entries were last reviewed. */
const CATALOG_DATE = '2026-11-28';

const packagePriceWrong = (pkg: string): string =>
  pkg === 'no price'
    ? `${GPT_TOKENIZER_SOURCE.split(' ')[0]} has no price for this model; OpenAI's list price is used`
    : `${GPT_TOKENIZER_SOURCE.split(' ')[0]} lists ${pkg} per million input tokens, which is not OpenAI's list price for this model; the list price is used`;

const OPENAI_OVERHEAD_NOTE =
  "Chat overhead: OpenAI's cookbook documents 3 tokens per message and 3 for the reply for the GPT-3.5/GPT-4/GPT-4o families; the same is assumed for this model.";

interface OpenAiSpec {
  id: string;
  name: string;
  aliases?: string[];
  tokenizer: 'o200k_base' | 'cl100k_base';
  contextWindow: number;
  maxInputTokens?: number;
  price: number;
  /** 'package': the price is gpt-tokenizer's; otherwise what the package says instead of the list price. */
  pricedBy: 'package' | { packageSays: string };
  note?: string;
}

function openai(s: OpenAiSpec): ModelEntry {
  const fromPackage = s.pricedBy === 'package';
  return {
    id: s.id,
    name: s.name,
    aliases: s.aliases ?? [],
    vendor: 'OpenAI',
    tokenizer: s.tokenizer,
    contextWindow: s.contextWindow,
    ...(s.maxInputTokens !== undefined ? { maxInputTokens: s.maxInputTokens } : {}),
    contextSource: GPT_TOKENIZER_SOURCE,
    chatTemplate: 'openai',
    inputPricePerMTok: s.price,
    priceSource: fromPackage ? GPT_TOKENIZER_SOURCE : OPENAI_PRICING,
    priceDate: fromPackage ? GPT_TOKENIZER_DATE : OPENAI_PRICE_DATE,
    ...(s.pricedBy !== 'package' ? { priceNote: packagePriceWrong(s.pricedBy.packageSays) } : {}),
    ...(s.note ? { note: s.note } : {}),
  };
}

interface OpenWeightSpec {
  id: string;
  name: string;
  aliases?: string[];
  vendor: string;
  tokenizer: string;
  contextWindow: number;
  contextSource: string;
  chatTemplate: ChatTemplateKind;
  note?: string;
}

function openWeights(s: OpenWeightSpec): ModelEntry {
  return {
    id: s.id,
    name: s.name,
    aliases: s.aliases ?? [],
    vendor: s.vendor,
    tokenizer: s.tokenizer,
    contextWindow: s.contextWindow,
    contextSource: s.contextSource,
    chatTemplate: s.chatTemplate,
    inputPricePerMTok: null,
    priceSource: NO_LIST_PRICE,
    priceDate: CATALOG_DATE,
    ...(s.note ? { note: s.note } : {}),
  };
}

/** Llama 3.1, 3.2 and 3.3 sizes: the same tokenizer, 128K context, card and note. */
function llama31Family(version: string, sizes: readonly string[], aliases: (size: string) => string[]): ModelEntry[] {
  return sizes.map((size) =>
    openWeights({
      id: `llama-${version}-${size.toLowerCase()}`,
      name: `Llama ${version} ${size}`,
      aliases: aliases(size),
      vendor: 'Meta',
      tokenizer: 'llama3',
      contextWindow: 131072,
      contextSource: LLAMA31_CARD,
      chatTemplate: 'hf',
      note: LLAMA31_NOTE,
    }),
  );
}

const LLAMA31_NOTE =
  "The bundled chat template is Llama 3 Instruct's. Llama 3.1 and later templates also add a default system block " +
  '("Cutting Knowledge Date: December 2023 / Today Date: …", 25 tokens with its default date) that this count does not include.';
const LLAMA3_CARD = 'Meta Llama 3 model card (huggingface.co/meta-llama/Meta-Llama-3-8B-Instruct): 8K context';
const LLAMA31_CARD = 'Meta Llama 3.1/3.2/3.3 model cards (huggingface.co/meta-llama): 128K context (max_position_embeddings 131072)';
const QWEN3_CARD = 'Qwen3 model cards (huggingface.co/Qwen): 32,768 tokens natively';
const QWEN3_YARN = 'Qwen3 4B and larger reach 131,072 tokens with YaRN rope scaling, which is off by default.';
const GEMMA3_CARD = 'Gemma 3 model card (ai.google.dev/gemma/docs/core/model_card_3): 128K context for 4B/12B/27B, 32K for 1B';
const DEEPSEEK_CARD = 'DeepSeek-V3 / DeepSeek-R1 model cards (huggingface.co/deepseek-ai): 128K context';

const qwen3 = (size: string, note?: string): ModelEntry =>
  openWeights({
    id: `qwen3-${size.toLowerCase()}`,
    name: `Qwen3 ${size}`,
    vendor: 'Alibaba (Qwen)',
    tokenizer: 'qwen3',
    contextWindow: 32768,
    contextSource: QWEN3_CARD,
    chatTemplate: 'hf',
    ...(note ? { note } : {}),
  });

export const MODELS: readonly ModelEntry[] = [
  // OpenAI (o200k_base)
  openai({ id: 'gpt-4o', name: 'GPT-4o', tokenizer: 'o200k_base', contextWindow: 128000, price: 2.5, pricedBy: { packageSays: '$10' } }),
  openai({ id: 'gpt-4o-mini', name: 'GPT-4o mini', tokenizer: 'o200k_base', contextWindow: 128000, price: 0.15, pricedBy: { packageSays: 'no price' } }),
  openai({ id: 'gpt-4.1', name: 'GPT-4.1', tokenizer: 'o200k_base', contextWindow: 1047576, price: 2, pricedBy: { packageSays: '$10' }, note: OPENAI_OVERHEAD_NOTE }),
  openai({ id: 'gpt-4.1-mini', name: 'GPT-4.1 mini', tokenizer: 'o200k_base', contextWindow: 1047576, price: 0.4, pricedBy: { packageSays: 'no price' }, note: OPENAI_OVERHEAD_NOTE }),
  openai({ id: 'gpt-4.1-nano', name: 'GPT-4.1 nano', tokenizer: 'o200k_base', contextWindow: 1047576, price: 0.1, pricedBy: { packageSays: 'no price' }, note: OPENAI_OVERHEAD_NOTE }),
  openai({
    id: 'gpt-5',
    name: 'GPT-5',
    tokenizer: 'o200k_base',
    contextWindow: 400000,
    maxInputTokens: 272000,
    price: 1.25,
    pricedBy: { packageSays: '$10' },
    note: OPENAI_OVERHEAD_NOTE,
  }),
  openai({
    id: 'gpt-5-mini',
    name: 'GPT-5 mini',
    tokenizer: 'o200k_base',
    contextWindow: 400000,
    maxInputTokens: 272000,
    price: 0.25,
    pricedBy: { packageSays: 'no price' },
    note: OPENAI_OVERHEAD_NOTE,
  }),
  openai({
    id: 'gpt-5-nano',
    name: 'GPT-5 nano',
    tokenizer: 'o200k_base',
    contextWindow: 400000,
    maxInputTokens: 272000,
    price: 0.05,
    pricedBy: { packageSays: 'no price' },
    note: OPENAI_OVERHEAD_NOTE,
  }),
  openai({ id: 'o1', name: 'o1', tokenizer: 'o200k_base', contextWindow: 200000, price: 15, pricedBy: 'package', note: OPENAI_OVERHEAD_NOTE }),
  openai({ id: 'o3', name: 'o3', tokenizer: 'o200k_base', contextWindow: 200000, price: 2, pricedBy: { packageSays: "$15 (o1's price)" }, note: OPENAI_OVERHEAD_NOTE }),
  openai({ id: 'o4-mini', name: 'o4-mini', tokenizer: 'o200k_base', contextWindow: 200000, price: 1.1, pricedBy: { packageSays: 'no price' }, note: OPENAI_OVERHEAD_NOTE }),
  // OpenAI (cl100k_base)
  openai({ id: 'gpt-4', name: 'GPT-4', tokenizer: 'cl100k_base', contextWindow: 8192, price: 30, pricedBy: 'package' }),
  openai({ id: 'gpt-4-turbo', name: 'GPT-4 Turbo', tokenizer: 'cl100k_base', contextWindow: 128000, price: 10, pricedBy: 'package' }),
  openai({ id: 'gpt-3.5-turbo', name: 'GPT-3.5 Turbo', tokenizer: 'cl100k_base', contextWindow: 16385, price: 0.5, pricedBy: 'package' }),
  // OpenAI open weights (o200k_harmony)
  ...(['20b', '120b'] as const).map((size) => ({
    ...openWeights({
      id: `gpt-oss-${size}`,
      name: `gpt-oss-${size}`,
      vendor: 'OpenAI',
      tokenizer: 'o200k_harmony',
      contextWindow: 131072,
      contextSource: GPT_TOKENIZER_SOURCE,
      chatTemplate: 'none',
      note: 'gpt-oss uses the harmony chat format, whose template does not ship with the bundled tokenizer: counts are of the text alone.',
    }),
    priceNote: `${GPT_TOKENIZER_SOURCE.split(' ')[0]} lists $${size === '20b' ? '0.0002' : '0.0005'}/M, which is no price OpenAI charges`,
  })),
  // Meta Llama
  ...['8B', '70B'].map((size) =>
    openWeights({
      id: `llama-3-${size.toLowerCase()}`,
      name: `Llama 3 ${size}`,
      aliases: [`Meta-Llama-3-${size}-Instruct`],
      vendor: 'Meta',
      tokenizer: 'llama3',
      contextWindow: 8192,
      contextSource: LLAMA3_CARD,
      chatTemplate: 'hf',
    }),
  ),
  ...llama31Family('3.1', ['8B', '70B', '405B'], (size) => [`Llama-3.1-${size}-Instruct`, `Meta-Llama-3.1-${size}-Instruct`]),
  ...llama31Family('3.2', ['1B', '3B'], (size) => [`Llama-3.2-${size}-Instruct`]),
  ...llama31Family('3.3', ['70B'], (size) => [`Llama-3.3-${size}-Instruct`]),
  // Qwen3
  qwen3('0.6B'),
  qwen3('1.7B'),
  qwen3('4B', QWEN3_YARN),
  qwen3('8B', QWEN3_YARN),
  qwen3('14B', QWEN3_YARN),
  qwen3('32B', QWEN3_YARN),
  qwen3('30B-A3B', QWEN3_YARN),
  qwen3('235B-A22B', QWEN3_YARN),
  // Gemma 3
  ...(['1B', '4B', '12B', '27B'] as const).map((size) =>
    openWeights({
      id: `gemma-3-${size.toLowerCase()}`,
      name: `Gemma 3 ${size}`,
      aliases: [`gemma-3-${size.toLowerCase()}-it`],
      vendor: 'Google',
      tokenizer: 'gemma3',
      contextWindow: size === '1B' ? 32768 : 131072,
      contextSource: GEMMA3_CARD,
      chatTemplate: 'hf',
    }),
  ),
  // DeepSeek
  openWeights({
    id: 'deepseek-v3',
    name: 'DeepSeek-V3',
    vendor: 'DeepSeek',
    tokenizer: 'deepseek_v3',
    contextWindow: 131072,
    contextSource: DEEPSEEK_CARD,
    chatTemplate: 'hf',
    note: "DeepSeek's own API (deepseek-chat) serves newer V3.x versions at its own prices; set one to price this model.",
  }),
  openWeights({
    id: 'deepseek-r1',
    name: 'DeepSeek-R1',
    vendor: 'DeepSeek',
    tokenizer: 'deepseek_v3',
    contextWindow: 131072,
    contextSource: DEEPSEEK_CARD,
    chatTemplate: 'hf',
    note: "Counted with DeepSeek-V3's chat template (R1 shares its tokenizer); R1's own template may add a <think> line after the assistant marker.",
  }),
  // Mistral
  openWeights({
    id: 'mistral-7b-v0.1',
    name: 'Mistral 7B',
    aliases: ['Mistral 7B v0.1', 'Mistral-7B-Instruct-v0.1'],
    vendor: 'Mistral AI',
    tokenizer: 'mistral',
    contextWindow: 8192,
    contextSource: 'Mistral 7B paper (arXiv:2310.06825), Table 1: context_len 8192',
    chatTemplate: 'none',
    note: 'The bundled Mistral tokenizer has no chat template: counts are of the text alone (the [INST] … [/INST] framing adds a few tokens).',
  }),
  openWeights({
    id: 'mistral-7b-instruct-v0.2',
    name: 'Mistral 7B Instruct v0.2',
    aliases: ['Mistral-7B-Instruct-v0.2'],
    vendor: 'Mistral AI',
    tokenizer: 'mistral',
    contextWindow: 32768,
    contextSource: 'Mistral-7B-Instruct-v0.2 model card (huggingface.co/mistralai): 32k context window',
    chatTemplate: 'none',
    note: 'The bundled Mistral tokenizer has no chat template: counts are of the text alone (the [INST] … [/INST] framing adds a few tokens).',
  }),
];

function norm(s: string): string {
  return s.toLowerCase().replace(/[\s_]+/g, '-');
}

/** A model by id, display name or alias (case-, space- and underscore-insensitive). */
export function findModel(nameOrId: string, models: readonly ModelEntry[] = MODELS): ModelEntry | undefined {
  const key = norm(nameOrId.trim());
  return models.find((m) => norm(m.id) === key || norm(m.name) === key || m.aliases.some((a) => norm(a) === key));
}

/** The tokens a model accepts as input: its input limit where it has one, else its context window. */
export function inputLimit(model: Pick<ModelEntry, 'contextWindow' | 'maxInputTokens'>): number {
  return model.maxInputTokens ?? model.contextWindow;
}
