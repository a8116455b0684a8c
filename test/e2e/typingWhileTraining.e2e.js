// @ts-check
'use strict';
// Keystroke to decoration while the workspace n-gram trains, in a real VS Code: typing must not wait for a
// workspace job. Each keystroke is timed from the moment the test sends it to the moment the extension logs
// new decorations for a version that includes it (`decorated <uri> v<N>` in TOKEN_INSPECTOR_TEST_LOG; both
// clocks are this machine's Date.now()), and from the extension host's edit event (`edit <uri> v<N>`) to the
// same decorations, which leaves out the browser and code-server's transport. The same keystrokes are timed
// with nothing else running, for scale.
// Figures go to the log and to .e2e-run/typing-while-training.json (the README quotes them).
// Runs the package built for this machine; TI_E2E_EXTENSION_DIR runs an unpacked build instead (another
// checkout's `npm run build && node scripts/stage-extension.mjs`, to compare builds in alternation).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vsc = require('./lib/vscode');
const { REPO, hostPackage, assertInstalledPackage, must, workspaceCopy } = require('./lib/project');

const WS = workspaceCopy('typing-training');
const FILE = 'notes.txt';
/** Between keystrokes: a fast typist. */
const GAP_MS = 120;
/** @type {import('./lib/vscode').Session} */
let vs;
/** @type {string} */
let testLog;

/**
 * A corpus the workspace n-gram takes seconds to train on: 45 generated modules of 1,500 lines (about 7 MB,
 * past the trainer's 2M-token budget, so training also runs its final pruning and smoothing).
 * @param {string} dir
 */
function writeCorpus(dir) {
  fs.mkdirSync(dir, { recursive: true });
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const words = ['value', 'count', 'index', 'token', 'buffer', 'offset', 'length', 'result', 'state', 'cache', 'model', 'stream', 'vocab', 'merge', 'piece', 'window'];
  for (let f = 0; f < 45; f++) {
    const lines = [];
    for (let i = 0; i < 1500; i++) {
      const a = words[Math.floor(rnd() * 16)];
      const b = words[Math.floor(rnd() * 16)];
      lines.push(`export function ${a}${f}_${i}(${b}${i % 13}: number): number { return ${b}${i % 13} * ${Math.floor(rnd() * 100000)} + ${a}Offset; } // ${a} ${b} ${Math.floor(rnd() * 1e6).toString(36)}`);
    }
    fs.writeFileSync(path.join(dir, `module${f}.ts`), lines.join('\n') + '\n');
  }
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The test log's `decorated` (or `edit`) lines for FILE. @returns {{ ms: number, version: number }[]} */
function logged(what = 'decorated') {
  const re = new RegExp(`^(\\d+) ${what} \\S+/notes\\.txt v(\\d+)$`);
  return fs
    .readFileSync(testLog, 'utf8')
    .split('\n')
    .map((l) => re.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ ms: Number(m[1]), version: Number(m[2]) }));
}
const decorations = () => logged('decorated');

/** When the first line matching `re` was logged. @param {RegExp} re */
function logTime(re) {
  const line = fs.readFileSync(testLog, 'utf8').split('\n').find((l) => re.test(l));
  return line ? Number(line.split(' ')[0]) : undefined;
}

/** @param {number[]} xs */
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  /** @param {number} p */
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, medianMs: q(0.5), p90Ms: q(0.9), maxMs: s[s.length - 1] };
}

/**
 * Types one character every GAP_MS while `more()` says so (at most `max`), then waits for the decorations of
 * the last version; returns each keystroke's send time and latency to the first decoration that includes it.
 * @param {() => boolean} more
 * @param {number} max
 * @returns {Promise<{ sentMs: number, latencyMs: number, fromEditMs: number }[]>}
 */
