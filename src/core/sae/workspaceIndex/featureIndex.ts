/**
 * The workspace feature index: for every feature of one SAE on one model, its strongest contexts in the
 * workspace (topContexts.ts), the histogram of its non-zero activations (histogram.ts) and how often it fires.
 *
 * Memory: the contexts are `capacity` per feature (each a window of WINDOW_TOKENS tokens), the histograms
 * HISTOGRAM_BINS counts per feature: N × features, whatever the workspace's size. Per file the index keeps its
 * content hash, its token count and what it added to the histograms, sparsely (one (feature, bin, count)
 * triple per bin the file touched, at most features × bins and at most the file's active entries), so that a
 * changed file is taken out exactly and put in again without reading the other files.
 */
import { HISTOGRAM_BINS, histogramBin } from './histogram';
import { TopContexts, type ContextKey, type FeatureContext } from './topContexts';

/** Contexts kept per feature by default: twice what is shown, so that updates rarely leave fewer than shown. */
export const DEFAULT_CONTEXTS_KEPT = 40;
export const DEFAULT_CONTEXTS_SHOWN = 20;
/** Tokens on each side of a context's token in its window. */
export const WINDOW_SIDE_TOKENS = 8;

/** What the index was built from: the same model, SAE and encoder, or the index is not reused. */
export interface FeatureIndexSource {
  readonly model: string;
  readonly sae: string;
  readonly saeId?: string;
  readonly hook: string;
  readonly dSae: number;
  readonly encoder: string;
}

export interface IndexedFile {
  readonly path: string;
  /** sha256 of the file's bytes. */
  readonly hash: string;
  /** The file's tokens (without the BOS the model adds). */
  readonly tokens: number;
  /** What the file added to the histograms: flat (feature × HISTOGRAM_BINS + bin, count) pairs. */
  readonly binCounts: readonly number[];
}

/** One file's activations, as the indexer hands them over: sparse rows per token. */
export interface FileActivations {
  readonly path: string;
  readonly hash: string;
  /** Tokens of the file (the rows, in order, without tokens the model adds). */
  readonly tokenCount: number;
  /** Token t's features are entries rowStart[t] .. rowStart[t+1]-1. */
  readonly rowStart: Uint32Array;
  readonly featureIndex: Uint32Array;
  readonly activation: Float32Array;
  readonly byteOffsets: Uint32Array;
  readonly utf16Offsets: Uint32Array;
  /** The text of token t as shown (escapes for partial characters). */
  tokenText(t: number): string;
}

export interface FeatureSummary {
  readonly index: number;
  /** Tokens where it fired (activation > 0), over the whole workspace. */
  readonly firingTokens: number;
  /** firingTokens ÷ the workspace's tokens. */
  readonly frequency: number;
  readonly maxActivation: number;
  readonly histogram: readonly number[];
  readonly contexts: readonly FeatureContext[];
}

export class FeatureIndex {
  readonly files = new Map<string, IndexedFile>();
  private readonly top: TopContexts[];
  /** [dSae × HISTOGRAM_BINS] counts. */
  private readonly histograms: Float64Array;
  private totalTokens = 0;

  constructor(
    readonly source: FeatureIndexSource,
    readonly capacity = DEFAULT_CONTEXTS_KEPT,
  ) {
    this.top = Array.from({ length: source.dSae }, () => new TopContexts(capacity));
    this.histograms = new Float64Array(source.dSae * HISTOGRAM_BINS);
  }

  get dSae(): number {
    return this.source.dSae;
  }

  get tokens(): number {
    return this.totalTokens;
  }

  /** Whether `path` is indexed with this content. */
  isCurrent(path: string, hash: string): boolean {
    return this.files.get(path)?.hash === hash;
  }

  /** Takes a file out: its contexts, its histogram counts, its tokens. */
  removeFile(path: string): void {
    const old = this.files.get(path);
    if (!old) return;
    for (let i = 0; i < old.binCounts.length; i += 2) this.histograms[old.binCounts[i]] -= old.binCounts[i + 1];
    this.totalTokens -= old.tokens;
    for (const t of this.top) t.removePath(path);
    this.files.delete(path);
  }

