// One build script: extension host bundle, tokenization worker, CLI, webviews, and the vocabulary files
// the bundled tokenizers need (copied from their npm packages into dist/tokenizers).
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'info', target: 'node20' };

const builds = [
  { ...common, entryPoints: ['src/extension/main.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', external: ['vscode'] },
  { ...common, entryPoints: ['src/worker/tokenWorker.ts'], outfile: 'dist/tokenWorker.js', platform: 'node', format: 'cjs' },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', banner: { js: '#!/usr/bin/env node' } },
];
for (const [name, entry] of [['panel', 'webview/panel/main.ts'], ['sidebar', 'webview/sidebar/main.ts']]) {
  if (existsSync(join(root, entry))) {
    builds.push({ ...common, entryPoints: [entry], outfile: `dist/webview/${name}.js`, platform: 'browser', format: 'iife', target: 'es2022' });
  }
}
const present = builds.filter((b) => existsSync(join(root, b.entryPoints[0])));

/** Copies each bundled vocabulary (and its tokenizer_config.json) to dist/tokenizers/<id>.json when changed. */
async function copyVocabularies() {
  const { BUNDLED_TOKENIZERS } = await import('./dist/catalog.mjs');
  const outDir = join(root, 'dist', 'tokenizers');
  mkdirSync(outDir, { recursive: true });
  for (const e of BUNDLED_TOKENIZERS) {
    const src = require.resolve(`${e.source.package}/${e.source.file}`);
    const dst = join(outDir, `${e.id}.json`);
    if (!existsSync(dst) || statSync(dst).mtimeMs < statSync(src).mtimeMs || statSync(dst).size !== statSync(src).size) copyFileSync(src, dst);
    const cfg = join(dirname(src), 'tokenizer_config.json');
    if (e.source.format === 'hf' && existsSync(cfg)) copyFileSync(cfg, join(outDir, `${e.id}.config.json`));
  }
}

await esbuild.build({ entryPoints: ['src/core/tokenizers/catalog.ts'], outfile: 'dist/catalog.mjs', bundle: true, format: 'esm', platform: 'node', logLevel: 'warning' });
await copyVocabularies();
if (watch) {
  for (const b of present) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(present.map((b) => esbuild.build(b)));
}
