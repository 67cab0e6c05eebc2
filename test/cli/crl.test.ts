// `fleetpki crl create`: a root CRL (--issuer root) listing a revoked intermediate; bad input.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fleetpki, openssl } from './pki-cli.js';

let dir: string;
const env = { FLEETPKI_PASSPHRASE: 'crl-pass' };
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-cli-crl-'));
  assert.equal(
    (await fleetpki(['ca', 'init', '--dir', 'ca', '--type', 'ed25519'], { cwd: dir, env })).code,
    0,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('fleetpki crl create', () => {
  test('empty intermediate CRL, then a root CRL revoking the intermediate', async () => {
    const e = await fleetpki(['crl', 'create', '--dir', 'ca', '--days', '2'], { cwd: dir, env });
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /CRL #1 of the intermediate CA \(0 revoked\)/);
    const v = openssl(
      ['crl', '-in', 'ca/intermediate.crl', '-noout', '-verify', '-CAfile', 'ca/intermediate.crt'],
      dir,
    );
    assert.match(v.stdout + v.stderr, /verify OK/);

    const serial = openssl(['x509', '-in', 'ca/intermediate.crt', '-noout', '-serial'], dir)
      .stdout.trim()
      .split('=')[1]!;
    assert.equal(
      (await fleetpki(['ca', 'revoke', '--dir', 'ca', serial, '--reason', 'cACompromise'], { cwd: dir, env }))
        .code,
      0,
    );
    const r = await fleetpki(['crl', 'create', '--dir', 'ca', '--issuer', 'root', '--json'], {
      cwd: dir,
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).revoked, 1);
    const t = openssl(
      ['crl', '-in', 'ca/root.crl', '-noout', '-verify', '-text', '-CAfile', 'ca/root.crt'],
      dir,
    );
    assert.match(t.stdout + t.stderr, /verify OK/);
    assert.match(t.stdout, /CA Compromise/);
  });

  for (const [name, args, message] of [
    ['not a CA dir', ['--dir', 'nowhere'], /not a fleetpki CA directory/],
    ['bad issuer', ['--dir', 'ca', '--issuer', 'device'], /--issuer/],
    ['bad days', ['--dir', 'ca', '--days', '0'], /--days/],
  ] as const)
    test(`bad input: ${name} → exit 2`, async () => {
      const r = await fleetpki(['crl', 'create', ...args, '--out', 'x.crl'], { cwd: dir, env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(join(dir, 'x.crl')));
    });
});
