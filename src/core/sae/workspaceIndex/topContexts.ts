/**
 * A feature's strongest contexts, kept in bounded memory and exact under per-file updates.
 *
 * Each feature keeps at most `capacity` contexts, ordered by `compareContexts` (activation descending, then
 * path, then byte offset, so that ties have one order everywhere). When a full list drops a context, the
 * list's `floor` rises to the dropped context's key: every context of the workspace that is not in the list
 * sorts at or after the floor. That invariant is what keeps the list exact when a file changes: its contexts are
 * removed (the rest is still the top of what remains), and the file's new contexts enter only if they sort
 * before the floor (one after it might be beaten by a context that was dropped earlier and is not known any
 * more). So the list is always exactly the workspace's top contexts, possibly fewer than `capacity` after
 * updates; a full rebuild resets the floor.
 */

/** What identifies a context and orders it: the activation, the file, the token's first byte. */
export interface ContextKey {
  readonly activation: number;
  /** The file, relative to the indexed folder, with `/`. */
  readonly path: string;
  readonly byteStart: number;
}

export interface FeatureContext extends ContextKey {
  readonly byteEnd: number;
  /** The token's UTF-16 range in the file's text as VS Code shows it (BOM dropped, line ends unified). */
  readonly utf16Start: number;
  readonly utf16End: number;
  /** The tokens around it (their text, `\xNN` escapes for partial characters), and the feature's activation on each. */
  readonly tokens: readonly string[];
  readonly activations: readonly number[];
  /** Where the context's own token is in `tokens`. */
  readonly focus: number;
}

/** Negative when a sorts before b (stronger, or the same and earlier in path and position). */
export function compareContexts(a: ContextKey, b: ContextKey): number {
  if (a.activation !== b.activation) return b.activation - a.activation;
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return a.byteStart - b.byteStart;
}

export class TopContexts {
  private items: FeatureContext[] = [];
  /** Every context not kept sorts at or after this (undefined: nothing was ever dropped). */
  floor: ContextKey | undefined;

  constructor(readonly capacity: number, items: readonly FeatureContext[] = [], floor?: ContextKey) {
    this.items = [...items].sort(compareContexts).slice(0, capacity);
    this.floor = floor;
  }

  get contexts(): readonly FeatureContext[] {
    return this.items;
  }

  /**
   * Whether a context with this key is kept (ask before building its window, then `add` it). A context turned
   * away because the list is full counts as dropped: the floor rises to it.
   */
  admit(key: ContextKey): boolean {
    if (this.floor && compareContexts(key, this.floor) >= 0) return false;
    if (this.items.length < this.capacity || compareContexts(key, this.items[this.items.length - 1]) < 0) return true;
    this.lower(key);
    return false;
  }

  /** Adds a context (admitted, or offered: one that is not admitted is dropped as `admit` drops it). */
  add(c: FeatureContext): void {
    if (!this.admit(c)) return;
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareContexts(this.items[mid], c) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, c);
    if (this.items.length > this.capacity) this.lower(this.items.pop() as FeatureContext);
  }

  /** Drops a file's contexts (the file changed or went away). */
  removePath(path: string): void {
    if (this.items.some((c) => c.path === path)) this.items = this.items.filter((c) => c.path !== path);
  }

  private lower(dropped: ContextKey): void {
    const key = { activation: dropped.activation, path: dropped.path, byteStart: dropped.byteStart };
    // The floor only moves towards stronger keys: dropped contexts are at or after it.
    if (!this.floor || compareContexts(key, this.floor) < 0) this.floor = key;
  }
}
