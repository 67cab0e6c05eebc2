// The `fleetpki` entry point: every command DESIGN.md lists for this wave is registered, and a
// usage error exits 2 with one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('fleetpki entry point', () => {
  it('--help lists inspect, key, csr, ca, crl and verify', () => {
    const r = cli(['--help']);
    assert.equal(r.status, 0);
    for (const c of ['inspect', 'key', 'csr', 'ca', 'crl', 'verify'])
      assert.match(r.stdout, new RegExp(`^\\s+${c}\\b`, 'm'), `${c} missing from --help`);
  });

  it('an unknown command exits 2', () => {
    const r = cli(['frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command/);
  });

  it('an unknown command exits 2 with one line', () => {
    const r = cli(['frobnicate']);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  });

  it('npm start -- <command>: stdout carries only the command output (start/provision/build chatter on stderr)', () => {
    const r = spawnSync(
      process.execPath,
      ['scripts/start.mjs', 'inspect', 'examples/sensor-0043.csr.pem', '--json'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).objects[0].type, 'csr');
  });
});
