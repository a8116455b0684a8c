// @ts-check
'use strict';
// Project-specific helpers for the end-to-end tests: the staged extension, the CLI, where screenshots go.
const path = require('node:path');
const fs = require('node:fs');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');

const REPO = path.resolve(__dirname, '..', '..', '..');

/** Builds the folder VS Code loads the extension from (scripts/stage-extension.mjs); returns its path. @returns {Promise<string>} */
async function stageExtension() {
  const { stageExtension: stage } = await import(path.join(REPO, 'scripts', 'stage-extension.mjs'));
  return stage();
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

module.exports = { REPO, stageExtension, cli, must, openTokenizerPicker, screenshotsDir, workspaceCopy };
