// @ts-check
'use strict';
// The views people expect, in a real VS Code with the package for this machine installed (issue 19): the
// Tokens tab's legend and the chip a click outlines; the Scratch tab (typed text tokenized, pasted ids decoded,
// both equal to the CLI); Compare's tokens side by side by line (ids equal to the CLI's); the sidebar's models
// at a glance (equal to `count --model`); the Count Tokens in Folder report's context and cost columns (equal to
// `count --model`); Export JSON's addedTokens (the CLI's); the wording of the hover, the gauge and a .md added as
// a tokenizer; the reason the probability views are off, then GLTR's rank summary (equal to the CLI's ranks);
// the panel restored on its tab after a window reload. Screenshots for the README.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsc = require('./lib/vscode');
const { hostPackage, assertInstalledPackage, cli, must, openTokenizerPicker, screenshotsDir, workspaceCopy } = require('./lib/project');

const WS = workspaceCopy('views');
const SCRATCH_TEXT = 'Hello, 世界! naïve café — ids 9906';
/** @type {import('./lib/vscode').Session} */
let vs;
/** @type {string} */
let testLog;
/** @type {import('playwright-core').FrameLocator} */
let panel;

/** The CLI's `count --model` formatting (src/core/models/countFigures.ts), for the report's columns. */
/** @param {number | null} f */
const share = (f) => (f === null ? '-' : `${(f * 100).toFixed(f < 0.0001 ? 4 : 2)}%`);
/** @param {number | null} n */
const usd = (n) => (n === null ? '-' : n >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '.0')}`);

before(async () => {
  const docs = path.join(WS, 'docs');
  fs.mkdirSync(docs);
  fs.writeFileSync(path.join(docs, 'guide.md'), '# Guide\n\nTokens cost money. 東京 🦜\n');
  fs.writeFileSync(path.join(docs, 'notes.txt'), 'Some notes.\n'.repeat(20));
  fs.writeFileSync(path.join(WS, 'scratch.txt'), SCRATCH_TEXT);
  // TI_E2E_EXTENSION_DIR runs an unpacked build instead (main's, to record what failed before).
  const extensionDir = process.env.TI_E2E_EXTENSION_DIR;
  const vsix = extensionDir ? undefined : await hostPackage();
  testLog = path.join(vsc.paths.RUN_ROOT, `views-log-${process.pid}.txt`);
  fs.writeFileSync(testLog, '');
  vs = await vsc.startVSCode({
    ...(extensionDir ? { extensionDir } : { vsix }),
    workspace: WS,
    name: 'views',
    theme: 'Default Light Modern',
    settings: {
      'tokenInspector.compareTokenizers': ['o200k_base', 'gpt2', 'llama3'],
      'tokenInspector.model': 'llama-3.1-8b',
      'tokenInspector.sidebarModels': ['gpt-4o'],
      // The folder report is read from the editor's lines: one line each.
      '[markdown]': { 'editor.wordWrap': 'off' },
    },
    env: { TOKEN_INSPECTOR_TEST_LOG: testLog },
    viewport: { width: 1600, height: 900 },
  });
  if (vsix) assertInstalledPackage(vs);
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
  await vsc.openFile(vs.page, 'code.ts');
  await vsc.statusBarText(vs.page, /\d tokens/, { timeout: vsc.scaledMs(30000) });
  await vsc.runCommand(vs.page, 'Token Inspector: Show Panel');
  panel = vsc.webviewFrame(vs.page, { view: 'panel' });
});

after(async () => {
  if (vs) await vs.stop();
});

/**
 * Runs a command that opens a quick input of its own (runCommand waits for the palette to close, which then
 * never happens): the palette, the command's row, Enter.
 * @param {string} title
 */
async function startCommand(title) {
  await vs.page.keyboard.press('Escape');
  await vs.page.keyboard.press('F1');
  const box = vs.page.locator('.quick-input-widget .quick-input-box input');
  await box.waitFor({ state: 'visible' });
  await box.fill(`>${title}`);
  await vs.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await vs.page.keyboard.press('Enter');
  return box;
}

/** @param {string} file @param {string} tokenizer @returns {import('./lib/project').TokenizeJson} */
const cliTokens = (file, tokenizer) => cli(['tokenize', path.join(WS, file), '--tokenizer', tokenizer, '--json']);

test('Tokens tab: the legend names the alternating shade, a click outlines that chip, and says why surprisal is off', async () => {
  const expected = cliTokens('code.ts', 'o200k_base');
  await panel.locator(`#doc-info[data-count="${expected.count}"]`).waitFor({ timeout: vsc.scaledMs(30000) });
  const legend = await panel.locator('.legend', { hasText: 'zero-width' }).first().innerText();
  assert.doesNotMatch(legend, /next token/, 'the second shade is not "the next token"');
  assert.match(legend, /alternate/);
  const k = expected.tokens.findIndex((t) => t.text.trim() === 'fibonacci');
  assert.ok(k > 0);
  await panel.locator(`.chip[data-i="${k}"]`).click();
  await panel.locator(`.chip.current[data-i="${k}"]`).waitFor({ timeout: vsc.scaledMs(15000) });
  assert.equal(await panel.locator('.chip.current').count(), 1, 'one chip outlined: the one clicked');
  const reason = await panel.locator('#probability-reason').innerText();
  assert.match(reason, /Show Probabilities/, 'the reason the surprisal box is disabled is on screen');
  assert.equal(await panel.locator('#surprisal-box').getAttribute('disabled'), '');
});

