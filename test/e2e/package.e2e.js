// @ts-check
'use strict';
// The packages `npm run package` writes (scripts/package.mjs): one per platform onnxruntime-node ships binaries
// for, each with only its own platform's binaries, and a universal one with onnxruntime-web's WASM runtime;
// each under 50 MB. A file the extension needs at run time that a package lacks fails here:
// - read from every package: the manifest's entry point and icons; every module the bundles require (Node's
//   own, `vscode` from the host, and onnxruntime-node: in a platform package with its dependency, its binding and
//   the library the binding loads for that platform; the universal package has the WASM runtime instead); the
//   workers and webview scripts the host starts; the vocabularies, chat templates and UDHR texts the build wrote;
// - run: the package for this machine and the universal one are extracted outside the source tree, and their own
//   CLI (the same core the workers run) must give what the source tree's CLI gives: every bundled tokenizer,
//   chat templates, language premiums, and the fixture model's scores and SAE features, on the package's
//   runtime (native, or WASM in the universal package).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { builtinModules } = require('node:module');
const { execFileSync } = require('node:child_process');
const { REPO, packageFor, packageLayout, packageScript, cli, must } = require('./lib/project');
const { listVsix, readVsixText, extractVsix } = require('./lib/vsix');

const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'ti-package-'));
const REPO_DIST = path.join(REPO, 'dist');
/** @type {import('./lib/project').PackageLayout} */
let layout;
/** @type {number} */
let maxBytes;
/** @type {Map<string, { file: string, names: Set<string> }>} target -> its .vsix and the file names inside extension/ */
const packages = new Map();

/** @param {string} target */
const packageOf = (target) => must(packages.get(target), `the ${target} package`);

before(async () => {
  layout = await packageLayout();
  maxBytes = (await packageScript()).MAX_PACKAGE_BYTES;
  for (const target of layout.TARGETS) {
    const file = await packageFor(target);
    const names = new Set(listVsix(file).filter((e) => e.name.startsWith('extension/')).map((e) => e.name.slice('extension/'.length)));
    packages.set(target, { file, names });
  }
});
after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

/** @param {string} file */
function sizeMb(file) {
  return (fs.statSync(file).size / 2 ** 20).toFixed(2);
}

