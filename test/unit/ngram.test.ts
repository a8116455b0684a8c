/**
 * The workspace n-gram model (src/core/lm/ngram/): interpolated Kneser-Ney probabilities worked out by hand
 * on a tiny corpus, distributions that sum to 1 over the whole vocabulary, rank / entropy / top-k from the
 * sparse parts equal to brute force over the vocabulary, leave-one-out equal to retraining without the file,
 * pruning within a memory budget, and the binary form.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plogp } from '../../src/core/lm/model';
import { NgramModel, NgramTrainer, trainNgram, type NgramLanguageModel } from '../../src/core/lm/ngram';
import { mulberry32 } from '../harness/hardStrings';

const close = (a: number, b: number, tol = 1e-12, what = ''): void => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b}`);

// Ids: a = 0, b = 1, c = 2 (V = 3); the model adds END = 3 (and BOS = 4, never predicted).
const A = 0;
const B = 1;
const C = 2;
const END = 3;
const doc = Uint32Array.of(A, B, A, B, C);

test('bigram: interpolated Kneser-Ney by hand (D = 0.5)', () => {
  const lm = trainNgram(3, [{ key: 'd', ids: doc }], { order: 2, discounts: [0.5, 0.5] }).languageModel;
  // Padded: BOS a b a b c END. Bigrams: (BOS a) (a b) (b a) (a b) (b c) (c END).
  // Continuation counts N1+(·w): a ← {BOS, b} = 2, b ← {a} = 1, c ← {b} = 1, END ← {c} = 1; N1+(··) = 5, 4 types.
  // P_1(w) = max(N1+(·w) − .5, 0)/5 + .5·4/5·(1/4): the uniform share is .1.
  // P_1(a) = 1.5/5 + .1 = .4; P_1(b) = P_1(c) = P_1(END) = .5/5 + .1 = .2.
  const p1 = lm.nextDistribution(new Uint32Array(0)); // context = text start: BOS, which was followed by a once
  // After BOS: c(BOS·) = 1, one follower: P(a|BOS) = .5/1 + .5·1/1·P_1(a) = .5 + .2 = .7, others .5·P_1.
  close(p1.prob(A), 0.7);
  close(p1.prob(B), 0.1);
  close(p1.prob(END), 0.1);
  const afterA = lm.nextDistribution(Uint32Array.of(A));
  // After a: c(a·) = 2 (a b twice), one follower: P(b|a) = 1.5/2 + .5·1/2·.2 = .75 + .05 = .8.
  close(afterA.prob(B), 0.8);
  close(afterA.prob(A), 0.25 * 0.4);
  close(afterA.prob(C), 0.25 * 0.2);
  close(afterA.prob(END), 0.25 * 0.2);
  const afterB = lm.nextDistribution(Uint32Array.of(B));
  // After b: c(b·) = 2 (b a, b c), two followers: weight .5·2/2 = .5. P(a|b) = .5/2 + .5·.4 = .45; P(c|b) = .25 + .1 = .35.
  close(afterB.prob(A), 0.45);
  close(afterB.prob(C), 0.35);
  close(afterB.prob(B), 0.1);
  close(afterB.prob(END), 0.1);
  // After c: c(c·) = 1 (c END): P(END|c) = .5 + .5·.2 = .6.
  close(lm.nextDistribution(Uint32Array.of(C)).prob(END), 0.6);
});

test('trigram: interpolated Kneser-Ney by hand (D = 0.5), backing off through continuation counts', () => {
  const lm = trainNgram(3, [{ key: 'd', ids: doc }], { order: 3, discounts: [0.5, 0.5, 0.5] }).languageModel;
  // Padded: BOS BOS a b a b c END. Trigrams: (BOS BOS a) (BOS a b) (a b a) (b a b) (a b c) (b c END).
  // Bigram continuation counts N1+(·xy): (BOS a) 1, (a b) ← {BOS, b} 2, (b a) 1, (b c) 1, (c END) 1.
  // Unigram continuation counts as in the bigram test: P_1 = {a: .4, b: .2, c: .2, END: .2}.
  // P_2(·|a): N1+(·a·) = 2 (only a b, count 2), one follower: P_2(b|a) = 1.5/2 + .25·.2 = .8, P_2(c|a) = .05, P_2(a|a) = .1.
  // P_2(·|b): (b a) 1, (b c) 1: denominator 2, two followers: P_2(a|b) = .25 + .5·.4 = .45, P_2(c|b) = .35, P_2(b|b) = .1.
  // Context (b a): trigram (b a b) once: P(b|b a) = .5/1 + .5·P_2(b|a) = .5 + .4 = .9; P(c|b a) = .5·.05 = .025.
  const ba = lm.nextDistribution(Uint32Array.of(B, A));
  close(ba.prob(B), 0.9);
  close(ba.prob(C), 0.025);
  close(ba.prob(A), 0.05);
  close(ba.prob(END), 0.025);
  // Context (a b): trigrams (a b a), (a b c): weight .5·2/2 = .5. P(a|a b) = .25 + .5·.45 = .475; P(c|a b) = .25 + .5·.35 = .425.
  const ab = lm.nextDistribution(Uint32Array.of(A, B));
  close(ab.prob(A), 0.475);
  close(ab.prob(C), 0.425);
  close(ab.prob(B), 0.05);
  close(ab.prob(END), 0.05);
  // An unseen context (c a) skips its level: P(·|c a) = P_2(·|a).
  close(lm.nextDistribution(Uint32Array.of(C, A)).prob(B), 0.8);
  // The text's start (BOS BOS): P(a) = .5/1 + .5·P_2(a|BOS); P_2(a|BOS) = .5/1 + .5·.4 = .7, so .5 + .35 = .85.
  close(lm.nextDistribution(new Uint32Array(0)).prob(A), 0.85);
  // A longer context uses only its last two ids.
  close(lm.nextDistribution(Uint32Array.of(C, C, B, A)).prob(B), 0.9);
});

/** A corpus with Zipf-like ids over a small vocabulary, and repeated phrases. */
function corpus(seed: number, docs: number, vocab: number, length: number): { key: string; ids: Uint32Array }[] {
  const rng = mulberry32(seed);
  const phrases: number[][] = [];
  for (let p = 0; p < 12; p++) phrases.push(Array.from({ length: 3 + Math.floor(rng() * 4) }, () => Math.floor(vocab * rng() ** 2)));
  const out: { key: string; ids: Uint32Array }[] = [];
  for (let d = 0; d < docs; d++) {
    const ids: number[] = [];
    while (ids.length < length) {
      if (rng() < 0.5) ids.push(...phrases[Math.floor(rng() * phrases.length)]);
      else ids.push(Math.floor(vocab * rng() ** 3));
    }
    out.push({ key: `doc${d}`, ids: Uint32Array.from(ids.slice(0, length)) });
  }
  return out;
}

