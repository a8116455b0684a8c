/**
 * .gitignore rules: parsing a file's text and deciding whether a path is ignored by a stack of ignore files.
 *
 * Implemented: comments and blank lines, trailing-space trimming and `\` escapes, `!` negation, directory-only
 * patterns (`dir/`), patterns anchored by a `/` at the start or in the middle, patterns without a slash
 * matching at any depth, and the glob syntax of glob.ts (`*`, `?`, `[...]`, `**\/x`, `x/**`, `a/**\/b`). The
 * last matching rule decides, deeper files taking precedence. As in git, a file inside an ignored directory
 * cannot be re-included: callers do not walk an ignored directory.
 */
import { compileGlob, type PathMatcher } from './glob';

export interface IgnoreRule {
  readonly pattern: string;
  readonly negate: boolean;
  readonly dirOnly: boolean;
  /** The compiled pattern, tested against the path relative to the ignore file's folder. */
  readonly regex: PathMatcher;
}

/** Parses a .gitignore file's text into rules, in file order. */
export function parseGitignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (let line of text.split(/\r?\n/)) {
    // Trailing spaces are dropped unless escaped with a backslash.
    line = line.replace(/(?<!\\)[ \t]+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1);
    let dirOnly = false;
    if (line.endsWith('/') && !line.endsWith('\\/')) {
      dirOnly = true;
      line = line.replace(/\/+$/, '');
    }
    if (line === '') continue;
    // A slash at the start or in the middle anchors the pattern to the .gitignore's directory;
    // otherwise it matches a name at any depth.
    const anchored = line.includes('/');
    const body = line.startsWith('/') ? line.slice(1) : line;
    rules.push({ pattern: line, negate, dirOnly, regex: compileGlob(body, { braces: false, anyDepth: !anchored }) });
  }
  return rules;
}

/** The rules of one ignore file and where they apply. */
export interface RuleSet {
  readonly rules: readonly IgnoreRule[];
  /** Folder of the file, relative to the walk root ('' = the root); for files above the root, ''. */
  readonly dir: string;
  /** For files above the root: the walk root's path relative to the file's folder. */
  readonly prefix: string;
}

function localPath(set: RuleSet, path: string): string | undefined {
  if (set.prefix) return `${set.prefix}/${path}`;
  if (!set.dir) return path;
  return path.startsWith(`${set.dir}/`) ? path.slice(set.dir.length + 1) : undefined;
}

/** Whether the ignore files (outermost first) ignore a path: the last matching rule decides. */
export function isIgnored(sets: readonly RuleSet[], path: string, isDir: boolean): boolean {
  for (let s = sets.length - 1; s >= 0; s--) {
    const local = localPath(sets[s], path);
    if (local === undefined) continue;
    const rules = sets[s].rules;
    for (let r = rules.length - 1; r >= 0; r--) {
      const rule = rules[r];
      if (rule.dirOnly && !isDir) continue;
      if (rule.regex.test(local)) return !rule.negate;
    }
  }
  return false;
}
