// `npm start`: builds the extension, installs the local VS Code (code-server) if needed, and opens the sample
// workspace in it with Token Inspector loaded (laid out as this machine's package, scripts/stage-extension.mjs).
// Prints the address; Ctrl+C stops it. Needs no browser here: open the address in yours.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stageExtension } from './stage-extension.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function freePort(preferred) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => {
      const any = createServer();
      any.listen(0, '127.0.0.1', () => {
        const { port } = any.address();
        any.close(() => resolve(port));
      });
    });
    srv.listen(preferred, '127.0.0.1', () => srv.close(() => resolve(preferred)));
  });
}

run(process.execPath, ['esbuild.mjs']);
run('bash', ['scripts/setup-code-server.sh']);
const extension = stageExtension();
const vsc = require('../test/e2e/lib/vscode.js');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const dir = join(root, '.e2e-run', 'start');
rmSync(dir, { recursive: true, force: true });
for (const d of ['user-data/User', 'extensions', 'xdg', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
cpSync(extension, join(dir, 'extensions', `${pkg.publisher}.${pkg.name}-${pkg.version}`), { recursive: true });
writeFileSync(join(dir, 'user-data', 'User', 'settings.json'), JSON.stringify({ ...vsc.BASE_SETTINGS, 'security.workspace.trust.enabled': false }, null, 2));

const port = await freePort(Number(process.env.PORT ?? 8080));
const workspace = join(root, 'sample-workspace');
const child = spawn(
  vsc.paths.NODE24,
  [vsc.paths.CODE_SERVER_ENTRY, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--disable-getting-started-override', '--user-data-dir', join(dir, 'user-data'), '--extensions-dir', join(dir, 'extensions'), workspace],
  { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'xdg'), XDG_DATA_HOME: join(dir, 'xdg'), TMPDIR: join(dir, 'tmp') } },
);
console.log(`\nToken Inspector is running in VS Code at http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}\n(Ctrl+C stops it.)\n`);
const stop = () => child.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code) => process.exit(code ?? 0));
