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

/**
 * A local OpenAI-style completions endpoint (token ids in, `token_id:N` alternatives out, as vLLM with
 * return_tokens_as_token_ids): a bigram over the document's own o200k tokens, 70 % on the tokens that follow
 * the prompt's last token in the document, then 1 % each on other ids up to 20 alternatives; the rest of the
 * mass is never named (the view must say how much). Echo requests (the probabilities view's scoring) are
 * answered too.
 * @param {number[]} docIds
 * @param {number} startId the start context the client sends (o200k's <|endoftext|>)
 */
async function startFakeEndpoint(docIds, startId) {
  const http = require('node:http');
  const seq = [startId, ...docIds];
  /** @param {number} last @returns {[number, number][]} */
  const alternatives = (last) => {
    /** @type {Map<number, number>} */
    const p = new Map();
    const followers = seq.flatMap((id, i) => (id === last && i + 1 < seq.length ? [seq[i + 1]] : []));
    for (const f of followers) p.set(f, (p.get(f) ?? 0) + 0.7 / followers.length);
    for (let j = 1; p.size < 20; j++) {
      const id = (last * 7919 + j * 104729) % 199997;
      if (!p.has(id)) p.set(id, 0.01);
    }
    return [...p].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 20);
  };
  /** @param {[number, number][]} alts */
  const top = (alts) => Object.fromEntries(alts.map(([id, q]) => [`token_id:${id}`, Math.log(q)]));
  let requests = 0;
  const server = http.createServer(async (req, res) => {
    /** @param {number} status @param {unknown} body */
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/v1/models') return send(200, { data: [{ id: 'fake' }] });
    let raw = '';
    for await (const chunk of req) raw += chunk;
    requests++;
    const body = JSON.parse(raw);
    /** @type {number[][]} */
    const prompts = Array.isArray(body.prompt[0]) ? body.prompt : [body.prompt];
    const choices = prompts.map((prompt, index) => {
      const alts = alternatives(prompt[prompt.length - 1]);
      if (!body.echo) return { index, text: '', logprobs: { tokens: [`token_id:${alts[0][0]}`], token_logprobs: [Math.log(alts[0][1])], top_logprobs: [top(alts)] } };
      const tokens = [...prompt, alts[0][0]].map((id) => `token_id:${id}`);
      /** @type {(number | null)[]} */
      const lps = [null];
      /** @type {(Record<string, number> | null)[]} */
      const tops = [null];
      for (let i = 1; i <= prompt.length; i++) {
        const a = alternatives(i < prompt.length ? prompt[i - 1] : prompt[prompt.length - 1]);
        const want = i < prompt.length ? prompt[i] : alts[0][0];
        lps.push(Math.log(a.find(([id]) => id === want)?.[1] ?? 1e-4));
        tops.push(top(a.slice(0, body.logprobs)));
      }
      return { index, text: '', logprobs: { tokens, token_logprobs: lps, top_logprobs: tops } };
    });
    send(200, { object: 'text_completion', choices });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { url: `http://127.0.0.1:${address.port}`, server, requests: () => requests };
}

/** The built CLI, without blocking this process (the fake endpoint it asks runs here). @param {string[]} args */
async function cliAsync(args) {
  const { execFile } = require('node:child_process');
  const stdout = await new Promise((resolve, reject) =>
    execFile(process.execPath, [path.join(vsc.paths.REPO_DIR, 'dist', 'cli.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 28 }, (e, out, err) => (e ? reject(new Error(`${e.message}\n${err}`)) : resolve(out))),
  );
  return JSON.parse(/** @type {string} */ (stdout));
}

test('Show Next Byte with a remote endpoint (a local fake, top-20 only): the top byte equals the CLI\'s next-bytes --model remote, and the view says what is approximate', async () => {
  const file = path.join(WS, 'code.ts');
  const tokens = cli(['tokenize', file, '--tokenizer', 'o200k_base', '--json']).tokens;
  const fake = await startFakeEndpoint(tokens.map((/** @type {{ id: number }} */ t) => t.id), 199999);
  try {
    fs.writeFileSync(testLog, '');
    await vs.updateSettings({ 'tokenInspector.probabilityModel': 'remote', 'tokenInspector.remoteEndpoint': { url: `${fake.url}/v1/completions`, model: 'fake' }, 'tokenInspector.tokenizer': 'o200k_base' });
    await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
    const text = fs.readFileSync(file, 'utf8');
    const line = text.split('\n')[1];
    const col = line.indexOf('fibonacci') + 4;
    const offset = text.indexOf('\n') + 1 + col;
    await vsc.openFile(vs.page, 'code.ts');
    await vs.page.locator('.part.editor .monaco-editor .view-lines').first().click();
    await vs.page.keyboard.press('Control+G');
    const box = vs.page.locator('.quick-input-widget .quick-input-box input');
    await box.waitFor({ state: 'visible' });
    await box.fill(`:2:${col + 1}`);
    await vs.page.keyboard.press('Enter');
    await vsc.statusBarText(vs.page, new RegExp(`Ln 2, Col ${col + 1}\\b`));
    await vsc.runCommand(vs.page, 'Token Inspector: Show Next Byte');
    await vsc.waitForFileText(testLog, new RegExp(`nextByte offset=${offset} `), { timeout: vsc.scaledMs(120000) });
    const panel = vsc.webviewFrame(vs.page, { view: 'panel' });
    const table = panel.locator('#nextbyte-table');
    await table.waitFor({ timeout: vsc.scaledMs(30000) });
    const asked = fake.requests();
    const expected = await cliAsync(['next-bytes', file, '--offset', String(offset), '--model', 'remote', '--endpoint', `${fake.url}/v1`, '--endpoint-model', 'fake', '--tokenizer', 'o200k_base', '--json']);
    assert.ok(asked > 0 && fake.requests() > asked, 'the view and the CLI both asked the endpoint');
    assert.equal(expected.exact, false);
    assert.ok(expected.topKOnly.maxMissingMass > 0.05, `missing mass ${expected.topKOnly.maxMissingMass}`);
    let best = 0;
    for (let b = 1; b < 257; b++) if (expected.distribution[b] > expected.distribution[best]) best = b;
    const topRow = table.locator('tbody tr').first();
    assert.equal(await topRow.getAttribute('data-byte'), String(best), 'the most probable next byte');
    assert.equal((await topRow.locator('td.exact').innerText()).trim(), shownPercent(expected.distribution[best]));
    const note = (await panel.locator('#nextbyte-approx').innerText()).trim();
    assert.match(note, /^Approximate: top-20 only\./);
    assert.ok(note.includes(`Mass outside the top 20: up to ${shownPercent(expected.topKOnly.maxMissingMass)} `), note);
    await vsc.screenshot(vs.page, path.join(screenshotsDir(), 'next-byte-remote.png'));
  } finally {
    fake.server.closeAllConnections();
    await new Promise((r) => fake.server.close(() => r(undefined)));
  }
});
