/**
 * The remote endpoint's connections (src/core/lm/remote.ts) as a user moving the cursor meets them, against a
 * local server and Node's own fetch: a kept-alive connection that the server closes as idle just as the next
 * request reuses it (the e2e flake: `cannot reach … (UND_ERR_SOCKET)` and no answer), a server that drops every
 * connection, and a request cancelled while the next one is in flight.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { RemoteCompletionsModel, RemoteEndpointError } from '../../src/core/lm/remote';
import type { TokenAlternative } from '../../src/core/lm/model';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import type { Tokenizer } from '../../src/core/tokenizers/types';

interface Endpoint {
  server: Server;
  url: string;
  /** Requests the server read in full. */
  received: number;
  /** Destroy the connection of every request instead of answering. */
  drop: boolean;
  /** Wait this long before answering. */
  delayMs: number;
}

/** The alternatives the server gives after a prompt: two ids that depend on its last id, so answers can be told apart. */
function expectedAlternatives(prompt: readonly number[]): number[] {
  const last = prompt[prompt.length - 1];
  return [(last + 1) % 1000, (last + 2) % 1000];
}

let tokenizer: Tokenizer;
let ep: Endpoint;

before(async () => {
  tokenizer = (await loadTokenizer('gpt2')).tokenizer;
  const state: Endpoint = { server: undefined as unknown as Server, url: '', received: 0, drop: false, delayMs: 0 };
  state.server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('error', () => undefined); // a cancelled request's body may stop half-way
    req.on('end', () => {
      state.received++;
      if (state.drop) return void req.socket.destroy();
      const prompt = (JSON.parse(raw) as { prompt: number[] }).prompt;
      const [a, b] = expectedAlternatives(prompt);
      const top = { [`token_id:${a}`]: Math.log(0.6), [`token_id:${b}`]: Math.log(0.4) };
      const body = JSON.stringify({ choices: [{ index: 0, text: '', logprobs: { tokens: [`token_id:${a}`], token_logprobs: [Math.log(0.6)], top_logprobs: [top] } }] });
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      }, state.delayMs);
    });
  });
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/v1`;
  ep = state;
});

after(async () => {
  ep.server.closeAllConnections();
  await new Promise((r) => ep.server.close(r));
});

function reset(): void {
  ep.drop = false;
  ep.delayMs = 0;
  ep.received = 0;
}

const ids = (alts: TokenAlternative[][]): number[] => alts[0].map((a) => a.id);

test('a kept-alive connection the server closes as idle just as the next request reuses it: that request is sent again on a new connection and answers', async () => {
  reset();
  const model = new RemoteCompletionsModel({ url: ep.url, model: 'fake' }, tokenizer);
  for (let round = 0; round < 5; round++) {
    assert.deepEqual(ids(await model.nextTokenTops([[5, 10 + round]], 20)), expectedAlternatives([10 + round]));
    // The server's idle timeout fires (Node's is 5 s; a proxy's may be anything) and fetch reuses the connection
    // before it has read the close: undici fails that request with UND_ERR_SOCKET (nodejs/undici#3492).
    ep.server.closeIdleConnections();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(ids(await model.nextTokenTops([[5, 20 + round]], 20)), expectedAlternatives([20 + round]), `round ${round}`);
  }
});

test('an endpoint that drops every connection: a one-line error naming it; once it answers again the same model answers (the next cursor move clears the error)', async () => {
  reset();
  const model = new RemoteCompletionsModel({ url: ep.url, model: 'fake' }, tokenizer);
  ep.drop = true;
  await assert.rejects(model.nextTokenTops([[5, 6]], 20), (e: Error) => {
    assert.ok(e instanceof RemoteEndpointError && e.kind === 'unreachable', String(e));
    assert.equal(e.message, `the endpoint ${ep.url} closed the connection without answering, twice (${/\((\w+)\)$/.exec(e.message)?.[1]})`);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
  assert.equal(ep.received, 2, 'sent once more, not again and again');
  ep.drop = false;
  assert.deepEqual(ids(await model.nextTokenTops([[5, 7]], 20)), expectedAlternatives([7]));
});

test('the cursor moves while a request is in flight: the cancelled request stops, the next one answers for its own prompt', async () => {
  reset();
  ep.delayMs = 80;
  const model = new RemoteCompletionsModel({ url: ep.url, model: 'fake' }, tokenizer);
  for (let round = 0; round < 10; round++) {
    const ac = new AbortController();
    const first = model.nextTokenTops([[5, 100 + round]], 20, ac.signal);
    // Cancelled at a different moment each round: before the server has it or while it waits (up to 45 of its 80 ms).
    await new Promise((r) => setTimeout(r, round * 5));
    ac.abort();
    const next = model.nextTokenTops([[5, 200 + round]], 20);
    await assert.rejects(first, (e: Error) => e.name === 'AbortError', `round ${round}`);
    assert.deepEqual(ids(await next), expectedAlternatives([200 + round]), `round ${round}`);
  }
});
