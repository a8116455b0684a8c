/** The shared binary searches against a linear scan, on random ascending arrays with repeats and sub-ranges. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { indexInSorted, lowerBound, upperBound } from '../../src/core/sortedSearch';
import { mulberry32 } from '../harness/hardStrings';

test('lowerBound, upperBound and indexInSorted equal a linear scan', () => {
  const rng = mulberry32(5);
  for (let round = 0; round < 2000; round++) {
    const n = Math.floor(rng() * 12);
    const a = new Uint32Array(n);
    for (let i = 1; i < n; i++) a[i] = a[i - 1] + Math.floor(rng() * 3);
    const from = Math.floor(rng() * (n + 1));
    const to = from + Math.floor(rng() * (n - from + 1));
    const value = Math.floor(rng() * (2 * n + 2)) - 1;
    let lower = to;
    let upper = to;
    for (let i = to - 1; i >= from; i--) {
      if (a[i] >= value) lower = i;
      if (a[i] > value) upper = i;
    }
    const exact = lower < to && a[lower] === value ? lower : -1;
    const where = `${JSON.stringify(Array.from(a))} [${from}, ${to}) value ${value}`;
    assert.equal(lowerBound(a, value, from, to), lower, where);
    assert.equal(upperBound(a, value, from, to), upper, where);
    assert.equal(indexInSorted(a, value, from, to), exact, where);
  }
  assert.equal(lowerBound(['a', 'ab', 'b'], 'ab'), 1, 'strings compare by code unit');
});