test('Scratch: typed text is tokenized and pasted ids are decoded, as the CLI does', async () => {
  await vs.page.keyboard.press('Escape');
  await panel.locator('vscode-tab-header[data-tab="scratch"]').click();
  const expected = cliTokens('scratch.txt', 'o200k_base');
  const input = panel.locator('#scratch-input');
  await input.fill(SCRATCH_TEXT);
  await panel.locator(`#scratch-info[data-count="${expected.count}"]`).waitFor({ timeout: vsc.scaledMs(30000) });
  const shownIds = await panel.locator('#scratch-out .chip[data-id]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));
  assert.deepEqual(shownIds, expected.tokens.filter((t) => !t.partial).map((t) => t.id), 'the chips carry the CLI ids');
  await input.fill(JSON.stringify(expected.tokens.map((t) => t.id)));
  await panel.locator('#scratch-decoded').waitFor({ timeout: vsc.scaledMs(30000) });
  await vs.page.waitForFunction(() => true);
  assert.equal(await panel.locator('#scratch-decoded').innerText(), SCRATCH_TEXT, 'the ids decode to the text');
  assert.match(await panel.locator('#scratch-info').innerText(), new RegExp(`^${expected.count} tokens decoded with`));
  await input.fill(`${SCRATCH_TEXT}\nsecond line`);
  await panel.locator('#scratch-out .chip-line').nth(1).waitFor({ timeout: vsc.scaledMs(30000) });
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'panel-scratch.png'));
});

test('Compare: the tokens side by side, line by line, carry the CLI ids for each tokenizer', async () => {
  await vsc.runCommand(vs.page, 'Token Inspector: Compare Tokenizers');
  await panel.locator('#compare-run').click();
  const grid = panel.locator('#compare-chips');
  await grid.waitFor({ timeout: vsc.scaledMs(60000) });
  const text = fs.readFileSync(path.join(WS, 'code.ts'), 'utf8');
  assert.equal(await grid.locator('.sbs-line').count(), text.split('\n').length, 'one block per line');
  for (const tokenizer of ['o200k_base', 'gpt2', 'llama3']) {
    const expected = cliTokens('code.ts', tokenizer);
    const rows = grid.locator(`.sbs-row[data-tokenizer="${tokenizer}"]`);
    const counts = await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
    assert.equal(counts.reduce((a, b) => a + b, 0), expected.count, `${tokenizer}: the rows hold every token`);
    const ids = await rows.locator('.chip[data-id]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));
    assert.deepEqual(ids, expected.tokens.map((t) => t.id), `${tokenizer}: the CLI ids, in order`);
  }
  await grid.scrollIntoViewIfNeeded();
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'panel-compare-side-by-side.png'));
});

