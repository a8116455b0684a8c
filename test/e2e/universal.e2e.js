// @ts-check
'use strict';
// The universal package in a real VS Code: it holds no native ONNX runtime, so models run on onnxruntime-web's
// WASM runtime from the package's dist/ort. Show Probabilities with the tiny GPT-2 fixture works, its hover
// log-prob equals the CLI's (native runtime) to the three decimals shown, and the status bar says once that
// the model runs on the slower WASM runtime.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsc = require('./lib/vscode');
const { REPO, universalPackage, assertInstalledPackage, cli, must, screenshotsDir, workspaceCopy } = require('./lib/project');

const WS = workspaceCopy('universal');
const MODEL = path.join(REPO, 'test', 'fixtures', 'tiny-gpt2');
/** @type {import('./lib/vscode').Session} */
let vs;
/** @type {string} */
let testLog;

before(async () => {
  const vsix = await universalPackage();
  testLog = path.join(vsc.paths.RUN_ROOT, `universal-log-${process.pid}.txt`);
  fs.writeFileSync(testLog, '');
  vs = await vsc.startVSCode({
    vsix,
    workspace: WS,
    name: 'universal',
    settings: { 'tokenInspector.showProbabilities': true, 'tokenInspector.probabilityModel': MODEL },
    env: { TOKEN_INSPECTOR_TEST_LOG: testLog },
    viewport: { width: 1600, height: 900 },
  });
  const ext = assertInstalledPackage(vs);
  assert.ok(!fs.existsSync(path.join(ext, 'dist', 'node_modules')), 'the universal package holds no native runtime');
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
});

after(async () => {
  if (vs) await vs.stop();
});

test('Show Probabilities on the WASM runtime: the hover log-prob equals the CLI\'s, and the status bar says the model runs on the slower WASM runtime', async () => {
  await vsc.openFile(vs.page, 'emoji-cjk.md');
  await vsc.waitForFileText(testLog, new RegExp(`scores .*emoji-cjk\\.md v\\d+ ${MODEL.replace(/[/.]/g, '\\$&')}`), { timeout: vsc.scaledMs(180000) });
  const runtime = must(/model runtime (\w+) (.*)$/m.exec(fs.readFileSync(testLog, 'utf8')), 'the model worker\'s runtime line');
  assert.equal(runtime[1], 'wasm');
  assert.equal(runtime[2], path.join(must(vs.extensionPath, 'the installed extension'), 'dist', 'ort'));
  assert.match(await vsc.statusBarText(vs.page, /slower WASM runtime/), /Token Inspector: the model runs on the slower WASM runtime \(universal package\)$/);

  /** @type {import('./lib/project').ScoreJson & { runtime: string }} */
  const scored = cli(['score', path.join(WS, 'emoji-cjk.md'), '--model', MODEL, '--json']);
  assert.equal(scored.runtime, 'onnxruntime-node', 'the reference is the native runtime');
  const text = fs.readFileSync(path.join(WS, 'emoji-cjk.md'), 'utf8');
  const byte = Buffer.byteLength(text.slice(0, text.indexOf('developers') + 3));
  const k = scored.tokens.findIndex((t) => t.bytes[0] <= byte && byte < t.bytes[1]);
  const hover = await vsc.hoverOnText(vs.page, 'developers', { charOffset: 3, marker: 'tiny-gpt2' });
  const row = hover.split('\n').find((l) => l.startsWith(`${k}\t`) && /bits/.test(l));
  assert.ok(row, `a probability row for token ${k}: ${hover}`);
  assert.equal(row.split('\t')[1], scored.tokens[k].logProb.toFixed(3), 'log-prob equals the CLI');
  await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'probabilities-wasm.png'));
  // Once: a second document scored does not say it again.
  await vsc.openFile(vs.page, 'code.ts');
  await vsc.waitForFileText(testLog, /scores .*code\.ts v\d+ /, { timeout: vsc.scaledMs(120000) });
  assert.equal(fs.readFileSync(testLog, 'utf8').match(/model runtime /g)?.length, 1, 'the runtime is announced once');
});
