/**
 * ChunkedText (the editor document's text kept in pieces) says exactly what the same edits on a plain string
 * say: length, every slice, the whole text, over random edit sequences with pieces small enough that edits
 * cross piece edges, empty the text and grow it back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkedText } from '../../src/core/text/chunkedText';
import { hardStringAt, mulberry32 } from '../harness/hardStrings';

for (const pieceUnits of [1, 3, 16, 8192]) {
  test(`ChunkedText with ${pieceUnits}-unit pieces equals a string under 3,000 random edits`, () => {
    const rng = mulberry32(pieceUnits * 7919);
    let plain = hardStringAt(11, pieceUnits).repeat(3);
    const chunked = new ChunkedText(plain, pieceUnits);
    for (let e = 0; e < 3000; e++) {
      const start = Math.floor(rng() * (plain.length + 1));
      const del = rng() < 0.05 ? plain.length - start : Math.min(plain.length - start, Math.floor(rng() * 40));
      const ins = rng() < 0.5 ? '' : hardStringAt(12, e).slice(0, Math.floor(rng() * 80));
      plain = plain.slice(0, start) + ins + plain.slice(start + del);
      chunked.replace(start, del, ins);
      assert.equal(chunked.length, plain.length);
      const a = Math.floor(rng() * (plain.length + 1));
      const b = a + Math.floor(rng() * 100);
      assert.equal(chunked.slice(a, b), plain.slice(a, b), `slice ${a}-${b} after edit ${e}`);
      if (e % 50 === 0) assert.equal(chunked.toString(), plain);
    }
    assert.equal(chunked.toString(), plain);
    assert.throws(() => chunked.replace(plain.length + 1, 0, 'x'), RangeError);
  });
}
