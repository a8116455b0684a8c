/**
 * Hook names (TransformerLens's: `blocks.{L}.hook_resid_pre|hook_resid_post|hook_mlp_out|attn.hook_z`,
 * `hook_embed`) and the check that an SAE fits a model: its hook exists and its d_in is the width there.
 */
import { SaeError } from './errors';

export type HookSite = 'resid_pre' | 'resid_post' | 'mlp_out' | 'attn_z' | 'embed';

export interface ParsedHook {
  readonly name: string;
  readonly site: HookSite;
  /** The block index; undefined for `hook_embed`. */
  readonly layer?: number;
}

const BLOCK_HOOK = /^blocks\.(\d+)\.(hook_resid_pre|hook_resid_post|hook_mlp_out|attn\.hook_z)$/;

const SITE_OF: Readonly<Record<string, HookSite>> = {
  hook_resid_pre: 'resid_pre',
  hook_resid_post: 'resid_post',
  hook_mlp_out: 'mlp_out',
  'attn.hook_z': 'attn_z',
};

/**
 * What a hook name may look like anywhere it is used (a cached hook map, an SAE's cfg.json, --hook, the saeHook
 * setting): `hook_embed` or `blocks.N.hook_…` / `blocks.N.attn.hook_…` in lowercase letters and `_`. Hook names
 * end up in file names (the tap graphs), so nothing else, `/`, `\` and `..` included, gets past this.
 */
const SAFE_HOOK = /^(?:hook_embed|blocks\.\d{1,5}\.(?:attn\.)?hook_[a-z][a-z_]{0,39})$/;

export function isSafeHookName(name: string): boolean {
  return SAFE_HOOK.test(name);
}

/** `name` if it is a safe hook name, else a SaeError naming where it came from. */
export function checkedHookName(name: string | undefined, source: string): string | undefined {
  if (name === undefined || isSafeHookName(name)) return name;
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  throw new SaeError(`${source}: ${shown} is not a hook name (blocks.N.hook_… or hook_embed, e.g. blocks.6.hook_resid_post)`);
}

export function parseHookName(name: string): ParsedHook | undefined {
  if (name === 'hook_embed') return { name, site: 'embed' };
  const m = BLOCK_HOOK.exec(name);
  if (!m) return undefined;
  return { name, site: SITE_OF[m[2]], layer: parseInt(m[1], 10) };
}

export function hookName(layer: number, site: Exclude<HookSite, 'embed'>): string {
  const suffix = site === 'attn_z' ? 'attn.hook_z' : `hook_${site}`;
  return `blocks.${layer}.${suffix}`;
}

/** The residual-stream and MLP hooks of a model with `layerCount` blocks (what a hidden-state source offers). */
export function residualHooks(layerCount: number): string[] {
  const out: string[] = [];
  for (let l = 0; l < layerCount; l++) out.push(hookName(l, 'resid_pre'), hookName(l, 'resid_post'), hookName(l, 'mlp_out'));
  return out;
}

/**
 * A module path from sparsify or a Hugging Face model (`layers.6`, `model.layers.6.mlp`, `transformer.h.6`,
 * `gpt_neox.layers.6`) as a TransformerLens hook: a block's output is `hook_resid_post`, its MLP's output
 * `hook_mlp_out`. Undefined when the path is not one of these.
 */
export function hookFromModulePath(path: string): string | undefined {
  const m = /(?:^|\.)(?:layers|h|blocks)\.(\d+)(\.mlp)?$/.exec(path);
  if (!m) return undefined;
  return hookName(parseInt(m[1], 10), m[2] ? 'mlp_out' : 'resid_post');
}

export interface ModelHookInfo {
  /** The width of the hidden state at the SAE's hook (d_model for residual and MLP hooks). */
  readonly dModel: number;
  /** The hooks the model can report, TransformerLens names. */
  readonly availableHooks: readonly string[];
  /** The model's name, to mention when the SAE was trained on another. */
  readonly modelName?: string;
}

interface SaeHookInfo {
  readonly dIn: number;
  readonly hook?: string;
  readonly modelName?: string;
  readonly path: string;
}

function describeHooks(hooks: readonly string[]): string {
  if (hooks.length === 0) return 'none';
  const layers = new Set<number>();
  const sites = new Set<string>();
  const other: string[] = [];
  for (const h of hooks) {
    const p = parseHookName(h);
    if (p?.layer !== undefined) {
      layers.add(p.layer);
      sites.add(h.slice(h.indexOf('.', 7) + 1));
    } else other.push(h);
  }
  const parts: string[] = [];
  if (layers.size) {
    const ls = [...layers].sort((a, b) => a - b);
    parts.push(`blocks.${ls[0]}..${ls[ls.length - 1]} × ${[...sites].join('|')}`);
  }
  return [...parts, ...other].join(', ');
}

/**
 * Throws a SaeError when the SAE cannot read this model's hidden states: it names no hook, its hook is
 * not among the model's, or its d_in differs from the width there. Returns warnings that do not stop it
 * (the SAE names another model).
 */
export function validateAgainstModel(sae: SaeHookInfo, model: ModelHookInfo): string[] {
  if (!sae.hook) throw new SaeError(`${sae.path}: the SAE does not say which hook it reads (no hook_name in its config); give one (e.g. --hook blocks.6.hook_resid_post)`);
  if (!model.availableHooks.includes(sae.hook)) {
    const parsed = parseHookName(sae.hook);
    const why = parsed ? '' : ` (not a TransformerLens hook name this tool knows)`;
    throw new SaeError(`${sae.path}: the SAE reads ${sae.hook}${why}, which ${model.modelName ?? 'the model'} does not have; it has ${describeHooks(model.availableHooks)}`);
  }
  if (sae.dIn !== model.dModel) {
    const trained = sae.modelName ? ` (it was trained on ${sae.modelName})` : '';
    throw new SaeError(`${sae.path}: the SAE reads vectors of width ${sae.dIn} (d_in) but ${model.modelName ?? 'the model'}'s hidden state at ${sae.hook} has width ${model.dModel}: it belongs to another model${trained}`);
  }
  const warnings: string[] = [];
  if (sae.modelName && model.modelName && !sameModelName(sae.modelName, model.modelName)) {
    warnings.push(`the SAE was trained on ${sae.modelName}, not ${model.modelName}: the widths match but its features may mean nothing here`);
  }
  return warnings;
}

function sameModelName(a: string, b: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/^.*\//, '').replace(/[^a-z0-9]/g, '');
  return norm(a) === norm(b);
}
