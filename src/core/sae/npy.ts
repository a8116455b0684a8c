/**
 * NumPy .npy arrays (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): the magic
 * `\x93NUMPY`, a version, a header length, a Python-literal dict `{'descr': '<f4', 'fortran_order': False,
 * 'shape': (12, 32), }` padded with spaces, then the raw data. Floats only (f2, f4, f8, either byte order).
 */
import { convertToFloat32, FLOAT_DTYPE_BYTES, type ByteSource, type FloatDtype } from './bytes';
import { SaeError } from './errors';
import { MAX_TENSOR_ELEMENTS, elementCountOf } from './safetensors';

interface NpyHeader {
  readonly dtype: FloatDtype;
  readonly littleEndian: boolean;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  readonly elementCount: number;
  /** Where the data starts, relative to the start of the .npy bytes. */
  readonly dataOffsetBytes: number;
}

/** An array of float32 values in C (row-major) order. */
export interface NpyArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** The element type stored in the file. */
  readonly storedDtype: FloatDtype;
}

export const MAX_HEADER_BYTES = 65536;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Readonly<Record<string, FloatDtype>> = { f2: 'F16', f4: 'F32', f8: 'F64' };

function parseNpyHeader(source: ByteSource, baseOffsetBytes = 0, sizeBytes = source.sizeBytes - baseOffsetBytes, name = source.name): NpyHeader {
  const bad: (what: string) => never = (what) => {
    throw new SaeError(`${name}: ${what}`);
  };
  if (sizeBytes < 10) bad(`is ${sizeBytes} bytes long, too short to be a .npy array`);
  const pre = source.read(baseOffsetBytes, 10);
  if (!MAGIC.every((b, i) => pre[i] === b)) bad('is not a .npy array (no \\x93NUMPY magic)');
  const major = pre[6];
  if (major < 1 || major > 3) bad(`has .npy format version ${major}.${pre[7]}, which is not known`);
  const lenView = new DataView(pre.buffer, pre.byteOffset);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = lenView.getUint16(8, true);
    headerStart = 10;
  } else {
    if (sizeBytes < 12) bad('is truncated inside its .npy header');
    const b = source.read(baseOffsetBytes + 8, 4);
    headerLen = new DataView(b.buffer, b.byteOffset).getUint32(0, true);
    headerStart = 12;
  }
  // Real headers are well under 1 KB; a huge declared one is not read.
  if (headerLen > MAX_HEADER_BYTES) bad(`declares a ${headerLen}-byte .npy header; at most ${MAX_HEADER_BYTES} are read`);
  if (headerStart + headerLen > sizeBytes) bad(`declares a ${headerLen}-byte .npy header but has only ${sizeBytes - headerStart} bytes after it (truncated?)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(source.read(baseOffsetBytes + headerStart, headerLen));
  const descr = /'descr'\s*:\s*'([<>|=])([a-zA-Z])(\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeMatch) bad(`has a .npy header that is not understood: ${header.trim().slice(0, 200)}`);
  const dtype = DESCR[`${descr[2]}${descr[3]}`];
  if (!dtype) bad(`holds ${descr[1]}${descr[2]}${descr[3]} data; only float16, float32 and float64 arrays are read`);
  const shape = shapeMatch[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => (/^\d+L?$/.test(s) ? parseInt(s, 10) : NaN));
  if (shape.some((d) => !Number.isSafeInteger(d))) bad(`has an invalid .npy shape (${shapeMatch[1]})`);
  const elementCount = elementCountOf(shape);
  if (elementCount > MAX_TENSOR_ELEMENTS) bad(`holds ${elementCount} elements; at most ${MAX_TENSOR_ELEMENTS} are loaded`);
  const dataOffsetBytes = headerStart + headerLen;
  const needBytes = elementCount * FLOAT_DTYPE_BYTES[dtype];
  if (sizeBytes - dataOffsetBytes < needBytes) bad(`has shape (${shape.join(', ')}) of ${descr[2]}${descr[3]} (${needBytes} bytes) but only ${sizeBytes - dataOffsetBytes} bytes of data (truncated?)`);
  return { dtype, littleEndian: descr[1] !== '>', fortranOrder: fortran[1] === 'True', shape, elementCount, dataOffsetBytes };
}

/**
 * The header of a .npy array of `sizeBytes` bytes from its first bytes (`prefix`, at least the header), checking
 * that the data its shape and dtype declare is exactly what the rest holds: an archive entry is checked this way
 * before it is inflated.
 */
export function npyHeaderFromPrefix(prefix: Uint8Array, sizeBytes: number, name: string): { readonly shape: readonly number[]; readonly dataBytes: number } {
  const src: ByteSource = {
    name,
    sizeBytes,
    read(offset, length) {
      if (offset + length > prefix.length) throw new SaeError(`${name}: its .npy header runs past the first ${prefix.length} bytes (corrupt archive)`);
      return prefix.subarray(offset, offset + length);
    },
    close() {},
  };
  const h = parseNpyHeader(src, 0, sizeBytes, name);
  const dataBytes = h.elementCount * FLOAT_DTYPE_BYTES[h.dtype];
  if (h.dataOffsetBytes + dataBytes !== sizeBytes) throw new SaeError(`${name}: declares shape (${h.shape.join(', ')}) (${dataBytes} bytes of data) but the archive entry holds ${sizeBytes - h.dataOffsetBytes} (corrupt archive)`);
  return { shape: h.shape, dataBytes };
}

/** Reads a .npy array (at `baseOffsetBytes` within the source) into row-major Float32. */
export function readNpy(source: ByteSource, baseOffsetBytes = 0, sizeBytes = source.sizeBytes - baseOffsetBytes, name = source.name): NpyArray {
  const h = parseNpyHeader(source, baseOffsetBytes, sizeBytes, name);
  const data = new Float32Array(h.elementCount);
  const bytesPer = FLOAT_DTYPE_BYTES[h.dtype];
  const sliceElements = Math.max(1, Math.floor((64 << 20) / bytesPer));
  for (let i = 0; i < h.elementCount; i += sliceElements) {
    const n = Math.min(sliceElements, h.elementCount - i);
    convertToFloat32(source.read(baseOffsetBytes + h.dataOffsetBytes + i * bytesPer, n * bytesPer), h.dtype, n, data, i, h.littleEndian);
  }
  return { shape: h.shape, data: h.fortranOrder && h.shape.length > 1 ? fortranToC(data, h.shape) : data, storedDtype: h.dtype };
}

/** Column-major (Fortran) to row-major. */
function fortranToC(data: Float32Array, shape: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  // Walk the Fortran order (first index fastest) and write each element at its C position.
  const cStrides = new Array<number>(rank);
  cStrides[rank - 1] = 1;
  for (let r = rank - 2; r >= 0; r--) cStrides[r] = cStrides[r + 1] * shape[r + 1];
  for (let i = 0; i < data.length; i++) {
    let c = 0;
    for (let r = 0; r < rank; r++) c += idx[r] * cStrides[r];
    out[c] = data[i];
    for (let r = 0; r < rank; r++) {
      if (++idx[r] < shape[r]) break;
      idx[r] = 0;
    }
  }
  return out;
}

/** Writes a row-major float32 .npy file's bytes (for exports and tests). */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  if (elementCountOf(shape) !== data.length) throw new SaeError(`encodeNpy: shape (${shape.join(', ')}) does not hold ${data.length} elements`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) body.setFloat32(4 * i, data[i], true);
  return out;
}
