/**
 * Just enough of the zip format to read NumPy's .npz archives: the end-of-central-directory record (and its
 * zip64 form, which `np.savez` writes for large arrays), the central directory, and stored or deflated
 * entries (node:zlib's raw inflate), with the CRC checked.
 */
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { crc32, memorySource, type ByteSource } from './bytes';
import { SaeError } from './errors';

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSizeBytes: number;
  readonly uncompressedSizeBytes: number;
  readonly localHeaderOffsetBytes: number;
  readonly flags: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const MAX_COMMENT_BYTES = 65535;
/** Refuse to inflate entries larger than this (a zip bomb or a broken size field). */
export const MAX_ENTRY_BYTES = 8 * 2 ** 30;
/**
 * Deflated entries over RATIO_FREE_BYTES may not inflate to more than MAX_INFLATE_RATIO times their compressed
 * size: float weights compress by 1.1 to 3×, an array of zeros by ~1000× (the 3 MB archive that inflates to 3 GB).
 */
export const MAX_INFLATE_RATIO = 100;
const RATIO_FREE_BYTES = 16 * 2 ** 20;
/** Compressed bytes inflated to read an entry's first bytes (its .npy header): at most ~1032× as much output. */
const PEEK_COMPRESSED_BYTES = 4096;

function u16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}
function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}
function u64(b: Uint8Array, at: number): number {
  return u32(b, at) + u32(b, at + 4) * 2 ** 32;
}

function notZip(source: ByteSource, why: string): never {
  throw new SaeError(`${source.name} is not a zip archive (${why}); an .npz file is a zip of .npy arrays`);
}

export type { ZipEntry };

export function readZipDirectory(source: ByteSource): ZipEntry[] {
  const size = source.sizeBytes;
  if (size < 22) notZip(source, `${size} bytes is too short`);
  const tailLen = Math.min(size, 22 + MAX_COMMENT_BYTES);
  const tail = source.read(size - tailLen, tailLen);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (u32(tail, i) === EOCD_SIG && i + 22 + u16(tail, i + 20) <= tailLen) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    const head = source.read(0, 4);
    if (u32(head, 0) === LOCAL_SIG) throw new SaeError(`${source.name} is a truncated zip archive (its end-of-central-directory record is missing)`);
    notZip(source, 'no end-of-central-directory record');
  }
  let count = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdOffset = u32(tail, eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locAt = eocd - 20;
    if (locAt < 0 || u32(tail, locAt) !== ZIP64_LOCATOR_SIG) notZip(source, 'a zip64 archive without its zip64 locator');
    const z64Offset = u64(tail, locAt + 8);
    if (z64Offset + 56 > size) throw new SaeError(`${source.name}: the zip64 directory record lies past the end of the file (truncated?)`);
    const z = source.read(z64Offset, 56);
    if (u32(z, 0) !== ZIP64_EOCD_SIG) throw new SaeError(`${source.name}: the zip64 directory record is missing (corrupt archive)`);
    count = u64(z, 32);
    cdSize = u64(z, 40);
    cdOffset = u64(z, 48);
  }
  if (cdOffset + cdSize > size) throw new SaeError(`${source.name}: the zip directory lies past the end of the file (truncated?)`);
  const cd = source.read(cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || u32(cd, p) !== CENTRAL_SIG) throw new SaeError(`${source.name}: zip directory entry ${i} is corrupt`);
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const crc = u32(cd, p + 16);
    let compressed = u32(cd, p + 20);
    let uncompressed = u32(cd, p + 24);
    const nameLen = u16(cd, p + 28);
    const extraLen = u16(cd, p + 30);
    const commentLen = u16(cd, p + 32);
    let localOffset = u32(cd, p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new SaeError(`${source.name}: zip directory entry ${i} is corrupt`);
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
    // Zip64 extra field: the 64-bit values, present only for the fields set to 0xffffffff, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = u16(cd, e);
      const len = u16(cd, e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (uncompressed === 0xffffffff) {
          uncompressed = u64(cd, q);
          q += 8;
        }
        if (compressed === 0xffffffff) {
          compressed = u64(cd, q);
          q += 8;
        }
        if (localOffset === 0xffffffff) localOffset = u64(cd, q);
      }
      e += 4 + len;
    }
    entries.push({ name, method, crc32: crc, compressedSizeBytes: compressed, uncompressedSizeBytes: uncompressed, localHeaderOffsetBytes: localOffset, flags });
    p = extraEnd + commentLen;
  }
  return entries;
}

