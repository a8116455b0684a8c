/**
 * The most probable next characters, from the byte distribution: ASCII bytes are characters already; a lead
 * byte is expanded byte by byte (the masses after the character's first bytes, normalised over the
 * continuation bytes) until its characters are complete.
 *
 * Only what can reach the list is expanded: a character's probability is at most that of its first bytes,
 * so a prefix whose probability is below the `topCharacters`-th best character found so far (or below
 * `expandThreshold`) cannot add one. Prefixes are expanded most probable first, so the list is the same as
 * expanding every prefix above the threshold, at a fraction of the cost (code is mostly ASCII).
 */
import { normalized } from './baselines';
import { utf8SequenceLength } from './tokenTable';

export interface CharacterProbability {
  readonly text: string;
  readonly probability: number;
}

export interface CharacterOptions {
  readonly topCharacters?: number;
  readonly expandThreshold?: number;
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** `massesAfter(bytes)`: unnormalized masses of the next byte after the text followed by `bytes` (a begun character). */
export async function topCharacters(
  massesAfter: (bytes: Uint8Array) => Promise<{ readonly mass: Float64Array }>,
  distribution: Float64Array,
  options: CharacterOptions,
): Promise<CharacterProbability[]> {
  const threshold = options.expandThreshold ?? 0.002;
  const top = options.topCharacters ?? 10;
  const out: CharacterProbability[] = [];
  for (let b = 0; b < 0x80; b++) if (distribution[b] > 0) out.push({ text: String.fromCharCode(b), probability: distribution[b] });
  /** The probability a prefix must exceed to add a character to the list. */
  const bar = (): number => {
    if (out.length < top) return threshold;
    const sorted = out.map((c) => c.probability).sort((p, q) => q - p);
    return Math.max(threshold, sorted[top - 1]);
  };
  // Prefixes still to expand, most probable first (a small list: a handful of leads, 64 bytes each).
  const pending: { bytes: number[]; p: number }[] = [];
  for (let b = 0xc2; b < 0xf5; b++) if (distribution[b] > 0) pending.push({ bytes: [b], p: distribution[b] });
  let budget = 24;
  while (pending.length && budget-- > 0) {
    pending.sort((a, b) => b.p - a.p);
    const next = pending.shift() as { bytes: number[]; p: number };
    if (next.p < bar()) break;
    const { mass } = await massesAfter(Uint8Array.from(next.bytes));
    const cond = normalized(mass.subarray(0, 256));
    for (let b = 0x80; b < 0xc0; b++) {
      const q = next.p * cond[b];
      if (q < threshold || q <= 0) continue;
      const bytes = [...next.bytes, b];
      if (bytes.length === utf8SequenceLength(bytes[0])) out.push({ text: decoder.decode(Uint8Array.from(bytes)), probability: q });
      else pending.push({ bytes, p: q });
    }
  }
  out.sort((p, q) => q.probability - p.probability);
  return out.slice(0, top);
}
