/**
 * The speed targets (issue 21) and the figure each run gives for them, so that the report prints every
 * ratio beside its target:
 * - OpenAI encodings: Token Inspector (which also computes spans) >= 1.25x gpt-tokenizer.
 * - Every Hugging Face vocabulary: >= 3x the Rust `tokenizers` binding.
 * - A single-character edit in the ~1 MB corpus: median <= 0.5 % and p99 <= 3 % of a full re-encode, with
 *   the edited stream identical to a full re-encode.
 * - The tokenization worker with three tokenizers and the ~1 MB document analysed: <= 300 MB resident.
 * A throughput ratio is taken within each round (the engines of a round ran one after another, under the
 * same load) and the median over rounds is compared with the target; the range shows the spread.
 */
import type { BenchResults, OkRow, ResultRow } from './results';
import type { EngineName } from './engines';
import { median } from './stats';
import { WORKER_MEMORY_TARGET_MB } from './workerMemory';

export interface TargetCheck {
  readonly what: string;
  /** The target, e.g. ">= 1.25x". */
  readonly target: string;
  /** The figure measured, e.g. "2.10x"; "n/a" when it could not be measured. */
  readonly figure: string;
  /** The figure's spread (ratios over rounds), when there is one. */
  readonly range: string | null;
  /** null when not measured. */
  readonly met: boolean | null;
}

/** OpenAI encodings held to gpt-tokenizer's speed. */
export const OPENAI_ENCODING_TARGETS: ReadonlySet<string> = new Set(['o200k_base', 'o200k_harmony', 'cl100k_base', 'p50k_base']);
export const OPENAI_MIN_RATIO = 1.25;
export const HF_MIN_RATIO = 3;
export const SINGLE_EDIT_MEDIAN_MAX = 0.005;
export const SINGLE_EDIT_P99_MAX = 0.03;

const MIB_TO_MB = 1.048576;

function ratioCheck(rows: readonly ResultRow[], tokenizerId: string, peer: EngineName, minimum: number): TargetCheck {
  const what = `${tokenizerId}: Token Inspector (with spans) vs ${peer}`;
  const target = `>= ${minimum}x`;
  const ours = rows.find((r): r is OkRow => r.status === 'ok' && r.tokenizerId === tokenizerId && r.engine === 'token-inspector');
  const other = rows.find((r): r is OkRow => r.status === 'ok' && r.tokenizerId === tokenizerId && r.engine === peer);
  if (!ours || !other) return { what, target, figure: 'n/a', range: null, met: null };
  const rounds = Math.min(ours.roundsMbPerSecond.length, other.roundsMbPerSecond.length);
  const ratios: number[] = [];
  for (let k = 0; k < rounds; k++) {
    const ratio = ours.roundsMbPerSecond[k] / other.roundsMbPerSecond[k];
    if (Number.isFinite(ratio)) ratios.push(ratio);
  }
  if (ratios.length === 0) return { what, target, figure: 'n/a', range: null, met: null };
  const ratio = median(ratios);
  const range = ratios.length > 1 ? `${Math.min(...ratios).toFixed(2)}x-${Math.max(...ratios).toFixed(2)}x over ${ratios.length} rounds` : null;
  return { what, target, figure: `${ratio.toFixed(2)}x`, range, met: ratio >= minimum };
}

function throughputChecks(rows: readonly ResultRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const ids = [...new Set(rows.map((r) => r.tokenizerId))];
  for (const id of ids) {
    if (OPENAI_ENCODING_TARGETS.has(id)) checks.push(ratioCheck(rows, id, 'gpt-tokenizer', OPENAI_MIN_RATIO));
    if (rows.some((r) => r.tokenizerId === id && r.referenceEngine === 'hf-tokenizers-rust')) checks.push(ratioCheck(rows, id, 'hf-tokenizers-rust', HF_MIN_RATIO));
  }
  return checks;
}

function percent(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

function incrementalChecks(results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const inc = results.incremental;
  const what = (s: string): string => `incremental (${inc?.tokenizerId ?? 'none'}): ${s}`;
  if (inc === null || inc.status !== 'ok') {
    return [
      { what: what('single-character edit, median / full re-encode'), target: `<= ${percent(SINGLE_EDIT_MEDIAN_MAX)}`, figure: 'n/a', range: null, met: null },
      { what: what('single-character edit, p99 / full re-encode'), target: `<= ${percent(SINGLE_EDIT_P99_MAX)}`, figure: 'n/a', range: null, met: null },
    ];
  }
  const median = inc.latency.singleChar.medianMs / inc.fullEncodeMsMedian;
  const p99 = inc.latency.singleChar.p99Ms / inc.fullEncodeMsMedian;
  return [
    {
      what: what('single-character edit, median / full re-encode'),
      target: `<= ${percent(SINGLE_EDIT_MEDIAN_MAX)}`,
      figure: `${percent(median)} (${inc.latency.singleChar.medianMs.toFixed(3)} of ${inc.fullEncodeMsMedian.toFixed(1)} ms; in process CPU time, all threads: ${percent(inc.singleCharCpu.medianMs / inc.fullEncodeCpuMsMedian)})`,
      range: null,
      met: median <= SINGLE_EDIT_MEDIAN_MAX,
    },
    {
      what: what('single-character edit, p99 / full re-encode'),
      target: `<= ${percent(SINGLE_EDIT_P99_MAX)}`,
      figure: `${percent(p99)} (${inc.latency.singleChar.p99Ms.toFixed(3)} ms; in process CPU time, all threads: ${percent(inc.singleCharCpu.p99Ms / inc.fullEncodeCpuMsMedian)})`,
      range: null,
      met: p99 <= SINGLE_EDIT_P99_MAX,
    },
    {
      what: what('edited stream = full re-encode'),
      target: 'identical',
      figure: `${inc.mismatchedEdits} of ${inc.checkedEdits} checked edits differ`,
      range: null,
      met: inc.mismatchedEdits === 0,
    },
  ];
}

function workerCheck(results: Omit<BenchResults, 'targets'>): TargetCheck {
  const w = results.workerMemory;
  const what = `tokenization worker, ${w ? w.tokenizers.join(' + ') : 'three tokenizers'}, ~1 MB document: resident memory`;
  const target = `<= ${WORKER_MEMORY_TARGET_MB} MB`;
  if (w === null || !w.ok) return { what, target, figure: w && !w.ok ? `n/a (${w.error})` : 'n/a', range: null, met: null };
  const mb = w.rssAfterMb * MIB_TO_MB;
  return { what, target, figure: `${mb.toFixed(0)} MB (peak ${(w.peakRssMb * MIB_TO_MB).toFixed(0)} MB)`, range: null, met: mb <= WORKER_MEMORY_TARGET_MB };
}

export function checkTargets(results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  return [...throughputChecks(results.rows), ...incrementalChecks(results), workerCheck(results)];
}
