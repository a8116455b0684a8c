/**
 * From the counting trie to the model's tables: continuation counts, discounts, pruning to the memory budget,
 * then the breadth-first CSR layout with each context's two aggregates (docs/ALGORITHMS.md#the-workspace-n-gram).
 *
 * - Continuation count of an n-gram g (order < N): N1+(·g), the number of distinct symbols seen before it,
 *   counted from the unpruned n-grams.
 * - Discount of order k: D_k = n1 / (n1 + 2·n2) over that order's counts (raw at the top order, continuation
 *   below), clamped to [0.1, 0.9]; 0.5 when n1 or n2 is 0; or the one given.
 * - Pruning, only while the tables would pass the budget: every n-gram of the top order that was seen once
 *   and is a leaf of the trie goes at once; if the tables still do not fit, the same for the order below
 *   (whose leaves now include n-grams that lost their last child), down to order 3 (never unigrams or
 *   bigrams). Continuation counts and discounts are those from before pruning.
 */
import type { CountTrie } from './countTrie';
import type { NgramTables } from './tables';

/** Bytes per laid-out node: sym + raw for every node; cont, firstChild, denom, followers below the top order. */
const BYTES_PER_NODE = 8;
const BYTES_PER_INNER_NODE = 16;

interface LayoutInput {
  readonly trie: CountTrie;
  /** Bytes the tables may take (the documents' ids are extra). */
  readonly budgetBytes: number;
  /** Discount per order (index 0 for unigrams) instead of the estimate. */
  readonly discounts?: readonly number[];
  readonly documents: readonly { readonly key: string; readonly ids: Uint32Array }[];
  readonly refusedDocuments: number;
  readonly meta: Record<string, string | number>;
}

export function layOutTables(input: LayoutInput): NgramTables {
  const { trie } = input;
  const N = trie.order;
  const n = trie.nodes;
  const { depth, raw, parent, sym } = trie;
  // Continuation counts, from the unpruned n-grams.
  const cont = new Uint32Array(n);
  for (let v = 1; v < n; v++) if (depth[v] >= 2 && raw[v] > 0) cont[trie.suffix[v]]++;
  const discounts = estimateDiscounts(trie, cont, input.discounts);
  const { keep, kept, pruned } = pruneToBudget(trie, input.budgetBytes);
  // Breadth-first layout: children lists sorted by symbol (a counting sort by symbol, then each node's
  // kept children appended in that order), then a breadth-first walk from the root.
  const symCount = new Uint32Array(trie.vocabSize + 3);
  for (let v = 1; v < n; v++) if (keep[v]) symCount[sym[v] + 1]++;
  for (let s = 1; s < symCount.length; s++) symCount[s] += symCount[s - 1];
  const bySym = new Int32Array(kept - 1);
  for (let v = 1; v < n; v++) if (keep[v]) bySym[symCount[sym[v]]++] = v;
  const childStart = new Uint32Array(n + 1);
  for (let v = 1; v < n; v++) if (keep[v]) childStart[parent[v] + 1]++;
  for (let v = 1; v <= n; v++) childStart[v] += childStart[v - 1];
  const fill = childStart.slice(0, n);
  const childList = new Int32Array(kept - 1);
  for (let j = 0; j < bySym.length; j++) {
    const v = bySym[j];
    childList[fill[parent[v]]++] = v;
  }
  const order = new Int32Array(kept);
  const newIndex = new Int32Array(n).fill(-1);
  order[0] = 0;
  newIndex[0] = 0;
  let tail = 1;
  for (let head = 0; head < tail; head++) {
    const v = order[head];
    for (let c = childStart[v]; c < childStart[v + 1]; c++) {
      newIndex[childList[c]] = tail;
      order[tail++] = childList[c];
    }
  }
  const levelStart = new Uint32Array(N + 2);
  for (let i = 1, k = 1; k <= N + 1; k++) {
    while (i < tail && depth[order[i]] < k) i++;
    levelStart[k] = i;
  }
  const total = tail;
  const innerCount = levelStart[N];
  const symOut = new Uint32Array(total);
  const rawOut = new Uint32Array(total);
  const contOut = new Uint32Array(innerCount);
  const firstChild = new Uint32Array(innerCount + 1);
  const denom = new Uint32Array(innerCount);
  const followers = new Uint32Array(innerCount);
  for (let i = 0; i < total; i++) {
    const v = order[i];
    symOut[i] = i === 0 ? 0 : sym[v];
    rawOut[i] = raw[v];
    if (i < innerCount) contOut[i] = cont[v];
  }
  // Children are contiguous and in parent order: first child = first node whose parent is i.
  let cursor = 1;
  for (let i = 0; i < innerCount; i++) {
    firstChild[i] = cursor;
    while (cursor < total && newIndex[parent[order[cursor]]] === i) cursor++;
  }
  firstChild[innerCount] = cursor;
  for (let i = 0; i < innerCount; i++) {
    let sum = 0;
    let f = 0;
    for (let c = firstChild[i]; c < firstChild[i + 1]; c++) {
      const count = c >= levelStart[N] ? rawOut[c] : contOut[c];
      sum += count;
      if (count > 0) f++;
    }
    denom[i] = sum;
    followers[i] = f;
  }
  const docs = input.documents;
  const docOffsets = new Uint32Array(docs.length + 1);
  for (let d = 0; d < docs.length; d++) docOffsets[d + 1] = docOffsets[d] + docs[d].ids.length;
  const docIds = new Uint32Array(docOffsets[docs.length]);
  for (let d = 0; d < docs.length; d++) docIds.set(docs[d].ids, docOffsets[d]);
  return {
    order: N,
    vocabSize: trie.vocabSize,
    discounts: Float64Array.from(discounts),
    levelStart,
    sym: symOut,
    raw: rawOut,
    cont: contOut,
    firstChild,
    denom,
    followers,
    docKeys: docs.map((d) => d.key),
    docOffsets,
    docIds,
    prunedPerOrder: pruned,
    refusedDocuments: input.refusedDocuments,
    meta: input.meta,
  };
}

