// @ts-check
'use strict';
// Self-test of the e2e library (lib/vscode.js): builds a throwaway probe extension, starts a real
// VS Code (code-server) with it, and exercises every helper.
// Run: bash scripts/setup-e2e.sh && node --test test/e2e/selftest.harness.js
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const vsc = require('./lib/vscode');

const PROBE_JS = `
const vscode = require('vscode');
const fs = require('fs');
const MARK = process.env.E2E_PROBE_MARKER;
const mark = (s) => { if (MARK) fs.appendFileSync(MARK, Date.now() + ' ' + s + '\\n'); };
function activate(context) {
  let runs = 0;
  const item = vscode.window.createStatusBarItem('probeStatus', vscode.StatusBarAlignment.Right, 1000);
  item.text = 'Probe: ready';
  item.show();
  context.subscriptions.push(item);
  context.subscriptions.push(vscode.commands.registerCommand('e2eProbe.writeMarker', () => {
    runs++;
    item.text = 'Probe: ran ' + runs;
    mark('command ' + runs + ' node=' + process.version);
  }));
  context.subscriptions.push(vscode.commands.registerCommand('e2eProbe.showPanel', () => {
    const panel = vscode.window.createWebviewPanel('e2eProbe', 'E2E Probe Panel', vscode.ViewColumn.Beside, {});
    panel.webview.html = '<!DOCTYPE html><html><body><h1 id="probe">PROBE_PANEL_OK</h1></body></html>';
    mark('panel');
  }));
  context.subscriptions.push(vscode.commands.registerCommand('e2eProbe.showSidebar', () =>
    vscode.commands.executeCommand('e2eProbe.sidebar.focus')));
  context.subscriptions.push(vscode.window.registerWebviewViewProvider('e2eProbe.sidebar', {
    resolveWebviewView(view) {
      view.webview.html = '<!DOCTYPE html><html><body><div id="side">PROBE_SIDEBAR_OK</div></body></html>';
      mark('sidebar');
    },
  }));
  context.subscriptions.push(vscode.languages.registerHoverProvider({ scheme: 'file' }, {
    provideHover(document, position) {
      const r = document.getWordRangeAtPosition(position);
      if (!r) return;
      const w = document.getText(r);
      const ch = document.lineAt(position.line).text.charAt(position.character);
      mark('hover ' + w);
      return new vscode.Hover('PROBE_HOVER word=' + w + ' char=' + ch + ' file=' + document.uri.path.split('/').pop());
    },
  }));
  mark('activated');
}
module.exports = { activate, deactivate() {} };
`;

const PROBE_PKG = {
  name: 'probe', displayName: 'E2E Probe', publisher: 'e2e-probe', version: '0.0.1', license: 'MIT',
  engines: { vscode: '^1.80.0' }, main: './extension.js', activationEvents: ['onStartupFinished'],
  contributes: {
    commands: [
      { command: 'e2eProbe.writeMarker', title: 'E2E Probe: Write Marker' },
      { command: 'e2eProbe.showPanel', title: 'E2E Probe: Show Panel' },
      { command: 'e2eProbe.showSidebar', title: 'E2E Probe: Show Sidebar' },
    ],
    viewsContainers: { activitybar: [{ id: 'e2eProbe', title: 'E2E Probe', icon: 'icon.svg' }] },
    views: { e2eProbe: [{ type: 'webview', id: 'e2eProbe.sidebar', name: 'Probe Tokens' }] },
  },
};

const ICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"><circle cx="12" cy="12" r="8" fill="currentColor"/></svg>';

