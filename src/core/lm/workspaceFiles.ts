/**
 * Finding the text files of a workspace to train the workspace n-gram on, and training it.
 *
 * Rules: walk the folder without following symbolic links; skip `.git`, `node_modules` (and `.hg`, `.svn`),
 * files over `maxFileBytes` (default 1 MB), files whose extension marks them binary, and files that decode as
 * binary (a NUL byte in the first 512 bytes, as VS Code decides); honour `.gitignore` files (the root's and
 * nested ones, each for its own subtree) with the common syntax: `#` comments, `!` negation, a trailing `/`
 * for folders only, a `/` inside anchoring to the .gitignore's folder, `*`, `?`, `[...]` and `**`. The last
 * matching line wins; a folder that is ignored is not entered (as git does). Paths come back sorted.
 */
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { isIgnored, parseGitignore, type IgnoreRule, type RuleSet } from '../files/gitignore';
import { BinaryFileError, decodeFileBytes } from '../text/readFile';
import type { Tokenizer } from '../tokenizers/types';
import { yieldToEventLoop } from '../eventLoop';
import { throwIfAborted } from './model';
import { NgramTrainer, type NgramModel, type NgramOptions } from './ngram';
import { readBoundedSync, readBoundedTextSync } from '../files/boundedRead';

const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

interface WorkspaceFile {
  readonly path: string;
  /** Relative to the workspace root, with `/` separators: the file's key in the model. */
  readonly relativePath: string;
  readonly size: number;
}

interface WorkspaceFileOptions {
  readonly maxFileBytes?: number;
  /** Stop listing after this many files (default 100,000). */
  readonly maxFiles?: number;
  /** More folder or file names to skip anywhere. */
  readonly skipNames?: readonly string[];
}

const ALWAYS_SKIPPED = new Set(['.git', 'node_modules', '.hg', '.svn']);

const BINARY_EXTENSIONS = new Set(
  (
    'png jpg jpeg gif bmp webp ico icns tif tiff psd pdf zip gz tgz bz2 xz 7z rar zst jar war class o a so dylib dll exe ' +
    'bin dat wasm woff woff2 ttf otf eot mp3 mp4 m4a mov avi mkv webm wav ogg flac onnx safetensors pt pth ckpt npz npy ' +
    'pkl pickle parquet arrow feather sqlite db vsix node pyc pyo whl gguf'
  ).split(' '),
);

/** The nearest folder at or above `path` that holds `.git`, or undefined. */
export function findRepositoryRoot(path: string): string | undefined {
  let dir = resolve(path);
  try {
    if (!statSync(dir).isDirectory()) dir = dirname(dir);
  } catch {
    dir = dirname(dir);
  }
  for (;;) {
    try {
      lstatSync(join(dir, '.git'));
      return dir;
    } catch {
      // keep walking up
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The workspace a file belongs to: its repository's root, else its folder. */
export function defaultWorkspaceFor(file: string): string {
  return findRepositoryRoot(file) ?? dirname(resolve(file));
}

/** A folder's .gitignore rules (none when it has no readable .gitignore). */
function readGitignore(dir: string): IgnoreRule[] {
  try {
    return parseGitignore(readBoundedTextSync(join(dir, '.gitignore'), 'config'));
  } catch {
    return [];
  }
}

/** The workspace's text files to train on, sorted by relative path. */
export function listWorkspaceFiles(root: string, options: WorkspaceFileOptions = {}): WorkspaceFile[] {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxFiles = options.maxFiles ?? 100_000;
  const skip = new Set([...ALWAYS_SKIPPED, ...(options.skipNames ?? [])]);
  const out: WorkspaceFile[] = [];
  const rootAbs = resolve(root);
  const walk = (dir: string, scopes: RuleSet[]): void => {
    if (out.length >= maxFiles) return;
    const relDir = relative(rootAbs, dir).split(sep).join('/');
    const own = readGitignore(dir);
    const here = own.length ? [...scopes, { rules: own, dir: relDir, prefix: '' }] : scopes;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    names.sort();
    for (const name of names) {
      if (out.length >= maxFiles) return;
      if (skip.has(name)) continue;
      const path = join(dir, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      let st;
      try {
        st = lstatSync(path);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        if (!isIgnored(here, rel, true)) walk(path, here);
        continue;
      }
      if (!st.isFile() || st.size > maxFileBytes) continue;
      const dot = name.lastIndexOf('.');
      if (dot > 0 && BINARY_EXTENSIONS.has(name.slice(dot + 1).toLowerCase())) continue;
      if (isIgnored(here, rel, false)) continue;
      out.push({ path, relativePath: rel, size: st.size });
    }
  };
  walk(rootAbs, []);
  return out;
}

/** A workspace file's text as VS Code would show it, or undefined for a binary or unreadable file. */
function readWorkspaceText(path: string): string | undefined {
  try {
    return decodeFileBytes(readBoundedSync(path, 'document'), path).text;
  } catch (e) {
    if (e instanceof BinaryFileError) return undefined;
    return undefined;
  }
}

export interface WorkspaceTrainingResult {
  readonly model: NgramModel;
  readonly files: number;
  readonly skippedBinary: number;
  readonly tokens: number;
  readonly trainMs: number;
}

/**
 * Trains the workspace n-gram on files (as listed by listWorkspaceFiles): each file's text is encoded with the
 * tokenizer (special-token text as ordinary text) and counted under its relative path. Yields to the event
 * loop between files; progress counts files and tokens.
 */
export async function trainWorkspaceNgram(
  files: readonly WorkspaceFile[],
  tokenizer: Tokenizer,
  options: NgramOptions & {
    readonly signal?: AbortSignal;
    readonly onProgress?: (filesDone: number, filesTotal: number, tokens: number) => void;
    /** Read a file's text (default: from disk, undefined when binary). */
    readonly readText?: (file: WorkspaceFile) => string | undefined;
  } = {},
): Promise<WorkspaceTrainingResult> {
  const t0 = performance.now();
  const trainer = new NgramTrainer(tokenizer.vocabSize, options);
  const read = options.readText ?? ((f: WorkspaceFile) => readWorkspaceText(f.path));
  let skippedBinary = 0;
  let since = performance.now();
  for (let i = 0; i < files.length; i++) {
    throwIfAborted(options.signal);
    if (trainer.full) break;
    const text = read(files[i]);
    if (text === undefined) {
      skippedBinary++;
      continue;
    }
    trainer.addDocument(files[i].relativePath, tokenizer.encodeIds(text));
    if (performance.now() - since > 50) {
      options.onProgress?.(i + 1, files.length, trainer.tokens);
      await yieldToEventLoop();
      since = performance.now();
    }
  }
  options.onProgress?.(files.length, files.length, trainer.tokens);
  const files_ = trainer.documents;
  const tokens = trainer.tokens;
  const model = trainer.finish();
  return { model, files: files_, skippedBinary, tokens, trainMs: performance.now() - t0 };
}

/** The key a file has in a model trained on `root` (its relative path), or undefined when outside it. */
export function workspaceKey(root: string, file: string): string | undefined {
  const rel = relative(resolve(root), resolve(file));
  if (!rel || rel.startsWith('..') || resolve(rel) === rel) return undefined;
  return rel.split(sep).join('/');
}
