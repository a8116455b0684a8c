/**
 * Binary searches over ascending arrays (token boundaries, line starts, n-gram children, sorted keys): one
 * implementation for the core, the extension and the webviews. [from, to) bounds the search.
 */
type Sorted<T> = { readonly length: number; readonly [i: number]: T };

/** The first index i in [from, to) with a[i] >= value (to when there is none). */
export function lowerBound<T extends number | string>(a: Sorted<T>, value: T, from = 0, to = a.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index i in [from, to) with a[i] > value (to when there is none). */
export function upperBound(a: Sorted<number>, value: number, from = 0, to = a.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index of `value` in [from, to), or -1. */
export function indexInSorted(a: Sorted<number>, value: number, from = 0, to = a.length): number {
  const i = lowerBound(a, value, from, to);
  return i < to && a[i] === value ? i : -1;
}
