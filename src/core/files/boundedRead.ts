/**
 * Reading a file that a workspace, a setting or a command line named: only a regular file, and never more than
 * the cap for its kind. `/dev/zero`, `/dev/urandom` or a FIFO given as a tokenizer, a labels file or a document
 * would otherwise grow without end or block forever; a file that grows while it is read stops at the cap.
 *
 * The file is opened non-blocking, so opening a FIFO returns at once and `fstat` says what it is; the size is
 * checked on the open descriptor (no window between the check and the read): openChecked, which the synchronous
 * readers share.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/** What a file is read as: each kind has its own cap. */
export type ReadKind = 'tokenizer' | 'labels' | 'config' | 'document';

/** The caps in bytes. A tokenizer.json is tens of MB, a Neuronpedia labels export for a 131k-feature SAE ~60 MB. */
export const READ_CAPS: { readonly [K in ReadKind]: { readonly bytes: number; readonly what: string } } = {
  tokenizer: { bytes: 512 * 2 ** 20, what: 'a tokenizer file' },
  labels: { bytes: 512 * 2 ** 20, what: 'a labels file' },
  config: { bytes: 16 * 2 ** 20, what: 'a configuration file' },
  document: { bytes: 1024 * 2 ** 20, what: 'a document read whole' },
};

/** A refused read: the message names the file and says why (the cap, or what the path is instead of a file). */
export class BoundedReadError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly reason: 'missing' | 'not-file' | 'too-large' | 'unreadable',
  ) {
    super(message);
    this.name = 'BoundedReadError';
  }
}

export interface BoundedReadOptions {
  /** The error to throw instead of BoundedReadError (a loader's own error class), given the one-line message. */
  readonly error?: (message: string, reason: BoundedReadError['reason']) => Error;
  /** A smaller cap than the kind's (bytes). */
  readonly maxBytes?: number;
}

// Windows has no O_NONBLOCK (and no FIFOs in the file system): plain read-only there.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export function formatBytes(n: number): string {
  if (n >= 2 ** 30 && n % 2 ** 30 === 0) return `${n / 2 ** 30} GB`;
  if (n >= 2 ** 20) return `${Math.round(n / 2 ** 20)} MB`;
  if (n >= 2 ** 10) return `${Math.round(n / 2 ** 10)} KB`;
  return `${n} bytes`;
}

function whatItIs(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function fail(options: BoundedReadOptions, message: string, path: string, reason: BoundedReadError['reason']): never {
  throw options.error ? options.error(message, reason) : new BoundedReadError(message, path, reason);
}

function capOf(kind: ReadKind, options: BoundedReadOptions): number {
  return Math.min(READ_CAPS[kind].bytes, options.maxBytes ?? Infinity);
}

/** The one-line message for a file over its cap. */
export function tooLargeMessage(path: string, size: number, kind: ReadKind, cap = READ_CAPS[kind].bytes): string {
  return `${path} is ${size >= cap ? formatBytes(size) : `over ${formatBytes(cap)}`}, too large to be ${READ_CAPS[kind].what} (the limit is ${formatBytes(cap)})`;
}

function checkStats(path: string, st: Stats, kind: ReadKind, options: BoundedReadOptions): void {
  if (!st.isFile()) fail(options, `${path} is ${whatItIs(st)}, not a regular file: give ${READ_CAPS[kind].what}`, path, 'not-file');
  const cap = capOf(kind, options);
  if (st.size > cap) fail(options, tooLargeMessage(path, st.size, kind, cap), path, 'too-large');
}

function openError(path: string, e: unknown, options: BoundedReadOptions): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') fail(options, `${path} does not exist`, path, 'missing');
  if (code === 'EISDIR') fail(options, `${path} is a folder, not a regular file`, path, 'not-file');
  fail(options, `${path} cannot be read (${code ?? String(e)})`, path, 'unreadable');
}

/**
 * Opens `path` for reading (non-blocking, so a FIFO answers at once) and checks on the open descriptor that it is
 * a regular file within the kind's cap: no window between the check and the read. The caller closes `fd`; on any
 * refusal it is already closed and the error is the one-line message.
 */
export function openChecked(path: string, kind: ReadKind, options: BoundedReadOptions = {}): { readonly fd: number; readonly size: number } {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    openError(path, e, options);
  }
  try {
    const st = fstatSync(fd);
    checkStats(path, st, kind, options);
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    if (e instanceof Error && 'syscall' in e) openError(path, e, options);
    throw e;
  }
}

/** Checks that `path` is a regular file within the kind's cap, without reading it; returns its size. */
export function checkReadableFile(path: string, kind: ReadKind, options: BoundedReadOptions = {}): number {
  const { fd, size } = openChecked(path, kind, options);
  closeSync(fd);
  return size;
}

/** Reads a regular file whole, refusing anything else and anything over the kind's cap. */
export function readBoundedSync(path: string, kind: ReadKind, options: BoundedReadOptions = {}): Buffer {
  const { fd, size } = openChecked(path, kind, options);
  try {
    const cap = capOf(kind, options);
    // One byte more than the stated size, to see a file that grew since fstat; never more than the cap.
    let buf = Buffer.allocUnsafe(Math.min(size + 1, cap + 1));
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (got > cap) fail(options, tooLargeMessage(path, got, kind, cap), path, 'too-large');
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, cap + 1));
        buf.copy(bigger, 0, 0, got);
        buf = bigger;
      }
      const n = readSync(fd, buf, got, Math.min(buf.length - got, 1 << 30), got);
      if (n === 0) break;
      got += n;
    }
    if (got > cap) fail(options, tooLargeMessage(path, got, kind, cap), path, 'too-large');
    return buf.subarray(0, got);
  } catch (e) {
    // An I/O error while reading (EIO, EACCES on a network share): one line naming the file.
    if (e instanceof Error && 'syscall' in e) openError(path, e, options);
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** The same as readBoundedSync, UTF-8 decoded, without a byte order mark. */
export function readBoundedTextSync(path: string, kind: ReadKind, options: BoundedReadOptions = {}): string {
  const text = readBoundedSync(path, kind, options).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Reads a regular file whole without blocking the event loop, with the same checks. */
export async function readBounded(path: string, kind: ReadKind, options: BoundedReadOptions = {}): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (e) {
    openError(path, e, options);
  }
  try {
    const st = await handle.stat();
    checkStats(path, st, kind, options);
    const cap = capOf(kind, options);
    const chunks: Buffer[] = [];
    let got = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(st.size - got + 1, 1 << 16), 1 << 24, cap + 1 - got));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, got);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      got += bytesRead;
      if (got > cap) fail(options, tooLargeMessage(path, got, kind, cap), path, 'too-large');
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, got);
  } catch (e) {
    if (e instanceof Error && 'syscall' in e) openError(path, e, options);
    throw e;
  } finally {
    await handle.close();
  }
}
