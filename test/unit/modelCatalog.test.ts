/**
 * The model catalog (src/core/models): every entry is usable (a bundled tokenizer, a positive context window,
 * a price with a source and a date), the OpenAI figures taken from the gpt-tokenizer package match the
 * installed package, and price overrides merge as documented.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { findModel, GPT_TOKENIZER_SOURCE, inputLimit, MODELS } from '../../src/core/models/catalog';
import { chatTemplateForTokenizer } from '../../src/core/models/chat';
import { applyPriceOverrides, contextFraction, inputCost, inputFraction } from '../../src/core/models/prices';
import { BUNDLED_TOKENIZERS } from '../../src/core/tokenizers/catalog';

const require_ = createRequire(__filename);
const gptTokenizerDir = dirname(require_.resolve('gpt-tokenizer/package.json'));

interface PackageSpec {
  readonly context_window?: number;
  readonly max_input_tokens?: number;
  readonly price_data?: { readonly main?: { readonly input?: number } };
}
/** gpt-tokenizer's generated model data (cjs/models.gen.js: specs by model name and snapshot). */
const packageModels = require_(join(gptTokenizerDir, 'cjs', 'models.gen.js')) as Record<string, PackageSpec | undefined>;

test('every model: a bundled tokenizer, a positive context window, unique ids and names', () => {
  const tokenizerIds = new Set(BUNDLED_TOKENIZERS.map((t) => t.id));
  const ids = new Set<string>();
  const names = new Set<string>();
  assert.ok(MODELS.length >= 30);
  for (const m of MODELS) {
    assert.ok(tokenizerIds.has(m.tokenizer), `${m.id}: tokenizer ${m.tokenizer} is not bundled`);
    assert.ok(Number.isInteger(m.contextWindow) && m.contextWindow > 0, `${m.id}: context window`);
    if (m.maxInputTokens !== undefined) assert.ok(m.maxInputTokens > 0 && m.maxInputTokens <= m.contextWindow, `${m.id}: max input`);
    assert.ok(m.contextSource.length > 10, `${m.id}: context source`);
    assert.ok(!ids.has(m.id), `duplicate id ${m.id}`);
    assert.ok(!names.has(m.name.toLowerCase()), `duplicate name ${m.name}`);
    ids.add(m.id);
    names.add(m.name.toLowerCase());
    assert.match(m.id, /^[a-z0-9.-]+$/);
  }
});

test('every price: null or a positive number, with a source and a real date not in the future', () => {
  const today = new Date().toISOString().slice(0, 10);
  for (const m of MODELS) {
    if (m.inputPricePerMTok !== null) assert.ok(Number.isFinite(m.inputPricePerMTok) && m.inputPricePerMTok > 0, `${m.id}: price`);
    else assert.match(m.priceSource, /no list price/, `${m.id}: a null price says why`);
    assert.ok(m.priceSource.length > 5, `${m.id}: price source`);
    assert.match(m.priceDate, /^\d{4}-\d{2}-\d{2}$/, `${m.id}: price date`);
    assert.equal(new Date(`${m.priceDate}T00:00:00Z`).toISOString().slice(0, 10), m.priceDate, `${m.id}: a real date`);
    assert.ok(m.priceDate <= today, `${m.id}: price date in the future`);
  }
});

test('chat templates: hf models have one in their tokenizer files, openai models use tiktoken vocabularies, none says why', () => {
  for (const m of MODELS) {
    if (m.chatTemplate === 'hf') assert.ok(chatTemplateForTokenizer(m.tokenizer), `${m.id}: no chat_template for ${m.tokenizer}`);
    else if (m.chatTemplate === 'openai') assert.ok(['o200k_base', 'cl100k_base'].includes(m.tokenizer), m.id);
    else assert.ok(m.note && /template|format/.test(m.note), `${m.id}: a model without a template needs a note`);
  }
});

test('the models the issue names are there, with their tokenizers', () => {
  const expect: Record<string, string> = {
    'GPT-4o': 'o200k_base',
    'GPT-4o mini': 'o200k_base',
    'GPT-4.1': 'o200k_base',
    'GPT-5': 'o200k_base',
    o3: 'o200k_base',
    'o4-mini': 'o200k_base',
    'GPT-4': 'cl100k_base',
    'GPT-3.5 Turbo': 'cl100k_base',
    'gpt-oss-20b': 'o200k_harmony',
    'gpt-oss-120b': 'o200k_harmony',
    'Llama 3.1 8B': 'llama3',
    'Llama 3.1 70B': 'llama3',
    'Llama 3.1 405B': 'llama3',
    'Llama 3.3 70B': 'llama3',
    'Qwen3 8B': 'qwen3',
    'Qwen3 235B-A22B': 'qwen3',
    'Gemma 3 1B': 'gemma3',
    'Gemma 3 4B': 'gemma3',
    'Gemma 3 12B': 'gemma3',
    'Gemma 3 27B': 'gemma3',
    'DeepSeek-V3': 'deepseek_v3',
    'DeepSeek-R1': 'deepseek_v3',
    'Mistral 7B': 'mistral',
  };
  for (const [name, tokenizer] of Object.entries(expect)) assert.equal(findModel(name)?.tokenizer, tokenizer, name);
  // ids, names and aliases, ignoring case, spaces and underscores
  assert.equal(findModel('gpt 4o mini')?.id, 'gpt-4o-mini');
  assert.equal(findModel('LLAMA-3.1-8B')?.name, 'Llama 3.1 8B');
  assert.equal(findModel('Meta-Llama-3.1-8B-Instruct')?.id, 'llama-3.1-8b');
  assert.equal(findModel('gemma-3-27b-it')?.id, 'gemma-3-27b');
  assert.equal(findModel('no such model'), undefined);
});

