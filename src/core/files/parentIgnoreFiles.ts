/**
 * The ignore files git applies to a folder from above it: the .gitignore files between the repository's top
 * and the folder, and `.git/info/exclude`. The folder's own and nested .gitignore files are the walk's job.
 */
import { lstat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { readBounded } from './boundedRead';

export interface ParentIgnoreFile {
  readonly text: string;
  /** The counted folder's path relative to the ignore file's folder, with `/`. */
  readonly prefix: string;
  readonly path: string;
}

/**
 * The ignore files above a folder, outermost first; the repository's top is the nearest folder holding `.git`.
 * Empty outside a repository.
 */
export async function findParentIgnoreFiles(folder: string): Promise<ParentIgnoreFile[]> {
  const start = resolve(folder);
  const chain: string[] = [];
  let dir = start;
  let top: string | undefined;
  for (;;) {
    try {
      await lstat(join(dir, '.git'));
      top = dir;
      break;
    } catch {
      // not the top; go up
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
    chain.push(dir);
  }
  if (top === undefined) return [];
  const rel = (from: string): string => start.slice(from.length).split(/[\\/]/).filter(Boolean).join('/');
  const read = async (p: string): Promise<string | undefined> => {
    try {
      return (await readBounded(p, 'config')).toString('utf8');
    } catch {
      return undefined;
    }
  };
  const out: ParentIgnoreFile[] = [];
  const exclude = join(top, '.git', 'info', 'exclude');
  const excludeText = await read(exclude);
  if (excludeText !== undefined) out.push({ text: excludeText, prefix: rel(top), path: exclude });
  // chain holds the folders above `start` up to `top`, innermost first; the folder's own .gitignore is read by the walk.
  for (const d of chain.reverse()) {
    const p = join(d, '.gitignore');
    const text = await read(p);
    if (text !== undefined) out.push({ text, prefix: rel(d), path: p });
  }
  return out;
}
