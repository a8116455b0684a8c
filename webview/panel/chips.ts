/**
 * Token chips for a text and its stream, line by line: the Compare tab's side-by-side and the scratch input
 * draw them the same way as the Tokens tab (alternating shades, `·` `→` `↵` for white space, a character
 * split across tokens shown once with ×n).
 */
import { TokenFlag } from '../../src/core/tokenizers/types';
import type { StreamPayload } from '../../src/protocol';
import { el, visible } from '../common';

/** The UTF-16 start of each line of `text` (LF, CRLF or a lone CR end a line). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
  }
  return starts;
}

/** For each line start, the first token whose start is on or after it. */
export function firstTokenOfLines(stream: StreamPayload, starts: readonly number[]): Uint32Array {
  const first = new Uint32Array(starts.length);
  let t = 0;
  for (let l = 0; l < starts.length; l++) {
    while (t < stream.count && stream.utf16Offsets[t] < starts[l]) t++;
    first[l] = t;
  }
  return first;
}

/** The chips of tokens [from, to): a token that spans a line break belongs to the line where it starts. */
export function chipsOf(text: string, stream: StreamPayload, from: number, to: number, options: { showIds?: boolean; maxChips?: number } = {}): HTMLElement[] {
  const out: HTMLElement[] = [];
  const max = options.maxChips ?? 2000;
  for (let i = from; i < to; i++) {
    if (out.length >= max) {
      out.push(el('span', { class: 'more' }, `… ${to - i} more tokens`));
      break;
    }
    const f = stream.flags[i];
    const u0 = stream.utf16Offsets[i];
    if (f & TokenFlag.Partial) {
      // Tokens that split one character: shown together as that character.
      let j = i;
      while (j + 1 < stream.count && stream.byteIntoChar[j + 1] > 0) j++;
      let u1 = stream.utf16Offsets[j + 1];
      if (stream.byteIntoChar[j + 1] > 0) u1 += (text.codePointAt(u1) ?? 0) > 0xffff ? 2 : 1;
      const ids: number[] = [];
      for (let k = i; k <= j; k++) ids.push(stream.ids[k]);
      const g = el('span', { class: `chip partial ${i % 2 ? 'odd' : 'even'}`, 'data-i': String(i), title: `#${i}–${j}: ${j - i + 1} tokens split one character · ids ${ids.join(', ')}` }, visible(text.slice(u0, u1)));
      g.append(el('sup', { class: 'split-count' }, `×${j - i + 1}`));
      if (options.showIds) g.append(el('sub', {}, ids.join(' ')));
      out.push(g);
      i = j;
      continue;
    }
    const cls = ['chip', i % 2 ? 'odd' : 'even'];
    if (f & TokenFlag.Special) cls.push('special');
    if (f & TokenFlag.ZeroWidth) cls.push('zero');
    const shown = f & TokenFlag.ZeroWidth ? '∅' : visible(text.slice(u0, stream.utf16Offsets[i + 1]));
    const c = el('span', { class: cls.join(' '), 'data-i': String(i), 'data-id': String(stream.ids[i]), title: `#${i} · id ${stream.ids[i]} · bytes ${stream.byteOffsets[i]}–${stream.byteOffsets[i + 1]}` }, shown);
    if (options.showIds) c.append(el('sub', {}, String(stream.ids[i])));
    out.push(c);
  }
  return out;
}
