/**
 * The issue-17 glob, `*a*a*a*a*a*a*a*a*a*a*a*a*b` (a .gitignore line without a slash, so it matches at any
 * depth), against `src/<n × "a">` for growing n: the regular-expression matcher main had before (the oracle in
 * test/harness/globRegex.ts) and the segment matcher (src/core/files/glob.ts), interleaved, median of 5 runs
 * each. The regular expression stops being run once one test takes over 10 s. Prints JSON lines.
 *
 *   node --import tsx bench/glob.ts            (npm run bench:glob)
 */
import { compileGlob } from '../src/core/files/glob';
import { compileGlobRegex } from '../test/harness/globRegex';

const GLOB = '*a*a*a*a*a*a*a*a*a*a*a*a*b';
const REGEX_STOP_MS = 10_000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time(test: () => boolean): number {
  const t0 = performance.now();
  if (test()) throw new Error('the glob should not match a name without "b"');
  return performance.now() - t0;
}

const regex = compileGlobRegex(GLOB, { braces: false, anyDepth: true });
const segments = compileGlob(GLOB, { braces: false, anyDepth: true });
let regexOn = true;
for (const n of [16, 20, 24, 28, 32, 40, 64, 255]) {
  const path = `src/${'a'.repeat(n)}`;
  const seg: number[] = [];
  const re: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    seg.push(time(() => segments.test(path)));
    if (regexOn) {
      const ms = time(() => regex.test(path));
      re.push(ms);
      if (ms > REGEX_STOP_MS) regexOn = false;
      if (!regexOn) break;
    }
  }
  console.log(JSON.stringify({ nameLength: n, segmentMatcherMs: Number(median(seg).toFixed(4)), regexMs: re.length ? Number(median(re).toFixed(1)) : null, regexRuns: re.length }));
}
