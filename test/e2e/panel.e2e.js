// @ts-check
'use strict';
// The panel and the sidebar in a real VS Code (code-server): counts equal the CLI's, a click on a chip moves
// the editor selection, Compare's relative costs equal the CLI's, language premiums render, the webview's
// Content-Security-Policy blocks an inline script, and screenshots for the README.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsc = require('./lib/vscode');
const { hostPackage, assertInstalledPackage, cli, must, screenshotsDir, workspaceCopy } = require('./lib/project');

const WS = workspaceCopy('panel');
/** @type {import('./lib/vscode').Session} */
let vs;
/** @type {string} */
let testLog;
/** @type {import('playwright-core').FrameLocator} */
let panel;

before(async () => {
  const vsix = await hostPackage();
  testLog = path.join(vsc.paths.RUN_ROOT, `panel-log-${process.pid}.txt`);
  fs.writeFileSync(testLog, '');
  vs = await vsc.startVSCode({ vsix, workspace: WS, name: 'panel', theme: 'Default Dark Modern', env: { TOKEN_INSPECTOR_TEST_LOG: testLog }, viewport: { width: 1600, height: 900 } });
  assertInstalledPackage(vs);
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
  await vsc.openFile(vs.page, 'code.ts');
  await vsc.statusBarText(vs.page, /\d tokens/, { timeout: vsc.scaledMs(30000) });
  await vsc.runCommand(vs.page, 'Token Inspector: Show Panel');
  panel = vsc.webviewFrame(vs.page, { view: 'panel' });
});

after(async () => {
  if (vs) await vs.stop();
});

test('the panel shows the document as chips with the CLI count; a click selects that token in the editor', async () => {
  /** @type {import('./lib/project').TokenizeJson} */
  const expected = cli(['tokenize', path.join(WS, 'code.ts'), '--tokenizer', 'o200k_base', '--json']);
  const info = panel.locator('#doc-info');
  await info.waitFor({ timeout: vsc.scaledMs(30000) });
  await vs.page.waitForFunction(() => true);
  await panel.locator(`#doc-info[data-count="${expected.count}"]`).waitFor({ timeout: vsc.scaledMs(30000) });
  // Click the chip of the token "fibonacci" in `export function fibonacci(`.
  const k = expected.tokens.findIndex((t) => t.text.trim() === 'fibonacci');
  assert.ok(k > 0, 'the CLI has a token "fibonacci"');
  await panel.locator(`.chip[data-i="${k}"]`).click();
  await vs.page
    .waitForFunction(() => /Ln 2, Col (1[6-9]|2\d)/.test(/** @type {HTMLElement | null} */ (document.querySelector('.part.statusbar'))?.innerText ?? ''), null, { timeout: vsc.scaledMs(15000) })
    .catch(async (e) => {
      // Say what the extension heard of the click and what the status bar shows, so a failure explains itself.
      const bar = await vs.page.locator('.part.statusbar').innerText().catch(() => '(no status bar)');
      throw new Error(`${e.message}\nstatus bar: ${bar.replace(/\s+/g, ' ')}\nextension log:\n${vsc.tail(testLog, 15)}`);
    });
  const sel = await vsc.statusBarText(vs.page, /Ln \d+, Col \d+/);
  const t = expected.tokens[k];
  // The token " fibonacci" spans UTF-16 [16, 26) on line 2 (0-based offsets 16..26 from the line start at 74?).
  assert.match(sel, /\(\d+ selected\)/, `the editor selection covers the token: ${sel}`);
  assert.ok(sel.includes(`(${t.utf16[1] - t.utf16[0]} selected)`), `selection length equals the token's: ${sel}`);
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'panel-tokens.png'));
});

