/**
 * `token-inspector features FILE --model PATH_OR_ID --sae PATH_OR_ID --encoder E [--k N] [--m N] [--json]`: the
 * SAE features of every token of FILE. The hidden states come from the model (an ONNX model's graph tapped at
 * the SAE's hook, core/lm/onnx/hiddenStates.ts) or, with `--hidden FILE.npy`, from a saved [n_tokens, d_in]
 * matrix. Model and SAE may be hub repo ids, found in the Hugging Face cache or, with --allow-downloads, fetched.
 */
import { statSync } from 'node:fs';
import { tokenJson } from '../../core/analysis/stream';
import { isOnnxDtype, loadOnnxHiddenStates, type ModelSource } from '../../core/lm/onnx';
import { DownloadError, type DownloadProgress } from '../../core/models/download';
import { defaultHubCacheDir } from '../../core/models/hubCache';
import { resolveSaeSpec } from '../../core/sae/download';
import { fileSource } from '../../core/sae/bytes';
import { documentFeatures, modelTokens, type ModelToken } from '../../core/sae/documentFeatures';
import { encodeHiddenStates, featureTotals, type SaeEncoding } from '../../core/sae/encode';
import { ENCODER_KINDS, ENCODERS, isEncoderKind, OWN_ENCODER } from '../../core/sae/encoderKinds';
import { SaeError } from '../../core/sae/errors';
import type { HiddenStateSource } from '../../core/sae/hidden';
import { checkLabelsFit, featureDisplayName, loadFeatureLabels, type FeatureLabels } from '../../core/sae/labels';
import { loadSae } from '../../core/sae/loader';
import { readNpy } from '../../core/sae/npy';
import type { SparseAutoencoder } from '../../core/sae/types';
import { utf8Encode } from '../../core/text/utf8';
import { loadTokenizer, type LoadedTokenizer } from '../../core/tokenizers/loader';
import type { TokenStream } from '../../core/tokenizers/types';
import { parseArgs, UsageError } from '../args';
import { MODEL_REPO_ID, SAE_REPO_ID } from '../pathOrId';
import { LOAD_OPTIONS, out, readTextFile, type CliCommand } from '../io';

/** A hidden-state source as the CLI uses it: it may bring the model's own tokenizer, and be disposed. */
export interface CliHiddenStateSource extends HiddenStateSource {
  /** The model's tokenizer (else the `--model` spec is loaded as a tokenizer). */
  readonly tokenizer?: LoadedTokenizer;
  dispose?(): Promise<void>;
}

/** Opens the hidden-state source of a model path or id, with the hub settings of the command line. */
export type HiddenStateSourceFactory = (model: string, source: ModelSource) => Promise<CliHiddenStateSource>;

/** The ONNX model path: the graph tapped at the SAE's hook. */
export const onnxHiddenStateSource: HiddenStateSourceFactory = (model, source) => loadOnnxHiddenStates(model, source);

export interface FeaturesCommandDeps {
  /** Without one, only `--hidden FILE.npy` gives hidden states. */
  readonly hiddenStateSource?: HiddenStateSourceFactory;
  /** Where output goes (stdout by default). */
  readonly write?: (s: string) => void;
}

export const NO_HIDDEN_STATE_SOURCE = 'hidden states need an ONNX model, which this build cannot run; give them with --hidden FILE.npy (a [n_tokens, d_in] float32 matrix)';

/** Progress lines on stderr at most this often. */
const PROGRESS_INTERVAL_MS = 1000;

function downloadReporter(what: string): (p: DownloadProgress) => void {
  let last = 0;
  return (p) => {
    if (Date.now() - last < PROGRESS_INTERVAL_MS && p.filesDone < p.files) return;
    last = Date.now();
    process.stderr.write(`downloading ${what}: ${p.file} ${Math.round(p.bytes / 2 ** 20)}${p.total ? `/${Math.round(p.total / 2 ** 20)}` : ''} MB (${p.filesDone}/${p.files} files)\n`);
  };
}

