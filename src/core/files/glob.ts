/**
 * Globs over `/`-separated paths: gitignore patterns and VS Code globs (`files.exclude`), each compiled to a
 * PathMatcher that tests a whole path. Everything else (ignore rules, the folder walk) sees only PathMatcher,
 * so the matcher behind it can change without touching them.
 *
 * Syntax: `*` and `?` (never matching `/`), `[...]` classes (`!` or `^` negates; never matching `/`), `\`
 * escapes, and `**` as a whole segment matching any number of segments (none included); elsewhere `**` is `*`.
 * VS Code globs add `{a,b}` alternatives (literal in gitignore).
 *
 * Today the matcher is a regular expression (`u` flag).
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

/** One glob as a matcher of whole paths. */
export function compileGlob(pattern: string, options: GlobOptions): PathMatcher {
  const source = (options.anyDepth ? '(?:[^/]+/)*' : '') + globSource(pattern, options.braces);
  return new RegExp(`^${source}$`, 'u');
}

/** A matcher for VS Code-style globs (files.exclude): true when the path, or the folder it names, matches one. */
export function globMatcher(patterns: readonly string[]): (path: string) => boolean {
  const matchers = patterns
    .map((p) => p.trim().replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, ''))
    .filter((p) => p !== '')
    .map((p) => compileGlob(p, { braces: true }));
  return (path) => matchers.some((m) => m.test(path));
}

/** A literal character in a regular expression with the `u` flag (which allows escaping only syntax characters). */
function escapeRegex(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/** A literal character inside a `[...]` class. */
function escapeClassChar(c: string): string {
  return /[\\\]\[^-]/.test(c) ? `\\${c}` : c;
}

/** Parses `[...]` at i; returns the regex class and the index after `]`, or undefined if it is not a class. */
function charClass(p: string, i: number): { source: string; next: number } | undefined {
  let j = i + 1;
  let negate = false;
  if (p[j] === '!' || p[j] === '^') {
    negate = true;
    j++;
  }
  let body = '';
  let first = true;
  for (; j < p.length; j++) {
    const c = p[j];
    if (c === ']' && !first) return { source: negate ? `[^/${body}]` : `(?!/)[${body}]`, next: j + 1 };
    first = false;
    if (c === '\\' && j + 1 < p.length) {
      body += escapeClassChar(p[++j]);
    } else if (c === '-' && body !== '' && p[j + 1] !== ']' && j + 1 < p.length) {
      body += '-';
    } else body += escapeClassChar(c);
  }
  return undefined;
}

/** A glob as a regular expression source matching a whole `/`-separated path (see the file comment). */
function globSource(p: string, braces: boolean): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '*') {
      if (p[i + 1] === '*') {
        let j = i;
        while (p[j] === '*') j++;
        const segStart = i === 0 || p[i - 1] === '/';
        const segEnd = j === p.length || p[j] === '/';
        if (segStart && segEnd) {
          if (j === p.length) out += '.*';
          else {
            out += '(?:[^/]+/)*';
            j++; // the '/' after '**'
          }
          i = j - 1;
          continue;
        }
        i = j - 1;
      }
      out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const cls = charClass(p, i);
      if (cls) {
        out += cls.source;
        i = cls.next - 1;
      } else out += '\\[';
    } else if (c === '\\' && i + 1 < p.length) out += escapeRegex(p[++i]);
    else if (braces && c === '{') {
      out += '(?:';
      depth++;
    } else if (braces && c === '}' && depth > 0) {
      out += ')';
      depth--;
    } else if (braces && c === ',' && depth > 0) out += '|';
    else out += escapeRegex(c);
  }
  while (depth-- > 0) out += ')';
  return out;
}
