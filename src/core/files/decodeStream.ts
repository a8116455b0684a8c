/**
 * The decoded text of a file read as a stream of byte chunks, by the same rules as decodeFileBytes (VS Code's):
 * the encoding by BOM (UTF-8, UTF-8 with BOM, UTF-16 LE/BE; binary by a NUL byte in the first 512 bytes),
 * invalid UTF-8 as U+FFFD, then line endings unified to the dominant one. For files too large to hold whole.
 */
import { breathe } from '../eventLoop';
import { BinaryFileError, LineBreakCounts, unifyLineBreaks, type DecodedText } from '../text/readFile';

type Encoding = DecodedText['encoding'];

/**
 * The decoded text of a byte stream in pieces. Two passes (`source` is called twice): the first counts the
 * line endings to choose the dominant one, as VS Code does. Memory stays at a few pieces. Throws
 * BinaryFileError for a binary file, and the signal's reason when aborted.
 */
export async function* decodedTextPieces(source: () => AsyncIterable<Uint8Array>, path: string, signal?: AbortSignal): AsyncGenerator<string> {
  const it1 = source()[Symbol.asyncIterator]();
  const h = await readHead(it1, 512);
  let encoding: Encoding;
  try {
    encoding = sniffEncoding(h.head, path);
  } catch (e) {
    await it1.return?.();
    throw e;
  }
  // decodePieces never ends a piece between the CR and LF of a CRLF.
  const breaks = new LineBreakCounts();
  for await (const s of decodePieces(replay(h.consumed, it1, h.done), encoding)) {
    await breathe(signal);
    breaks.add(s);
  }
  const { eol, mixed } = breaks;
  for await (const s of decodePieces(source(), encoding)) {
    await breathe(signal);
    yield mixed ? unifyLineBreaks(s, eol) : s;
  }
}

function sniffEncoding(head: Uint8Array, path: string): Encoding {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf8bom';
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return 'utf16le';
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return 'utf16be';
  if (head.subarray(0, 512).includes(0)) throw new BinaryFileError(path);
  return 'utf8';
}

/** Decoded text pieces of a byte stream; a trailing `\r` is held back so that `\r\n` is never split. */
async function* decodePieces(chunks: AsyncIterable<Uint8Array>, encoding: Encoding): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding === 'utf16le' ? 'utf-16le' : encoding === 'utf16be' ? 'utf-16be' : 'utf-8');
  let carry = '';
  for await (const chunk of chunks) {
    let s = carry + decoder.decode(chunk, { stream: true });
    carry = '';
    if (s.endsWith('\r')) {
      carry = '\r';
      s = s.slice(0, -1);
    }
    if (s) yield s;
  }
  const last = carry + decoder.decode();
  if (last) yield last;
}

/** Reads a head of at least `n` bytes from a chunk stream, giving back the chunks read. */
async function readHead(chunks: AsyncIterator<Uint8Array>, n: number): Promise<{ head: Uint8Array; consumed: Uint8Array[]; done: boolean }> {
  const consumed: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const r = await chunks.next();
    if (r.done) {
      done = true;
      break;
    }
    consumed.push(r.value);
    size += r.value.length;
  }
  const head = new Uint8Array(size);
  let o = 0;
  for (const c of consumed) {
    head.set(c, o);
    o += c.length;
  }
  return { head, consumed, done };
}

/** The chunks already read, then the rest of the stream; closes the stream when stopped early (an abort). */
async function* replay(first: readonly Uint8Array[], rest: AsyncIterator<Uint8Array>, done: boolean): AsyncGenerator<Uint8Array> {
  try {
    yield* first;
    if (done) return;
    for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
  } finally {
    await rest.return?.();
  }
}