/** Discounts from count-of-counts: raw at the top order, continuation counts below (see the file comment). */
function estimateDiscounts(trie: CountTrie, cont: Uint32Array, given: readonly number[] | undefined): number[] {
  const N = trie.order;
  const discounts: number[] = [];
  for (let k = 1; k <= N; k++) {
    const fixed = given?.[k - 1];
    if (fixed !== undefined) {
      discounts.push(fixed);
      continue;
    }
    let n1 = 0;
    let n2 = 0;
    for (let v = 1; v < trie.nodes; v++) {
      if (trie.depth[v] !== k) continue;
      const c = k === N ? trie.raw[v] : cont[v];
      if (c === 1) n1++;
      else if (c === 2) n2++;
    }
    const d = n1 > 0 && n2 > 0 ? n1 / (n1 + 2 * n2) : 0.5;
    discounts.push(Math.min(0.9, Math.max(0.1, d)));
  }
  return discounts;
}

/** Which nodes stay: singleton leaves pruned top order first, down to order 3, while over the budget. */
function pruneToBudget(trie: CountTrie, budgetBytes: number): { keep: Uint8Array; kept: number; pruned: number[] } {
  const N = trie.order;
  const n = trie.nodes;
  const { depth, raw, parent } = trie;
  // Children counts, to know the leaves.
  const children = new Uint32Array(n);
  for (let v = 1; v < n; v++) children[parent[v]]++;
  const keep = new Uint8Array(n).fill(1);
  const perOrder = new Array<number>(N + 1).fill(0);
  for (let v = 1; v < n; v++) perOrder[depth[v]]++;
  let inner = 1;
  for (let k = 1; k < N; k++) inner += perOrder[k];
  let kept = n;
  const bytesOf = (nodes: number, innerNodes: number): number => nodes * BYTES_PER_NODE + innerNodes * BYTES_PER_INNER_NODE;
  const pruned = new Array<number>(N).fill(0);
  for (let k = N; k >= 3 && bytesOf(kept, inner) > budgetBytes; k--) {
    for (let v = 1; v < n; v++) {
      if (depth[v] !== k || raw[v] !== 1 || children[v] !== 0) continue;
      keep[v] = 0;
      children[parent[v]]--;
      kept--;
      if (k < N) inner--;
      pruned[k - 1]++;
    }
  }
  return { keep, kept, pruned };
}