function bruteRank(lm: NgramLanguageModel, ctx: Uint32Array, id: number): number {
  const d = lm.nextDistribution(ctx);
  const p = d.prob(id);
  let r = 1;
  for (let v = 0; v < lm.vocabSize; v++) if (d.prob(v) > p * (1 + 1e-12)) r++;
  return r;
}

function checkDistributions(lm: NgramLanguageModel, contexts: Uint32Array[], what: string): void {
  for (const ctx of contexts) {
    const d = lm.nextDistribution(ctx);
    let sum = 0;
    let h = 0;
    const probs: number[] = [];
    for (let v = 0; v < lm.vocabSize; v++) {
      const p = d.prob(v);
      assert.ok(p > 0, `${what}: P(${v}) > 0`);
      probs.push(p);
      sum += p;
      h -= plogp(p);
    }
    close(sum, 1, 1e-12, `${what}: sum over the vocabulary`);
    close(d.entropyNats, h, 1e-10, `${what}: entropy`);
    const order = probs.map((_, v) => v).sort((a, b) => probs[b] - probs[a] || a - b);
    const top = d.top(7);
    assert.deepEqual(
      top.map((t) => t.id),
      order.slice(0, 7),
      `${what}: top-7`,
    );
    for (const t of top) close(t.logProb, Math.log(probs[t.id]), 1e-12);
    for (const v of [0, 1, 5, order[0], order[3], order[20], order[order.length - 1], lm.endOfTextId]) {
      assert.equal(d.rank(v), bruteRank(lm, ctx, v), `${what}: rank of ${v}`);
    }
  }
}

