/**
 * Training the workspace n-gram: documents are counted into a CountTrie until a cap is reached, then laid out
 * as an immutable NgramModel. The trainer keeps every document's ids, for leave-one-out.
 *
 * Caps: no document is taken past `maxTrainingTokens` (default 2M) or once the counting trie (about 37 bytes
 * per n-gram) passes `trainingMemoryBytes` (default 4 × the tables' budget); a refused document counts nothing.
 */
import { CountTrie, TRAINING_BYTES_PER_NODE } from './countTrie';
import { layOutTables } from './layout';
import { NgramModel } from './model';

const DEFAULT_ORDER = 4;
const DEFAULT_MEMORY_BUDGET_BYTES = 64 * 2 ** 20;
const DEFAULT_MAX_TRAINING_TOKENS = 2_000_000;

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

export class NgramTrainer {
  readonly order: number;
  readonly vocabSize: number;
  private readonly budget: number;
  private readonly peakBudget: number;
  private readonly maxTokens: number;
  private readonly options: NgramOptions;
  private readonly trie: CountTrie;
  private readonly docs: { key: string; ids: Uint32Array }[] = [];
  private readonly docIndex = new Map<string, number>();
  private tokenTotal = 0;
  private refused = 0;

  constructor(vocabSize: number, options: NgramOptions = {}) {
    const order = options.order ?? DEFAULT_ORDER;
    if (!Number.isInteger(order) || order < 1 || order > 6) throw new RangeError(`n-gram order ${order} is not between 1 and 6`);
    this.order = order;
    this.vocabSize = vocabSize;
    this.budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
    this.maxTokens = options.maxTrainingTokens ?? DEFAULT_MAX_TRAINING_TOKENS;
    this.peakBudget = options.trainingMemoryBytes ?? 4 * this.budget;
    this.options = options;
    this.trie = new CountTrie(order, vocabSize);
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
    return this.tokenTotal >= this.maxTokens || this.trie.nodes * TRAINING_BYTES_PER_NODE > this.peakBudget;
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
    this.trie.count(ids);
    return true;
  }

  /** Lays the counts out as an immutable model. The trainer must not be used afterwards. */
  finish(): NgramModel {
    const tables = layOutTables({
      trie: this.trie,
      budgetBytes: this.budget,
      discounts: this.options.discounts,
      documents: this.docs,
      refusedDocuments: this.refused,
      meta: { ...(this.options.meta ?? {}) },
    });
    this.trie.release();
    this.docs.length = 0;
    return new NgramModel(tables);
  }
}

/** Trains a model on documents in one call. */
export function trainNgram(vocabSize: number, documents: Iterable<{ key: string; ids: Uint32Array }>, options: NgramOptions = {}): NgramModel {
  const trainer = new NgramTrainer(vocabSize, options);
  for (const d of documents) trainer.addDocument(d.key, d.ids);
  return trainer.finish();
}
