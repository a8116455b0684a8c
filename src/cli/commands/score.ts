/**
 * `token-inspector score FILE --model workspace-ngram`: per-token log-probability, rank, entropy and top-k
 * alternatives, and per-byte surprisal, from the workspace n-gram trained on the file's workspace with the
 * file itself left out. Shares the workspace training with `next-bytes`.
 */
import { resolve } from 'node:path';
import { NGRAM_MODEL_ID, type NgramLanguageModel } from '../../core/lm/ngram';
import { scoreDocument, scoredToken, tokenDisplayText } from '../../core/lm/score';
import { defaultWorkspaceFor, listWorkspaceFiles, trainWorkspaceNgram, workspaceKey, type WorkspaceTrainingResult } from '../../core/lm/workspaceFiles';
import { escapedText } from '../../core/analysis/stream';
import { loadTokenizer, type LoadedTokenizer } from '../../core/tokenizers/loader';
import { parseArgs, UsageError, type ParsedArgs } from '../args';
import { LOAD_OPTIONS, out, readTextFile, type CliCommand } from '../io';

export interface WorkspaceModel {
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

export const scoreCommand: CliCommand = {
  name: 'score',
  usage:
    'score FILE [--model workspace-ngram] [--workspace DIR] [--tokenizer ID] [--order N] [--top K] [--json]   per-token log-prob, rank, entropy; per-byte surprisal (file left out of the model)',
  async run(argv) {
    const args = parseArgs(argv, ['model', 'workspace', 'tokenizer', 'order', 'top'], ['json']);
    const file = args.positionals[0];
    if (!file) throw new UsageError('score needs a FILE');
    const topText = args.options.get('top') ?? '5';
    const topK = Number(topText);
    if (!Number.isInteger(topK) || topK < 0 || topK > 100) throw new UsageError(`--top must be 0 to 100, not ${topText}`);
    const wm = await workspaceModelForFile(file, args);
    const { tokenizer } = wm.loaded;
    const scores = await scoreDocument(wm.lm, tokenizer, wm.text, { topK });
    const tokens = [];
    for (let i = 0; i < scores.count; i++) tokens.push(scoredToken(scores, tokenizer, i));
    if (args.flags.has('json')) {
      const bytes = [];
      for (let b = 0; b < scores.surprisalBits.length; b++) bytes.push({ offset: b, surprisalBits: scores.surprisalBits[b] });
      out(
        JSON.stringify({
          model: NGRAM_MODEL_ID,
          tokenizer: wm.loaded.id,
          workspace: wm.workspace,
          training: { files: wm.training.files, tokens: wm.training.tokens, order: wm.training.model.order, leftOut: wm.leftOut },
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
    const st = wm.training.model.stats();
    out(
      `${file}: ${scores.count} tokens under ${wm.loaded.name}; ${wm.lm.description} (${wm.workspace}, trained in ${Math.round(wm.training.trainMs)} ms)`,
    );
    let total = 0;
    for (const t of tokens) total += t.surprisalBits;
    out(`total ${round(total, 1)} bits, ${round(total / Math.max(1, scores.stream.byteLength), 3)} bits/byte; n-grams kept per order: ${st.ngramsPerOrder.join(', ')}`);
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
  },
};
