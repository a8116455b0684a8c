/**
 * The BPE result of each distinct pre-token, kept in typed arrays and found by hashing the word's UTF-16
 * code units where they lie in the text: a hit allocates nothing (no substring, no Map key, no object).
 *
 * A word's tokens are stored relative to the word: id, UTF-16 end (rounded down to a character start),
 * bytes into that character, flags, and UTF-8 end in the (normalized) word. Words of at most
 * MAX_CACHED_WORD_UNITS code units are cached; when the cache holds MAX_ENTRIES words or its pools are full
 * it starts over (an editor document's words repeat; a text that outgrows the cache only pays the misses).
 */
import { grownTo } from '../typedArrays';

export const MAX_CACHED_WORD_UNITS = 256;
const MAX_ENTRIES = 1 << 17;
/** Bounds on the pools (2 bytes per key unit, 14 bytes per token): at most ~16 MB per tokenizer, whatever the text. */
const MAX_KEY_UNITS = 1 << 20;
const MAX_TOKENS = 1 << 20;

/** A run of tokens in parallel arrays, from `offset`: what the engine emits for one word. */
export interface TokenRun {
  ids: Uint32Array<ArrayBuffer>;
  /** Token end, UTF-16 units from the word's start (the start of the character the end falls in). */
  endUtf16: Uint32Array<ArrayBuffer>;
  /** Bytes into that character (0 on a character boundary). */
  endInto: Uint8Array<ArrayBuffer>;
  flags: Uint8Array<ArrayBuffer>;
  /** Token end, UTF-8 bytes from the word's start (in the normalized text). */
  endByte: Uint32Array<ArrayBuffer>;
}

export function newTokenRun(capacity: number): TokenRun {
  return {
    ids: new Uint32Array(capacity),
    endUtf16: new Uint32Array(capacity),
    endInto: new Uint8Array(capacity),
    flags: new Uint8Array(capacity),
    endByte: new Uint32Array(capacity),
  };
}

function growRun(run: TokenRun, capacity: number): TokenRun {
  return {
    ids: grownTo(run.ids, capacity),
    endUtf16: grownTo(run.endUtf16, capacity),
    endInto: grownTo(run.endInto, capacity),
    flags: grownTo(run.flags, capacity),
    endByte: grownTo(run.endByte, capacity),
  };
}

/** FNV-1a over the code units of s[a, b). */
export function hashUnits(s: string, a: number, b: number): number {
  let h = 0x811c9dc5;
  for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

export class WordCache {
  private slots = new Int32Array(1 << 10).fill(-1);
  private count = 0;
  private hashes = new Int32Array(1 << 9);
  private keyStart = new Uint32Array(1 << 9);
  private keyLength = new Uint16Array(1 << 9);
  private tokenStart = new Uint32Array(1 << 9);
  private tokenCount = new Uint16Array(1 << 9);
  private keys = new Uint16Array(1 << 12);
  private keysUsed = 0;
  /** The tokens of every cached word; `tokenStart[e]` indexes it. */
  tokens: TokenRun = newTokenRun(1 << 12);
  private tokensUsed = 0;
  /** The slot where the last missed lookup would insert. */
  private missSlot = -1;
  private missHash = 0;

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.slots = new Int32Array(1 << 10).fill(-1);
    this.count = 0;
    this.keysUsed = 0;
    this.tokensUsed = 0;
  }

  /** The entry of word s[a, b), or -1 (then `insert` for the same word may follow). */
  find(s: string, a: number, b: number): number {
    const h = hashUnits(s, a, b);
    const len = b - a;
    const slots = this.slots;
    const mask = slots.length - 1;
    const keys = this.keys;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const e = slots[slot];
      if (e < 0) {
        this.missSlot = slot;
        this.missHash = h;
        return -1;
      }
      if (this.hashes[e] !== h || this.keyLength[e] !== len) continue;
      let k = this.keyStart[e];
      let i = a;
      while (i < b && keys[k] === s.charCodeAt(i)) {
        i++;
        k++;
      }
      if (i === b) return e;
    }
  }

  tokenOffset(e: number): number {
    return this.tokenStart[e];
  }

  tokenLength(e: number): number {
    return this.tokenCount[e];
  }

  /** Caches word s[a, b) (just missed by `find`) with the first n tokens of `run`; returns its entry. */
  insert(s: string, a: number, b: number, run: TokenRun, n: number): number {
    const len = b - a;
    if (this.count >= MAX_ENTRIES || this.keysUsed + len > MAX_KEY_UNITS || this.tokensUsed + n > MAX_TOKENS) {
      this.clear();
      this.find(s, a, b);
    }
    if ((this.count + 1) * 2 > this.slots.length) this.rehash();
    const e = this.count++;
    if (e === this.hashes.length) this.growEntries();
    if (this.keysUsed + len > this.keys.length) {
      this.keys = grownTo(this.keys, Math.max(this.keys.length * 2, this.keysUsed + len));
    }
    const keys = this.keys;
    let k = this.keysUsed;
    for (let i = a; i < b; i++) keys[k++] = s.charCodeAt(i);
    this.keyStart[e] = this.keysUsed;
    this.keyLength[e] = len;
    this.keysUsed = k;
    if (this.tokensUsed + n > this.tokens.ids.length) this.tokens = growRun(this.tokens, Math.max(this.tokens.ids.length * 2, this.tokensUsed + n));
    const t = this.tokens;
    const at = this.tokensUsed;
    t.ids.set(run.ids.subarray(0, n), at);
    t.endUtf16.set(run.endUtf16.subarray(0, n), at);
    t.endInto.set(run.endInto.subarray(0, n), at);
    t.flags.set(run.flags.subarray(0, n), at);
    t.endByte.set(run.endByte.subarray(0, n), at);
    this.tokenStart[e] = at;
    this.tokenCount[e] = n;
    this.tokensUsed += n;
    this.hashes[e] = this.missHash;
    this.slots[this.missSlot] = e;
    return e;
  }

  private growEntries(): void {
    const cap = this.hashes.length * 2;
    this.hashes = grownTo(this.hashes, cap);
    this.keyStart = grownTo(this.keyStart, cap);
    this.keyLength = grownTo(this.keyLength, cap);
    this.tokenStart = grownTo(this.tokenStart, cap);
    this.tokenCount = grownTo(this.tokenCount, cap);
  }

  /** Doubles the slot table; the pending miss slot is found again in the new table. */
  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let e = 0; e < this.count; e++) {
      let slot = this.hashes[e] & mask;
      while (slots[slot] >= 0) slot = (slot + 1) & mask;
      slots[slot] = e;
    }
    this.slots = slots;
    let slot = this.missHash & mask;
    while (slots[slot] >= 0) slot = (slot + 1) & mask;
    this.missSlot = slot;
  }
}
