/**
 * `token-inspector score FILE --model workspace-ngram`: per-token log-probability, rank, entropy and top-k
 * alternatives, and per-byte surprisal, from the workspace n-gram trained on the file's workspace with the
 * file itself left out. Shares the workspace training with `next-bytes`.
 *
 * `--model PATH_OR_ID`: an ONNX causal LM instead (a model folder, a Hugging Face cache model folder, or a
 * repo id found in the cache or, with --allow-downloads, downloaded), scored with its own tokenizer.
 */
import { resolve } from 'node:path';
import { NGRAM_MODEL_ID, type NgramLanguageModel } from '../../core/lm/ngram';
import { isOnnxDtype, loadOnnxModel, type OnnxCausalLM } from '../../core/lm/onnx';
import { DownloadError } from '../../core/models/download';
import { scoreDocument, scoredToken, tokenDisplayText, type DocumentScores } from '../../core/lm/score';
import type { Tokenizer } from '../../core/tokenizers/types';
import { defaultWorkspaceFor, listWorkspaceFiles, trainWorkspaceNgram, workspaceKey, type WorkspaceTrainingResult } from '../../core/lm/workspaceFiles';
import { escapedText } from '../../core/analysis/stream';
import { loadTokenizer, type LoadedTokenizer } from '../../core/tokenizers/loader';
import { parseArgs, UsageError, type ParsedArgs } from '../args';
import { LANGUAGE_MODEL_ID, TOKENIZER_ID } from '../pathOrId';
import { LOAD_OPTIONS, out, readTextFile, type CliCommand } from '../io';

interface WorkspaceModel {
  readonly loaded: LoadedTokenizer;
  readonly text: string;
  readonly workspace: string;
  readonly training: WorkspaceTrainingResult;
  /** The model to use for the file: the file left out when it was trained on. */
  readonly lm: NgramLanguageModel;
  readonly leftOut: boolean;
}

/** Reads FILE, trains the workspace n-gram (--workspace, --tokenizer, --order) and leaves the file out. */
export async function workspaceModelForFile(file: string, args: ParsedArgs): Promise<WorkspaceModel> {
  const model = args.options.get('model') ?? NGRAM_MODEL_ID;
  if (model !== NGRAM_MODEL_ID) throw new UsageError(`unknown model "${model}"; the built-in model is ${NGRAM_MODEL_ID}`);
  const text = readTextFile(file);
  const workspace = resolve(args.options.get('workspace') ?? defaultWorkspaceFor(file));
  const orderText = args.options.get('order') ?? '4';
  const order = Number(orderText);
  if (!Number.isInteger(order) || order < 2 || order > 5) throw new UsageError(`--order must be 2 to 5, not ${orderText}`);
  const loaded = await loadTokenizer(args.options.get('tokenizer') ?? 'o200k_base', LOAD_OPTIONS);
  const files = listWorkspaceFiles(workspace);
  const training = await trainWorkspaceNgram(files, loaded.tokenizer, { order, meta: { tokenizer: loaded.id } });
  const key = workspaceKey(workspace, file);
  const leftOut = key !== undefined && training.model.hasDocument(key);
  const lm = leftOut ? training.model.withoutDocument(key) : training.model.languageModel;
  return { loaded, text, workspace, training, lm, leftOut };
}

