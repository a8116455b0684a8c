/**
 * A validating reader for the safetensors format (https://github.com/huggingface/safetensors):
 * an 8-byte little-endian header length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__"?: {string: string}}`, then the data section; offsets are relative to the data section.
 * Everything about the header is checked before any tensor is allocated: a lying or truncated file gets a
 * message naming the tensor and the numbers that disagree.
 */
import { convertToFloat32, FLOAT_DTYPE_BYTES, type ByteSource, type FloatDtype } from './bytes';
import { SaeError } from './errors';

/** The safetensors format caps the header at 100 MB; real SAE headers are a few hundred bytes. */
const MAX_HEADER_BYTES = 100_000_000;
/** The most elements one tensor may have here (8 GiB as Float32). */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;
const MAX_RANK = 8;

const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1, F8_E8M0: 1, C64: 8,
};

export interface TensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly elementCount: number;
  /** Absolute byte range in the file. */
  readonly beginByte: number;
  readonly endByte: number;
}

export interface SafetensorsFile {
  readonly name: string;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  /** The tensor converted to Float32 (F32, F16, BF16 and F64 only). */
  readFloat32(name: string): Float32Array;
}

function fail(source: ByteSource, what: string): never {
  throw new SaeError(`${source.name}: ${what}`);
}

export function elementCountOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Reads and validates the header; tensors are read on demand from `source`. */
export function openSafetensors(source: ByteSource): SafetensorsFile {
  const size = source.sizeBytes;
  if (size < 8) fail(source, `is ${size} bytes long, too short to be a safetensors file (truncated?)`);
  const lenBytes = source.read(0, 8);
  const view = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > MAX_HEADER_BYTES) fail(source, `declares a ${headerLength}-byte header (the format allows ${MAX_HEADER_BYTES}): not a safetensors file`);
  if (headerLength > size - 8) fail(source, `declares a ${headerLength}-byte header but the file has only ${size - 8} bytes after the length field (truncated, or not a safetensors file)`);
  const headerBytes = source.read(8, headerLength);
  if (headerBytes[0] !== 0x7b) fail(source, `the header does not start with '{': not a safetensors file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    fail(source, `the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(source, 'the header is not a JSON object');

  const dataStart = 8 + headerLength;
  const dataBytes = size - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(source, '__metadata__ is not an object');
      metadata = Object.fromEntries(Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
      continue;
    }
    if (typeof raw !== 'object' || raw === null) fail(source, `the header entry for ${name} is not an object`);
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof entry.dtype !== 'string' || !(entry.dtype in DTYPE_BYTES)) fail(source, `tensor ${name} has unknown dtype ${JSON.stringify(entry.dtype)}`);
    if (!Array.isArray(entry.shape) || entry.shape.length > MAX_RANK || !entry.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(source, `tensor ${name} has an invalid shape ${JSON.stringify(entry.shape)}`);
    }
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      fail(source, `tensor ${name} has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const shape = entry.shape as number[];
    const [begin, end] = offsets as [number, number];
    const count = elementCountOf(shape);
    const needBytes = count * DTYPE_BYTES[entry.dtype];
    if (end > dataBytes) {
      fail(source, `tensor ${name} ends at byte ${end} of the data section, which has only ${dataBytes} bytes (the file is truncated or its header lies)`);
    }
    if (needBytes !== end - begin) {
      fail(source, `tensor ${name} has shape [${shape.join(', ')}] of ${entry.dtype} (${needBytes} bytes) but its data_offsets span ${end - begin} bytes: the header lies about the offsets`);
    }
    if (count > MAX_TENSOR_ELEMENTS) fail(source, `tensor ${name} has ${count} elements; at most ${MAX_TENSOR_ELEMENTS} are loaded`);
    tensors.set(name, { name, dtype: entry.dtype, shape, elementCount: count, beginByte: dataStart + begin, endByte: dataStart + end });
  }
  // The format requires the data section to be covered exactly: no overlaps, no holes.
  const sorted = [...tensors.values()].sort((a, b) => a.beginByte - b.beginByte || a.endByte - b.endByte);
  let at = dataStart;
  let prev: TensorInfo | undefined;
  for (const t of sorted) {
    if (t.beginByte < at && prev) fail(source, `tensors ${prev.name} and ${t.name} overlap (bytes ${t.beginByte - dataStart}..${Math.min(at, t.endByte) - dataStart} of the data section): the header lies about the offsets`);
    if (t.beginByte > at) fail(source, `bytes ${at - dataStart}..${t.beginByte - dataStart} of the data section belong to no tensor: the header lies about the offsets`);
    at = Math.max(at, t.endByte);
    prev = t;
  }
  if (at < size) fail(source, `the last ${size - at} bytes belong to no tensor: the header lies about the offsets`);

  return {
    name: source.name,
    tensors,
    metadata,
    readFloat32(name) {
      const t = tensors.get(name);
      if (!t) fail(source, `has no tensor ${name} (it has ${[...tensors.keys()].join(', ') || 'none'})`);
      if (!(t.dtype in FLOAT_DTYPE_BYTES)) fail(source, `tensor ${name} is ${t.dtype}; SAE weights must be F32, F16, BF16 or F64`);
      const out = new Float32Array(t.elementCount);
      // Convert in slices so a multi-GB tensor never needs its raw bytes in memory all at once.
      const bytesPer = FLOAT_DTYPE_BYTES[t.dtype as FloatDtype];
      const sliceElements = Math.max(1, Math.floor((64 << 20) / bytesPer));
      for (let i = 0; i < t.elementCount; i += sliceElements) {
        const n = Math.min(sliceElements, t.elementCount - i);
        convertToFloat32(source.read(t.beginByte + i * bytesPer, n * bytesPer), t.dtype as FloatDtype, n, out, i);
      }
      return out;
    },
  };
}
