/**
 * Byte-pair merging over a word of initial symbols. Mirrors Hugging Face's `Word::merge_all`: a heap of
 * candidate merges ordered by (rank, position), where an entry is stale when the pair at its position no
 * longer maps to the same new id. With tiktoken ranks (rank = id of the concatenation) this is exactly
 * tiktoken's "merge the lowest-ranked adjacent pair, leftmost first".
 */
import { grownTo } from '../typedArrays';

/** Looks up the merge of two adjacent ids: returns rank * 2^20 + newId, or -1. */
export type PairLookup = (left: number, right: number) => number;

export const MERGE_ID_BITS = 2 ** 20;

/** Growable binary min-heap over float keys with a parallel int payload. */
class MergeHeap {
  keys = new Float64Array(64);
  vals = new Int32Array(64);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  push(key: number, val: number): void {
    if (this.size === this.keys.length) {
      this.keys = grownTo(this.keys, this.size * 2);
      this.vals = grownTo(this.vals, this.size * 2);
    }
    let i = this.size++;
    const keys = this.keys;
    const vals = this.vals;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] <= key) break;
      keys[i] = keys[p];
      vals[i] = vals[p];
      i = p;
    }
    keys[i] = key;
    vals[i] = val;
  }

  /** Removes the minimum; its key and value are left in popKey / popVal. */
  popKey = 0;
  popVal = 0;
  pop(): boolean {
    if (this.size === 0) return false;
    const keys = this.keys;
    const vals = this.vals;
    this.popKey = keys[0];
    this.popVal = vals[0];
    const n = --this.size;
    if (n === 0) return true;
    const key = keys[n];
    const val = vals[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && keys[c + 1] < keys[c]) c++;
      if (keys[c] >= key) break;
      keys[i] = keys[c];
      vals[i] = vals[c];
      i = c;
    }
    keys[i] = key;
    vals[i] = val;
    return true;
  }
}

const POS_SCALE = 2 ** 32;

/**
 * Merges in place. `ids` and `byteLens` hold the initial symbols (length n); on return the first
 * `return value` entries hold the merged tokens (ids and their byte lengths), in order.
 */
export class BpeMerger {
  private heap = new MergeHeap();
  private prev = new Int32Array(64);
  private next = new Int32Array(64);

  constructor(private readonly lookup: PairLookup) {}

  merge(ids: Int32Array, byteLens: Int32Array, n: number): number {
    if (n < 2) return n;
    if (this.prev.length < n) {
      this.prev = new Int32Array(n * 2);
      this.next = new Int32Array(n * 2);
    }
    const prev = this.prev;
    const next = this.next;
    const heap = this.heap;
    const lookup = this.lookup;
    heap.clear();
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    for (let i = 0; i + 1 < n; i++) {
      const m = lookup(ids[i], ids[i + 1]);
      if (m >= 0) heap.push(Math.floor(m / MERGE_ID_BITS) * POS_SCALE + i, m % MERGE_ID_BITS);
    }
    while (heap.pop()) {
      const pos = heap.popKey % POS_SCALE;
      const newId = heap.popVal;
      if (byteLens[pos] === 0) continue;
      const right = next[pos];
      if (right < 0) continue;
      const cur = lookup(ids[pos], ids[right]);
      if (cur < 0 || cur % MERGE_ID_BITS !== newId) continue;
      ids[pos] = newId;
      byteLens[pos] += byteLens[right];
      byteLens[right] = 0;
      const after = next[right];
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      const before = prev[pos];
      if (before >= 0) {
        const m = lookup(ids[before], newId);
        if (m >= 0) heap.push(Math.floor(m / MERGE_ID_BITS) * POS_SCALE + before, m % MERGE_ID_BITS);
      }
      if (after >= 0) {
        const m = lookup(newId, ids[after]);
        if (m >= 0) heap.push(Math.floor(m / MERGE_ID_BITS) * POS_SCALE + pos, m % MERGE_ID_BITS);
      }
    }
    // Compact the surviving symbols to the front.
    let w = 0;
    for (let i = 0; i >= 0; i = next[i]) {
      ids[w] = ids[i];
      byteLens[w] = byteLens[i];
      w++;
    }
    return w;
  }
}
