/**
 * `token-inspector next-bytes FILE --offset N`: the exact distribution of the next byte at UTF-16 offset N
 * (where VS Code's cursor would be), beside naive tokenization and token healing, from the workspace n-gram
 * (the file left out, as `score` does). The text after the offset is not used.
 */
import { escapeBytes, escapedText } from '../../core/analysis/stream';
import { NGRAM_MODEL_ID } from '../../core/lm/ngram';
import { nextByteDistribution } from '../../core/lm/nextByte';
import { parseArgs, UsageError } from '../args';
import { TOKENIZER_ID } from '../pathOrId';
import { out, type CliCommand } from '../io';
import { workspaceModelForFile } from './score';

/** A byte as the hover shows text: ASCII as itself with controls escaped, other bytes as `\xNN`; 256 is END. */
function byteLabel(b: number): string {
  if (b === 256) return 'END';
  return b < 0x80 ? escapedText(String.fromCharCode(b)) : escapeBytes([b]);
}

export const nextBytesCommand: CliCommand = {
  name: 'next-bytes',
  usage:
    'next-bytes FILE --offset N [--model workspace-ngram] [--workspace DIR] [--tokenizer ID|PATH] [--order N] [--json]   exact next-byte distribution at UTF-16 offset N, with naive and token-healing baselines',
  async run(argv) {
    const args = parseArgs(argv, ['offset', 'model', 'workspace', 'tokenizer', 'order', 'top'], ['json'], { positionals: 1, pathOrId: { tokenizer: TOKENIZER_ID } });
    const file = args.positionals[0];
    if (!file) throw new UsageError('next-bytes needs a FILE');
    const offsetText = args.options.get('offset');
    if (offsetText === undefined) throw new UsageError('next-bytes needs --offset N (a UTF-16 offset into the file)');
    const offset = Number(offsetText);
    if (!Number.isInteger(offset) || offset < 0) throw new UsageError(`--offset must be a UTF-16 offset, not ${offsetText}`);
    const topText = args.options.get('top') ?? '10';
    const top = Number(topText);
    if (!Number.isInteger(top) || top < 1 || top > 257) throw new UsageError(`--top must be 1 to 257, not ${topText}`);
    const wm = await workspaceModelForFile(file, args);
    if (offset > wm.text.length) throw new UsageError(`--offset ${offset} is past the end of ${file} (${wm.text.length} UTF-16 units)`);
    const r = await nextByteDistribution(wm.lm, wm.loaded.tokenizer, wm.text, offset, { topCharacters: top });
    if (args.flags.has('json')) {
      out(
        JSON.stringify({
          model: NGRAM_MODEL_ID,
          tokenizer: wm.loaded.id,
          offset: r.offset,
          byteOffset: r.byteOffset,
          exact: r.exact,
          ...(r.inexactReason ? { inexactReason: r.inexactReason } : {}),
          window: r.window,
          total: r.total,
          prefixRatio: r.prefixRatio,
          distribution: Array.from(r.distribution),
          naive: Array.from(r.naive),
          healing: Array.from(r.healing),
          topCharacters: r.topCharacters,
        }),
      );
      return;
    }
    out(
      `${file} at offset ${r.offset} (byte ${r.byteOffset}) under ${wm.loaded.name}; ${wm.lm.description}` +
        `\n${r.exact ? 'exact' : `not exact: ${r.inexactReason}`}; covers enumerated in the last ${r.window} bytes; ` +
        `P(bytes) / P(canonical tokens) = ${r.prefixRatio.toPrecision(4)}; ${Math.round(r.ms)} ms`,
    );
    const order = Array.from(r.distribution.keys())
      .sort((a, b) => r.distribution[b] - r.distribution[a])
      .slice(0, top);
    out('BYTE'.padEnd(7) + 'EXACT'.padStart(10) + 'NAIVE'.padStart(10) + 'HEALING'.padStart(10) + 'EXACT−NAIVE'.padStart(13));
    for (const b of order) {
      const f = (p: number): string => p.toFixed(4).padStart(10);
      out(byteLabel(b).padEnd(7) + f(r.distribution[b]) + f(r.naive[b]) + f(r.healing[b]) + (r.distribution[b] - r.naive[b]).toFixed(4).padStart(13));
    }
    out('next characters: ' + r.topCharacters.map((c) => `${JSON.stringify(c.text)} ${c.probability.toFixed(4)}`).join(', '));
  },
};
