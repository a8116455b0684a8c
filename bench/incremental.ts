/**
 * Incremental re-tokenization benchmark: edits in a ~1 MB document, latency per edit, and a check that the
 * incremental stream equals a full re-encode.
 *
 * The core's incremental API (src/core/analysis/incremental.ts) is expected to export
 *   class IncrementalDocument {
 *     constructor(tokenizer: Tokenizer, text: string);
 *     applyEdit(utf16Start: number, utf16DeleteCount: number, insertText: string): void;
 *     readonly stream: TokenStream;
 *     readonly text: string;
 *   }
 * The core shipped it as `DocumentTokens` in src/core/analysis/documentTokens.ts (same constructor, applyEdit,
 * stream and text), so the bench takes the first of those two modules that exists, and reports "not
 * available" when neither does. If the document exposes `lastEdit: { windowTokens, fullReencode }` (as
 * DocumentTokens does), the report also says how many tokens the edits re-encoded.
 *
 * Edits (seeded, so every run makes the same ones): 1,000 single-character inserts and deletes (a random
 * character of the document typed at a random place, or one character deleted) and 100 pastes (50-2,000
 * characters copied from elsewhere in the document, half of them replacing a selection of up to 200
 * characters), one paste after every 10 single-character edits. Positions never split a surrogate pair.
 * Latency = applyEdit() plus reading `stream` (an implementation may defer work to the getter), timed in a
 * pass of edits alone. A second pass applies the same edits to a new document and checks it against full
 * re-encodes (whose time is the reference cost), and measures what a consumer that needs the flat arrays
 * then pays, on every 10th edit: reading all five arrays of a fresh `stream` (DocumentTokens builds them on
 * first touch, one pass over the document).
 */
import { createRequire } from 'node:module';
import type { Tokenizer, TokenStream } from '../src/core/tokenizers/types';
import { firstDifference, median, mulberry32, quantile, randomInt, type Rng } from './stats';

export interface IncrementalDocumentLike {
  applyEdit(utf16Start: number, utf16DeleteCount: number, insertText: string): void;
  readonly stream: TokenStream;
  readonly text: string;
}

export type IncrementalDocumentConstructor = new (tokenizer: Tokenizer, text: string) => IncrementalDocumentLike;

export type IncrementalModuleLookup =
  | { readonly available: true; readonly IncrementalDocument: IncrementalDocumentConstructor; readonly implementation: string }
  | { readonly available: false; readonly reason: string };

/** Where the core's incremental document may live, in order of preference (paths relative to bench/). */
export const INCREMENTAL_CANDIDATES: readonly { readonly modulePath: string; readonly exportName: string }[] = [
  { modulePath: '../src/core/analysis/incremental', exportName: 'IncrementalDocument' },
  { modulePath: '../src/core/analysis/documentTokens', exportName: 'DocumentTokens' },
];

const requireHere = createRequire(__filename);

/** `../src/x/y` -> `src/x/y.ts`, for messages. */
function sourceFile(modulePath: string): string {
  return `${modulePath.replace(/^\.\.\//, '')}.ts`;
}

function resolveOrUndefined(modulePath: string): string | undefined {
  try {
    return requireHere.resolve(modulePath);
  } catch {
    return undefined;
  }
}

/** Finds the core's incremental document class; "not available" when no candidate module exists (yet). */
export function findIncrementalModule(): IncrementalModuleLookup {
  for (const { modulePath, exportName } of INCREMENTAL_CANDIDATES) {
    const resolved = resolveOrUndefined(modulePath);
    if (resolved === undefined) continue;
    const exported = (requireHere(resolved) as Record<string, unknown>)[exportName];
    const implementation = `${sourceFile(modulePath)}#${exportName}`;
    if (typeof exported !== 'function') return { available: false, reason: `${implementation} is not a class` };
    return { available: true, IncrementalDocument: exported as IncrementalDocumentConstructor, implementation };
  }
  return { available: false, reason: `none of ${INCREMENTAL_CANDIDATES.map((c) => sourceFile(c.modulePath)).join(', ')} exists yet` };
}

export interface IncrementalOptions {
  readonly singleCharEdits: number;
  readonly pasteEdits: number;
  readonly seed: number;
  /** Check every edit up to this many, then every `checkEvery`-th edit (and the last). */
  readonly checkAllFirst: number;
  readonly checkEvery: number;
}

