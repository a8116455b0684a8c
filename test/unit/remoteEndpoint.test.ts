import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OnnxCausalLM } from '../../src/core/lm/onnx';
import { endpointUrls, openAiTokenString, parseByteEscapes, RemoteCompletionsModel, RemoteEndpointError, scoreWithEndpoint } from '../../src/core/lm/remote';

const FIXTURE = join(__dirname, '..', 'fixtures', 'tiny-gpt2');
const TOL = 1e-5;

type Spelling = 'token_id' | 'text' | 'vocab';
type Lie = 'none' | 'malformed' | 'short' | 'wrong-token' | 'slow' | 'http500' | 'no-logprobs' | 'positive' | 'null-alternative' | 'no-echo';

interface ServerState {
  spelling: Spelling;
  lie: Lie;
  apiKey: string | undefined;
  requests: { prompt: number[]; logprobs: number; echo: boolean; maxTokens: number; tokenIds: boolean; model: string }[];
}

/**
 * An OpenAI-compatible /v1/completions server that scores prompts with the fixture model (no start context of
 * its own: the prompt ids are used as sent, as vLLM does), speaking vLLM's echo + logprobs protocol.
 */
async function startServer(model: OnnxCausalLM): Promise<{ url: string; state: ServerState; server: Server }> {
  const state: ServerState = { spelling: 'token_id', lie: 'none', apiKey: undefined, requests: [] };
  const tok = model.tokenizer.tokenizer;
  const spell = (id: number, tokenIds: boolean): string => {
    if (state.spelling === 'token_id' && tokenIds) return `token_id:${id}`;
    if (state.spelling === 'vocab') return tok.tokenName(id);
    return openAiTokenString(tok, id);
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (state.apiKey && req.headers.authorization !== `Bearer ${state.apiKey}`) return send(401, { error: { message: 'Unauthorized', type: 'invalid_request_error' } });
    if (req.method === 'GET' && req.url === '/v1/models') return send(200, { object: 'list', data: [{ id: 'tiny-gpt2', object: 'model' }] });
    if (req.method !== 'POST' || req.url !== '/v1/completions') return send(404, { error: { message: 'not found' } });
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as { prompt: number[]; logprobs: number; echo: boolean; max_tokens: number; return_tokens_as_token_ids?: boolean; model: string };
    state.requests.push({ prompt: body.prompt, logprobs: body.logprobs, echo: body.echo, maxTokens: body.max_tokens, tokenIds: body.return_tokens_as_token_ids === true, model: body.model });
    if (state.lie === 'http500') return send(500, { error: { message: 'CUDA out of memory', type: 'internal_error' } });
    if (state.lie === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"choices": [{"logprobs": {"tokens": [');
    }
    if (state.lie === 'slow') await new Promise((r) => setTimeout(r, 3000));
    if (res.destroyed) return;
    if (!Array.isArray(body.prompt) || !body.prompt.every((x) => Number.isInteger(x))) return send(400, { error: { message: 'prompt must be token ids' } });
    const ids = Uint32Array.from(body.prompt);
    const n = ids.length;
    const k = body.logprobs;
    // Distributions after ids[0..p) for p = 1..n (the last one picks the generated token).
    const dists = await model.nextDistributions(ids, 1, n + 1);
    const generated = dists[n - 1].top(1)[0].id;
    const all = [...ids, generated];
    const tokenIds = body.return_tokens_as_token_ids === true;
    const tokens = all.map((id) => spell(id, tokenIds));
    const tokenLogprobs: (number | null)[] = [null];
    const topLogprobs: (Record<string, number> | null)[] = [null];
    for (let p = 1; p <= n; p++) {
      const d = dists[p - 1];
      tokenLogprobs.push(d.logProb(all[p]));
      const top: Record<string, number> = {};
      for (const t of d.top(k)) top[spell(t.id, tokenIds)] = t.logProb;
      top[spell(all[p], tokenIds)] = d.logProb(all[p]); // vLLM adds the actual token
      topLogprobs.push(top);
    }
    if (state.lie === 'short') tokenLogprobs.splice(-2, 2);
    if (state.lie === 'wrong-token') tokens[2] = spell((all[2] + 1) % 50257, tokenIds);
    if (state.lie === 'positive') tokenLogprobs[3] = 0.7;
    if (state.lie === 'null-alternative') (topLogprobs[3] as Record<string, number | null>)[spell(all[3], tokenIds)] = null;
    const echoed = state.lie === 'no-echo' ? { tokens: tokens.slice(n), token_logprobs: tokenLogprobs.slice(n), top_logprobs: topLogprobs.slice(n) } : { tokens, token_logprobs: tokenLogprobs, top_logprobs: topLogprobs };
    send(200, {
      id: 'cmpl-1',
      object: 'text_completion',
      model: body.model,
      choices: [{ index: 0, text: '', finish_reason: 'length', logprobs: state.lie === 'no-logprobs' ? null : { ...echoed, text_offset: tokens.map(() => 0) } }],
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state, server };
}

let local: OnnxCausalLM;
let bare: OnnxCausalLM;
let srv: Awaited<ReturnType<typeof startServer>>;
const scratch = mkdtempSync(join(tmpdir(), 'ti-remote-'));

before(async () => {
  local = await OnnxCausalLM.load(FIXTURE, { threads: 1 });
  bare = await OnnxCausalLM.load(FIXTURE, { threads: 1, startContext: [] });
  srv = await startServer(bare);
});
after(async () => {
  srv.server.closeAllConnections();
  await new Promise((r) => srv.server.close(r));
  await local.dispose();
  await bare.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

function reset(): void {
  srv.state.spelling = 'token_id';
  srv.state.lie = 'none';
  srv.state.apiKey = undefined;
  srv.state.requests.length = 0;
}

const TEXT = 'Token Inspector shows 🦜 and 東京 to the model.\n';

test('log-probs and top-k agree with the local ONNX path, in every token spelling a server may use', async () => {
  const tok = local.tokenizer.tokenizer;
  const ids = tok.encodeIds(TEXT);
  const want = await local.score(ids, { topK: 5 });
  for (const spelling of ['token_id', 'text', 'vocab'] as const) {
    reset();
    srv.state.spelling = spelling;
    const remote = new RemoteCompletionsModel({ url: srv.url, topK: 5 }, tok);
    const got = await remote.score(ids);
    assert.equal(got.count, ids.length);
    assert.equal(got.ranks, null);
    assert.equal(got.entropies, null);
    for (let i = 0; i < ids.length; i++) {
      assert.ok(Math.abs(got.logProbs[i] - want.logProbs[i]) < TOL, `${spelling} token ${i}: ${got.logProbs[i]} vs ${want.logProbs[i]}`);
      const remoteTop = Array.from(got.topIds.subarray(i * 5, i * 5 + 5));
      const localTop = Array.from(want.topIds.subarray(i * 5, i * 5 + 5));
      assert.deepEqual(remoteTop, localTop, `${spelling} token ${i}`);
      for (let j = 0; j < 5; j++) assert.ok(Math.abs(got.topLogProbs[i * 5 + j] - want.topLogProbs[i * 5 + j]) < TOL);
    }
    // The request: token ids (with the start context), echo, logprobs k, the served model's name.
    const [r] = srv.state.requests.filter((q) => q.prompt.length > 0);
    assert.deepEqual(r.prompt, [50256, ...ids]);
    assert.equal(r.echo, true);
    assert.equal(r.logprobs, 5);
    assert.equal(r.maxTokens, 1);
    assert.equal(r.tokenIds, true);
    assert.equal(r.model, 'tiny-gpt2');
  }
  // The parrot is three byte tokens: partial characters travel as `bytes:` escapes in the text spelling.
  assert.ok(ids.some((id) => openAiTokenString(tok, id).startsWith('bytes:\\x')));
});

test('long inputs go in windows of maxPromptTokens, with the same conditioning as the local model', async () => {
  reset();
  const dir = join(scratch, 'ctx16');
  cpSync(FIXTURE, dir, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, n_positions: 16 }));
  const small = await OnnxCausalLM.load(dir, { threads: 1 });
  try {
    const tok = small.tokenizer.tokenizer;
    const ids = tok.encodeIds(TEXT.repeat(3));
    assert.ok(ids.length > 40);
    const want = await small.score(ids, { topK: 3 });
    const remote = new RemoteCompletionsModel({ url: srv.url, topK: 3, maxPromptTokens: 17, model: 'tiny-gpt2' }, tok);
    const progress: number[] = [];
    const got = await remote.score(ids, { onProgress: (d) => progress.push(d) });
    for (let i = 0; i < ids.length; i++) assert.ok(Math.abs(got.logProbs[i] - want.logProbs[i]) < TOL, `token ${i}`);
    assert.ok(srv.state.requests.length > 3);
    assert.ok(srv.state.requests.every((r) => r.prompt.length <= 17 && r.prompt[0] === 50256));
    assert.equal(progress[progress.length - 1], ids.length);
  } finally {
    await small.dispose();
  }
});

test('scoreWithEndpoint gives DocumentScores with rank and entropy unavailable and per-byte surprisal', async () => {
  reset();
  const tok = local.tokenizer.tokenizer;
  const stream = tok.encode(TEXT);
  const remote = new RemoteCompletionsModel({ url: `${srv.url}/v1/`, topK: 4, apiKey: 'sk-test' }, tok);
  srv.state.apiKey = 'sk-test';
  const doc = await scoreWithEndpoint(remote, stream, { topK: 2 });
  assert.equal(doc.modelId, `remote:${srv.url}/v1`);
  assert.equal(doc.topK, 2);
  assert.ok(doc.ranks.every(Number.isNaN));
  assert.ok(doc.entropies.every(Number.isNaN));
  assert.ok(doc.logProbs.every((x) => Number.isFinite(x) && x < 0));
  const bits = doc.surprisalBits.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(bits - doc.logProbs.reduce((a, b) => a - b / Math.LN2, 0)) < 1e-6);
  // Without the key: a clear 401.
  const noKey = new RemoteCompletionsModel({ url: srv.url, model: 'tiny-gpt2' }, tok);
  await assert.rejects(noKey.score([15496, 11]), (e: Error) => e instanceof RemoteEndpointError && /HTTP 401 \(check the API key\): Unauthorized/.test(e.message));
});

test('an unreachable, slow or lying endpoint gives a clear error; cancel stops a request', async () => {
  const tok = local.tokenizer.tokenizer;
  const ids = [15496, 11, 995, 0, 198];
  const remote = (extra: Partial<ConstructorParameters<typeof RemoteCompletionsModel>[0]> = {}) => new RemoteCompletionsModel({ url: srv.url, model: 'tiny-gpt2', ...extra }, tok);

  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  await assert.rejects(remote({ url: `http://127.0.0.1:${port}/v1` }).score(ids), (e: Error) => e instanceof RemoteEndpointError && e.kind === 'unreachable' && /cannot reach http:\/\/127\.0\.0\.1:\d+\/v1 \(ECONNREFUSED\)/.test(e.message));

  const cases: [Lie, RegExp][] = [
    ['malformed', /did not answer JSON/],
    ['short', /returned 5 log-probabilities for 7 tokens/],
    ['wrong-token', /scored a different token stream: position 2/],
    ['http500', /HTTP 500: CUDA out of memory/],
    ['no-logprobs', /returned no log-probabilities/],
    ['positive', /log-probability 0\.7 at position 3/],
    // JSON null read as Number(null) = 0 would have been probability 1.
    ['null-alternative', /an alternative with log-probability NaN at position 3/],
    ['no-echo', /returned 1 tokens for a prompt of 6: it did not echo the prompt/],
  ];
  for (const [lie, re] of cases) {
    reset();
    srv.state.lie = lie;
    await assert.rejects(remote().score(ids), (e: Error) => e instanceof RemoteEndpointError && re.test(e.message), lie);
  }

  reset();
  srv.state.lie = 'slow';
  const t0 = Date.now();
  await assert.rejects(remote({ timeoutMs: 200 }).score(ids), (e: Error) => e instanceof RemoteEndpointError && e.kind === 'timeout' && /no answer from .* within 200 ms/.test(e.message));
  assert.ok(Date.now() - t0 < 2000);

  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(remote().score(ids, { signal: ac.signal }), (e: Error) => e.name === 'AbortError');
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(remote().score(ids, { signal: pre.signal }), (e: Error) => e.name === 'AbortError');

  // Configuration errors.
  assert.throws(() => remote({ url: 'not a url' }), /not a URL/);
  assert.throws(() => remote({ url: 'file:///etc/passwd' }), /must be http/);
  reset();
  await assert.rejects(remote().score([50257]), /outside the tokenizer's vocabulary/);
  // And afterwards the endpoint still works.
  const ok = await remote().score(ids);
  assert.ok(ok.logProbs.every((x) => Number.isFinite(x)));
});

test('helpers: byte escapes, endpoint URLs', () => {
  assert.deepEqual(Array.from(parseByteEscapes('bytes:\\xe2\\x80') ?? []), [0xe2, 0x80]);
  assert.deepEqual(Array.from(parseByteEscapes('bytes:\\\\xf0\\\\x9f') ?? []), [0xf0, 0x9f]);
  assert.deepEqual(Array.from(parseByteEscapes('bytes: \\xe6') ?? []), [0x20, 0xe6]);
  assert.equal(parseByteEscapes('hello'), undefined);
  assert.deepEqual(endpointUrls('http://h:8000'), { base: 'http://h:8000/v1', completions: 'http://h:8000/v1/completions' });
  assert.deepEqual(endpointUrls('http://h:8000/v1/'), { base: 'http://h:8000/v1', completions: 'http://h:8000/v1/completions' });
  assert.deepEqual(endpointUrls('https://h/api/v1/completions'), { base: 'https://h/api/v1', completions: 'https://h/api/v1/completions' });
});
