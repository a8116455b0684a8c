// Lays out the built extension as the .vsix would (package.json, dist/, media/, docs) in out/extension,
// for code-server to load in `npm start` and the end-to-end tests. Run after `npm run build`.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const STAGED = join(root, 'out', 'extension');

export function stageExtension() {
  if (!existsSync(join(root, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `npm run build` first');
  rmSync(STAGED, { recursive: true, force: true });
  mkdirSync(STAGED, { recursive: true });
  for (const f of ['package.json', 'README.md', 'LICENSE', 'NOTICE.md', 'dist', 'media']) {
    if (existsSync(join(root, f))) cpSync(join(root, f), join(STAGED, f), { recursive: true, filter: (p) => !p.endsWith('.map') });
  }
  copyOnnxRuntime(join(STAGED, 'node_modules'), `${process.platform}/${process.arch}`);
  return STAGED;
}

/**
 * The model worker loads onnxruntime-node (native) from beside the bundle: copy it with only one platform's
 * binaries (all platforms together are 288 MB; a .vsix is built per platform, see README).
 */
export function copyOnnxRuntime(nodeModules, platformArch) {
  const ort = join(root, 'node_modules', 'onnxruntime-node');
  if (!existsSync(ort)) return;
  mkdirSync(nodeModules, { recursive: true });
  cpSync(join(root, 'node_modules', 'onnxruntime-common'), join(nodeModules, 'onnxruntime-common'), { recursive: true });
  const dst = join(nodeModules, 'onnxruntime-node');
  for (const f of ['package.json', 'dist']) cpSync(join(ort, f), join(dst, f), { recursive: true });
  const bin = join(ort, 'bin', 'napi-v6', platformArch);
  if (existsSync(bin)) cpSync(bin, join(dst, 'bin', 'napi-v6', platformArch), { recursive: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(stageExtension());