test('distributions sum to 1 over the whole vocabulary; rank, entropy and top-k equal brute force', () => {
  const docs = corpus(7, 6, 60, 400);
  for (const order of [3, 4, 5]) {
    const model = trainNgram(60, docs, { order });
    const lm = model.languageModel;
    const rng = mulberry32(order);
    const contexts = [new Uint32Array(0), Uint32Array.of(1), docs[0].ids.subarray(0, 10), docs[2].ids.subarray(50, 60)];
    for (let i = 0; i < 8; i++) contexts.push(Uint32Array.from({ length: order }, () => Math.floor(rng() * 60)));
    checkDistributions(lm, contexts, `order ${order}`);
    // Leave-one-out views are distributions too.
    checkDistributions(model.withoutDocument('doc2'), contexts, `order ${order}, doc2 left out`);
  }
});

test('leave-one-out equals retraining without the file (given discounts, nothing pruned)', () => {
  const docs = corpus(11, 5, 40, 300);
  const discounts = [0.6, 0.7, 0.75, 0.8];
  const full = trainNgram(40, docs, { order: 4, discounts });
  for (const out of ['doc0', 'doc3']) {
    const loo = full.withoutDocument(out);
    const retrained = trainNgram(
      40,
      docs.filter((d) => d.key !== out),
      { order: 4, discounts },
    ).languageModel;
    const rng = mulberry32(out.length);
    const contexts = [new Uint32Array(0), docs[3].ids.subarray(0, 3), docs[0].ids.subarray(100, 103)];
    for (let i = 0; i < 20; i++) contexts.push(Uint32Array.from({ length: 3 }, () => Math.floor(rng() * 40)));
    for (const ctx of contexts) {
      const a = loo.nextDistribution(ctx);
      const b = retrained.nextDistribution(ctx);
      for (let v = 0; v < loo.vocabSize; v++) close(a.prob(v), b.prob(v), 1e-12, `${out} ctx ${Array.from(ctx)} id ${v}`);
      assert.equal(a.rank(docs[0].ids[5]), b.rank(docs[0].ids[5]));
      close(a.entropyNats, b.entropyNats, 1e-10);
    }
  }
});

test("leave-one-out makes a file's own n-grams less likely", () => {
  const docs = corpus(3, 4, 50, 300);
  // A file with a phrase nobody else has.
  const own = Uint32Array.from({ length: 120 }, (_, i) => [44, 45, 46, 47, 48, 49][i % 6]);
  docs.push({ key: 'own', ids: own });
  const model = trainNgram(50, docs, { order: 4 });
  const full = model.languageModel;
  const loo = model.withoutDocument('own');
  assert.ok(loo.leavesOut);
  assert.equal(model.withoutDocument('no such file'), full);
  let fullBits = 0;
  let looBits = 0;
  let lower = 0;
  for (let p = 0; p < own.length; p++) {
    const ctx = own.subarray(Math.max(0, p - 3), p);
    const a = full.nextDistribution(ctx).prob(own[p]);
    const b = loo.nextDistribution(ctx).prob(own[p]);
    fullBits -= Math.log2(a);
    looBits -= Math.log2(b);
    if (b < a) lower++;
  }
  assert.equal(lower, own.length, 'every token of the file is less likely once the file is left out');
  assert.ok(looBits > fullBits * 3, `left out: ${looBits.toFixed(1)} bits vs ${fullBits.toFixed(1)}`);
  // A file that shares its n-grams with others changes less.
  const other = docs[1].ids;
  let fullOther = 0;
  let looOther = 0;
  const loo1 = model.withoutDocument('doc1');
  for (let p = 0; p < other.length; p++) {
    const ctx = other.subarray(Math.max(0, p - 3), p);
    fullOther -= Math.log2(full.nextDistribution(ctx).prob(other[p]));
    looOther -= Math.log2(loo1.nextDistribution(ctx).prob(other[p]));
  }
  assert.ok(looOther > fullOther && looOther < fullOther * 2.5, `${looOther} vs ${fullOther}`);
});

