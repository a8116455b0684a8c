/**
 * token-inspector: the command-line face of the core (same functions as the extension uses).
 * Each command lives in src/cli/commands/<name>.ts and is listed in commands/index.ts.
 */
import { BinaryFileError } from '../core/text/readFile';
import { TokenizerError } from '../core/tokenizers/errors';
import { UsageError } from './args';
import { COMMANDS } from './commands';

function usage(): string {
  return 'usage: token-inspector <command> [options]\n\ncommands:\n' + COMMANDS.map((c) => `  ${c.usage}`).join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
      process.stdout.write(usage());
      return cmd === undefined ? 2 : 0;
    }
    const command = COMMANDS.find((c) => c.name === cmd);
    if (!command) throw new UsageError(`unknown command "${cmd}"\n${usage()}`);
    await command.run(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`token-inspector: ${e.message}\n`);
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
