/**
 * Incremental re-tokenization equals full re-tokenization after every edit, for every bundled tokenizer,
 * under random edit sequences over the shared hard strings and code-like documents (the edit-sequence
 * property of the shared harness). Every other document is stored in tiny chunks (a few tokens per chunk, a
 * few dozen units per text piece), so that windows cross chunk and piece edges all the time. A large document
 * checks the default layout where chunks hold a thousand tokens. INCREMENTAL_EDITS sets the number of edits
 * per tokenizer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DocumentTokens, type DocumentLayout } from '../../src/core/analysis/documentTokens';
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

const TINY_LAYOUT: DocumentLayout = { tokensPerChunk: 5, unitsPerTextPiece: 24 };

for (const entry of BUNDLED_TOKENIZERS) {
  test(`${entry.id}: incremental edits equal full re-tokenization (${EDITS} edits)`, async () => {
    const { tokenizer } = await loadTokenizer(entry.id);
    const rng = mulberry32(SEED ^ entry.id.length);
    let documents = 0;
    // Every other document in tiny chunks; every third with special tokens matched.
    let allowSpecial = false;
    const newDocument = (): DocumentTokens => {
      const k = documents++;
      allowSpecial = k % 3 === 2;
      return new DocumentTokens(tokenizer, randomDocument(rng), { allowSpecial }, k % 2 === 0 ? TINY_LAYOUT : {});
    };
    let doc = newDocument();
    let windows = 0;
    for (let e = 0; e < EDITS; e++) {
      if (e % 200 === 199) doc = newDocument();
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
      const full = tokenizer.encode(doc.text, { allowSpecial });
      const diff = sameStream(doc.stream, full);
      if (diff) assert.fail(`edit ${e} (at ${start}, -${del}, +${JSON.stringify(ins)}${allowSpecial ? ', special tokens allowed' : ''}): ${diff}\ntext: ${escapeForDisplay(doc.text, 300)}`);
    }
    // The point of the exercise: most edits re-encode a window, not the document.
    if (tokenizer.restartRules.afterNewline) assert.ok(windows > EDITS * 0.5, `only ${windows} of ${EDITS} edits were windowed`);
  });
}

for (const id of ['o200k_base', 'qwen3', 'mistral']) {
  test(`${id}: a 300 KB document in the default layout stays equal to full re-tokenization over 120 edits`, async () => {
    const { tokenizer } = await loadTokenizer(id);
    const rng = mulberry32(SEED ^ 0x5eed);
    const parts: string[] = [];
    for (let size = 0; size < 300_000; ) {
      const line = rng() < 0.8 ? CODE_LINES[Math.floor(rng() * CODE_LINES.length)] : hardStringAt(SEED + 3, Math.floor(rng() * 5000)).slice(0, 120);
      parts.push(line);
      size += line.length + 1;
    }
    const doc = new DocumentTokens(tokenizer, parts.join('\n'));
    for (let e = 0; e < 120; e++) {
      const text = doc.text;
      const start = Math.floor(rng() * (text.length + 1));
      const del = rng() < 0.3 ? Math.min(text.length - start, Math.floor(rng() * 3000)) : 0;
      const ins = rng() < 0.5 ? ' \nx{é😀'.charAt(Math.floor(rng() * 7)) : text.slice(Math.floor(rng() * text.length)).slice(0, Math.floor(rng() * 4000));
      doc.applyEdit(start, del, ins);
      const diff = sameStream(doc.stream, tokenizer.encode(doc.text));
      if (diff) assert.fail(`edit ${e} (at ${start}, -${del}, +${ins.length}): ${diff}`);
    }
  });
}

test('a stream read after a later edit refuses to build its arrays', async () => {
  const { tokenizer } = await loadTokenizer('o200k_base');
  const doc = new DocumentTokens(tokenizer, 'const a = 1;\nconst b = 2;\n');
  const before = doc.stream;
  const count = before.count;
  doc.applyEdit(0, 5, 'let');
  assert.throws(() => before.ids, /read after a later edit/);
  const after = doc.stream;
  assert.equal(after.ids.length, after.count);
  // Each read has arrays of its own: transferring one stream's buffers leaves another's intact.
  assert.notEqual(doc.stream.ids, after.ids);
  assert.equal(count, tokenizer.encode('const a = 1;\nconst b = 2;\n').count);
  // Arrays read before the edit stay as they were: they belong to the caller.
  const doc2 = new DocumentTokens(tokenizer, 'x = 1\ny = 2\n');
  const ids = doc2.stream.ids;
  const copy = ids.slice();
  doc2.applyEdit(0, 1, 'zz');
  assert.deepEqual(ids, copy);
});
