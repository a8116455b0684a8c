// @ts-check
'use strict';
// Project-specific helpers for the end-to-end tests: the packages under test, the CLI, where screenshots go.
const path = require('node:path');
const fs = require('node:fs');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { pathToFileURL } = require('node:url');

const REPO = path.resolve(__dirname, '..', '..', '..');

/**
 * scripts/package.mjs and scripts/stage-extension.mjs, as the tests use them.
 * @typedef {{ packageExtension: (o: { targets: string[], log?: (line: string) => void }) => unknown,
 *   packagePath: (target: string) => string, lastBuild: () => { fingerprint: string, targets: string[] } | undefined,
 *   MAX_PACKAGE_BYTES: number }} PackageScript
 * @typedef {{ TARGETS: string[], UNIVERSAL: string, NATIVE_TARGETS: Record<string, string[]>, WASM_FILES: string[],
 *   RUNTIME_MODULES: string, hostTarget: () => string, sourceFingerprint: () => string }} PackageLayout
 */

/** @returns {Promise<PackageScript>} */
function packageScript() {
  return import(pathToFileURL(path.join(REPO, 'scripts', 'package.mjs')).href);
}

/** @returns {Promise<PackageLayout>} */
function packageLayout() {
  return import(pathToFileURL(path.join(REPO, 'scripts', 'stage-extension.mjs')).href);
}

/**
 * The .vsix of `target` (scripts/package.mjs), built now when the sources changed since the last packaging
 * (or it was never built). The tests install it into a fresh profile as users do.
 * @param {string} target
 */
async function packageFor(target) {
  const { packageExtension, packagePath, lastBuild } = await packageScript();
  const { sourceFingerprint } = await packageLayout();
  const file = packagePath(target);
  const fresh = () => {
    const last = lastBuild();
    return fs.existsSync(file) && !!last && last.fingerprint === sourceFingerprint() && last.targets.includes(target);
  };
  if (fresh()) return file;
  // One packaging at a time (test files may run in parallel); the others wait for it, then find it fresh.
  const lock = path.join(REPO, 'out', 'packages.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (const end = Date.now() + 20 * 60_000; ; ) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > end) throw new Error(`${lock} is still held after 20 minutes; remove it if no packaging runs`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    if (!fresh()) {
      console.log(`[e2e] packaging ${target} (the sources changed since the last npm run package)`);
      packageExtension({ targets: [target], log: (l) => console.log(`[e2e] ${l}`) });
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
  return file;
}

/** The package built for this machine (a platform package where onnxruntime-node has binaries). */
async function hostPackage() {
  return packageFor((await packageLayout()).hostTarget());
}

/** The universal package (models on the WASM runtime). */
function universalPackage() {
  return packageFor('universal');
}

/**
 * Checks that the extension VS Code runs is the installed package: its folder is under the run's extensions
 * folder (not the source tree), and it holds no sources or source maps. Returns its folder.
 * @param {import('./vscode').Session} vs
 */
function assertInstalledPackage(vs) {
  const ext = vs.extensionPath;
  assert.ok(ext && ext.startsWith(vs.dirs.extensions + path.sep), `the extension is not installed in the run's profile: ${ext}`);
  assert.ok(!fs.existsSync(path.join(ext, 'src')) && !fs.readdirSync(path.join(ext, 'dist')).some((f) => f.endsWith('.map')), `${ext} holds sources or source maps: it is not the package`);
  return ext;
}

/**
 * What the tests read of the CLI's JSON output (each a subset of the command's fields).
 * @typedef {{ id: number, text: string, bytes: [number, number], utf16: [number, number], partial: boolean }} CliToken
 * @typedef {{ count: number, tokens: CliToken[] }} TokenizeJson  `tokenize FILE --json`
 * @typedef {{ tokens: { id: number, bytes: [number, number], logProb: number, rank: number }[] }} ScoreJson  `score FILE --json`
 * @typedef {{ index: number, label?: string, activation: number }} CliFeature
 * @typedef {{ id: number, added: boolean, bytes: [number, number], active: number, selected: number, features: CliFeature[] }} CliFeatureToken
 * @typedef {{ tokens: CliFeatureToken[], summary: { topFeatures: (CliFeature & { activeTokens: number })[], selected: number, active: number },
 *   warnings: string[] }} FeaturesJson  `features FILE --json`
 */

/**
 * Runs the built CLI (dist/cli.js) and parses its JSON output (JSON.parse's value: a test that passes a field
 * to a callback names the output's type, above).
 * @param {string[]} args
 */
function cli(args) {
  return JSON.parse(execFileSync(process.execPath, [path.join(REPO, 'dist', 'cli.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 28 }));
}

/** A fresh copy of the sample workspace (tests change settings in it; the repo's copy stays clean). @param {string} name */
function workspaceCopy(name) {
  const dir = path.join(REPO, '.e2e-run', `ws-${name}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(path.join(REPO, 'sample-workspace'), dir, { recursive: true });
  return dir;
}

/**
 * Opens Token Inspector: Select Tokenizer from the palette by hand (the command opens a quick pick of its own)
 * and waits for its list; returns the quick input's box.
 * @param {import('playwright-core').Page} page
 * @param {{ timeout?: number }} [options]
 */
async function openTokenizerPicker(page, { timeout } = {}) {
  await page.keyboard.press('F1');
  const box = page.locator('.quick-input-widget .quick-input-box input');
  await box.waitFor({ state: 'visible' });
  await box.fill('>Token Inspector: Select Tokenizer');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Token Inspector: Select Tokenizer' }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'OpenAI o200k_base' }).first().waitFor({ timeout });
  return box;
}

/**
 * The value, or a failed assertion saying what was missing (a regex match, an attribute the test needs).
 * @template T
 * @param {T | null | undefined} value
 * @param {string} what
 * @returns {T}
 */
function must(value, what) {
  assert.ok(value !== null && value !== undefined, `${what} is missing`);
  return value;
}

function screenshotsDir() {
  const dir = path.join(REPO, '.e2e-run', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

module.exports = { REPO, hostPackage, universalPackage, packageFor, packageScript, packageLayout, assertInstalledPackage, cli, must, openTokenizerPicker, screenshotsDir, workspaceCopy };
