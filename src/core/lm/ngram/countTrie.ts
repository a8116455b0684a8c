/**
 * The counting trie of training: every n-gram of orders 1..N of the documents counted so far, one node each,
 * with its parent (the n-gram without its last symbol), its suffix (without its first symbol: where its
 * continuation count goes) and its raw count. Nodes live in growable typed arrays; the (parent, symbol) →
 * node lookup is a PairHash. `layOutTables` turns it into the model's tables.
 */
import { grownTo } from '../../typedArrays';
import { PairHash } from './pairHash';
import { walkPaddedNgrams } from './tables';

/** Bytes per counted n-gram: hash slots (12 bytes at <= 60% load) plus parent, sym, raw, suffix, depth. */
export const TRAINING_BYTES_PER_NODE = 20 + 17;

const INITIAL_NODES = 1 << 16;

export class CountTrie {
  /** Node 0 is the root (the empty n-gram). */
  nodes = 1;
  parent = new Int32Array(INITIAL_NODES);
  sym = new Int32Array(INITIAL_NODES);
  raw = new Uint32Array(INITIAL_NODES);
  suffix = new Int32Array(INITIAL_NODES);
  /** The n-gram's order (0 for the root). */
  depth = new Uint8Array(INITIAL_NODES);
  private hash = new PairHash(INITIAL_NODES);
  /** A power of two above every symbol, so that (parent, symbol) packs into one key. */
  private readonly symBits: number;

  constructor(
    readonly order: number,
    readonly vocabSize: number,
  ) {
    this.symBits = 2 ** Math.ceil(Math.log2(vocabSize + 2));
    this.depth[0] = 0;
    this.suffix[0] = -1;
    this.parent[0] = -1;
  }

  /** Counts every n-gram ending in each symbol of the document's padded sequence (none ending in a BOS). */
  count(ids: Uint32Array): void {
    walkPaddedNgrams(
      ids,
      this.order,
      this.vocabSize,
      (parent, sym, k, suffix) => this.node(parent, sym, k, suffix),
      (nodes, kMax) => {
        for (let k = 1; k <= kMax; k++) this.raw[nodes[k]]++;
      },
    );
  }

  /** Lets the arrays go (the trie is not used after layout). */
  release(): void {
    this.hash = new PairHash(2);
    this.parent = new Int32Array(1);
    this.sym = new Int32Array(1);
    this.raw = new Uint32Array(1);
    this.suffix = new Int32Array(1);
    this.depth = new Uint8Array(1);
    this.nodes = 1;
  }

  /** The node of `sym` under `parent`, created (with a zero count) when absent. */
  private node(parent: number, sym: number, depth: number, suffixNode: number): number {
    const found = this.hash.get(parent, sym, this.symBits);
    if (found >= 0) return found;
    const id = this.nodes++;
    if (id >= this.parent.length) {
      const cap = this.parent.length * 2;
      this.parent = grownTo(this.parent, cap);
      this.sym = grownTo(this.sym, cap);
      this.raw = grownTo(this.raw, cap);
      this.suffix = grownTo(this.suffix, cap);
      this.depth = grownTo(this.depth, cap);
    }
    this.parent[id] = parent;
    this.sym[id] = sym;
    this.depth[id] = depth;
    this.suffix[id] = suffixNode;
    this.hash.put(parent, sym, this.symBits, id);
    return id;
  }
}