  /** Puts a file in (replacing what the index had for it). */
  addFile(a: FileActivations): void {
    this.removeFile(a.path);
    const bins = new Map<number, number>();
    for (let t = 0; t < a.tokenCount; t++) {
      for (let e = a.rowStart[t]; e < a.rowStart[t + 1]; e++) {
        const activation = a.activation[e];
        if (!(activation > 0)) continue;
        const f = a.featureIndex[e];
        if (f >= this.dSae) continue;
        const cell = f * HISTOGRAM_BINS + histogramBin(activation);
        bins.set(cell, (bins.get(cell) ?? 0) + 1);
        const key: ContextKey = { activation, path: a.path, byteStart: a.byteOffsets[t] };
        if (this.top[f].admit(key)) this.top[f].add(contextAt(a, t, f, key));
      }
    }
    const binCounts: number[] = [];
    for (const [cell, count] of [...bins].sort((x, y) => x[0] - y[0])) {
      this.histograms[cell] += count;
      binCounts.push(cell, count);
    }
    this.totalTokens += a.tokenCount;
    this.files.set(a.path, { path: a.path, hash: a.hash, tokens: a.tokenCount, binCounts });
  }

  /** Feature f's contexts (the first `shown`), histogram, firing count and frequency. */
  feature(f: number, shown = DEFAULT_CONTEXTS_SHOWN): FeatureSummary {
    if (!Number.isInteger(f) || f < 0 || f >= this.dSae) throw new RangeError(`feature ${f} is not in this SAE (it has features 0 to ${this.dSae - 1})`);
    const histogram = Array.from(this.histograms.subarray(f * HISTOGRAM_BINS, (f + 1) * HISTOGRAM_BINS));
    const firingTokens = histogram.reduce((s, c) => s + c, 0);
    const contexts = this.top[f].contexts;
    return {
      index: f,
      firingTokens,
      frequency: this.totalTokens ? firingTokens / this.totalTokens : 0,
      maxActivation: contexts.length ? contexts[0].activation : 0,
      histogram,
      contexts: contexts.slice(0, shown),
    };
  }

  /** Features by how strongly they fire anywhere (their strongest context), strongest first. */
  strongestFeatures(): { index: number; maxActivation: number; firingTokens: number }[] {
    const out = [];
    for (let f = 0; f < this.dSae; f++) {
      const c = this.top[f].contexts;
      if (!c.length) continue;
      let firing = 0;
      for (let b = 0; b < HISTOGRAM_BINS; b++) firing += this.histograms[f * HISTOGRAM_BINS + b];
      out.push({ index: f, maxActivation: c[0].activation, firingTokens: firing });
    }
    return out.sort((a, b) => b.maxActivation - a.maxActivation || a.index - b.index);
  }

  /** @internal for serialization */
  topOf(f: number): TopContexts {
    return this.top[f];
  }

  /** @internal for serialization */
  restore(files: readonly IndexedFile[], top: readonly TopContexts[]): void {
    this.files.clear();
    this.histograms.fill(0);
    this.totalTokens = 0;
    for (const file of files) {
      this.files.set(file.path, file);
      this.totalTokens += file.tokens;
      for (let i = 0; i < file.binCounts.length; i += 2) this.histograms[file.binCounts[i]] += file.binCounts[i + 1];
    }
    top.forEach((t, f) => (this.top[f] = t));
  }
}

/** The context of token t for feature f: its window of tokens with f's activation on each. */
function contextAt(a: FileActivations, t: number, f: number, key: ContextKey): FeatureContext {
  const from = Math.max(0, t - WINDOW_SIDE_TOKENS);
  const to = Math.min(a.tokenCount, t + WINDOW_SIDE_TOKENS + 1);
  const tokens: string[] = [];
  const activations: number[] = [];
  for (let u = from; u < to; u++) {
    tokens.push(a.tokenText(u));
    let v = 0;
    for (let e = a.rowStart[u]; e < a.rowStart[u + 1]; e++) {
      if (a.featureIndex[e] === f) {
        v = Math.max(0, a.activation[e]);
        break;
      }
    }
    activations.push(v);
  }
  return { ...key, byteEnd: a.byteOffsets[t + 1], utf16Start: a.utf16Offsets[t], utf16End: a.utf16Offsets[t + 1], tokens, activations, focus: t - from };
}
