/**
 * Prompt log-probabilities from an OpenAI-compatible completions endpoint (vLLM, llama.cpp's server, …), for
 * models too big for the machine. The prompt goes as token ids, so the server scores exactly the stream the
 * editor shows; `echo: true` with `logprobs: k` returns, per prompt token, its log-probability and the top-k
 * alternatives (`max_tokens` 1: the one generated token is ignored).
 *
 * Such servers give at most about 20 alternatives per position and no full distribution: `logProb` and the
 * top-k only; rank and entropy are unavailable (NaN in `DocumentScores`), and the next byte from an endpoint
 * is approximate (`nextTokenTops`, used by remoteNextByte.ts). Alternatives come back keyed by token strings, in one of these spellings, recognised per response by
 * checking which one spells the prompt we sent:
 *   `token_id:123`        vLLM with `return_tokens_as_token_ids` (requested; exact)
 *   `bytes:\xe2\x80`      OpenAI's escape for tokens that are not whole UTF-8 characters
 *   `Ġthe`                the vocabulary's own spelling
 *   ` the`                the token's text (a partial character decodes to U+FFFD and cannot be mapped back)
 * Alternatives that cannot be mapped to an id are left out.
 */
import { escapeBytes } from '../analysis/stream';
import { decodeUtf8Strict, utf8Encode } from '../text/utf8';
import type { TokenStream, Tokenizer } from '../tokenizers/types';
import { throwIfAborted, LmAbortError, type TokenAlternative } from './model';
import { spreadSurprisal, type DocumentScores } from './score';

export interface RemoteEndpointConfig {
  /** `http://host:8000`, `…/v1` or `…/v1/completions`. */
  readonly url: string;
  /** Sent as `Authorization: Bearer …`. */
  readonly apiKey?: string;
  /** The served model name; default: the first of `GET …/v1/models`. */
  readonly model?: string;
  /** Alternatives per position (1…20, default 5). */
  readonly topK?: number;
  /** Per request: no answer within this long fails it (default 60 s). */
  readonly timeoutMs?: number;
  /** Prompt tokens per request, start context included (default 2048; at most the server's context). */
  readonly maxPromptTokens?: number;
  /** Generated tokens asked for (default 1; some servers accept 0). */
  readonly maxTokens?: number;
  /** Replaces the global fetch (tests). */
  readonly fetch?: typeof fetch;
}

export class RemoteEndpointError extends Error {
  override readonly name = 'RemoteEndpointError';
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'timeout' | 'http' | 'protocol' | 'mismatch' | 'config',
  ) {
    super(message);
  }
}

/** Scores from an endpoint, named as `DocumentScores`; rank and entropy are not available (null). */
interface RemoteScores {
  readonly count: number;
  readonly topK: number;
  /** ln p(token | previous tokens); NaN where the endpoint gave none (a first token without a start context). */
  readonly logProbs: Float64Array;
  /** count×topK ids, most probable first; -1 where fewer were given or could be mapped. */
  readonly topIds: Int32Array;
  /** count×topK natural-log probabilities; -Infinity where no alternative. */
  readonly topLogProbs: Float64Array;
  readonly ranks: null;
  readonly entropies: null;
}

interface RemoteScoreOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
  /** Ids before the text (default: the tokenizer's BOS, else `<|endoftext|>` where the vocabulary has it, else none). */
  readonly startContext?: readonly number[];
}

const MAX_TOP_K = 20;
const MAX_ERROR_TEXT = 300;
/** A response larger than this is refused while it arrives (a 2048-token window with 20 alternatives is 1 to 4 MB). */
export const MAX_RESPONSE_BYTES = 16 * 2 ** 20;
/** Alternatives read per position: a conforming server sends top-k (k ≤ 20); more than this is refused. */
export const MAX_ALTERNATIVES_PER_POSITION = 100;
/** Prompts sent in one request by nextTokenTops (each answer is k alternatives; the prompts make the body). */
export const MAX_PROMPTS_PER_REQUEST = 16;
/** Same-origin redirects followed per request. */
const MAX_REDIRECTS = 5;
/**
 * Errors of a connection that closed before the server answered, typically a kept-alive connection that the
 * server (or a proxy) closed as idle just as fetch reused it (nodejs/undici#3492, #3141). The server may have
 * read the request, but a scoring request changes nothing there, so it is sent again once, on a new connection.
 */
