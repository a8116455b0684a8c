/**
 * The glob matcher main had before issue 17, a regular expression per glob, kept as the oracle the segment matcher
 * (src/core/files/glob.ts) is compared with on random patterns (it agrees with git on ordinary patterns; it
 * backtracks exponentially on hostile ones, which is why it was replaced). Also the "before" of `npm run bench:glob`.
 */
interface GlobOptions {
  /** `{a,b}` alternatives (VS Code globs); literal braces otherwise (gitignore). */
  readonly braces: boolean;
  /** Also match the pattern at any depth: after any number of leading segments (gitignore names without a slash). */
  readonly anyDepth?: boolean;
}

/** One glob as a matcher of whole paths. */
export function compileGlobRegex(pattern: string, options: GlobOptions): RegExp {
  const source = (options.anyDepth ? '(?:[^/]+/)*' : '') + globSource(pattern, options.braces);
  return new RegExp(`^${source}$`, 'u');
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
