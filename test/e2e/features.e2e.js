// @ts-check
'use strict';
// SAE features in a real VS Code, on the fixture model (test/fixtures/tiny-gpt2) and a fixture TopK SAE that
// reads its blocks.1.hook_mlp_out: Show Features fills the panel (token count and top feature = the CLI's
// `features`), the hover lists a token's features as the CLI does, and choosing a feature paints it across
// the document in the editor and the panel.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsc = require('./lib/vscode');
const { REPO, hostPackage, assertInstalledPackage, cli, must, screenshotsDir, workspaceCopy } = require('./lib/project');

const WS = workspaceCopy('features');
// The model is copied (reading hidden states writes a tap graph next to it), under its own name.
const MODEL_ROOT = path.join(REPO, '.e2e-run', `features-model-${process.pid}`);
const MODEL = path.join(MODEL_ROOT, 'tiny-gpt2');
const SAE = path.join(REPO, 'test', 'fixtures', 'sae', 'saelens-topk');
const LABELS = path.join(REPO, 'test', 'fixtures', 'sae', 'labels', 'plain.json');
const FILE = 'features.txt';
const TEXT = 'The quick brown fox jumps over the lazy dog.\nThe dog sleeps; the fox runs away into the forest.\n';
/** @type {import('./lib/vscode').Session} */
let vs;
/** @type {string} */
let testLog;
/** @type {import('./lib/project').FeaturesJson} */
let expected;

before(async () => {
  fs.rmSync(MODEL_ROOT, { recursive: true, force: true });
  fs.cpSync(path.join(REPO, 'test', 'fixtures', 'tiny-gpt2'), MODEL, { recursive: true });
  fs.writeFileSync(path.join(WS, FILE), TEXT);
  const vsix = await hostPackage();
  testLog = path.join(vsc.paths.RUN_ROOT, `features-log-${process.pid}.txt`);
  fs.writeFileSync(testLog, '');
  vs = await vsc.startVSCode({
    vsix,
    workspace: WS,
    name: 'features',
    settings: { 'tokenInspector.featureModel': MODEL, 'tokenInspector.sae': SAE, 'tokenInspector.saeLabels': LABELS },
    env: { TOKEN_INSPECTOR_TEST_LOG: testLog },
    viewport: { width: 1600, height: 900 },
  });
  assertInstalledPackage(vs);
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
  expected = cli(['features', path.join(WS, FILE), '--model', MODEL, '--sae', SAE, '--labels', LABELS, '--json']);
});

after(async () => {
  if (vs) await vs.stop();
  fs.rmSync(MODEL_ROOT, { recursive: true, force: true });
});

test('Show Features: the panel lists the document\'s features as the CLI computes them', async () => {
  await vsc.openFile(vs.page, FILE);
  await vsc.runCommand(vs.page, 'Token Inspector: Show Features');
  await vsc.waitForFileText(testLog, /features .*features\.txt v\d+ topk tokens=/, { timeout: vsc.scaledMs(120000) });
  const panel = vsc.webviewFrame(vs.page, { view: 'panel' });
  const info = panel.locator('#features-info[data-tokens]');
  await info.waitFor({ timeout: vsc.scaledMs(30000) });
  assert.equal(Number(await info.getAttribute('data-tokens')), expected.tokens.length, 'tokens, BOS included, as the CLI');
  assert.equal(await info.getAttribute('data-encoder'), 'topk');
  const firstRow = panel.locator('#features-ranking tbody tr').first();
  assert.equal(Number(await firstRow.getAttribute('data-feature')), expected.summary.topFeatures[0].index, 'the top feature by total activation');
  const active = expected.tokens.reduce((s, t) => s + t.active, 0);
  assert.equal(Number(await info.getAttribute('data-active')), active, 'active features in all, as the CLI');
});

test('the hover shows a token\'s top features, equal to the CLI', async () => {
  const utf8 = Buffer.from(TEXT);
  const at = utf8.indexOf('brown');
  const row = expected.tokens.findIndex((t) => !t.added && t.bytes[0] <= at && at < t.bytes[1]);
  assert.ok(row >= 0);
  const top = expected.tokens[row].features[0];
  const hover = await vsc.hoverOnText(vs.page, 'brown', { charOffset: 2, marker: 'SAE features' });
  assert.match(hover, new RegExp(`Token ${row} \\(id ${expected.tokens[row].id}\\): ${expected.tokens[row].active} active of ${expected.tokens[row].selected} selected`));
  const name = top.label ? `${top.label} (#${top.index})` : `#${top.index}`;
  const line = hover.split('\n').find((l) => l.includes(name));
  assert.ok(line, `the top feature ${name} in the hover: ${hover}`);
  assert.ok(line.includes(top.activation.toFixed(3)), `its activation ${top.activation.toFixed(3)}: ${line}`);
  await vs.page.keyboard.press('Escape');
});

