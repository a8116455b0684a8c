/**
 * Human-readable output of a bench run: a plain-text table for the terminal and a Markdown table for the
 * README.
 */
import type { IncrementalResult } from './incremental';
import type { BenchResults, ResultRow } from './results';
import type { TargetCheck } from './targets';
import type { WorkerMemoryResult } from './workerMemory';

const HEADERS = ['Tokenizer', 'Engine', 'MB/s', 'vs fastest peer', 'Cold load ms', '1st encode ms', 'Max RSS MiB', 'Tokens', 'Ids = ref'] as const;

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function grouped(value: number): string {
  return value.toLocaleString('en-US');
}

function engineLabel(row: ResultRow): string {
  return row.engine === 'token-inspector' ? 'token-inspector (spans)' : row.engine;
}

function idsCell(row: ResultRow): string {
  if (row.status !== 'ok') return '';
  if (row.isReference) return 'reference';
  if (row.idsMatchReference === null) return 'n/a';
  return row.idsMatchReference ? 'yes' : `NO (token ${row.firstMismatchIndex ?? '?'})`;
}

function rowCells(row: ResultRow): string[] {
  if (row.status === 'error') return [row.tokenizerId, engineLabel(row), 'error', row.error.slice(0, 60), '', '', '', '', ''];
  return [
    row.tokenizerId,
    engineLabel(row),
    fixed(row.mbPerSecond, 2),
    row.ratioToFastestPeer === null ? 'n/a' : `${fixed(row.ratioToFastestPeer, 2)}x`,
    fixed(row.coldLoadMs, 0),
    fixed(row.firstEncodeMs, 0),
    fixed(row.maxRssMb, 0),
    grouped(row.tokenCount),
    idsCell(row),
  ];
}

const NUMERIC_COLUMNS = new Set([2, 3, 4, 5, 6, 7]);

