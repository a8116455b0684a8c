import { perLineRelativeCost, relativeCost, textMetrics, type LineCost } from '../../core/analysis/metrics';
import { loadTokenizer, type LoadedTokenizer } from '../../core/tokenizers/loader';
import type { TokenStream } from '../../core/tokenizers/types';
import { parseArgs, UsageError } from '../args';
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

interface Measured {
  readonly loaded: LoadedTokenizer;
  readonly stream: TokenStream;
}

export const compareCommand: CliCommand = {
  name: 'compare',
  usage:
    'compare FILE --tokenizers ID,ID,... [--reference ID] [--json]   counts, bytes/chars per token, fertility, continued words and relative cost per tokenizer and line (reference default o200k_base)',
  async run(argv) {
    const args = parseArgs(argv, ['tokenizers', 'reference'], ['json']);
    const file = args.positionals[0];
    if (!file) throw new UsageError('compare needs a FILE');
    if (args.positionals.length > 1) throw new UsageError(`compare takes one FILE (got ${args.positionals.length})`);
    const ids = tokenizerList(args.options.get('tokenizers'), 'compare');
    const referenceId = args.options.get('reference') ?? 'o200k_base';
    const text = readTextFile(file);

    const measure = async (id: string): Promise<Measured> => {
      const loaded = await loadTokenizer(id, LOAD_OPTIONS);
      return { loaded, stream: loaded.tokenizer.encode(text) };
    };
    const reference = await measure(referenceId);
    const measured: Measured[] = [];
    for (const id of ids) measured.push(await measure(id));

    const rows = measured.map((m) => {
      const metrics = textMetrics(text, m.stream, m.loaded.tokenizer.vocabSize);
      return {
        tokenizer: m.loaded.id,
        count: metrics.count,
        bytesPerToken: metrics.bytesPerToken,
        charsPerToken: metrics.charsPerToken,
        fertility: metrics.fertility,
        continuedWordShare: metrics.continuedWordShare,
        renyiEfficiency: metrics.renyiEfficiency,
        relativeCost: relativeCost(metrics.count, reference.stream.count),
      };
    });
    const lines: { tokenizer: string; lines: LineCost[] }[] = measured.map((m) => ({ tokenizer: m.loaded.id, lines: perLineRelativeCost(text, m.stream, reference.stream) }));

    if (args.flags.has('json')) {
      out(
        JSON.stringify({
          reference: reference.loaded.id,
          referenceCount: reference.stream.count,
          tokenizers: rows,
          lines: lines.map((l) => ({
            tokenizer: l.tokenizer,
            lines: l.lines.map((c) => ({ line: c.line, relativeCost: c.relativeCost, tokens: c.tokens, referenceTokens: c.referenceTokens })),
          })),
        }),
      );
      return;
    }

    const base = textMetrics(text, reference.stream);
    out(
      `${file}: ${base.bytes} bytes, ${base.chars} characters, ${base.words} words, ${lines[0]?.lines.length ?? 0} lines; ` +
        `relative cost against ${reference.loaded.name} (${reference.stream.count} tokens)`,
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
      if (l.tokenizer === reference.loaded.id) continue;
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
