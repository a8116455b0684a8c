/**
 * Reads a Hugging Face `tokenizer.json` (BPE models: byte-level and SentencePiece-style) into an engine.
 * Every unsupported or broken part is reported as a TokenizerError naming the field.
 */
import { AlignedBuilder, type AlignedString, UnitKind } from '../text/aligned';
import { normalizerFromJson } from '../text/normalizers';
import { MERGE_ID_BITS, type PairLookup } from './bpe';
import { BpeTokenizer, type AddedTokenSpec, type EngineConfig, type PieceStart } from './engine';
import { TokenizerError } from './errors';
import { jsonErrorMessage } from './jsonError';
import type { SplitStep } from './preTokenizer';
import { compilePattern, compileSplitPattern } from './regex';
import type { AddedTokenInfo } from './types';
import { checkAddedTokenLength, checkSectionDepth, checkVocabularyCoverage } from './loadChecks';

/** GPT-2's pre-tokenizer pattern (ByteLevel with use_regex). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A value for a message: strings quoted and cut short, other values by type (a file may hold anything). */
function brief(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
  if (typeof x === 'number' || typeof x === 'boolean' || x === null || x === undefined) return String(x);
  return Array.isArray(x) ? 'a list' : 'an object';
}

export interface HfLoadOptions {
  /** The contents of tokenizer_config.json, if present (for add_bos_token). */
  readonly config?: unknown;
  /** Where the file came from, for messages. */
  readonly sourceName?: string;
  /** Force a BOS token the model adds even though the file's post-processor does not say so. */
  readonly bosToken?: string;
}

/** Parses tokenizer.json text; throws TokenizerError naming the line and column of bad JSON. */
export function parseTokenizerJson(text: string, sourceName = 'tokenizer.json'): Json {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TokenizerError(jsonErrorMessage(text, sourceName));
  }
  if (!isObject(json)) throw new TokenizerError(`${sourceName} is not a tokenizer.json object`);
  return json;
}

function splitStepsFromJson(pre: unknown, steps: SplitStep[], preNormalizers: Array<(s: AlignedString, start: PieceStart) => AlignedString>, flags: { byteLevel: boolean }): void {
  if (pre === null || pre === undefined) return;
  if (!isObject(pre)) throw new TokenizerError('pre_tokenizer is not an object');
  switch (pre.type) {
    case 'Sequence':
      for (const p of Array.isArray(pre.pretokenizers) ? pre.pretokenizers : []) splitStepsFromJson(p, steps, preNormalizers, flags);
      return;
    case 'Split': {
      const pat = isObject(pre.pattern) ? pre.pattern : {};
      const behavior = String(pre.behavior ?? 'Isolated');
      if (!['Isolated', 'Removed', 'MergedWithPrevious', 'MergedWithNext'].includes(behavior)) {
        throw new TokenizerError(`Split behavior ${behavior} is not supported`);
      }
      const compiled = typeof pat.Regex === 'string' ? compileSplitPattern(pat.Regex) : typeof pat.String === 'string' ? { pattern: pat.String } : undefined;
      if (compiled === undefined) throw new TokenizerError('Split pre-tokenizer has no pattern');
      steps.push({ ...compiled, behavior: behavior as SplitStep['behavior'], invert: pre.invert === true });
      return;
    }
    case 'ByteLevel': {
      flags.byteLevel = true;
      if (pre.add_prefix_space === true) {
        preNormalizers.push((s, start) => {
          if (s.text.length === 0 || s.text.startsWith(' ') || start === 'continuation') return s;
          const b = new AlignedBuilder(s);
          b.replace(0, 0, ' ', UnitKind.Metaspace);
          b.copy(0, s.text.length);
          return b.build();
        });
      }
      if (pre.use_regex !== false) steps.push({ ...compileSplitPattern(GPT2_PATTERN), behavior: 'Isolated', invert: false });
      return;
    }
    case 'Metaspace': {
      const rep = typeof pre.replacement === 'string' ? pre.replacement : '\u2581';
      const scheme = typeof pre.prepend_scheme === 'string' ? pre.prepend_scheme : pre.add_prefix_space === false ? 'never' : 'always';
      preNormalizers.push((s, start) => {
        const b = new AlignedBuilder(s);
        const t = s.text;
        const prepend = t.length > 0 && !t.startsWith(' ') && ((scheme === 'always' && start !== 'continuation') || (scheme === 'first' && start === 'document'));
        if (prepend) b.replace(0, 0, rep, UnitKind.Metaspace);
        let last = 0;
        for (let i = t.indexOf(' '); i >= 0; i = t.indexOf(' ', i + 1)) {
          b.copy(last, i);
          b.replace(i, i + 1, rep, UnitKind.Metaspace);
          last = i + 1;
        }
        b.copy(last, t.length);
        return b.build();
      });
      if (pre.split !== false) steps.push({ pattern: rep, behavior: 'MergedWithNext', invert: false });
      return;
    }
    case 'Digits':
      steps.push({ ...compileSplitPattern(pre.individual_digits === true ? '\\p{N}' : '\\p{N}+'), behavior: 'Isolated', invert: false });
      return;
    default:
      throw new TokenizerError(`pre-tokenizer type ${brief(pre.type)} is not supported`);
  }
}

