/** Every CLI command, in the order `--help` lists them. */
import type { CliCommand } from '../io';
import { compareCommand } from './compare';
import { premiumsCommand } from './premiums';
import { tokenizeCommand } from './tokenize';
import { tokenizersCommand } from './tokenizers';

export const COMMANDS: readonly CliCommand[] = [tokenizersCommand, tokenizeCommand, compareCommand, premiumsCommand];
