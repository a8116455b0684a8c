import { BUNDLED_TOKENIZERS } from '../../core/tokenizers/catalog';
import { parseArgs } from '../args';
import { out, type CliCommand } from '../io';

export const tokenizersCommand: CliCommand = {
  name: 'tokenizers',
  usage: 'tokenizers [--json]                          list the bundled tokenizers with sources and licenses',
  async run(argv) {
    const args = parseArgs(argv, [], ['json']);
    const rows = BUNDLED_TOKENIZERS.map((e) => ({
      id: e.id,
      name: e.name,
      algorithm: e.algorithm,
      vocabSize: e.vocabSize,
      exact: e.exact,
      source: `${e.source.package}@${e.source.version}`,
      license: e.license,
      vocabularyTerms: e.vocabularyTerms,
      models: e.models,
    }));
    if (args.flags.has('json')) return out(JSON.stringify(rows, null, 2));
    const w = (s: string, n: number): string => s.padEnd(n);
    out(w('ID', 15) + w('NAME', 34) + w('ALGORITHM', 18) + w('VOCAB', 8) + w('EXACT', 7) + 'SOURCE');
    for (const r of rows) out(w(r.id, 15) + w(r.name, 34) + w(r.algorithm, 18) + w(String(r.vocabSize), 8) + w(r.exact ? 'yes' : 'approx', 7) + r.source);
  },
};
