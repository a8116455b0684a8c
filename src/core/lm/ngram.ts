/**
 * `workspace-ngram`: a token-level interpolated Kneser-Ney n-gram model (order 3 to 5, default 4) trained on
 * the token streams of many files, with leave-one-out scoring and a compact binary form.
 *
 * Symbols: the tokenizer's ids 0..V-1, END = V (each document is followed by it; it is the model's end-of-text
 * id) and BOS = V+1 (the N-1 symbols each document is padded with on the left; never predicted). The model's
 * distributions range over V+1 ids (the tokenizer's and END).
 *
 * Interpolated Kneser-Ney (Chen & Goodman 1998, one discount per order). For a history h of N-1 symbols:
 *   P_N(w|h)  = max(c(hw) - D_N, 0) / c(h·)        + D_N · N1+(h·) / c(h·)        · P_{N-1}(w|h')
 *   P_k(w|g)  = max(N1+(·gw) - D_k, 0) / N1+(·g·)   + D_k · N1+(g·) / N1+(·g·)     · P_{k-1}(w|g')   (1 < k < N)
 *   P_1(w)    = max(N1+(·w) - D_1, 0) / N1+(··)     + D_1 · N1+(•) / N1+(··)       · 1/(V+1)
 * where h' drops the oldest symbol, c are raw counts, N1+(·gw) the number of distinct symbols seen before gw
 * (continuation counts; BOS counts as one), N1+(g·) the number of distinct w that follow g, and a context never
 * seen is skipped (its level contributes nothing and passes its whole weight down). The top level uses raw
 * counts, every lower level continuation counts, also when it is the longest context found. D_k = n1/(n1+2·n2)
 * from the count-of-counts of that level (clamped to [0.1, 0.9]; 0.5 when undefined), or given.
 *
 * Storage: during training a hash map keyed by (parent node, symbol) packed into one float64 builds a trie of
 * every n-gram (orders 1..N); `finish` lays it out breadth-first as a CSR trie of typed arrays: per node its
 * symbol and raw count, and for nodes below the top order their continuation count, first child, and the
 * two aggregates of them as a context (denominator, number of followers). About 8 bytes per n-gram plus 16 per
 * n-gram below the top order.
 *
 * Memory budget: when the laid-out model would exceed `memoryBudgetBytes` (default 64 MiB), n-grams seen once
 * are pruned, top order first, then lower orders down to 3 (never unigrams or bigrams), only leaves of the trie.
 * Continuation counts and discounts are computed before pruning. Training stops taking documents past
 * `maxTrainingTokens` (default 2M) or when the counting trie (about 37 bytes per n-gram) would pass
 * `trainingMemoryBytes` (default 4 × the budget).
 *
 * Leave-one-out: the model keeps every training document's ids. `withoutDocument(key)` returns a view with that
 * document's counts subtracted: raw counts of its n-grams, and a continuation count wherever a left extension
 * (v g w) disappears (its raw count falls to 0, or it was pruned: pruned n-grams were seen once, so the
 * document held the only occurrence), with the context aggregates adjusted to match. Discounts stay those of
 * the full model. The view is exactly the model trained without that document, up to discounts and pruning.
 *
 * Rank and entropy without O(vocabulary) work: for a context, P(w) = Σ_{k≥2} W_k·α_k(w) + W_1·P_1(w), where
 * α_k(w) is level k's discounted term (non-zero only for the followers of its context), W_k the product of the
 * interpolation weights above level k. So outside S = the union of the followers of the context's levels
 * k ≥ 2 (a sparse set), P(w) = W_1·P_1(w): a fixed base distribution scaled. The base P_1 is pre-sorted once.
 *   rank(w)    = 1 + #{v ∈ S: P(v) > p} + #{v: P_1(v) > p/W_1} − #{v ∈ S: P_1(v) > p/W_1}
 *                (the middle count is a binary search in the sorted base)
 *   entropy    = −Σ_{v∈S} P(v) ln P(v) − [Σ_all f(W_1 P_1(v)) − Σ_{v∈S} f(W_1 P_1(v))],  f(p) = p ln p,
 *                with Σ_all f(W_1 P_1(v)) = W_1 ln W_1 − W_1·H(P_1)   (since Σ P_1 = 1)
 *   top-k      = the best of S and of the first k + |S| ids of the sorted base.
 * All exact, O(|S| + log V) per position.
 */
import { indexInSorted } from '../sortedSearch';
import {
  LN2,
  plogp,
  throwIfAborted,
  yieldToEventLoop,
  type BaseDistribution,
  type DistributionForm,
  type LanguageModel,
  type NextTokenDistribution,
  type TokenAlternative,
} from './model';

export const DEFAULT_ORDER = 4;
export const DEFAULT_MEMORY_BUDGET_BYTES = 64 * 2 ** 20;
export const DEFAULT_MAX_TRAINING_TOKENS = 2_000_000;
export const NGRAM_MODEL_ID = 'workspace-ngram';