/** Where an entry's data starts in the archive. */
function entryDataOffset(source: ByteSource, entry: ZipEntry): number {
  if (entry.localHeaderOffsetBytes + 30 > source.sizeBytes) throw new SaeError(`${source.name}: entry ${entry.name} lies past the end of the file (truncated?)`);
  const h = source.read(entry.localHeaderOffsetBytes, 30);
  if (u32(h, 0) !== LOCAL_SIG) throw new SaeError(`${source.name}: entry ${entry.name} has no local header where the directory says (corrupt archive)`);
  const start = entry.localHeaderOffsetBytes + 30 + u16(h, 26) + u16(h, 28);
  if (start + entry.compressedSizeBytes > source.sizeBytes) throw new SaeError(`${source.name}: entry ${entry.name} runs past the end of the file (truncated?)`);
  return start;
}

function checkEntrySize(label: string, entry: ZipEntry): void {
  if (entry.uncompressedSizeBytes > MAX_ENTRY_BYTES) throw new SaeError(`${label} would inflate to ${entry.uncompressedSizeBytes} bytes; at most ${MAX_ENTRY_BYTES} are read`);
  const ratio = entry.uncompressedSizeBytes / Math.max(1, entry.compressedSizeBytes);
  if (entry.method === 8 && entry.uncompressedSizeBytes > RATIO_FREE_BYTES && ratio > MAX_INFLATE_RATIO) {
    throw new SaeError(`${label} would inflate ${entry.compressedSizeBytes} bytes to ${entry.uncompressedSizeBytes} (${Math.round(ratio)}×, over the ${MAX_INFLATE_RATIO}× limit): refused as a zip bomb`);
  }
}

/**
 * The first `bytes` bytes of an entry (fewer if it is shorter) without inflating the rest: what is needed to
 * check an array's declared shape against the entry's size before inflating it.
 */
export function peekZipEntry(source: ByteSource, entry: ZipEntry, bytes: number): Uint8Array {
  const label = `${source.name}!${entry.name}`;
  if (entry.flags & 1) throw new SaeError(`${label} is encrypted`);
  checkEntrySize(label, entry);
  const start = entryDataOffset(source, entry);
  const want = Math.min(bytes, entry.uncompressedSizeBytes);
  if (entry.method === 0) return source.read(start, want);
  if (entry.method !== 8) throw new SaeError(`${label} uses zip compression method ${entry.method}; only stored and deflated entries are read`);
  const prefix = source.read(start, Math.min(entry.compressedSizeBytes, PEEK_COMPRESSED_BYTES));
  let out: Uint8Array;
  try {
    // A prefix of the stream: flushed rather than finished, so that inflate returns what it has.
    out = inflateRawSync(prefix, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: PEEK_COMPRESSED_BYTES * 1100 });
  } catch (e) {
    throw new SaeError(`${label}: cannot inflate (${(e as Error).message}); the archive is corrupt`);
  }
  return out.subarray(0, want);
}

/**
 * The entry's bytes as a ByteSource: stored entries are read in place (no copy of a multi-GB array);
 * deflated ones are inflated into memory. The CRC is checked either way.
 */
export function openZipEntry(source: ByteSource, entry: ZipEntry): ByteSource {
  const label = `${source.name}!${entry.name}`;
  if (entry.flags & 1) throw new SaeError(`${label} is encrypted`);
  checkEntrySize(label, entry);
  const start = entryDataOffset(source, entry);
  if (entry.method === 0) {
    if (entry.compressedSizeBytes !== entry.uncompressedSizeBytes) throw new SaeError(`${label}: stored entry with differing sizes (corrupt archive)`);
    const sliceBytes = 64 << 20;
    let crc = 0;
    for (let i = 0; i < entry.compressedSizeBytes; i += sliceBytes) crc = crc32(source.read(start + i, Math.min(sliceBytes, entry.compressedSizeBytes - i)), crc);
    if (crc !== entry.crc32) throw new SaeError(`${label}: CRC mismatch (the archive is corrupt)`);
    return {
      name: label,
      sizeBytes: entry.uncompressedSizeBytes,
      read(offset, length) {
        if (offset < 0 || offset + length > entry.uncompressedSizeBytes) throw new SaeError(`${label}: needs bytes ${offset}..${offset + length} but holds only ${entry.uncompressedSizeBytes}`);
        return source.read(start + offset, length);
      },
      close() {},
    };
  }
  if (entry.method !== 8) throw new SaeError(`${label} uses zip compression method ${entry.method}; only stored and deflated entries are read`);
  let data: Uint8Array;
  try {
    data = inflateRawSync(source.read(start, entry.compressedSizeBytes), { maxOutputLength: Math.max(1, entry.uncompressedSizeBytes) });
  } catch (e) {
    throw new SaeError(`${label}: cannot inflate (${(e as Error).message}); the archive is corrupt`);
  }
  if (data.length !== entry.uncompressedSizeBytes) throw new SaeError(`${label}: inflated to ${data.length} bytes, the directory says ${entry.uncompressedSizeBytes} (corrupt archive)`);
  if (crc32(data) !== entry.crc32) throw new SaeError(`${label}: CRC mismatch (the archive is corrupt)`);
  return memorySource(data, label);
}
