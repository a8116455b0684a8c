/**
 * The bounded top-context lists of the feature index (core/sae/workspaceIndex/topContexts.ts), on synthetic
 * activations: after any sequence of file additions, removals and replacements, a feature's list is exactly
 * the first entries of a brute-force sort of every context the workspace holds now.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TopContexts, type FeatureContext } from '../../src/core/sae/workspaceIndex/topContexts';
import { histogramBin, histogramBinEnd, histogramBinStart, HISTOGRAM_BINS } from '../../src/core/sae/workspaceIndex/histogram';

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fileContexts(path: string, n: number, next: () => number): FeatureContext[] {
  // Activations on a coarse grid, so that ties between files and positions happen.
  return Array.from({ length: n }, (_, i) => ({ activation: Math.floor(next() * 20) / 4, path, byteStart: i * 3, byteEnd: i * 3 + 2, utf16Start: i, utf16End: i + 1, tokens: ['x'], activations: [0], focus: 0 }));
}

/** The brute-force order, written independently: activation descending, then path, then byte. */
function bruteTop(all: readonly FeatureContext[]): string[] {
  return [...all]
    .sort((a, b) => (b.activation > a.activation ? 1 : b.activation < a.activation ? -1 : a.path < b.path ? -1 : a.path > b.path ? 1 : a.byteStart - b.byteStart))
    .map((c) => `${c.activation}|${c.path}|${c.byteStart}`);
}

const keys = (t: TopContexts) => t.contexts.map((c) => `${c.activation}|${c.path}|${c.byteStart}`);

test('a top-context list stays the exact top of the workspace through file changes', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const next = rng(seed);
    const capacity = 1 + Math.floor(next() * 8);
    const files = new Map<string, FeatureContext[]>();
    const top = new TopContexts(capacity);
    let shortLists = 0;
    for (let step = 0; step < 30; step++) {
      const path = `f${Math.floor(next() * 6)}.ts`;
      const r = next();
      top.removePath(path);
      if (r < 0.25) files.delete(path);
      else {
        const contexts = fileContexts(path, Math.floor(next() * 12), next);
        files.set(path, contexts);
        for (const c of contexts) top.add(c);
      }
      const expected = bruteTop([...files.values()].flat());
      const got = keys(top);
      // Exact: the list is a prefix of the brute-force order, never longer than its capacity.
      assert.ok(got.length <= capacity);
      assert.deepEqual(got, expected.slice(0, got.length), `seed ${seed} step ${step}`);
      if (got.length < Math.min(capacity, expected.length)) shortLists++;
      // Nothing was ever dropped: the list is the whole top.
      if (!top.floor) assert.deepEqual(got, expected.slice(0, capacity));
    }
    assert.ok(shortLists < 30, 'updates should not leave every list short');
  }
});

test('histogram bins are half octaves from 2^-8, open at both ends', () => {
  assert.equal(histogramBin(1e-9), 0);
  assert.equal(histogramBin(2 ** -8), 0);
  assert.equal(histogramBin(2 ** -7.5), 1);
  assert.equal(histogramBin(1), 16);
  assert.equal(histogramBin(1.5), 17);
  assert.equal(histogramBin(2 ** 7.99), HISTOGRAM_BINS - 1);
  assert.equal(histogramBin(1e9), HISTOGRAM_BINS - 1);
  for (let i = 0; i < HISTOGRAM_BINS; i++) {
    const mid = i === 0 ? 2 ** -8.5 : i === HISTOGRAM_BINS - 1 ? 1e6 : Math.sqrt(histogramBinStart(i) * histogramBinEnd(i));
    assert.equal(histogramBin(mid), i, `bin ${i}`);
  }
});
