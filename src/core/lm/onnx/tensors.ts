/** Small pieces the ONNX modules share: float16 bits, float tensors to Float32Array, one request at a time. */
import { ModelError } from './folder';

/** IEEE half-precision bits to a number. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * A float tensor's data as float32. float16 arrives as raw bits (Uint16Array) where the runtime has no
 * Float16Array, or as a Float16Array where it has one (Node 24+).
 */
export function toFloat32(type: string, data: unknown, what: string): Float32Array {
  if (data instanceof Float32Array) return data;
  if (type === 'float16' && data instanceof Uint16Array) return Float32Array.from(data, halfToNumber);
  if (data instanceof Float64Array || type === 'float16') return Float32Array.from(data as ArrayLike<number>);
  throw new ModelError(`${what} is of type ${type}, not a float tensor`);
}

/** Runs async jobs one at a time, in order; after `close()` new jobs fail with "the model was unloaded". */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  run<T>(fn: () => Promise<T>): Promise<T> {
    const job = this.tail.then(() => {
      if (this.closed) throw new ModelError('the model was unloaded');
      return fn();
    });
    this.tail = job.catch(() => undefined);
    return job;
  }

  close(): void {
    this.closed = true;
  }
}
