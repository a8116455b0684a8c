/**
 * token-inspector: the command-line face of the core (same functions as the extension uses).
 * Each command lives in src/cli/commands/<name>.ts and is listed in commands/index.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BinaryFileError } from '../core/text/readFile';
import { TokenizerError } from '../core/tokenizers/errors';
import { enablePatternBudget } from '../core/tokenizers/patternBudget';
import { HelpRequested, UsageError } from './args';
import { COMMANDS } from './commands';
import type { CliCommand } from './io';

function usage(): string {
  return (
    'usage: token-inspector <command> [options]\n       token-inspector <command> --help\n       token-inspector --version\n\ncommands:\n' +
    COMMANDS.map((c) => `  ${c.usage}`).join('\n') +
    '\n'
  );
}

/** One command's usage: its synopsis, what it does, and how PATH_OR_ID values are read. */
export function commandHelp(c: CliCommand): string {
  // A command's usage line is "synopsis   what it does" (three or more spaces between).
  const cut = /\s{3,}/.exec(c.usage);
  const synopsis = cut ? c.usage.slice(0, cut.index) : c.usage;
  const what = cut ? c.usage.slice(cut.index + cut[0].length) : '';
  const ids = /ID\|PATH|PATH_OR_ID/.test(synopsis)
    ? '\nA value that can be a path or an id (ID|PATH, PATH_OR_ID) is read as a path when that file or folder exists, else as an id.\n'
    : '';
  return `usage: token-inspector ${synopsis}\n${what ? `\n${what}\n` : ''}${ids}`;
}

/** The version in the package.json beside the bundle (dist/cli.js) or the source (src/cli/main.ts). */
export function cliVersion(): string {
  for (const dir of [join(__dirname, '..'), join(__dirname, '..', '..')]) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'token-inspector' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      /* not here */
    }
  }
  return 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  // Split patterns without a scanner (custom tokenizer files, DeepSeek-V3) run under a time budget: a pattern
  // that backtracks ends the command with a one-line error instead of running on.
  enablePatternBudget();
  const [cmd, ...rest] = argv;
  if (cmd === '--version') {
    process.stdout.write(`token-inspector ${cliVersion()}\n`);
    return 0;
  }
  // `token-inspector help score` is `token-inspector score --help` (a command may print more than its usage line).
  const helpFor = cmd === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || (cmd === 'help' && !helpFor)) {
    process.stdout.write(usage());
    return cmd === undefined ? 2 : 0;
  }
  const command = helpFor ?? COMMANDS.find((c) => c.name === cmd);
  try {
    if (!command) throw new UsageError(`unknown command "${cmd}"\n${usage()}`);
    await command.run(helpFor ? ['--help'] : rest);
    return 0;
  } catch (e) {
    if (e instanceof HelpRequested && command) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    if (e instanceof UsageError) {
      const hint = command && !e.message.includes('\n') ? ` (see token-inspector ${command.name} --help)` : '';
      process.stderr.write(`token-inspector: ${e.message}${hint}\n`);
      return 2;
    }
    if (e instanceof TokenizerError || e instanceof BinaryFileError) {
      process.stderr.write(`token-inspector: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`token-inspector: ${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  // `token-inspector tokenize big.txt | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
