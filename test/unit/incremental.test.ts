/**
 * Incremental re-tokenization equals full re-tokenization after every edit, for every bundled tokenizer,
 * under random edit sequences over the shared hard strings and code-like documents (the edit-sequence
 * property of the shared harness). INCREMENTAL_EDITS sets the number of edits per tokenizer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DocumentTokens } from '../../src/core/analysis/documentTokens';
import { BUNDLED_TOKENIZERS } from '../../src/core/tokenizers/catalog';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import type { TokenStream } from '../../src/core/tokenizers/types';
import { escapeForDisplay, hardStringAt, mulberry32 } from '../harness/hardStrings';

const EDITS = Number(process.env.INCREMENTAL_EDITS ?? 1500);
const SEED = Number(process.env.PARITY_SEED ?? 20261128);

const CODE_LINES = [
  'function add(a, b) {',
  '  return a + b; // sum',
  '}',
  '',
  'const greeting = "Hello, world!";',
  '\tif (x) { y(); }',
  '# Heading with émoji 😀 and 中文',
  '    indented text that goes on and on',
  'import { foo } from "./bar";',
  '/* comment */ x = 12345678;',
  "it's a word's life, isn't it",
  '  \t  ',
  'ﬁne ＡＢＣ ① café',
];

function sameStream(a: TokenStream, b: TokenStream): string | undefined {
  if (a.count !== b.count) return `count ${a.count} != ${b.count}`;
  for (let i = 0; i < a.count; i++) if (a.ids[i] !== b.ids[i] || a.flags[i] !== b.flags[i]) return `token ${i}: id ${a.ids[i]}/${b.ids[i]} flags ${a.flags[i]}/${b.flags[i]}`;
  for (let i = 0; i <= a.count; i++) {
    if (a.byteOffsets[i] !== b.byteOffsets[i] || a.utf16Offsets[i] !== b.utf16Offsets[i] || a.byteIntoChar[i] !== b.byteIntoChar[i]) return `boundary ${i} differs`;
  }
  if (a.byteLength !== b.byteLength || a.utf16Length !== b.utf16Length) return 'lengths differ';
  return undefined;
}

function randomDocument(rng: () => number): string {
  const lines: string[] = [];
  const n = 20 + Math.floor(rng() * 60);
  for (let i = 0; i < n; i++) lines.push(rng() < 0.7 ? CODE_LINES[Math.floor(rng() * CODE_LINES.length)] : hardStringAt(SEED + 1, Math.floor(rng() * 5000)).slice(0, 80));
  return lines.join(rng() < 0.8 ? '\n' : '\r\n');
}

for (const entry of BUNDLED_TOKENIZERS) {
  test(`${entry.id}: incremental edits equal full re-tokenization (${EDITS} edits)`, async () => {
    const { tokenizer } = await loadTokenizer(entry.id);
    const rng = mulberry32(SEED ^ entry.id.length);
    let doc = new DocumentTokens(tokenizer, randomDocument(rng));
    let windows = 0;
    for (let e = 0; e < EDITS; e++) {
      if (e % 200 === 199) doc = new DocumentTokens(tokenizer, randomDocument(rng));
      const text = doc.text;
      const start = Math.floor(rng() * (text.length + 1));
      const kind = rng();
      let del = 0;
      let ins = '';
      if (kind < 0.4) ins = ' \nabcxyz()é😀中.\t'.charAt(Math.floor(rng() * 15));
      else if (kind < 0.7) del = Math.min(text.length - start, 1 + Math.floor(rng() * 3));
      else if (kind < 0.9) ins = hardStringAt(SEED + 2, e).slice(0, 1 + Math.floor(rng() * 60));
      else {
        del = Math.min(text.length - start, Math.floor(rng() * 40));
        ins = CODE_LINES[Math.floor(rng() * CODE_LINES.length)] + '\n';
      }
      doc.applyEdit(start, del, ins);
      if (!doc.lastEdit.fullReencode) windows++;
      const full = tokenizer.encode(doc.text);
      const diff = sameStream(doc.stream, full);
      if (diff) assert.fail(`edit ${e} (at ${start}, -${del}, +${JSON.stringify(ins)}): ${diff}\ntext: ${escapeForDisplay(doc.text, 300)}`);
    }
    // The point of the exercise: most edits re-encode a window, not the document.
    if (tokenizer.restartRules.afterNewline) assert.ok(windows > EDITS * 0.5, `only ${windows} of ${EDITS} edits were windowed`);
  });
}
