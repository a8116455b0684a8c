/** Every CLI command, in the order `--help` lists them. */
import type { CliCommand } from '../io';
import { compareCommand } from './compare';
import { countCommand } from './count';
import { featuresCommand } from './features';
import { featureCommand, featuresIndexCommand } from './featureIndex';
import { nextBytesCommand } from './nextBytes';
import { premiumsCommand } from './premiums';
import { scoreCommand } from './score';
import { tokenizeCommand } from './tokenize';
import { tokenizersCommand } from './tokenizers';

export const COMMANDS: readonly CliCommand[] = [tokenizersCommand, tokenizeCommand, compareCommand, countCommand, premiumsCommand, scoreCommand, nextBytesCommand, featuresCommand, featuresIndexCommand, featureCommand];
