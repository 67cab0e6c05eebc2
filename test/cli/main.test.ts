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
});
