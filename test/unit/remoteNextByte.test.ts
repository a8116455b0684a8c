/**
 * The next byte from a remote endpoint (src/core/lm/remoteNextByte.ts) against a local fake OpenAI-style
 * completions server that serves a known model's next-token distribution truncated to its top k. The remote
 * answer must equal the exact answer (nextByteDistribution) of that truncated model computed directly, to
 * 1e-9: with a tiny vocabulary and a model whose support is small (so that k = 20 holds all of it, and the
 * answer is the full model's, exact), with k below the support (approximate, the missing mass reported), and
 * with GPT-2's tokenizer and a model over its whole vocabulary. Prompts and requests are counted: one prompt per
 * distinct prefix, several prompts per request, one per request when the server refuses lists.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { main } from '../../src/cli/main';
import { DenseDistribution, type LanguageModel, type NextTokenDistribution } from '../../src/core/lm/model';
import { nextByteDistribution, type NextByteResult } from '../../src/core/lm/nextByte';
import { openAiTokenString, RemoteCompletionsModel, RemoteEndpointError } from '../../src/core/lm/remote';
import { remoteNextByteDistribution } from '../../src/core/lm/remoteNextByte';
import { trainTinyByteLevelBpe } from '../../src/core/lm/tinyBpe';
import { loadHfTokenizer } from '../../src/core/tokenizers/hfLoader';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import type { Tokenizer } from '../../src/core/tokenizers/types';
import { MODEL_WORKER } from '../../src/protocol/modelWorker';
import { mulberry32 } from '../harness/hardStrings';

const TOL = 1e-9;

// ---------------------------------------------------------------------------------------------------------
// A fake endpoint over any next-token function.

interface Received {
  readonly prompts: number[][];
  readonly logprobs: number;
  readonly echo: boolean;
  readonly maxTokens: number;
}
interface Fake {
  url: string;
  server: Server;
  /** The next-token distribution after a prompt (the whole prompt as sent). */
  dist: (prompt: readonly number[]) => NextTokenDistribution | Promise<NextTokenDistribution>;
  tokenizer: Tokenizer;
  spelling: 'token_id' | 'text';
  refuseLists: boolean;
  received: Received[];
}

