/**
 * The feature index on disk: one JSON file (the extension keeps it in its storage, the CLI where `--out`
 * says). Read back with every field checked: a file that is not an index, of another version, or of another
 * model or SAE is refused with one line naming it.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SaeError } from '../errors';
import { FeatureIndex, type FeatureIndexSource, type IndexedFile } from './featureIndex';
import { TopContexts, type ContextKey, type FeatureContext } from './topContexts';
import type { StoredLogitEffects } from './featureReport';

const FORMAT = 'token-inspector/feature-index';
const VERSION = 1;
/** An index file is N × features contexts; anything far larger is not one of ours. */
const MAX_INDEX_BYTES = 1024 * 1024 * 1024;

export interface StoredIndex {
  readonly index: FeatureIndex;
  /** The folder that was indexed (absolute). */
  readonly root: string;
  readonly logitEffects?: StoredLogitEffects;
}

interface IndexJson {
  format: string;
  version: number;
  root: string;
  source: FeatureIndexSource;
  capacity: number;
  files: IndexedFile[];
  features: { index: number; floor: [number, string, number] | null; contexts: FeatureContext[] }[];
  logitEffects: StoredLogitEffects | null;
}

export function indexToJson(stored: StoredIndex): string {
  const { index } = stored;
  const features: IndexJson['features'] = [];
  for (let f = 0; f < index.dSae; f++) {
    const t = index.topOf(f);
    if (!t.contexts.length && !t.floor) continue;
    features.push({ index: f, floor: t.floor ? [t.floor.activation, t.floor.path, t.floor.byteStart] : null, contexts: [...t.contexts] });
  }
  const json: IndexJson = { format: FORMAT, version: VERSION, root: stored.root, source: index.source, capacity: index.capacity, files: [...index.files.values()], features, logitEffects: stored.logitEffects ?? null };
  return JSON.stringify(json);
}

/** Writes the index atomically (a temporary file renamed over the old one). */
export function saveIndex(path: string, stored: StoredIndex): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, indexToJson(stored));
  renameSync(tmp, path);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function bad(path: string, what: string): never {
  throw new SaeError(`${path} is not a feature index this version can read (${what}); build it again with features-index`);
}

function checkContext(c: unknown, path: string): FeatureContext {
  if (!isObject(c)) bad(path, 'a context is not an object');
  const { activation, byteStart, byteEnd, utf16Start, utf16End, tokens, activations, focus } = c;
  if (!isNumber(activation) || typeof c.path !== 'string' || !isCount(byteStart) || !isCount(byteEnd) || !isCount(utf16Start) || !isCount(utf16End) || !isCount(focus)) bad(path, 'a context lacks its span');
  if (!Array.isArray(tokens) || !Array.isArray(activations) || tokens.length !== activations.length || focus >= tokens.length) bad(path, 'a context window is malformed');
  if (!tokens.every((t) => typeof t === 'string') || !activations.every(isNumber)) bad(path, 'a context window is malformed');
  return { activation, path: c.path, byteStart, byteEnd, utf16Start, utf16End, tokens: tokens as string[], activations: activations as number[], focus };
}

/** Parses an index file's text (see saveIndex). */
export function indexFromJson(text: string, path: string): StoredIndex {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    bad(path, `not JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw) || raw.format !== FORMAT) bad(path, 'not a feature index');
  if (raw.version !== VERSION) bad(path, `version ${String(raw.version)}, this version reads ${VERSION}`);
  const s = raw.source;
  if (!isObject(s) || typeof s.model !== 'string' || typeof s.sae !== 'string' || typeof s.hook !== 'string' || typeof s.encoder !== 'string' || !isCount(s.dSae) || s.dSae === 0 || s.dSae > 1 << 24) bad(path, 'its model and SAE are not named');
  if (s.saeId !== undefined && typeof s.saeId !== 'string') bad(path, 'its SAE id is not a string');
  if (!isCount(raw.capacity) || raw.capacity === 0 || raw.capacity > 10_000) bad(path, 'its capacity is out of range');
  if (typeof raw.root !== 'string') bad(path, 'its folder is not named');
  const source: FeatureIndexSource = { model: s.model, sae: s.sae, hook: s.hook, dSae: s.dSae, encoder: s.encoder, ...(typeof s.saeId === 'string' ? { saeId: s.saeId } : {}) };
  const index = new FeatureIndex(source, raw.capacity);
  if (!Array.isArray(raw.files) || !Array.isArray(raw.features)) bad(path, 'no files or features');
  const cells = source.dSae * 32;
  const files: IndexedFile[] = raw.files.map((f: unknown) => {
    if (!isObject(f) || typeof f.path !== 'string' || typeof f.hash !== 'string' || !isCount(f.tokens) || !Array.isArray(f.binCounts) || f.binCounts.length % 2) bad(path, 'a file entry is malformed');
    const bc = f.binCounts as unknown[];
    for (let i = 0; i < bc.length; i += 2) if (!isCount(bc[i]) || (bc[i] as number) >= cells || !isCount(bc[i + 1])) bad(path, `the histogram counts of ${f.path} are malformed`);
    return { path: f.path, hash: f.hash, tokens: f.tokens, binCounts: bc as number[] };
  });
  const top = Array.from({ length: source.dSae }, () => new TopContexts(raw.capacity as number));
  for (const e of raw.features as unknown[]) {
    if (!isObject(e) || !isCount(e.index) || e.index >= source.dSae || !Array.isArray(e.contexts) || e.contexts.length > (raw.capacity as number)) bad(path, 'a feature entry is malformed');
    let floor: ContextKey | undefined;
    if (e.floor !== null) {
      const fl = e.floor;
      if (!Array.isArray(fl) || fl.length !== 3 || !isNumber(fl[0]) || typeof fl[1] !== 'string' || !isCount(fl[2])) bad(path, 'a feature floor is malformed');
      floor = { activation: fl[0], path: fl[1], byteStart: fl[2] };
    }
    top[e.index] = new TopContexts(raw.capacity as number, e.contexts.map((c) => checkContext(c, path)), floor);
  }
  index.restore(files, top);
  return { index, root: raw.root, logitEffects: raw.logitEffects === null || raw.logitEffects === undefined ? undefined : checkEffects(raw.logitEffects, path, source.dSae) };
}

function checkEffects(v: unknown, path: string, dSae: number): StoredLogitEffects {
  if (!isObject(v) || typeof v.approximation !== 'string' || typeof v.norm !== 'string' || typeof v.tied !== 'boolean' || !Array.isArray(v.features)) bad(path, 'its logit effects are malformed');
  const list = (x: unknown) => {
    if (!Array.isArray(x) || !x.every((t) => isObject(t) && isCount(t.id) && typeof t.text === 'string' && isNumber(t.value))) bad(path, 'its logit effects are malformed');
    return x as { id: number; text: string; value: number }[];
  };
  const features = v.features.map((f: unknown) => {
    if (!isObject(f) || !isCount(f.index) || f.index >= dSae) bad(path, 'its logit effects are malformed');
    return { index: f.index, promoted: list(f.promoted), suppressed: list(f.suppressed) };
  });
  return { approximation: v.approximation, norm: v.norm, tied: v.tied, features };
}

/** Reads an index file (see saveIndex); undefined when there is none. */
export function loadIndex(path: string): StoredIndex | undefined {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return undefined;
  }
  if (size > MAX_INDEX_BYTES) bad(path, `${size} bytes`);
  return indexFromJson(readFileSync(path, 'utf8'), path);
}
