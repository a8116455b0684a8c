/**
 * Writes small .npz (zip) archives for hostile-input tests: stored or deflated entries, the sizes and CRC the
 * caller gives (so that a test can make an archive whose directory lies), no zip64.
 */
import { crc32 } from '../../src/core/sae/bytes';

export interface ZipEntrySpec {
  readonly name: string;
  /** The bytes as stored in the archive (already deflated for method 8). */
  readonly stored: Uint8Array;
  readonly method: 0 | 8;
  readonly uncompressedSize: number;
  readonly crc: number;
}

/** A .npy header (v1) for float32 data of `shape`, C order. */
export function npyHeader(shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  while ((10 + dict.length + 1) % 64 !== 0) dict += ' ';
  dict += '\n';
  const out = new Uint8Array(10 + dict.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, dict.length & 0xff, dict.length >> 8]);
  out.set(Buffer.from(dict, 'latin1'), 10);
  return out;
}

export function crcOf(chunks: Iterable<Uint8Array>): number {
  let c = 0;
  for (const chunk of chunks) c = crc32(chunk, c);
  return c;
}

export function zipArchive(entries: readonly ZipEntrySpec[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.crc >>> 0, 14);
    local.writeUInt32LE(e.stored.length, 18);
    local.writeUInt32LE(e.uncompressedSize >>> 0, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, Buffer.from(e.stored));
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(e.method, 10);
    cd.writeUInt32LE(e.crc >>> 0, 16);
    cd.writeUInt32LE(e.stored.length, 20);
    cd.writeUInt32LE(e.uncompressedSize >>> 0, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    offset += 30 + name.length + e.stored.length;
  }
  const cdBytes = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cdBytes.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBytes, eocd]);
}
