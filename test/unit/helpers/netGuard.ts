/**
 * Records every network attempt of this thread: TCP and TLS connections (net.Socket.prototype.connect,
 * net.connect / createConnection, tls.connect), UDP sockets (dgram), DNS lookups and fetch. Attempts go
 * through (a test that allows a local server needs them); the caller asserts on what was recorded. Local
 * IPC sockets (a path, not a host) are recorded with kind 'ipc' so that a test can tell them apart.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';

export interface NetAttempt {
  readonly api: string;
  readonly kind: 'network' | 'ipc';
  /** host:port, a URL, a hostname being resolved, or the IPC path. */
  readonly target: string;
}

type Mutable = Record<string, unknown>;

function describeConnect(args: unknown[]): { kind: NetAttempt['kind']; target: string } {
  const [a, b] = args;
  if (Array.isArray(a)) return describeConnect(a); // the internal normalized form [options, callback]
  if (typeof a === 'object' && a !== null) {
    const o = a as { host?: unknown; port?: unknown; path?: unknown };
    if (typeof o.path === 'string') return { kind: 'ipc', target: o.path };
    return { kind: 'network', target: `${typeof o.host === 'string' ? o.host : 'localhost'}:${String(o.port)}` };
  }
  if (typeof a === 'string' && !/^\d+$/.test(a)) return { kind: 'ipc', target: a };
  return { kind: 'network', target: `${typeof b === 'string' ? b : 'localhost'}:${String(a)}` };
}

/** Starts recording; returns the function that restores every patched API. */
export function recordNetwork(onAttempt: (a: NetAttempt) => void): () => void {
  const restores: (() => void)[] = [];
  const patch = (owner: object, name: string, describe: (args: unknown[]) => { kind: NetAttempt['kind']; target: string }, api: string): void => {
    const o = owner as Mutable;
    const original = o[name];
    if (typeof original !== 'function') return;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      try {
        onAttempt({ api, ...describe(args) });
      } catch {
        // recording must never change behaviour
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
    o[name] = wrapped;
    restores.push(() => {
      o[name] = original;
    });
  };
  patch(net.Socket.prototype, 'connect', describeConnect, 'net.Socket#connect');
  patch(net, 'connect', describeConnect, 'net.connect');
  patch(net, 'createConnection', describeConnect, 'net.createConnection');
  patch(tls, 'connect', describeConnect, 'tls.connect');
  patch(dgram, 'createSocket', (args) => ({ kind: 'network', target: String(typeof args[0] === 'object' && args[0] !== null ? (args[0] as { type?: unknown }).type : args[0]) }), 'dgram.createSocket');
  const host = (args: unknown[]) => ({ kind: 'network' as const, target: String(args[0]) });
  for (const name of ['lookup', 'lookupService', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveTxt', 'resolveSrv']) {
    patch(dns, name, host, `dns.${name}`);
    patch(dns.promises, name, host, `dns.promises.${name}`);
  }
  patch(globalThis, 'fetch', (args) => ({ kind: 'network', target: args[0] instanceof Request ? args[0].url : String(args[0]) }), 'fetch');
  return () => {
    for (const r of restores.reverse()) r();
  };
}
