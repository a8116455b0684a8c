/**
 * The region the editor draws first when a large document opens (encodeRegion) has exactly the whole text's
 * tokens there, for every bundled tokenizer: ids, UTF-16 and UTF-8 offsets, flags and partial-character marks.
 * A region that starts or ends at a position that is not a restart point, or a slice whose end changes its last
 * tokens, fails here.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tokenWorkerClient } from '../../src/extension/workerClient';
import type { AnalyzeRegion } from '../../src/protocol/tokenWorker';
import { encodeRegion } from '../../src/core/analysis/regionTokens';
import { BUNDLED_TOKENIZERS } from '../../src/core/tokenizers/catalog';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import { deadline } from '../harness/deadline';
import { hardStringAt, mulberry32 } from '../harness/hardStrings';

const LINES = ['function f(a, b) {', '  return a + b;  ', '}', '', '    x = "naïve 🦜 東京";', '\tfoo bar baz', '# title', '  \t ', 'http://a.b/c', "it's", 'مرحبا بالعالم', 'มนุษย์ทั้งหลาย'];

for (const entry of BUNDLED_TOKENIZERS) {
  test(`${entry.id}: a region's tokens are the whole text's tokens there`, async () => {
    const { tokenizer } = await loadTokenizer(entry.id);
    const rng = mulberry32(entry.id.length * 104729);
    let midRegions = 0;
    for (let doc = 0; doc < 8; doc++) {
      const parts: string[] = [];
      for (let i = 0; i < 400; i++) parts.push(rng() < 0.85 ? LINES[Math.floor(rng() * LINES.length)] : hardStringAt(47, doc * 1000 + i).slice(0, 60));
      const text = parts.join(rng() < 0.7 ? '\n' : '\r\n');
      const full = tokenizer.encode(text);
      for (let trial = 0; trial < 6; trial++) {
        const from = Math.floor(rng() * text.length);
        const to = Math.min(text.length, from + Math.floor(rng() * 2000));
        const region = encodeRegion(tokenizer, text, from, to);
        assert.ok(region, `doc ${doc}: no region for [${from}, ${to})`);
        const { utf16Start, utf16End, byteStart, stream } = region;
        assert.ok(utf16Start <= from && utf16End >= to, `doc ${doc}: the region [${utf16Start}, ${utf16End}) does not cover [${from}, ${to})`);
        if (utf16Start > 0) midRegions++;
        // The first token of the region in the whole text: the last boundary at its start on a character boundary.
        let i0 = -1;
        for (let t = 0; t <= full.count && full.utf16Offsets[t] <= utf16Start; t++) if (full.utf16Offsets[t] === utf16Start && full.byteIntoChar[t] === 0) i0 = t;
        assert.ok(i0 >= 0, `doc ${doc}: the region starts at ${utf16Start}, not a boundary of the whole text's tokens`);
        assert.equal(full.utf16Offsets[i0 + stream.count], utf16End, `doc ${doc}: the region's tokens end elsewhere than the whole text's`);
        const at = `doc ${doc}, region [${utf16Start}, ${utf16End})`;
        assert.deepEqual(Array.from(stream.ids), Array.from(full.ids.subarray(i0, i0 + stream.count)), `${at}: ids`);
        assert.deepEqual(Array.from(stream.utf16Offsets, (u) => u + utf16Start), Array.from(full.utf16Offsets.subarray(i0, i0 + stream.count + 1)), `${at}: UTF-16 offsets`);
        assert.deepEqual(Array.from(stream.byteOffsets, (b) => b + byteStart), Array.from(full.byteOffsets.subarray(i0, i0 + stream.count + 1)), `${at}: UTF-8 offsets`);
        assert.deepEqual(Array.from(stream.flags), Array.from(full.flags.subarray(i0, i0 + stream.count)), `${at}: flags`);
        assert.deepEqual(Array.from(stream.byteIntoChar), Array.from(full.byteIntoChar.subarray(i0, i0 + stream.count + 1)), `${at}: partial characters`);
      }
    }
    // Tokenizers with restart rules start most regions mid-text (those without cover the text from its start).
    const rules = tokenizer.restartRules;
    if (rules.afterNewline || rules.beforeSpaceWord) assert.ok(midRegions >= 40, `only ${midRegions} of 48 regions started after the text's start`);
  });
}

test('a region is refused rather than grown to most of a text with no restart point near it', async () => {
  const { tokenizer } = await loadTokenizer('o200k_base');
  // One 200,000-character line of punctuation: no newline, no word end, nowhere to restart.
  const text = '+-'.repeat(100_000);
  assert.equal(encodeRegion(tokenizer, text, 150_000, 150_100), undefined);
  // At the start the region may start at 0, but its end still needs a restart point within reach.
  assert.equal(encodeRegion(tokenizer, text, 0, 100), undefined);
});

test('the tokenization worker sends the visible region first, in the document\'s offsets, then the whole text', async () => {
  const client = tokenWorkerClient(join(__dirname, '..', 'fixtures', 'workers', 'tokenWorker.js'), { onIncident: () => undefined, log: () => undefined });
  after(() => client.dispose());
  const text = Array.from({ length: 20_000 }, (_, i) => `${LINES[i % LINES.length]} // line ${i}`).join('\n');
  const visibleStart = text.indexOf('// line 12000');
  const regions: AnalyzeRegion[] = [];
  const common = { docKey: 'region-doc', version: 3, tokenizer: { id: 'o200k_base' }, allowSpecial: false, utf16Length: text.length };
  const r = await deadline(client.request('analyze', { ...common, text, visible: { utf16Start: visibleStart, utf16End: visibleStart + 3000 } }, { onProgress: (p) => regions.push(p) }), 120_000);
  assert.equal(r.status, 'analysis');
  if (r.status !== 'analysis') return;
  assert.equal(regions.length, 1, 'one region, before the result');
  const region = regions[0];
  assert.equal(region.version, 3);
  assert.ok(region.utf16Start <= visibleStart && region.utf16End >= visibleStart + 3000 && region.utf16End - region.utf16Start < 10_000, `a region near the visible lines: [${region.utf16Start}, ${region.utf16End})`);
  const full = r.stream;
  const i0 = Array.from(full.utf16Offsets).indexOf(region.utf16Start);
  assert.ok(i0 > 0);
  const n = region.stream.count;
  assert.deepEqual(Array.from(region.stream.ids), Array.from(full.ids.subarray(i0, i0 + n)));
  assert.deepEqual(Array.from(region.stream.utf16Offsets), Array.from(full.utf16Offsets.subarray(i0, i0 + n + 1)));
  assert.deepEqual(Array.from(region.stream.byteOffsets), Array.from(full.byteOffsets.subarray(i0, i0 + n + 1)));
  // Edits never send a region (the worker holds the tokens already), nor does a region that is the whole text.
  regions.length = 0;
  await deadline(client.request('analyze', { ...common, version: 4, baseVersion: 3, changes: [{ rangeOffset: 0, rangeLength: 0, text: 'x' }], utf16Length: text.length + 1 }, { onProgress: (p) => regions.push(p) }), 120_000);
  await deadline(client.request('analyze', { ...common, docKey: 'short', text: 'hi there\nok', utf16Length: 11, visible: { utf16Start: 0, utf16End: 11 } }, { onProgress: (p) => regions.push(p) }), 120_000);
  assert.equal(regions.length, 0);
});
