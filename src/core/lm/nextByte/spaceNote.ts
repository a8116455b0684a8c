/**
 * The note shown under a next-byte result when the model reads a space as another character (Mistral's and
 * Gemma 3's `▁`): the distribution is over the bytes the model reads, so a space appears as that character's
 * bytes. Shared by the CLI and the panel (no Node API: the webview imports it too).
 */
export function spaceNote(spaceAs: string): string {
  const hex = Array.from(new TextEncoder().encode(spaceAs), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
  return `This tokenizer reads every space as ${spaceAs} (${hex}): the bytes and characters shown are the ones the model reads, so ${spaceAs} is a space here.`;
}
