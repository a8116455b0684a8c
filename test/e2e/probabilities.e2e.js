// @ts-check
'use strict';
// Probabilities in a real VS Code, with the package for this machine installed: the workspace n-gram colours
// tokens, the hover's log-prob equals the CLI's `score`, the Next byte view's top byte at a cursor inside a word
// equals the CLI's `next-bytes`; then an ONNX model (the tiny GPT-2 fixture) on the package's own native
// runtime, its hover log-prob and its Next byte view equal to the CLI's.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsc = require('./lib/vscode');
const { hostPackage, assertInstalledPackage, cli, must, screenshotsDir, workspaceCopy } = require('./lib/project');

const WS = workspaceCopy('prob');

/**
 * A probability as the views show it (src/core/lm/formatProbability.ts, written again here from its rule):
 * one decimal from 10 %, two from 0.1 %, else two significant digits.
 * @param {number} p
 */
function shownPercent(p) {
  if (p <= 0) return '0%';
  if (p >= 0.1) return `${(p * 100).toFixed(1)}%`;
  if (p >= 0.001) return `${(p * 100).toFixed(2)}%`;
  if (p < 1e-6) return '<0.0001%';
  return `${(p * 100).toFixed(1 - Math.floor(Math.log10(p * 100)))}%`;
}
/** @type {import('./lib/vscode').Session} */
let vs;
/** @type {string} */
let testLog;

before(async () => {
  const vsix = await hostPackage();
  testLog = path.join(vsc.paths.RUN_ROOT, `prob-log-${process.pid}.txt`);
  fs.writeFileSync(testLog, '');
  vs = await vsc.startVSCode({ vsix, workspace: WS, name: 'prob', settings: { 'tokenInspector.showProbabilities': true }, env: { TOKEN_INSPECTOR_TEST_LOG: testLog }, viewport: { width: 1600, height: 900 } });
  assertInstalledPackage(vs);
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
});

after(async () => {
  if (vs) await vs.stop();
});

test('the hover shows the workspace model\'s log-prob for a token, equal to the CLI', async () => {
  await vsc.openFile(vs.page, 'code.ts');
  await vsc.waitForFileText(testLog, /scores .*code\.ts/, { timeout: vsc.scaledMs(90000) });
  /** @type {import('./lib/project').ScoreJson} */
  const scored = cli(['score', path.join(WS, 'code.ts'), '--model', 'workspace-ngram', '--workspace', WS, '--tokenizer', 'o200k_base', '--json']);
  const text = fs.readFileSync(path.join(WS, 'code.ts'), 'utf8');
  const at = text.indexOf('fibonacci');
  const k = scored.tokens.findIndex((t) => t.bytes[0] <= Buffer.byteLength(text.slice(0, at)) && Buffer.byteLength(text.slice(0, at)) < t.bytes[1]);
  assert.ok(k >= 0);
  const hover = await vsc.hoverOnText(vs.page, 'fibonacci', { charOffset: 2, marker: 'workspace-ngram' });
  const row = hover.split('\n').find((l) => l.startsWith(`${k}\t`) && /bits/.test(l));
  assert.ok(row, `a probability row for token ${k}: ${hover}`);
  assert.equal(row.split('\t')[1], scored.tokens[k].logProb.toFixed(3), 'log-prob equals the CLI');
  assert.equal(Number(row.split('\t')[4]), scored.tokens[k].rank, 'rank equals the CLI');
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'probabilities.png'));
  await vs.page.keyboard.press('Escape');
});

test('Show Next Byte: the top byte inside a word equals the CLI', async () => {
  const text = fs.readFileSync(path.join(WS, 'code.ts'), 'utf8');
  // Put the cursor inside "fibonacci" on line 2 (after "fibo").
  const line = text.split('\n')[1];
  const col = line.indexOf('fibonacci') + 4;
  const offset = text.indexOf('\n') + 1 + col;
  await vs.page.locator('.part.editor .monaco-editor .view-lines').first().click();
  await vs.page.keyboard.press('Control+G');
  const box = vs.page.locator('.quick-input-widget .quick-input-box input');
  await box.waitFor({ state: 'visible' });
  await box.fill(`:2:${col + 1}`);
  await vs.page.keyboard.press('Enter');
  await vsc.statusBarText(vs.page, new RegExp(`Ln 2, Col ${col + 1}\\b`));
  await vsc.runCommand(vs.page, 'Token Inspector: Show Next Byte');
  const panel = vsc.webviewFrame(vs.page, { view: 'panel' });
  const table = panel.locator('#nextbyte-table');
  await table.waitFor({ timeout: vsc.scaledMs(60000) });
  const expected = cli(['next-bytes', path.join(WS, 'code.ts'), '--offset', String(offset), '--model', 'workspace-ngram', '--workspace', WS, '--tokenizer', 'o200k_base', '--json']);
  let best = 0;
  for (let b = 1; b < 257; b++) if (expected.distribution[b] > expected.distribution[best]) best = b;
  const topRow = table.locator('tbody tr').first();
  assert.equal(await topRow.getAttribute('data-byte'), String(best), 'the most probable next byte');
  assert.equal((await topRow.locator('td.exact').innerText()).trim(), shownPercent(expected.distribution[best]));
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'next-byte.png'));
});

