/**
 * The per-tokenizer analysis context, built on first use and cached with the tokenizer.
 */
import { BpeTokenizer } from '../../tokenizers/engine';
import type { Tokenizer } from '../../tokenizers/types';
import { PatternContext } from './patternContext';
import { PieceAutomaton } from './pieceAutomaton';

const patternContexts = new WeakMap<Tokenizer, PatternContext | null>();

/**
 * The context for a byte-level tokenizer split by regex patterns with no normalizer and no added tokens that
 * match inside text, or undefined for any other tokenizer.
 */
export function patternContextOf(tokenizer: Tokenizer): PatternContext | undefined {
  let c = patternContexts.get(tokenizer);
  if (c === undefined) {
    c = null;
    if (tokenizer instanceof BpeTokenizer) {
      const cfg = tokenizer.config;
      if (cfg.symbols === 'bytes' && !cfg.preNormalizer && !cfg.normalizer && !cfg.addedTokens.some((t) => !t.special)) {
        const automaton = PieceAutomaton.of(cfg.splits);
        if (automaton) c = new PatternContext(tokenizer, cfg, automaton);
      }
    }
    patternContexts.set(tokenizer, c);
  }
  return c ?? undefined;
}