export const FULL_INCREMENTAL_OPTIONS: IncrementalOptions = { singleCharEdits: 1000, pasteEdits: 100, seed: 20240601, checkAllFirst: 100, checkEvery: 10 };
export const QUICK_INCREMENTAL_OPTIONS: IncrementalOptions = { singleCharEdits: 100, pasteEdits: 10, seed: 20240601, checkAllFirst: 100, checkEvery: 10 };

type EditKind = 'insert-char' | 'delete-char' | 'paste';

interface Edit {
  readonly kind: EditKind;
  readonly utf16Start: number;
  readonly utf16DeleteCount: number;
  readonly insertText: string;
}

export interface LatencyStats {
  readonly count: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface IncrementalMismatch {
  readonly editIndex: number;
  readonly edit: { readonly kind: EditKind; readonly utf16Start: number; readonly utf16DeleteCount: number; readonly insertLength: number };
  readonly what: string;
}

/** What DocumentTokens reports about its last edit. */
interface LastEditStats {
  readonly windowTokens: number;
  readonly fullReencode: boolean;
}

function lastEditOf(doc: IncrementalDocumentLike): LastEditStats | undefined {
  const stats = (doc as { lastEdit?: unknown }).lastEdit;
  if (typeof stats !== 'object' || stats === null) return undefined;
  const { windowTokens, fullReencode } = stats as Record<string, unknown>;
  return typeof windowTokens === 'number' && typeof fullReencode === 'boolean' ? { windowTokens, fullReencode } : undefined;
}

export interface IncrementalReport {
  readonly status: 'ok';
  readonly tokenizerId: string;
  /** Module and class measured. */
  readonly implementation: string;
  readonly seed: number;
  readonly initialDocumentBytes: number;
  readonly finalDocumentBytes: number;
  /** new IncrementalDocument(tokenizer, corpus) plus reading its stream. */
  readonly constructMs: number;
  readonly latency: { readonly all: LatencyStats; readonly singleChar: LatencyStats; readonly paste: LatencyStats };
  /**
   * The process's CPU time over each single-character edit (process.cpuUsage, every thread: the collector's
   * helper threads too): on a shared machine the wall-clock figures include time the process was not running
   * at all.
   */
  readonly singleCharCpu: LatencyStats;
  /** A full tokenizer.encode(text) of the document, median over the checks: what an edit costs without incremental. */
  readonly fullEncodeMsMedian: number;
  /** The same in process CPU time. */
  readonly fullEncodeCpuMsMedian: number;
  /** Reading every typed array of a fresh `stream` after an edit (sampled on every 10th edit). */
  readonly streamArrays: LatencyStats;
  /** From the document's `lastEdit`, when it has one: tokens re-encoded per edit, and edits that re-encoded everything. */
  readonly windowTokens: { readonly median: number; readonly p99: number; readonly fullReencodeEdits: number } | null;
  readonly checkPolicy: string;
  readonly checkedEdits: number;
  readonly mismatchedEdits: number;
  /** The first few mismatches (at most 5). */
  readonly mismatches: readonly IncrementalMismatch[];
}

export type IncrementalResult =
  | IncrementalReport
  | { readonly status: 'not available'; readonly tokenizerId: string; readonly reason: string }
  | { readonly status: 'error'; readonly tokenizerId: string; readonly error: string };

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Moves `pos` back off the middle of a surrogate pair. */
function alignToCodePoint(text: string, pos: number): number {
  if (pos > 0 && pos < text.length && isLowSurrogate(text.charCodeAt(pos)) && isHighSurrogate(text.charCodeAt(pos - 1))) return pos - 1;
  return pos;
}

function codePointLength(text: string, pos: number): number {
  const cp = text.codePointAt(pos);
  return cp !== undefined && cp > 0xffff ? 2 : 1;
}

function insertCharEdit(rng: Rng, text: string): Edit {
  const utf16Start = alignToCodePoint(text, randomInt(rng, 0, text.length));
  const source = alignToCodePoint(text, randomInt(rng, 0, Math.max(0, text.length - 1)));
  const insertText = text.length > 0 ? text.slice(source, source + codePointLength(text, source)) : 'x';
  return { kind: 'insert-char', utf16Start, utf16DeleteCount: 0, insertText };
}

function deleteCharEdit(rng: Rng, text: string): Edit {
  if (text.length === 0) return insertCharEdit(rng, text);
  const utf16Start = alignToCodePoint(text, randomInt(rng, 0, text.length - 1));
  return { kind: 'delete-char', utf16Start, utf16DeleteCount: codePointLength(text, utf16Start), insertText: '' };
}

function pasteEdit(rng: Rng, text: string): Edit {
  const length = Math.min(text.length, randomInt(rng, 50, 2000));
  const sourceStart = alignToCodePoint(text, randomInt(rng, 0, text.length - length));
  const sourceEnd = alignToCodePoint(text, sourceStart + length);
  const insertText = text.slice(sourceStart, sourceEnd);
  const utf16Start = alignToCodePoint(text, randomInt(rng, 0, text.length));
  const replaceSelection = rng() < 0.5;
  const selectionEnd = replaceSelection ? alignToCodePoint(text, Math.min(text.length, utf16Start + randomInt(rng, 1, 200))) : utf16Start;
  return { kind: 'paste', utf16Start, utf16DeleteCount: selectionEnd - utf16Start, insertText };
}

/** Edit i of the schedule: a paste after every `singlesPerPaste` single-character edits. */
function nextEdit(rng: Rng, text: string, index: number, singlesPerPaste: number): Edit {
  if (index % (singlesPerPaste + 1) === singlesPerPaste) return pasteEdit(rng, text);
  return rng() < 0.5 ? insertCharEdit(rng, text) : deleteCharEdit(rng, text);
}

function applyToString(text: string, edit: Edit): string {
  return text.slice(0, edit.utf16Start) + edit.insertText + text.slice(edit.utf16Start + edit.utf16DeleteCount);
}

/** Why the incremental document differs from a full encode of `expectedText`, or undefined if it does not. */
function compareWithFullEncode(doc: IncrementalDocumentLike, expectedText: string, full: TokenStream): string | undefined {
  if (doc.text !== expectedText) return 'document text differs from the edited text';
  const stream = doc.stream;
  const idAt = firstDifference(stream.ids.subarray(0, stream.count), full.ids.subarray(0, full.count));
  if (stream.count !== full.count || idAt >= 0) return `ids differ at token ${idAt} (incremental ${stream.count} tokens, full ${full.count})`;
  const offsetAt = firstDifference(stream.byteOffsets.subarray(0, stream.count + 1), full.byteOffsets.subarray(0, full.count + 1));
  if (offsetAt >= 0) return `byteOffsets differ at boundary ${offsetAt}`;
  return undefined;
}

function latencyStats(samplesMs: readonly number[]): LatencyStats {
  return { count: samplesMs.length, medianMs: median(samplesMs), p99Ms: quantile(samplesMs, 0.99), maxMs: samplesMs.length ? Math.max(...samplesMs) : Number.NaN };
}

function shouldCheck(index: number, total: number, options: IncrementalOptions): boolean {
  return index < options.checkAllFirst || (index + 1) % options.checkEvery === 0 || index === total - 1;
}

export function checkPolicyText(options: IncrementalOptions): string {
  return `the same edits replayed on a second document, compared with a full re-encode after each of the first ${options.checkAllFirst} edits, then after every ${options.checkEvery}th edit and the last`;
}

/** Runs the edit schedule on `text` and checks the incremental stream against full re-encodes. */
export function runIncremental(
  IncrementalDocument: IncrementalDocumentConstructor,
  implementation: string,
  tokenizerId: string,
  tokenizer: Tokenizer,
  text: string,
  options: IncrementalOptions,
): IncrementalReport {
  const rng = mulberry32(options.seed);
  const total = options.singleCharEdits + options.pasteEdits;
  const singlesPerPaste = options.pasteEdits > 0 ? Math.floor(options.singleCharEdits / options.pasteEdits) : Number.MAX_SAFE_INTEGER;
  // The edits, made up front so that both passes apply the same ones.
  const edits: Edit[] = [];
  let current = text;
  for (let i = 0; i < total; i++) {
    const edit = nextEdit(rng, current, i, singlesPerPaste);
    edits.push(edit);
    current = applyToString(current, edit);
  }

  // Pass 1, timed: the edits alone, as an editor sends them (full encodes between edits would leave their
  // garbage to the collector in the middle of the next edit).
  const t0 = performance.now();
  const doc = new IncrementalDocument(tokenizer, text);
  void doc.stream;
  const constructMs = performance.now() - t0;
  const singleCharMs: number[] = [];
  const singleCharCpuMs: number[] = [];
  const pasteMs: number[] = [];
  const windowTokens: number[] = [];
  let fullReencodeEdits = 0;
  for (const edit of edits) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    doc.applyEdit(edit.utf16Start, edit.utf16DeleteCount, edit.insertText);
    void doc.stream;
    (edit.kind === 'paste' ? pasteMs : singleCharMs).push(performance.now() - start);
    if (edit.kind !== 'paste') {
      const cpu = process.cpuUsage(cpuStart);
      singleCharCpuMs.push((cpu.user + cpu.system) / 1000);
    }
    const stats = lastEditOf(doc);
    if (stats) {
      windowTokens.push(stats.windowTokens);
      if (stats.fullReencode) fullReencodeEdits++;
    }
  }