export interface NgramOptions {
  /** 3 to 5 (also 1 and 2, for tests); default 4. */
  readonly order?: number;
  /** Budget for the laid-out model's tables (the documents' ids are extra); default 64 MiB. */
  readonly memoryBudgetBytes?: number;
  /** Stop taking documents past this many tokens; default 2,000,000. */
  readonly maxTrainingTokens?: number;
  /** Stop taking documents when the counting trie would pass this many bytes; default 4 × memoryBudgetBytes. */
  readonly trainingMemoryBytes?: number;
  /** Discount per order (index 0 for unigrams), instead of the count-of-counts estimate. */
  readonly discounts?: readonly number[];
  /** Free-form facts to keep with the model (tokenizer id, workspace), stored in the binary form. */
  readonly meta?: Readonly<Record<string, string | number>>;
}

export interface NgramStats {
  readonly order: number;
  readonly vocabSize: number;
  readonly documents: number;
  readonly tokens: number;
  /** Distinct n-grams kept, per order (index 0 = unigrams). */
  readonly ngramsPerOrder: readonly number[];
  /** N-grams seen once that were pruned, per order. */
  readonly prunedPerOrder: readonly number[];
  readonly discounts: readonly number[];
  /** Bytes of the laid-out tables (without the documents' ids). */
  readonly tableBytes: number;
  /** Bytes of the stored documents' ids. */
  readonly documentBytes: number;
  /** Documents refused because a training cap was reached. */
  readonly refusedDocuments: number;
}

// ---------------------------------------------------------------------------------------------------------
// Training

/** Open-addressing hash map from a packed (parent, symbol) key to a node index. */
class PairHash {
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

function growInt32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

function growUint32(a: Uint32Array, n: number): Uint32Array {
  const b = new Uint32Array(n);
  b.set(a);
  return b;
}

/** Bytes per laid-out node: sym + raw for every node; cont, firstChild, denom, followers below the top order. */
const BYTES_PER_NODE = 8;
const BYTES_PER_INNER_NODE = 16;
/** Counting trie: hash slots (12 bytes at <= 60% load) plus parent, sym, raw, suffix, depth. */
const TRAINING_BYTES_PER_NODE = 20 + 17;

export class NgramTrainer {
  readonly order: number;
  readonly vocabSize: number;
  private readonly endSym: number;
  private readonly bosSym: number;
  private readonly symBits: number;
  private readonly budget: number;
  private readonly peakBudget: number;
  private readonly maxTokens: number;
  private readonly options: NgramOptions;
  private hash = new PairHash(1 << 16);
  private n = 1; // node 0 is the root
  private parent: Int32Array = new Int32Array(1 << 16);
  private sym: Int32Array = new Int32Array(1 << 16);
  private raw: Uint32Array = new Uint32Array(1 << 16);
  private suffix: Int32Array = new Int32Array(1 << 16);
  private depth: Uint8Array = new Uint8Array(1 << 16);
  private readonly docs: { key: string; ids: Uint32Array }[] = [];
  private readonly docIndex = new Map<string, number>();
  private tokenTotal = 0;
  private refused = 0;

  constructor(vocabSize: number, options: NgramOptions = {}) {
    const order = options.order ?? DEFAULT_ORDER;
    if (!Number.isInteger(order) || order < 1 || order > 6) throw new RangeError(`n-gram order ${order} is not between 1 and 6`);
    this.order = order;
    this.vocabSize = vocabSize;
    this.endSym = vocabSize;
    this.bosSym = vocabSize + 1;
    this.symBits = 2 ** Math.ceil(Math.log2(vocabSize + 2));
    this.budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
    this.maxTokens = options.maxTrainingTokens ?? DEFAULT_MAX_TRAINING_TOKENS;
    this.peakBudget = options.trainingMemoryBytes ?? 4 * this.budget;
    this.options = options;
    this.depth[0] = 0;
    this.suffix[0] = -1;
    this.parent[0] = -1;
  }

  /** Tokens taken so far. */
  get tokens(): number {
    return this.tokenTotal;
  }

  get documents(): number {
    return this.docs.length;
  }

  /** True when no more documents will be taken. */
  get full(): boolean {
    return this.tokenTotal >= this.maxTokens || this.n * TRAINING_BYTES_PER_NODE > this.peakBudget;
  }