const DROPPED_CONNECTION = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);

/** The code of a fetch failure's cause (`UND_ERR_SOCKET`, `ECONNREFUSED`, …), if it has one. */
function fetchFailureCode(e: unknown): string | undefined {
  const cause: unknown = e instanceof Error ? e.cause : undefined;
  return cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
}

/** Whether a token's bytes are not whole UTF-8 (a server spelling tokens as text shows such a token as U+FFFD). */
function isPartialUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return false;
  } catch {
    return true;
  }
}

type Spelling = 'token_id' | 'vocab' | 'text';

/** Lookup tables from a tokenizer's spellings and bytes to ids (built once per tokenizer). */
interface VocabIndex {
  readonly byName: Map<string, number>;
  readonly byBytes: Map<string, number>;
}
const indexes = new WeakMap<Tokenizer, VocabIndex>();

function bytesKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function vocabIndex(tokenizer: Tokenizer): VocabIndex {
  let ix = indexes.get(tokenizer);
  if (!ix) {
    const byName = new Map<string, number>();
    const byBytes = new Map<string, number>();
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      const name = tokenizer.tokenName(id);
      if (!byName.has(name)) byName.set(name, id);
      const key = bytesKey(tokenizer.tokenBytes(id));
      // Ordinary tokens win over special ones with the same text.
      if (!byBytes.has(key) || tokenizer.specialTokenId(tokenizer.tokenName(byBytes.get(key) as number)) !== undefined) byBytes.set(key, id);
    }
    ix = { byName, byBytes };
    indexes.set(tokenizer, ix);
  }
  return ix;
}

/** `bytes:\xe2\x80` (also with `\\x`) → the bytes; undefined when not in that form. */
export function parseByteEscapes(s: string): Uint8Array | undefined {
  if (!s.startsWith('bytes:')) return undefined;
  const body = s.slice(6);
  const out: number[] = [];
  const re = /\\{1,2}x([0-9a-fA-F]{2})/y;
  let i = 0;
  while (i < body.length) {
    re.lastIndex = i;
    const m = re.exec(body);
    if (m) {
      out.push(parseInt(m[1], 16));
      i = re.lastIndex;
      continue;
    }
    // Literal characters between escapes: their UTF-8.
    const cp = body.codePointAt(i) as number;
    const ch = String.fromCodePoint(cp);
    out.push(...utf8Encode(ch));
    i += ch.length;
  }
  return Uint8Array.from(out);
}

/** The id a token string names under one spelling, or undefined. */
function idOf(s: string, spelling: Spelling, tokenizer: Tokenizer): number | undefined {
  const m = /^token_id:(\d{1,9})$/.exec(s);
  if (m) {
    const id = Number(m[1]);
    return id < tokenizer.vocabSize ? id : undefined;
  }
  if (spelling === 'token_id') return undefined;
  const ix = vocabIndex(tokenizer);
  const escaped = parseByteEscapes(s);
  if (escaped) return ix.byBytes.get(bytesKey(escaped));
  if (spelling === 'vocab') return ix.byName.get(s);
  if (s.includes('\uFFFD')) return undefined; // a partial character, decoded lossily
  return ix.byBytes.get(bytesKey(utf8Encode(s)));
}

