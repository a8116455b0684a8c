/**
 * The workspace n-gram models held by the workspace jobs worker: trained on first use (with progress), kept per
 * (workspace, tokenizer), saved to the extension's storage and read back in later sessions.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NgramModel } from '../core/lm/ngram';
import { listWorkspaceFiles, trainWorkspaceNgram } from '../core/lm/workspaceFiles';
import type { Tokenizer } from '../core/tokenizers/types';

type Progress = (done: number, total: number) => void;

interface Training {
  readonly model: Promise<NgramModel>;
  /** Everyone waiting for this training hears its progress (each request's deadline is kept alive by it). */
  readonly listeners: Set<Progress>;
}

const models = new Map<string, Training>();

function fileFor(storageDir: string, key: string): string {
  return join(storageDir, `ngram-${createHash('sha1').update(key).digest('hex').slice(0, 16)}.bin`);
}

/** The model for a workspace and tokenizer: from memory, from storage, or trained now. */
export async function workspaceModel(root: string, tokenizerKey: string, tokenizer: Tokenizer, storageDir: string | null, onProgress: Progress, retrain = false): Promise<NgramModel> {
  const key = `${root}\n${tokenizerKey}`;
  const known = retrain ? undefined : models.get(key);
  if (known) {
    known.listeners.add(onProgress);
    try {
      return await known.model;
    } finally {
      known.listeners.delete(onProgress);
    }
  }
  const listeners = new Set<Progress>([onProgress]);
  const model = (async () => {
    const file = storageDir ? fileFor(storageDir, key) : undefined;
    if (!retrain && file && existsSync(file)) {
      try {
        return NgramModel.deserialize(readFileSync(file));
      } catch {
        // A damaged or older file: train again below.
      }
    }
    const files = listWorkspaceFiles(root);
    const { model } = await trainWorkspaceNgram(files, tokenizer, { onProgress: (done, total) => listeners.forEach((l) => l(done, total)) });
    if (file && storageDir) {
      mkdirSync(storageDir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, model.serialize());
      renameSync(tmp, file);
    }
    return model;
  })();
  const training: Training = { model, listeners };
  models.set(key, training);
  model.catch(() => {
    if (models.get(key) === training) models.delete(key);
  });
  try {
    return await model;
  } finally {
    listeners.delete(onProgress);
  }
}