  /**
   * Counts one document's ids (token ids of the tokenizer, < vocabSize). Returns false, counting nothing, when
   * a cap is reached. A key given twice is an error (keys name documents for leave-one-out).
   */
  addDocument(key: string, ids: Uint32Array): boolean {
    if (this.docIndex.has(key)) throw new Error(`document ${key} was already added`);
    if (this.full || this.tokenTotal + ids.length > this.maxTokens) {
      this.refused++;
      return false;
    }
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] >= this.vocabSize) throw new RangeError(`token id ${ids[i]} is outside the vocabulary (${this.vocabSize})`);
    }
    this.docIndex.set(key, this.docs.length);
    this.docs.push({ key, ids });
    this.tokenTotal += ids.length;
    this.count(ids);
    return true;
  }

  private node(parent: number, sym: number, depth: number, suffixNode: number): number {
    const found = this.hash.get(parent, sym, this.symBits);
    if (found >= 0) return found;
    const id = this.n++;
    if (id >= this.parent.length) {
      const cap = this.parent.length * 2;
      this.parent = growInt32(this.parent, cap);
      this.sym = growInt32(this.sym, cap);
      this.raw = growUint32(this.raw, cap);
      this.suffix = growInt32(this.suffix, cap);
      const d = new Uint8Array(cap);
      d.set(this.depth);
      this.depth = d;
    }
    this.parent[id] = parent;
    this.sym[id] = sym;
    this.depth[id] = depth;
    this.suffix[id] = suffixNode;
    this.hash.put(parent, sym, this.symBits, id);
    return id;
  }

  private count(ids: Uint32Array): void {
    const N = this.order;
    const prev = new Int32Array(N + 1);
    const cur = new Int32Array(N + 1);
    const len = N - 1 + ids.length + 1;
    for (let i = 0; i < len; i++) {
      const s = i < N - 1 ? this.bosSym : i < N - 1 + ids.length ? ids[i - (N - 1)] : this.endSym;
      const kMax = Math.min(i + 1, N);
      cur[0] = 0;
      for (let k = 1; k <= kMax; k++) cur[k] = this.node(prev[k - 1], s, k, cur[k - 1]);
      if (i >= N - 1) for (let k = 1; k <= kMax; k++) this.raw[cur[k]]++;
      prev.set(cur);
    }
  }

  /** Lays the counts out as an immutable model. The trainer must not be used afterwards. */
  finish(): NgramModel {
    const N = this.order;
    const n = this.n;
    const depth = this.depth;
    const raw = this.raw;
    // Continuation counts, from the unpruned n-grams.
    const cont = new Uint32Array(n);
    for (let v = 1; v < n; v++) if (depth[v] >= 2 && raw[v] > 0) cont[this.suffix[v]]++;
    // Discounts from count-of-counts: raw at the top order, continuation counts below.
    const discounts: number[] = [];
    for (let k = 1; k <= N; k++) {
      const given = this.options.discounts?.[k - 1];
      if (given !== undefined) {
        discounts.push(given);
        continue;
      }
      let n1 = 0;
      let n2 = 0;
      for (let v = 1; v < n; v++) {
        if (depth[v] !== k) continue;
        const c = k === N ? raw[v] : cont[v];
        if (c === 1) n1++;
        else if (c === 2) n2++;
      }
      const d = n1 > 0 && n2 > 0 ? n1 / (n1 + 2 * n2) : 0.5;
      discounts.push(Math.min(0.9, Math.max(0.1, d)));
    }
    // Children counts (to know leaves) and pruning of singletons, top order first, down to order 3.
    const children = new Uint32Array(n);
    for (let v = 1; v < n; v++) children[this.parent[v]]++;
    const keep = new Uint8Array(n).fill(1);
    const perOrder = new Array<number>(N + 1).fill(0);
    for (let v = 1; v < n; v++) perOrder[depth[v]]++;
    let inner = 1;
    for (let k = 1; k < N; k++) inner += perOrder[k];
    let kept = n;
    const bytesOf = (nodes: number, innerNodes: number): number => nodes * BYTES_PER_NODE + innerNodes * BYTES_PER_INNER_NODE;
    const pruned = new Array<number>(N).fill(0);
    for (let k = N; k >= 3 && bytesOf(kept, inner) > this.budget; k--) {
      for (let v = 1; v < n; v++) {
        if (depth[v] !== k || raw[v] !== 1 || children[v] !== 0) continue;
        keep[v] = 0;
        children[this.parent[v]]--;
        kept--;
        if (k < N) inner--;
        pruned[k - 1]++;
      }
    }
    // Breadth-first layout: children lists sorted by symbol (a counting sort by symbol, then each node's
    // kept children appended in that order), then a breadth-first walk from the root.
    const symCount = new Uint32Array(this.vocabSize + 3);
    for (let v = 1; v < n; v++) if (keep[v]) symCount[this.sym[v] + 1]++;
    for (let s = 1; s < symCount.length; s++) symCount[s] += symCount[s - 1];
    const bySym = new Int32Array(kept - 1);
    for (let v = 1; v < n; v++) if (keep[v]) bySym[symCount[this.sym[v]]++] = v;
    const childStart = new Uint32Array(n + 1);
    for (let v = 1; v < n; v++) if (keep[v]) childStart[this.parent[v] + 1]++;
    for (let v = 1; v <= n; v++) childStart[v] += childStart[v - 1];
    const fill = childStart.slice(0, n);
    const childList = new Int32Array(kept - 1);
    for (let j = 0; j < bySym.length; j++) {
      const v = bySym[j];
      childList[fill[this.parent[v]]++] = v;
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
      symOut[i] = i === 0 ? 0 : this.sym[v];
      rawOut[i] = raw[v];
      if (i < innerCount) contOut[i] = cont[v];
    }
    // Children are contiguous and in parent order: first child = first node whose parent is i.
    let cursor = 1;
    for (let i = 0; i < innerCount; i++) {
      firstChild[i] = cursor;
      while (cursor < total && newIndex[this.parent[order[cursor]]] === i) cursor++;
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
    const docOffsets = new Uint32Array(this.docs.length + 1);
    for (let d = 0; d < this.docs.length; d++) docOffsets[d + 1] = docOffsets[d] + this.docs[d].ids.length;
    const docIds = new Uint32Array(docOffsets[this.docs.length]);
    for (let d = 0; d < this.docs.length; d++) docIds.set(this.docs[d].ids, docOffsets[d]);
    const tables: NgramTables = {
      order: N,
      vocabSize: this.vocabSize,
      discounts: Float64Array.from(discounts),
      levelStart,
      sym: symOut,
      raw: rawOut,
      cont: contOut,
      firstChild,
      denom,
      followers,
      docKeys: this.docs.map((d) => d.key),
      docOffsets,
      docIds,
      prunedPerOrder: pruned,
      refusedDocuments: this.refused,
      meta: { ...(this.options.meta ?? {}) },
    };
    // Free the counting structures.
    this.hash = new PairHash(2);
    this.parent = new Int32Array(1);
    this.sym = new Int32Array(1);
    this.raw = new Uint32Array(1);
    this.suffix = new Int32Array(1);
    this.depth = new Uint8Array(1);
    this.docs.length = 0;
    this.n = 1;
    return new NgramModel(tables);
  }
}

