/**
 * `token-inspector next-bytes FILE --offset N`: the exact distribution of the next byte at UTF-16 offset N
 * (where VS Code's cursor would be), beside naive tokenization and token healing, from the workspace n-gram
 * (the file left out, as `score` does), or from an ONNX causal LM (`--model PATH_OR_ID`, with its own
 * tokenizer), or from a remote OpenAI-compatible completions endpoint (`--model remote --endpoint URL`, the
 * tokenizer of its model given by `--tokenizer`; its top-20 per prefix only, so the answer is approximate and
 * says how much mass the top-20 left out: core/lm/remoteNextByte.ts). The API key, if the endpoint needs one,
 * is read from the environment variable TOKEN_INSPECTOR_API_KEY, not from the command line (which others on
 * the machine can see). The text after the offset is not used.
 */
import { escapeBytes, escapedText } from '../../core/analysis/stream';
import { NGRAM_MODEL_ID } from '../../core/lm/ngram';
import { nextByteDistribution, type NextByteResult } from '../../core/lm/nextByte';
import { parseArgs, UsageError } from '../args';
import { NEXT_BYTE_MODEL_ID, TOKENIZER_ID } from '../pathOrId';
import { RemoteCompletionsModel } from '../../core/lm/remote';
import { remoteNextByteDistribution, type RemoteNextByteResult } from '../../core/lm/remoteNextByte';
import { loadTokenizer } from '../../core/tokenizers/loader';
import { LOAD_OPTIONS } from '../io';
import type { LanguageModel } from '../../core/lm/model';
import type { Tokenizer } from '../../core/tokenizers/types';
import { out, readTextFile, type CliCommand } from '../io';
import { onnxModelForCli, workspaceModelForFile } from './score';
import { spaceNote } from '../../core/lm/nextByte/spaceNote';

/** The model, its tokenizer and the file's text: the workspace n-gram or an ONNX model (disposed after use). */
interface NextByteSubject {
  /** The model in one line. */
  readonly description: string;
  readonly compute: (text: string, offset: number, top: number) => Promise<NextByteResult | RemoteNextByteResult>;
  readonly tokenizer: Tokenizer;
  readonly tokenizerName: string;
  readonly text: string;
  readonly json: Record<string, unknown>;
  readonly dispose: () => Promise<void>;
}

/** The exact next byte from a local model. */
function localCompute(lm: LanguageModel, tokenizer: Tokenizer): NextByteSubject['compute'] {
  return (text, offset, top) => nextByteDistribution(lm, tokenizer, text, offset, { topCharacters: top });
}

/** A byte as the hover shows text: ASCII as itself with controls escaped, other bytes as `\xNN`; 256 is END. */
function byteLabel(b: number): string {
  if (b === 256) return 'END';
  return b < 0x80 ? escapedText(String.fromCharCode(b)) : escapeBytes([b]);
}

