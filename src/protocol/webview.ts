/**
 * Messages between the extension host and its webviews (the panel and the sidebar). A webview is untrusted:
 * every message from one is checked by the validator of its type (a table, so a new type without one does not
 * compile) and anything else is logged and ignored.
 */
import type { CompareResult } from '../core/analysis/compare';
import type { DecodedIds } from '../core/analysis/tokenIds';
import type { PremiumRow } from '../core/premiums/premiums';
import { isEncoderKind, type EncoderKind } from '../core/sae/encoderKinds';
import { isPanelTabId, type PanelTabId } from '../panelTabs';
import type { FeatureReport } from '../core/sae/workspaceIndex/featureReport';
import type { FeaturesPayload } from './modelWorker';
import type { NextBytesPayload, StreamPayload } from './payloads';
import { isInt, isObj, isStr, type Obj } from './validate';

/** A panel tab's id: the tab list is src/panelTabs.ts. */
export type PanelMode = PanelTabId;

/** The features tab's picture: a document's SAE features, with its text to show the tokens. */
export interface PanelFeatures {
  readonly fileName: string;
  readonly version: number;
  readonly text: string;
  readonly result: FeaturesPayload;
}

export interface PanelDocument {
  readonly uri: string;
  readonly fileName: string;
  readonly version: number;
  readonly tokenizer: { readonly id: string; readonly name: string };
  readonly text: string;
  readonly stream: StreamPayload;
  /** Probabilities: off (the setting), pending (being computed) or scored (then the fields below are set). */
  readonly probabilities: 'off' | 'pending' | 'scored';
  /** The model that scored the document (scored only). */
  readonly scoredBy?: string;
  /** 1-based rank of each token in the model's distribution; absent when the model gives none (a remote endpoint). */
  readonly tokenRanks?: Float64Array;
  /** With probabilities on: surprisal in bits per UTF-16 unit (a character's bytes summed on its first unit). */
  readonly charSurprisalBits?: Float32Array;
}

/** A model in the sidebar's glance: the document's tokens under its tokenizer, its context share and input cost. */
export interface ModelGlance {
  readonly id: string;
  readonly name: string;
  readonly tokenizer: string;
  readonly tokens: number;
  readonly contextWindow: number;
  /** tokens / context window. */
  readonly fraction: number;
  /** USD at the model's input price; null without a list price. */
  readonly inputCost: number | null;
}

/** One text under several tokenizers, token by token. */
export interface SideBySide {
  /** The text the streams tokenize: the compared text, cut at a line end when long. */
  readonly text: string;
  /** The compared text was longer: the chips show its first part (the table counts all of it). */
  readonly cut: boolean;
  readonly streams: readonly { readonly tokenizer: string; readonly name: string; readonly stream: StreamPayload }[];
}

/** What the scratch input shows: pasted text tokenized, or pasted ids decoded. */
export type ScratchResult =
  | { readonly kind: 'text'; readonly tokenizer: TokenizerChoice; readonly text: string; readonly stream: StreamPayload }
  | { readonly kind: 'ids'; readonly tokenizer: TokenizerChoice; readonly decoded: DecodedIds };

export interface TokenizerChoice {
  readonly id: string;
  readonly name: string;
}

/** Messages from the extension host to a webview. */
export type HostToWebview =
  | { readonly type: 'document'; readonly doc: PanelDocument | null; readonly message?: string }
  | { readonly type: 'cursor'; readonly utf16Offset: number }
  | { readonly type: 'reveal'; readonly line: number }
  | { readonly type: 'mode'; readonly mode: PanelMode }
  | { readonly type: 'tokenizers'; readonly all: readonly TokenizerChoice[]; readonly compare: readonly string[]; readonly reference: string; readonly current: string }
  | {
      readonly type: 'compare';
      readonly result: CompareResult | null;
      readonly scope: 'document' | 'selection';
      readonly message?: string;
      /** The text's tokens under each compared tokenizer, for the side-by-side chips. */
      readonly chips?: SideBySide;
    }
  | { readonly type: 'scratch'; readonly result: ScratchResult | null; readonly message?: string }
  | { readonly type: 'premiums'; readonly rows: readonly PremiumRow[] | null; readonly documentScript: string | null; readonly progress?: number; readonly message?: string }
  | {
      readonly type: 'nextByte';
      readonly result: NextBytesPayload | null;
      readonly before: string;
      readonly message?: string;
      /** Set with a result: the webview answers `nextBytePainted` with it once the result is on screen. */
      readonly drawId?: number;
    }
  | {
      readonly type: 'features';
      /** Absent: unchanged since the last message (progress updates do not resend the features). */
      readonly view?: PanelFeatures | null;
      readonly running: boolean;
      /** 0..1 while running. */
      readonly progress: number;
      readonly message?: string;
      readonly highlighted: number | null;
    }
  | {
      readonly type: 'featureView';
      /** The feature shown, and the workspace folder its contexts' paths are relative to. */
      readonly report: FeatureReport | null;
      readonly root: string | null;
      /** The index being built or updated: files done of total. */
      readonly indexing: { readonly done: number; readonly total: number } | null;
      readonly message?: string;
    }
  | {
      readonly type: 'summary';
      readonly tokenizer: TokenizerChoice;
      readonly documentTokens: number | null;
      readonly selectionTokens: number | null;
      readonly added: number;
      readonly costs: readonly { readonly tokenizer: string; readonly relativeCost: number | null; readonly count: number }[];
      /** The costs (or the count) shown are not this document's yet: they are being computed. */
      readonly computing?: boolean;
      readonly models: readonly ModelGlance[];
      /** The costs and models count the document's first part only (it is long). */
      readonly partial: boolean;
    };

