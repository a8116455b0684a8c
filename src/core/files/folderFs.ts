/**
 * What a folder walk needs from a file system (`FolderFs`), and its implementation on the disk. The extension
 * could back it with `vscode.workspace.fs`; tests back it with anything. Paths are relative to the folder,
 * with `/` ('' = the folder itself).
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkReadableFile, readBounded } from './boundedRead';

type FolderEntryType = 'file' | 'directory' | 'other';

export interface FolderEntry {
  readonly name: string;
  readonly type: FolderEntryType;
}

export interface FolderFs {
  readDir(path: string): Promise<readonly FolderEntry[]>;
  stat(path: string): Promise<{ readonly type: FolderEntryType; readonly size: number }>;
  readFile(path: string): Promise<Uint8Array>;
  /** Reads a file in pieces (files over maxFileBytes); without it such files are read whole. */
  readChunks?(path: string, chunkBytes: number): AsyncIterable<Uint8Array>;
}

/**
 * The disk under `root`. Symbolic links to files are followed; links to folders are not walked (they can make
 * cycles) and show as 'other'.
 */
export function nodeFolderFs(root: string): FolderFs {
  const abs = (p: string): string => (p ? join(root, ...p.split('/')) : root);
  const typeOf = (s: { isFile(): boolean; isDirectory(): boolean }): FolderEntryType => (s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other');
  return {
    async readDir(path) {
      const entries = await readdir(abs(path), { withFileTypes: true });
      const out: FolderEntry[] = [];
      for (const e of entries) {
        let type = typeOf(e);
        if (e.isSymbolicLink()) {
          try {
            type = (await stat(join(abs(path), e.name))).isFile() ? 'file' : 'other';
          } catch {
            type = 'other';
          }
        }
        out.push({ name: e.name, type });
      }
      return out;
    },
    async stat(path) {
      const s = await stat(abs(path));
      return { type: typeOf(s), size: s.size };
    },
    async readFile(path) {
      // A regular file only (one replaced by a FIFO or a device after the listing is refused, not read).
      return readBounded(abs(path), 'document');
    },
    async *readChunks(path, chunkBytes) {
      checkReadableFile(abs(path), 'document', { maxBytes: Number.MAX_SAFE_INTEGER });
      for await (const chunk of createReadStream(abs(path), { highWaterMark: chunkBytes })) yield chunk as Uint8Array;
    },
  };
}
