/**
 * Token Inspector's settings as one table: for each setting, how a configured value is read (anything else
 * falls back to the default) and what on screen a change to it refreshes. The defaults are package.json's
 * `contributes.configuration` (bundled at build time), never written again in code. No `vscode` here: the
 * unit tests check this table against package.json; `settings.ts` reads VS Code's configuration through it.
 */
import { contributes } from '../../package.json';
import { ENCODER_KINDS, type EncoderKind } from '../core/sae/encoderKinds';

export const SECTION = 'tokenInspector';

/** The value of `probabilityModel` that means the built-in model trained on the workspace. */
export const WORKSPACE_NGRAM = 'workspace-ngram';

/** What a setting can refresh, in the order a change refreshes them (tokens first: the others show them). */
export const REFRESH_TARGETS = ['tokenization', 'probabilities', 'decorations', 'statusBar', 'gauge', 'panel', 'sidebar'] as const;
export type RefreshTarget = (typeof REFRESH_TARGETS)[number];

/** A setting as package.json declares it (the parts the code reads). */
export interface ManifestSetting {
  readonly default?: unknown;
  readonly scope?: string;
  readonly minimum?: number;
}

const MANIFEST_SETTINGS: Readonly<Record<string, ManifestSetting | undefined>> = contributes.configuration.properties;

/** package.json's declaration of `tokenInspector.<key>`. */
export function manifestSetting(key: string): ManifestSetting | undefined {
  return Object.hasOwn(MANIFEST_SETTINGS, `${SECTION}.${key}`) ? MANIFEST_SETTINGS[`${SECTION}.${key}`] : undefined;
}

/** The tokenInspector.* keys package.json declares, without the section. */
export function manifestSettingKeys(): string[] {
  return Object.keys(MANIFEST_SETTINGS)
    .filter((k) => k.startsWith(`${SECTION}.`))
    .map((k) => k.slice(SECTION.length + 1));
}

export interface CustomTokenizer {
  readonly name: string;
  readonly path: string;
}

export interface RemoteEndpoint {
  readonly url: string;
  readonly model?: string;
  readonly topK?: number;
}

export type SaeEncoderSetting = '' | EncoderKind;

interface SettingSpec<T> {
  /** The value as the code uses it, or undefined when the configured value is not one (the default applies). */
  readonly read: (raw: unknown) => T | undefined;
  /** What shows the setting. Empty: it is read at each use (a command, a run), so nothing needs refreshing. */
  readonly refreshes: readonly RefreshTarget[];
}

const isRecord = (x: unknown): x is Readonly<Record<string, unknown>> => typeof x === 'object' && x !== null && !Array.isArray(x);
const trimmed = (raw: unknown): string | undefined => (typeof raw === 'string' ? raw.trim() : undefined);
const nonEmpty = (raw: unknown): string | undefined => trimmed(raw) || undefined;
const bool = (raw: unknown): boolean | undefined => (typeof raw === 'boolean' ? raw : undefined);
const oneOf =
  <T extends string>(values: readonly T[]) =>
  (raw: unknown): T | undefined => {
    const s = trimmed(raw);
    return s !== undefined && (values as readonly string[]).includes(s) ? (s as T) : undefined;
  };
/** A whole number at least package.json's `minimum` for the key. */
const wholeNumber =
  (key: string) =>
  (raw: unknown): number | undefined =>
    typeof raw === 'number' && Number.isInteger(raw) && raw >= (manifestSetting(key)?.minimum ?? -Infinity) ? raw : undefined;

function customTokenizerList(raw: unknown): CustomTokenizer[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  return raw.filter((x): x is CustomTokenizer => isRecord(x) && typeof x.name === 'string' && typeof x.path === 'string').map((x) => ({ name: x.name, path: x.path }));
}

function stringList(raw: unknown): string[] | undefined {
  const ids = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
  return ids.length ? ids : undefined;
}

