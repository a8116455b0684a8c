import { computePremiums, loadUdhrCorpus, resolveLanguages, UDHR_ARTICLE_COUNT, type PremiumRow } from '../../core/premiums';
import { loadTokenizer } from '../../core/tokenizers/loader';
import { parseArgs, UsageError } from '../args';
import { TOKENIZER_IDS } from '../pathOrId';
import { LOAD_OPTIONS, out, type CliCommand } from '../io';
import { tokenizerList } from './compare';

export const premiumsCommand: CliCommand = {
  name: 'premiums',
  usage:
    'premiums --tokenizers ID|PATH,... [--languages eng,fra,...] [--cache-dir DIR] [--json]   language token premiums on the UDHR (tokens per English token on the same articles)',
  async run(argv) {
    const args = parseArgs(argv, ['tokenizers', 'languages', 'cache-dir'], ['json'], { pathOrId: { tokenizers: TOKENIZER_IDS } });
    const ids = tokenizerList(args.options.get('tokenizers'), 'premiums');
    const selectors = args.options.has('languages') ? (args.options.get('languages') ?? '').split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    if (selectors && !selectors.length) throw new UsageError('--languages needs codes such as eng,fra,cmn');
    if (selectors) {
      const { unknown } = resolveLanguages(await loadUdhrCorpus(), selectors);
      if (unknown.length) throw new UsageError(`unknown UDHR language${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (use ISO 639-3 codes such as eng, fra, cmn, or UDHR file codes such as cmn_hant)`);
    }
    const tokenizers = [];
    for (const id of ids) {
      const loaded = await loadTokenizer(id, LOAD_OPTIONS);
      tokenizers.push({ id: loaded.id, name: loaded.name, tokenizer: loaded.tokenizer });
    }
    const progress = process.stderr.isTTY
      ? (done: number, total: number, id: string) => {
          if (done === total || done % 25 === 0) process.stderr.write(`\r${id}: ${done}/${total} translations${done === total ? '\n' : ''}`);
        }
      : undefined;
    const rows = await computePremiums(tokenizers, selectors, progress, { cacheDir: args.options.get('cache-dir') });
    const byTokenizer = tokenizers.map((t) => ({ tokenizer: t, rows: rows.filter((r) => r.tokenizer === t.id) }));

    if (args.flags.has('json')) {
      out(
        JSON.stringify({
          reference: 'eng',
          tokenizers: byTokenizer.map(({ tokenizer, rows }) => ({
            tokenizer: tokenizer.id,
            languages: rows.map((r) => ({
              language: r.language,
              code: r.code,
              bcp47: r.bcp47,
              name: r.name,
              script: r.script,
              articles: r.articles,
              tokens: r.tokens,
              bytes: r.bytes,
              referenceTokens: r.referenceTokens,
              referenceBytes: r.referenceBytes,
              premium: r.premium,
              bytePremium: r.bytePremium,
            })),
          })),
        }),
      );
      return;
    }
    for (const { tokenizer, rows } of byTokenizer) {
      out(`Token premiums under ${tokenizer.name} on the UDHR (English = 1; ${rows.length} translation${rows.length === 1 ? '' : 's'}, highest first)`);
      table([...rows].sort((a, b) => b.premium - a.premium || a.code.localeCompare(b.code)));
      out('');
    }
  },
};

function table(rows: readonly PremiumRow[]): void {
  const nameWidth = Math.min(40, Math.max(8, ...rows.map((r) => r.name.length))) + 2;
  const codeWidth = Math.max(4, ...rows.map((r) => r.code.length)) + 2;
  const scriptWidth = Math.max(6, ...rows.map((r) => r.script.length)) + 2;
  out(
    'CODE'.padEnd(codeWidth) + 'ISO'.padEnd(5) + 'LANGUAGE'.padEnd(nameWidth) + 'SCRIPT'.padEnd(scriptWidth) + 'ARTICLES'.padStart(8) + 'TOKENS'.padStart(9) +
      'BYTES'.padStart(9) + 'PREMIUM'.padStart(9) + 'BYTE PREMIUM'.padStart(14),
  );
  for (const r of rows) {
    const name = r.name.length > nameWidth - 2 ? r.name.slice(0, nameWidth - 3) + '…' : r.name;
    out(
      r.code.padEnd(codeWidth) + r.language.padEnd(5) + name.padEnd(nameWidth) + r.script.padEnd(scriptWidth) +
        `${r.articles}/${UDHR_ARTICLE_COUNT}`.padStart(8) + String(r.tokens).padStart(9) + String(r.bytes).padStart(9) + r.premium.toFixed(2).padStart(9) +
        r.bytePremium.toFixed(2).padStart(14),
    );
  }
}