/** Trains a model on documents in one call. */
export function trainNgram(vocabSize: number, documents: Iterable<{ key: string; ids: Uint32Array }>, options: NgramOptions = {}): NgramModel {
  const trainer = new NgramTrainer(vocabSize, options);
  for (const d of documents) trainer.addDocument(d.key, d.ids);
  return trainer.finish();
}

// ---------------------------------------------------------------------------------------------------------
// The laid-out model

interface NgramTables {
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
  readonly denom: Uint32Array;
  readonly followers: Uint32Array;
  readonly docKeys: readonly string[];
  readonly docOffsets: Uint32Array;
  readonly docIds: Uint32Array;
  readonly prunedPerOrder: readonly number[];
  readonly refusedDocuments: number;
  readonly meta: Record<string, string | number>;
}

/** Subtracted counts of one left-out document (absent entries: unchanged). */
interface Overlay {
  /** 1 for the nodes whose raw or continuation count changed (a quick test before the maps). */
  readonly touched: Uint8Array;
  readonly raw: Map<number, number>;
  readonly cont: Map<number, number>;
  readonly denom: Map<number, number>;
  readonly followers: Map<number, number>;
}

export class NgramModel {
  readonly order: number;
  /** The tokenizer's vocabulary size V (the model predicts V + 1 ids: those and END = V). */
  readonly vocabSize: number;
  private readonly rootIndex: Int32Array;
  private readonly docIndex = new Map<string, number>();
  private readonly fullView: NgramLanguageModel;

  constructor(readonly tables: NgramTables) {
    this.order = tables.order;
    this.vocabSize = tables.vocabSize;
    this.rootIndex = new Int32Array(tables.vocabSize + 2).fill(-1);
    for (let c = tables.firstChild[0]; c < tables.firstChild[1]; c++) this.rootIndex[tables.sym[c]] = c;
    tables.docKeys.forEach((k, i) => this.docIndex.set(k, i));
    this.fullView = new NgramLanguageModel(this, undefined);
  }

  get meta(): Readonly<Record<string, string | number>> {
    return this.tables.meta;
  }

  /** The model as a LanguageModel (all documents counted). */
  get languageModel(): NgramLanguageModel {
    return this.fullView;
  }

  /** Keys of the training documents, in training order. */
  get documentKeys(): readonly string[] {
    return this.tables.docKeys;
  }

  hasDocument(key: string): boolean {
    return this.docIndex.has(key);
  }

  documentIds(key: string): Uint32Array | undefined {
    const d = this.docIndex.get(key);
    if (d === undefined) return undefined;
    return this.tables.docIds.subarray(this.tables.docOffsets[d], this.tables.docOffsets[d + 1]);
  }

  /** The model with one training document left out (the full model when the key is unknown). */
  withoutDocument(key: string): NgramLanguageModel {
    const ids = this.documentIds(key);
    if (!ids) return this.fullView;
    return new NgramLanguageModel(this, this.overlayFor(ids));
  }

  stats(): NgramStats {
    const t = this.tables;
    const N = t.order;
    const perOrder: number[] = [];
    for (let k = 1; k <= N; k++) perOrder.push(t.levelStart[k + 1] - t.levelStart[k]);
    const tableBytes = t.sym.byteLength + t.raw.byteLength + t.cont.byteLength + t.firstChild.byteLength + t.denom.byteLength + t.followers.byteLength;
    return {
      order: N,
      vocabSize: t.vocabSize,
      documents: t.docKeys.length,
      tokens: t.docIds.length,
      ngramsPerOrder: perOrder,
      prunedPerOrder: t.prunedPerOrder.slice(),
      discounts: Array.from(t.discounts),
      tableBytes,
      documentBytes: t.docIds.byteLength + t.docOffsets.byteLength,
      refusedDocuments: t.refusedDocuments,
    };
  }

  /** Node of `sym` under `node`, or -1 (binary search among the node's children). */
  child(node: number, sym: number): number {
    if (node === 0) return sym < this.rootIndex.length ? this.rootIndex[sym] : -1;
    const t = this.tables;
    if (node >= t.levelStart[t.order]) return -1;
    return indexInSorted(t.sym, sym, t.firstChild[node], t.firstChild[node + 1]);
  }

  /** Order (n-gram length) of a node. */
  depthOf(node: number): number {
    const ls = this.tables.levelStart;
    let k = 0;
    while (k + 1 < ls.length && ls[k + 1] <= node) k++;
    return k;
  }

