/**
 * A document's SAE features, start to end: the text as the model sees it (its own tokenizer, its added tokens,
 * a BOS when the SAE was trained with one), the hidden states at the SAE's hook, the encoding. One pipeline for
 * the CLI and the model worker, so the editor shows what `token-inspector features` prints.
 */
import { encodeHiddenStatesAsync, type EncoderKind, type SaeEncoding } from './encode';
import { SaeError } from './errors';
import type { HiddenStateSource } from './hidden';
import { validateAgainstModel } from './hooks';
import type { SparseAutoencoder } from './types';
import type { TokenStream, Tokenizer } from '../tokenizers/types';

/** BOS tokens TransformerLens prepends (SAELens `prepend_bos`), by vocabulary. */
const BOS_CANDIDATES = ['<|endoftext|>', '<|begin_of_text|>', '<bos>', '<s>'];

export interface ModelToken {
  readonly id: number;
  /** The token's index in the text's stream; undefined for a token the model adds (BOS/EOS). */
  readonly streamIndex?: number;
  readonly added?: { readonly text: string; readonly position: 'start' | 'end' };
}

/** The text's tokens as the model sees them: its own added tokens, plus a BOS when the SAE was trained with one. */
export function modelTokens(tokenizer: Tokenizer, stream: TokenStream, withBos: boolean): ModelToken[] {
  const out: ModelToken[] = [];
  const start = stream.addedTokens.filter((t) => t.position === 'start');
  if (withBos && start.length === 0) {
    const bos = BOS_CANDIDATES.find((text) => tokenizer.specialTokenId(text) !== undefined);
    if (bos !== undefined) out.push({ id: tokenizer.specialTokenId(bos) as number, added: { text: bos, position: 'start' } });
  }
  for (const t of start) out.push({ id: t.id, added: { text: t.text, position: 'start' } });
  for (let i = 0; i < stream.count; i++) out.push({ id: stream.ids[i], streamIndex: i });
  for (const t of stream.addedTokens) if (t.position === 'end') out.push({ id: t.id, added: { text: t.text, position: 'end' } });
  return out;
}

interface DocumentFeaturesOptions {
  readonly encoder?: EncoderKind;
  readonly k?: number;
  readonly m?: number;
  readonly allowSpecial?: boolean;
  readonly signal?: AbortSignal;
  /** Progress over both stages: the model's forward passes (first half), then the encoder (second half). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface DocumentFeatures {
  readonly stream: TokenStream;
  /** The rows of the encoding, in order: stream tokens and the tokens the model adds. */
  readonly tokens: readonly ModelToken[];
  readonly encoding: SaeEncoding;
  /** Things that do not stop the analysis (the SAE was trained on another model, …). */
  readonly warnings: readonly string[];
  readonly hiddenMs: number;
}

/** Tokenizes `text` with the model's tokenizer, reads the hidden states at the SAE's hook and encodes them. */
export async function documentFeatures(text: string, tokenizer: Tokenizer, source: HiddenStateSource, sae: SparseAutoencoder, options: DocumentFeaturesOptions = {}): Promise<DocumentFeatures> {
  const stream = tokenizer.encode(text, { allowSpecial: options.allowSpecial === true });
  const tokens = modelTokens(tokenizer, stream, sae.prependBos === true);
  const hooks = source.availableHooks ?? (sae.hook ? [sae.hook] : []);
  // The hook is named and the model has it; the width is checked once the model reports it.
  validateAgainstModel(sae, { dModel: sae.dIn, availableHooks: hooks, modelName: source.modelName });
  if (tokens.length === 0) throw new SaeError('the document is empty: there are no tokens to read features from');
  const total = tokens.length * 2;
  const t0 = performance.now();
  const states = await source.hiddenStates(
    Uint32Array.from(tokens, (t) => t.id),
    sae.hook as string,
    { signal: options.signal, repeatFirstToken: tokens[0].added?.position === 'start', onProgress: (done) => options.onProgress?.(done, total) },
  );
  const hiddenMs = performance.now() - t0;
  const warnings = validateAgainstModel(sae, { dModel: states.dModel, availableHooks: hooks, modelName: source.modelName });
  if (states.data.length !== tokens.length * states.dModel) throw new SaeError(`the model returned ${states.data.length / states.dModel} hidden states for ${tokens.length} tokens`);
  const encoding = await encodeHiddenStatesAsync(sae, states.data, {
    encoder: options.encoder,
    k: options.k,
    m: options.m,
    signal: options.signal,
    onProgress: (done) => options.onProgress?.(tokens.length + done, total),
  });
  return { stream, tokens, encoding, warnings, hiddenMs };
}
