/**
 * The laid-out n-gram model: a breadth-first CSR trie of typed arrays, and the padded symbol sequence both
 * training and leave-one-out walk (they must walk it the same way for the subtraction to be exact).
 *
 * Symbols: the tokenizer's ids 0..V-1, END = V (each document is followed by it; it is the model's end-of-text
 * id) and BOS = V+1 (the N-1 symbols each document is padded with on the left; never predicted).
 *
 * Nodes are numbered breadth-first from the root (node 0), so each order's nodes are contiguous
 * (`levelStart`) and each node's children are contiguous and sorted by symbol (`firstChild`).
 */

export interface NgramTables {
  readonly order: number;
  readonly vocabSize: number;
  readonly discounts: Float64Array;
  /** Node index where order k starts (k = 0..order), and the total at [order + 1]. */
  readonly levelStart: Uint32Array;
  readonly sym: Uint32Array;
  readonly raw: Uint32Array;
  /** Below the top order (indices < levelStart[order]). */
  readonly cont: Uint32Array;
  readonly firstChild: Uint32Array;
  /** The sum of the children's level counts (raw at the top order, continuation below). */
  readonly denom: Uint32Array;
  /** The number of children whose level count is above 0. */
  readonly followers: Uint32Array;
  readonly docKeys: readonly string[];
  readonly docOffsets: Uint32Array;
  readonly docIds: Uint32Array;
  readonly prunedPerOrder: readonly number[];
  readonly refusedDocuments: number;
  readonly meta: Record<string, string | number>;
}

/** The end-of-text symbol of a vocabulary of `vocabSize` ids. */
function endSymbol(vocabSize: number): number {
  return vocabSize;
}

/** The begin-of-text padding symbol (never predicted). */
export function bosSymbol(vocabSize: number): number {
  return vocabSize + 1;
}

/**
 * Walks a document's padded sequence (N-1 BOS, the ids, END) as training counts it: at each position, the
 * nodes of the n-grams of orders 1..min(i+1, N) that end there, found (or made) by `nodeOf(parent, sym, k,
 * suffix)` from the node of the same n-gram without its last symbol (`parent`, -1 when that one is absent) and
 * the node of the order-(k-1) n-gram ending here (`suffix`). `counted(nodes, kMax)` then sees nodes[1..kMax]
 * at every position past the padding (n-grams ending in a BOS are not counted).
 */
export function walkPaddedNgrams(
  ids: Uint32Array,
  order: number,
  vocabSize: number,
  nodeOf: (parent: number, sym: number, k: number, suffix: number) => number,
  counted: (nodes: Int32Array, kMax: number) => void,
): void {
  const N = order;
  const pad = N - 1;
  const prev = new Int32Array(N + 1);
  const cur = new Int32Array(N + 1);
  const len = pad + ids.length + 1;
  for (let i = 0; i < len; i++) {
    const s = i < pad ? bosSymbol(vocabSize) : i < pad + ids.length ? ids[i - pad] : endSymbol(vocabSize);
    const kMax = Math.min(i + 1, N);
    cur[0] = 0;
    for (let k = 1; k <= kMax; k++) cur[k] = nodeOf(prev[k - 1], s, k, cur[k - 1]);
    if (i >= pad) counted(cur, kMax);
    prev.set(cur);
  }
}
