/**
 * The histogram of a feature's non-zero activations: fixed bins on a log scale, so that histograms of files
 * add and subtract exactly (a changed file's counts are taken out and its new ones put in, never rebuilt).
 * Bin i holds activations in [2^(LOW + i/2), 2^(LOW + (i+1)/2)): half an octave each from 2^-8 to 2^8; the
 * first bin also takes anything smaller, the last anything larger.
 */
export const HISTOGRAM_BINS = 32;
const LOW_EXPONENT = -8;
const BINS_PER_OCTAVE = 2;

/** The bin of a positive activation. */
export function histogramBin(activation: number): number {
  const b = Math.floor((Math.log2(activation) - LOW_EXPONENT) * BINS_PER_OCTAVE);
  return b < 0 || !Number.isFinite(b) ? (activation > 1 ? HISTOGRAM_BINS - 1 : 0) : Math.min(HISTOGRAM_BINS - 1, b);
}

/** The lower edge of bin i (the first bin's is 0: it takes everything below 2^LOW too). */
export function histogramBinStart(i: number): number {
  return i === 0 ? 0 : 2 ** (LOW_EXPONENT + i / BINS_PER_OCTAVE);
}

/** The upper edge of bin i (the last bin's is Infinity). */
export function histogramBinEnd(i: number): number {
  return i === HISTOGRAM_BINS - 1 ? Infinity : 2 ** (LOW_EXPONENT + (i + 1) / BINS_PER_OCTAVE);
}
