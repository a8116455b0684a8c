/**
 * `token-inspector next-bytes FILE --offset N`: the exact distribution of the next byte at UTF-16 offset N
 * (where VS Code's cursor would be), beside naive tokenization and token healing, from the workspace n-gram
 * (the file left out, as `score` does), or from an ONNX causal LM (`--model PATH_OR_ID`, with its own
 * tokenizer). The text after the offset is not used.
 */
import { escapeBytes, escapedText } from '../../core/analysis/stream';
import { NGRAM_MODEL_ID } from '../../core/lm/ngram';
import { nextByteDistribution } from '../../core/lm/nextByte';
import { parseArgs, UsageError } from '../args';
import { LANGUAGE_MODEL_ID, TOKENIZER_ID } from '../pathOrId';
import type { LanguageModel } from '../../core/lm/model';
import type { Tokenizer } from '../../core/tokenizers/types';
import { out, readTextFile, type CliCommand } from '../io';
import { onnxModelForCli, workspaceModelForFile } from './score';

/** The model, its tokenizer and the file's text: the workspace n-gram or an ONNX model (disposed after use). */
interface NextByteSubject {
  readonly lm: LanguageModel;
  readonly tokenizer: Tokenizer;
  readonly tokenizerName: string;
  readonly text: string;
  readonly json: Record<string, unknown>;
  readonly dispose: () => Promise<void>;
}

/** A byte as the hover shows text: ASCII as itself with controls escaped, other bytes as `\xNN`; 256 is END. */
function byteLabel(b: number): string {
  if (b === 256) return 'END';
  return b < 0x80 ? escapedText(String.fromCharCode(b)) : escapeBytes([b]);
}

export const nextBytesCommand: CliCommand = {
  name: 'next-bytes',
  usage:
    'next-bytes FILE --offset N [--model workspace-ngram|PATH_OR_ID] [--workspace DIR] [--tokenizer ID|PATH] [--order N] [--dtype fp32|q8|…] [--allow-downloads] [--cache-dir DIR] [--hub-host URL] [--json]   exact next-byte distribution at UTF-16 offset N, with naive and token-healing baselines (PATH_OR_ID: an ONNX model folder or hub repo id)',
  async run(argv) {
    const args = parseArgs(argv, ['offset', 'model', 'workspace', 'tokenizer', 'order', 'top', 'dtype', 'cache-dir', 'hub-host'], ['json', 'allow-downloads'], {
      positionals: 1,
      pathOrId: { model: LANGUAGE_MODEL_ID, tokenizer: TOKENIZER_ID },
    });
    const file = args.positionals[0];
    if (!file) throw new UsageError('next-bytes needs a FILE');
    const offsetText = args.options.get('offset');
    if (offsetText === undefined) throw new UsageError('next-bytes needs --offset N (a UTF-16 offset into the file)');
    const offset = Number(offsetText);
    if (!Number.isInteger(offset) || offset < 0) throw new UsageError(`--offset must be a UTF-16 offset, not ${offsetText}`);
    const topText = args.options.get('top') ?? '10';
    const top = Number(topText);
    if (!Number.isInteger(top) || top < 1 || top > 257) throw new UsageError(`--top must be 1 to 257, not ${topText}`);
    const spec = args.options.get('model') ?? NGRAM_MODEL_ID;
    let wm: NextByteSubject;
    if (spec === NGRAM_MODEL_ID) {
      const w = await workspaceModelForFile(file, args);
      wm = { lm: w.lm, tokenizer: w.loaded.tokenizer, tokenizerName: w.loaded.name, text: w.text, json: { model: NGRAM_MODEL_ID, tokenizer: w.loaded.id }, dispose: async () => undefined };
    } else {
      const m = await onnxModelForCli(spec, args);
      wm = { lm: m, tokenizer: m.tokenizer.tokenizer, tokenizerName: m.tokenizer.name, text: readTextFile(file), json: { model: spec, tokenizer: m.info.folder, runtime: m.info.runtime }, dispose: () => m.dispose() };
    }
    try {
      await printNextBytes(file, offset, top, args.flags.has('json'), wm);
    } finally {
      await wm.dispose();
    }
  },
};

async function printNextBytes(file: string, offset: number, top: number, json: boolean, wm: NextByteSubject): Promise<void> {
  if (offset > wm.text.length) throw new UsageError(`--offset ${offset} is past the end of ${file} (${wm.text.length} UTF-16 units)`);
  const r = await nextByteDistribution(wm.lm, wm.tokenizer, wm.text, offset, { topCharacters: top });
  if (json) {
    out(
      JSON.stringify({
        ...wm.json,
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
    `${file} at offset ${r.offset} (byte ${r.byteOffset}) under ${wm.tokenizerName}; ${wm.lm.description}` +
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
}
