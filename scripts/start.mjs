// `npm start`: make sure npm deps are installed and dist/ is built from the current sources, then
// run the CLI. With no arguments it runs `fleetpki serve` (the CA service on the embedded SQLite
// store under ./fleetpki-data); `npm start -- <command> ...` runs any other fleetpki command.
// Deliberately plain JavaScript: it has to run before dependencies (tsx) are installed.
// stdout carries only the fleetpki command's output (so `npm -s start -- inspect --json f | jq` works):
// this script's messages and the provision/build steps' output go to stderr. (npm itself prints
// a `> fleetpki start` banner on stdout unless run with -s/--silent.)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

function say(msg) {
  process.stderr.write(`[start] ${msg}\n`);
}

/** Runs a step; its stdout goes to our stderr unless `toStdout` (the fleetpki command itself). */
function run(cmd, args, toStdout = false) {
  const r = spawnSync(cmd, args, { stdio: ['inherit', toStdout ? 'inherit' : process.stderr, 'inherit'] });
  if (r.error) {
    say(`${cmd} failed: ${r.error.message}`);
    process.exit(1);
  }
  return r.status ?? 1;
}

/** Newest modification time (ms) of the files under dir, 0 if there are none. */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const t = statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs;
    if (t > max) max = t;
  }
  return max;
}

// npm deps only: `npm start` never installs system packages (that is `npm test`'s job).
if (run('bash', ['scripts/provision.sh', '--npm-only']) !== 0) process.exit(1);

// src/ includes the dashboard's sources (src/web/), which `npm run build` bundles into dist/web/.
const inputs = Math.max(
  newest('src'),
  ...['tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts/build-web.ts'].map(
    (f) => statSync(f).mtimeMs,
  ),
);
if (newest('dist') < inputs || !existsSync('dist/web/.vite/manifest.json')) {
  say('building dist/ (npm run build)');
  if (run('npm', ['run', '--silent', 'build']) !== 0) {
    say('build failed');
    process.exit(1);
  }
}

const cli = 'dist/cli/main.js';
if (!existsSync(cli)) {
  say(`${cli} does not exist yet: the fleetpki CLI (src/cli/main.ts) has not been written.`);
  process.exit(1);
}
let args = process.argv.slice(2);
if (args.length === 0) {
  say('fleetpki serve (the CA service; npm start -- <command> runs another fleetpki command)');
  args = ['serve'];
}
// The command runs as a child with this terminal's stdout (serve prints its summary there). A
// SIGTERM sent to this process (a process manager, npm) is passed on so that serve stops cleanly;
// Ctrl-C reaches the child from the terminal itself, so this process only waits for it.
const child = spawn(process.execPath, [cli, ...args], { stdio: 'inherit' });
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('error', (e) => {
  say(`fleetpki failed to start: ${e.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
