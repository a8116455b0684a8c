/** Shared CLI plumbing: reading files as VS Code does, printing, and where bundled vocabularies live. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFileBytes } from '../core/text/readFile';
import type { LoadOptions } from '../core/tokenizers/loader';
import { UsageError } from './args';
import { readBoundedSync } from '../core/files/boundedRead';

/** The packaged vocabulary files sit next to the bundle (dist/tokenizers); from source, node_modules is used. */
export const LOAD_OPTIONS: LoadOptions = { assetDir: join(__dirname, 'tokenizers') };

export function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

export function readTextFile(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`${path}: no such file`);
  }
  if (st.isDirectory()) throw new UsageError(`${path} is a folder; give a file`);
  return decodeFileBytes(readBoundedSync(path, 'document', { error: (m) => new UsageError(m) }), path).text;
}

export interface CliCommand {
  readonly name: string;
  /** One line: the command, its arguments and what it does. */
  readonly usage: string;
  run(argv: string[]): Promise<void>;
}