/** Progress (model, then encoder) on stderr, when a document takes more than a moment. */
function featuresProgress(): (done: number, total: number) => void {
  const t0 = Date.now();
  let last = t0;
  return (done, total) => {
    const now = Date.now();
    if (done >= total ? last === t0 : now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    process.stderr.write(`features: ${Math.round((100 * done) / Math.max(1, total))}% (${Math.round((now - t0) / 1000)} s)\n`);
  };
}

/** A model the hidden states cannot come from: what was wrong, and the ways out. */
function sourceError(model: string, e: unknown): unknown {
  if (e instanceof DownloadError && (e.kind === 'disabled' || e.kind === 'not-found')) {
    return new SaeError(`hidden states need an ONNX model; --model ${model}: ${e.message}; or give the hidden states with --hidden FILE.npy`);
  }
  return e;
}

/** Shown per token in the text output. */
const DEFAULT_TOP_FEATURES = 5;

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || parseInt(v, 10) < 1) throw new UsageError(`--${name} needs a positive integer (got ${v})`);
  return parseInt(v, 10);
}

/** The shortest decimal that reads back as the same float32 (keeps the JSON readable). */
export function float32Json(v: number): number | null {
  if (!Number.isFinite(v)) return null;
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return s;
  }
  return f;
}

function readHiddenNpy(path: string, sae: SparseAutoencoder): { data: Float32Array; rows: number } {
  try {
    if (!statSync(path).isFile()) throw new Error();
  } catch {
    throw new UsageError(`--hidden ${path}: no such file`);
  }
  const src = fileSource(path);
  try {
    const npy = readNpy(src);
    if (npy.shape.length !== 2) throw new SaeError(`${path}: hidden states must be a [n_tokens, d_in] matrix; this array has shape (${npy.shape.join(', ')})`);
    const [rows, width] = npy.shape;
    if (width !== sae.dIn) throw new SaeError(`${path}: rows of width ${width}, but the SAE reads width ${sae.dIn} (d_in): hidden states of another model or hook?`);
    return { data: npy.data, rows };
  } finally {
    src.close();
  }
}

/** Ties the matrix's rows to tokens: rows = the model's tokens with the BOS, or without it. */
function alignRows(path: string, rows: number, withBos: ModelToken[], withoutBos: ModelToken[], file: string, model: string): ModelToken[] {
  if (rows === withBos.length) return withBos;
  if (rows === withoutBos.length) return withoutBos;
  const counts = withBos.length === withoutBos.length ? `${withoutBos.length}` : `${withoutBos.length} (${withBos.length} with the BOS the SAE expects)`;
  throw new SaeError(`${path} has ${rows} rows but ${file} is ${counts} tokens under ${model}: the hidden states are of another text or tokenizer`);
}

/** What --encoder takes, one kind a line with the budgets it reads (the encoder table's help). */
function encoderHelp(): string {
  const width = Math.max(...ENCODER_KINDS.map((k) => k.length)) + 2;
  const lines = [`  ${'(none)'.padEnd(width)}${OWN_ENCODER.help}`];
  for (const e of ENCODERS) {
    const budgets = Object.entries(e.budgets).map(([name, byDefault]) => `--${name}, default ${byDefault}`);
    lines.push(`  ${e.id.padEnd(width)}${e.label}: ${e.help}${budgets.length ? ` (${budgets.join('; ')})` : ''}`);
  }
  return lines.join('\n');
}