function round(x: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Prints scores as JSON (`head` first) or as a table (`lines` first). */
function printScores(scores: DocumentScores, tokenizer: Tokenizer, json: boolean, head: Record<string, unknown>, lines: readonly string[]): void {
  const tokens = [];
  for (let i = 0; i < scores.count; i++) tokens.push(scoredToken(scores, tokenizer, i));
  if (json) {
    const bytes = [];
    for (let b = 0; b < scores.surprisalBits.length; b++) bytes.push({ offset: b, surprisalBits: scores.surprisalBits[b] });
    out(
      JSON.stringify({
        ...head,
        tokens: tokens.map((t) => ({
          id: t.id,
          bytes: [t.byteStart, t.byteEnd],
          logProb: t.logProb,
          rank: t.rank,
          entropy: t.entropy,
          top: t.top,
        })),
        bytes,
      }),
    );
    return;
  }
  for (const l of lines) out(l);
  out('INDEX'.padEnd(8) + 'BYTES'.padEnd(14) + 'BITS'.padStart(7) + '  ' + 'RANK'.padEnd(8) + 'ENTROPY'.padEnd(9) + 'TOKEN'.padEnd(18) + 'TOP');
  tokens.forEach((t, i) => {
    const alts = t.top
      .slice(0, 3)
      .map((a) => `${escapedText(tokenDisplayText(tokenizer, a.id) || '<end>')} ${round(Math.exp(a.logProb), 3)}`)
      .join(', ');
    out(
      String(i).padEnd(8) +
        `${t.byteStart}-${t.byteEnd}`.padEnd(14) +
        round(t.surprisalBits, 2).toFixed(2).padStart(7) +
        '  ' +
        String(t.rank).padEnd(8) +
        (t.entropy === null ? '-' : round(t.entropy / Math.LN2, 2).toFixed(2)).padEnd(9) +
        escapedText(tokenDisplayText(tokenizer, t.id)).slice(0, 16).padEnd(18) +
        alts,
    );
  });
}

function totalLine(scores: DocumentScores): string {
  let total = 0;
  for (let i = 0; i < scores.count; i++) total -= scores.logProbs[i] / Math.LN2;
  return `total ${round(total, 1)} bits, ${round(total / Math.max(1, scores.stream.byteLength), 3)} bits/byte`;
}

/** `--model PATH_OR_ID`: loads an ONNX causal LM (with its own tokenizer) for `score` and `next-bytes`. */
export async function onnxModelForCli(spec: string, args: ParsedArgs): Promise<OnnxCausalLM> {
  for (const o of ['tokenizer', 'workspace', 'order']) if (args.options.has(o)) throw new UsageError(`--${o} applies to ${NGRAM_MODEL_ID} only; an ONNX model uses its own tokenizer`);
  const dtype = args.options.get('dtype') ?? 'fp32';
  if (!isOnnxDtype(dtype)) throw new UsageError(`--dtype must be fp32, fp16, q8, int8, uint8, q4, q4f16 or bnb4, not ${dtype}`);
  let lastReport = 0;
  return loadOnnxModel(spec, {
    allowDownloads: args.flags.has('allow-downloads'),
    cacheDir: args.options.get('cache-dir'),
    host: args.options.get('hub-host'),
    dtype,
    onDownloadProgress: (p) => {
      if (Date.now() - lastReport < 1000 && p.filesDone < p.files) return;
      lastReport = Date.now();
      process.stderr.write(`downloading ${spec}: ${p.file} ${Math.round(p.bytes / 2 ** 20)}${p.total ? `/${Math.round(p.total / 2 ** 20)}` : ''} MB (${p.filesDone}/${p.files} files)\n`);
    },
  }).catch((e: unknown) => {
    // Neither the built-in model, a folder, nor a model this machine has (or may fetch): a usage error.
    if (e instanceof DownloadError && (e.kind === 'disabled' || e.kind === 'not-found')) throw new UsageError(`unknown model "${spec}": not ${NGRAM_MODEL_ID}, not a model folder; ${e.message}`);
    throw e;
  });
}

/** `--model PATH_OR_ID`: an ONNX causal LM with its own tokenizer. */
async function scoreWithOnnxModel(file: string, spec: string, args: ParsedArgs, topK: number): Promise<void> {
  const model = await onnxModelForCli(spec, args);
  try {
    const text = readTextFile(file);
    const tokenizer = model.tokenizer.tokenizer;
    const scores = await model.scoreStream(tokenizer.encode(text), { topK });
    printScores(scores, tokenizer, args.flags.has('json'), { model: spec, tokenizer: model.info.folder, runtime: model.info.runtime, contextTokens: model.contextTokens }, [
      `${file}: ${scores.count} tokens; ${model.description}`,
      totalLine(scores),
    ]);
  } finally {
    await model.dispose();
  }
}

export const scoreCommand: CliCommand = {
  name: 'score',
  usage:
    'score FILE [--model workspace-ngram|PATH_OR_ID] [--workspace DIR] [--tokenizer ID|PATH] [--order N] [--top K] [--dtype fp32|q8|…] [--allow-downloads] [--cache-dir DIR] [--hub-host URL] [--json]   per-token log-prob, rank, entropy; per-byte surprisal (the n-gram leaves the file out; PATH_OR_ID: an ONNX model folder or hub repo id)',
  async run(argv) {
    const args = parseArgs(argv, ['model', 'workspace', 'tokenizer', 'order', 'top', 'dtype', 'cache-dir', 'hub-host'], ['json', 'allow-downloads'], {
      positionals: 1,
      pathOrId: { model: LANGUAGE_MODEL_ID, tokenizer: TOKENIZER_ID },
    });
    const file = args.positionals[0];
    if (!file) throw new UsageError('score needs a FILE');
    const topText = args.options.get('top') ?? '5';
    const topK = Number(topText);
    if (!Number.isInteger(topK) || topK < 0 || topK > 100) throw new UsageError(`--top must be 0 to 100, not ${topText}`);
    const spec = args.options.get('model') ?? NGRAM_MODEL_ID;
    if (spec !== NGRAM_MODEL_ID) return scoreWithOnnxModel(file, spec, args, topK);
    const wm = await workspaceModelForFile(file, args);
    const { tokenizer } = wm.loaded;
    const scores = await scoreDocument(wm.lm, tokenizer, wm.text, { topK });
    const st = wm.training.model.stats();
    printScores(
      scores,
      tokenizer,
      args.flags.has('json'),
      {
        model: NGRAM_MODEL_ID,
        tokenizer: wm.loaded.id,
        workspace: wm.workspace,
        training: { files: wm.training.files, tokens: wm.training.tokens, order: wm.training.model.order, leftOut: wm.leftOut },
      },
      [
        `${file}: ${scores.count} tokens under ${wm.loaded.name}; ${wm.lm.description} (${wm.workspace}, trained in ${Math.round(wm.training.trainMs)} ms)`,
        `${totalLine(scores)}; n-grams kept per order: ${st.ngramsPerOrder.join(', ')}`,
      ],
    );
  },
};