/** null: no endpoint. Only http(s) URLs; top-k bounded to what the endpoints return (1..20). */
function remoteEndpoint(raw: unknown): RemoteEndpoint | null | undefined {
  if (raw === null) return null;
  if (!isRecord(raw) || typeof raw.url !== 'string' || !/^https?:\/\//.test(raw.url)) return undefined;
  return { url: raw.url, model: typeof raw.model === 'string' ? raw.model : undefined, topK: typeof raw.topK === 'number' ? Math.min(20, Math.max(1, Math.round(raw.topK))) : undefined };
}

/** The tokens change: everything that shows them refreshes. */
const TOKENS: readonly RefreshTarget[] = REFRESH_TARGETS;

export const SETTINGS = {
  tokenizer: { read: nonEmpty, refreshes: TOKENS },
  customTokenizers: { read: customTokenizerList, refreshes: TOKENS },
  showBoundaries: { read: bool, refreshes: ['decorations'] },
  allowSpecialTokens: { read: bool, refreshes: ['tokenization', 'probabilities', 'decorations', 'statusBar'] },
  maxDecoratedColumns: {
    // Long lines need a window that still shows something: below the minimum counts as the minimum.
    read: (raw: unknown) => (typeof raw === 'number' && Number.isFinite(raw) ? Math.max(manifestSetting('maxDecoratedColumns')?.minimum ?? 0, raw) : undefined),
    refreshes: ['decorations'],
  },
  compareTokenizers: { read: stringList, refreshes: ['panel', 'sidebar'] },
  referenceTokenizer: { read: nonEmpty, refreshes: ['panel', 'sidebar'] },
  model: { read: nonEmpty, refreshes: ['gauge', 'sidebar'] },
  sidebarModels: { read: stringList, refreshes: ['sidebar'] },
  prices: { read: (raw: unknown) => (isRecord(raw) ? raw : undefined), refreshes: ['gauge', 'sidebar'] },
  // A neural model's own tokenizer tokenizes the editor while probabilities are on.
  showProbabilities: { read: bool, refreshes: TOKENS },
  probabilityColors: { read: oneOf(['rank', 'surprisal'] as const), refreshes: ['decorations'] },
  probabilityModel: { read: nonEmpty, refreshes: TOKENS },
  allowDownloads: { read: bool, refreshes: ['probabilities'] },
  modelHubHost: { read: trimmed, refreshes: ['probabilities'] },
  modelCacheDir: { read: trimmed, refreshes: ['probabilities'] },
  remoteEndpoint: { read: remoteEndpoint, refreshes: ['probabilities'] },
  featureModel: { read: trimmed, refreshes: [] },
  sae: { read: trimmed, refreshes: [] },
  saeId: { read: trimmed, refreshes: [] },
  saeHook: { read: trimmed, refreshes: [] },
  saeEncoder: { read: oneOf<SaeEncoderSetting>(['', ...ENCODER_KINDS]), refreshes: [] },
  saeK: { read: wholeNumber('saeK'), refreshes: [] },
  saeM: { read: wholeNumber('saeM'), refreshes: [] },
  saeLabels: { read: trimmed, refreshes: [] },
} satisfies Record<string, SettingSpec<unknown>>;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = Exclude<ReturnType<(typeof SETTINGS)[K]['read']>, undefined>;
export type SettingValues = { readonly [K in SettingKey]: SettingValue<K> };

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** Reads a configured value of `key`: undefined when it is not a usable one. */
export function readSetting<K extends SettingKey>(key: K, raw: unknown): SettingValue<K> | undefined {
  return (SETTINGS[key] as SettingSpec<SettingValue<K>>).read(raw);
}

function defaults(): SettingValues {
  const out: Partial<Record<SettingKey, unknown>> = {};
  for (const key of SETTING_KEYS) {
    const declared = manifestSetting(key);
    const value = declared && readSetting(key, declared.default);
    if (value === undefined) throw new Error(`package.json: the default of ${SECTION}.${key} is missing or not a value the extension reads`);
    out[key] = value;
  }
  return out as SettingValues;
}

/** Every setting's default, from package.json. */
export const DEFAULTS: SettingValues = defaults();

/** Resource- and language-scoped settings are read for a document (its folder and language). */
export function isScopedByDocument(key: SettingKey): boolean {
  const scope = manifestSetting(key)?.scope;
  return scope === 'resource' || scope === 'language-overridable';
}

/** What a change to these settings refreshes, in refresh order. */
export function refreshesFor(changed: readonly SettingKey[]): RefreshTarget[] {
  const wanted = new Set<RefreshTarget>(changed.flatMap((k) => SETTINGS[k].refreshes));
  return REFRESH_TARGETS.filter((t) => wanted.has(t));
}