async function startFake(tokenizer: Tokenizer, dist: Fake['dist']): Promise<Fake> {
  const fake: Fake = { url: '', server: undefined as unknown as Server, dist, tokenizer, spelling: 'token_id', refuseLists: false, received: [] };
  const spell = (id: number, ids: boolean): string => (fake.spelling === 'token_id' && ids ? `token_id:${id}` : openAiTokenString(fake.tokenizer, id));
  fake.server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/v1/models') return send(200, { data: [{ id: 'fake' }] });
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as { prompt: number[] | number[][]; logprobs: number; echo: boolean; max_tokens: number; return_tokens_as_token_ids?: boolean };
    const list = Array.isArray(body.prompt[0]);
    if (list && fake.refuseLists) return send(400, { error: { message: 'prompt must be a list of token ids' } });
    const prompts = (list ? body.prompt : [body.prompt]) as number[][];
    fake.received.push({ prompts, logprobs: body.logprobs, echo: body.echo, maxTokens: body.max_tokens });
    const ids = body.return_tokens_as_token_ids === true;
    const choices = [];
    for (const [index, prompt] of prompts.entries()) {
      const d = await fake.dist(prompt);
      const top: Record<string, number> = {};
      for (const t of d.top(body.logprobs)) top[spell(t.id, ids)] = t.logProb;
      const generated = d.top(1)[0]?.id ?? 0;
      choices.push({ index, text: '', finish_reason: 'length', logprobs: { tokens: [spell(generated, ids)], token_logprobs: [d.logProb(generated)], top_logprobs: [top], text_offset: [0] } });
    }
    // Choices in reverse order: the client must place them by `index`.
    send(200, { id: 'cmpl-1', object: 'text_completion', choices: choices.reverse() });
  });
  await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/v1`;
  return fake;
}

async function stopFake(f: Fake | undefined): Promise<void> {
  if (!f) return;
  f.server.closeAllConnections();
  await new Promise((r) => f.server.close(r));
}

/** The model with every id outside its top k (ties by increasing id, as the fake sends them) set to 0. */
function truncated(d: NextTokenDistribution, k: number): NextTokenDistribution {
  const probs = new Float64Array(d.vocabSize);
  for (const t of d.top(k)) probs[t.id] = Math.exp(t.logProb);
  return new DenseDistribution(probs);
}

function assertSameResult(got: NextByteResult, want: NextByteResult, what: string): void {
  assert.equal(got.byteOffset, want.byteOffset, what);
  for (const [name, g, w] of [
    ['distribution', got.distribution, want.distribution],
    ['naive', got.naive, want.naive],
    ['healing', got.healing, want.healing],
  ] as const) {
    for (let b = 0; b < 257; b++) assert.ok(Math.abs(g[b] - w[b]) <= TOL, `${what}: ${name}[${b}] ${g[b]} vs ${w[b]}`);
  }
  assert.equal(got.topCharacters.length, want.topCharacters.length, what);
  got.topCharacters.forEach((c, i) => {
    assert.equal(c.text, want.topCharacters[i].text, `${what}: character ${i}`);
    assert.ok(Math.abs(c.probability - want.topCharacters[i].probability) <= TOL, `${what}: character ${i}`);
  });
}

// ---------------------------------------------------------------------------------------------------------
// A tiny vocabulary and a model whose support is at most 16 tokens.

const CORPUS = 'ab ba aab abba bab ab ab ba\nab  ba\n\nbaa ab abab b a\n'.repeat(3);
/** The tiny BPE with `<|endoftext|>` added as a special token (the end of the text, a real id). */
function tinyTokenizer(): Tokenizer {
  const json = JSON.parse(trainTinyByteLevelBpe(CORPUS, 12)) as { model: { vocab: Record<string, number> }; added_tokens: unknown[] };
  const eot = Object.keys(json.model.vocab).length;
  json.model.vocab['<|endoftext|>'] = eot;
  json.added_tokens = [{ id: eot, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }];
  return loadHfTokenizer(JSON.stringify(json), { sourceName: 'tiny-ab' });
}

/**
 * A second-order model: after the last two ids of the prompt, a random distribution over the tokens made of
 * `a`, `b`, space and newline and the end of text (at most 20 of them), everything else 0.
 */
function sparseModel(tok: Tokenizer, eot: number): (prompt: readonly number[]) => NextTokenDistribution {
  const support: number[] = [eot];
  for (let id = 0; id < tok.vocabSize; id++) {
    const b = tok.tokenBytes(id);
    if (id !== eot && b.length > 0 && b.every((x) => x === 0x61 || x === 0x62 || x === 0x20 || x === 0x0a)) support.push(id);
  }
  assert.ok(support.length >= 8 && support.length <= 20, `support of ${support.length} tokens`);
  const memo = new Map<string, NextTokenDistribution>();
  return (prompt) => {
    const key = prompt.slice(-2).join(',');
    let d = memo.get(key);
    if (!d) {
      let seed = 17;
      for (const c of key) seed = (seed * 31 + c.charCodeAt(0)) >>> 0;
      const rnd = mulberry32(seed);
      const probs = new Float64Array(tok.vocabSize);
      let s = 0;
      for (const id of support) s += probs[id] = 0.05 + rnd() ** 2;
      for (const id of support) probs[id] /= s;
      d = new DenseDistribution(probs);
      memo.set(key, d);
    }
    return d;
  };
}

/** The truncated model as a LanguageModel asked directly (no endpoint), with the endpoint's start context. */
function directModel(tok: Tokenizer, eot: number, f: (prompt: readonly number[]) => NextTokenDistribution, k: number): LanguageModel {
  return {
    id: 'direct',
    description: 'the truncated model, asked directly',
    vocabSize: tok.vocabSize,
    endOfTextId: eot,
    contextTokens: 2,
    // The endpoint's prompts start with `<|endoftext|>` (its start context): the same here.
    nextDistribution: (context) => truncated(f([eot, ...context]), k),
  };
}

const TEXTS: [string, number][] = [
  ['ab ba aab ab', 12],
  ['ab ba aab ab', 10],
  ['ab ba aab ab', 3],
  ['abba\n\nba', 8],
  ['abba\n\nba', 5],
  ['bab  ab', 5],
  ['b', 1],
];

let tiny: Tokenizer;
let tinyEot: number;
let tinyFake: Fake;

before(async () => {
  tiny = tinyTokenizer();
  tinyEot = tiny.specialTokenId('<|endoftext|>') as number;
  tinyFake = await startFake(tiny, sparseModel(tiny, tinyEot));
});
after(async () => {
  await stopFake(tinyFake);
});

test('top-20 covering the whole support: the remote answer is the full model\'s exact answer, and says it is exact', async () => {
  const f = sparseModel(tiny, tinyEot);
  for (const [text, offset] of TEXTS) {
    tinyFake.received.length = 0;
    const endpoint = new RemoteCompletionsModel({ url: tinyFake.url, model: 'fake' }, tiny);
    const got = await remoteNextByteDistribution(endpoint, tiny, text, offset);
    const want = await nextByteDistribution(directModel(tiny, tinyEot, f, tiny.vocabSize), tiny, text, offset);
    assertSameResult(got, want, `${JSON.stringify(text)} at ${offset}`);
    assert.ok(got.maxMissingMass < 1e-9, `missing mass ${got.maxMissingMass}`);
    assert.equal(got.truncated, false);
    assert.equal(got.exact, want.exact);
    assert.equal(got.inexactReason, want.inexactReason);
    assert.equal(got.topK, 20);
    // The requests: no echo, one generated token, top-20, prompts that start with the start context.
    for (const r of tinyFake.received) {
      assert.equal(r.echo, false);
      assert.equal(r.maxTokens, 1);
      assert.equal(r.logprobs, 20);
      for (const p of r.prompts) assert.equal(p[0], tinyEot);
    }
  }
});

test('top-k below the support: equal to the truncated model\'s exact answer to 1e-9; approximate, with the largest missing mass', async () => {
  const f = sparseModel(tiny, tinyEot);
  for (const k of [3, 6]) {
    for (const [text, offset] of TEXTS) {
      const endpoint = new RemoteCompletionsModel({ url: tinyFake.url, model: 'fake' }, tiny);
      let got;
      try {
        got = await remoteNextByteDistribution(endpoint, tiny, text, offset, { topK: k });
      } catch (e) {
        // No cover left with every token in the top-k: the truncated model has no mass here either.
        assert.ok(e instanceof RemoteEndpointError && /no tokenization of the text before the cursor has every token in the endpoint's top/.test(e.message), String(e));
        const want = await nextByteDistribution(directModel(tiny, tinyEot, f, k), tiny, text, offset);
        assert.ok(want.distribution.every((p) => p === 0), `${text} at ${offset}, k=${k}: the direct answer has mass`);
        continue;
      }
      const want = await nextByteDistribution(directModel(tiny, tinyEot, f, k), tiny, text, offset);
      assertSameResult(got, want, `${JSON.stringify(text)} at ${offset}, k=${k}`);
      assert.equal(got.exact, false);
      assert.equal(got.truncated, true);
      assert.match(got.inexactReason ?? '', new RegExp(`^approximate: top-${k} only\\. .*Mass outside the top-${k}: up to \\d+\\.\\d%`));
      // The largest 1 − Σ top-k over the prefixes asked, recomputed from the model at every prompt sent.
      assert.ok(got.maxMissingMass > 0.05 && got.maxMissingMass < 1);
    }
  }
  // The reported missing mass is the largest over the prompts actually sent.
  tinyFake.received.length = 0;
  const endpoint = new RemoteCompletionsModel({ url: tinyFake.url, model: 'fake' }, tiny);
  const r = await remoteNextByteDistribution(endpoint, tiny, 'ab ba aab ab', 10, { topK: 4 });
  let largest = 0;
  for (const q of tinyFake.received) for (const p of q.prompts) largest = Math.max(largest, 1 - f(p).top(4).reduce((s, t) => s + Math.exp(t.logProb), 0));
  assert.ok(Math.abs(r.maxMissingMass - largest) < 1e-12, `${r.maxMissingMass} vs ${largest}`);
});

test('one prompt per distinct prefix, several prompts per request; one per request when the server refuses lists', async () => {
  const text = 'ab ba aab abba ab';
  const offset = 16;
  tinyFake.received.length = 0;
  const endpoint = new RemoteCompletionsModel({ url: tinyFake.url, model: 'fake' }, tiny);
  const batched = await remoteNextByteDistribution(endpoint, tiny, text, offset);
  const prompts = tinyFake.received.flatMap((r) => r.prompts.map((p) => p.join(',')));
  assert.equal(new Set(prompts).size, prompts.length, 'no prefix asked twice');
  assert.equal(batched.prompts, prompts.length);
  assert.equal(batched.requests, tinyFake.received.length);
  assert.ok(batched.requests < batched.prompts, `${batched.requests} requests for ${batched.prompts} prompts`);
  assert.ok(tinyFake.received.every((r) => r.prompts.length <= 16));

  tinyFake.refuseLists = true;
  try {
    tinyFake.received.length = 0;
    const single = await remoteNextByteDistribution(new RemoteCompletionsModel({ url: tinyFake.url, model: 'fake' }, tiny), tiny, text, offset);
    assert.equal(single.prompts, batched.prompts);
    assert.ok(tinyFake.received.every((r) => r.prompts.length === 1));
    assert.equal(tinyFake.received.length, single.prompts);
    assertSameResult(single, batched, 'prompt by prompt');
  } finally {
    tinyFake.refuseLists = false;
  }
});

test('maxPromptTokens bounds every prompt; cancel stops; a server spelling tokens as text gives the same answer', async () => {
  const text = 'ab ba aab abba bab ab ab ba ab ba aab abba bab ab';
  tinyFake.received.length = 0;
  const small = new RemoteCompletionsModel({ url: tinyFake.url, model: 'fake', maxPromptTokens: 8 }, tiny);
  const got = await remoteNextByteDistribution(small, tiny, text, text.length - 1);
  assert.ok(tinyFake.received.length > 0);
  for (const r of tinyFake.received) for (const p of r.prompts) assert.ok(p.length <= 8 && p[0] === tinyEot, `a prompt of ${p.length}`);
  // The model reads two tokens back, so the cut context changes nothing.
  const want = await nextByteDistribution(directModel(tiny, tinyEot, sparseModel(tiny, tinyEot), tiny.vocabSize), tiny, text, text.length - 1);
  assertSameResult(got, want, 'maxPromptTokens 8');

  tinyFake.spelling = 'text';
  try {
    const asText = await remoteNextByteDistribution(new RemoteCompletionsModel({ url: tinyFake.url, model: 'fake' }, tiny), tiny, text, 20);
    const asIds = (tinyFake.spelling = 'token_id', await remoteNextByteDistribution(new RemoteCompletionsModel({ url: tinyFake.url, model: 'fake' }, tiny), tiny, text, 20));
    assertSameResult(asText, asIds, 'text spelling');
  } finally {
    tinyFake.spelling = 'token_id';
  }

  const ac = new AbortController();
  ac.abort();
  await assert.rejects(remoteNextByteDistribution(new RemoteCompletionsModel({ url: tinyFake.url, model: 'fake' }, tiny), tiny, text, 20, { signal: ac.signal }), (e: Error) => e.name === 'AbortError');
});

/**
 * A model over GPT-2's 50257 ids that knows a document: after id a, 70 % on the tokens that follow a in the
 * document's canonical encoding, 30 % spread over the whole vocabulary by a heavy-tailed random weight (so the
 * top 20 mixes the document's continuation with tail tokens, and 1 − Σ top-20 is well above 0).
 */
function documentBigram(tok: Tokenizer, doc: string): (prompt: readonly number[]) => NextTokenDistribution {
  const ids = Array.from(tok.encode(doc).ids);
  const eot = tok.specialTokenId('<|endoftext|>') as number;
  const seq = [eot, ...ids];
  const memo = new Map<number, NextTokenDistribution>();
  return (prompt) => {
    const last = prompt[prompt.length - 1];
    let d = memo.get(last);
    if (!d) {
      const rnd = mulberry32(last + 1);
      const probs = new Float64Array(tok.vocabSize);
      let s = 0;
      for (let id = 0; id < probs.length; id++) s += probs[id] = rnd() ** 12;
      for (let id = 0; id < probs.length; id++) probs[id] *= 0.3 / s;
      const followers = seq.flatMap((id, i) => (id === last && i + 1 < seq.length ? [seq[i + 1]] : []));
      for (const f of followers) probs[f] += 0.7 / followers.length;
      if (!followers.length) probs[eot] += 0.7;
      d = new DenseDistribution(probs);
      memo.set(last, d);
    }
    return d;
  };
}

test('GPT-2, top-20 of a model over its whole vocabulary: equal to the truncated model asked directly; approximate', async () => {
  const tok = (await loadTokenizer('gpt2')).tokenizer;
  const eot = tok.specialTokenId('<|endoftext|>') as number;
  const text = 'Token Inspector shows the model what it reads.\n  def fibonacci(n):\n    return fibonacci(n - 1)';
  const f = documentBigram(tok, text);
  const fake = await startFake(tok, f);
  try {
    for (const offset of [9, 20, text.indexOf('fibonacci') + 4, text.indexOf('return') + 3, text.length - 4]) {
      fake.received.length = 0;
      const got = await remoteNextByteDistribution(new RemoteCompletionsModel({ url: fake.url, model: 'fake' }, tok), tok, text, offset);
      const direct: LanguageModel = { id: 'direct', description: 'truncated', vocabSize: tok.vocabSize, endOfTextId: eot, contextTokens: 2, nextDistribution: (ctx) => truncated(f([eot, ...ctx]), 20) };
      const want = await nextByteDistribution(direct, tok, text, offset);
      assertSameResult(got, want, `offset ${offset}`);
      assert.equal(got.exact, false);
      assert.ok(got.maxMissingMass > 0.2 && got.maxMissingMass < 1, `missing ${got.maxMissingMass}`);
      assert.match(got.inexactReason ?? '', /^approximate: top-20 only/);
      // The document's own continuation is the most probable next character.
      assert.equal(got.topCharacters[0].text, text[offset], `offset ${offset}`);
      assert.ok(fake.received.length < got.prompts);
    }
  } finally {
    await stopFake(fake);
  }
});

test('protocol: remoteNextBytes params and a result with topKOnly are checked', () => {
  const stream = { count: 1, ids: new Uint32Array(1), byteOffsets: new Uint32Array([0, 2]), utf16Offsets: new Uint32Array([0, 2]), flags: new Uint8Array(1), byteIntoChar: new Uint8Array(2), byteLength: 2, utf16Length: 2, addedTokens: [] };
  const params = { endpoint: { url: 'http://127.0.0.1:8000/v1' }, tokenizer: { id: 'gpt2' }, text: 'hi', stream, utf16Offset: 2 };
  assert.ok(MODEL_WORKER.params.remoteNextBytes(params));
  assert.equal(MODEL_WORKER.params.remoteNextBytes({ ...params, utf16Offset: 3 }), false, 'an offset past the text');
  assert.equal(MODEL_WORKER.params.remoteNextBytes({ ...params, endpoint: { url: 'http://h', topK: 21 } }), false, 'top-k over 20');
  assert.equal(MODEL_WORKER.params.remoteNextBytes({ ...params, endpoint: undefined }), false, 'no endpoint');
  const d = new Float64Array(257);
  const result = { offset: 2, byteOffset: 2, exact: false, inexactReason: 'approximate: top-20 only', window: 2, distribution: d, naive: d, healing: d, topCharacters: [], ms: 1, topKOnly: { topK: 20, maxMissingMass: 0.25, prompts: 7 } };
  assert.ok(MODEL_WORKER.results.remoteNextBytes(result));
  assert.equal(MODEL_WORKER.results.remoteNextBytes({ ...result, topKOnly: { topK: 20, maxMissingMass: 1.5, prompts: 7 } }), false, 'a missing mass over 1');
  assert.equal(MODEL_WORKER.results.remoteNextBytes({ ...result, topKOnly: { topK: 20 } }), false, 'a missing mass missing');
});

async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const chunks: string[] = [];
  const errs: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  // The CLI writes strings; the test runner's own reports (binary, to the parent process) pass through.
  process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) => (typeof s === 'string' ? (chunks.push(s), true) : write(s, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array, ...rest: never[]) => (typeof s === 'string' ? (errs.push(s), true) : writeErr(s, ...rest))) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, stdout: chunks.join(''), stderr: errs.join('') };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

test('CLI next-bytes --model remote --endpoint URL: the core\'s answer, approximate, with the missing mass; usage errors', async () => {
  const tok = (await loadTokenizer('gpt2')).tokenizer;
  const eot = tok.specialTokenId('<|endoftext|>') as number;
  const text = 'def fibonacci(n):\n    return fibonacci(n - 1) + fibonacci(n - 2)\n';
  const fake = await startFake(tok, documentBigram(tok, text));
  const dir = mkdtempSync(join(tmpdir(), 'ti-remote-nb-'));
  try {
    const file = join(dir, 'f.py');
    writeFileSync(file, text);
    const offset = text.indexOf('return') + 3;
    const r = await runCli(['next-bytes', file, '--offset', String(offset), '--model', 'remote', '--endpoint', fake.url, '--endpoint-model', 'fake', '--tokenizer', 'gpt2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { model: string; exact: boolean; inexactReason: string; distribution: number[]; topKOnly: { topK: number; maxMissingMass: number; prompts: number; requests: number } };
    const want = await remoteNextByteDistribution(new RemoteCompletionsModel({ url: fake.url, model: 'fake' }, tok), tok, text, offset);
    assert.equal(json.model, 'remote');
    assert.equal(json.exact, false);
    assert.match(json.inexactReason, /^approximate: top-20 only/);
    assert.equal(json.topKOnly.topK, 20);
    assert.ok(Math.abs(json.topKOnly.maxMissingMass - want.maxMissingMass) < 1e-12);
    json.distribution.forEach((p, b) => assert.ok(Math.abs(p - want.distribution[b]) <= TOL, `byte ${b}`));
    // Prompts start with GPT-2's start context.
    assert.ok(fake.received.every((q) => q.prompts.every((p) => p[0] === eot)));
    const human = await runCli(['next-bytes', file, '--offset', String(offset), '--model', 'remote', '--endpoint', fake.url, '--tokenizer', 'gpt2']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /not exact: approximate: top-20 only\..*Mass outside the top-20: up to \d+\.\d% \(over \d+ prefixes asked\)/);
    assert.equal((await runCli(['next-bytes', file, '--offset', '3', '--model', 'remote'])).code, 2, 'no --endpoint');
    assert.equal((await runCli(['next-bytes', file, '--offset', '3', '--endpoint', fake.url])).code, 2, '--endpoint without --model remote');
  } finally {
    await stopFake(fake);
    rmSync(dir, { recursive: true, force: true });
  }
});
