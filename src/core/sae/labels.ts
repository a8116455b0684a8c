/**
 * Feature labels: a Neuronpedia explanations export (JSONL rows `{modelId, layer, index, description, …}`,
 * optionally gzipped, or a JSON array of such rows) or a plain `{"index": "label"}` JSON object. Neuronpedia
 * rows are joined to the SAE through SAELens's `metadata.neuronpedia_id` = `{modelId}/{sourceId}` (the rows
 * call the source `layer`). Features without a label are shown by their index.
 */
import { gunzipSync } from 'node:zlib';
import { SaeError } from './errors';
import { formatBytes, READ_CAPS, readBoundedSync } from '../files/boundedRead';

export interface FeatureLabels {
  /** What the labels were read from. */
  readonly source: string;
  /** The Neuronpedia `{modelId}/{sourceId}` the rows belong to, when the file says. */
  readonly neuronpediaId?: string;
  readonly count: number;
  get(index: number): string | undefined;
  /** The largest feature index labelled (−1 when none). */
  readonly maxIndex: number;
}

export interface LabelOptions {
  /** The SAE's `{modelId}/{sourceId}`; picks the rows of that SAE from an export holding several. */
  readonly neuronpediaId?: string;
}

/** The label to show: the label, else `#index`. */
export function featureDisplayName(labels: FeatureLabels | undefined, index: number): string {
  return labels?.get(index) ?? `#${index}`;
}

function featureIndexOf(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? parseInt(v, 10) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

interface Row {
  readonly modelId?: string;
  readonly sourceId?: string;
  readonly index: number;
  readonly description: string;
}

function rowOf(v: unknown, where: string): Row | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SaeError(`${where} is not a JSON object`);
  const o = v as Record<string, unknown>;
  const index = featureIndexOf(o.index);
  if (index === undefined) throw new SaeError(`${where} has no feature index (an "index" field)`);
  const description = typeof o.description === 'string' ? o.description.trim() : typeof o.explanation === 'string' ? o.explanation.trim() : '';
  if (!description) return undefined;
  const modelId = typeof o.modelId === 'string' ? o.modelId : undefined;
  const sourceId = typeof o.layer === 'string' ? o.layer : typeof o.sourceId === 'string' ? o.sourceId : undefined;
  return { modelId, sourceId, index, description };
}

function fromMap(map: Map<number, string>, source: string, neuronpediaId?: string): FeatureLabels {
  let maxIndex = -1;
  for (const i of map.keys()) if (i > maxIndex) maxIndex = i;
  return { source, neuronpediaId, count: map.size, maxIndex, get: (i) => map.get(i) };
}

function fromRows(rows: Row[], source: string, options: LabelOptions): FeatureLabels {
  const sources = new Map<string, number>();
  for (const r of rows) if (r.modelId !== undefined && r.sourceId !== undefined) sources.set(`${r.modelId}/${r.sourceId}`, (sources.get(`${r.modelId}/${r.sourceId}`) ?? 0) + 1);
  let wanted: string | undefined;
  if (options.neuronpediaId !== undefined && sources.size > 0) {
    if (!sources.has(options.neuronpediaId)) {
      throw new SaeError(`${source}: has no labels for ${options.neuronpediaId} (the SAE's neuronpedia_id); it holds ${[...sources.keys()].slice(0, 6).join(', ')}${sources.size > 6 ? ', …' : ''}`);
    }
    wanted = options.neuronpediaId;
  } else if (sources.size > 1) {
    throw new SaeError(`${source}: holds labels of ${sources.size} SAEs (${[...sources.keys()].slice(0, 6).join(', ')}) and the SAE names none (no neuronpedia_id): say which`);
  } else if (sources.size === 1) wanted = [...sources.keys()][0];
  const map = new Map<number, string>();
  for (const r of rows) {
    if (wanted !== undefined && r.modelId !== undefined && `${r.modelId}/${r.sourceId}` !== wanted) continue;
    // Several explanations for one feature: the first one in the file is kept.
    if (!map.has(r.index)) map.set(r.index, r.description);
  }
  return fromMap(map, source, wanted);
}

/** Parses label text (JSON or JSONL); `source` names it in messages. */
export function parseFeatureLabels(text: string, source: string, options: LabelOptions = {}): FeatureLabels {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') throw new SaeError(`${source}: is empty`);
  let whole: unknown;
  let isJson = true;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    isJson = false;
  }
  if (isJson) {
    if (Array.isArray(whole)) {
      const rows = whole.map((v, i) => rowOf(v, `${source}: element ${i}`)).filter((r): r is Row => r !== undefined);
      return fromRows(rows, source, options);
    }
    if (typeof whole === 'object' && whole !== null) {
      const o = whole as Record<string, unknown>;
      // One JSONL row alone parses as one object.
      if ('index' in o && ('description' in o || 'modelId' in o)) return fromRows([rowOf(o, `${source}: line 1`)].filter((r): r is Row => r !== undefined), source, options);
      if (Array.isArray(o.explanations)) return parseFeatureLabels(JSON.stringify(o.explanations), source, options);
      const map = new Map<number, string>();
      for (const [k, v] of Object.entries(o)) {
        const index = featureIndexOf(k);
        if (index === undefined) throw new SaeError(`${source}: key ${JSON.stringify(k)} is not a feature index (a plain labels file maps "index" to "label")`);
        if (typeof v !== 'string') throw new SaeError(`${source}: the label of feature ${k} is not a string`);
        if (v.trim()) map.set(index, v.trim());
      }
      return fromMap(map, source);
    }
    throw new SaeError(`${source}: is neither a Neuronpedia export nor an {"index": "label"} object`);
  }
  const rows: Row[] = [];
  const lines = trimmed.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new SaeError(`${source}: line ${i + 1} is not JSON (a Neuronpedia export has one JSON object per line)`);
    }
    const r = rowOf(v, `${source}: line ${i + 1}`);
    if (r) rows.push(r);
  }
  return fromRows(rows, source, options);
}

/** Reads a labels file (.json, .jsonl, either gzipped). */
export function loadFeatureLabels(path: string, options: LabelOptions = {}): FeatureLabels {
  let bytes: Uint8Array;
  try {
    bytes = readBoundedSync(path, 'labels', { error: (m) => new SaeError(m) });
  } catch (e) {
    if (e instanceof SaeError) throw e;
    throw new SaeError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const cap = READ_CAPS.labels.bytes;
    try {
      // Inflated under the same cap as a plain labels file: a small gzip bomb stops there.
      bytes = gunzipSync(bytes, { maxOutputLength: cap });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new SaeError(`${path} inflates to over ${formatBytes(cap)}, too large to be a labels file (the limit is ${formatBytes(cap)})`);
      throw new SaeError(`${path}: a broken gzip file (${(e as Error).message})`);
    }
  }
  return parseFeatureLabels(new TextDecoder('utf-8').decode(bytes), path, options);
}

/** Throws when the labels name features the SAE does not have (the labels of another SAE). */
export function checkLabelsFit(labels: FeatureLabels, dSae: number): void {
  if (labels.maxIndex >= dSae) throw new SaeError(`${labels.source}: labels feature ${labels.maxIndex} but the SAE has ${dSae} features: these are the labels of another SAE`);
}
