// @ts-check
'use strict';
// The workspace feature index in a real VS Code, on the fixture model (test/fixtures/tiny-gpt2) and the fixture
// ReLU SAE over a small workspace: Index Workspace Features builds it with progress (as many files and tokens
// as the CLI's `features-index`), Find Feature… finds a feature by index and opens the Feature tab with the
// contexts, frequency and logit effects of the CLI's `feature N`, a click on a context's token selects that
// token in its file, a search by selection ranks features, saving a file updates the index by that file, and the
// Features tab's ↗ link opens a feature there.
// The screenshot of the Feature tab is the README's (docs/images/feature-view.png).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsc = require('./lib/vscode');
const { REPO, hostPackage, assertInstalledPackage, cli, screenshotsDir, workspaceCopy } = require('./lib/project');

const WS = workspaceCopy('featindex');
const MODEL_ROOT = path.join(REPO, '.e2e-run', `featindex-model-${process.pid}`);
const MODEL = path.join(MODEL_ROOT, 'tiny-gpt2');
const SAE = path.join(REPO, 'test', 'fixtures', 'sae', 'saelens-standard');
const CLI_INDEX = path.join(REPO, '.e2e-run', `featindex-cli-${process.pid}.json`);
const QUICK_INPUT_BOX = '.quick-input-widget .quick-input-box input';
/** @type {import('./lib/vscode').Session} */
let vs;
/** @type {string} */
let testLog;

/**
 * @typedef {{ index: number, label: { text: string, source: string } | null, firingTokens: number, workspaceTokens: number,
 *   contexts: { path: string, utf16Start: number, utf16End: number, tokens: string[], focus: number, activation: number }[],
 *   logitEffects: { promoted: { text: string }[], suppressed: { text: string }[] } | null }} FeatureJson
 */

before(async () => {
  fs.rmSync(MODEL_ROOT, { recursive: true, force: true });
  fs.cpSync(path.join(REPO, 'test', 'fixtures', 'tiny-gpt2'), MODEL, { recursive: true });
  fs.writeFileSync(path.join(WS, 'sum.ts'), 'export function sum(items: number[]): number {\n  return items.reduce((a, b) => a + b, 0);\n}\n');
  const vsix = await hostPackage();
  testLog = path.join(vsc.paths.RUN_ROOT, `featindex-log-${process.pid}.txt`);
  fs.writeFileSync(testLog, '');
  vs = await vsc.startVSCode({
    vsix,
    workspace: WS,
    name: 'featindex',
    settings: { 'tokenInspector.featureModel': MODEL, 'tokenInspector.sae': SAE },
    env: { TOKEN_INSPECTOR_TEST_LOG: testLog },
    viewport: { width: 1600, height: 1100 },
  });
  assertInstalledPackage(vs);
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
});

after(async () => {
  if (vs) await vs.stop();
  fs.rmSync(MODEL_ROOT, { recursive: true, force: true });
  fs.rmSync(CLI_INDEX, { force: true });
});

/** The index's files and tokens as the extension logged them. */
function indexLine() {
  const lines = fs.readFileSync(testLog, 'utf8').split('\n').filter((l) => /feature index files=/.test(l));
  const m = /files=(\d+) tokens=(\d+) indexed=(\d+)/.exec(lines.at(-1) ?? '');
  assert.ok(m, 'a feature index line in the log');
  return { files: Number(m[1]), tokens: Number(m[2]), indexed: Number(m[3]) };
}

/**
 * Runs Find Feature… from the command palette and waits for its own quick pick (the harness's runCommand waits
 * for the palette to close, but this command opens the next quick pick at once).
 */
async function openFindFeature() {
  const title = 'Token Inspector: Find Feature…';
  await vs.page.evaluate(() => {
    const a = /** @type {HTMLElement | null} */ (document.activeElement);
    if (a && (a.tagName === 'IFRAME' || a.closest('.webview'))) a.blur();
  });
  await vs.page.keyboard.press('F1');
  const box = vs.page.locator(QUICK_INPUT_BOX);
  await box.waitFor({ state: 'visible', timeout: vsc.scaledMs(15000) });
  await box.fill(`>${title}`);
  await vsc.poll('the command row focused', () =>
    vs.page.evaluate((want) => {
      const row = document.querySelector('.quick-input-widget .quick-input-list .monaco-list-row.focused .label-name');
      return (row?.textContent ?? '').replace(/\u00a0/g, ' ').trim() === want || undefined;
    }, title),
  );
  await vs.page.keyboard.press('Enter');
  await vsc.poll('the Find Feature quick pick', () => vs.page.evaluate(() => (document.querySelector('.quick-input-widget .quick-input-title')?.textContent ?? '').startsWith('Find Feature') || undefined), { timeout: vsc.scaledMs(30000) });
}

