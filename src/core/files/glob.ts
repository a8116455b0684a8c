/**
 * Globs over `/`-separated paths: gitignore patterns and VS Code globs (`files.exclude`), each compiled to a
 * PathMatcher that tests a whole path. Everything else (ignore rules, the folder walk) sees only PathMatcher.
 *
 * Syntax: `*` and `?` (never matching `/`), `[...]` classes (`!` or `^` negates; never matching `/`), `\`
 * escapes, and `**` as a whole segment matching any number of segments (none included); elsewhere `**` is `*`.
 * VS Code globs add `{a,b}` alternatives (literal in gitignore).
 *
 * Why a segment matcher and not a regular expression: the patterns come from the workspace (`.gitignore`,
 * `files.exclude`, `--exclude`), and a backtracking engine takes exponential time on `*a*a*a*a*a*a*a*a*a*a*a*a*b`
 * against a long name (V8's irregexp has no linear mode for such patterns). Here a path is split into segments
 * and matched against the pattern's segments by a set of positions (a `**` segment keeps its position), and a
 * segment against a name by the two-pointer wildcard algorithm that resumes after the last `*` only: at most
 * (pattern segments × path segments) segment matches, each at most (name length × pattern length) steps, and no
 * backtracking. Libraries considered: minimatch and picomatch compile to regular expressions (the same
 * backtracking), so they would not bound the time. `npm run bench:glob` measures both on the issue's glob.
 */

export interface PathMatcher {
  /** True when the whole path matches. */
  test(path: string): boolean;
}

interface GlobOptions {
  /** `{a,b}` alternatives (VS Code globs); literal braces otherwise (gitignore). */
  readonly braces: boolean;
  /** Also match the pattern at any depth: after any number of leading segments (gitignore names without a slash). */
  readonly anyDepth?: boolean;
}

/** Brace alternatives are expanded; past this many a pattern's braces are taken literally (a hostile `{a,b}{a,b}…`). */
const MAX_BRACE_ALTERNATIVES = 1024;

/** One element of a segment pattern. */
type Part =
  | { readonly kind: 'char'; readonly cp: number }
  | { readonly kind: 'any' }
  | { readonly kind: 'star' }
  | { readonly kind: 'class'; readonly negate: boolean; readonly ranges: readonly number[] };

/** A pattern segment: `**` (any number of path segments) or a list of parts matching one name. */
type Segment = { readonly kind: 'globstar' } | { readonly kind: 'name'; readonly parts: readonly Part[]; readonly literal: string | undefined };

/** One glob as a matcher of whole paths. */
export function compileGlob(pattern: string, options: GlobOptions): PathMatcher {
  const alternatives = options.braces ? expandBraces(pattern) : [pattern];
  const compiled = alternatives.map((p) => {
    const segments = parseSegments(p);
    return options.anyDepth ? [{ kind: 'globstar' } as const, ...segments] : segments;
  });
  return {
    test(path: string): boolean {
      const names = path.split('/');
      return compiled.some((segments) => matchSegments(segments, names));
    },
  };
}

/** A matcher for VS Code-style globs (files.exclude): true when the path, or the folder it names, matches one. */
export function globMatcher(patterns: readonly string[]): (path: string) => boolean {
  const matchers = patterns
    .map((p) => p.trim().replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, ''))
    .filter((p) => p !== '')
    .map((p) => compileGlob(p, { braces: true }));
  return (path) => matchers.some((m) => m.test(path));
}

// ---------------------------------------------------------------------------------------------- parsing

/** `{a,b}` alternatives expanded (nested too); an unclosed `{` is literal, as are braces past the cap. */
function expandBraces(pattern: string): string[] {
  const out = expandFrom(pattern);
  return out && out.length <= MAX_BRACE_ALTERNATIVES ? out : [pattern.replace(/[{}]/g, '\\$&')];
}

/** The expansions of `p`, or undefined past the cap. */
function expandFrom(p: string): string[] | undefined {
  // The first top-level `{` that has a matching `}`.
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\') {
      i++;
      continue;
    }
    if (p[i] !== '{') continue;
    let depth = 0;
    const commas: number[] = [];
    let close = -1;
    for (let j = i; j < p.length; j++) {
      const c = p[j];
      if (c === '\\') j++;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        close = j;
        break;
      } else if (c === ',' && depth === 1) commas.push(j);
    }
    if (close < 0) {
      // Unclosed: this `{` is literal; the rest of the pattern (after it) is expanded as usual.
      const rest = expandFrom(p.slice(i + 1));
      return rest?.map((r) => `${p.slice(0, i)}\\{${r}`);
    }
    const bounds = [i, ...commas, close];
    const options: string[] = [];
    for (let k = 0; k + 1 < bounds.length; k++) {
      const sub = expandFrom(p.slice(bounds[k] + 1, bounds[k + 1]));
      if (!sub) return undefined;
      options.push(...sub);
    }
    const rest = expandFrom(p.slice(close + 1));
    if (!rest || options.length * rest.length > MAX_BRACE_ALTERNATIVES) return undefined;
    const head = p.slice(0, i);
    const out: string[] = [];
    for (const o of options) for (const r of rest) out.push(head + o + r);
    return out;
  }
  return [p];
}

