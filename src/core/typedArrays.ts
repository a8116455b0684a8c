/**
 * Growing typed arrays (token streams, count tables, span lists): one implementation for the core, so every
 * growable buffer copies the same way.
 */
type GrowableArray =
  | Int8Array<ArrayBuffer>
  | Uint8Array<ArrayBuffer>
  | Int16Array<ArrayBuffer>
  | Uint16Array<ArrayBuffer>
  | Int32Array<ArrayBuffer>
  | Uint32Array<ArrayBuffer>
  | Float32Array<ArrayBuffer>
  | Float64Array<ArrayBuffer>;

/**
 * A new array of the same type and `length` elements that starts with `a`'s elements; the others are `fill`
 * (0 by default). `length` must be at least `a.length`.
 */
export function grownTo<T extends GrowableArray>(a: T, length: number, fill = 0): T {
  const b = new (a.constructor as new (length: number) => T)(length);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}