test('Sidebar: the models at a glance equal count --model; one token selected reads "1 token"', async () => {
  await vsc.runCommand(vs.page, 'Token Inspector: Focus on Tokens View');
  const side = vsc.webviewFrame(vs.page, { view: 'sidebar' });
  for (const model of ['llama-3.1-8b', 'gpt-4o']) {
    const total = cli(['count', path.join(WS, 'code.ts'), '--model', model, '--json']).total;
    const row = side.locator(`#models-table tr[data-model="${model}"]`);
    await row.waitFor({ timeout: vsc.scaledMs(60000) });
    assert.equal((await row.locator('td.tokens').innerText()).trim(), total.tokens.toLocaleString('en-US'), `${model}: tokens`);
    const pct = total.fraction < 0.001 ? '<0.1%' : `${(total.fraction * 100).toFixed(1)}%`;
    assert.equal((await row.locator('td.share').innerText()).trim(), pct, `${model}: context share`);
    const cost = (await row.locator('td.cost').innerText()).trim();
    if (total.inputCost === null) assert.equal(cost, 'no list price');
    else assert.equal(Number(cost.replace('$', '')).toPrecision(2), total.inputCost.toPrecision(2), `${model}: input cost`);
  }
  assert.equal(await side.locator('#models-table tr[data-model]').first().getAttribute('data-model'), 'llama-3.1-8b', 'the selected model first');
  // Select one character of the editor: one token.
  await vsc.openFile(vs.page, 'code.ts');
  await vs.page.locator('.part.editor .monaco-editor .view-lines').first().click();
  await vs.page.keyboard.press('Control+Home');
  await vs.page.keyboard.press('Shift+ArrowRight');
  await side.locator('#selection-count', { hasText: /^1 token selected$/ }).waitFor({ timeout: vsc.scaledMs(15000) });
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'sidebar-models.png'));
});

test('Count Tokens in Folder: the report has the selected model\'s context share and cost, as count --model', async () => {
  await vs.page.keyboard.press('Escape');
  await vsc.runCommand(vs.page, 'View: Show Explorer');
  const row = vs.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'docs' }).first();
  await row.waitFor({ timeout: vsc.scaledMs(15000) });
  let done;
  for (let attempt = 0; attempt < 2 && !done; attempt++) {
    await row.click({ button: 'right' });
    const item = vs.page.locator('.context-view .action-item', { hasText: 'Count Tokens in Folder' }).first();
    await item.waitFor({ timeout: vsc.scaledMs(15000) });
    await vs.page.waitForTimeout(vsc.scaledMs(500));
    await item.click();
    done = await vsc.waitForFileText(testLog, /folder .*docs files=/, { timeout: vsc.scaledMs(attempt ? 60000 : 20000) }).catch((e) => (attempt ? Promise.reject(e) : undefined));
  }
  const report = vs.page.locator('.part.editor .monaco-editor .view-lines', { hasText: 'Tokens in' }).first();
  await report.waitFor({ timeout: vsc.scaledMs(15000) });
  const lines = (await report.innerText()).replace(/\u00a0/g, ' ').split('\n');
  // The model's tokenizer (llama3) and the editor's (o200k_base) are both counted; context and cost are the model's.
  const expected = cli(['count', path.join(WS, 'docs'), '--model', 'llama-3.1-8b', '--json']);
  const header = must(lines.find((l) => l.startsWith('| |')), 'the report header');
  assert.match(header, /context \(Llama 3\.1 8B\) \| cost \(Llama 3\.1 8B\)/);
  const totalRow = must(lines.find((l) => l.includes('**total**')), 'the total row');
  assert.ok(totalRow.includes(`**${share(expected.total.fraction)}**`), `${totalRow} has the context share ${share(expected.total.fraction)}`);
  assert.ok(totalRow.includes(`**${usd(expected.total.inputCost)}**`), `${totalRow} has the cost ${usd(expected.total.inputCost)}`);
  for (const f of expected.files) {
    const name = path.basename(f.path);
    const line = must(lines.find((l) => l.startsWith(`| ${name} `)), `the report's row for ${name}`);
    assert.ok(line.includes(`| ${share(f.fraction)} | ${usd(f.inputCost)} |`), `${line}: ${share(f.fraction)}, ${usd(f.inputCost)}`);
  }
  assert.match(lines.join('\n'), /Llama 3\.1 8B: tokenizer llama3, context window 131,072 tokens/);
});

