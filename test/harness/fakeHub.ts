/**
 * A local HTTP server laid out like the Hugging Face hub, for download tests: `/api/models/{repo}/revision/{rev}`
 * (the file listing), `/{repo}/resolve/{rev}/{file}` (regular files with their git-sha1 ETag; LFS files
 * redirect to `/cdn/{sha256}` with `X-Linked-Etag`/`X-Linked-Size`), each answer carrying `X-Repo-Commit`.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const HUB_COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** What the fake hub does; tests switch it. */
export interface HubBehaviour {
  /** Flip a byte in the middle of every CDN (LFS) answer. */
  corrupt: boolean;
  /** Bytes per write and delay between writes of the CDN answer (0: all at once). */
  throttleBytes: number;
  throttleMs: number;
  /** Never answer the CDN request (accept and hang). */
  hangCdn: boolean;
  /** No listing API (a plain mirror). */
  noApi: boolean;
  /** Overrides X-Repo-Commit. */
  commit: string;
  /** Extra names in every listing. */
  extraListing: string[];
}

export interface FakeHub {
  readonly url: string;
  /** `METHOD /path` of every request, in order. */
  readonly requests: string[];
  readonly behaviour: HubBehaviour;
  readonly server: Server;
  /** Back to the defaults, requests forgotten. */
  reset(): void;
  close(): Promise<void>;
}

export const hubDefaults = (): HubBehaviour => ({ corrupt: false, throttleBytes: 0, throttleMs: 0, hangCdn: false, noApi: false, commit: HUB_COMMIT, extraListing: [] });

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
/** Files the hub stores with Git LFS (by extension). */
export const isLfsFile = (f: string): boolean => /\.(onnx|onnx_data|safetensors|npz|bin)$/.test(f);

/** Serves `repos` (repo id → file name → contents) on a free local port. */
export async function startFakeHub(repos: ReadonlyMap<string, ReadonlyMap<string, Buffer>>): Promise<FakeHub> {
  const requests: string[] = [];
  const behaviour = hubDefaults();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const api = /^\/api\/models\/(.+?\/.+?)\/revision\/main$/.exec(url.pathname);
    if (api && repos.has(api[1])) {
      if (behaviour.noApi) return void res.writeHead(404).end('{"error":"not found"}');
      res.writeHead(200, { 'content-type': 'application/json' });
      const files = [...(repos.get(api[1]) ?? new Map<string, Buffer>()).keys(), ...behaviour.extraListing];
      return void res.end(JSON.stringify({ id: api[1], sha: behaviour.commit, siblings: files.map((rfilename) => ({ rfilename })) }));
    }
    const m = /^\/(.+?\/.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      const [, repo, , file] = m;
      const body = repos.get(repo)?.get(decodeURIComponent(file));
      if (!body) return void res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end('Entry not found');
      if (isLfsFile(file)) {
        const sha = sha256(body);
        res.writeHead(302, { location: `/cdn/${sha}`, 'x-linked-etag': `"${sha}"`, 'x-linked-size': String(body.length), etag: `"${gitSha1(Buffer.from('pointer'))}"`, 'x-repo-commit': behaviour.commit });
        return void res.end();
      }
      res.writeHead(200, { etag: `"${gitSha1(body)}"`, 'content-length': String(body.length), 'x-repo-commit': behaviour.commit, 'content-type': 'application/octet-stream' });
      return void res.end(req.method === 'HEAD' ? undefined : body);
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) {
      const body = [...repos.values()].flatMap((files) => [...files.values()]).find((b) => sha256(b) === cdn[1]);
      if (!body) return void res.writeHead(404).end();
      if (behaviour.hangCdn) return; // accept, never answer
      const out = Buffer.from(body);
      if (behaviour.corrupt) out[out.length >> 1] ^= 0xff;
      res.writeHead(200, { 'content-length': String(out.length), 'content-type': 'application/octet-stream' });
      if (!behaviour.throttleBytes) return void res.end(out);
      let off = 0;
      const tick = () => {
        if (res.destroyed) return;
        if (off >= out.length) return void res.end();
        res.write(out.subarray(off, off + behaviour.throttleBytes));
        off += behaviour.throttleBytes;
        setTimeout(tick, behaviour.throttleMs);
      };
      return void tick();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    behaviour,
    server,
    reset() {
      Object.assign(behaviour, hubDefaults());
      requests.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Every regular file under a folder (links not followed). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}
