import { createReadStream, statSync } from 'node:fs';
import { ChunkedEncoder, type EncodedPart } from '../../core/analysis/chunkedEncoder';
import { escapedText, tokenJson } from '../../core/analysis/stream';
import { decodedTextPieces } from '../../core/files/decodeStream';
import { utf8Encode } from '../../core/text/utf8';
import { loadTokenizer } from '../../core/tokenizers/loader';
import { parseArgs, UsageError } from '../args';
import { TOKENIZER_ID } from '../pathOrId';
import { LOAD_OPTIONS, out, readTextFile, type CliCommand } from '../io';

/** Files above this size are read and tokenized in pieces, in bounded memory (a 100 MB file included). */
const STREAM_ABOVE_BYTES = 16 * 1024 * 1024;

/** Writes to stdout, waiting when the pipe is full so that memory stays bounded. */
function write(s: string): Promise<void> {
  return new Promise((resolve) => (process.stdout.write(s) ? resolve() : process.stdout.once('drain', resolve)));
}

async function* parts(file: string, tokenizerSpec: string, allowSpecial: boolean): AsyncGenerator<EncodedPart> {
  const { tokenizer } = await loadTokenizer(tokenizerSpec, LOAD_OPTIONS);
  const size = statSync(file).size;
  if (size <= STREAM_ABOVE_BYTES) {
    const text = readTextFile(file);
    yield { utf16Start: 0, byteStart: 0, text, stream: tokenizer.encode(text, { allowSpecial }), approximate: false };
    return;
  }
  const encoder = new ChunkedEncoder(tokenizer, allowSpecial);
  for await (const piece of decodedTextPieces(() => createReadStream(file, { highWaterMark: 1 << 20 }), file)) yield* encoder.push(piece);
  yield* encoder.end();
}

export const tokenizeCommand: CliCommand = {
  name: 'tokenize',
  usage: 'tokenize FILE [--tokenizer ID|PATH] [--json] [--allow-special]   tokens with byte and UTF-16 spans (default o200k_base)',
  async run(argv) {
    const args = parseArgs(argv, ['tokenizer'], ['json', 'allow-special'], { positionals: 1, pathOrId: { tokenizer: TOKENIZER_ID } });
    const file = args.positionals[0];
    if (!file) throw new UsageError('tokenize needs a FILE');
    let st;
    try {
      st = statSync(file);
    } catch {
      throw new UsageError(`${file}: no such file`);
    }
    if (st.isDirectory()) throw new UsageError(`${file} is a folder; give a file (or use \`count\` for folders)`);
    const loaded = await loadTokenizer(args.options.get('tokenizer') ?? 'o200k_base', LOAD_OPTIONS);
    const json = args.flags.has('json');
    let count = 0;
    let byteLength = 0;
    let utf16Length = 0;
    let approximate = false;
    // The header waits for the first piece of text: a file refused on reading (binary, unreadable) prints nothing to stdout.
    let started = false;
    const start = async (): Promise<void> => {
      if (started) return;
      started = true;
      if (json) await write(`{"tokenizer":${JSON.stringify(loaded.id)},"tokens":[`);
      else out('INDEX'.padEnd(8) + 'ID'.padEnd(9) + 'BYTES'.padEnd(16) + 'UTF16'.padEnd(16) + 'TEXT');
    };
    for await (const p of parts(file, args.options.get('tokenizer') ?? 'o200k_base', args.flags.has('allow-special'))) {
      await start();
      const utf8 = utf8Encode(p.text.toWellFormed());
      let chunk = '';
      for (let i = 0; i < p.stream.count; i++) {
        const t = tokenJson(p.stream, p.text, utf8, i);
        const bytes: [number, number] = [p.byteStart + t.bytes[0], p.byteStart + t.bytes[1]];
        const utf16: [number, number] = [p.utf16Start + t.utf16[0], p.utf16Start + t.utf16[1]];
        if (json) {
          chunk += (count ? ',' : '') + JSON.stringify({ id: t.id, text: t.text, bytes, utf16, partial: t.partial, special: t.special });
        } else {
          const marks = (t.partial ? ' [partial]' : '') + (t.special ? ' [special]' : '') + (t.zeroWidth ? ' [zero-width]' : '');
          chunk += String(count).padEnd(8) + String(t.id).padEnd(9) + `${bytes[0]}-${bytes[1]}`.padEnd(16) + `${utf16[0]}-${utf16[1]}`.padEnd(16) + (t.partial ? t.text : escapedText(t.text)) + marks + '\n';
        }
        count++;
        if (chunk.length > 1 << 16) {
          await write(chunk);
          chunk = '';
        }
      }
      if (chunk) await write(chunk);
      byteLength = p.byteStart + p.stream.byteLength;
      utf16Length = p.utf16Start + p.text.length;
      approximate ||= p.approximate;
    }
    await start();
    const addedTokens = loaded.tokenizer.addedTokens;
    if (json) {
      await write(`],"count":${count},"byteLength":${byteLength},"utf16Length":${utf16Length},"addedTokens":${JSON.stringify(addedTokens)}${approximate ? ',"approximate":true' : ''}}\n`);
      return;
    }
    out(`${file}: ${count} tokens under ${loaded.name} (${byteLength} bytes, ${utf16Length} UTF-16 units)${approximate ? ' (approximate: a very long line had to be cut)' : ''}`);
    if (addedTokens.length) out(`added by the model: ${addedTokens.map((t) => `${t.text} (${t.id}, ${t.position})`).join(', ')}`);
  },
};