function padRow(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (NUMERIC_COLUMNS.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
}

function textTable(rows: readonly ResultRow[]): string {
  const body = rows.map(rowCells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const lines = [padRow(HEADERS, widths), widths.map((w) => '-'.repeat(w)).join('  ')];
  let previous = '';
  for (const cells of body) {
    if (previous && cells[0] !== previous) lines.push('');
    previous = cells[0];
    lines.push(padRow(cells, widths));
  }
  return lines.join('\n');
}

function markdownTable(rows: readonly ResultRow[]): string {
  const align = HEADERS.map((_, i) => (NUMERIC_COLUMNS.has(i) ? '---:' : '---'));
  const lines = [`| ${HEADERS.join(' | ')} |`, `| ${align.join(' | ')} |`];
  for (const row of rows) {
    const cells = rowCells(row);
    if (row.engine === 'token-inspector') cells[1] = `**${cells[1]}**`;
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function incrementalLines(result: IncrementalResult | null): string[] {
  if (result === null) return ['Incremental: skipped'];
  if (result.status === 'not available') return [`Incremental (${result.tokenizerId}): not available (${result.reason})`];
  if (result.status === 'error') return [`Incremental (${result.tokenizerId}): ERROR ${result.error}`];
  const { all, singleChar, paste } = result.latency;
  return [
    `Incremental (${result.tokenizerId}, ${result.implementation}, ${grouped(result.initialDocumentBytes)}-byte document, seed ${result.seed}):`,
    `  construct ${fixed(result.constructMs, 1)} ms; full re-encode median ${fixed(result.fullEncodeMsMedian, 1)} ms`,
    ...(result.windowTokens
      ? [`  tokens re-encoded per edit: median ${result.windowTokens.median}, p99 ${result.windowTokens.p99}; ${result.windowTokens.fullReencodeEdits} edits re-encoded the whole document`]
      : []),
    `  single-char edits (${singleChar.count}): median ${fixed(singleChar.medianMs, 3)} ms, p99 ${fixed(singleChar.p99Ms, 3)} ms, max ${fixed(singleChar.maxMs, 3)} ms`,
    `  pastes (${paste.count}): median ${fixed(paste.medianMs, 3)} ms, p99 ${fixed(paste.p99Ms, 3)} ms, max ${fixed(paste.maxMs, 3)} ms`,
    `  all edits (${all.count}): median ${fixed(all.medianMs, 3)} ms, p99 ${fixed(all.p99Ms, 3)} ms`,
    `  single-char edit / full re-encode: median ${fixed((100 * singleChar.medianMs) / result.fullEncodeMsMedian, 2)} %, p99 ${fixed((100 * singleChar.p99Ms) / result.fullEncodeMsMedian, 2)} %`,
    `  in process CPU time: single-char edit median ${fixed(result.singleCharCpu.medianMs, 3)} ms, p99 ${fixed(result.singleCharCpu.p99Ms, 3)} ms; full re-encode median ${fixed(result.fullEncodeCpuMsMedian, 1)} ms (wall-clock time includes time the process was not scheduled; CPU time counts every thread of the process, the garbage collector's helpers included, so an edit that starts a concurrent collection pays for it here)`,
    `  then reading the stream's flat arrays (every 10th edit, ${result.streamArrays.count}): median ${fixed(result.streamArrays.medianMs, 3)} ms, p99 ${fixed(result.streamArrays.p99Ms, 3)} ms`,
    `  correctness: ${result.mismatchedEdits === 0 ? 'identical' : `${result.mismatchedEdits} MISMATCHED`} on ${result.checkedEdits} checked edits (${result.checkPolicy})`,
    ...result.mismatches.map((m) => `    edit ${m.editIndex} (${m.edit.kind} at ${m.edit.utf16Start}, -${m.edit.utf16DeleteCount} +${m.edit.insertLength}): ${m.what}`),
  ];
}

/** Rows that stand on fewer rounds than were run. */
function failedRoundLines(rows: readonly ResultRow[]): string[] {
  const lines: string[] = [];
  for (const r of rows) {
    if (r.status === 'ok' && r.roundErrors?.length) lines.push(`${r.tokenizerId} x ${r.engine}: ${r.roundErrors.length} of ${r.roundsMbPerSecond.length} rounds failed (${r.roundErrors[0]}); its figures are those of the other rounds`);
  }
  return lines;
}

function workerMemoryLines(w: WorkerMemoryResult | null): string[] {
  if (w === null) return ['Worker memory: skipped'];
  if (!w.ok) return [`Worker memory (${w.tokenizers.join(', ')}): not available (${w.error})`];
  return [
    `Worker memory (${w.worker} in a fresh Node process, ${w.tokenizers.join(', ')}; ${grouped(w.documentBytes)}-byte document analysed under each and counted under each, then ${w.edits} edits at typing pace):`,
    `  resident ${fixed(w.rssAfterMb, 0)} MiB after (${fixed(w.rssBeforeWorkerMb, 0)} MiB of it Node before the worker started), peak ${fixed(w.peakRssMb, 0)} MiB; tokens ${w.tokensPerTokenizer.map(grouped).join(' / ')}`,
  ];
}

function targetCells(t: TargetCheck): string[] {
  return [t.what, t.target, t.figure, t.range ?? '', t.met === null ? 'not measured' : t.met ? 'yes' : 'NO'];
}

const TARGET_HEADERS = ['Target', 'Wanted', 'Measured', 'Spread', 'Met'] as const;

function targetsText(targets: readonly TargetCheck[]): string {
  const body = targets.map(targetCells);
  const widths = TARGET_HEADERS.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(TARGET_HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function targetsMarkdown(targets: readonly TargetCheck[]): string {
  return [`| ${TARGET_HEADERS.join(' | ')} |`, '| --- | --- | --- | --- | --- |', ...targets.map((t) => `| ${targetCells(t).join(' | ')} |`)].join('\n');
}

function headerLines(results: BenchResults): string[] {
  const { machine, corpus, settings } = results;
  return [
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.nodeVersion} (${machine.platform} ${machine.arch}), load average ${fixed(machine.loadAverage1m.atStart, 2)} at start` +
      (results.git.commit ? `; commit ${results.git.commit}${results.git.srcDirty ? ' + uncommitted src/ changes' : ''}` : ''),
    `Corpus: ${grouped(corpus.bytes)} bytes, sha256 ${corpus.sha256} (${corpus.parts.length} parts)`,
    `Runs: ${settings.warmupRuns} warm-up + ${settings.timedRuns} timed per engine (median), each engine in a fresh process` +
      (settings.repeat > 1 ? `, ${settings.repeat} interleaved rounds` : '') +
      (settings.quick ? ' [--quick]' : ''),
  ];
}

export function formatText(results: BenchResults): string {
  return [
    ...headerLines(results),
    '',
    textTable(results.rows),
    ...failedRoundLines(results.rows),
    '',
    ...incrementalLines(results.incremental),
    '',
    ...workerMemoryLines(results.workerMemory),
    '',
    'Targets:',
    targetsText(results.targets),
    '',
    ...results.settings.notes.map((n) => `Note: ${n}`),
  ].join('\n');
}

export function formatMarkdown(results: BenchResults): string {
  return [
    ...headerLines(results).map((l) => `${l}  `),
    '',
    markdownTable(results.rows),
    ...failedRoundLines(results.rows).map((l) => `\n${l}`),
    '',
    ...incrementalLines(results.incremental).map((l) => (l.startsWith('  ') ? `- ${l.trim()}` : l)),
    '',
    ...workerMemoryLines(results.workerMemory).map((l) => (l.startsWith('  ') ? `- ${l.trim()}` : l)),
    '',
    targetsMarkdown(results.targets),
    '',
    ...results.settings.notes.map((n) => `- ${n}`),
  ].join('\n');
}

export function formatCorpusParts(results: BenchResults): string {
  return results.corpus.parts.map((p) => `  ${String(p.bytes).padStart(8)}  ${p.name}`).join('\n');
}
