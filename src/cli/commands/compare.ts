import { compareTokenizers } from '../../core/analysis/compare';
import { loadTokenizer, type LoadedTokenizer } from '../../core/tokenizers/loader';
import { parseArgs, UsageError } from '../args';
import { TOKENIZER_ID, TOKENIZER_IDS } from '../pathOrId';
import { LOAD_OPTIONS, out, readTextFile, type CliCommand } from '../io';

/** `a,b,c` → unique non-empty names, in order. */
export function tokenizerList(value: string | undefined, command: string): string[] {
  const ids = [...new Set((value ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
  if (!ids.length) throw new UsageError(`${command} needs --tokenizers ID,ID,... (bundled ids or tokenizer paths)`);
  return ids;
}

function fixed(n: number | null, digits = 2): string {
  return n === null ? '-' : n.toFixed(digits);
}

export const compareCommand: CliCommand = {
  name: 'compare',
  usage:
    'compare FILE --tokenizers ID|PATH,... [--reference ID|PATH] [--json]   counts, bytes/chars per token, fertility, continued words and relative cost per tokenizer and line (reference default o200k_base)',
  async run(argv) {
    const args = parseArgs(argv, ['tokenizers', 'reference'], ['json'], { positionals: 1, pathOrId: { tokenizers: TOKENIZER_IDS, reference: TOKENIZER_ID } });
    const file = args.positionals[0];
    if (!file) throw new UsageError('compare needs a FILE');
    const ids = tokenizerList(args.options.get('tokenizers'), 'compare');
    const referenceId = args.options.get('reference') ?? 'o200k_base';
    const text = readTextFile(file);

    const reference = await loadTokenizer(referenceId, LOAD_OPTIONS);
    const loaded: LoadedTokenizer[] = [];
    for (const id of ids) loaded.push(await loadTokenizer(id, LOAD_OPTIONS));
    const result = compareTokenizers(text, loaded, reference);
    const rows = result.tokenizers;
    const lines = result.lines;

    if (args.flags.has('json')) {
      out(
        JSON.stringify({
          reference: result.reference,
          referenceCount: result.referenceCount,
          tokenizers: rows.map((r) => ({ ...r, name: undefined })),
          lines: lines.map((l) => ({
            tokenizer: l.tokenizer,
            lines: l.lines.map((c) => ({ line: c.line, relativeCost: c.relativeCost, tokens: c.tokens, referenceTokens: c.referenceTokens })),
          })),
        }),
      );
      return;
    }

    out(
      `${file}: ${result.bytes} bytes, ${result.chars} characters, ${result.words} words, ${lines[0]?.lines.length ?? 0} lines; ` +
        `relative cost against ${reference.name} (${result.referenceCount} tokens)`,
    );
    const width = Math.max(9, ...rows.map((r) => r.tokenizer.length)) + 2;
    out(
      'TOKENIZER'.padEnd(width) + 'TOKENS'.padStart(9) + 'BYTES/TOK'.padStart(11) + 'CHARS/TOK'.padStart(11) + 'FERTILITY'.padStart(11) +
        'CONTINUED'.padStart(11) + 'RENYI'.padStart(8) + 'RELATIVE'.padStart(10),
    );
    for (const r of rows) {
      out(
        r.tokenizer.padEnd(width) + String(r.count).padStart(9) + fixed(r.bytesPerToken).padStart(11) + fixed(r.charsPerToken).padStart(11) +
          fixed(r.fertility).padStart(11) + `${(r.continuedWordShare * 100).toFixed(1)}%`.padStart(11) + fixed(r.renyiEfficiency, 3).padStart(8) +
          fixed(r.relativeCost).padStart(10),
      );
    }
    // Where each tokenizer pays most over the reference: the lines with the most extra tokens.
    for (const l of lines) {
      if (l.tokenizer === reference.id) continue;
      const worst = l.lines
        .filter((c) => c.tokens > c.referenceTokens)
        .sort((a, b) => b.tokens - b.referenceTokens - (a.tokens - a.referenceTokens) || a.line - b.line)
        .slice(0, 3);
      if (!worst.length) continue;
      out(
        `${l.tokenizer}: costliest lines (1-based) ` +
          worst.map((c) => `${c.line + 1} (${c.tokens} vs ${c.referenceTokens} tokens${c.relativeCost === null ? '' : `, ${c.relativeCost.toFixed(2)}x`})`).join(', '),
      );
    }
  },
};
