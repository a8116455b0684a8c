/**
 * One measurement, run in a fresh child process (bench/coldLoad.ts) so that load time is a true cold load
 * and peak memory belongs to one engine: load the engine, encode the corpus once (warm-up), then time
 * `runs` more encodes. The ids of the last encode go to a file for the parent to compare.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadEncoder, type EngineName, type EngineSpec } from './engines';
import { BYTES_PER_MB, median } from './stats';

export interface MeasureOptions {
  readonly warmupRuns: number;
  readonly timedRuns: number;
  /** Where to write the ids of the last encode (little-endian uint32). */
  readonly idsOutPath?: string;
}

/** What a child prints (one JSON object on stdout). */
export interface Measurement {
  readonly ok: true;
  readonly tokenizerId: string;
  readonly engine: EngineName;
  readonly target: string;
  readonly corpusSha256: string;
  readonly corpusBytes: number;
  readonly importMs: number;
  readonly constructMs: number;
  /** importMs + constructMs, in a process that had loaded no tokenizer before. */
  readonly coldLoadMs: number;
  /** The warm-up encodes (the first one includes JIT warm-up and cache filling). */
  readonly warmupEncodeMs: readonly number[];
  readonly encodeMsRuns: readonly number[];
  readonly encodeMsMedian: number;
  /** corpusBytes / 10^6 per second, at the median run. */
  readonly mbPerSecond: number;
  readonly tokenCount: number;
  /** SHA-256 of the ids as little-endian uint32. */
  readonly idsSha256: string;
  /** Process RSS high-water mark (MiB) before loading the engine: node, tsx and the corpus. */
  readonly baselineMaxRssMb: number;
  /** Process RSS high-water mark (MiB) after loading and all encodes. */
  readonly maxRssMb: number;
}

export interface MeasurementFailure {
  readonly ok: false;
  readonly tokenizerId: string;
  readonly engine: string;
  readonly error: string;
}

export type MeasurementResult = Measurement | MeasurementFailure;

/** `process.resourceUsage().maxRSS` (KiB) in MiB. */
export function maxRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function idsToUint32(ids: ArrayLike<number>): Uint32Array {
  return ids instanceof Uint32Array ? ids : Uint32Array.from(ids);
}

function uint32Bytes(ids: Uint32Array): Buffer {
  return Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength);
}

async function timeEncode(encode: (text: string) => Promise<ArrayLike<number>>, text: string): Promise<{ ms: number; ids: ArrayLike<number> }> {
  const t0 = performance.now();
  const ids = await encode(text);
  return { ms: performance.now() - t0, ids };
}

export async function measure(
  tokenizerId: string,
  spec: EngineSpec,
  corpus: { readonly text: string; readonly sha256: string },
  options: MeasureOptions,
): Promise<Measurement> {
  const corpusBytes = Buffer.byteLength(corpus.text, 'utf8');
  const baselineMaxRssMb = maxRssMb();
  const loaded = await loadEncoder(spec);
  const warmupEncodeMs: number[] = [];
  const encodeMsRuns: number[] = [];
  let ids: ArrayLike<number> = [];
  for (let i = 0; i < options.warmupRuns; i++) {
    const r = await timeEncode((t) => loaded.encoder.encode(t), corpus.text);
    warmupEncodeMs.push(r.ms);
    ids = r.ids;
  }
  for (let i = 0; i < options.timedRuns; i++) {
    const r = await timeEncode((t) => loaded.encoder.encode(t), corpus.text);
    encodeMsRuns.push(r.ms);
    ids = r.ids;
  }
  const peakRssMb = maxRssMb();
  const idArray = idsToUint32(ids);
  if (options.idsOutPath) writeFileSync(options.idsOutPath, uint32Bytes(idArray));
  const encodeMsMedian = median(encodeMsRuns);
  return {
    ok: true,
    tokenizerId,
    engine: spec.engine,
    target: spec.target,
    corpusSha256: corpus.sha256,
    corpusBytes,
    importMs: loaded.importMs,
    constructMs: loaded.constructMs,
    coldLoadMs: loaded.importMs + loaded.constructMs,
    warmupEncodeMs,
    encodeMsRuns,
    encodeMsMedian,
    mbPerSecond: corpusBytes / BYTES_PER_MB / (encodeMsMedian / 1000),
    tokenCount: idArray.length,
    idsSha256: createHash('sha256').update(uint32Bytes(idArray)).digest('hex'),
    baselineMaxRssMb,
    maxRssMb: peakRssMb,
  };
}
