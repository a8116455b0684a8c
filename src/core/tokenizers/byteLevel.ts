/**
 * GPT-2's byte-to-unicode alphabet: byte-level BPE vocabularies spell each raw byte as a printable character
 * (space -> `Ġ`, newline -> `Ċ`). The engine works on raw bytes; this maps between the two.
 */

export const BYTE_TO_CHAR: readonly string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const out: string[] = new Array(256);
  for (let i = 0; i < bs.length; i++) out[bs[i]] = String.fromCharCode(cs[i]);
  return out;
})();

const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** The raw bytes of a byte-level spelling, or undefined when it is not one. */
export function bytesFromSpelling(spelling: string): Uint8Array | undefined {
  const out = new Uint8Array(spelling.length);
  for (let i = 0; i < spelling.length; i++) {
    const b = CHAR_TO_BYTE.get(spelling[i]);
    if (b === undefined) return undefined;
    out[i] = b;
  }
  return out;
}

export function spellingFromBytes(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += BYTE_TO_CHAR[bytes[i]];
  return s;
}
