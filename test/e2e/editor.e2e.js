// @ts-check
'use strict';
// The editor in a real VS Code (code-server), with the package built for this machine installed as users
// install it: status bar counts equal the CLI's for tricky files, the tokenizer picker, hovers (including one
// half of a split emoji) equal the CLI's token at that offset, the boundaries toggle (which refreshes the
// decorations alone), and screenshots in light and dark themes.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsc = require('./lib/vscode');
const { hostPackage, assertInstalledPackage, cli, must, openTokenizerPicker, screenshotsDir, workspaceCopy } = require('./lib/project');

const WS = workspaceCopy('editor');
/** @type {import('./lib/vscode').Session} */
let vs;
/** @type {string} */
let testLog;

/** @param {string} file @param {string} tokenizer @returns {import('./lib/project').TokenizeJson} */
function cliTokens(file, tokenizer) {
  return cli(['tokenize', path.join(WS, file), '--tokenizer', tokenizer, '--json']);
}

/** Waits until the status bar shows `expected` tokens for `file`. @param {number} expected @param {string} file */
async function waitForCount(expected, file) {
  const re = new RegExp(`${expected.toLocaleString('en-US')} tokens`);
  const text = await vsc.statusBarText(vs.page, /tokens/, { timeout: vsc.scaledMs(30000) });
  if (re.test(text)) return text;
  // Analysis may still be in flight for this file: poll the status bar until it settles.
  const t0 = Date.now();
  for (;;) {
    const t = await vsc.statusBarText(vs.page, /tokens/, { timeout: vsc.scaledMs(30000) });
    if (re.test(t)) return t;
    if (Date.now() - t0 > vsc.scaledMs(30000)) assert.fail(`${file}: status bar says "${t}", the CLI counts ${expected}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  // The 1 MB file exists before VS Code starts, so Quick Open's file index has it.
  const unit = fs.readFileSync(path.join(WS, 'code.ts'), 'utf8');
  fs.writeFileSync(path.join(WS, 'big.txt'), unit.repeat(Math.ceil(1_000_000 / unit.length)));
  const vsix = await hostPackage();
  testLog = path.join(vsc.paths.RUN_ROOT, `editor-log-${process.pid}.txt`);
  fs.mkdirSync(path.dirname(testLog), { recursive: true });
  fs.writeFileSync(testLog, '');
  vs = await vsc.startVSCode({ vsix, workspace: WS, name: 'editor', theme: 'Default Dark Modern', env: { TOKEN_INSPECTOR_TEST_LOG: testLog } });
  assertInstalledPackage(vs);
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
});

after(async () => {
  if (vs) await vs.stop();
});

test('status bar counts equal the CLI for emoji/CJK, BOM, mixed line endings and invalid UTF-8 (o200k_base)', async () => {
  for (const file of ['emoji-cjk.md', 'bom.txt', 'mixed-eol.txt', 'invalid-utf8.txt', 'code.ts']) {
    await vsc.openFile(vs.page, file);
    const expected = cliTokens(file, 'o200k_base').count;
    const shown = await waitForCount(expected, file);
    assert.match(shown, /o200k_base/);
  }
});

test('select Llama 3 from the palette; counts, BOS and hovers equal the CLI', async () => {
  await vsc.openFile(vs.page, 'emoji-cjk.md');
  const box = await openTokenizerPicker(vs.page);
  await box.fill('Llama 3.1');
  await vs.page.locator('.quick-input-list .monaco-list-row', { hasText: 'llama3' }).first().waitFor();
  await vs.page.keyboard.press('Enter');
  // The tokenizer setting changes the tokens: everything that shows them is refreshed, tokens first.
  await vsc.waitForFileText(testLog, 'configuration changed: tokenizer → tokenization, probabilities, decorations, statusBar, gauge, panel, sidebar', { timeout: vsc.scaledMs(15000) });
  const cliOut = cliTokens('emoji-cjk.md', 'llama3');
  const shown = await waitForCount(cliOut.count, 'emoji-cjk.md');
  assert.match(shown, /\+1 BOS/);
  assert.match(shown, /llama3/);

  // A whole-word token: "Parrots" starts a line.
  const text = fs.readFileSync(path.join(WS, 'emoji-cjk.md'), 'utf8');
  /** @param {number} utf16 */
  const at = (utf16) => cliOut.tokens.filter((t) => t.utf16[0] <= utf16 && utf16 < t.utf16[1]);
  const wordOffset = text.indexOf('Parrots');
  const wordTokens = at(wordOffset);
  assert.equal(wordTokens.length, 1);
  const hover = await vsc.hoverOnText(vs.page, 'Parrots', { charOffset: 0, marker: 'Token Inspector' });
  const row = hover.split('\n').find((l) => l.startsWith(`${cliOut.tokens.indexOf(wordTokens[0])}\t`));
  assert.ok(row, `hover has a row for token ${cliOut.tokens.indexOf(wordTokens[0])}: ${hover}`);
  const cells = row.split('\t');
  assert.equal(cells[1], String(wordTokens[0].id), 'the hover shows the CLI id');
  assert.equal(cells[2].trim(), wordTokens[0].text.replace(/ /g, '·'), 'the hover shows the CLI text');
  await vs.page.keyboard.press('Escape');

  // The parrot emoji is split by Llama 3 into byte tokens: hovering it shows each partial token.
  const parrot = text.indexOf('🦜');
  const parts = at(parrot);
  assert.ok(parts.length >= 2 && parts.every((t) => t.partial), 'the CLI splits 🦜 into partial tokens');
  const emojiHover = await vsc.hoverOnText(vs.page, '🦜', { marker: 'falls inside the character' });
  for (const t of parts) {
    assert.ok(emojiHover.includes(String(t.id)), `hover shows id ${t.id}`);
    assert.ok(emojiHover.includes(t.text), `hover shows bytes ${t.text}`);
  }
  assert.ok(emojiHover.includes('🦜'), 'the split tokens are shown together as the character');
  assert.ok(!emojiHover.includes('\uFFFD'), 'never U+FFFD');
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'hover-split-emoji-dark.png'));
  await vs.page.keyboard.press('Escape');
});

test('toggle boundaries removes and restores the decorations; light theme screenshot', async () => {
  await vsc.openFile(vs.page, 'code.ts');
  const SELECTOR = '.part.editor .monaco-editor [class*="ced-"]';
  const decorated = () => vs.page.evaluate((sel) => document.querySelectorAll(sel).length, SELECTOR);
  await vs.page.waitForFunction((sel) => document.querySelectorAll(sel).length > 0, SELECTOR, { timeout: vsc.scaledMs(30000) });
  const before = await decorated();
  assert.ok(before > 0, 'token decorations are drawn');
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'boundaries-dark.png'));
  await vsc.runCommand(vs.page, 'Token Inspector: Toggle Token Boundaries');
  /** @type {[string, number]} */
  const selectorAndCount = [SELECTOR, before];
  await vs.page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length < n, selectorAndCount, { timeout: vsc.scaledMs(15000) });
  // The toggle refreshes the decorations alone (no re-tokenization, status bar, panel or sidebar refresh).
  await vsc.waitForFileText(testLog, 'configuration changed: showBoundaries → decorations\n', { timeout: vsc.scaledMs(15000) });
  await vsc.runCommand(vs.page, 'Token Inspector: Toggle Token Boundaries');
  await vs.page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length >= n, selectorAndCount, { timeout: vsc.scaledMs(15000) });
  // The theme is a setting: VS Code restarts with it (the library's updateSettings), then the file reopens.
  await vsc.setTheme(vs, 'Default Light Modern');
  await vsc.openFile(vs.page, 'emoji-cjk.md');
  await vs.page.waitForFunction((sel) => document.querySelectorAll(sel).length > 0, SELECTOR, { timeout: vsc.scaledMs(30000) });
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'boundaries-light.png'));
});

test('typing in a 1 MB file: the count stays exact (incremental), and the host event-loop delay is reported', async () => {
  const big = path.join(WS, 'big.txt');
  await vsc.openFile(vs.page, 'big.txt');
  const tokenizer = must(/ · (\w+)$/.exec(await vsc.statusBarText(vs.page, /tokens/, { timeout: vsc.scaledMs(60000) })), 'the tokenizer in the status bar')[1];
  const before = cli(['tokenize', big, '--tokenizer', tokenizer, '--json']).count;
  await waitForCount(before, 'big.txt');
  fs.writeFileSync(testLog, '');
  // Type in the middle of the first screen: edits go to the worker as changes, not whole texts.
  await vs.page.locator('.part.editor .monaco-editor .view-line').nth(3).click();
  await vs.page.keyboard.press('End');
  await vs.page.keyboard.type(' // typed: naïve 🦜 text', { delay: 15 });
  await vs.page.keyboard.press('Control+S');
  // The CLI reads the file as saved.
  await vsc.waitForFileText(big, '// typed: naïve 🦜 text', { timeout: vsc.scaledMs(15000) });
  const after = cli(['tokenize', big, '--tokenizer', tokenizer, '--json']).count;
  assert.notEqual(after, before);
  await waitForCount(after, 'big.txt');
  const delays = fs.readFileSync(testLog, 'utf8').split('\n').filter((l) => l.includes('eventLoopDelay')).map((l) => Number(must(/max=([\d.]+)ms/.exec(l), `max= in ${l}`)[1]));
  const analyses = fs.readFileSync(testLog, 'utf8').split('\n').filter((l) => /analysis .*big\.txt/.test(l)).map((l) => Number(must(/ ([\d.]+)ms$/.exec(l), `the time in ${l}`)[1]));
  const report = { eventLoopDelayMaxMs: Math.max(...delays), workerMsPerEditMedian: analyses.sort((a, b) => a - b)[analyses.length >> 1], edits: analyses.length };
  vsc.log(`1 MB typing: ${JSON.stringify(report)}`);
  fs.writeFileSync(path.join(screenshotsDir(), '..', 'typing-report.json'), JSON.stringify(report, null, 2));
  assert.ok(analyses.length > 0, 'edits were analysed');
});
