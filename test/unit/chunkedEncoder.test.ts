/**
 * Text fed in blocks of any size tokenizes exactly as the whole text, for every bundled tokenizer
 * (the bounded-memory path of the CLI for large files).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkedEncoder } from '../../src/core/analysis/chunkedEncoder';
import { BUNDLED_TOKENIZERS } from '../../src/core/tokenizers/catalog';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import { hardStringAt, mulberry32 } from '../harness/hardStrings';

const LINES = ['function f(a, b) {', '  return a + b;  ', '}', '', '    x = "naïve 🦜 東京";', '\tfoo bar baz', '# title', '  \t ', 'http://a.b/c', "it's"];

for (const entry of BUNDLED_TOKENIZERS) {
  test(`${entry.id}: blocks of random sizes tokenize like the whole text`, async () => {
    const { tokenizer } = await loadTokenizer(entry.id);
    const rng = mulberry32(entry.id.length * 7919);
    for (let doc = 0; doc < 12; doc++) {
      const parts: string[] = [];
      for (let i = 0; i < 200; i++) parts.push(rng() < 0.8 ? LINES[Math.floor(rng() * LINES.length)] : hardStringAt(31, doc * 1000 + i).slice(0, 60));
      const text = parts.join(rng() < 0.7 ? '\n' : '\r\n');
      const full = tokenizer.encode(text);
      const enc = new ChunkedEncoder(tokenizer, false, 1 << 20);
      const got = [];
      for (let i = 0; i < text.length; ) {
        let n = 1 + Math.floor(rng() * 700);
        // Blocks come from a decoder, so they never end between the halves of a surrogate pair.
        const c = text.charCodeAt(i + n - 1);
        if (c >= 0xd800 && c <= 0xdbff) n++;
        got.push(...enc.push(text.slice(i, i + n)));
        i += n;
      }
      got.push(...enc.end());
      const ids: number[] = [];
      const bytes: number[] = [0];
      const utf16: number[] = [0];
      for (const p of got) {
        assert.equal(p.approximate, false);
        for (let k = 0; k < p.stream.count; k++) {
          ids.push(p.stream.ids[k]);
          bytes.push(p.byteStart + p.stream.byteOffsets[k + 1]);
          utf16.push(p.utf16Start + p.stream.utf16Offsets[k + 1]);
        }
      }
      assert.deepEqual(ids, Array.from(full.ids), `doc ${doc}`);
      assert.deepEqual(bytes, Array.from(full.byteOffsets));
      assert.deepEqual(utf16, Array.from(full.utf16Offsets));
    }
  });
}