export const nextBytesCommand: CliCommand = {
  name: 'next-bytes',
  usage:
    'next-bytes FILE --offset N [--model workspace-ngram|remote|PATH_OR_ID] [--workspace DIR] [--tokenizer ID|PATH] [--order N] [--dtype fp32|q8|…] [--allow-downloads] [--cache-dir DIR] [--hub-host URL] [--endpoint URL] [--endpoint-model NAME] [--max-prompt-tokens N] [--json]   exact next-byte distribution at UTF-16 offset N, with naive and token-healing baselines (PATH_OR_ID: an ONNX model folder or hub repo id; remote: the completions endpoint at --endpoint, its top-20 only, approximate; API key from $TOKEN_INSPECTOR_API_KEY)',
  async run(argv) {
    const args = parseArgs(argv, ['offset', 'model', 'workspace', 'tokenizer', 'order', 'top', 'dtype', 'cache-dir', 'hub-host', 'endpoint', 'endpoint-model', 'max-prompt-tokens'], ['json', 'allow-downloads'], {
      positionals: 1,
      pathOrId: { model: NEXT_BYTE_MODEL_ID, tokenizer: TOKENIZER_ID },
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
    for (const o of ['endpoint', 'endpoint-model', 'max-prompt-tokens']) if (spec !== 'remote' && args.options.has(o)) throw new UsageError(`--${o} applies to --model remote only`);
    if (spec === 'remote') {
      wm = await remoteSubject(file, args.options);
    } else if (spec === NGRAM_MODEL_ID) {
      const w = await workspaceModelForFile(file, args);
      wm = { description: w.lm.description, compute: localCompute(w.lm, w.loaded.tokenizer), tokenizer: w.loaded.tokenizer, tokenizerName: w.loaded.name, text: w.text, json: { model: NGRAM_MODEL_ID, tokenizer: w.loaded.id }, dispose: async () => undefined };
    } else {
      const m = await onnxModelForCli(spec, args);
      wm = { description: m.description, compute: localCompute(m, m.tokenizer.tokenizer), tokenizer: m.tokenizer.tokenizer, tokenizerName: m.tokenizer.name, text: readTextFile(file), json: { model: spec, tokenizer: m.info.folder, runtime: m.info.runtime }, dispose: () => m.dispose() };
    }
    try {
      await printNextBytes(file, offset, top, args.flags.has('json'), wm);
    } finally {
      await wm.dispose();
    }
  },
};

/** `--model remote --endpoint URL [--tokenizer ID|PATH] [--endpoint-model NAME] [--max-prompt-tokens N]`. */
async function remoteSubject(file: string, options: ReadonlyMap<string, string>): Promise<NextByteSubject> {
  const url = options.get('endpoint');
  if (!url) throw new UsageError('--model remote needs --endpoint URL (an OpenAI-compatible completions endpoint, e.g. http://host:8000/v1)');
  for (const o of ['workspace', 'order', 'dtype', 'cache-dir', 'hub-host']) if (options.has(o)) throw new UsageError(`--${o} does not apply to --model remote`);
  const maxText = options.get('max-prompt-tokens');
  const maxPromptTokens = maxText === undefined ? undefined : Number(maxText);
  if (maxPromptTokens !== undefined && !(Number.isInteger(maxPromptTokens) && maxPromptTokens >= 8 && maxPromptTokens <= 1 << 20)) throw new UsageError(`--max-prompt-tokens must be 8 to ${1 << 20}, not ${maxText}`);
  const loaded = await loadTokenizer(options.get('tokenizer') ?? 'o200k_base', LOAD_OPTIONS);
  const apiKey = process.env.TOKEN_INSPECTOR_API_KEY || undefined;
  const endpoint = new RemoteCompletionsModel({ url, apiKey, model: options.get('endpoint-model'), maxPromptTokens }, loaded.tokenizer);
  const json = { model: 'remote', endpoint: endpoint.id.replace(/^remote:/, ''), tokenizer: loaded.id };
  return {
    description: `the remote endpoint ${json.endpoint} (its top-20 next tokens per prefix)`,
    compute: (text, offset, top) => remoteNextByteDistribution(endpoint, loaded.tokenizer, text, offset, { topCharacters: top }),
    tokenizer: loaded.tokenizer,
    tokenizerName: loaded.name,
    text: readTextFile(file),
    json,
    dispose: async () => undefined,
  };
}

const isRemote = (r: NextByteResult | RemoteNextByteResult): r is RemoteNextByteResult => 'maxMissingMass' in r;

async function printNextBytes(file: string, offset: number, top: number, json: boolean, wm: NextByteSubject): Promise<void> {
  if (offset > wm.text.length) throw new UsageError(`--offset ${offset} is past the end of ${file} (${wm.text.length} UTF-16 units)`);
  const r = await wm.compute(wm.text, offset, top);
  const remote = isRemote(r) ? { topK: r.topK, maxMissingMass: r.maxMissingMass, prompts: r.prompts, requests: r.requests } : undefined;
  if (json) {
    out(
      JSON.stringify({
        ...wm.json,
        ...(remote ? { topKOnly: remote } : {}),
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
        ...(r.spaceAs ? { spaceAs: r.spaceAs } : {}),
      }),
    );
    return;
  }
  out(
    `${file} at offset ${r.offset} (byte ${r.byteOffset}) under ${wm.tokenizerName}; ${wm.description}` +
      (remote ? ` (${remote.prompts} prefixes in ${remote.requests} requests)` : '') +
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
  if (r.spaceAs) out(spaceNote(r.spaceAs));
}

