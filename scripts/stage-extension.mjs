// What goes into the extension, in one place: `npm start` stages it for this machine (out/extension), and
// `npm run package` (scripts/package.mjs) stages it per target and zips each stage with vsce.
//
// Every package holds package.json, README.md, LICENSE, NOTICE.md, media/ and the built dist/ (no source maps;
// dist/tokenizers only the compact .bin vocabularies and the chat templates). Then, for ONNX models:
// - a platform package: dist/node_modules/onnxruntime-node with only that platform's native library and
//   binding, and dist/node_modules/onnxruntime-common (its JS dependency). Under dist/, not the top-level
//   node_modules/, which `vsce package --no-dependencies` leaves out;
// - the universal package: onnxruntime-web's WASM binary and loader in dist/ort/ (its JS is in the model
//   worker bundle), which src/core/lm/onnx/backend.ts falls back to.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const STAGED = join(ROOT, 'out', 'extension');

/**
 * The platforms onnxruntime-node 1.30 ships binaries for, with the files its binding loads there (found by
 * reading the binaries' import tables): macOS's binding links libonnxruntime.1.dylib (the package also holds an
 * identical libonnxruntime.1.30.0.dylib); on Windows, DirectML.dll is delay-loaded and dxcompiler/dxil are
 * optional, used only by the DirectML and WebGPU providers, which Token Inspector never asks for (CPU only).
 */
export const NATIVE_TARGETS = {
  'linux-x64': ['libonnxruntime.so.1', 'onnxruntime_binding.node'],
  'linux-arm64': ['libonnxruntime.so.1', 'onnxruntime_binding.node'],
  'darwin-arm64': ['libonnxruntime.1.dylib', 'onnxruntime_binding.node'],
  'win32-x64': ['onnxruntime.dll', 'onnxruntime_binding.node'],
  'win32-arm64': ['onnxruntime.dll', 'onnxruntime_binding.node'],
};
export const UNIVERSAL = 'universal';
export const TARGETS = [...Object.keys(NATIVE_TARGETS), UNIVERSAL];

/** onnxruntime-web's WASM runtime for Node: the binary and its loader (which the bundled JS imports). */
export const WASM_FILES = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'];

/** The package for the machine this runs on, or the universal one where onnxruntime-node has no binaries. */
export function hostTarget() {
  const t = `${process.platform}-${process.arch}`;
  return t in NATIVE_TARGETS ? t : UNIVERSAL;
}

/** Where the native runtime's packages sit in a platform package (posix; see src/core/lm/onnx/backend.ts). */
export const RUNTIME_MODULES = 'dist/node_modules';

/** The native files of a target, as paths inside the package (posix). */
export function nativeFiles(target) {
  const [platform, arch] = target.split('-');
  return NATIVE_TARGETS[target].map((f) => `${RUNTIME_MODULES}/onnxruntime-node/bin/napi-v6/${platform}/${arch}/${f}`);
}

/** dist/ as shipped: no source maps; of dist/tokenizers only the .bin vocabularies and chat templates. */
function shipsFromDist(rel) {
  if (rel.endsWith('.map')) return false;
  if (rel.startsWith(`tokenizers${sep}`)) return rel.endsWith('.bin') || rel.endsWith('.chat.json');
  const top = rel.split(sep)[0];
  return rel !== 'catalog.mjs' && top !== 'ort' && top !== 'node_modules';
}

function copyFiltered(from, to, keep) {
  cpSync(from, to, { recursive: true, filter: (p) => keep(relative(from, p)) });
}

/** Lays out the built extension for `target` in `dir` (emptied first). Run after the build. */
export function stageExtension({ target = hostTarget(), dir = STAGED } = {}) {
  if (!TARGETS.includes(target)) throw new Error(`unknown target ${target}; one of ${TARGETS.join(', ')}`);
  if (!existsSync(join(ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `npm run build` first');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of ['package.json', 'README.md', 'LICENSE', 'NOTICE.md', 'media']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  copyFiltered(join(ROOT, 'dist'), join(dir, 'dist'), (rel) => rel === '' || shipsFromDist(rel));
  const modules = join(ROOT, 'node_modules');
  if (target === UNIVERSAL) {
    const web = join(modules, 'onnxruntime-web', 'dist');
    mkdirSync(join(dir, 'dist', 'ort'), { recursive: true });
    for (const f of WASM_FILES) cpSync(join(web, f), join(dir, 'dist', 'ort', f));
    return dir;
  }
  const ortNode = join(modules, 'onnxruntime-node');
  const to = join(dir, ...RUNTIME_MODULES.split('/'));
  const jsOnly = (rel) => rel === '' || (!rel.endsWith('.map') && !rel.endsWith('.d.ts'));
  copyFiltered(join(ortNode, 'dist'), join(to, 'onnxruntime-node', 'dist'), jsOnly);
  cpSync(join(ortNode, 'package.json'), join(to, 'onnxruntime-node', 'package.json'));
  const [platform, arch] = target.split('-');
  for (const f of NATIVE_TARGETS[target]) cpSync(join(ortNode, 'bin', 'napi-v6', platform, arch, f), join(to, 'onnxruntime-node', 'bin', 'napi-v6', platform, arch, f));
  const common = join(modules, 'onnxruntime-common');
  cpSync(join(common, 'package.json'), join(to, 'onnxruntime-common', 'package.json'));
  copyFiltered(join(common, 'dist', 'cjs'), join(to, 'onnxruntime-common', 'dist', 'cjs'), jsOnly);
  return dir;
}

function listFiles(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listFiles(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * A hash of what the packages are built from (sources, manifest, build scripts, lockfile), so the end-to-end
 * tests rebuild the packages only when one of them changed.
 */
export function sourceFingerprint() {
  const files = ['package.json', 'package-lock.json', 'README.md', 'LICENSE', 'NOTICE.md', 'esbuild.mjs', 'scripts/stage-extension.mjs', 'scripts/package.mjs', 'scripts/build-vocab.ts']
    .map((f) => join(ROOT, f))
    .concat(...['src', 'webview', 'media'].map((d) => listFiles(join(ROOT, d))))
    .filter((f) => existsSync(f) && statSync(f).isFile())
    .sort();
  const h = createHash('sha256');
  for (const f of files) h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(stageExtension({ target: process.argv[2] }));
