/**
 * The per-tokenizer analysis context, built on first use and cached with the tokenizer.
 */
import { AlignedString } from '../../text/aligned';
import { referenceNormalize, type Normalizer } from '../../text/normalizers';
import { BpeTokenizer } from '../../tokenizers/engine';
import type { Tokenizer } from '../../tokenizers/types';
import { PatternContext } from './patternContext';
import { PieceAutomaton } from './pieceAutomaton';

/**
 * The normalizer as a Unicode normal form: undefined for none (or one that changes nothing), 'NFC' or 'NFKC'
 * when it behaves as that form on probes, null for anything else (not analysed).
 */
function unicodeForm(n: Normalizer | null): 'NFC' | 'NFKC' | undefined | null {
  if (!n) return undefined;
  const apply = (t: string): string => n(AlignedString.identity(t, 0), true).text;
  const probes = ['a b\u00a0c', 'e\u0301', '\ufb01', 'Ａ', '\u1100\u1161', 'x\u0327\u0301'];
  const out = probes.map(apply);
  if (out.every((o, k) => o === probes[k])) return undefined;
  for (const f of ['NFC', 'NFKC'] as const) if (out.every((o, k) => o === referenceNormalize(probes[k], f))) return f;
  return null;
}

/**
 * Added tokens that match inside text are analysed when their contents are in normal form and neither contain
 * nor overlap one another (no content holds another, no proper suffix of one begins another): then every
 * occurrence of a content in the text is a match, and a continuation can complete at most the one content
 * begun at the end.
 */
function addedTokensSupported(contents: readonly string[], form: 'NFC' | 'NFKC' | undefined): boolean {
  for (const a of contents) {
    if (a.length === 0 || (form && referenceNormalize(a, form) !== a)) return false;
    for (const b of contents) {
      if (a !== b && b.includes(a)) return false;
      for (let k = 1; k < a.length; k++) if (b.startsWith(a.slice(k))) return false;
    }
  }
  return true;
}

const patternContexts = new WeakMap<Tokenizer, PatternContext | null>();

/**
 * The context for a byte-level tokenizer split by regex patterns (with an NFC or NFKC normalizer or none,
 * and added tokens that match inside text under the conditions of addedTokensSupported), or undefined for
 * any other tokenizer.
 */
export function patternContextOf(tokenizer: Tokenizer): PatternContext | undefined {
  let c = patternContexts.get(tokenizer);
  if (c === undefined) {
    c = null;
    if (tokenizer instanceof BpeTokenizer) {
      const cfg = tokenizer.config;
      const form = unicodeForm(cfg.normalizer);
      if (cfg.symbols === 'bytes' && !cfg.preNormalizer && form !== null && addedTokensSupported(cfg.addedTokens.filter((t) => !t.special).map((t) => t.content), form)) {
        const automaton = PieceAutomaton.of(cfg.splits);
        if (automaton) {
          c = new PatternContext(tokenizer, cfg, automaton, form);
          c.warm();
        }
      }
    }
    patternContexts.set(tokenizer, c);
  }
  return c ?? undefined;
}
