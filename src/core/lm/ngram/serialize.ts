/**
 * The n-gram model's binary form: an 8-byte magic (`TINGRAM\x01`), the header's length (uint32 LE), a JSON
 * header (order, vocabulary size, discounts, array lengths, document keys, pruning figures, meta), padding to
 * 4 bytes, then the uint32 tables little-endian in a fixed order.
 */
import type { NgramTables } from './tables';

const MAGIC = new TextEncoder().encode('TINGRAM\u0001');
const SERIAL_FORMAT = 1;
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

interface Header {
  format: number;
  order: number;
  vocabSize: number;
  discounts: number[];
  lengths: number[];
  docKeys: string[];
  prunedPerOrder: number[];
  refusedDocuments: number;
  meta: Record<string, string | number>;
}

export function serializeTables(t: NgramTables): Uint8Array {
  const arrays = [t.levelStart, t.sym, t.raw, t.cont, t.firstChild, t.denom, t.followers, t.docOffsets, t.docIds];
  const header = {
    format: SERIAL_FORMAT,
    order: t.order,
    vocabSize: t.vocabSize,
    discounts: Array.from(t.discounts),
    lengths: arrays.map((a) => a.length),
    docKeys: t.docKeys,
    prunedPerOrder: t.prunedPerOrder,
    refusedDocuments: t.refusedDocuments,
    meta: t.meta,
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const headerPadded = Math.ceil((12 + headerBytes.length) / 4) * 4;
  let total = headerPadded;
  for (const a of arrays) total += a.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  let offset = headerPadded;
  for (const a of arrays) {
    // Little-endian on every platform Node runs on; written byte-wise through a view to be sure.
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    if (LITTLE_ENDIAN) out.set(bytes, offset);
    else for (let i = 0; i < a.length; i++) view.setUint32(offset + 4 * i, a[i], true);
    offset += a.byteLength;
  }
  return out;
}

export function deserializeTables(bytes: Uint8Array): NgramTables {
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw new Error('not a Token Inspector n-gram model');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as Header;
  if (header.format !== SERIAL_FORMAT) throw new Error(`n-gram model format ${header.format} is not ${SERIAL_FORMAT}`);
  let offset = Math.ceil((12 + headerLength) / 4) * 4;
  const read = (n: number): Uint32Array => {
    if (offset + 4 * n > bytes.length) throw new Error('n-gram model file is truncated');
    let a: Uint32Array;
    if (LITTLE_ENDIAN) a = new Uint32Array(bytes.slice(offset, offset + 4 * n).buffer);
    else {
      a = new Uint32Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getUint32(offset + 4 * i, true);
    }
    offset += 4 * n;
    return a;
  };
  const [levelStart, sym, raw, cont, firstChild, denom, followers, docOffsets, docIds] = header.lengths.map(read);
  return {
    order: header.order,
    vocabSize: header.vocabSize,
    discounts: Float64Array.from(header.discounts),
    levelStart,
    sym,
    raw,
    cont,
    firstChild,
    denom,
    followers,
    docKeys: header.docKeys,
    docOffsets,
    docIds,
    prunedPerOrder: header.prunedPerOrder,
    refusedDocuments: header.refusedDocuments,
    meta: header.meta,
  };
}
