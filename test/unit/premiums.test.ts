/**
 * Token premiums on the UDHR (src/core/premiums): the corpus parser, alignment on shared articles,
 * script detection, and counts checked against OpenAI's tiktoken (WASM) on the same aligned text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get_encoding } from 'tiktoken';
import {
  alignedArticles,
  computePremiums,
  detectScript,
  forgetPremiums,
  loadUdhrCorpus,
  parseDeclaration,
  resolveLanguages,
  type PremiumRow,
  type UdhrLanguage,
} from '../../src/core/premiums';
import { loadTokenizer } from '../../src/core/tokenizers/loader';
import type { Tokenizer } from '../../src/core/tokenizers/types';

const SAMPLE = ['eng', 'fra', 'mya', 'amh', 'tam', 'cmn_hans', 'jpn', 'kor', 'rus', '052', 'kwi', '057', 'khk_mong'];

async function corpusByCode(): Promise<Map<string, UdhrLanguage>> {
  return new Map((await loadUdhrCorpus()).map((l) => [l.code, l]));
}

function row(rows: readonly PremiumRow[], tokenizer: string, code: string): PremiumRow {
  const r = rows.find((x) => x.tokenizer === tokenizer && x.code === code);
  assert.ok(r, `no row for ${tokenizer} ${code}`);
  return r;
}

test('parseDeclaration: preamble and articles, headings dropped, lists, entities, placeholders and empty paragraphs', () => {
  const html = `<!doctype html>
<html data-code="xx_test" data-iso6393="xxx" dir="rtl" lang="xx-Test">
  <head>
    <title>Test &#x26; Co</title>
  </head>
  <body>
    <h1>Title</h1>
    <header>
      <h2>Preamble</h2>
      <p>Whereas   one,</p>
      <p>Whereas two &#x3C;3</p>
    </header>
    <article data-number="1">
      <h2>Article 1</h2>
      <p>All are free.</p>
    </article>
    <article data-number="2">
      <h1>Article 2</h1>
      <ol>
        <li>
          <p>First.</p>
        </li>
        <li>
          <p>&#x26;1</p>
        </li>
      </ol>
    </article>
    <article data-number="3">
      <p></p>
      <p>Only this.</p>
    </article>
    <article data-number="4">
      <h2>Article 4</h2>
      <p>@</p>
    </article>
  </body>
</html>`;
  const l = parseDeclaration(html);
  assert.equal(l.code, 'xx_test');
  assert.equal(l.iso6393, 'xxx');
  assert.equal(l.bcp47, 'xx-Test');
  assert.equal(l.direction, 'rtl');
  assert.equal(l.name, 'Test & Co');
  assert.equal(l.articleTexts.length, 31);
  assert.equal(l.articleTexts[0], 'Whereas one,\nWhereas two <3');
  assert.equal(l.articleTexts[1], 'All are free.');
  assert.equal(l.articleTexts[2], undefined, 'a placeholder paragraph (&1) makes the article incomplete');
  assert.equal(l.articleTexts[3], 'Only this.');
  assert.equal(l.articleTexts[4], undefined, 'a placeholder paragraph (@) makes the article incomplete');
  assert.equal(l.articleTexts[5], undefined);
  assert.equal(l.articleCount, 3);
  assert.equal(l.script, 'Latin');
});

test('the corpus: ~530 translations, English complete, incomplete ones known', async () => {
  const corpus = await loadUdhrCorpus();
  assert.ok(corpus.length >= 500, `${corpus.length} translations`);
  assert.equal(new Set(corpus.map((l) => l.code)).size, corpus.length);
  const by = await corpusByCode();
  const eng = by.get('eng');
  assert.ok(eng);
  assert.equal(eng.articleCount, 31);
  assert.ok(eng.articleTexts[1]?.startsWith('All human beings are born free and equal in dignity and rights.'));
  // Morisyen (052) lacks articles 5-11; Awa-Cuaiquer (kwi) article 1; Maay (057) the preamble and a placeholder article 30.
  assert.deepEqual(alignedArticles(by.get('052') as UdhrLanguage, eng).numbers, [0, 1, 2, 3, 4, ...Array.from({ length: 19 }, (_, i) => i + 12)]);
  assert.equal(by.get('kwi')?.articleTexts[1], undefined);
  assert.equal(by.get('057')?.articleTexts[0], undefined);
  assert.equal(by.get('057')?.articleTexts[30], undefined);
  assert.equal(by.get('057')?.articleCount, 29);
  assert.equal(by.get('amh')?.articleTexts[0], undefined, 'the Amharic file has no preamble');
  assert.equal(by.get('khk_mong')?.articleCount, 1);
  // One primary translation per ISO 639-3 code (und excepted).
  const primaries = corpus.filter((l) => l.primary);
  assert.equal(new Set(primaries.map((l) => l.iso6393)).size, primaries.length);
  assert.equal(corpus.filter((l) => l.primary && l.iso6393 === 'cmn')[0].code, 'cmn_hans');
  assert.equal(await loadUdhrCorpus(), corpus, 'cached');
});

test('resolveLanguages: file codes, ISO 639-3 (primary translation), BCP 47 and aliases', async () => {
  const corpus = await loadUdhrCorpus();
  const r = resolveLanguages(corpus, ['eng', 'zho', 'cmn', 'cmn_hant', 'de', 'pt-BR', 'FRA', 'xx', 'lav']);
  assert.deepEqual(
    r.languages.map((l) => l.code),
    ['eng', 'cmn_hans', 'cmn_hant', 'deu_1996', 'por_BR', 'fra', 'lav'],
  );
  assert.deepEqual(r.unknown, ['xx']);
});

test('detectScript on known samples', async () => {
  assert.deepEqual(detectScript('Hello, world! 123'), { script: 'Latin', share: 1 });
  assert.equal(detectScript('Все люди рождаются свободными').script, 'Cyrillic');
  assert.equal(detectScript('Όλοι οι άνθρωποι').script, 'Greek');
  assert.equal(detectScript('يولد جميع الناس أحرارًا').script, 'Arabic');
  assert.equal(detectScript('כל בני אדם נולדו').script, 'Hebrew');
  assert.equal(detectScript('सभी मनुष्यों को').script, 'Devanagari');
  assert.equal(detectScript('மனிதப் பிறவியினர்').script, 'Tamil');
  assert.equal(detectScript('လူတိုင်းသည်').script, 'Myanmar');
  assert.equal(detectScript('የሰው ልጅ ሁሉ').script, 'Ethiopic');
  assert.equal(detectScript('ადამიანი').script, 'Georgian');
  assert.equal(detectScript('มนุษย์ทั้งหลาย').script, 'Thai');
  assert.equal(detectScript('人人生而自由，在尊严和权利上一律平等。').script, 'Han');
  assert.equal(detectScript('すべての人間は、生まれながらにして自由であり').script, 'Japanese');
  assert.equal(detectScript('모든 인간은 태어날 때부터 자유로우며').script, 'Hangul');
  assert.equal(detectScript('ᏂᎦᏓ ᎠᏂᏴᏫ').script, 'Cherokee');
  assert.equal(detectScript('ᐃᓅᔪᓕᒫᑦ').script, 'Canadian_Aboriginal');
  assert.equal(detectScript('ⵉⵎⴷⴰⵏⵏ').script, 'Tifinagh');
  // Mixed: 3 Latin letters, 2 Cyrillic; digits and punctuation count for neither.
  const mixed = detectScript('abc де 42!');
  assert.equal(mixed.script, 'Latin');
  assert.equal(mixed.share, 3 / 5);
  assert.deepEqual(detectScript('123 !? \n'), { script: 'None', share: 0 });
  // Japanese when kana is ≥ 5% of Han + kana: 19 Han + 1 kana → Japanese; 30 Han + 1 kana → Han.
  assert.equal(detectScript('人'.repeat(19) + 'の').script, 'Japanese');
  assert.equal(detectScript('人'.repeat(30) + 'の').script, 'Han');
  // The corpus's own texts.
  const by = await corpusByCode();
  const expect: Record<string, string> = { eng: 'Latin', rus: 'Cyrillic', arb: 'Arabic', heb: 'Hebrew', hin: 'Devanagari', tam: 'Tamil', mya: 'Myanmar', amh: 'Ethiopic', cmn_hans: 'Han', jpn: 'Japanese', kor: 'Hangul', tha: 'Thai', khk_mong: 'Mongolian', chr_cased: 'Cherokee', tzm_tfng: 'Tifinagh', vai: 'Vai', iii: 'Yi' };
  for (const [code, script] of Object.entries(expect)) assert.equal(by.get(code)?.script, script, code);
});

test('premiums equal tiktoken counts on the same aligned articles (gpt2 and o200k_base), with the expected orderings', async () => {
  const gpt2 = (await loadTokenizer('gpt2')).tokenizer;
  const o200k = (await loadTokenizer('o200k_base')).tokenizer;
  const rows = await computePremiums(
    [
      { id: 'gpt2', tokenizer: gpt2 },
      { id: 'o200k_base', tokenizer: o200k },
    ],
    SAMPLE,
  );
  assert.equal(rows.length, SAMPLE.length * 2);
  const by = await corpusByCode();
  const eng = by.get('eng') as UdhrLanguage;
  for (const id of ['gpt2', 'o200k_base'] as const) {
    const enc = get_encoding(id);
    try {
      const count = (texts: string[]) => texts.reduce((n, t) => n + enc.encode_ordinary(t).length, 0);
      for (const code of SAMPLE) {
        const r = row(rows, id, code);
        const a = alignedArticles(by.get(code) as UdhrLanguage, eng);
        assert.equal(r.articles, a.numbers.length, code);
        assert.equal(r.tokens, count(a.texts), `${id} ${code} tokens`);
        assert.equal(r.referenceTokens, count(a.referenceTexts), `${id} ${code} English tokens`);
        assert.equal(r.bytes, a.texts.reduce((n, t) => n + Buffer.byteLength(t), 0));
        assert.equal(r.referenceBytes, a.referenceTexts.reduce((n, t) => n + Buffer.byteLength(t), 0));
        assert.equal(r.premium, r.tokens / r.referenceTokens);
      }
    } finally {
      enc.free();
    }
  }
  for (const id of ['gpt2', 'o200k_base']) {
    const e = row(rows, id, 'eng');
    assert.equal(e.premium, 1);
    assert.equal(e.bytePremium, 1);
    assert.equal(e.articles, 31);
  }
  for (const code of SAMPLE) assert.equal(row(rows, 'gpt2', code).bytePremium, row(rows, 'o200k_base', code).bytePremium, `bytePremium of ${code}`);
  for (const code of ['mya', 'amh', 'tam']) {
    const g = row(rows, 'gpt2', code).premium;
    const o = row(rows, 'o200k_base', code).premium;
    assert.ok(g > 3, `${code} gpt2 premium ${g}`);
    assert.ok(o < g, `${code}: o200k ${o} < gpt2 ${g}`);
  }
  // Incomplete translations are compared with the same part of the English text.
  const mfe = row(rows, 'gpt2', '052');
  assert.equal(mfe.articles, 24);
  assert.ok(mfe.referenceTokens < row(rows, 'gpt2', 'eng').tokens);
  assert.equal(row(rows, 'gpt2', 'amh').articles, 30);
  assert.equal(row(rows, 'gpt2', 'khk_mong').articles, 1);
  // Latin-script French costs ~2x English under GPT-2 and much less under o200k.
  assert.ok(row(rows, 'o200k_base', 'fra').premium < row(rows, 'gpt2', 'fra').premium);
});

test('every translation under gpt2: engine counts equal tiktoken on the aligned text', async () => {
  const gpt2 = (await loadTokenizer('gpt2')).tokenizer;
  const rows = await computePremiums([{ id: 'gpt2', tokenizer: gpt2 }]);
  const corpus = await loadUdhrCorpus();
  assert.equal(rows.length, corpus.length);
  const by = await corpusByCode();
  const eng = by.get('eng') as UdhrLanguage;
  const enc = get_encoding('gpt2');
  try {
    const engCounts = eng.articleTexts.map((t) => (t === undefined ? 0 : enc.encode_ordinary(t).length));
    for (const r of rows) {
      const a = alignedArticles(by.get(r.code) as UdhrLanguage, eng);
      const tokens = a.texts.reduce((n, t) => n + enc.encode_ordinary(t).length, 0);
      assert.equal(r.tokens, tokens, r.code);
      assert.equal(r.referenceTokens, a.numbers.reduce((n, i) => n + engCounts[i], 0), r.code);
      assert.ok(Number.isFinite(r.premium) && r.premium > 0, r.code);
    }
  } finally {
    enc.free();
  }
});

test('caches: memory, then an on-disk JSON file; progress is reported', async () => {
  const gpt2 = (await loadTokenizer('gpt2')).tokenizer;
  let calls = 0;
  // A wrapper that counts encodes: a fresh object, so neither cache knows it yet.
  const counting: Tokenizer = Object.assign(Object.create(gpt2) as Tokenizer, {
    encodeIds(text: string) {
      calls++;
      return gpt2.encodeIds(text);
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'premiums-'));
  try {
    const progress: number[] = [];
    const first = await computePremiums([{ id: 'gpt2', tokenizer: counting }], ['fra', 'deu'], (done, total) => progress.push(done, total), { cacheDir: dir });
    assert.deepEqual(progress, [1, 3, 2, 3, 3, 3], 'English is counted too');
    assert.ok(calls > 3);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.json')).length, 1);
    calls = 0;
    assert.deepEqual(await computePremiums([{ id: 'gpt2', tokenizer: counting }], ['fra', 'deu']), first);
    assert.equal(calls, 0, 'memory cache');
    forgetPremiums(counting);
    const again = await computePremiums([{ id: 'gpt2', tokenizer: counting }], ['fra', 'deu'], undefined, { cacheDir: dir });
    assert.deepEqual(again, first);
    assert.equal(calls, 1, 'disk cache: only the fingerprint probe is encoded');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown languages are one clear error', async () => {
  const gpt2 = (await loadTokenizer('gpt2')).tokenizer;
  await assert.rejects(computePremiums([{ id: 'gpt2', tokenizer: gpt2 }], ['eng', 'nope']), /unknown UDHR language nope/);
});
