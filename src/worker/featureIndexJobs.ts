/**
 * The model worker's feature-index requests (featureIndex, feature, findFeatures): the workspace feature index
 * of core/sae/workspaceIndex built and updated with the worker's loaded model and SAE, kept in memory between
 * requests and saved where the host says (the extension's storage). Here rather than in a worker of its own:
 * the index needs the same model and SAE the Features tab loads, and loading them twice would double the
 * memory; the worker yields between files, so a cancel or another request is answered between two files.
 */
import { resolve } from 'node:path';
import type { OnnxHiddenStates } from '../core/lm/onnx';
import { documentFeatures } from '../core/sae/documentFeatures';
import { featureTotals } from '../core/sae/encode';
import { SaeError } from '../core/sae/errors';
import type { FeatureLabels } from '../core/sae/labels';
import type { SparseAutoencoder } from '../core/sae/types';
import { defaultEncoderFor } from '../core/sae/types';
import {
  allFeatureEffects,
  featureEffects,
  featureReport,
  FeatureIndex,
  labelOf,
  listIndexFiles,
  loadIndex,
  readUnembedding,
  saveIndex,
  searchFeatures,
  updateIndex,
  type FeatureIndexSource,
  type StoredIndex,
  type Unembedding,
} from '../core/sae/workspaceIndex';
import type { FeatureIndexParams, FeatureIndexResult, FeatureQueryParams, FindFeaturesParams, FoundFeature, HubSettings, ModelProgress, ModelRef, SaeRef } from '../protocol/modelWorker';
import type { FeatureReport } from '../core/sae/workspaceIndex/featureReport';
import type { RequestContext } from './serve';

export interface FeatureIndexDeps {
  getHiddenSource(ref: ModelRef, hub: HubSettings, ctx: RequestContext<ModelProgress>): Promise<OnnxHiddenStates>;
  getSae(ref: SaeRef, hub: HubSettings, ctx: RequestContext<ModelProgress>): Promise<{ sae: SparseAutoencoder; labels?: FeatureLabels }>;
}

/** Indexes in memory by file, with what they were built from. */
const indexes = new Map<string, StoredIndex>();
/** Unembeddings by graph file (read once). */
const unembeddings = new Map<string, Unembedding>();

function sourceOf(model: ModelRef, sae: SaeRef, loaded: SparseAutoencoder): FeatureIndexSource {
  return { model: model.spec, sae: sae.spec, ...(sae.subfolder ? { saeId: sae.subfolder } : {}), hook: loaded.hook ?? '', dSae: loaded.dSae, encoder: defaultEncoderFor(loaded) };
}

function sameSource(a: FeatureIndexSource, b: FeatureIndexSource): boolean {
  return a.model === b.model && a.sae === b.sae && (a.saeId ?? '') === (b.saeId ?? '') && a.hook === b.hook && a.dSae === b.dSae && a.encoder === b.encoder;
}

function unembeddingOf(hidden: OnnxHiddenStates): Unembedding {
  let u = unembeddings.get(hidden.graphPath);
  if (!u) {
    u = readUnembedding(hidden.graphPath);
    unembeddings.set(hidden.graphPath, u);
  }
  return u;
}

/** The index at `indexPath` for this model and SAE: in memory, else from disk; undefined when there is none. */
function storedIndex(indexPath: string, source: FeatureIndexSource, root?: string): StoredIndex | undefined {
  const key = resolve(indexPath);
  let stored = indexes.get(key);
  if (!stored) {
    stored = loadIndex(key);
    if (stored) indexes.set(key, stored);
  }
  if (!stored || !sameSource(stored.index.source, source) || (root !== undefined && stored.root !== resolve(root))) return undefined;
  return stored;
}