test('Export JSON under Llama 3 gives addedTokens as the CLI does; the hover and the gauge read right', async () => {
  await vsc.openFile(vs.page, 'emoji-cjk.md');
  const box = await openTokenizerPicker(vs.page);
  await box.fill('Llama 3.1');
  await vs.page.locator('.quick-input-list .monaco-list-row', { hasText: 'llama3' }).first().waitFor();
  await vs.page.keyboard.press('Enter');
  const expected = cliTokens('emoji-cjk.md', 'llama3');
  await vsc.statusBarText(vs.page, new RegExp(`${expected.count.toLocaleString('en-US')} tokens`), { timeout: vsc.scaledMs(30000) });
  await startCommand('Token Inspector: Export Tokens');
  await vs.page.locator('.quick-input-list .monaco-list-row', { hasText: 'JSON' }).first().waitFor({ timeout: vsc.scaledMs(15000) });
  await vs.page.keyboard.press('Enter');
  // The save dialog (VS Code's own, in code-server) offers the default name beside the file: accept it.
  const out = path.join(WS, 'emoji-cjk.md.llama3.tokens.json');
  await vs.page.waitForFunction(() => /tokens\.json$/.test(/** @type {HTMLInputElement | null} */ (document.querySelector('.quick-input-widget .quick-input-box input'))?.value ?? ''), null, { timeout: vsc.scaledMs(15000) });
  await vs.page.waitForTimeout(vsc.scaledMs(300));
  await vs.page.keyboard.press('Enter');
  await vsc.waitForFileText(out, '"addedTokens"', { timeout: vsc.scaledMs(20000) });
  const exported = JSON.parse(fs.readFileSync(out, 'utf8'));
  const cliJson = /** @type {{ addedTokens: unknown }} */ (/** @type {unknown} */ (expected));
  assert.deepEqual(exported.addedTokens, cliJson.addedTokens, 'addedTokens as the CLI gives them');
  assert.ok(Array.isArray(exported.addedTokens) && exported.addedTokens.length === 1, 'Llama 3 adds <|begin_of_text|>');
  assert.deepEqual(exported.tokens.map((/** @type {{ id: number }} */ t) => t.id), expected.tokens.map((t) => t.id));

  // The hover of a split emoji names the one character split, and spells the tokens' text with its code points.
  await vsc.openFile(vs.page, 'emoji-cjk.md');
  const hover = await vsc.hoverOnText(vs.page, '🦜', { marker: 'falls inside the character' });
  assert.doesNotMatch(hover, /split one character/);
  assert.match(hover, /falls inside the character .*🦜.* \(U\+1F99C\)/);
  await vs.page.keyboard.press('Escape');

  // The gauge's tooltip for a model without a list price: one sentence, no catalog source notes.
  const gauge = vs.page.locator('.part.statusbar .statusbar-item', { hasText: 'Llama 3.1 8B' }).first();
  await gauge.hover();
  const tip = vs.page.locator('.workbench-hover, .monaco-hover', { hasText: 'No list price' }).first();
  await tip.waitFor({ timeout: vsc.scaledMs(15000) });
  const tipText = await tip.innerText();
  assert.match(tipText, /No list price for Llama 3\.1 8B: open weights are priced by whoever serves them; set yours in tokenInspector\.prices\./);
  assert.doesNotMatch(tipText, /no list price:|\(set your own\)|gpt-tokenizer@/);
  await vs.page.mouse.move(10, 10);
});