describe('e2e library self-test (real VS Code via code-server)', { timeout: 240000 }, () => {
  /** @type {string} */
  let tmp;
  /** @type {string} */
  let marker;
  /** @type {import('./lib/vscode').Session} */
  let vs;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-selftest-'));
    const ext = path.join(tmp, 'probe-ext');
    const ws = path.join(tmp, 'workspace');
    fs.mkdirSync(ext, { recursive: true });
    fs.mkdirSync(path.join(ws, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(ext, 'package.json'), JSON.stringify(PROBE_PKG, null, 2));
    fs.writeFileSync(path.join(ext, 'extension.js'), PROBE_JS);
    fs.writeFileSync(path.join(ext, 'icon.svg'), ICON_SVG);
    fs.writeFileSync(path.join(ws, 'sample.txt'), 'the quick brown fox jumps over the lazy dog\nsecond line: quick again\nemoji \u{1F600} tokens here\nfar right:' + ' '.repeat(400) + 'faraway\n');
    fs.writeFileSync(path.join(ws, 'sub', 'sample.txt'), 'nested file with zebra words\n');
    marker = path.join(tmp, 'marker.log');
    vs = await vsc.startVSCode({
      name: 'selftest', extensionDir: ext, workspace: ws, theme: 'Default Light Modern',
      env: { E2E_PROBE_MARKER: marker },
    });
  });

  after(async () => {
    if (vs) {
      const pid = vs._csPid;
      await vs.stop();
      let alive = true;
      try { process.kill(-pid, 0); } catch { alive = false; }
      assert.equal(alive, false, 'code-server process group still alive after stop()');
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('starts VS Code and activates the probe on Node 24', async () => {
    assert.ok(vs.port > 0);
    assert.match(vs.runDir, /\.e2e-run[\\/]selftest-\d+-\d+$/);
    assert.equal(vs.extensionId, 'e2e-probe.probe');
    assert.ok(fs.existsSync(path.join(vs.runDir, 'extensions', 'e2e-probe.probe-0.0.1', 'extension.js')));
    await vsc.waitForFileText(marker, 'activated', { timeout: 60000 });
    const settings = JSON.parse(fs.readFileSync(vs.settingsFile, 'utf8'));
    assert.equal(settings['workbench.colorTheme'], 'Light Modern'); // 'Default Light Modern' in VS Code < 1.139
    assert.equal(settings['security.workspace.trust.enabled'], false);
    assert.ok(await vs.page.locator('.monaco-workbench.vs').count(), 'light theme applied');
  });

  it('opens files with quick open (root and sub folder)', async () => {
    await vsc.openFile(vs.page, 'sub/sample.txt');
    await vsc.waitForEditorText(vs.page, 'zebra words');
    await vsc.openFile(vs.page, 'sample.txt');
    await vsc.waitForEditorText(vs.page, 'quick brown fox');
  });

  it('hovers words and characters', async () => {
    const h1 = await vsc.hoverOnText(vs.page, 'quick', { marker: 'PROBE_HOVER' });
    assert.match(h1, /PROBE_HOVER word=quick char=\w file=sample\.txt/);
    const h2 = await vsc.hoverOnText(vs.page, 'brown', { charOffset: 3, marker: 'PROBE_HOVER' });
    assert.match(h2, /word=brown char=w/);
    const h3 = await vsc.hoverOnText(vs.page, 'quick', { occurrence: 1, charOffset: 0, marker: 'PROBE_HOVER' });
    assert.match(h3, /word=quick char=q/);
    // charOffset counts UTF-16 units of the match: the emoji takes 2, the space 1, so 3 is the 't' of 'tokens'
    const h5 = await vsc.hoverOnText(vs.page, '\u{1F600} tokens', { charOffset: 3, marker: 'PROBE_HOVER' });
    assert.match(h5, /word=tokens char=t/);
    // same spot twice in a row must still return a fresh hover
    const h4 = await vsc.hoverOnText(vs.page, 'quick', { occurrence: 1, charOffset: 0, marker: /word=quick/ });
    assert.match(h4, /word=quick char=q/);
    await vsc.screenshot(vs.page, 'hover.png');
  });

  it('runs a command from the palette and reads the status bar', async () => {
    assert.equal(await vsc.statusBarText(vs.page, 'probeStatus'), 'Probe: ready');
    await vsc.runCommand(vs.page, 'E2E Probe: Write Marker');
    const m = await vsc.waitForFileText(marker, /command 1 node=v24\./);
    assert.match(m, /command 1/);
    assert.equal(await vsc.statusBarText(vs.page, /^Probe: ran \d+$/), 'Probe: ran 1');
    assert.equal(await vsc.statusBarText(vs.page, 'e2e-probe.probe.probeStatus'), 'Probe: ran 1');
  });

  it('reads webview panel and sidebar content', async () => {
    await vsc.runCommand(vs.page, 'E2E Probe: Show Panel');
    const panel = vsc.webviewFrame(vs.page, { view: 'panel' });
    assert.equal(await panel.locator('#probe').innerText({ timeout: 20000 }), 'PROBE_PANEL_OK');
    await vsc.runCommand(vs.page, 'E2E Probe: Show Sidebar');
    const side = vsc.webviewFrame(vs.page, { view: 'sidebar', extensionId: 'e2e-probe.probe' });
    assert.equal(await side.locator('#side').innerText({ timeout: 20000 }), 'PROBE_SIDEBAR_OK');
    await vsc.screenshot(vs.page, 'webviews-light.png');
  });

  it('reports text out of view; changes settings (by a restart), switches the theme and takes a screenshot', async () => {
    await vsc.openFile(vs.page, 'sample.txt');
    // 'faraway' is past the editor's right edge (400 spaces in): a clear error, not a wrong hover
    await assert.rejects(vsc.hoverOnText(vs.page, 'faraway', { marker: 'PROBE_HOVER', timeout: 2000 }), /is not visible/);
    const before = vs.page;
    await vsc.updateSettings(vs.page, { 'editor.fontSize': 19, 'git.enabled': undefined });
    assert.notEqual(vs.page, before, 'a new page after the restart');
    const onDisk = JSON.parse(fs.readFileSync(vs.settingsFile, 'utf8'));
    assert.equal(onDisk['editor.fontSize'], 19);
    assert.ok(!('git.enabled' in onDisk));
    await vsc.waitForFileText(marker, /activated[\s\S]*activated/, { timeout: vsc.scaledMs(60000) });
    await vsc.openFile(vs.page, 'sample.txt');
    await vs.page.waitForFunction(() => {
      const l = document.querySelector('.part.editor .monaco-editor .view-line');
      return l && getComputedStyle(l).fontSize === '19px';
    }, null, { timeout: 10000 });
    await vs.setTheme('Default Dark Modern'); // 'Dark Modern' in VS Code 1.139
    assert.ok(await vs.page.locator('.monaco-workbench.vs-dark').count(), 'dark theme applied');
    assert.equal(JSON.parse(fs.readFileSync(vs.settingsFile, 'utf8'))['workbench.colorTheme'], 'Dark Modern');
    await vsc.openFile(vs.page, 'sample.txt');
    const h = await vsc.hoverOnText(vs.page, 'second', { marker: 'PROBE_HOVER' });
    assert.match(h, /word=second/);
    const file = await vsc.screenshot(vs.page, 'dark.png');
    assert.ok(fs.statSync(file).size > 10000, 'screenshot written');
  });
});