export function featureIndexHandlers(deps: FeatureIndexDeps) {
  const indexFor = async (p: FeatureQueryParams | FindFeaturesParams, ctx: RequestContext<ModelProgress>) => {
    const { sae, labels } = await deps.getSae(p.sae, p.hub, ctx);
    const stored = storedIndex(p.indexPath, sourceOf(p.model, p.sae, sae));
    if (!stored) throw new SaeError(`there is no feature index of this workspace for ${p.sae.spec} on ${p.model.spec} yet: run Token Inspector: Index Workspace Features`);
    return { stored, sae, labels };
  };
  return {
    featureIndex: async (p: FeatureIndexParams, ctx: RequestContext<ModelProgress | { stage: 'files'; done: number; total: number; path?: string }>): Promise<FeatureIndexResult> => {
      const hidden = await deps.getHiddenSource(p.model, p.hub, ctx);
      const { sae } = await deps.getSae(p.sae, p.hub, ctx);
      if (!sae.hook) throw new SaeError(`${p.sae.spec}: the SAE does not say which hook it reads; set tokenInspector.saeHook`);
      const source = sourceOf(p.model, p.sae, sae);
      const root = resolve(p.root);
      const key = resolve(p.indexPath);
      const stored = storedIndex(key, source, root) ?? { index: new FeatureIndex(source), root };
      let files = listIndexFiles(root, { exclude: p.exclude });
      if (p.only) {
        const only = new Set(p.only);
        files = files.filter((f) => only.has(f.relativePath));
      }
      const run = await updateIndex(stored.index, files, { tokenizer: hidden.tokenizer.tokenizer, source: hidden, sae }, {
        complete: p.only === undefined,
        signal: ctx.signal,
        onProgress: (q) => ctx.progress({ stage: 'files', done: q.filesDone, total: q.filesTotal, path: q.path }),
      });
      const logitEffects = stored.logitEffects ?? allFeatureEffects(unembeddingOf(hidden), sae, hidden.tokenizer.tokenizer);
      const next: StoredIndex = { index: stored.index, root, logitEffects };
      saveIndex(key, next);
      indexes.set(key, next);
      return {
        indexPath: key,
        dSae: sae.dSae,
        files: stored.index.files.size,
        tokens: stored.index.tokens,
        filesIndexed: run.filesIndexed,
        filesUnchanged: run.filesUnchanged,
        filesRemoved: run.filesRemoved,
        elapsedMs: run.elapsedMs,
      };
    },
    feature: async (p: FeatureQueryParams, ctx: RequestContext<ModelProgress>): Promise<FeatureReport> => {
      const { stored, sae, labels } = await indexFor(p, ctx);
      if (p.feature >= sae.dSae) throw new SaeError(`feature ${p.feature} is not in ${p.sae.spec}: it has features 0 to ${sae.dSae - 1}`);
      let effectsOf;
      if (!stored.logitEffects) {
        const hidden = await deps.getHiddenSource(p.model, p.hub, ctx);
        const u = unembeddingOf(hidden);
        effectsOf = (f: number) => ({ effects: featureEffects(u, sae, hidden.tokenizer.tokenizer, f), norm: u.norm, tied: u.tied });
      }
      return featureReport(stored.index, p.feature, { labels, logitEffects: stored.logitEffects, effectsOf });
    },
    findFeatures: async (p: FindFeaturesParams, ctx: RequestContext<ModelProgress>): Promise<{ matches: FoundFeature[] }> => {
      const { stored, sae, labels } = await indexFor(p, ctx);
      const options = { labels, logitEffects: stored.logitEffects };
      if (p.text === undefined) return { matches: searchFeatures(stored.index, p.query ?? '', { ...options, limit: sae.dSae }) };
      // Which features fire most on this text: the text read through the model, features by total activation.
      const hidden = await deps.getHiddenSource(p.model, p.hub, ctx);
      const r = await documentFeatures(p.text, hidden.tokenizer.tokenizer, hidden, sae, { allowSpecial: p.allowSpecial, signal: ctx.signal });
      const matches = featureTotals(r.encoding)
        .filter((t) => t.totalActivation > 0)
        .slice(0, 50)
        .map((t) => {
          const s = stored.index.feature(t.index, 0);
          return { index: t.index, label: labelOf(stored.index, t.index, options), maxActivation: s.maxActivation, frequency: s.frequency, totalActivation: t.totalActivation };
        });
      return { matches };
    },
  };
}
