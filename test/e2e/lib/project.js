'use strict';
// Project-specific helpers for the end-to-end tests: the staged extension, the CLI, where screenshots go.
const path = require('node:path');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

const REPO = path.resolve(__dirname, '..', '..', '..');

async function stageExtension() {
  const { stageExtension: stage } = await import(path.join(REPO, 'scripts', 'stage-extension.mjs'));
  return stage();
}

/** Runs the built CLI (dist/cli.js) and parses its JSON output. */
function cli(args) {
  return JSON.parse(execFileSync(process.execPath, [path.join(REPO, 'dist', 'cli.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 28 }));
}

/** A fresh copy of the sample workspace (tests change settings in it; the repo's copy stays clean). */
function workspaceCopy(name) {
  const dir = path.join(REPO, '.e2e-run', `ws-${name}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(path.join(REPO, 'sample-workspace'), dir, { recursive: true });
  return dir;
}

/**
 * Opens Token Inspector: Select Tokenizer from the palette by hand (the command opens a quick pick of its own)
 * and waits for its list; returns the quick input's box.
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

function screenshotsDir() {
  const dir = path.join(REPO, '.e2e-run', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

module.exports = { REPO, stageExtension, cli, openTokenizerPicker, screenshotsDir, workspaceCopy };
