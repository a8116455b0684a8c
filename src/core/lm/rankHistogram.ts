/**
 * GLTR's summary of a scored text: how many tokens the model ranked in its top 10, top 100, top 1000 and
 * beyond (Gehrmann et al., 2019): the panel's summary. The buckets are the editor's colours'
 * (src/extension/decorations.ts).
 */

/** The upper rank of each bucket but the last (1-based ranks): top 10, top 100, top 1000, beyond. */
export const RANK_BUCKET_LIMITS = [10, 100, 1000] as const;
export const RANK_BUCKET_LABELS = ['top 10', 'top 100', 'top 1000', 'beyond 1000'] as const;

/** The bucket of a 1-based rank: 0 top 10, 1 top 100, 2 top 1000, 3 beyond (NaN or a missing rank: beyond). */
export function rankBucket(rank: number): 0 | 1 | 2 | 3 {
  return rank <= RANK_BUCKET_LIMITS[0] ? 0 : rank <= RANK_BUCKET_LIMITS[1] ? 1 : rank <= RANK_BUCKET_LIMITS[2] ? 2 : 3;
}

export interface RankHistogram {
  /** Tokens per bucket, in the order of RANK_BUCKET_LABELS. */
  readonly counts: [number, number, number, number];
  /** Tokens with a rank (NaN ranks, e.g. tokens the model does not score, are left out). */
  readonly ranked: number;
}

/** The histogram of the ranks of tokens [from, to) (all by default); NaN ranks are not counted. */
export function rankHistogram(ranks: ArrayLike<number>, from = 0, to = ranks.length): RankHistogram {
  const counts: [number, number, number, number] = [0, 0, 0, 0];
  let ranked = 0;
  for (let i = Math.max(0, from); i < Math.min(to, ranks.length); i++) {
    const r = ranks[i];
    if (Number.isNaN(r)) continue;
    counts[rankBucket(r)]++;
    ranked++;
  }
  return { counts, ranked };
}
