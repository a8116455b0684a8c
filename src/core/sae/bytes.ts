/**
 * Random access to the bytes of a weights file without reading all of it at once (SAE files run to
 * gigabytes), and the float conversions the formats need: F32, F16, BF16 and F64, little- or big-endian.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { SaeError } from './errors';

export interface ByteSource {
  /** What to call the source in messages (a path). */
  readonly name: string;
  readonly sizeBytes: number;
  /** Exactly `lengthBytes` bytes from `offsetBytes`; a SaeError when the source is shorter. */
  read(offsetBytes: number, lengthBytes: number): Uint8Array;
  close(): void;
}

export function memorySource(bytes: Uint8Array, name: string): ByteSource {
  return {
    name,
    sizeBytes: bytes.length,
    read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bytes.length) throw new SaeError(`${name}: needs bytes ${offset}..${offset + length} but holds only ${bytes.length} (truncated?)`);
      return bytes.subarray(offset, offset + length);
    },
    close() {},
  };
}

/** Reads with positioned reads; `close()` releases the descriptor. */
export function fileSource(path: string): ByteSource {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new SaeError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const sizeBytes = fstatSync(fd).size;
  let open = true;
  return {
    name: path,
    sizeBytes,
    read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > sizeBytes) throw new SaeError(`${path}: needs bytes ${offset}..${offset + length} but the file has only ${sizeBytes} (truncated?)`);
      const out = new Uint8Array(length);
      let done = 0;
      // readSync reads at most 2 GiB per call.
      while (done < length) {
        const n = readSync(fd, out, done, Math.min(length - done, 1 << 30), offset + done);
        if (n <= 0) throw new SaeError(`${path}: the file ended at byte ${offset + done} while ${length - done} more bytes were expected`);
        done += n;
      }
      return out;
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Floating-point element types the loaders convert to Float32. */
export type FloatDtype = 'F64' | 'F32' | 'F16' | 'BF16';

export const FLOAT_DTYPE_BYTES: Readonly<Record<FloatDtype, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

const F16_TABLE = buildHalfTable();

function buildHalfTable(): Float32Array {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
}

/**
 * Converts `count` elements of `dtype` stored at `bytes` into `out[outOffset ...]`.
 * `littleEndian` false for big-endian .npy data ('>f4').
 */
export function convertToFloat32(bytes: Uint8Array, dtype: FloatDtype, count: number, out: Float32Array, outOffset = 0, littleEndian = true): void {
  const need = count * FLOAT_DTYPE_BYTES[dtype];
  if (bytes.length < need) throw new SaeError(`internal: ${need} bytes of ${dtype} expected, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, need);
  switch (dtype) {
    case 'F32':
      if (littleEndian && bytes.byteOffset % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, count), outOffset);
      else for (let i = 0; i < count; i++) out[outOffset + i] = view.getFloat32(4 * i, littleEndian);
      return;
    case 'F64':
      for (let i = 0; i < count; i++) out[outOffset + i] = view.getFloat64(8 * i, littleEndian);
      return;
    case 'F16':
      for (let i = 0; i < count; i++) out[outOffset + i] = F16_TABLE[view.getUint16(2 * i, littleEndian)];
      return;
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const u32 = new Uint32Array(1);
      const f32 = new Float32Array(u32.buffer);
      for (let i = 0; i < count; i++) {
        u32[0] = view.getUint16(2 * i, littleEndian) << 16;
        out[outOffset + i] = f32[0];
      }
      return;
    }
  }
}

/** CRC-32 (zip's) of `bytes`, continuing from `previous` (the CRC of the bytes before them). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const native = nativeCrc32();
  if (native) return native(bytes, previous) >>> 0;
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

type Crc32Fn = (data: Uint8Array, value?: number) => number;

function nativeCrc32(): Crc32Fn | undefined {
  // zlib.crc32 arrived in Node 20.15 / 22.2; older runtimes (some Electron builds) use the table.
  return (zlib as unknown as { crc32?: Crc32Fn }).crc32;
}
