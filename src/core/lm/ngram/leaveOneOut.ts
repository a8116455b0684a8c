/**
 * Leave-one-out: what leaving one training document out subtracts from the tables, as a sparse overlay.
 *
 * Walking the document as training did gives the nodes of its n-grams: their raw counts drop by their
 * occurrences in it; a continuation count drops wherever a left extension (v g w) disappears: its raw count
 * falls to 0, or it was pruned (pruned n-grams were seen once, so the document held the only occurrence). The
 * context aggregates (denominator, number of followers) are adjusted to match. Discounts stay those of the
 * full model, so the view is exactly the model trained without the document, up to discounts and pruning.
 */
import { walkPaddedNgrams, type NgramTables } from './tables';

/** Subtracted counts of one left-out document (absent entries: unchanged). */
export interface Overlay {
  /** 1 for the nodes whose raw or continuation count changed (a quick test before the maps). */
  readonly touched: Uint8Array;
  readonly raw: Map<number, number>;
  readonly cont: Map<number, number>;
  readonly denom: Map<number, number>;
  readonly followers: Map<number, number>;
}

/** A node's raw or continuation count under an overlay (the table's value where the overlay has none). */
export function overlaidCount(overlay: Overlay | undefined, which: 'raw' | 'cont', table: Uint32Array, node: number): number {
  if (overlay && overlay.touched[node]) {
    const o = overlay[which].get(node);
    if (o !== undefined) return o;
  }
  return table[node];
}

/**
 * The overlay of a training document `ids`. `child(node, sym)` finds a node's child in the tables (-1 if
 * absent). Throws when the document subtracts more than was counted (it is not the one trained).
 */
export function leaveOneOutOverlay(t: NgramTables, child: (node: number, sym: number) => number, ids: Uint32Array): Overlay {
  const N = t.order;
  const dRaw = new Map<number, number>();
  const dContMissing = new Map<number, number>();
  const parentOf = new Map<number, number>();
  const suffixOf = new Map<number, number>();
  walkPaddedNgrams(
    ids,
    N,
    t.vocabSize,
    (p, s, _k, suffix) => {
      const node = p < 0 ? -1 : child(p, s);
      if (node >= 0 && !parentOf.has(node)) {
        parentOf.set(node, p);
        suffixOf.set(node, suffix);
      }
      return node;
    },
    (cur, kMax) => {
      for (let k = 1; k <= kMax; k++) {
        if (cur[k] >= 0) dRaw.set(cur[k], (dRaw.get(cur[k]) ?? 0) + 1);
        else if (k >= 2 && cur[k - 1] >= 0) {
          // A pruned n-gram: it was seen once, here, so its suffix loses that left extension.
          dContMissing.set(cur[k - 1], (dContMissing.get(cur[k - 1]) ?? 0) + 1);
        }
      }
    },
  );
  const inner = t.levelStart[N];
  const newRaw = new Map<number, number>();
  const dCont = new Map<number, number>(dContMissing);
  for (const [node, d] of dRaw) {
    const r = t.raw[node] - d;
    if (r < 0) throw new Error('leave-one-out subtracted more than was counted (the document differs from the one trained)');
    newRaw.set(node, r);
    if (r === 0 && node >= t.levelStart[2]) {
      const sfx = suffixOf.get(node) as number;
      dCont.set(sfx, (dCont.get(sfx) ?? 0) + 1);
    }
  }
  const newCont = new Map<number, number>();
  for (const [node, d] of dCont) {
    if (node >= inner) continue;
    newCont.set(node, Math.max(0, t.cont[node] - d));
  }
  // Context aggregates: the count a context sums is raw for top-order children, cont below.
  const dDenom = new Map<number, number>();
  const dFollow = new Map<number, number>();
  const adjust = (node: number, before: number, after: number): void => {
    if (before === after) return;
    const p = parentOf.get(node);
    if (p === undefined || p < 0) return;
    dDenom.set(p, (dDenom.get(p) ?? 0) + (before - after));
    if (before > 0 && after === 0) dFollow.set(p, (dFollow.get(p) ?? 0) + 1);
  };
  for (const [node, r] of newRaw) if (node >= inner) adjust(node, t.raw[node], r);
  for (const [node, c] of newCont) adjust(node, t.cont[node], c);
  const denom = new Map<number, number>();
  for (const [p, d] of dDenom) denom.set(p, t.denom[p] - d);
  const followers = new Map<number, number>();
  for (const [p, d] of dFollow) followers.set(p, t.followers[p] - d);
  const touched = new Uint8Array(t.sym.length);
  for (const node of newRaw.keys()) touched[node] = 1;
  for (const node of newCont.keys()) touched[node] = 1;
  return { touched, raw: newRaw, cont: newCont, denom, followers };
}