test('Add Tokenizer from File with a .md file says what file is expected', async () => {
  // Only this test's toast, and no hover or tooltip of the test before in the way.
  await vs.page.keyboard.press('Escape');
  await vs.page.keyboard.press('Escape');
  await vsc.runCommand(vs.page, 'Notifications: Clear All Notifications').catch(() => undefined);
  await vsc.openFile(vs.page, 'README.md');
  const box = await startCommand('Token Inspector: Add Tokenizer from File');
  // The open dialog (VS Code's own, in code-server) is a quick input holding the folder it starts in, and it
  // fills its list of that folder asynchronously, setting the input's value again when the list arrives. A path
  // typed before that is replaced by the folder's, and Enter then picks the folder (the extension rightly says
  // the folder holds no tokenizer.json): so type only once the list is there, and press Enter only on our path.
  await vs.page.locator('.quick-input-list .monaco-list-row', { hasText: 'README.md' }).first().waitFor({ timeout: vsc.scaledMs(15000) });
  const target = path.join(WS, 'README.md');
  await vsc.poll('the open dialog to hold the README.md path', async () => {
    if ((await box.inputValue()) !== target) await box.fill(target);
    await vs.page.waitForTimeout(vsc.scaledMs(300));
    return (await box.inputValue()) === target || undefined;
  }, { timeout: vsc.scaledMs(15000) });
  await vs.page.keyboard.press('Enter');
  // Whatever the dialog handed over, the toast names it: read that one, so a wrong pick fails with what it said.
  const toast = vs.page.locator('.notifications-toasts .notification-list-item-message', { hasText: 'could not use' }).first();
  await toast.waitFor({ timeout: vsc.scaledMs(30000) });
  const text = await toast.innerText();
  assert.ok(text.includes(target), `the toast is about ${target}: ${text}`);
  assert.match(text, /a \.md file is not a tokenizer: Add Tokenizer from File takes a Hugging Face tokenizer\.json, a folder holding one, or a \.tiktoken rank file/);
  assert.doesNotMatch(text, /not valid JSON/);
  await vsc.runCommand(vs.page, 'Notifications: Clear All Notifications').catch(() => undefined);
});

test('the panel is restored on its tab after Reload Window', async () => {
  await vsc.runCommand(vs.page, 'Token Inspector: Compare Tokenizers');
  await panel.locator('#compare-run').waitFor({ state: 'visible', timeout: vsc.scaledMs(15000) });
  const before = Number(await must(fs.readFileSync(testLog, 'utf8').match(/activated/g), 'activations').length);
  await vsc.runCommand(vs.page, 'Developer: Reload Window');
  await vsc.poll('the extension to activate again', () => (fs.readFileSync(testLog, 'utf8').match(/activated/g) ?? []).length > before, { timeout: vsc.scaledMs(90000) });
  await vsc.waitForFileText(testLog, 'panel restored on compare', { timeout: vsc.scaledMs(60000) });
  panel = vsc.webviewFrame(vs.page, { view: 'panel' });
  await panel.locator('#compare-run').waitFor({ state: 'visible', timeout: vsc.scaledMs(60000) });
});

test("GLTR's rank summary, legend on screen, equals the CLI's ranks", async () => {
  await vsc.updateSettings(vs, { 'tokenInspector.showProbabilities': true });
  // The tokenizer the editor uses: the workspace's setting where the picker wrote one (Llama 3, above).
  const workspaceSettings = path.join(WS, '.vscode', 'settings.json');
  const tokenizer = String((fs.existsSync(workspaceSettings) && JSON.parse(fs.readFileSync(workspaceSettings, 'utf8'))['tokenInspector.tokenizer']) || 'o200k_base');
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
  await vsc.openFile(vs.page, 'code.ts');
  await vsc.runCommand(vs.page, 'Token Inspector: Show Panel');
  panel = vsc.webviewFrame(vs.page, { view: 'panel' });
  await vsc.waitForFileText(testLog, /scores .*code\.ts/, { timeout: vsc.scaledMs(120000) });
  const legend = panel.locator('#gltr-legend');
  await legend.waitFor({ timeout: vsc.scaledMs(60000) });
  /** @type {import('./lib/project').ScoreJson} */
  const scored = cli(['score', path.join(WS, 'code.ts'), '--model', 'workspace-ngram', '--workspace', WS, '--tokenizer', tokenizer, '--json']);
  const expected = [0, 0, 0, 0];
  // A token without a rank (null in JSON) is not counted, as in the panel.
  for (const t of scored.tokens) if (typeof t.rank === 'number') expected[t.rank <= 10 ? 0 : t.rank <= 100 ? 1 : t.rank <= 1000 ? 2 : 3]++;
  const shown = await legend.locator('.gltr-item').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
  assert.deepEqual(shown, expected, 'tokens per rank bucket: top 10, top 100, top 1000, beyond');
  const words = await legend.innerText();
  for (const label of ['top 10', 'top 100', 'top 1000', 'beyond 1000']) assert.ok(words.includes(label), `the legend says ${label} on screen`);
  await panel.locator('#ranks-box').click();
  await panel.locator('.chip.rank0').first().waitFor({ timeout: vsc.scaledMs(15000) });
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'panel-gltr.png'));
});