export function makeFeaturesCommand(deps: FeaturesCommandDeps = {}): CliCommand {
  const write = deps.write ?? out;
  const usage = `features FILE --model PATH_OR_ID --sae PATH_OR_ID [--sae-id SUBFOLDER] [--encoder ${ENCODER_KINDS.join('|')}] [--k N] [--m N] [--hook HOOK] [--hidden FILE.npy] [--labels FILE] [--top N] [--dtype fp32|q8|…] [--allow-downloads] [--cache-dir DIR] [--hub-host URL] [--json]   SAE features per token`;
  return {
    name: 'features',
    usage,
    async run(argv) {
      if (argv.includes('--help') || argv.includes('-h')) {
        write(`usage: token-inspector ${usage}\n\n--encoder (how features are allocated to tokens):\n${encoderHelp()}`);
        return;
      }
      const args = parseArgs(argv, ['model', 'sae', 'sae-id', 'encoder', 'k', 'm', 'hook', 'hidden', 'labels', 'top', 'dtype', 'cache-dir', 'hub-host'], ['json', 'allow-special', 'allow-downloads'], {
        positionals: 1,
        pathOrId: { model: MODEL_REPO_ID, sae: SAE_REPO_ID },
      });
      const file = args.positionals[0];
      if (!file) throw new UsageError('features needs a FILE');
      const model = args.options.get('model');
      if (!model) throw new UsageError('features needs --model PATH_OR_ID (its tokenizer, and its hidden states unless --hidden is given)');
      const saePath = args.options.get('sae');
      if (!saePath) throw new UsageError('features needs --sae PATH_OR_ID (a SAELens or sparsify folder, a Gemma Scope params.npz, a Hugging Face cache folder, or a hub repo id with --sae-id)');
      const dtype = args.options.get('dtype') ?? 'fp32';
      if (!isOnnxDtype(dtype)) throw new UsageError(`--dtype must be fp32, fp16, q8, int8, uint8, q4, q4f16 or bnb4, not ${dtype}`);
      const hub = { allowDownloads: args.flags.has('allow-downloads'), cacheDir: args.options.get('cache-dir') ?? defaultHubCacheDir(), host: args.options.get('hub-host') };
      const encoderArg = args.options.get('encoder');
      if (encoderArg !== undefined && !isEncoderKind(encoderArg)) throw new UsageError(`--encoder must be one of ${ENCODER_KINDS.join(', ')} (features --help says what each selects)`);
      const k = positiveInt('k', args.options.get('k'));
      const m = positiveInt('m', args.options.get('m'));
      const top = positiveInt('top', args.options.get('top'));
      const hiddenPath = args.options.get('hidden');

      const text = readTextFile(file);
      const subfolder = args.options.get('sae-id');
      const saeFolder = await resolveSaeSpec(saePath, { ...hub, subfolder, onProgress: downloadReporter(saePath) });
      const sae = loadSae(saeFolder, { subfolder, hook: args.options.get('hook') });
      let labels: FeatureLabels | undefined;
      const labelsPath = args.options.get('labels');
      if (labelsPath) {
        labels = loadFeatureLabels(labelsPath, { neuronpediaId: sae.neuronpediaId });
        checkLabelsFit(labels, sae.dSae);
      }
      // The model's own tokenizer comes with its hidden states; with --hidden, --model names a tokenizer.
      const encodeOptions = { encoder: encoderArg, k, m };
      const allowSpecial = args.flags.has('allow-special');
      let loaded: LoadedTokenizer;
      let stream: TokenStream;
      let tokens: readonly ModelToken[];
      let enc: SaeEncoding;
      let warnings: readonly string[] = [];
      if (hiddenPath) {
        loaded = await loadTokenizer(model, LOAD_OPTIONS);
        stream = loaded.tokenizer.encode(text, { allowSpecial });
        const h = readHiddenNpy(hiddenPath, sae);
        tokens = alignRows(hiddenPath, h.rows, modelTokens(loaded.tokenizer, stream, sae.prependBos === true), modelTokens(loaded.tokenizer, stream, false), file, loaded.id);
        enc = encodeHiddenStates(sae, h.data, encodeOptions);
      } else {
        if (!deps.hiddenStateSource) throw new SaeError(NO_HIDDEN_STATE_SOURCE);
        const source = await deps.hiddenStateSource(model, { ...hub, dtype, onDownloadProgress: downloadReporter(model) }).catch((e: unknown) => {
          throw sourceError(model, e);
        });
        try {
          loaded = source.tokenizer ?? (await loadTokenizer(model, LOAD_OPTIONS));
          // The pipeline the editor runs: the model's tokens (a BOS when the SAE was trained with one), the
          // hidden states at the SAE's hook (each window of a long document starting with that BOS), the encoder.
          const r = await documentFeatures(text, loaded.tokenizer, source, sae, { ...encodeOptions, allowSpecial, onProgress: featuresProgress() });
          ({ stream, tokens, encoding: enc, warnings } = r);
        } finally {
          await source.dispose?.();
        }
      }

      const utf8 = utf8Encode(text.toWellFormed());
      const rows = tokens.length;
      const tokenRows = tokens.map((t, r) => {
        const info = t.streamIndex !== undefined ? tokenJson(stream, text, utf8, t.streamIndex) : undefined;
        const at = t.added?.position === 'end' ? stream.byteLength : 0;
        const bytes: [number, number] = info ? [info.bytes[0], info.bytes[1]] : [at, at];
        return { row: r, id: t.id, text: info?.text ?? t.added?.text ?? '', bytes, added: t.added !== undefined };
      });
      const featureList = (t: number, limit: number | undefined) => {
        const list = [];
        const end = limit === undefined ? enc.rowStart[t + 1] : Math.min(enc.rowStart[t + 1], enc.rowStart[t] + limit);
        for (let e = enc.rowStart[t]; e < end; e++) {
          const index = enc.featureIndex[e];
          list.push({ index, activation: float32Json(enc.activation[e]) as number, label: labels?.get(index) ?? null });
        }
        return list;
      };

      if (args.flags.has('json')) {
        write(
          JSON.stringify({
            model,
            sae: saePath,
            saeFormat: sae.format,
            architecture: sae.architecture,
            hook: sae.hook ?? null,
            dIn: sae.dIn,
            dSae: sae.dSae,
            encoder: enc.encoder,
            k: enc.k ?? null,
            m: enc.m ?? null,
            hiddenStates: hiddenPath ? { file: hiddenPath } : { model },
            labels: labels ? { file: labels.source, count: labels.count } : null,
            warnings,
            tokens: tokenRows.map((t) => ({
              id: t.id,
              text: t.text,
              bytes: t.bytes,
              added: t.added,
              selected: enc.rowStart[t.row + 1] - enc.rowStart[t.row],
              active: enc.activeCount[t.row],
              features: featureList(t.row, top),
              reconstructionError: float32Json(enc.normalizedMse[t.row]),
              varianceExplained: float32Json(enc.varianceExplained[t.row]),
            })),
            summary: summary(enc, labels),
          }),
        );
        return;
      }
      for (const w of warnings) write(`warning: ${w}`);
      const kText = enc.k !== undefined ? ` k=${enc.k}` : '';
      const mText = enc.m !== undefined ? ` m=${enc.m}` : '';
      write(
        `${file}: ${rows} tokens under ${loaded.name} · SAE ${saePath} (${sae.format} ${sae.architecture}, ${sae.hook ?? 'hook unknown'}, ${sae.dSae} features) · encoder ${enc.encoder}${kText}${mText}`,
      );
      const s = summary(enc, labels);
      write(
        `selected ${s.selected} (${s.meanSelectedPerToken} per token), active ${s.active} (${s.meanActivePerToken} per token), ` +
          `mean normalized MSE ${s.meanNormalizedMse?.toPrecision(4) ?? '-'}, mean variance explained ${s.meanVarianceExplained?.toPrecision(4) ?? '-'}`,
      );
      write('INDEX'.padEnd(7) + 'TEXT'.padEnd(16) + 'SEL'.padEnd(6) + 'ACT'.padEnd(6) + 'nMSE'.padEnd(10) + 'TOP FEATURES');
      for (const t of tokenRows) {
        const feats = featureList(t.row, top ?? DEFAULT_TOP_FEATURES)
          .map((f) => `${featureDisplayName(labels, f.index)}${labels?.get(f.index) ? ` (#${f.index})` : ''} ${f.activation.toPrecision(4)}`)
          .join(', ');
        const shown = JSON.stringify(t.text).slice(0, 15);
        write(
          String(t.row).padEnd(7) +
            shown.padEnd(16) +
            String(enc.rowStart[t.row + 1] - enc.rowStart[t.row]).padEnd(6) +
            String(enc.activeCount[t.row]).padEnd(6) +
            (Number.isFinite(enc.normalizedMse[t.row]) ? enc.normalizedMse[t.row].toPrecision(4) : '-').padEnd(10) +
            feats,
        );
      }
    },
  };
}

function mean(values: Float64Array): number | null {
  let s = 0;
  let n = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      s += v;
      n++;
    }
  }
  return n ? float32Json(s / n) : null;
}

function summary(enc: SaeEncoding, labels: FeatureLabels | undefined) {
  let active = 0;
  for (const a of enc.activeCount) active += a;
  const n = Math.max(1, enc.tokenCount);
  return {
    tokens: enc.tokenCount,
    selected: enc.featureIndex.length,
    active,
    meanSelectedPerToken: float32Json(enc.featureIndex.length / n),
    meanActivePerToken: float32Json(active / n),
    meanNormalizedMse: mean(enc.normalizedMse),
    meanVarianceExplained: mean(enc.varianceExplained),
    topFeatures: featureTotals(enc)
      .slice(0, 10)
      .map((f) => ({ index: f.index, totalActivation: float32Json(f.totalActivation), activeTokens: f.activeTokens, label: labels?.get(f.index) ?? null })),
    encodeMs: Math.round(enc.encodeMs),
  };
}

export const featuresCommand: CliCommand = makeFeaturesCommand({ hiddenStateSource: onnxHiddenStateSource });