test(`OpenAI figures match the installed gpt-tokenizer (${GPT_TOKENIZER_SOURCE.split(' ')[0]})`, () => {
  const version = (JSON.parse(readFileSync(join(gptTokenizerDir, 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(GPT_TOKENIZER_SOURCE.split(' ')[0], `gpt-tokenizer@${version}`, 'the cited version is the installed one');
  let checked = 0;
  for (const m of MODELS) {
    if (m.contextSource !== GPT_TOKENIZER_SOURCE) continue;
    const spec = packageModels[m.id];
    assert.ok(spec, `${m.id} is not in gpt-tokenizer`);
    assert.equal(m.contextWindow, spec.context_window, `${m.id}: context window`);
    assert.equal(m.maxInputTokens, spec.max_input_tokens, `${m.id}: max input tokens`);
    const packagePrice = spec.price_data?.main?.input;
    if (m.priceSource === GPT_TOKENIZER_SOURCE) assert.equal(m.inputPricePerMTok, packagePrice, `${m.id}: price from the package`);
    else if (m.priceNote) {
      // The entry departs from the package: the note must still be true (the package still disagrees).
      assert.notEqual(packagePrice, m.inputPricePerMTok ?? undefined, `${m.id}: the package now agrees; take its figure`);
    }
    checked++;
  }
  assert.ok(checked >= 14, `checked ${checked} OpenAI entries`);
});

test('applyPriceOverrides: by id, name or alias; null clears; bad values and unknown models are reported, not applied', () => {
  const before = findModel('gpt-4o');
  const { models, ignored } = applyPriceOverrides(
    { 'gpt-4o': 3, 'Llama 3.1 8B': 0.2, 'gemma-3-27b-it': 0.1, 'o3': null, 'gpt-9': 1, 'gpt-4': -1, 'gpt-5': '2', 'qwen3-8b': Number.NaN },
    MODELS,
    { date: '2026-01-02' },
  );
  const get = (id: string) => {
    const m = models.find((x) => x.id === id);
    assert.ok(m);
    return m;
  };
  assert.equal(get('gpt-4o').inputPricePerMTok, 3);
  assert.equal(get('gpt-4o').priceSource, 'user setting');
  assert.equal(get('gpt-4o').priceDate, '2026-01-02');
  assert.equal(get('gpt-4o').priceNote, undefined, 'the catalog note no longer applies');
  assert.equal(get('llama-3.1-8b').inputPricePerMTok, 0.2);
  assert.equal(get('gemma-3-27b').inputPricePerMTok, 0.1);
  assert.equal(get('o3').inputPricePerMTok, null);
  assert.equal(get('gpt-4').inputPricePerMTok, 30);
  assert.equal(get('gpt-5').inputPricePerMTok, 1.25);
  assert.equal(get('qwen3-8b').inputPricePerMTok, null);
  assert.equal(get('gpt-4').priceSource, GPT_TOKENIZER_SOURCE);
  assert.deepEqual(
    ignored.map((s) => s.split(':')[0]),
    ['gpt-9', 'gpt-4', 'gpt-5', 'qwen3-8b'],
  );
  assert.equal(models.length, MODELS.length);
  assert.equal(get('gpt-4.1'), findModel('gpt-4.1'), 'untouched entries are the same objects');
  assert.equal(before?.inputPricePerMTok, 2.5, 'the catalog itself is unchanged');
  assert.deepEqual(applyPriceOverrides(undefined).ignored, []);
  assert.equal(applyPriceOverrides([1, 2]).ignored.length, 1);
});

test('inputCost, contextFraction and inputFraction', () => {
  const gpt4o = findModel('gpt-4o');
  const gpt5 = findModel('gpt-5');
  const llama = findModel('llama-3.1-8b');
  assert.ok(gpt4o && gpt5 && llama);
  assert.equal(inputCost(1_000_000, gpt4o), 2.5);
  assert.equal(inputCost(2000, gpt4o), 0.005);
  assert.equal(inputCost(2000, llama), null);
  assert.equal(contextFraction(64_000, gpt4o), 0.5);
  assert.equal(inputLimit(gpt5), 272_000);
  assert.equal(inputFraction(136_000, gpt5), 0.5);
  assert.equal(contextFraction(200_000, gpt5), 0.5);
  assert.equal(inputLimit(llama), 131_072);
});