/** Splits a pattern at its unescaped `/` into segments. */
function parseSegments(p: string): Segment[] {
  const raw: string[] = [];
  let cur = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\' && i + 1 < p.length) {
      cur += c + p[++i];
    } else if (c === '/') {
      raw.push(cur);
      cur = '';
    } else cur += c;
  }
  raw.push(cur);
  const segments: Segment[] = [];
  for (const s of raw) {
    if (/^\*\*+$/.test(s)) {
      // Consecutive `**` segments mean the same as one.
      if (segments[segments.length - 1]?.kind !== 'globstar') segments.push({ kind: 'globstar' });
    } else {
      const parts = parseName(s);
      const literal = parts.every((x) => x.kind === 'char') ? String.fromCodePoint(...parts.map((x) => (x as { cp: number }).cp)) : undefined;
      segments.push({ kind: 'name', parts, literal });
    }
  }
  // A final `**` after something needs at least one name (`a/**` is not `a`): it becomes `*/**`.
  if (segments.length > 1 && segments[segments.length - 1].kind === 'globstar') segments.splice(segments.length - 1, 0, { kind: 'name', parts: [{ kind: 'star' }], literal: undefined });
  return segments;
}

/** A name pattern's parts (consecutive stars as one). */
function parseName(s: string): Part[] {
  const cps = Array.from(s);
  const parts: Part[] = [];
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i];
    if (c === '*') {
      if (parts[parts.length - 1]?.kind !== 'star') parts.push({ kind: 'star' });
    } else if (c === '?') parts.push({ kind: 'any' });
    else if (c === '[') {
      const cls = parseClass(cps, i);
      if (cls) {
        parts.push(cls.part);
        i = cls.next - 1;
      } else parts.push({ kind: 'char', cp: 0x5b });
    } else if (c === '\\' && i + 1 < cps.length) parts.push({ kind: 'char', cp: cps[++i].codePointAt(0) as number });
    else parts.push({ kind: 'char', cp: c.codePointAt(0) as number });
  }
  return parts;
}

/** `[...]` at i: its ranges (pairs of code points) and the index after `]`, or undefined if it is not a class. */
function parseClass(cps: readonly string[], i: number): { part: Part; next: number } | undefined {
  let j = i + 1;
  let negate = false;
  if (cps[j] === '!' || cps[j] === '^') {
    negate = true;
    j++;
  }
  const ranges: number[] = [];
  let first = true;
  for (; j < cps.length; j++) {
    let c = cps[j];
    if (c === ']' && !first) return { part: { kind: 'class', negate, ranges }, next: j + 1 };
    first = false;
    if (c === '\\' && j + 1 < cps.length) c = cps[++j];
    const lo = c.codePointAt(0) as number;
    if (cps[j + 1] === '-' && j + 2 < cps.length && cps[j + 2] !== ']') {
      let hiChar = cps[j + 2];
      j += 2;
      if (hiChar === '\\' && j + 1 < cps.length) hiChar = cps[++j];
      const hi = hiChar.codePointAt(0) as number;
      // A reversed range matches nothing (a regular expression would have refused the whole pattern).
      if (lo <= hi) ranges.push(lo, hi);
    } else ranges.push(lo, lo);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------- matching

/** Pattern segments against path segments: the set of pattern positions reachable after each name. */
function matchSegments(segments: readonly Segment[], names: readonly string[]): boolean {
  const n = segments.length;
  // at[k]: pattern position k is reachable; a globstar position also reaches k + 1 (it may match no segment).
  let at = new Uint8Array(n + 1);
  const close = (set: Uint8Array): void => {
    for (let k = 0; k < n; k++) if (set[k] && segments[k].kind === 'globstar') set[k + 1] = 1;
  };
  at[0] = 1;
  close(at);
  for (let s = 0; s < names.length; s++) {
    const name = names[s];
    const next = new Uint8Array(n + 1);
    let any = false;
    for (let k = 0; k < n; k++) {
      if (!at[k]) continue;
      const seg = segments[k];
      if (seg.kind === 'globstar') {
        // `**` takes non-empty names only (a path never has empty ones, except a trailing `a/`).
        if (name !== '') {
          next[k] = 1;
          any = true;
        }
      } else if (seg.literal !== undefined ? seg.literal === name : matchName(seg.parts, name)) {
        next[k + 1] = 1;
        any = true;
      }
    }
    if (!any) return false;
    at = next;
    close(at);
  }
  return at[n] === 1;
}

function partMatches(part: Part, cp: number): boolean {
  if (part.kind === 'char') return part.cp === cp;
  if (part.kind === 'any') return true;
  if (part.kind === 'class') {
    let hit = false;
    for (let r = 0; r < part.ranges.length && !hit; r += 2) hit = cp >= part.ranges[r] && cp <= part.ranges[r + 1];
    return hit !== part.negate;
  }
  return false;
}

/**
 * A name against a segment pattern without `/`: the two-pointer wildcard match. On a mismatch it resumes after
 * the last `*` seen, one character further into the name; earlier stars never need revisiting (a later star
 * can absorb whatever they would have), so the work is at most name length × pattern length.
 */
function matchName(parts: readonly Part[], name: string): boolean {
  const cps: number[] = [];
  for (const ch of name) cps.push(ch.codePointAt(0) as number);
  let p = 0;
  let c = 0;
  let starP = -1;
  let starC = 0;
  while (c < cps.length) {
    if (p < parts.length && parts[p].kind === 'star') {
      starP = p++;
      starC = c;
    } else if (p < parts.length && partMatches(parts[p], cps[c])) {
      p++;
      c++;
    } else if (starP >= 0) {
      p = starP + 1;
      c = ++starC;
    } else return false;
  }
  while (p < parts.length && parts[p].kind === 'star') p++;
  return p === parts.length;
}