  /** Walks the document as training did and records what leaving it out subtracts. */
  private overlayFor(ids: Uint32Array): Overlay {
    const t = this.tables;
    const N = t.order;
    const V = t.vocabSize;
    const dRaw = new Map<number, number>();
    const dContMissing = new Map<number, number>();
    const parentOf = new Map<number, number>();
    const suffixOf = new Map<number, number>();
    const prev = new Int32Array(N + 1);
    const cur = new Int32Array(N + 1);
    const len = N - 1 + ids.length + 1;
    for (let i = 0; i < len; i++) {
      const s = i < N - 1 ? V + 1 : i < N - 1 + ids.length ? ids[i - (N - 1)] : V;
      const kMax = Math.min(i + 1, N);
      cur[0] = 0;
      for (let k = 1; k <= kMax; k++) {
        const p = prev[k - 1];
        cur[k] = p < 0 ? -1 : this.child(p, s);
        if (cur[k] >= 0) {
          if (!parentOf.has(cur[k])) {
            parentOf.set(cur[k], p);
            suffixOf.set(cur[k], cur[k - 1]);
          }
        }
      }
      if (i >= N - 1) {
        for (let k = 1; k <= kMax; k++) {
          if (cur[k] >= 0) dRaw.set(cur[k], (dRaw.get(cur[k]) ?? 0) + 1);
          else if (k >= 2 && cur[k - 1] >= 0) {
            // A pruned n-gram: it was seen once, here, so its suffix loses that left extension.
            dContMissing.set(cur[k - 1], (dContMissing.get(cur[k - 1]) ?? 0) + 1);
          }
        }
      }
      prev.set(cur);
    }
    const inner = t.levelStart[N];
    const newRaw = new Map<number, number>();
    const dCont = new Map<number, number>(dContMissing);
    for (const [node, d] of dRaw) {
      const r = t.raw[node] - d;
      if (r < 0) throw new Error('leave-one-out subtracted more than was counted (the document differs from the one trained)');
      newRaw.set(node, r);
      if (r === 0 && node >= t.levelStart[2]) {
        const sfx = suffixOf.get(node) as number;
        dCont.set(sfx, (dCont.get(sfx) ?? 0) + 1);
      }
    }
    const newCont = new Map<number, number>();
    for (const [node, d] of dCont) {
      if (node >= inner) continue;
      newCont.set(node, Math.max(0, t.cont[node] - d));
    }
    // Context aggregates: the count a context sums is raw for top-order children, cont below.
    const dDenom = new Map<number, number>();
    const dFollow = new Map<number, number>();
    const adjust = (node: number, before: number, after: number): void => {
      if (before === after) return;
      const p = parentOf.get(node);
      if (p === undefined || p < 0) return;
      dDenom.set(p, (dDenom.get(p) ?? 0) + (before - after));
      if (before > 0 && after === 0) dFollow.set(p, (dFollow.get(p) ?? 0) + 1);
    };
    for (const [node, r] of newRaw) if (node >= inner) adjust(node, t.raw[node], r);
    for (const [node, c] of newCont) adjust(node, t.cont[node], c);
    const denom = new Map<number, number>();
    for (const [p, d] of dDenom) denom.set(p, t.denom[p] - d);
    const followers = new Map<number, number>();
    for (const [p, d] of dFollow) followers.set(p, t.followers[p] - d);
    const touched = new Uint8Array(t.sym.length);
    for (const node of newRaw.keys()) touched[node] = 1;
    for (const node of newCont.keys()) touched[node] = 1;
    return { touched, raw: newRaw, cont: newCont, denom, followers };
  }

  // ------------------------------------------------------------------------------------------------------
  // Binary form

  /** A compact binary form: a small JSON header and the typed arrays. */
  serialize(): Uint8Array {
    const t = this.tables;
    const arrays = [t.levelStart, t.sym, t.raw, t.cont, t.firstChild, t.denom, t.followers, t.docOffsets, t.docIds];
    const header = {
      format: SERIAL_FORMAT,
      order: t.order,
      vocabSize: t.vocabSize,
      discounts: Array.from(t.discounts),
      lengths: arrays.map((a) => a.length),
      docKeys: t.docKeys,
      prunedPerOrder: t.prunedPerOrder,
      refusedDocuments: t.refusedDocuments,
      meta: t.meta,
    };
    const headerBytes = new TextEncoder().encode(JSON.stringify(header));
    const headerPadded = Math.ceil((12 + headerBytes.length) / 4) * 4;
    let total = headerPadded;
    for (const a of arrays) total += a.byteLength;
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    out.set(MAGIC, 0);
    view.setUint32(8, headerBytes.length, true);
    out.set(headerBytes, 12);
    let offset = headerPadded;
    for (const a of arrays) {
      // Little-endian on every platform Node runs on; written byte-wise through a view to be sure.
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      if (LITTLE_ENDIAN) out.set(bytes, offset);
      else for (let i = 0; i < a.length; i++) view.setUint32(offset + 4 * i, a[i], true);
      offset += a.byteLength;
    }
    return out;
  }

