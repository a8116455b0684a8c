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

function screenshotsDir() {
  const dir = path.join(REPO, '.e2e-run', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

module.exports = { REPO, stageExtension, cli, screenshotsDir, workspaceCopy };
