/**
 * The most probable next characters, from the byte distribution: ASCII bytes are characters already; a lead
 * byte whose probability reaches the threshold is expanded byte by byte (the masses after the character's
 * first bytes, normalised over the continuation bytes) until its characters are complete.
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
  const out: CharacterProbability[] = [];
  for (let b = 0; b < 0x80; b++) if (distribution[b] > 0) out.push({ text: String.fromCharCode(b), probability: distribution[b] });
  let budget = 24;
  const expand = async (prefix: number[], p: number): Promise<void> => {
    if (budget-- <= 0) return;
    const { mass } = await massesAfter(Uint8Array.from(prefix));
    const cond = normalized(mass.subarray(0, 256));
    for (let b = 0x80; b < 0xc0; b++) {
      const q = p * cond[b];
      if (q < threshold) continue;
      const next = [...prefix, b];
      if (next.length === utf8SequenceLength(next[0])) out.push({ text: decoder.decode(Uint8Array.from(next)), probability: q });
      else await expand(next, q);
    }
  };
  const leads: number[] = [];
  for (let b = 0xc2; b < 0xf5; b++) if (distribution[b] >= threshold) leads.push(b);
  leads.sort((p, q) => distribution[q] - distribution[p]);
  for (const b of leads.slice(0, 6)) await expand([b], distribution[b]);
  out.sort((p, q) => q.probability - p.probability);
  return out.slice(0, options.topCharacters ?? 10);
}
