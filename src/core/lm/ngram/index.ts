/**
 * `workspace-ngram`: a token-level interpolated Kneser-Ney n-gram model (order 3 to 5, default 4) trained on
 * the token streams of many files, with leave-one-out scoring and a compact binary form. What it computes,
 * with the pruning and the leave-one-out view: docs/ALGORITHMS.md#the-workspace-n-gram.
 *
 * One module per job:
 * - trainer.ts: taking documents under the caps (NgramTrainer, trainNgram);
 * - countTrie.ts, pairHash.ts: counting every n-gram during training;
 * - layout.ts: continuation counts, discounts, pruning to the memory budget, the CSR tables (tables.ts);
 * - model.ts: the trained model (documents by key, stats, child lookup); serialize.ts: its binary form;
 * - leaveOneOut.ts: the counts one document subtracts;
 * - languageModel.ts: interpolated Kneser-Ney over the tables; knBase.ts: the pre-sorted P_1;
 * - distribution.ts: one context's distribution with rank, entropy and top-k from its sparse part.
 *
 * This index is what callers outside the folder import.
 */
export { NgramTrainer, trainNgram, type NgramOptions } from './trainer';
export { NgramModel } from './model';
export { NGRAM_MODEL_ID, type NgramLanguageModel } from './languageModel';