/** Messages from a webview to the extension host. */
export type WebviewToHost =
  | { readonly type: 'ready' }
  | { readonly type: 'selectToken'; readonly index: number }
  | { readonly type: 'scrolled'; readonly line: number }
  | { readonly type: 'mode'; readonly mode: PanelMode }
  | { readonly type: 'compare'; readonly tokenizers: readonly string[]; readonly scope: 'document' | 'selection' }
  | { readonly type: 'premiums'; readonly tokenizers: readonly string[] }
  | { readonly type: 'setTokenizer'; readonly id: string }
  | { readonly type: 'run'; readonly command: 'showPanel' | 'compare' | 'premiums' | 'selectTokenizer' }
  /** null k/m: the SAE's or the settings' own. */
  | { readonly type: 'runFeatures'; readonly encoder: EncoderKind | null; readonly k: number | null; readonly m: number | null }
  | { readonly type: 'cancelFeatures' }
  | { readonly type: 'highlightFeature'; readonly feature: number | null }
  /** A feature of the Features tab, opened in the Feature tab: its contexts across the workspace. */
  | { readonly type: 'showFeatureInWorkspace'; readonly feature: number }
  | { readonly type: 'selectFeatureToken'; readonly index: number }
  /** The scratch input: `as` says how to read it ('auto': a list of whole numbers is ids, anything else text). */
  | { readonly type: 'scratch'; readonly input: string; readonly tokenizer: string; readonly as: 'auto' | 'text' | 'ids' }
  /** A feature context's token: open its file there (the path is relative to the indexed folder). */
  | { readonly type: 'openFeatureContext'; readonly path: string; readonly utf16Start: number; readonly utf16End: number }
  | { readonly type: 'findFeature' }
  | { readonly type: 'indexFeatures' }
  /**
   * The next-byte result sent with `drawId` is on screen (the frame after its DOM update): `domMs` from its
   * arrival to the DOM updated, `paintMs` to the frame painted (the webview's own clock).
   */
  | { readonly type: 'nextBytePainted'; readonly drawId: number; readonly domMs: number; readonly paintMs: number };

/** The scratch input takes this many UTF-16 units at most (what the chips can show). */
export const MAX_SCRATCH_UTF16 = 200_000;
const isId = (x: unknown): x is string => isStr(x) && x.length > 0 && x.length <= 200;
const isIndex = (x: unknown): boolean => isInt(x) && x < 2 ** 31;
const isDuration = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x < 3_600_000;
const isIdList = (x: unknown): boolean => Array.isArray(x) && x.length <= 32 && x.every(isId);
const isBudget = (x: unknown): boolean => x === null || (isInt(x) && x >= 1 && x <= 1 << 20);
const RUN_COMMANDS: readonly unknown[] = ['showPanel', 'compare', 'premiums', 'selectTokenizer'] satisfies readonly Extract<WebviewToHost, { type: 'run' }>['command'][];

/** Each message type's check of its fields (the object and its `type` are checked before). */
const WEBVIEW_MESSAGE_CHECKS = {
  ready: (x) => Object.keys(x).length === 1,
  selectToken: (x) => isIndex(x.index),
  scrolled: (x) => isIndex(x.line),
  mode: (x) => isPanelTabId(x.mode),
  compare: (x) => isIdList(x.tokenizers) && (x.scope === 'document' || x.scope === 'selection'),
  premiums: (x) => isIdList(x.tokenizers),
  setTokenizer: (x) => isId(x.id),
  run: (x) => RUN_COMMANDS.includes(x.command),
  runFeatures: (x) => (x.encoder === null || isEncoderKind(x.encoder)) && isBudget(x.k) && isBudget(x.m),
  cancelFeatures: (x) => Object.keys(x).length === 1,
  highlightFeature: (x) => x.feature === null || isIndex(x.feature),
  showFeatureInWorkspace: (x) => isIndex(x.feature),
  selectFeatureToken: (x) => isIndex(x.index),
  scratch: (x) => isStr(x.input) && x.input.length <= MAX_SCRATCH_UTF16 && isId(x.tokenizer) && (x.as === 'auto' || x.as === 'text' || x.as === 'ids'),
  // The host opens only files inside the indexed folder (src/extension/panel/feature.ts).
  openFeatureContext: (x) => isStr(x.path) && x.path.length > 0 && x.path.length <= 4096 && isIndex(x.utf16Start) && isIndex(x.utf16End) && (x.utf16End as number) >= (x.utf16Start as number),
  findFeature: (x) => Object.keys(x).length === 1,
  indexFeatures: (x) => Object.keys(x).length === 1,
  nextBytePainted: (x) => isIndex(x.drawId) && isDuration(x.domMs) && isDuration(x.paintMs),
} satisfies Record<WebviewToHost['type'], (x: Obj) => boolean>;

/** Strict check of everything a webview sends: anything else is logged and ignored. */
export function isWebviewToHost(x: unknown): x is WebviewToHost {
  return isObj(x) && isStr(x.type) && Object.prototype.hasOwnProperty.call(WEBVIEW_MESSAGE_CHECKS, x.type) && WEBVIEW_MESSAGE_CHECKS[x.type as WebviewToHost['type']](x);
}
