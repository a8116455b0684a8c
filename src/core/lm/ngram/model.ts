/**
 * A trained n-gram model: the laid-out tables, the training documents by key, and views of it as a
 * LanguageModel (all documents counted, or one left out).
 */
import { indexInSorted } from '../../sortedSearch';
import { NgramLanguageModel } from './languageModel';
import { leaveOneOutOverlay } from './leaveOneOut';
import { deserializeTables, serializeTables } from './serialize';
import type { NgramTables } from './tables';

interface NgramStats {
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

export class NgramModel {
  readonly order: number;
  /** The tokenizer's vocabulary size V (the model predicts V + 1 ids: those and END = V). */
  readonly vocabSize: number;
  /** Root children by symbol (the unigrams), for a direct lookup instead of a binary search. */
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

  /** Reads the binary form written by `serialize`. */
  static deserialize(bytes: Uint8Array): NgramModel {
    return new NgramModel(deserializeTables(bytes));
  }

  /** A compact binary form: a small JSON header and the typed arrays (see serialize.ts). */
  serialize(): Uint8Array {
    return serializeTables(this.tables);
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
    return new NgramLanguageModel(
      this,
      leaveOneOutOverlay(this.tables, (node, sym) => this.child(node, sym), ids),
    );
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
}
