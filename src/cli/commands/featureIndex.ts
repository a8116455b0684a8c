/**
 * `token-inspector features-index DIR --model PATH_OR_ID --sae PATH_OR_ID [--out FILE] [--json]`: the workspace
 * feature index of DIR (top contexts, histogram and frequency of every feature, logit effects), written to
 * FILE and updated in place on the next run (only files whose content changed are read through the model).
 * `token-inspector feature N --index FILE [--json]`: one feature of an index.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkModelFiles } from '../../core/lm/onnx/folder';
import { loadOnnxHiddenStates } from '../../core/lm/onnx';
import { resolveModelSource } from '../../core/lm/onnx/load';
import { defaultHubCacheDir } from '../../core/models/hubCache';
import { resolveSaeSpec } from '../../core/sae/download';
import { SaeError } from '../../core/sae/errors';
import { checkLabelsFit, loadFeatureLabels, type FeatureLabels } from '../../core/sae/labels';
import { loadSae } from '../../core/sae/loader';
import { defaultEncoderFor, type SparseAutoencoder } from '../../core/sae/types';
import {
  allFeatureEffects,
  DEFAULT_CONTEXTS_KEPT,
  featureEffects,
  featureReport,
  FeatureIndex,
  labelOf,
  listIndexFiles,
  loadIndex,
  readUnembedding,
  saveIndex,
  updateIndex,
  type FeatureIndexSource,
  type IndexProgress,
  type ReportOptions,
  type StoredIndex,
} from '../../core/sae/workspaceIndex';
import { parseArgs, UsageError } from '../args';
import { LOAD_OPTIONS, out as stdout, type CliCommand } from '../io';
import { loadTokenizer } from '../../core/tokenizers/loader';
import { MODEL_REPO_ID, SAE_REPO_ID } from '../pathOrId';
import { float32Json } from './features';

const DEFAULT_INDEX_FILE = 'feature-index.json';
const PROGRESS_INTERVAL_MS = 1000;

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || parseInt(v, 10) < 1) throw new UsageError(`--${name} needs a positive integer (got ${v})`);
  return parseInt(v, 10);
}

/** A path-like spec as an absolute path (so the index names the same model from any folder); an id as it is. */
function absoluteIfPath(spec: string): string {
  return existsSync(spec) ? resolve(spec) : spec;
}

function progressReporter(): (p: IndexProgress) => void {
  const t0 = Date.now();
  let last = t0;
  return (p) => {
    const now = Date.now();
    if (now - last < PROGRESS_INTERVAL_MS && p.filesDone < p.filesTotal) return;
    last = now;
    process.stderr.write(`features-index: ${p.filesDone}/${p.filesTotal} files (${p.filesUnchanged} unchanged), ${p.tokensDone} tokens read, ${Math.round((now - t0) / 1000)} s${p.path ? ` · ${p.path}` : ''}\n`);
  };
}

function sameSource(a: FeatureIndexSource, b: FeatureIndexSource): boolean {
  return a.model === b.model && a.sae === b.sae && (a.saeId ?? '') === (b.saeId ?? '') && a.hook === b.hook && a.dSae === b.dSae && a.encoder === b.encoder;
}

function readLabels(path: string | undefined, sae: Pick<SparseAutoencoder, 'neuronpediaId' | 'dSae'>): FeatureLabels | undefined {
  if (!path) return undefined;
  const labels = loadFeatureLabels(path, { neuronpediaId: sae.neuronpediaId });
  checkLabelsFit(labels, sae.dSae);
  return labels;
}

export interface FeatureIndexCommandDeps {
  /** Where output goes (stdout by default). */
  readonly write?: (s: string) => void;
}