test('pruning singletons keeps the model within its memory budget, and leave-one-out stays a distribution', () => {
  const docs = corpus(5, 20, 300, 1000);
  const unpruned = trainNgram(300, docs, { order: 4 });
  const st0 = unpruned.stats();
  assert.deepEqual(st0.prunedPerOrder, [0, 0, 0, 0]);
  const budget = Math.floor(st0.tableBytes * 0.6);
  const pruned = trainNgram(300, docs, { order: 4, memoryBudgetBytes: budget, trainingMemoryBytes: 2 ** 30 });
  assert.equal(pruned.stats().documents, 20);
  const st = pruned.stats();
  assert.ok(st.tableBytes <= budget, `${st.tableBytes} <= ${budget}`);
  assert.ok(st.prunedPerOrder[3] > 0);
  assert.equal(st.prunedPerOrder[0] + st.prunedPerOrder[1], 0, 'unigrams and bigrams are never pruned');
  const contexts = [docs[4].ids.subarray(10, 13), docs[7].ids.subarray(0, 3), Uint32Array.of(1, 2, 3)];
  checkDistributions(pruned.languageModel, contexts, 'pruned');
  checkDistributions(pruned.withoutDocument('doc4'), contexts, 'pruned, doc4 left out');
});

test('training caps: tokens and documents refused past the cap', () => {
  const trainer = new NgramTrainer(10, { order: 3, maxTrainingTokens: 25 });
  assert.equal(trainer.addDocument('a', new Uint32Array(10)), true);
  assert.equal(trainer.addDocument('b', new Uint32Array(10)), true);
  assert.equal(trainer.addDocument('c', new Uint32Array(10)), false);
  assert.throws(() => trainer.addDocument('a', new Uint32Array(1)), /already added/);
  assert.throws(() => trainer.addDocument('z', Uint32Array.of(10)), /outside the vocabulary/);
  const st = trainer.finish().stats();
  assert.equal(st.documents, 2);
  assert.equal(st.tokens, 20);
  assert.equal(st.refusedDocuments, 1);
});

test('binary form round-trips', () => {
  const docs = corpus(9, 4, 80, 300);
  const model = trainNgram(80, docs, { order: 4, meta: { tokenizer: 'test' } });
  const bytes = model.serialize();
  const back = NgramModel.deserialize(bytes);
  assert.deepEqual(back.stats(), model.stats());
  assert.equal(back.meta.tokenizer, 'test');
  assert.deepEqual(back.documentKeys, model.documentKeys);
  for (const ctx of [new Uint32Array(0), docs[1].ids.subarray(3, 6)]) {
    const a = model.languageModel.nextDistribution(ctx);
    const b = back.languageModel.nextDistribution(ctx);
    for (let v = 0; v < 81; v++) assert.equal(a.prob(v), b.prob(v));
    const la = model.withoutDocument('doc1').nextDistribution(ctx);
    const lb = back.withoutDocument('doc1').nextDistribution(ctx);
    for (let v = 0; v < 81; v++) assert.equal(la.prob(v), lb.prob(v));
  }
  assert.throws(() => NgramModel.deserialize(new Uint8Array(20)), /not a Token Inspector n-gram model/);
  assert.throws(() => NgramModel.deserialize(bytes.subarray(0, bytes.length - 8)), /truncated/);
});
