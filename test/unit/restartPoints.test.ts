/**
 * The restart points (Tokenizer.restartRules, documentTokens.restartExtent) keep their promise directly, for
 * every bundled tokenizer, at every restart point of hard strings and of multilingual prose with code around
 * it: the text after a restart point, encoded on its own as a continuation, gives exactly the whole text's
 * tokens after that point (ids, flags and spans, shifted); and the text up to the next restart point, encoded
 * on its own, gives exactly the whole text's tokens before the point. Both as plain text (restartRules) and
 * with special tokens matched (restartRulesWithSpecial): the hard strings hold `<|endoftext|>` and its kin. Incremental re-tokenization and the
 * chunked reader of large files stand on these two facts. RESTART_CASES sets the number of hard strings.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastCleanBoundary, restartExtent } from '../../src/core/analysis/documentTokens';
import { BUNDLED_TOKENIZERS } from '../../src/core/tokenizers/catalog';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import type { Tokenizer, TokenStream } from '../../src/core/tokenizers/types';
import { escapeForDisplay, hardStringAt } from '../harness/hardStrings';

const CASES = Number(process.env.RESTART_CASES ?? 400);
const SEED = Number(process.env.PARITY_SEED ?? 20261128);

/** Prose in many scripts (letters and digits before spaces, lines that start with them), with code between. */
const PROSE = [
  'Все люди рождаются свободными и равными в своем достоинстве и правах.',
  'Όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι στην αξιοπρέπεια.',
  'كل الناس يولدون أحرارًا متساوين في الكرامة والحقوق 123 ٤٥٦ نص.',
  'सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता प्राप्त है।',
  '人人生而自由，在尊严和权利上一律平等。 他们赋有理性和良心 2024 年。',
  'すべての人間は、生まれながらにして自由であり、 尊厳と権利とについて平等である。',
  '모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다.',
  'Tất cả mọi người sinh ra đều được tự do và bình đẳng về nhân phẩm và quyền.',
  'ทุกคนเกิดมามีอิสระและเสมอภาคกันในเกียรติศักด์และสิทธิ',
  'Ｆｕｌｌｗｉｄｔｈ ＡＢＣ ① ﬁne ½ x² café naïve Ω Å 𝐀𝐁 𝟏𝟐 ',
  '  indented line with words',
  '\tconst x = 1; // ünïcödé comment',
  '}\n/ slash after a line break',
  "it's a word's life, isn't it? 'TIS ſome Kelvin",
];

function proseDocument(index: number): string {
  const lines: string[] = [];
  for (let i = 0; i < 6; i++) lines.push(PROSE[(index * 7 + i * 3) % PROSE.length]);
  return lines.join(index % 3 === 0 ? '\r\n' : '\n');
}

function shifted(stream: TokenStream, from: number, to: number): { ids: number[]; flags: number[]; utf16: number[]; bytes: number[]; into: number[] } {
  const u0 = stream.utf16Offsets[from];
  const b0 = stream.byteOffsets[from];
  const out = { ids: [] as number[], flags: [] as number[], utf16: [] as number[], bytes: [] as number[], into: [] as number[] };
  for (let t = from; t < to; t++) {
    out.ids.push(stream.ids[t]);
    out.flags.push(stream.flags[t]);
    out.utf16.push(stream.utf16Offsets[t + 1] - u0);
    out.bytes.push(stream.byteOffsets[t + 1] - b0);
    out.into.push(stream.byteIntoChar[t + 1]);
  }
  return out;
}

function restartPoints(tokenizer: Tokenizer, text: string, allowSpecial = false): number[] {
  const rules = allowSpecial ? tokenizer.restartRulesWithSpecial : tokenizer.restartRules;
  const points: number[] = [];
  for (let p = 1; p < text.length; p++) if (restartExtent(text, p, rules) >= 0) points.push(p);
  return points;
}

/** The two facts at every restart point, for text encoded as is or with special tokens matched. */
function check(tokenizer: Tokenizer, text: string, allowSpecial: boolean): string | undefined {
  const full = tokenizer.encode(text, { allowSpecial });
  const points = restartPoints(tokenizer, text, allowSpecial);
  const how = allowSpecial ? ' (special tokens allowed)' : '';
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const k = lastCleanBoundary(full, p);
    if (k < 0) return `no token boundary at restart point ${p}${how}`;
    const suffix = tokenizer.encode(text.slice(p), { continuation: true, allowSpecial });
    assert.deepEqual(shifted(suffix, 0, suffix.count), shifted(full, k, full.count), `the text after restart point ${p} on its own${how}`);
    const next = i + 1 < points.length ? points[i + 1] : text.length;
    const prefix = tokenizer.encode(text.slice(0, next), { allowSpecial });
    const kp = lastCleanBoundary(prefix, p);
    if (kp < 0) return `no token boundary at restart point ${p} in the text up to ${next}${how}`;
    assert.deepEqual(shifted(prefix, 0, kp), shifted(full, 0, k), `the text up to restart point ${next}, before ${p}${how}`);
  }
  return undefined;
}

for (const entry of BUNDLED_TOKENIZERS) {
  test(`${entry.id}: every restart point of ${CASES} hard strings and 40 multilingual documents cuts the stream in two`, async () => {
    const { tokenizer } = await loadTokenizer(entry.id);
    const texts: string[] = [];
    for (let i = 0; i < 40; i++) texts.push(proseDocument(i));
    for (let i = 0; i < CASES; i++) texts.push(hardStringAt(SEED + 5, i));
    let points = 0;
    let afterNonAscii = 0;
    for (const text of texts) {
      const found = restartPoints(tokenizer, text);
      points += found.length;
      afterNonAscii += found.filter((p) => text.charCodeAt(p - 1) >= 0x80).length;
      try {
        const problem = check(tokenizer, text, false) ?? check(tokenizer, text, true);
        if (problem) assert.fail(`${problem}\ntext: ${escapeForDisplay(text, 300)}`);
      } catch (e) {
        if (e instanceof assert.AssertionError) e.message += `\ntext: ${escapeForDisplay(text, 300)}`;
        throw e;
      }
    }
    assert.ok(points > 0, 'no restart point at all');
    // With the rules for letters of every script, restart points also follow non-ASCII letters.
    if (tokenizer.restartRules.wordEnds) assert.ok(afterNonAscii > 100, `only ${afterNonAscii} restart points after non-ASCII characters`);
  });
}