test('choosing a feature paints it across the document, in the panel and the editor', async () => {
  const panel = vsc.webviewFrame(vs.page, { view: 'panel' });
  const f = expected.summary.topFeatures[0];
  await panel.locator(`#features-ranking tbody tr[data-feature="${f.index}"]`).click();
  await vsc.waitForFileText(testLog, `feature highlight ${f.index}`, { timeout: vsc.scaledMs(15000) });
  await panel.locator(`#features-ranking tr.mine[data-feature="${f.index}"]`).waitFor({ timeout: vsc.scaledMs(15000) });
  // The panel window holds every token of this short document (the BOS row included).
  await vsc.poll('heat chips', async () => (await panel.locator('#features-tokens .chip[data-heat]').count()) === f.activeTokens || undefined, { timeout: vsc.scaledMs(15000) });
  // The editor: decoration rules with the heat colour, applied to as many tokens as fired (outside BOS).
  const painted = await vsc.poll(
    'heat decorations in the editor',
    () =>
      vs.page.evaluate(() => {
        const classes = [];
        for (const sheet of document.styleSheets) {
          let rules;
          try {
            rules = sheet.cssRules;
          } catch {
            continue;
          }
          for (const r of /** @type {Iterable<CSSStyleRule>} */ (rules)) if (r.selectorText && /rgba\(230, 120, 20/.test(r.cssText)) classes.push(r.selectorText);
        }
        let n = 0;
        for (const sel of classes) {
          try {
            for (const e of document.querySelectorAll(sel)) if (e.closest('.part.editor')) n++;
          } catch {
            /* selectors monaco writes may not all be valid here */
          }
        }
        return n > 0 ? n : undefined;
      }),
    { timeout: vsc.scaledMs(15000) },
  );
  assert.ok(painted !== undefined && painted >= 1, 'heat decorations in the editor');
});

test('Mutual Choice from the panel: k·n features shared by the whole document, as many per token as the CLI gives', async () => {
  const panel = vsc.webviewFrame(vs.page, { view: 'panel' });
  // The chooser offers what the setting offers (both read the encoder table), each kind with its description.
  /** @type {{ enum: string[], enumDescriptions: string[] }} */
  const setting = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).contributes.configuration.properties['tokenInspector.saeEncoder'];
  const options = await panel.locator('#features-encoder vscode-option').evaluateAll((os) => os.map((o) => ({ value: o.getAttribute('value'), description: o.getAttribute('description') })));
  assert.deepEqual(options, setting.enum.map((value, i) => ({ value, description: setting.enumDescriptions[i] })));
  await panel.locator('#features-encoder').click();
  await panel.locator('#features-encoder').getByText('Mutual Choice (k·n in all)', { exact: true }).last().click();
  await panel.locator('#features-k').locator('input').fill('4');
  await panel.locator('#features-run').click();
  await vsc.waitForFileText(testLog, /features .*features\.txt v\d+ mutual-choice tokens=/, { timeout: vsc.scaledMs(60000) });
  const info = panel.locator('#features-info[data-encoder="mutual-choice"]');
  await info.waitFor({ timeout: vsc.scaledMs(15000) });
  /** @type {import('./lib/project').FeaturesJson} */
  const mc = cli(['features', path.join(WS, FILE), '--model', MODEL, '--sae', SAE, '--encoder', 'mutual-choice', '--k', '4', '--json']);
  assert.equal(mc.summary.selected, 4 * mc.tokens.length, 'exactly k·n entries in all');
  assert.equal(Number(await info.getAttribute('data-active')), mc.summary.active);
  const perToken = new Set(mc.tokens.map((t) => t.selected));
  assert.ok(perToken.size > 1, 'tokens get different numbers of features');
  assert.deepEqual(mc.warnings, [], 'the fixture SAE names this model');
  // The current token's detail says how many it got.
  const detail = panel.locator('#features-token-info');
  const row = Number(must((await detail.locator('xpath=..').locator('h3').innerText()).match(/Token (\d+)/), 'Token N in the detail heading')[1]);
  assert.equal(Number(await detail.getAttribute('data-selected')), mc.tokens[row].selected);
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'features.png'));
});
