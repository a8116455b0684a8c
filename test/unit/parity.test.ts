/**
 * Parity and span properties of every bundled tokenizer over the shared hard-string harness:
 * ids equal the reference implementation (tiktoken WASM for OpenAI encodings, the Rust `tokenizers`
 * binding for Hugging Face files) and every stream obeys the span rules. PARITY_CASES sets the count
 * (10,000 per tokenizer in `npm test`; more under `npm run fuzz`), PARITY_SEED the seed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUNDLED_TOKENIZERS } from '../../src/core/tokenizers/catalog';
import { bundledFilePath, loadTokenizer } from '../../src/core/tokenizers/loader';
import { escapeForDisplay, hardStringCases } from '../harness/hardStrings';
import { checkStream, type InvariantOptions } from '../harness/invariants';
import { hfReference, openaiReference, type OpenAIEncodingName } from '../harness/reference';

const CASES = Number(process.env.PARITY_CASES ?? 10_000);
const SEED = Number(process.env.PARITY_SEED ?? 20261128);
const ONLY = process.env.PARITY_ONLY?.split(',');

function invariantOptions(id: string): InvariantOptions {
  if (id === 'gemma3') return { metaspace: { prepend: false } };
  if (id === 'mistral') return { metaspace: { prepend: true } };
  if (id === 'qwen3' || id === 'claude_legacy') return {}; // NFC / NFKC normalizers change bytes
  return { lossless: true };
}

for (const entry of BUNDLED_TOKENIZERS) {
  if (ONLY && !ONLY.includes(entry.id)) continue;
  test(`${entry.id}: ids equal the reference and spans hold on ${CASES} hard strings`, async () => {
    const { tokenizer } = await loadTokenizer(entry.id);
    const cases = [...hardStringCases(SEED, CASES)];
    const texts = cases.map((c) => c.text);
    let expected: number[][];
    if (entry.source.format === 'tiktoken-json') {
      const ref = openaiReference(entry.id as OpenAIEncodingName);
      expected = ref.encodeBatch(texts);
      ref.dispose();
    } else {
      const ref = hfReference(bundledFilePath(entry));
      expected = [];
      for (let i = 0; i < texts.length; i += 1000) expected.push(...(await ref.encodeBatch(texts.slice(i, i + 1000))));
      ref.dispose();
    }
    const opts = invariantOptions(entry.id);
    let mismatches = 0;
    const report: string[] = [];
    for (let i = 0; i < texts.length; i++) {
      const stream = tokenizer.encode(texts[i]);
      const ids = Array.from(stream.ids);
      const same = ids.length === expected[i].length && ids.every((v, k) => v === expected[i][k]);
      const errs = checkStream(tokenizer, texts[i], stream, opts);
      if (!same || errs.length) {
        mismatches++;
        if (report.length < 3) {
          const k = ids.findIndex((v, j) => v !== expected[i][j]);
          report.push(
            `${cases[i].id} ${escapeForDisplay(texts[i], 160)}\n` +
              (same ? '' : `  ids differ at ${k}: ours ${JSON.stringify(ids.slice(Math.max(0, k - 2), k + 3))} reference ${JSON.stringify(expected[i].slice(Math.max(0, k - 2), k + 3))}\n`) +
              errs.slice(0, 3).map((e) => '  ' + e).join('\n'),
          );
        }
      }
    }
    assert.equal(mismatches, 0, `${mismatches} of ${texts.length} strings fail:\n${report.join('\n')}`);
  });
}