/** Every `require("…")` with a literal argument in a bundle. @param {string} text */
function requiresOf(text) {
  return [...text.matchAll(/\brequire\((["'])([^"'\n]+)\1\)/g)].map((m) => m[2]);
}

/**
 * A module's file in the package, as Node resolves a relative `request` from `fromFile`.
 * @param {Set<string>} names @param {string} fromFile @param {string} request
 */
function resolveInPackage(names, fromFile, request) {
  if (request.startsWith('.')) {
    const base = path.posix.join(path.posix.dirname(fromFile), request);
    return [base, `${base}.js`, `${base}/index.js`].find((c) => names.has(c));
  }
  return undefined;
}

test('every package is under 50 MB; a platform package holds only its own platform\'s native files; the universal one the WASM runtime and no native code', () => {
  const sizes = [];
  for (const [target, { file, names }] of packages) {
    sizes.push(`${target} ${sizeMb(file)} MB`);
    assert.ok(fs.statSync(file).size < maxBytes, `${target} is ${sizeMb(file)} MB`);
    const manifest = readVsixText(file, 'extension.vsixmanifest');
    const natives = [...names].filter((n) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(n)).sort();
    if (target === layout.UNIVERSAL) {
      assert.doesNotMatch(manifest, /TargetPlatform=/, 'the universal package names no platform');
      assert.deepEqual(natives, [], 'no native code in the universal package');
      for (const f of layout.WASM_FILES) assert.ok(names.has(`dist/ort/${f}`), `universal: dist/ort/${f}`);
    } else {
      assert.match(manifest, new RegExp(`TargetPlatform="${target}"`), `${target}: the manifest names its platform`);
      const [platform, arch] = target.split('-');
      const want = layout.NATIVE_TARGETS[target].map((f) => `${layout.RUNTIME_MODULES}/onnxruntime-node/bin/napi-v6/${platform}/${arch}/${f}`).sort();
      assert.deepEqual(natives, want, `${target}: exactly its own native files`);
      assert.ok(![...names].some((n) => n.startsWith('dist/ort/')), `${target}: no WASM runtime`);
    }
  }
  console.log(`# package sizes: ${sizes.join(', ')}`);
});

test('every file the extension loads at run time is in every package', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  /** @param {string} dir @param {(f: string) => boolean} keep */
  const built = (dir, keep) => fs.readdirSync(path.join(REPO_DIST, dir)).filter(keep).map((f) => `dist/${dir}/${f}`);
  // What the build wrote and the code reads by name: vocabularies and chat templates (dist/tokenizers/<id>.*),
  // the UDHR texts (dist/udhr), the webview scripts (dist/webview/<view>.js, chosen by view).
  const assets = [
    ...built('tokenizers', (f) => f.endsWith('.bin') || f.endsWith('.chat.json')),
    ...built('udhr', (f) => f.endsWith('.html')),
    ...built('webview', (f) => f.endsWith('.js')),
  ];
  /** @type {string[]} */
  const bundledIds = cli(['tokenizers', '--json']).map((/** @type {{ id: string }} */ t) => t.id);
  assert.ok(bundledIds.length >= 11);
  for (const id of bundledIds) assert.ok(assets.includes(`dist/tokenizers/${id}.bin`), `the build wrote ${id}.bin`);
  // The manifest's entry point and every file it names (icons).
  const named = [manifest.main.replace(/^\.\//, ''), ...(JSON.stringify(manifest.contributes).match(/media\/[\w.-]+/g) ?? [])];
  for (const [target, { names }] of packages) {
    const missing = [...named, ...assets].filter((f) => !names.has(f));
    assert.deepEqual(missing, [], `${target} lacks files the extension reads`);
    const bundles = [...names].filter((n) => /^dist\/(webview\/)?[\w-]+\.js$/.test(n));
    for (const b of ['dist/extension.js', 'dist/tokenWorker.js', 'dist/workspaceWorker.js', 'dist/countWorker.js', 'dist/modelWorker.js', 'dist/cli.js']) assert.ok(bundles.includes(b), `${target}: ${b}`);
    /** @param {string} n */
    const text = (n) => fs.readFileSync(path.join(REPO_DIST, n.slice('dist/'.length)), 'utf8');
    // The host starts the workers and loads the webviews' styles and icon by file name.
    for (const name of new Set(text('dist/extension.js').match(/(?<=["'`])[\w-]+\.(?:js|css|svg)(?=["'`])/g) ?? [])) {
      assert.ok([...names].some((n) => path.posix.basename(n) === name), `${target}: dist/extension.js loads ${name}`);
    }
    for (const b of bundles) {
      for (const request of requiresOf(text(b))) {
        if (builtinModules.includes(request.replace(/^node:/, ''))) continue;
        if (request === 'vscode') {
          assert.equal(b, 'dist/extension.js', `only the host bundle requires vscode (${b} does)`);
          continue;
        }
        if (request === 'onnxruntime-node') {
          assert.ok(['dist/modelWorker.js', 'dist/cli.js'].includes(b), `${b} requires onnxruntime-node`);
          if (target !== layout.UNIVERSAL) checkNativeRuntime(target, names);
          continue;
        }
        assert.ok(resolveInPackage(names, b, request), `${target}: ${b} requires ${request}, which the package does not hold`);
      }
    }
  }
});

/**
 * onnxruntime-node in a platform package: its entry, every module it requires, its dependency, binding and library.
 * @param {string} target @param {Set<string>} names
 */
function checkNativeRuntime(target, names) {
  const root = `${layout.RUNTIME_MODULES}/onnxruntime-node`;
  assert.ok(names.has(`${root}/package.json`) && names.has(`${root}/dist/index.js`), `${target}: ${root}`);
  const common = `${layout.RUNTIME_MODULES}/onnxruntime-common`;
  const commonEntry = `${common}/${JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'onnxruntime-common', 'package.json'), 'utf8')).exports.require.replace(/^\.\//, '')}`;
  for (const n of [...names].filter((x) => (x.startsWith(`${root}/dist/`) || x.startsWith(`${common}/dist/`)) && x.endsWith('.js'))) {
    const source = path.join(REPO, 'node_modules', n.slice(layout.RUNTIME_MODULES.length + 1));
    for (const request of requiresOf(fs.readFileSync(source, 'utf8'))) {
      if (builtinModules.includes(request.replace(/^node:/, ''))) continue;
      if (request === 'onnxruntime-common') assert.ok(names.has(commonEntry), `${target}: ${commonEntry}`);
      else assert.ok(resolveInPackage(names, n, request), `${target}: ${n} requires ${request}`);
    }
  }
  // The binding is required by a path built from the platform (binding.js); it loads the library beside it.
  const [platform, arch] = target.split('-');
  assert.match(fs.readFileSync(path.join(REPO, 'node_modules', 'onnxruntime-node', 'dist', 'binding.js'), 'utf8'), /\.\.\/bin\/napi-v6\/\$\{process\.platform\}\/\$\{process\.arch\}\/onnxruntime_binding\.node/);
  for (const f of layout.NATIVE_TARGETS[target]) assert.ok(names.has(`${root}/bin/napi-v6/${platform}/${arch}/${f}`), `${target}: ${f}`);
}

// ------------------------------------------------------------------ run: the packaged CLI ---

const SAMPLE = path.join(REPO, 'sample-workspace', 'emoji-cjk.md');
const SAE = path.join(REPO, 'test', 'fixtures', 'sae', 'saelens-topk');
const CHAT_MODELS = ['llama-3.1-8b', 'qwen3-8b', 'gemma-3-4b', 'deepseek-v3'];

/** Runs a CLI (`node cli.js …`) in `cwd` and parses its JSON. @param {string} cliJs @param {string[]} args @param {string} cwd */
function runCli(cliJs, args, cwd) {
  return JSON.parse(execFileSync(process.execPath, [cliJs, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NODE_PATH: '' } }));
}

/** The same run on the packaged CLI and on the source tree's (dist/cli.js). @param {string} ext @param {string[]} args @param {string} cwd */
function bothClis(ext, args, cwd) {
  return { packaged: runCli(path.join(ext, 'dist', 'cli.js'), args, cwd), source: runCli(path.join(REPO_DIST, 'cli.js'), args, cwd) };
}

/**
 * @param {import('./lib/project').ScoreJson} a @param {import('./lib/project').ScoreJson} b @param {string} what
 */
function closeScores(a, b, what) {
  assert.equal(a.tokens.length, b.tokens.length, what);
  let worst = 0;
  a.tokens.forEach((t, i) => {
    assert.equal(t.id, b.tokens[i].id, what);
    if (Number.isFinite(b.tokens[i].logProb)) worst = Math.max(worst, Math.abs(t.logProb - b.tokens[i].logProb));
  });
  assert.ok(worst < 1e-4, `${what}: log-probs within 1e-4 (worst ${worst})`);
}

for (const which of ['host', 'universal']) {
  test(`the ${which} package, extracted outside the source tree, runs every bundled tokenizer, chat templates, premiums, and the fixture model's scores and SAE features as the source tree does`, async () => {
    const target = which === 'host' ? layout.hostTarget() : layout.UNIVERSAL;
    const dir = path.join(SCRATCH, target);
    extractVsix(packageOf(target).file, dir);
    const ext = path.join(dir, 'extension');
    // The model is copied: reading hidden states writes a tap graph next to it.
    const work = path.join(SCRATCH, `work-${target}`);
    fs.mkdirSync(work);
    fs.copyFileSync(SAMPLE, path.join(work, 'sample.md'));
    fs.cpSync(path.join(REPO, 'test', 'fixtures', 'tiny-gpt2'), path.join(work, 'tiny-gpt2'), { recursive: true });

    const listed = bothClis(ext, ['tokenizers', '--json'], work);
    assert.deepEqual(listed.packaged, listed.source);
    const ids = listed.source.map((/** @type {{ id: string }} */ t) => t.id).join(',');
    const compared = bothClis(ext, ['compare', 'sample.md', '--tokenizers', ids, '--json'], work);
    assert.deepEqual(compared.packaged, compared.source, 'every bundled tokenizer counts as in the source tree');
    for (const model of CHAT_MODELS) {
      const chat = bothClis(ext, ['count', 'sample.md', '--model', model, '--as-chat', '--json'], work);
      assert.deepEqual(chat.packaged, chat.source, `${model}: its chat template`);
      assert.ok(chat.packaged.total.templateTokens > 0, `${model}: template tokens counted`);
    }
    // Each with a cache of its own: premiums are cached on disk.
    /** @param {string} cliJs @param {string} cache */
    const premiums = (cliJs, cache) => runCli(cliJs, ['premiums', '--tokenizers', 'gpt2,o200k_base', '--languages', 'eng,fra,mya', '--cache-dir', path.join(work, cache), '--json'], work);
    assert.deepEqual(premiums(path.join(ext, 'dist', 'cli.js'), 'cache-packaged'), premiums(path.join(REPO_DIST, 'cli.js'), 'cache-source'), 'the UDHR texts');

    const scored = bothClis(ext, ['score', 'sample.md', '--model', 'tiny-gpt2', '--json'], work);
    assert.equal(scored.source.runtime, 'onnxruntime-node');
    assert.equal(scored.packaged.runtime, target === layout.UNIVERSAL ? 'onnxruntime-web' : 'onnxruntime-node');
    closeScores(scored.packaged, scored.source, `${target} score`);
    const features = bothClis(ext, ['features', 'sample.md', '--model', 'tiny-gpt2', '--sae', SAE, '--json'], work);
    /** @param {import('./lib/project').FeaturesJson} r */
    const top = (r) => r.summary.topFeatures.map((f) => f.index);
    assert.deepEqual(top(features.packaged), top(features.source), 'the same top features');
    /** @param {import('./lib/project').FeaturesJson} r */
    const acts = (r) => r.tokens.flatMap((t) => t.features.map((f) => f.activation));
    const [a, b] = [acts(features.packaged), acts(features.source)];
    assert.equal(a.length, b.length);
    assert.ok(a.every((x, i) => Math.abs(x - b[i]) < 1e-4), `${target}: activations within 1e-4`);
  });
}