async function typeTimed(more, max) {
  const start = Math.max(...decorations().map((d) => d.version));
  /** @type {{ ms: number, version: number }[]} */
  const sent = [];
  while (sent.length < max && more()) {
    const ms = Date.now();
    await vs.page.keyboard.type(String.fromCharCode(97 + (sent.length % 26)));
    sent.push({ ms, version: start + sent.length + 1 });
    await sleep(GAP_MS);
  }
  const last = start + sent.length;
  await vsc.poll(`decorations of v${last}`, () => decorations().some((d) => d.version >= last), { timeout: vsc.scaledMs(120000) });
  const drawn = decorations();
  const edits = logged('edit');
  return sent.map((k) => {
    const first = must(drawn.find((d) => d.version >= k.version && d.ms >= k.ms), `the decorations of v${k.version}`);
    const edit = must(edits.find((e) => e.version === k.version), `the host's edit event of v${k.version}`);
    return { sentMs: k.ms, latencyMs: first.ms - k.ms, fromEditMs: first.ms - edit.ms };
  });
}

before(async () => {
  writeCorpus(path.join(WS, 'corpus'));
  fs.writeFileSync(path.join(WS, FILE), Array.from({ length: 200 }, (_, i) => `line ${i}: plain words to type after`).join('\n') + '\n');
  const extensionDir = process.env.TI_E2E_EXTENSION_DIR;
  const vsix = extensionDir ? undefined : await hostPackage();
  testLog = path.join(vsc.paths.RUN_ROOT, `typing-training-log-${process.pid}.txt`);
  fs.mkdirSync(path.dirname(testLog), { recursive: true });
  fs.writeFileSync(testLog, '');
  vs = await vsc.startVSCode({ ...(extensionDir ? { extensionDir } : { vsix }), workspace: WS, name: 'typing-training', env: { TOKEN_INSPECTOR_TEST_LOG: testLog } });
  if (vsix) assertInstalledPackage(vs);
  await vsc.waitForFileText(testLog, 'activated', { timeout: vsc.scaledMs(60000) });
});

after(async () => {
  if (vs) await vs.stop();
});

test('keystroke to decoration, idle and while the workspace n-gram trains', { timeout: 600000 }, async () => {
  await vsc.openFile(vs.page, FILE);
  await vsc.waitForFileText(testLog, /decorated \S+\/notes\.txt v1$/m, { timeout: vsc.scaledMs(60000) });
  await vs.page.locator('.part.editor .monaco-editor .view-line').nth(3).click();
  await vs.page.keyboard.press('End');

  const idle = await typeTimed(() => true, 25);

  // Training: the command sends one retrain request; keystrokes sent before its end count.
  /** @type {{ sentMs: number, latencyMs: number, fromEditMs: number }[]} */
  const during = [];
  /** @type {number[]} */
  const trainings = [];
  for (let round = 0; round < 3 && during.length < 30; round++) {
    fs.appendFileSync(testLog, `${Date.now()} test: retrain ${round}\n`);
    const t0 = Date.now();
    await vsc.runCommand(vs.page, 'Token Inspector: Retrain Workspace Model');
    const done = () => {
      const all = fs.readFileSync(testLog, 'utf8').split('\n');
      const mark = all.findIndex((l) => l.endsWith(`test: retrain ${round}`));
      return all.slice(mark).find((l) => / retrained: /.test(l));
    };
    const typed = await typeTimed(() => !done(), 120);
    await vsc.poll('training to finish', () => done(), { timeout: vsc.scaledMs(300000) });
    const t1 = Number(must(done(), 'the retrained line').split(' ')[0]);
    trainings.push(t1 - t0);
    during.push(...typed.filter((k) => k.sentMs < t1));
  }
  assert.ok(logTime(/ retrained: /), 'the workspace model was trained');
  assert.ok(during.length >= 10, `keystrokes were typed while the model trained (${during.length})`);

  const report = {
    idle: stats(idle.map((k) => k.latencyMs)),
    whileTraining: stats(during.map((k) => k.latencyMs)),
    editToDecorationIdle: stats(idle.map((k) => k.fromEditMs)),
    editToDecorationWhileTraining: stats(during.map((k) => k.fromEditMs)),
    trainingMs: trainings,
    gapMs: GAP_MS,
  };
  vsc.log(`keystroke to decoration: ${JSON.stringify(report)}`);
  fs.writeFileSync(path.join(REPO, '.e2e-run', 'typing-while-training.json'), JSON.stringify(report, null, 2));
});
