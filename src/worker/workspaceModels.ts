/**
 * The workspace n-gram models held by the tokenization worker: trained on first use (with progress), kept per
 * (workspace, tokenizer), saved to the extension's storage and read back in later sessions.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NgramModel } from '../core/lm/ngram';
import { listWorkspaceFiles, trainWorkspaceNgram } from '../core/lm/workspaceFiles';
import type { Tokenizer } from '../core/tokenizers/types';

const models = new Map<string, Promise<NgramModel>>();

function fileFor(storageDir: string, key: string): string {
  return join(storageDir, `ngram-${createHash('sha1').update(key).digest('hex').slice(0, 16)}.bin`);
}

/** The model for a workspace and tokenizer: from memory, from storage, or trained now. */
export function workspaceModel(
  root: string,
  tokenizerKey: string,
  tokenizer: Tokenizer,
  storageDir: string | null,
  onProgress: (done: number, total: number) => void,
  retrain = false,
): Promise<NgramModel> {
  const key = `${root}\n${tokenizerKey}`;
  let p = retrain ? undefined : models.get(key);
  if (p) return p;
  p = (async () => {
    const file = storageDir ? fileFor(storageDir, key) : undefined;
    if (!retrain && file && existsSync(file)) {
      try {
        return NgramModel.deserialize(readFileSync(file));
      } catch {
        // A damaged or older file: train again below.
      }
    }
    const files = listWorkspaceFiles(root);
    const { model } = await trainWorkspaceNgram(files, tokenizer, { onProgress: (done, total) => onProgress(done, total) });
    if (file && storageDir) {
      mkdirSync(storageDir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, model.serialize());
      renameSync(tmp, file);
    }
    return model;
  })();
  models.set(key, p);
  p.catch(() => models.delete(key));
  return p;
}
