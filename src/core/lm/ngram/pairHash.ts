/**
 * Open-addressing hash map from a (parent node, symbol) pair to a node index, for the counting trie. The pair
 * is packed into one float64 key (parent · symBits + symbol, exact below 2^53), so the map holds no objects.
 */
export class PairHash {
  keys: Float64Array;
  vals: Int32Array;
  mask: number;
  size = 0;

  constructor(capacityPow2: number) {
    this.keys = new Float64Array(capacityPow2).fill(-1);
    this.vals = new Int32Array(capacityPow2);
    this.mask = capacityPow2 - 1;
  }

  static slot(parent: number, sym: number, mask: number): number {
    let h = Math.imul(parent, 0x9e3779b1) ^ Math.imul(sym + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & mask;
  }

  get(parent: number, sym: number, symBits: number): number {
    const key = parent * symBits + sym;
    const keys = this.keys;
    for (let s = PairHash.slot(parent, sym, this.mask); ; s = (s + 1) & this.mask) {
      const k = keys[s];
      if (k === key) return this.vals[s];
      if (k === -1) return -1;
    }
  }

  /** Inserts (must be absent). */
  put(parent: number, sym: number, symBits: number, node: number): void {
    if ((this.size + 1) * 10 > this.keys.length * 6) this.grow(symBits);
    const key = parent * symBits + sym;
    let s = PairHash.slot(parent, sym, this.mask);
    while (this.keys[s] !== -1) s = (s + 1) & this.mask;
    this.keys[s] = key;
    this.vals[s] = node;
    this.size++;
  }

  private grow(symBits: number): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const cap = oldKeys.length * 2;
    this.keys = new Float64Array(cap).fill(-1);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k === -1) continue;
      const parent = Math.floor(k / symBits);
      const sym = k - parent * symBits;
      let s = PairHash.slot(parent, sym, this.mask);
      while (this.keys[s] !== -1) s = (s + 1) & this.mask;
      this.keys[s] = k;
      this.vals[s] = oldVals[i];
    }
  }
}
