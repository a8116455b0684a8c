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
  return STAGED;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(stageExtension());