  static deserialize(bytes: Uint8Array): NgramModel {
    for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw new Error('not a Token Inspector n-gram model');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLength = view.getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as {
      format: number;
      order: number;
      vocabSize: number;
      discounts: number[];
      lengths: number[];
      docKeys: string[];
      prunedPerOrder: number[];
      refusedDocuments: number;
      meta: Record<string, string | number>;
    };
    if (header.format !== SERIAL_FORMAT) throw new Error(`n-gram model format ${header.format} is not ${SERIAL_FORMAT}`);
    let offset = Math.ceil((12 + headerLength) / 4) * 4;
    const read = (n: number): Uint32Array => {
      if (offset + 4 * n > bytes.length) throw new Error('n-gram model file is truncated');
      let a: Uint32Array;
      if (LITTLE_ENDIAN) a = new Uint32Array(bytes.slice(offset, offset + 4 * n).buffer);
      else {
        a = new Uint32Array(n);
        for (let i = 0; i < n; i++) a[i] = view.getUint32(offset + 4 * i, true);
      }
      offset += 4 * n;
      return a;
    };
    const [levelStart, sym, raw, cont, firstChild, denom, followers, docOffsets, docIds] = header.lengths.map(read);
    return new NgramModel({
      order: header.order,
      vocabSize: header.vocabSize,
      discounts: Float64Array.from(header.discounts),
      levelStart,
      sym,
      raw,
      cont,
      firstChild,
      denom,
      followers,
      docKeys: header.docKeys,
      docOffsets,
      docIds,
      prunedPerOrder: header.prunedPerOrder,
      refusedDocuments: header.refusedDocuments,
      meta: header.meta,
    });
  }
}

const MAGIC = new TextEncoder().encode('TINGRAM\u0001');
const SERIAL_FORMAT = 1;
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------------------
// The model as a LanguageModel

/** The lowest-order Kneser-Ney distribution P_1, pre-sorted. */
class KnBase implements BaseDistribution {
  readonly size: number;
  readonly sortedIds: Int32Array;
  readonly sortedProbs: Float64Array;
  readonly restProbability: number;
  readonly restCount: number;
  readonly entropyNats: number;
  private readonly probs: Float64Array;
  private readonly own: Uint8Array;

  constructor(size: number, typeIds: number[], typeProbs: number[], rest: number) {
    this.size = size;
    this.restProbability = rest;
    this.probs = new Float64Array(size).fill(rest);
    this.own = new Uint8Array(size);
    const idx = typeIds.map((_, i) => i).sort((a, b) => typeProbs[b] - typeProbs[a] || typeIds[a] - typeIds[b]);
    this.sortedIds = Int32Array.from(idx.map((i) => typeIds[i]));
    this.sortedProbs = Float64Array.from(idx.map((i) => typeProbs[i]));
    let h = 0;
    for (let i = 0; i < typeIds.length; i++) {
      this.probs[typeIds[i]] = typeProbs[i];
      this.own[typeIds[i]] = 1;
      h -= plogp(typeProbs[i]);
    }
    this.restCount = size - typeIds.length;
    h -= this.restCount * plogp(rest);
    this.entropyNats = h;
  }

  prob(id: number): number {
    return id >= 0 && id < this.size ? this.probs[id] : 0;
  }

  hasOwn(id: number): boolean {
    return this.own[id] === 1;
  }

  /** Number of ids with probability strictly greater than p. */
  countAbove(p: number): number {
    const s = this.sortedProbs;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid] > p) lo = mid + 1;
      else hi = mid;
    }
    return lo + (this.restProbability > p ? this.restCount : 0);
  }
}

/** One level of the interpolation for a context: its node and the factors that apply to its followers. */
interface ActiveLevel {
  readonly node: number;
  /** Order of the predicted n-grams (context length + 1). */
  readonly order: number;
  readonly discount: number;
  readonly denom: number;
  /** W_k / denom: multiplies max(count - D, 0). */
  readonly scale: number;
}

export class NgramLanguageModel implements LanguageModel {
  readonly id = NGRAM_MODEL_ID;
  readonly description: string;
  readonly vocabSize: number;
  readonly endOfTextId: number;
  readonly contextTokens: number;
  private baseCache: KnBase | undefined;

  constructor(
    readonly model: NgramModel,
    private readonly overlay: Overlay | undefined,
  ) {
    this.vocabSize = model.vocabSize + 1;
    this.endOfTextId = model.vocabSize;
    this.contextTokens = model.order - 1;
    const st = model.stats();
    this.description = `token ${model.order}-gram, interpolated Kneser-Ney, ${st.documents} files, ${st.tokens} tokens${overlay ? ', this file left out' : ''}`;
  }

  /** True when this view leaves a document out. */
  get leavesOut(): boolean {
    return this.overlay !== undefined;
  }

  rawCount(node: number): number {
    const ov = this.overlay;
    if (ov && ov.touched[node]) {
      const o = ov.raw.get(node);
      if (o !== undefined) return o;
    }
    return this.model.tables.raw[node];
  }

  contCount(node: number): number {
    const ov = this.overlay;
    if (ov && ov.touched[node]) {
      const o = ov.cont.get(node);
      if (o !== undefined) return o;
    }
    return this.model.tables.cont[node];
  }

  private denomOf(node: number): number {
    const o = this.overlay?.denom.get(node);
    return o ?? this.model.tables.denom[node];
  }

  private followersOf(node: number): number {
    const o = this.overlay?.followers.get(node);
    return o ?? this.model.tables.followers[node];
  }

  /** The count a level of order k reads for a node: raw at the top order, continuation below. */
  private levelCount(node: number, order: number): number {
    return order === this.model.order ? this.rawCount(node) : this.contCount(node);
  }