function postAddedFromJson(post: unknown, idOf: (token: string) => number | undefined, out: AddedTokenInfo[]): void {
  if (!isObject(post)) return;
  switch (post.type) {
    case 'Sequence':
      for (const p of Array.isArray(post.processors) ? post.processors : []) postAddedFromJson(p, idOf, out);
      return;
    case 'TemplateProcessing': {
      const single = Array.isArray(post.single) ? post.single : [];
      let seenSequence = false;
      for (const item of single) {
        if (!isObject(item)) continue;
        if (isObject(item.Sequence)) seenSequence = true;
        else if (isObject(item.SpecialToken) && typeof item.SpecialToken.id === 'string') {
          const text = item.SpecialToken.id;
          const special = isObject(post.special_tokens) ? post.special_tokens[text] : undefined;
          const ids = isObject(special) && Array.isArray(special.ids) ? special.ids : [idOf(text)];
          for (const id of ids) if (typeof id === 'number') out.push({ id, text, position: seenSequence ? 'end' : 'start' });
        }
      }
      return;
    }
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const cls = Array.isArray(post.cls) ? post.cls : [];
      const sep = Array.isArray(post.sep) ? post.sep : [];
      if (typeof cls[0] === 'string' && typeof cls[1] === 'number') out.push({ id: cls[1], text: cls[0], position: 'start' });
      if (typeof sep[0] === 'string' && typeof sep[1] === 'number') out.push({ id: sep[1], text: sep[0], position: 'end' });
      return;
    }
    default:
      return;
  }
}

function tokenText(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (isObject(x) && typeof x.content === 'string') return x.content;
  return undefined;
}

