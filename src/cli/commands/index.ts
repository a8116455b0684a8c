/** Every CLI command, in the order `--help` lists them. */
import type { CliCommand } from '../io';
import { tokenizeCommand } from './tokenize';
import { tokenizersCommand } from './tokenizers';

export const COMMANDS: readonly CliCommand[] = [tokenizersCommand, tokenizeCommand];