  /** P_1, the unigram Kneser-Ney distribution of this view. */
  get base(): KnBase {
    if (this.baseCache) return this.baseCache;
    const t = this.model.tables;
    const size = this.vocabSize;
    const D = t.discounts[0];
    const denom = this.denomOf(0);
    const follow = this.followersOf(0);
    const typeIds: number[] = [];
    const typeProbs: number[] = [];
    let rest: number;
    if (denom === 0) {
      rest = 1 / size;
    } else {
      rest = (D * follow) / denom / size;
      for (let c = t.firstChild[0]; c < t.firstChild[1]; c++) {
        const s = t.sym[c];
        if (s >= size) continue; // BOS
        const n = this.model.order === 1 ? this.rawCount(c) : this.contCount(c);
        if (n <= 0) continue;
        typeIds.push(s);
        typeProbs.push(Math.max(n - D, 0) / denom + rest);
      }
    }
    this.baseCache = new KnBase(size, typeIds, typeProbs, rest);
    return this.baseCache;
  }

  /** Context nodes for levels N..2 (index = order of the predicted n-gram), -1 where unseen. */
  private contextNodes(context: Uint32Array): Int32Array {
    const N = this.model.order;
    const nodes = new Int32Array(N + 1).fill(-1);
    const L = context.length;
    const bos = this.model.vocabSize + 1;
    // Level k conditions on the last k-1 symbols (BOS before the text's start).
    for (let k = 2; k <= N; k++) {
      let node = 0;
      for (let j = k - 1; j >= 1 && node >= 0; j--) {
        const pos = L - j;
        const s = pos >= 0 ? context[pos] : bos;
        node = this.model.child(node, s);
      }
      nodes[k] = node;
    }
    nodes[1] = 0;
    return nodes;
  }

  nextDistribution(context: Uint32Array): NgramDistribution {
    const N = this.model.order;
    const t = this.model.tables;
    const nodes = this.contextNodes(context.length > N - 1 ? context.subarray(context.length - (N - 1)) : context);
    const levels: ActiveLevel[] = [];
    let weight = 1;
    for (let k = N; k >= 2; k--) {
      const node = nodes[k];
      if (node < 0) continue;
      const denom = this.denomOf(node);
      if (denom <= 0) continue;
      const D = t.discounts[k - 1];
      levels.push({ node, order: k, discount: D, denom, scale: weight / denom });
      weight *= (D * this.followersOf(node)) / denom;
    }
    return new NgramDistribution(this, levels, weight);
  }

  /** Children of a context node with their level counts (for the sparse set). */
  forEachFollower(node: number, order: number, fn: (sym: number, count: number) => void): void {
    const t = this.model.tables;
    for (let c = t.firstChild[node]; c < t.firstChild[node + 1]; c++) {
      const n = this.levelCount(c, order);
      if (n > 0) fn(t.sym[c], n);
    }
  }

  /** Count of the follower `sym` of a context node at a level, 0 if unseen. */
  followerCount(node: number, order: number, sym: number): number {
    const c = this.model.child(node, sym);
    return c < 0 ? 0 : this.levelCount(c, order);
  }
}

const RANK_TOLERANCE = 1e-12;

/** The next-token distribution after one context. */
export class NgramDistribution implements NextTokenDistribution {
  readonly vocabSize: number;
  private sparseIds: Int32Array | undefined;
  private sparseProbs: Float64Array | undefined;
  private entropy: number | undefined;

  constructor(
    private readonly lm: NgramLanguageModel,
    private readonly levels: readonly ActiveLevel[],
    /** W_1: the weight of the base distribution P_1. */
    readonly baseWeight: number,
  ) {
    this.vocabSize = lm.vocabSize;
  }

  get base(): BaseDistribution {
    return this.lm.base;
  }

  prob(id: number): number {
    if (id < 0 || id >= this.vocabSize) return 0;
    let p = this.baseWeight * this.lm.base.prob(id);
    for (const lv of this.levels) {
      const n = this.lm.followerCount(lv.node, lv.order, id);
      if (n > lv.discount) p += (n - lv.discount) * lv.scale;
    }
    return p;
  }

  logProb(id: number): number {
    return Math.log(this.prob(id));
  }

  /** The sparse set S (ascending ids) and each member's probability. */
  private sparse(): [Int32Array, Float64Array] {
    if (this.sparseIds && this.sparseProbs) return [this.sparseIds, this.sparseProbs];
    // Each level's followers are contiguous and sorted by symbol (the CSR layout): merge the lists.
    const t = this.lm.model.tables;
    const L = this.levels.length;
    const pos = new Int32Array(L);
    const end = new Int32Array(L);
    let total = 0;
    for (let l = 0; l < L; l++) {
      pos[l] = t.firstChild[this.levels[l].node];
      end[l] = t.firstChild[this.levels[l].node + 1];
      total += end[l] - pos[l];
    }
    const ids = new Int32Array(total);
    const acc = new Float64Array(total);
    let n = 0;
    const V = this.vocabSize;
    for (;;) {
      let sym = Infinity;
      for (let l = 0; l < L; l++) if (pos[l] < end[l] && t.sym[pos[l]] < sym) sym = t.sym[pos[l]];
      if (sym === Infinity || sym >= V) break;
      let add = 0;
      let any = false;
      for (let l = 0; l < L; l++) {
        if (pos[l] >= end[l] || t.sym[pos[l]] !== sym) continue;
        const lv = this.levels[l];
        const c = lv.order === this.lm.model.order ? this.lm.rawCount(pos[l]) : this.lm.contCount(pos[l]);
        if (c > 0) {
          any = true;
          if (c > lv.discount) add += (c - lv.discount) * lv.scale;
        }
        pos[l]++;
      }
      if (!any) continue;
      ids[n] = sym;
      acc[n] = add;
      n++;
    }
    const base = this.lm.base;
    const outIds = ids.slice(0, n);
    const probs = new Float64Array(n);
    for (let i = 0; i < n; i++) probs[i] = acc[i] + this.baseWeight * base.prob(outIds[i]);
    this.sparseIds = outIds;
    this.sparseProbs = probs;
    return [outIds, probs];
  }

