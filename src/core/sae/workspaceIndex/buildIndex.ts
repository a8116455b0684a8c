/**
 * Building and updating the workspace feature index: each text file read through the model (its own
 * tokenizer, the hidden states at the SAE's hook in windows, the SAE's own encoder: documentFeatures.ts, the
 * pipeline of the Features tab and `token-inspector features`), and its activations folded into the index.
 *
 * The files are the workspace n-gram's (lm/workspaceFiles.ts: `.gitignore`, `.git`/`node_modules` skipped,
 * size and binary limits) less VS Code's `files.exclude` globs. A file whose content hash the index already has
 * is not read through the model again, so an update costs the changed files only. One file's activations are
 * in memory at a time (the files are at most 1 MB each).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tokenJson } from '../../analysis/stream';
import { breathe } from '../../eventLoop';
import { globMatcher } from '../../files/glob';
import { listWorkspaceFiles } from '../../lm/workspaceFiles';
import { BinaryFileError, decodeFileBytes } from '../../text/readFile';
import { utf8Encode } from '../../text/utf8';
import type { Tokenizer } from '../../tokenizers/types';
import { documentFeatures } from '../documentFeatures';
import type { HiddenStateSource } from '../hidden';
import type { SparseAutoencoder } from '../types';
import type { FeatureIndex, FileActivations } from './featureIndex';

export interface IndexProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
  /** Files whose content the index already had. */
  readonly filesUnchanged: number;
  /** Tokens read through the model so far. */
  readonly tokensDone: number;
  readonly path?: string;
}

export interface IndexFile {
  readonly path: string;
  /** Relative to the indexed folder, with `/`: the file's key in the index. */
  readonly relativePath: string;
}

export interface IndexRunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: IndexProgress) => void;
  /** Match special tokens in file text (default false, as in the editor). */
  readonly allowSpecial?: boolean;
}

export interface IndexRunResult {
  /** Files read through the model. */
  readonly filesIndexed: number;
  readonly filesUnchanged: number;
  readonly filesRemoved: number;
  readonly filesSkipped: number;
  readonly tokens: number;
  readonly elapsedMs: number;
}

/** The model side of an index: the model's tokenizer and hidden states, and the SAE. */
export interface IndexModel {
  readonly tokenizer: Tokenizer;
  readonly source: HiddenStateSource;
  readonly sae: SparseAutoencoder;
}

/** The workspace's files to index: the n-gram's rules less the `exclude` globs (a path or any folder above it). */
export function listIndexFiles(root: string, options: { readonly exclude?: readonly string[]; readonly maxFileBytes?: number } = {}): IndexFile[] {
  const excluded = globMatcher(options.exclude ?? []);
  return listWorkspaceFiles(root, { maxFileBytes: options.maxFileBytes }).filter((f) => {
    const parts = f.relativePath.split('/');
    for (let i = 1; i <= parts.length; i++) if (excluded(parts.slice(0, i).join('/'))) return false;
    return true;
  });
}

export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** One file's activations under the model and SAE (the rows of its own tokens, without a BOS). */
export async function fileActivations(relativePath: string, bytes: Uint8Array, model: IndexModel, options: IndexRunOptions = {}): Promise<FileActivations> {
  const hash = contentHash(bytes);
  const text = decodeFileBytes(bytes, relativePath).text;
  if (text === '') {
    const none = new Uint32Array(1);
    return { path: relativePath, hash, tokenCount: 0, rowStart: none, featureIndex: new Uint32Array(0), activation: new Float32Array(0), byteOffsets: none, utf16Offsets: none, tokenText: () => '' };
  }
  const utf8 = utf8Encode(text.toWellFormed());
  const r = await documentFeatures(text, model.tokenizer, model.source, model.sae, { allowSpecial: options.allowSpecial, signal: options.signal });
  const first = r.tokens.findIndex((t) => t.streamIndex === 0);
  const enc = r.encoding;
  return {
    path: relativePath,
    hash,
    tokenCount: r.stream.count,
    rowStart: enc.rowStart.subarray(first, first + r.stream.count + 1),
    featureIndex: enc.featureIndex,
    activation: enc.activation,
    byteOffsets: r.stream.byteOffsets,
    utf16Offsets: r.stream.utf16Offsets,
    tokenText: (t) => tokenJson(r.stream, text, utf8, t).text,
  };
}

/**
 * Brings `index` up to date with `files`: files it has with the same content are kept, changed and new files
 * are read through the model, and (with `complete`, when `files` is the whole workspace) files it has that are
 * no longer listed are taken out.
 */
export async function updateIndex(index: FeatureIndex, files: readonly IndexFile[], model: IndexModel, options: IndexRunOptions & { readonly complete?: boolean } = {}): Promise<IndexRunResult> {
  const t0 = performance.now();
  let filesRemoved = 0;
  if (options.complete) {
    const listed = new Set(files.map((f) => f.relativePath));
    for (const path of [...index.files.keys()]) {
      if (!listed.has(path)) {
        index.removeFile(path);
        filesRemoved++;
      }
    }
  }
  let filesIndexed = 0;
  let filesUnchanged = 0;
  let filesSkipped = 0;
  let tokens = 0;
  const report = (done: number, path?: string) => options.onProgress?.({ filesDone: done, filesTotal: files.length, filesUnchanged, tokensDone: tokens, path });
  report(0);
  for (let i = 0; i < files.length; i++) {
    await breathe(options.signal);
    const f = files[i];
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(f.path);
    } catch {
      // gone or unreadable since it was listed: not in the index
      index.removeFile(f.relativePath);
      filesSkipped++;
      continue;
    }
    if (index.isCurrent(f.relativePath, contentHash(bytes))) {
      filesUnchanged++;
      report(i + 1, f.relativePath);
      continue;
    }
    let a: FileActivations;
    try {
      a = await fileActivations(f.relativePath, bytes, model, options);
    } catch (e) {
      if (!(e instanceof BinaryFileError)) throw e;
      index.removeFile(f.relativePath);
      filesSkipped++;
      continue;
    }
    index.addFile(a);
    filesIndexed++;
    tokens += a.tokenCount;
    report(i + 1, f.relativePath);
  }
  return { filesIndexed, filesUnchanged, filesRemoved, filesSkipped, tokens, elapsedMs: performance.now() - t0 };
}