/** The spelling under which `tokens` spell `sent` best (all or most positions). */
function detectSpelling(tokens: readonly string[], sent: ArrayLike<number>, tokenizer: Tokenizer): Spelling {
  if (tokens.some((t) => /^token_id:\d+$/.test(t))) return 'token_id';
  let best: Spelling = 'text';
  let bestScore = -1;
  for (const sp of ['text', 'vocab'] as const) {
    let score = 0;
    for (let i = 0; i < sent.length; i++) if (idOf(tokens[i], sp, tokenizer) === sent[i]) score++;
    if (score > bestScore) {
      best = sp;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The spelling of alternatives when no echoed prompt shows it: `token_id:` when the server used it, else the
 * spelling (vocabulary names or text) under which more of them name a token.
 */
function alternativeSpelling(tokens: readonly string[], tokenizer: Tokenizer): Spelling {
  if (tokens.some((t) => /^token_id:\d+$/.test(t))) return 'token_id';
  let vocab = 0;
  let text = 0;
  for (const t of tokens) {
    if (idOf(t, 'vocab', tokenizer) !== undefined) vocab++;
    if (idOf(t, 'text', tokenizer) !== undefined) text++;
  }
  return vocab > text ? 'vocab' : 'text';
}

/** The body as text, refused once it passes MAX_RESPONSE_BYTES. */
async function readCapped(res: Response, base: string): Promise<string> {
  if (!res.body) return '';
  const declared = Number(res.headers.get('content-length'));
  const tooLarge = () => new RemoteEndpointError(`the endpoint ${base} sent an answer over ${MAX_RESPONSE_BYTES / 2 ** 20} MB; lower tokenInspector's top-k or the prompt window`, 'protocol');
  if (Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES) {
    await res.body.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder('utf-8');
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

/** Base URL (…/v1) and completions URL from what the user configured. */
export function endpointUrls(url: string): { base: string; completions: string } {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new RemoteEndpointError(`the endpoint URL "${url}" is not a URL`, 'config');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RemoteEndpointError(`the endpoint URL must be http(s): ${url}`, 'config');
  const s = u.toString().replace(/\/+$/, '');
  if (s.endsWith('/completions')) return { base: s.slice(0, -'/completions'.length), completions: s };
  if (/\/v1$/.test(s)) return { base: s, completions: `${s}/completions` };
  return { base: `${s}/v1`, completions: `${s}/v1/completions` };
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** One parsed completion: per prompt position its log-probability (null for the first) and alternatives. */
interface PromptLogprobs {
  readonly tokens: readonly string[];
  readonly logProbs: readonly (number | null)[];
  readonly tops: readonly (readonly { token: string; logProb: number }[] | null)[];
}

/** Refuses a position with more than MAX_ALTERNATIVES_PER_POSITION alternatives (bounded work per response). */
function checkAlternativeCount(n: number, position: number): void {
  if (n > MAX_ALTERNATIVES_PER_POSITION) throw new RemoteEndpointError(`the endpoint returned more than ${MAX_ALTERNATIVES_PER_POSITION} alternatives at position ${position} (top-k is at most ${MAX_TOP_K}); the answer was not read`, 'protocol');
}

/** Reads `choices[0].logprobs` in the completions form (tokens/token_logprobs/top_logprobs) or the chat form (content[]). */
/** A log-probability as sent; anything but a number becomes NaN, which the checks refuse (Number(null) is 0, probability 1). */
function logProbField(v: unknown): number {
  return typeof v === 'number' ? v : NaN;
}

function parseLogprobs(body: unknown): PromptLogprobs {
  if (!isObj(body)) throw new RemoteEndpointError('the endpoint answered JSON that is not an object', 'protocol');
  if (isObj(body.error)) throw new RemoteEndpointError(`the endpoint reported an error: ${String(body.error.message ?? JSON.stringify(body.error)).slice(0, MAX_ERROR_TEXT)}`, 'http');
  const choices = body.choices;
  if (!Array.isArray(choices) || !isObj(choices[0])) throw new RemoteEndpointError('the endpoint answered without choices', 'protocol');
  const lp = choices[0].logprobs;
  if (!isObj(lp)) throw new RemoteEndpointError('the endpoint returned no log-probabilities (it must support `echo` with `logprobs` on /v1/completions, as vLLM does)', 'protocol');
  if (Array.isArray(lp.content)) {
    const tokens: string[] = [];
    const logProbs: (number | null)[] = [];
    const tops: ({ token: string; logProb: number }[] | null)[] = [];
    for (const c of lp.content) {
      if (!isObj(c)) throw new RemoteEndpointError('malformed logprobs.content entry', 'protocol');
      const tok = typeof c.id === 'number' ? `token_id:${c.id}` : Array.isArray(c.bytes) ? `bytes:${escapeBytes((c.bytes as unknown[]).map(Number))}` : c.token;
      if (typeof tok !== 'string') throw new RemoteEndpointError('malformed logprobs.content entry (no token)', 'protocol');
      tokens.push(tok);
      logProbs.push(typeof c.logprob === 'number' ? c.logprob : null);
      tops.push(
        Array.isArray(c.top_logprobs)
          ? (checkAlternativeCount(c.top_logprobs.length, tops.length), c.top_logprobs).filter(isObj).map((t) => ({
              token: typeof t.id === 'number' ? `token_id:${t.id}` : Array.isArray(t.bytes) ? `bytes:${escapeBytes((t.bytes as unknown[]).map(Number))}` : String(t.token),
              logProb: logProbField(t.logprob),
            }))
          : null,
      );
    }
    return { tokens, logProbs, tops };
  }
  const tokens = lp.tokens;
  const logProbs = lp.token_logprobs;
  const top = lp.top_logprobs;
  if (!Array.isArray(tokens) || !Array.isArray(logProbs) || !tokens.every((t) => typeof t === 'string')) throw new RemoteEndpointError('the endpoint returned malformed logprobs (tokens / token_logprobs)', 'protocol');
  if (logProbs.length !== tokens.length) throw new RemoteEndpointError(`the endpoint returned ${logProbs.length} log-probabilities for ${tokens.length} tokens`, 'protocol');
  if (top !== undefined && top !== null && (!Array.isArray(top) || top.length !== tokens.length)) throw new RemoteEndpointError(`the endpoint returned ${Array.isArray(top) ? top.length : 'no'} top_logprobs lists for ${tokens.length} tokens`, 'protocol');
  const tops = tokens.map((_, i) => {
    const t: unknown = Array.isArray(top) ? top[i] : null;
    if (t === null || t === undefined) return null;
    if (!isObj(t)) throw new RemoteEndpointError(`malformed top_logprobs at position ${i}`, 'protocol');
    // Counted before Object.entries, which would copy all of them first.
    let n = 0;
    for (const key in t) if (Object.hasOwn(t, key) && ++n > MAX_ALTERNATIVES_PER_POSITION) break;
    checkAlternativeCount(n, i);
    return Object.entries(t).map(([token, v]) => ({ token, logProb: logProbField(v) }));
  });
  return {
    tokens: tokens as string[],
    logProbs: logProbs.map((x: unknown, i: number) => {
      if (x === null) return null;
      if (typeof x !== 'number') throw new RemoteEndpointError(`malformed token_logprobs at position ${i}`, 'protocol');
      return x;
    }),
    tops,
  };
}

/** An OpenAI-compatible completions endpoint tied to the tokenizer of the model it serves. */
export class RemoteCompletionsModel {
  readonly k: number;
  private readonly urls: { base: string; completions: string };
  private model: string | undefined;
  private readonly timeoutMs: number;
  /** Prompt tokens per request, start context included. */
  readonly maxPromptTokens: number;

  constructor(
    readonly config: RemoteEndpointConfig,
    readonly tokenizer: Tokenizer,
  ) {
    this.urls = endpointUrls(config.url);
    this.k = Math.max(1, Math.min(MAX_TOP_K, Math.floor(config.topK ?? 5)));
    this.model = config.model;
    this.timeoutMs = config.timeoutMs ?? 60_000;
    this.maxPromptTokens = Math.max(8, Math.floor(config.maxPromptTokens ?? 2048));
  }

  /** A stable id for display: `remote:<url>`. */
  get id(): string {
    return `remote:${this.urls.base}`;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.config.apiKey) h.authorization = `Bearer ${this.config.apiKey}`;
    return h;
  }

  /** One HTTP exchange with timeout and cancel; returns the parsed JSON body. */
  private async request(url: string, init: { method: string; body?: string }, signal: AbortSignal | undefined): Promise<unknown> {
    const ac = new AbortController();
    const onAbort = () => ac.abort(new LmAbortError());
    if (signal?.aborted) throw new LmAbortError();
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => ac.abort(new RemoteEndpointError(`no answer from ${this.urls.base} within ${this.timeoutMs < 1000 ? `${this.timeoutMs} ms` : `${this.timeoutMs / 1000} s`}`, 'timeout')), this.timeoutMs);
    try {
      const res = await this.fetchSameOrigin(url, init, ac.signal);
      const text = await readCapped(res, this.urls.base);
      if (!res.ok) {
        let detail = text;
        try {
          const j: unknown = JSON.parse(text);
          if (isObj(j) && isObj(j.error) && typeof j.error.message === 'string') detail = j.error.message;
          else if (isObj(j) && typeof j.message === 'string') detail = j.message;
        } catch {
          // not JSON: the text itself
        }
        const hint = res.status === 401 || res.status === 403 ? ' (check the API key)' : '';
        throw new RemoteEndpointError(`the endpoint answered HTTP ${res.status}${hint}: ${detail.slice(0, MAX_ERROR_TEXT)}`, 'http');
      }
      try {
        return JSON.parse(text);
      } catch {
        throw new RemoteEndpointError(`the endpoint did not answer JSON: ${JSON.stringify(text.slice(0, 80))}`, 'protocol');
      }
    } catch (e) {
      const reason: unknown = ac.signal.reason;
      if (ac.signal.aborted && (reason instanceof RemoteEndpointError || reason instanceof LmAbortError)) throw reason;
      if (e instanceof RemoteEndpointError) throw e;
      const err = e as Error & { cause?: { code?: string; message?: string } };
      throw new RemoteEndpointError(`cannot reach ${this.urls.base} (${err.cause?.code ?? err.message})`, 'unreachable');
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The request, following redirects only within the endpoint's origin: the document's token ids (and the API
   * key) go to the configured endpoint and nowhere else, whatever it answers.
   */
  private async fetchSameOrigin(url: string, init: { method: string; body?: string }, signal: AbortSignal): Promise<Response> {
    const doFetch = this.config.fetch ?? fetch;
    const origin = new URL(this.urls.base).origin;
    let current = url;
    for (let hop = 0; ; hop++) {
      const res = await this.fetchResendingOnce(doFetch, current, init, signal);
      if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
      await res.body?.cancel().catch(() => undefined);
      const location = res.headers.get('location');
      let target: URL | undefined;
      try {
        target = location ? new URL(location, current) : undefined;
      } catch {
        target = undefined;
      }
      if (!target) throw new RemoteEndpointError(`the endpoint ${this.urls.base} answered HTTP ${res.status} without a valid destination`, 'protocol');
      if (target.origin !== origin) {
        throw new RemoteEndpointError(`the endpoint ${this.urls.base} redirected to ${target.origin}, another origin: the document's tokens go to the configured endpoint only (set tokenInspector.remoteEndpoint to the address it redirects to if you trust it)`, 'protocol');
      }
      if (hop >= MAX_REDIRECTS) throw new RemoteEndpointError(`the endpoint ${this.urls.base} redirected more than ${MAX_REDIRECTS} times`, 'protocol');
      current = target.toString();
    }
  }

  /** One fetch, sent again once on a new connection when the connection closed before any answer. */
  private async fetchResendingOnce(doFetch: typeof fetch, url: string, init: { method: string; body?: string }, signal: AbortSignal): Promise<Response> {
    const send = () => doFetch(url, { ...init, headers: this.headers(), signal, redirect: 'manual' });
    try {
      return await send();
    } catch (e) {
      const code = fetchFailureCode(e);
      if (signal.aborted || code === undefined || !DROPPED_CONNECTION.has(code)) throw e;
      try {
        return await send();
      } catch (again) {
        if (signal.aborted || !DROPPED_CONNECTION.has(fetchFailureCode(again) ?? '')) throw again;
        throw new RemoteEndpointError(`the endpoint ${this.urls.base} closed the connection without answering, twice (${fetchFailureCode(again)})`, 'unreachable');
      }
    }
  }

  /** The served model's name (asked once from `GET …/models` when not configured). */
  async modelName(signal?: AbortSignal): Promise<string> {
    if (this.model) return this.model;
    const body = await this.request(`${this.urls.base}/models`, { method: 'GET' }, signal);
    const first = isObj(body) && Array.isArray(body.data) && isObj(body.data[0]) ? body.data[0].id : undefined;
    if (typeof first !== 'string' || !first) throw new RemoteEndpointError('the endpoint lists no model (GET /v1/models); set the model name', 'protocol');
    this.model = first;
    return first;
  }

  /** The default start context: the tokenizer's BOS, else `<|endoftext|>`, else none. */
  defaultStartContext(): number[] {
    const starts = this.tokenizer.addedTokens.filter((t) => t.position === 'start').map((t) => t.id);
    if (starts.length) return starts;
    const eot = this.tokenizer.specialTokenId('<|endoftext|>');
    return eot === undefined ? [] : [eot];
  }

  /** Log-probabilities of one prompt (the start context included), with the prompt's alternatives. */
  async promptLogprobs(prompt: readonly number[], signal?: AbortSignal): Promise<{ logProbs: (number | null)[]; tops: TokenAlternative[][] }> {
    const model = await this.modelName(signal);
    const body = await this.request(
      this.urls.completions,
      {
        method: 'POST',
        body: JSON.stringify({ model, prompt: [...prompt], max_tokens: this.config.maxTokens ?? 1, echo: true, logprobs: this.k, temperature: 0, return_tokens_as_token_ids: true }),
      },
      signal,
    );
    const parsed = parseLogprobs(body);
    const n = prompt.length;
    if (parsed.tokens.length < n) throw new RemoteEndpointError(`the endpoint returned ${parsed.tokens.length} tokens for a prompt of ${n}: it did not echo the prompt`, 'protocol');
    if (parsed.tokens.length > n + Math.max(1, this.config.maxTokens ?? 1) + 1) throw new RemoteEndpointError(`the endpoint returned ${parsed.tokens.length} tokens for a prompt of ${n} and ${this.config.maxTokens ?? 1} generated`, 'protocol');
    const spelling = detectSpelling(parsed.tokens.slice(0, n), prompt, this.tokenizer);
    const logProbs: (number | null)[] = [];
    const tops: TokenAlternative[][] = [];
    for (let i = 0; i < n; i++) {
      const id = idOf(parsed.tokens[i], spelling, this.tokenizer);
      // An echo that names no token of this tokenizer: another tokenizer, or a lie. Only a token that is part of
      // a character may come back as U+FFFD (servers that spell tokens as text decode it lossily).
      if (id === undefined && !(parsed.tokens[i].includes('\uFFFD') && isPartialUtf8(this.tokenizer.tokenBytes(prompt[i])))) {
        throw new RemoteEndpointError(`the endpoint echoed ${JSON.stringify(parsed.tokens[i].slice(0, 40))} at position ${i}, which is no token of the tokenizer (sent id ${prompt[i]}): does the endpoint serve a model with another tokenizer?`, 'mismatch');
      }
      if (id !== undefined && id !== prompt[i]) {
        throw new RemoteEndpointError(`the endpoint scored a different token stream: position ${i} is ${JSON.stringify(parsed.tokens[i])} (id ${id}), sent id ${prompt[i]}`, 'mismatch');
      }
      const lp = parsed.logProbs[i];
      if (lp !== null && !(Number.isFinite(lp) && lp <= 1e-6)) throw new RemoteEndpointError(`the endpoint returned log-probability ${lp} at position ${i}`, 'protocol');
      logProbs.push(lp === null ? null : Math.min(0, lp));
      const alts: TokenAlternative[] = [];
      for (const t of parsed.tops[i] ?? []) {
        if (!(Number.isFinite(t.logProb) && t.logProb <= 1e-6)) throw new RemoteEndpointError(`the endpoint returned an alternative with log-probability ${t.logProb} at position ${i}`, 'protocol');
        const aid = idOf(t.token, spelling, this.tokenizer);
        if (aid !== undefined && !alts.some((a) => a.id === aid)) alts.push({ id: aid, logProb: Math.min(0, t.logProb) });
      }
      alts.sort((a, b) => b.logProb - a.logProb || a.id - b.id);
      tops.push(alts.slice(0, this.k));
    }
    return { logProbs, tops };
  }

  /**
   * The endpoint's top-k next tokens after each prompt (no echo: the one generated token's alternatives), for
   * the next-byte view. Several prompts go in one request where the server takes a list of prompts (the
   * OpenAI completions API does, and vLLM); a server that answers a list with fewer choices, or refuses it,
   * is asked prompt by prompt from then on. Alternatives come with their probabilities as sent; how much mass
   * they leave out is the caller's to report.
   */
  async nextTokenTops(prompts: readonly (readonly number[])[], k: number, signal?: AbortSignal): Promise<TokenAlternative[][]> {
    const topK = Math.max(1, Math.min(MAX_TOP_K, Math.floor(k)));
    for (const p of prompts) {
      if (p.length === 0 || p.length > this.maxPromptTokens) throw new RemoteEndpointError(`a prompt of ${p.length} tokens cannot be sent (1 to maxPromptTokens = ${this.maxPromptTokens})`, 'config');
      for (const id of p) if (!(Number.isInteger(id) && id >= 0 && id < this.tokenizer.vocabSize)) throw new RemoteEndpointError(`token id ${id} is outside the tokenizer's vocabulary`, 'config');
    }
    if (prompts.length === 0) return [];
    if (prompts.length > MAX_PROMPTS_PER_REQUEST) {
      const out: TokenAlternative[][] = [];
      for (let i = 0; i < prompts.length; i += MAX_PROMPTS_PER_REQUEST) out.push(...(await this.nextTokenTops(prompts.slice(i, i + MAX_PROMPTS_PER_REQUEST), topK, signal)));
      return out;
    }
    if (prompts.length > 1 && this.listPrompts) {
      try {
        return await this.topsOnce(prompts, topK, signal);
      } catch (e) {
        if (!(e instanceof RemoteEndpointError) || e.kind === 'unreachable' || e.kind === 'timeout') throw e;
        // Refused as a list: the first prompt alone tells whether the list was the problem.
        const first = await this.topsOnce(prompts.slice(0, 1), topK, signal);
        this.listPrompts = false;
        const rest: TokenAlternative[][] = [];
        for (const p of prompts.slice(1)) rest.push(...(await this.topsOnce([p], topK, signal)));
        return [...first, ...rest];
      }
    }
    const out: TokenAlternative[][] = [];
    for (const p of prompts) {
      throwIfAborted(signal);
      out.push(...(await this.topsOnce([p], topK, signal)));
    }
    return out;
  }

  /** Whether the server takes a list of prompts in one request (until it shows otherwise). */
  private listPrompts = true;
  /** Requests sent by nextTokenTops (for reports and tests). */
  nextTokenRequests = 0;

  /** One request for one or more prompts: the first generated position's alternatives per prompt. */
  private async topsOnce(prompts: readonly (readonly number[])[], k: number, signal: AbortSignal | undefined): Promise<TokenAlternative[][]> {
    const model = await this.modelName(signal);
    this.nextTokenRequests++;
    const body = await this.request(
      this.urls.completions,
      {
        method: 'POST',
        body: JSON.stringify({
          model,
          prompt: prompts.length === 1 ? [...prompts[0]] : prompts.map((p) => [...p]),
          max_tokens: 1,
          echo: false,
          logprobs: k,
          temperature: 0,
          return_tokens_as_token_ids: true,
        }),
      },
      signal,
    );
    if (!isObj(body) || !Array.isArray(body.choices)) {
      parseLogprobs(body); // throws what is wrong with it (not an object, an error, no choices)
      throw new RemoteEndpointError('the endpoint answered without choices', 'protocol');
    }
    const choices: unknown[] = body.choices;
    if (choices.length !== prompts.length) throw new RemoteEndpointError(`the endpoint answered ${choices.length} choices for ${prompts.length} prompts`, 'protocol');
    // Choices in prompt order (`index`), each parsed as a completion of its own.
    const ordered: unknown[] = new Array(prompts.length);
    choices.forEach((c, j) => {
      const index = isObj(c) && typeof c.index === 'number' ? c.index : j;
      if (!Number.isInteger(index) || index < 0 || index >= prompts.length || ordered[index] !== undefined) throw new RemoteEndpointError(`the endpoint answered a choice with index ${String(index)} for ${prompts.length} prompts`, 'protocol');
      ordered[index] = c;
    });
    const parsed = ordered.map((c) => parseLogprobs({ choices: [c] }));
    const raw = parsed.map((p, j) => {
      if (p.tokens.length < 1 || !p.tops[0]) throw new RemoteEndpointError(`the endpoint returned no alternatives for the generated token of prompt ${j}`, 'protocol');
      return p.tops[0];
    });
    const spelling = alternativeSpelling(raw.flat().map((t) => t.token), this.tokenizer);
    return raw.map((alts, j) => {
      const out: TokenAlternative[] = [];
      let sum = 0;
      for (const t of alts) {
        if (!(Number.isFinite(t.logProb) || t.logProb === -Infinity) || t.logProb > 1e-6) throw new RemoteEndpointError(`the endpoint returned an alternative with log-probability ${t.logProb} for prompt ${j}`, 'protocol');
        const id = idOf(t.token, spelling, this.tokenizer);
        if (id === undefined || out.some((a) => a.id === id)) continue;
        out.push({ id, logProb: Math.min(0, t.logProb) });
        sum += Math.exp(Math.min(0, t.logProb));
      }
      // Rounded log-probabilities may sum a little over 1; more than this is not a distribution.
      if (sum > 1 + 1e-3) throw new RemoteEndpointError(`the endpoint's alternatives for prompt ${j} have probabilities summing to ${sum.toFixed(4)} > 1`, 'protocol');
      out.sort((a, b) => b.logProb - a.logProb || a.id - b.id);
      return out;
    });
  }

  /**
   * Scores every token of `ids` given the tokens before it, in requests of at most `maxPromptTokens` (after
   * the first, each request re-sends the previous half window as context, as the local models' windows do).
   * A request scores the tokens it holds: with the same windows as an ONNX model whose context is
   * maxPromptTokens - 1.
   */
  async score(ids: ArrayLike<number>, options: RemoteScoreOptions = {}): Promise<RemoteScores> {
    const seq = Array.from(ids);
    const n = seq.length;
    const k = this.k;
    const start = options.startContext ? [...options.startContext] : this.defaultStartContext();
    for (const id of [...seq, ...start]) if (!(Number.isInteger(id) && id >= 0 && id < this.tokenizer.vocabSize)) throw new RemoteEndpointError(`token id ${id} is outside the tokenizer's vocabulary`, 'config');
    const c0 = start.length;
    // Window w sends the start context and ids[a, b] (a = w·step) and answers the tokens after the previous
    // window's last: token i is predicted from ids[a, i), at most `span` tokens, as a local model with a
    // context of maxPromptTokens - 1 would.
    const span = this.maxPromptTokens - c0 - 1;
    if (span < 2) throw new RemoteEndpointError('maxPromptTokens is too small for the start context', 'config');
    const step = span - Math.floor(span / 2);
    const out: RemoteScores = {
      count: n,
      topK: k,
      logProbs: new Float64Array(n).fill(NaN),
      topIds: new Int32Array(n * k).fill(-1),
      topLogProbs: new Float64Array(n * k).fill(-Infinity),
      ranks: null,
      entropies: null,
    };
    options.onProgress?.(0, n);
    for (let a = 0, prevB = -1; n > 0; a += step) {
      throwIfAborted(options.signal);
      const b = Math.min(n - 1, a + span);
      const r = await this.promptLogprobs([...start, ...seq.slice(a, b + 1)], options.signal);
      for (let i = Math.max(a, prevB + 1); i <= b; i++) {
        const q = c0 + i - a; // the prompt position of token i
        const lp = r.logProbs[q];
        if (lp === null) {
          if (q > 0) throw new RemoteEndpointError(`the endpoint gave no log-probability for prompt position ${q}`, 'protocol');
          continue;
        }
        out.logProbs[i] = lp;
        const alts = r.tops[q];
        for (let j = 0; j < alts.length; j++) {
          out.topIds[i * k + j] = alts[j].id;
          out.topLogProbs[i * k + j] = alts[j].logProb;
        }
      }
      options.onProgress?.(b + 1, n);
      prevB = b;
      if (b >= n - 1) break;
    }
    return out;
  }
}

/** Scores a token stream with an endpoint, in the shape of `scoreDocument`'s result (ranks and entropies NaN). */
export async function scoreWithEndpoint(endpoint: RemoteCompletionsModel, stream: TokenStream, options: RemoteScoreOptions & { topK?: number } = {}): Promise<DocumentScores> {
  const r = await endpoint.score(stream.ids, options);
  const topK = Math.min(options.topK ?? r.topK, r.topK);
  const topIds = new Int32Array(r.count * topK).fill(-1);
  const topLogProbs = new Float64Array(r.count * topK).fill(-Infinity);
  for (let i = 0; i < r.count; i++) {
    topIds.set(r.topIds.subarray(i * r.topK, i * r.topK + topK), i * topK);
    topLogProbs.set(r.topLogProbs.subarray(i * r.topK, i * r.topK + topK), i * topK);
  }
  return {
    modelId: endpoint.id,
    stream,
    count: r.count,
    logProbs: r.logProbs,
    ranks: new Float64Array(r.count).fill(NaN),
    entropies: new Float64Array(r.count).fill(NaN),
    topK,
    topIds,
    topLogProbs,
    surprisalBits: spreadSurprisal(stream.byteOffsets, stream.count, stream.byteLength, r.logProbs),
  };
}

/** How a token id is spelled in an OpenAI-style answer: its text, or `bytes:\xNN…` when not whole characters. */
export function openAiTokenString(tokenizer: Tokenizer, id: number): string {
  const bytes = tokenizer.tokenBytes(id);
  const text = decodeUtf8Strict(bytes);
  if (text !== undefined) return text;
  return `bytes:${escapeBytes(bytes)}`;
}
