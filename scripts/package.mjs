// `npm run package`: a production build, then one .vsix per platform onnxruntime-node ships binaries for
// (`vsce package --target …`, each with only its own binaries) and a universal .vsix whose models run on
// onnxruntime-web's WASM runtime, in out/packages/. Prints each package's size; fails if one reaches 50 MB.
//
//   node scripts/package.mjs [--target linux-x64 --target universal …] [--no-build]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, sourceFingerprint, stageExtension, TARGETS, UNIVERSAL } from './stage-extension.mjs';

export const PACKAGES_DIR = join(ROOT, 'out', 'packages');
/** The size every package must stay under (the Marketplace and users' downloads). */
export const MAX_PACKAGE_BYTES = 50 * 1024 * 1024;
const BUILD_INFO = join(PACKAGES_DIR, 'build-info.json');
const VSCE = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');

function version() {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
}

/** out/packages/token-inspector-<target>-<version>.vsix */
export function packagePath(target) {
  return join(PACKAGES_DIR, `token-inspector-${target}-${version()}.vsix`);
}

/** The fingerprint and targets of the last packaging (see sourceFingerprint), or undefined. */
export function lastBuild() {
  try {
    return JSON.parse(readFileSync(BUILD_INFO, 'utf8'));
  } catch {
    return undefined;
  }
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Builds (unless `build` is false) and packages `targets`; returns [{target, file, bytes, files}]. */
export function packageExtension({ targets = TARGETS, build = true, log = console.log } = {}) {
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t}; one of ${TARGETS.join(', ')}`);
  const fingerprint = sourceFingerprint();
  if (build) run(process.execPath, ['esbuild.mjs', '--production'], ROOT);
  mkdirSync(PACKAGES_DIR, { recursive: true });
  const results = [];
  for (const target of targets) {
    const t0 = Date.now();
    const stage = stageExtension({ target, dir: join(ROOT, 'out', 'stage', target) });
    const file = packagePath(target);
    rmSync(file, { force: true });
    const out = run(process.execPath, [VSCE, 'package', '--no-dependencies', ...(target === UNIVERSAL ? [] : ['--target', target]),
      '--baseContentUrl', 'https://example.invalid/token-inspector/', '--baseImagesUrl', 'https://example.invalid/token-inspector/', '--out', file], stage);
    for (const line of out.split('\n')) if (/WARNING/.test(line)) log(`  vsce: ${line.trim()}`);
    const files = Number(/\((\d+) files?,/.exec(out)?.[1] ?? NaN);
    results.push({ target, file, bytes: statSync(file).size, files });
    rmSync(stage, { recursive: true, force: true });
    log(`  ${target.padEnd(13)} ${(statSync(file).size / 2 ** 20).toFixed(2).padStart(6)} MB  ${String(files).padStart(4)} files  ${file} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  rmSync(join(ROOT, 'out', 'stage'), { recursive: true, force: true });
  const previous = lastBuild();
  const built = previous?.fingerprint === fingerprint ? new Set([...previous.targets, ...targets]) : new Set(targets);
  writeFileSync(BUILD_INFO, JSON.stringify({ fingerprint, version: version(), targets: [...built] }, null, 2) + '\n');
  const over = results.filter((r) => r.bytes >= MAX_PACKAGE_BYTES);
  if (over.length) throw new Error(`${over.map((r) => `${r.target} is ${(r.bytes / 2 ** 20).toFixed(2)} MB`).join(', ')}: every package must stay under ${MAX_PACKAGE_BYTES / 2 ** 20} MB`);
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const targets = args.flatMap((a, i) => (a === '--target' ? [args[i + 1]] : a.startsWith('--target=') ? [a.slice(9)] : []));
  try {
    console.log(`Packaging ${targets.length ? targets.join(', ') : 'every target'} (vsce package):`);
    packageExtension({ targets: targets.length ? targets : TARGETS, build: !args.includes('--no-build') });
  } catch (e) {
    console.error(`package: ${e.message}`);
    process.exit(1);
  }
}
