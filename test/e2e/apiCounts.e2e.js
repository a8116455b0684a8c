// @ts-check
'use strict';
// Counts as the API sees them, in a real VS Code: the context-window gauge, Count as Chat Message for a
// selection (equal to the CLI's `count --as-chat`), and Count Tokens in Folder from the explorer's context
// menu (equal to the CLI's `count DIR`, with ignored and binary files skipped).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsc = require('./lib/vscode');
const { hostPackage, assertInstalledPackage, cli, screenshotsDir, workspaceCopy } = require('./lib/project');

const WS = workspaceCopy('api');
/** @type {import('./lib/vscode').Session} */
let vs;
/** @type {string} */
let testLog;

before(async () => {
  // A folder with a .gitignore'd file and a binary file.
  const docs = path.join(WS, 'docs');
  fs.mkdirSync(docs);
  fs.writeFileSync(path.join(docs, 'guide.md'), '# Guide\n\nTokens cost money. 東京 🦜\n');
  fs.writeFileSync(path.join(docs, 'notes.txt'), 'Some notes.\n'.repeat(20));
  fs.writeFileSync(path.join(docs, 'secret.log'), 'ignored by .gitignore\n');
  fs.writeFileSync(path.join(docs, '.gitignore'), '*.log\n');
  fs.writeFileSync(path.join(docs, 'image.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1, 2, 3]));
  const vsix = await hostPackage();
  testLog = path.join(vsc.paths.RUN_ROOT, `api-log-${process.pid}.txt`);
  fs.writeFileSync(testLog, '');
  vs = await vsc.startVSCode({ vsix, workspace: WS, name: 'api', env: { TOKEN_INSPECTOR_TEST_LOG: testLog } });
  assertInstalledPackage(vs);
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
});

after(async () => {
  if (vs) await vs.stop();
});

test('the gauge shows the share of GPT-4o\'s context window; Count as Chat Message equals the CLI', async () => {
  await vsc.openFile(vs.page, 'code.ts');
  const gauge = await vsc.statusBarText(vs.page, /% of 128k · GPT-4o/, { timeout: vsc.scaledMs(30000) });
  assert.match(gauge, /<1% of 128k · GPT-4o/);
  // Select the whole document and count it as a user message.
  await vs.page.locator('.part.editor .monaco-editor .view-lines').first().click();
  await vs.page.keyboard.press('Control+A');
  await vs.page.keyboard.press('F1');
  const box = vs.page.locator('.quick-input-widget .quick-input-box input');
  await box.fill('>Token Inspector: Count as Chat Message');
  await vs.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Token Inspector: Count as Chat Message' }).first().waitFor();
  await vs.page.keyboard.press('Enter');
  await vs.page.locator('.quick-input-list .monaco-list-row', { hasText: 'user' }).first().waitFor();
  await vs.page.keyboard.press('Enter');
  const expected = cli(['count', path.join(WS, 'code.ts'), '--model', 'gpt-4o', '--as-chat', '--json']).total;
  const toast = vs.page.locator('.notifications-toasts .notification-list-item-message', { hasText: 'as a user message for GPT-4o' }).first();
  await toast.waitFor({ timeout: vsc.scaledMs(30000) });
  const text = await toast.innerText();
  assert.ok(text.includes(`${expected.tokens} tokens (${expected.contentTokens} content + ${expected.templateTokens} template)`), text);
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'chat-count.png'));
});

test('Count Tokens in Folder from the explorer skips ignored and binary files and equals the CLI', async () => {
  // Clear the chat-count notification first; a context menu can close under a moving toast, so try twice.
  await vs.page.keyboard.press('Escape');
  await vsc.runCommand(vs.page, 'Notifications: Clear All Notifications').catch(() => undefined);
  const row = vs.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'docs' }).first();
  await row.waitFor({ timeout: vsc.scaledMs(15000) });
  let line;
  for (let attempt = 0; attempt < 2 && !line; attempt++) {
    await row.click({ button: 'right' });
    const item = vs.page.locator('.context-view .action-item', { hasText: 'Count Tokens in Folder' }).first();
    await item.waitFor({ timeout: vsc.scaledMs(15000) });
    // The menu fades in; a click during the animation can be lost.
    await vs.page.waitForTimeout(vsc.scaledMs(500));
    await item.click();
    line = await vsc.waitForFileText(testLog, /folder .*docs files=/, { timeout: vsc.scaledMs(attempt ? 60000 : 20000) }).catch((e) => (attempt ? Promise.reject(e) : undefined));
  }
  const expected = cli(['count', path.join(WS, 'docs'), '--tokenizer', 'o200k_base', '--json']).total;
  const logLine = fs.readFileSync(testLog, 'utf8').split('\n').find((l) => / folder .*docs files=/.test(l));
  assert.ok(logLine, String(line));
  assert.match(logLine, new RegExp(`files=${expected.files} binary=1 ignored=1 `));
  assert.match(logLine, new RegExp(`"o200k_base":${expected.tokens}\\b`));
  await vs.page.locator('.part.editor .monaco-editor .view-lines', { hasText: 'Tokens in' }).first().waitFor({ timeout: vsc.scaledMs(15000) });
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'folder-count.png'));
});
