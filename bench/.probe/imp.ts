import { createRequire } from 'node:module';
import type { Tiktoken as JsTiktoken, TiktokenBPE } from 'js-tiktoken';
const req = createRequire(__filename);
function main(): void {
  const gt = req('gpt-tokenizer/cjs/encoding/o200k_base') as typeof import('gpt-tokenizer/cjs/encoding/o200k_base');
  console.log('gpt', gt.encode('hello <|endoftext|>', { disallowedSpecial: new Set() }));
  const lite = req('js-tiktoken/lite') as { Tiktoken: typeof JsTiktoken };
  const ranks = { default: req('js-tiktoken/ranks/o200k_base') as TiktokenBPE };
  const enc = new lite.Tiktoken(ranks.default);
  console.log('jst', enc.encode('hello <|endoftext|>', [], []));
  const hf = req('@huggingface/tokenizers') as typeof import('@huggingface/tokenizers');
  console.log('hf', typeof hf.Tokenizer);
  const tk = req('tiktoken') as typeof import('tiktoken');
  console.log('tk', tk.get_encoding('o200k_base').encode_ordinary('hello <|endoftext|>'));
  const loader = req('../../src/core/tokenizers/loader') as typeof import('../../src/core/tokenizers/loader');
  console.log('loader', typeof loader.loadTokenizer);
  try { console.log(req.resolve('../../src/core/analysis/incremental')); } catch (e) { console.log('missing', (e as NodeJS.ErrnoException).code, (e as Error).message.slice(0, 200)); }
  try { console.log(req.resolve('../../src/core/analysis/stream')); } catch (e) { console.log('missing', (e as NodeJS.ErrnoException).code); }
}
main();
