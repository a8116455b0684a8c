/**
 * Letting other work run during long computations in the worker or the CLI: a cancel message, progress, the
 * next request. One implementation for the core.
 */

/** Lets queued messages (a cancel) in between long computations. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));
}

let lastBreath = 0;

/**
 * Throws the signal's reason when aborted; otherwise yields to the event loop if it has not done so for 25 ms
 * (callers call it often, per file or per chunk, and pay for a yield only now and then).
 */
export async function breathe(signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const now = Date.now();
  if (now - lastBreath < 25) return;
  lastBreath = now;
  await yieldToEventLoop();
  signal?.throwIfAborted();
}
