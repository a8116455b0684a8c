/**
 * A tiny argument parser: positionals, `--flag`, `--key value` and `--key=value`, `--help`/`-h` anywhere.
 * Each command says how many positionals it takes (extra ones are an error, not ignored) and which options
 * name a file or folder or an id (`pathOrId`): such a value is read as a path when one exists, else as an id.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, sep } from 'node:path';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `--help` or `-h` among a command's arguments: main prints that command's usage. */
export class HelpRequested extends Error {
  constructor() {
    super('help');
    this.name = 'HelpRequested';
  }
}

/** The ids an option takes when its value is not an existing file or folder (src/cli/pathOrId.ts). */
export interface IdKind {
  /** What the option names, for messages: "tokenizer", "model". */
  readonly noun: string;
  /** What such an id is, for messages: "a bundled tokenizer (o200k_base, …)". */
  readonly what: string;
  readonly accepts: (id: string) => boolean;
  /** A comma-separated list of values (`--tokenizers a,b`), each read on its own. */
  readonly list?: boolean;
}

export interface ArgRules {
  /** The most positionals the command takes (Infinity for `PATH...`); default 0. */
  readonly positionals?: number;
  /** Options whose value is a path when one exists, otherwise an id of this kind. */
  readonly pathOrId?: Readonly<Record<string, IdKind>>;
  /** Where the notes go (a value read as a path that is also an id); default stderr. */
  readonly note?: (line: string) => void;
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly options: Map<string, string>;
  readonly flags: Set<string>;
}

/**
 * `value` as a path when a file or folder of that name exists (made explicit with `./`, so that loaders that
 * also know ids read it as a path), else as an id of `kind`; neither is a usage error saying what was tried.
 */
export function pathOrId(option: string, value: string, kind: IdKind, note: (line: string) => void = (l) => process.stderr.write(l + '\n')): string {
  if (existsSync(value)) {
    const explicit = isAbsolute(value) || /^\.\.?([\\/]|$)/.test(value) ? value : `.${sep}${value}`;
    if (explicit !== value && kind.accepts(value)) note(`token-inspector: --${option} ${value} is read as the path ${explicit}, which exists here (not as the id ${value})`);
    return explicit;
  }
  if (kind.accepts(value)) return value;
  throw new UsageError(`unknown ${kind.noun} ${JSON.stringify(value)} (--${option}): there is no file or folder of that name in ${process.cwd()}, and it is not ${kind.what}`);
}

export function parseArgs(argv: readonly string[], valued: readonly string[], booleans: readonly string[], rules: ArgRules = {}): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') throw new HelpRequested();
    if (!a.startsWith('--') || a === '--') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (booleans.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
    } else if (valued.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      options.set(name, v);
    } else throw new UsageError(`unknown option --${name}`);
  }
  const most = rules.positionals ?? 0;
  if (positionals.length > most) {
    const extra = positionals.slice(most).map((p) => JSON.stringify(p));
    throw new UsageError(`unexpected argument${extra.length > 1 ? 's' : ''} ${extra.join(' ')} (this command takes ${most === 0 ? 'none' : most === 1 ? 'one' : `at most ${most}`})`);
  }
  for (const [name, kind] of Object.entries(rules.pathOrId ?? {})) {
    const v = options.get(name);
    if (v === undefined) continue;
    const read = (x: string): string => pathOrId(name, x, kind, rules.note);
    options.set(name, kind.list ? v.split(',').map((x) => (x.trim() ? read(x.trim()) : x)).join(',') : read(v));
  }
  return { positionals, options, flags };
}
