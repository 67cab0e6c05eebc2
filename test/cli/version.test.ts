// `fleetpki --version` prints the version of the package it belongs to (package.json), not a
// copy that drifts; test/infra/package-install.test.ts checks the same of the installed package.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

describe('fleetpki --version', () => {
  for (const flag of ['--version', '-V'])
    it(`${flag} prints package.json's version`, () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), flag], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), version);
    });
});