export function hfConfigFromJson(json: Json, options: HfLoadOptions = {}): EngineConfig {
  const src = options.sourceName ?? 'tokenizer.json';
  const model = json.model;
  if (!isObject(model)) throw new TokenizerError(`${src} has no "model" section`);
  const type = model.type ?? (isObject(model.vocab) && Array.isArray(model.merges) ? 'BPE' : undefined);
  if (type !== 'BPE') {
    throw new TokenizerError(`${src}: model type ${brief(type)} is not supported (Token Inspector reads BPE tokenizers)`);
  }
  if (!isObject(model.vocab)) throw new TokenizerError(`${src}: model.vocab is missing or not an object`);
  if (!Array.isArray(model.merges)) throw new TokenizerError(`${src}: model.merges is missing or not a list`);
  const vocab = new Map<string, number>();
  for (const [k, v] of Object.entries(model.vocab)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= MERGE_ID_BITS) {
      throw new TokenizerError(`${src}: vocab entry ${brief(k)} has the id ${brief(v)}, not an integer in 0..${MERGE_ID_BITS - 1}`);
    }
    vocab.set(k, v);
  }
  const pairs = new Map<number, number>();
  const merges = model.merges as unknown[];
  for (let rank = 0; rank < merges.length; rank++) {
    const m = merges[rank];
    let a: string;
    let b: string;
    if (typeof m === 'string') {
      const sp = m.indexOf(' ', 1);
      if (sp < 0) throw new TokenizerError(`${src}: merge ${rank} ${brief(m)} is not "left right"`);
      a = m.slice(0, sp);
      b = m.slice(sp + 1);
    } else if (Array.isArray(m) && typeof m[0] === 'string' && typeof m[1] === 'string') {
      a = m[0];
      b = m[1];
    } else throw new TokenizerError(`${src}: merge ${rank} is neither "left right" nor [left, right]`);
    const ia = vocab.get(a);
    const ib = vocab.get(b);
    const ic = vocab.get(a + b);
    if (ia === undefined || ib === undefined || ic === undefined) {
      throw new TokenizerError(`${src}: merge ${rank} (${brief(a)} + ${brief(b)}) uses a token missing from the vocabulary`);
    }
    const key = ia * MERGE_ID_BITS + ib;
    if (!pairs.has(key)) pairs.set(key, rank * MERGE_ID_BITS + ic);
  }
  const pairLookup: PairLookup = (l, r) => pairs.get(l * MERGE_ID_BITS + r) ?? -1;

  for (const name of ['pre_tokenizer', 'normalizer', 'decoder', 'post_processor'] as const) checkSectionDepth(src, name, json[name]);
  const steps: SplitStep[] = [];
  const preNormalizers: Array<(s: AlignedString, start: PieceStart) => AlignedString> = [];
  const flags = { byteLevel: false };
  splitStepsFromJson(json.pre_tokenizer, steps, preNormalizers, flags);
  for (let i = 0; i < steps.length; i++) steps[i] = { ...steps[i], origin: src };
  const decoder = json.decoder;
  if (isObject(decoder) && decoder.type === 'ByteLevel') flags.byteLevel = true;
  const normalizer = normalizerFromJson(json.normalizer, compilePattern, src);

  const addedTokens: AddedTokenSpec[] = [];
  for (const t of Array.isArray(json.added_tokens) ? json.added_tokens : []) {
    if (!isObject(t) || typeof t.id !== 'number' || typeof t.content !== 'string') continue;
    // An absurd id would size the engine's id table by it (and 5e8 exhausts memory): refuse it by name.
    if (!Number.isInteger(t.id) || t.id < 0 || t.id >= MERGE_ID_BITS) {
      throw new TokenizerError(`${src}: added token ${brief(t.content)} has the id ${t.id}, outside 0..${MERGE_ID_BITS - 1}`);
    }
    checkAddedTokenLength(src, t.content);
    addedTokens.push({ id: t.id, content: t.content, special: t.special === true, normalized: t.normalized === true && t.special !== true });
  }
  const idOf = (text: string): number | undefined => addedTokens.find((t) => t.content === text)?.id ?? vocab.get(text);
  const postAdded: AddedTokenInfo[] = [];
  postAddedFromJson(json.post_processor, idOf, postAdded);
  const cfg = isObject(options.config) ? options.config : {};
  const bos = options.bosToken ?? (cfg.add_bos_token === true ? tokenText(cfg.bos_token) : undefined);
  if (bos !== undefined && !postAdded.some((t) => t.position === 'start')) {
    const id = idOf(bos);
    if (id !== undefined) postAdded.unshift({ id, text: bos, position: 'start' });
  }

  const unkToken = typeof model.unk_token === 'string' ? model.unk_token : undefined;
  return {
    algorithm: flags.byteLevel ? 'byte-level-bpe' : 'sentencepiece-bpe',
    symbols: flags.byteLevel ? 'bytes' : 'chars',
    vocab,
    pairLookup,
    ignoreMerges: model.ignore_merges === true,
    byteFallback: model.byte_fallback === true,
    unkId: unkToken !== undefined ? (vocab.get(unkToken) ?? 0) : 0,
    fuseUnk: model.fuse_unk === true,
    normalizer,
    preNormalizer: preNormalizers.length === 0 ? null : (s, start) => preNormalizers.reduce((acc, f) => f(acc, start), s),
    splits: steps,
    addedTokens,
    postAdded,
  };
}

export function loadHfTokenizer(text: string, options: HfLoadOptions = {}): BpeTokenizer {
  const json = parseTokenizerJson(text, options.sourceName);
  const config = hfConfigFromJson(json, options);
  // Here, not in hfConfigFromJson: the packaged compact form calls that with the vocabulary held elsewhere.
  const model = json.model as Json;
  checkVocabularyCoverage(options.sourceName ?? 'tokenizer.json', config.vocab, { byteLevel: config.symbols === 'bytes', byteFallback: config.byteFallback, unkToken: typeof model.unk_token === 'string' ? model.unk_token : undefined });
  return new BpeTokenizer(config);
}