test('Compare shows relative costs equal to the CLI', async () => {
  await vs.page.keyboard.press('Escape');
  await vsc.runCommand(vs.page, 'Token Inspector: Compare Tokenizers');
  await panel.locator('#compare-run').click();
  const table = panel.locator('#compare-table');
  await table.waitFor({ timeout: vsc.scaledMs(60000) });
  const expected = cli(['compare', path.join(WS, 'code.ts'), '--tokenizers', 'o200k_base,cl100k_base,llama3,qwen3,gemma3,deepseek_v3,mistral,gpt2', '--reference', 'o200k_base', '--json']);
  for (const row of expected.tokenizers) {
    const shown = (await table.locator(`tr[data-tokenizer="${row.tokenizer}"] td.relative-cost`).innerText()).trim();
    assert.equal(shown, `${row.relativeCost.toFixed(3)}×`, `${row.tokenizer}`);
    const count = (await table.locator(`tr[data-tokenizer="${row.tokenizer}"] td.count`).innerText()).trim();
    assert.equal(count, row.count.toLocaleString('en-US'));
  }
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'panel-compare.png'));
});

test('Language premiums: Burmese costs far more than English under gpt2', async () => {
  await vsc.runCommand(vs.page, 'Token Inspector: Show Language Premiums');
  await panel.locator('#premiums-run').click();
  const table = panel.locator('#premiums-table');
  await table.waitFor({ timeout: vsc.scaledMs(120000) });
  const eng = (await table.locator('tr[data-language="eng"] td.premium[data-tokenizer="gpt2"]').first().innerText()).trim();
  const mya = Number((await table.locator('tr[data-language="mya"] td.premium[data-tokenizer="gpt2"]').first().innerText()).trim());
  const myaO200k = Number((await table.locator('tr[data-language="mya"] td.premium[data-tokenizer="o200k_base"]').first().innerText()).trim());
  assert.equal(eng, '1.00');
  assert.ok(mya > 3, `Burmese premium under gpt2 is ${mya}`);
  assert.ok(myaO200k < mya, 'o200k_base is cheaper for Burmese than gpt2');
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'panel-premiums.png'));
});

test("the webview's Content-Security-Policy has a nonce and blocks an inline script", async () => {
  const csp = must(await panel.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content'), 'the CSP meta tag');
  assert.match(csp, /script-src 'nonce-[A-Za-z0-9+/=]+'/);
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*(?!\.vscode-cdn\.net)/);
  // Only VS Code's own resource origin (cspSource) and data: images: no other host.
  assert.deepEqual([...new Set(csp.match(/https?:\/\/[^\s;]+/g))], ['https://*.vscode-cdn.net']);
  const ran = await panel.locator('body').evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.__injected = 1;';
    document.body.append(s);
    await new Promise((r) => setTimeout(r, 200));
    return /** @type {Window & { __injected?: number }} */ (window).__injected === 1;
  });
  assert.equal(ran, false, 'an inline script without the nonce must not run');
});

test('the sidebar shows the tokenizer, counts and relative-cost bars', async () => {
  await vsc.runCommand(vs.page, 'Token Inspector: Focus on Tokens View');
  const side = vsc.webviewFrame(vs.page, { view: 'sidebar' });
  await side.locator('#document-count').waitFor({ timeout: vsc.scaledMs(30000) });
  await side.locator('.cost-row[data-tokenizer="gpt2"]').waitFor({ timeout: vsc.scaledMs(60000) });
  const expected = cli(['tokenize', path.join(WS, 'code.ts'), '--tokenizer', 'o200k_base', '--json']);
  await side.locator('#document-count', { hasText: expected.count.toLocaleString('en-US') }).waitFor({ timeout: vsc.scaledMs(30000) });
  const gpt2 = cli(['compare', path.join(WS, 'code.ts'), '--tokenizers', 'gpt2', '--json']).tokenizers[0];
  assert.equal((await side.locator('.cost-row[data-tokenizer="gpt2"] .num').innerText()).trim(), `${gpt2.relativeCost.toFixed(2)}×`);
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'sidebar.png'));
});
