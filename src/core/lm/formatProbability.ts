/**
 * A probability as a percentage, one way everywhere it is shown (the hover's alternatives, the panel's next
 * byte): `12.3%`, `0.12%`, `0.0095%`; never scientific notation beside percentages.
 */

/** Below this a probability reads `<0.0001%`. */
const SMALLEST_SHOWN = 1e-6;

export function formatPercent(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p <= 0) return '0%';
  if (p >= 0.1) return `${(p * 100).toFixed(1)}%`;
  if (p >= 0.001) return `${(p * 100).toFixed(2)}%`;
  if (p < SMALLEST_SHOWN) return '<0.0001%';
  // Two significant digits as a plain decimal.
  const digits = 1 - Math.floor(Math.log10(p * 100));
  return `${(p * 100).toFixed(digits)}%`;
}