  rank(id: number): number {
    // Probabilities computed along different paths differ in the last bits: "strictly greater" allows for it,
    // so ids of equal probability (all unseen ids share one) share the rank.
    const p = this.prob(id) * (1 + RANK_TOLERANCE);
    const [ids, probs] = this.sparse();
    const base = this.lm.base;
    let r = 1;
    for (let i = 0; i < ids.length; i++) if (probs[i] > p) r++;
    if (this.baseWeight > 0) {
      const theta = p / this.baseWeight;
      r += base.countAbove(theta);
      for (let i = 0; i < ids.length; i++) if (base.prob(ids[i]) > theta) r--;
    }
    return r;
  }

  get entropyNats(): number {
    if (this.entropy !== undefined) return this.entropy;
    const [ids, probs] = this.sparse();
    const w = this.baseWeight;
    const base = this.lm.base;
    let h = 0;
    for (let i = 0; i < probs.length; i++) h -= plogp(probs[i]);
    if (w > 0) {
      // Σ over ids outside S of f(w·P_1) = Σ_all f(w·P_1) − Σ_S f(w·P_1); Σ_all = w ln w − w·H(P_1).
      let all = w * Math.log(w) - w * base.entropyNats;
      for (let i = 0; i < ids.length; i++) all -= plogp(w * base.prob(ids[i]));
      h -= all;
    }
    this.entropy = Math.max(0, h);
    return this.entropy;
  }

  top(k: number): TokenAlternative[] {
    if (k <= 0) return [];
    const [ids, probs] = this.sparse();
    // The best k of: S, and the first ids of the sorted base that are not in S (then ids sharing the rest).
    const bestP = new Float64Array(k).fill(-1);
    const bestId = new Int32Array(k).fill(-1);
    const offer = (id: number, p: number): void => {
      // Keep bestP descending (ties: smaller id first).
      if (p < bestP[k - 1] || (p === bestP[k - 1] && id > bestId[k - 1])) return;
      let j = k - 1;
      while (j > 0 && (p > bestP[j - 1] || (p === bestP[j - 1] && id < bestId[j - 1]))) {
        bestP[j] = bestP[j - 1];
        bestId[j] = bestId[j - 1];
        j--;
      }
      bestP[j] = p;
      bestId[j] = id;
    };
    for (let i = 0; i < ids.length; i++) offer(ids[i], probs[i]);
    const base = this.lm.base;
    let taken = 0;
    for (let i = 0; i < base.sortedIds.length && taken < k; i++) {
      const id = base.sortedIds[i];
      if (indexInSorted(ids, id) >= 0) continue;
      offer(id, this.baseWeight * base.sortedProbs[i]);
      taken++;
    }
    for (let id = 0; taken < k && id < this.vocabSize; id++) {
      if (base.hasOwn(id) || indexInSorted(ids, id) >= 0) continue;
      offer(id, this.baseWeight * base.restProbability);
      taken++;
    }
    const out: TokenAlternative[] = [];
    for (let j = 0; j < k && bestId[j] >= 0; j++) out.push({ id: bestId[j], logProb: Math.log(bestP[j]) });
    return out;
  }

  form(): DistributionForm {
    const [ids, probs] = this.sparse();
    return { kind: 'sparse', ids, probs, baseWeight: this.baseWeight, base: this.lm.base };
  }
}

/** Surprisal in bits of a natural-log probability. */
export function surprisalBits(logProb: number): number {
  return -logProb / LN2;
}

/** Trains on many documents, yielding to the event loop between them, with progress and cancellation. */
export async function trainNgramAsync(
  vocabSize: number,
  documents: Iterable<{ key: string; ids: () => Uint32Array }> | AsyncIterable<{ key: string; ids: () => Uint32Array }>,
  options: NgramOptions & { readonly signal?: AbortSignal; readonly onProgress?: (documents: number, tokens: number) => void } = {},
): Promise<NgramModel> {
  const trainer = new NgramTrainer(vocabSize, options);
  let since = performance.now();
  for await (const d of documents) {
    throwIfAborted(options.signal);
    if (trainer.full) break;
    trainer.addDocument(d.key, d.ids());
    if (performance.now() - since > 50) {
      options.onProgress?.(trainer.documents, trainer.tokens);
      await yieldToEventLoop();
      since = performance.now();
    }
  }
  options.onProgress?.(trainer.documents, trainer.tokens);
  return trainer.finish();
}