  // Pass 2: the same edits on a new document, checked against full re-encodes (timed too: the reference
  // cost), and the cost of reading the stream's flat arrays after an edit.
  const checked = new IncrementalDocument(tokenizer, text);
  const fullEncodeMs: number[] = [];
  const fullEncodeCpuMs: number[] = [];
  const streamArraysMs: number[] = [];
  const mismatches: IncrementalMismatch[] = [];
  let mismatchedEdits = 0;
  let checkedEdits = 0;
  current = text;
  for (let i = 0; i < total; i++) {
    const edit = edits[i];
    checked.applyEdit(edit.utf16Start, edit.utf16DeleteCount, edit.insertText);
    current = applyToString(current, edit);
    if (i % 10 === 0) {
      const arraysStart = performance.now();
      const s = checked.stream;
      void [s.ids, s.byteOffsets, s.utf16Offsets, s.flags, s.byteIntoChar];
      streamArraysMs.push(performance.now() - arraysStart);
    }
    if (!shouldCheck(i, total, options)) continue;
    const encodeCpuStart = process.cpuUsage();
    const encodeStart = performance.now();
    const full = tokenizer.encode(current);
    fullEncodeMs.push(performance.now() - encodeStart);
    const encodeCpu = process.cpuUsage(encodeCpuStart);
    fullEncodeCpuMs.push((encodeCpu.user + encodeCpu.system) / 1000);
    checkedEdits++;
    const problem = compareWithFullEncode(checked, current, full);
    if (problem === undefined) continue;
    mismatchedEdits++;
    if (mismatches.length < 5) {
      const { kind, utf16Start, utf16DeleteCount, insertText } = edit;
      mismatches.push({ editIndex: i, edit: { kind, utf16Start, utf16DeleteCount, insertLength: insertText.length }, what: problem });
    }
  }
  if (doc.text !== current) {
    mismatchedEdits++;
    mismatches.push({ editIndex: total - 1, edit: { kind: 'paste', utf16Start: 0, utf16DeleteCount: 0, insertLength: 0 }, what: 'the timed document ends with another text' });
  }
  return {
    status: 'ok',
    tokenizerId,
    implementation,
    seed: options.seed,
    initialDocumentBytes: Buffer.byteLength(text, 'utf8'),
    finalDocumentBytes: Buffer.byteLength(current, 'utf8'),
    constructMs,
    latency: { all: latencyStats([...singleCharMs, ...pasteMs]), singleChar: latencyStats(singleCharMs), paste: latencyStats(pasteMs) },
    singleCharCpu: latencyStats(singleCharCpuMs),
    fullEncodeMsMedian: median(fullEncodeMs),
    fullEncodeCpuMsMedian: median(fullEncodeCpuMs),
    streamArrays: latencyStats(streamArraysMs),
    windowTokens: windowTokens.length ? { median: median(windowTokens), p99: quantile(windowTokens, 0.99), fullReencodeEdits } : null,
    checkPolicy: checkPolicyText(options),
    checkedEdits,
    mismatchedEdits,
    mismatches,
  };
}