export function makeFeaturesIndexCommand(deps: FeatureIndexCommandDeps = {}): CliCommand {
  const out = deps.write ?? stdout;
  return {
  name: 'features-index',
  usage:
    'features-index DIR --model PATH_OR_ID --sae PATH_OR_ID [--sae-id SUBFOLDER] [--hook HOOK] [--out FILE] [--exclude GLOB,…] [--contexts N] [--labels FILE] [--allow-downloads] [--cache-dir DIR] [--hub-host URL] [--json]   the workspace feature index: every feature\'s top contexts, histogram, frequency and logit effects (updated per changed file)',
  async run(argv) {
    const args = parseArgs(argv, ['model', 'sae', 'sae-id', 'hook', 'out', 'exclude', 'contexts', 'labels', 'cache-dir', 'hub-host'], ['json', 'allow-downloads', 'allow-special'], {
      positionals: 1,
      pathOrId: { model: MODEL_REPO_ID, sae: SAE_REPO_ID },
    });
    const dir = args.positionals[0];
    if (!dir) throw new UsageError('features-index needs a folder DIR');
    try {
      if (!statSync(dir).isDirectory()) throw new Error();
    } catch {
      throw new UsageError(`${dir} is not a folder`);
    }
    const modelSpec = args.options.get('model');
    if (!modelSpec) throw new UsageError('features-index needs --model PATH_OR_ID (an ONNX causal LM folder or hub repo id)');
    const saeSpec = args.options.get('sae');
    if (!saeSpec) throw new UsageError('features-index needs --sae PATH_OR_ID (a SAELens or sparsify folder, a Gemma Scope params.npz, a Hugging Face cache folder, or a hub repo id with --sae-id)');
    const capacity = positiveInt('contexts', args.options.get('contexts')) ?? DEFAULT_CONTEXTS_KEPT;
    const outPath = resolve(args.options.get('out') ?? DEFAULT_INDEX_FILE);
    const exclude = (args.options.get('exclude') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const hub = { allowDownloads: args.flags.has('allow-downloads'), cacheDir: args.options.get('cache-dir') ?? defaultHubCacheDir(), host: args.options.get('hub-host') };
    const subfolder = args.options.get('sae-id');
    const saeFolder = await resolveSaeSpec(saeSpec, { ...hub, subfolder });
    const sae = loadSae(saeFolder, { subfolder, hook: args.options.get('hook') });
    if (!sae.hook) throw new SaeError(`${saeSpec}: the SAE does not say which hook it reads; give it with --hook (e.g. blocks.6.hook_resid_post)`);
    const labels = readLabels(args.options.get('labels'), sae);
    const source: FeatureIndexSource = { model: absoluteIfPath(modelSpec), sae: absoluteIfPath(saeSpec), ...(subfolder ? { saeId: subfolder } : {}), hook: sae.hook, dSae: sae.dSae, encoder: defaultEncoderFor(sae) };
    const root = resolve(dir);

    const previous = loadIndex(outPath);
    const reuse = previous && previous.root === root && sameSource(previous.index.source, source) && previous.index.capacity === capacity;
    const index = reuse ? previous.index : new FeatureIndex(source, capacity);
    const hidden = await loadOnnxHiddenStates(modelSpec, { ...hub, dtype: 'fp32' });
    let stored: StoredIndex;
    let run;
    try {
      const files = listIndexFiles(root, { exclude });
      run = await updateIndex(index, files, { tokenizer: hidden.tokenizer.tokenizer, source: hidden, sae }, { complete: true, onProgress: progressReporter(), allowSpecial: args.flags.has('allow-special') });
      const logitEffects = reuse && previous.logitEffects ? previous.logitEffects : allFeatureEffects(readUnembedding(hidden.graphPath), sae, hidden.tokenizer.tokenizer);
      stored = { index, root, logitEffects };
      saveIndex(outPath, stored);
    } finally {
      await hidden.dispose();
    }

    const strongest = index.strongestFeatures();
    const summary = {
      index: outPath,
      root,
      model: source.model,
      sae: source.sae,
      hook: source.hook,
      dSae: source.dSae,
      encoder: source.encoder,
      files: index.files.size,
      tokens: index.tokens,
      filesIndexed: run.filesIndexed,
      filesUnchanged: run.filesUnchanged,
      filesRemoved: run.filesRemoved,
      filesSkipped: run.filesSkipped,
      tokensRead: run.tokens,
      elapsedMs: Math.round(run.elapsedMs),
      logitEffects: stored.logitEffects ? 'stored' : 'computed per feature when shown (too many features × vocabulary to store)',
      features: strongest.map((s) => ({
        index: s.index,
        label: labelOf(index, s.index, { labels, logitEffects: stored.logitEffects }),
        firingTokens: s.firingTokens,
        frequency: float32Json(index.tokens ? s.firingTokens / index.tokens : 0),
        maxActivation: float32Json(s.maxActivation),
      })),
    };
    if (args.flags.has('json')) {
      out(JSON.stringify(summary));
      return;
    }
    out(`${outPath}: ${summary.files} files, ${summary.tokens} tokens of ${root}; ${run.filesIndexed} read through the model, ${run.filesUnchanged} unchanged, ${run.filesRemoved} removed (${(run.elapsedMs / 1000).toFixed(1)} s)`);
    out(`${strongest.length} of ${source.dSae} features fired. Strongest:`);
    for (const f of summary.features.slice(0, 20)) out(`  #${f.index}`.padEnd(9) + `max ${f.maxActivation}`.padEnd(16) + `freq ${((f.frequency ?? 0) * 100).toFixed(2)}%`.padEnd(14) + (f.label ? `${f.label.source === 'automatic' ? '(automatic) ' : ''}${f.label.text}` : ''));
  },
};
}

export function makeFeatureCommand(deps: FeatureIndexCommandDeps = {}): CliCommand {
  const out = deps.write ?? stdout;
  return {
  name: 'feature',
  usage: 'feature N --index FILE [--contexts N] [--labels FILE] [--allow-downloads] [--cache-dir DIR] [--hub-host URL] [--json]   one feature of a features-index: its contexts, histogram, frequency, logit effects and label',
  async run(argv) {
    const args = parseArgs(argv, ['index', 'contexts', 'labels', 'cache-dir', 'hub-host'], ['json', 'allow-downloads'], { positionals: 1 });
    const n = args.positionals[0];
    if (n === undefined || !/^#?\d+$/.test(n)) throw new UsageError('feature needs a feature number N');
    const f = parseInt(n.replace('#', ''), 10);
    const indexPath = args.options.get('index');
    if (!indexPath) throw new UsageError('feature needs --index FILE (written by features-index)');
    const stored = loadIndex(indexPath);
    if (!stored) throw new UsageError(`${indexPath}: no such file`);
    const { index } = stored;
    if (f >= index.dSae) throw new UsageError(`feature ${f} is not in this SAE: ${indexPath} has features 0 to ${index.dSae - 1}`);
    const shown = positiveInt('contexts', args.options.get('contexts'));
    const labelsPath = args.options.get('labels');
    const hub = { allowDownloads: args.flags.has('allow-downloads'), cacheDir: args.options.get('cache-dir') ?? defaultHubCacheDir(), host: args.options.get('hub-host') };
    let sae: SparseAutoencoder | undefined;
    const needSae = labelsPath !== undefined || !stored.logitEffects;
    if (needSae) {
      const src = index.source;
      sae = loadSae(await resolveSaeSpec(src.sae, { ...hub, subfolder: src.saeId }), { subfolder: src.saeId, hook: src.hook });
    }
    const labels = sae ? readLabels(labelsPath, sae) : undefined;
    let effectsOf: ReportOptions['effectsOf'];
    if (!stored.logitEffects && sae) {
      // Too many features to store every feature's effects: this one's, from the model's unembedding.
      const folder = await resolveModelSource(index.source.model, { ...hub, dtype: 'fp32' });
      const u = readUnembedding(checkModelFiles(folder, 'fp32').path);
      const tokenizer = (await loadTokenizer(folder, LOAD_OPTIONS)).tokenizer;
      const withDecoder = sae;
      effectsOf = (g) => ({ effects: featureEffects(u, withDecoder, tokenizer, g), norm: u.norm, tied: u.tied });
    }
    const report = featureReport(index, f, { labels, logitEffects: stored.logitEffects, contexts: shown, effectsOf });
    if (args.flags.has('json')) {
      out(JSON.stringify({ indexFile: indexPath, root: stored.root, model: index.source.model, sae: index.source.sae, hook: index.source.hook, ...report }));
      return;
    }
    out(`feature #${f} of ${index.source.sae} (${index.source.hook}) over ${stored.root}`);
    out(`label: ${report.label ? `${report.label.text}${report.label.source === 'automatic' ? ' (automatic)' : ''}` : '(none: it never fired here)'}`);
    out(`fires on ${report.firingTokens} of ${report.workspaceTokens} tokens (${(report.frequency * 100).toFixed(3)}%), max activation ${float32Json(report.maxActivation)}`);
    out('top contexts:');
    for (const c of report.contexts) {
      const before = c.tokens.slice(0, c.focus).join('');
      const after = c.tokens.slice(c.focus + 1).join('');
      out(`  ${String(float32Json(c.activation)).padEnd(10)} ${c.path}:${c.byteStart}  ${JSON.stringify(before).slice(-30)} [${c.tokens[c.focus]}] ${JSON.stringify(after).slice(0, 30)}`);
    }
    if (report.logitEffects) {
      const list = (l: readonly { text: string; value: number }[]) => l.map((t) => `${JSON.stringify(t.text)} ${t.value.toFixed(3)}`).join(', ');
      out(`promotes: ${list(report.logitEffects.promoted)}`);
      out(`suppresses: ${list(report.logitEffects.suppressed)}`);
      out(`(${report.logitEffects.approximation})`);
    }
  },
};
}

export const featuresIndexCommand: CliCommand = makeFeaturesIndexCommand();
export const featureCommand: CliCommand = makeFeatureCommand();