/** Runs Find Feature… and picks the row labelled `#f` (typed as the search). @param {number} f */
async function findFeature(f) {
  await openFindFeature();
  const box = vs.page.locator(QUICK_INPUT_BOX);
  await box.fill(`#${f}`);
  await vsc.poll(`the row #${f} focused`, () =>
    vs.page.evaluate((want) => {
      const row = document.querySelector('.quick-input-widget .quick-input-list .monaco-list-row.focused .label-name');
      return (row?.textContent ?? '').replace(/\u00a0/g, ' ').trim() === want || undefined;
    }, `#${f}`),
  );
  await vs.page.keyboard.press('Enter');
}

test('Index Workspace Features: the index of the CLI, with progress', async () => {
  await vsc.runCommand(vs.page, 'Token Inspector: Index Workspace Features');
  await vsc.waitForFileText(testLog, /feature index files=\d+/, { timeout: vsc.scaledMs(180000) });
  // VS Code's default files.exclude (.git, .DS_Store, …) leaves nothing out of this workspace: the CLI's default.
  const expected = cli(['features-index', WS, '--model', MODEL, '--sae', SAE, '--out', CLI_INDEX, '--json']);
  const got = indexLine();
  assert.equal(got.files, expected.files, 'files indexed');
  assert.equal(got.tokens, expected.tokens, 'tokens indexed');
});

test('Find Feature… by index opens the Feature tab with the CLI’s contexts, frequency and logit effects; a context opens its file there', async () => {
  const summary = cli(['features-index', WS, '--model', MODEL, '--sae', SAE, '--out', CLI_INDEX, '--json']);
  const f = summary.features[0].index;
  /** @type {FeatureJson} */
  const want = cli(['feature', String(f), '--index', CLI_INDEX, '--json']);
  await findFeature(f);
  await vsc.waitForFileText(testLog, `feature view ${f} contexts=${want.contexts.length}`, { timeout: vsc.scaledMs(30000) });
  const panel = vsc.webviewFrame(vs.page, { view: 'panel' });
  const title = panel.locator(`#feature-title[data-feature="${f}"]`);
  await title.waitFor({ timeout: vsc.scaledMs(30000) });
  assert.equal(Number(await title.getAttribute('data-contexts')), want.contexts.length);
  assert.equal(Number(await title.getAttribute('data-firing')), want.firingTokens);
  // No labels file: the label is automatic, and says so.
  assert.equal(await panel.locator('#feature-label').getAttribute('data-source'), 'automatic');
  assert.match(await panel.locator('#feature-label').innerText(), /automatic label/);
  assert.equal(await panel.locator('#feature-contexts li').count(), want.contexts.length);
  const first = want.contexts[0];
  assert.equal(await panel.locator('#feature-contexts li').first().getAttribute('data-path'), first.path);
  const effects = /** @type {NonNullable<FeatureJson['logitEffects']>} */ (want.logitEffects);
  assert.equal(await panel.locator('#feature-promoted tbody tr').count(), effects.promoted.length);
  assert.match(await panel.locator('#feature-effects-note').innerText(), /division by the residual’s standard deviation/);
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'feature-view.png'));
  // The strongest context's token: a click opens its file with that token selected.
  await panel.locator('#feature-contexts li').first().locator('.chip[data-focus]').click();
  const text = fs.readFileSync(path.join(WS, first.path), 'utf8');
  const token = text.slice(first.utf16Start, first.utf16End);
  await vsc.waitForFileText(testLog, `feature context opened ${first.path}:${first.utf16Start}-${first.utf16End} selected=${JSON.stringify(token)}`, { timeout: vsc.scaledMs(15000) });
});

test('Find Feature… on a selection lists the features that fire most on it; saving a file updates the index by that file', async () => {
  await vsc.openFile(vs.page, 'sum.ts');
  await vs.page.keyboard.press('Control+A');
  await openFindFeature();
  await vsc.poll('the selection section', () => vs.page.evaluate(() => (document.querySelector('.quick-input-widget')?.textContent ?? '').includes('Firing most on the selection') || undefined));
  await vs.page.keyboard.press('Escape');
  // An edit saved: only that file is read through the model again.
  await vs.page.keyboard.press('End');
  await vs.page.keyboard.type('// saved\n');
  await vs.page.keyboard.press('Control+S');
  await vsc.waitForFileText(testLog, 'feature index update sum.ts indexed=1', { timeout: vsc.scaledMs(60000) });
});

test('the Features tab opens a feature across the workspace: its ↗ link shows the Feature tab on that feature', async () => {
  await vsc.openFile(vs.page, 'sum.ts');
  await vsc.runCommand(vs.page, 'Token Inspector: Show Features');
  await vsc.waitForFileText(testLog, /features .*sum\.ts v\d+ /, { timeout: vsc.scaledMs(120000) });
  const panel = vsc.webviewFrame(vs.page, { view: 'panel' });
  const link = panel.locator('#features-ranking tbody tr .workspace-link').first();
  await link.waitFor({ timeout: vsc.scaledMs(30000) });
  const f = Number(await link.getAttribute('data-workspace-feature'));
  await link.click();
  await panel.locator(`#feature-title[data-feature="${f}"]`).waitFor({ timeout: vsc.scaledMs(30000) });
});
