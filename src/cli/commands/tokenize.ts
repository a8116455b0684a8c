import { escapedText, tokenJson } from '../../core/analysis/stream';
import { utf8Encode } from '../../core/text/utf8';
import { loadTokenizer } from '../../core/tokenizers/loader';
import { parseArgs, UsageError } from '../args';
import { LOAD_OPTIONS, out, readTextFile, type CliCommand } from '../io';

export const tokenizeCommand: CliCommand = {
  name: 'tokenize',
  usage: 'tokenize FILE [--tokenizer ID|PATH] [--json] [--allow-special]   tokens with byte and UTF-16 spans (default o200k_base)',
  async run(argv) {
    const args = parseArgs(argv, ['tokenizer'], ['json', 'allow-special']);
    const file = args.positionals[0];
    if (!file) throw new UsageError('tokenize needs a FILE');
    const text = readTextFile(file);
    const loaded = await loadTokenizer(args.options.get('tokenizer') ?? 'o200k_base', LOAD_OPTIONS);
    const stream = loaded.tokenizer.encode(text, { allowSpecial: args.flags.has('allow-special') });
    const utf8 = utf8Encode(text.toWellFormed());
    const tokens = [];
    for (let i = 0; i < stream.count; i++) tokens.push(tokenJson(stream, text, utf8, i));
    if (args.flags.has('json')) {
      out(
        JSON.stringify({
          tokenizer: loaded.id,
          byteLength: stream.byteLength,
          utf16Length: stream.utf16Length,
          count: stream.count,
          addedTokens: stream.addedTokens,
          tokens: tokens.map((t) => ({ id: t.id, text: t.text, bytes: t.bytes, utf16: t.utf16, partial: t.partial, special: t.special })),
        }),
      );
      return;
    }
    out(`${file}: ${stream.count} tokens under ${loaded.name} (${stream.byteLength} bytes, ${stream.utf16Length} UTF-16 units)`);
    if (stream.addedTokens.length) out(`added by the model: ${stream.addedTokens.map((t) => `${t.text} (${t.id}, ${t.position})`).join(', ')}`);
    out('INDEX'.padEnd(8) + 'ID'.padEnd(9) + 'BYTES'.padEnd(16) + 'UTF16'.padEnd(16) + 'TEXT');
    tokens.forEach((t, i) => {
      const marks = (t.partial ? ' [partial]' : '') + (t.special ? ' [special]' : '') + (t.zeroWidth ? ' [zero-width]' : '');
      out(
        String(i).padEnd(8) + String(t.id).padEnd(9) + `${t.bytes[0]}-${t.bytes[1]}`.padEnd(16) + `${t.utf16[0]}-${t.utf16[1]}`.padEnd(16) +
          (t.partial ? t.text : escapedText(t.text)) + marks,
      );
    });
  },
};
