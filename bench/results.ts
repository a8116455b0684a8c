/**
 * The shape of a bench run's results (bench/results/latest.json and `--json` output).
 */
import type { CorpusPart } from './corpus';
import type { EngineName } from './engines';
import type { IncrementalResult } from './incremental';
import type { TargetCheck } from './targets';
import type { WorkerMemoryResult } from './workerMemory';

export const RESULTS_SCHEMA_VERSION = 2;

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly nodeVersion: string;
  readonly platform: string;
  readonly arch: string;
  readonly osRelease: string;
  readonly totalMemoryGb: number;
  /** 1-minute load average when the run started and ended: other work on the machine makes timings noisy. */
  readonly loadAverage1m: { readonly atStart: number; readonly atEnd: number };
}

export interface RowBase {
  readonly tokenizerId: string;
  readonly engine: EngineName;
  readonly engineVersion: string;
  /** What the engine loaded: a bundled id, an encoding name, or the packaged tokenizer.json it was made from. */
  readonly target: string;
  readonly isReference: boolean;
  readonly referenceEngine: EngineName;
}

export interface OkRow extends RowBase {
  readonly status: 'ok';
  /** 10^6 bytes of UTF-8 per second: median of the timed runs (with --repeat, the median over rounds). */
  readonly mbPerSecond: number;
  /** Each round's figure (one per --repeat round, in order; NaN for a round that failed). */
  readonly roundsMbPerSecond: readonly number[];
  /** Why some rounds failed, when some did (the row stands on the others). */
  readonly roundErrors?: readonly string[];
  /** mbPerSecond / the fastest peer's on the same tokenizer (peers: every engine but Token Inspector's). */
  readonly ratioToFastestPeer: number | null;
  /** The fastest timed run, for comparison on a noisy machine. */
  readonly bestMbPerSecond: number;
  readonly encodeMsMedian: number;
  readonly encodeMsRuns: readonly number[];
  /** The first (warm-up) encode after the cold load: JIT warm-up, lazy tables, empty caches. */
  readonly firstEncodeMs: number;
  readonly coldLoadMs: number;
  readonly importMs: number;
  readonly constructMs: number;
  /** RSS high-water mark of the child that loaded and encoded (MiB). */
  readonly maxRssMb: number;
  /** RSS high-water mark of that child before loading the engine (MiB). */
  readonly baselineMaxRssMb: number;
  readonly tokenCount: number;
  /** Ids identical to the reference engine's on the whole corpus; null when there is nothing to compare. */
  readonly idsMatchReference: boolean | null;
  readonly firstMismatchIndex: number | null;
}

export interface ErrorRow extends RowBase {
  readonly status: 'error';
  readonly error: string;
}

export type ResultRow = OkRow | ErrorRow;

export interface BenchResults {
  readonly schemaVersion: number;
  readonly generatedAt: string;
  readonly durationMs: number;
  readonly machine: MachineInfo;
  readonly git: { readonly commit: string | null; readonly srcDirty: boolean | null };
  readonly settings: {
    readonly quick: boolean;
    readonly warmupRuns: number;
    readonly timedRuns: number;
    /** Interleaved rounds per engine (--repeat). */
    readonly repeat: number;
    readonly only: readonly string[] | null;
    readonly notes: readonly string[];
  };
  readonly corpus: {
    readonly sha256: string;
    readonly bytes: number;
    readonly utf16Length: number;
    readonly parts: readonly CorpusPart[];
  };
  readonly rows: readonly ResultRow[];
  readonly incremental: IncrementalResult | null;
  readonly workerMemory: WorkerMemoryResult | null;
  /** Every target with its figure (bench/targets.ts). */
  readonly targets: readonly TargetCheck[];
}