test('the panel shades each character by its surprisal', async () => {
  await vsc.runCommand(vs.page, 'Token Inspector: Show Panel');
  const panel = vsc.webviewFrame(vs.page, { view: 'panel' });
  const box = panel.locator('#surprisal-box:not([disabled])');
  await box.waitFor({ timeout: vsc.scaledMs(30000) });
  await box.click();
  const ch = panel.locator('.chip .char').first();
  await ch.waitFor({ timeout: vsc.scaledMs(15000) });
  assert.match(must(await ch.getAttribute('title'), 'the character\'s title'), /^\d+\.\d\d bits$/);
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'panel-surprisal.png'));
});

test('an ONNX model (the tiny GPT-2 fixture) on the package\'s native runtime: the hover log-prob equals the CLI\'s score --model PATH', async () => {
  const model = path.join(vsc.paths.REPO_DIR, 'test', 'fixtures', 'tiny-gpt2');
  // A setting: VS Code restarts with it (the library's updateSettings); the extension activates again.
  fs.writeFileSync(testLog, '');
  await vs.updateSettings({ 'tokenInspector.probabilityModel': model });
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
  await vsc.openFile(vs.page, 'emoji-cjk.md');
  await vsc.waitForFileText(testLog, new RegExp(`scores .*emoji-cjk\\.md v\\d+ ${model.replace(/[/.]/g, '\\$&')}`), { timeout: vsc.scaledMs(120000) });
  /** @type {import('./lib/project').ScoreJson} */
  const scored = cli(['score', path.join(WS, 'emoji-cjk.md'), '--model', model, '--json']);
  const text = fs.readFileSync(path.join(WS, 'emoji-cjk.md'), 'utf8');
  const byte = Buffer.byteLength(text.slice(0, text.indexOf('developers') + 3));
  const k = scored.tokens.findIndex((t) => t.bytes[0] <= byte && byte < t.bytes[1]);
  const hover = await vsc.hoverOnText(vs.page, 'developers', { charOffset: 3, marker: 'tiny-gpt2' });
  const row = hover.split('\n').find((l) => l.startsWith(`${k}\t`) && /bits/.test(l));
  assert.ok(row, `a probability row for token ${k}: ${hover}`);
  assert.equal(row.split('\t')[1], scored.tokens[k].logProb.toFixed(3), 'log-prob equals the CLI');
  // The model ran on the native runtime the package carries for this platform, not on one from the source tree.
  const runtime = must(/model runtime (\w+) (.*)$/m.exec(fs.readFileSync(testLog, 'utf8')), 'the model worker\'s runtime line');
  assert.equal(runtime[1], 'native');
  assert.equal(runtime[2], path.join(must(vs.extensionPath, 'the installed extension'), 'dist', 'node_modules', 'onnxruntime-node'));
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'probabilities-onnx.png'));
});

test('Show Next Byte with the ONNX model (after the test above set it): the top byte inside a word equals the CLI\'s next-bytes --model PATH', async () => {
  const model = path.join(vsc.paths.REPO_DIR, 'test', 'fixtures', 'tiny-gpt2');
  const file = path.join(WS, 'emoji-cjk.md');
  const text = fs.readFileSync(file, 'utf8');
  const offset = text.indexOf('developers') + 4;
  const before = text.slice(0, offset).split('\n');
  const line = before.length;
  // Go to Line takes UTF-16 columns; the status bar shows characters (the line has an emoji before the word).
  const col = before[before.length - 1].length + 1;
  const shownCol = [...before[before.length - 1]].length + 1;
  await vsc.openFile(vs.page, 'emoji-cjk.md');
  await vs.page.locator('.part.editor .monaco-editor .view-lines').first().click();
  await vs.page.keyboard.press('Control+G');
  const box = vs.page.locator('.quick-input-widget .quick-input-box input');
  await box.waitFor({ state: 'visible' });
  await box.fill(`:${line}:${col}`);
  await vs.page.keyboard.press('Enter');
  await vsc.statusBarText(vs.page, new RegExp(`Ln ${line}, Col ${shownCol}\\b`));
  await vsc.runCommand(vs.page, 'Token Inspector: Show Next Byte');
  const panel = vsc.webviewFrame(vs.page, { view: 'panel' });
  await vsc.waitForFileText(testLog, new RegExp(`nextByte offset=${offset} `), { timeout: vsc.scaledMs(120000) });
  const table = panel.locator('#nextbyte-table');
  await table.waitFor({ timeout: vsc.scaledMs(30000) });
  const expected = cli(['next-bytes', file, '--offset', String(offset), '--model', model, '--json']);
  let best = 0;
  for (let b = 1; b < 257; b++) if (expected.distribution[b] > expected.distribution[best]) best = b;
  const topRow = table.locator('tbody tr').first();
  assert.equal(await topRow.getAttribute('data-byte'), String(best), 'the most probable next byte');
  assert.equal((await topRow.locator('td.exact').innerText()).trim(), shownPercent(expected.distribution[best]));
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'next-byte-onnx.png'));
});
