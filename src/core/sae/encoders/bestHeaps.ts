/** The most (value, key) entries the document-wide heaps (Feature and Mutual Choice) may keep: 12 bytes each. */
export const MAX_KEPT_ENTRIES = 2 ** 27;

/**
 * `count` bounded heaps of `capacity` (value, key) pairs that keep the best entries: larger value first, then
 * smaller key. Each heap is a min-heap on that order, so its root is the worst entry kept.
 */
export class BestHeaps {
  readonly values: Float32Array;
  readonly keys: Float64Array;
  readonly sizes: Int32Array;
  constructor(
    count: number,
    readonly capacity: number,
  ) {
    this.values = new Float32Array(count * capacity);
    this.keys = new Float64Array(count * capacity);
    this.sizes = new Int32Array(count);
  }
  reset(): void {
    this.sizes.fill(0);
  }
  /** Offers (v, key) to heap h. */
  offer(h: number, v: number, key: number): void {
    const cap = this.capacity;
    const base = h * cap;
    const vals = this.values;
    const keys = this.keys;
    const size = this.sizes[h];
    if (size < cap) {
      // Sift up from the end.
      let i = size;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        const pv = vals[base + parent];
        if (pv < v || (pv === v && keys[base + parent] > key)) break; // parent is worse: heap order holds
        vals[base + i] = pv;
        keys[base + i] = keys[base + parent];
        i = parent;
      }
      vals[base + i] = v;
      keys[base + i] = key;
      this.sizes[h] = size + 1;
      return;
    }
    const rv = vals[base];
    if (v < rv || (v === rv && key > keys[base])) return; // not better than the worst kept
    // Replace the root and sift down.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= cap) break;
      let c = l;
      const r = l + 1;
      if (r < cap && (vals[base + r] < vals[base + l] || (vals[base + r] === vals[base + l] && keys[base + r] > keys[base + l]))) c = r;
      const cv = vals[base + c];
      if (v < cv || (v === cv && key > keys[base + c])) break; // new entry is worse than the worse child
      vals[base + i] = cv;
      keys[base + i] = keys[base + c];
      i = c;
    }
    vals[base + i] = v;
    keys[base + i] = key;
  }
}
