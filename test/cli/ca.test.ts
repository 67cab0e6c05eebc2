// `fleetpki ca init|sign|revoke|release` and `crl create` end to end on a temp CA directory: files
// and modes, OpenSSL accepts the issued chain, revocation (and a released hold) shows up in the
// CRL, bad input → exit 2 with DIR's files untouched and nothing stored.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/ca/store/index.js';
import { fleetpki, openssl } from './pki-cli.js';

let dir: string;
const env = { FLEETPKI_PASSPHRASE: 'ca-pass-1' };
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-cli-ca-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under `d` with its content, but the store (a refusal is audited there). */
const snapshot = (d: string): string =>
  readdirSync(d, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .filter((e) => !e.name.startsWith('fleetpki.db'))
    .map((e) =>
      e.isDirectory()
        ? `${e.name}/\n${snapshot(join(d, e.name))}`
        : `${e.name}:${readFileSync(join(d, e.name), 'latin1')}`,
    )
    .join('\n');

/** Issued certificates in DIR's store. */
async function issuedCount(d: string): Promise<number> {
  const store = await openStore(`sqlite:${join(d, 'fleetpki.db')}`, { sqlite: { writer: 'inline' } });
  try {
    return (await store.findCertificates({ limit: 500 })).items.length;
  } finally {
    await store.close();
  }
}

describe('fleetpki ca', () => {
  test('init writes root/intermediate certs and encrypted 0600 keys', async () => {
    const r = await fleetpki(['ca', 'init', '--dir', 'ca', '--type', 'ec-p384', '--json'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.keyType, 'ec-p384');
    for (const f of ['root.key', 'intermediate.key', 'fleetpki.db'])
      assert.equal(statSync(join(dir, 'ca', f)).mode & 0o777, 0o600, f);
    // The key files at the top are the store's own key files under keys/ (one inode, two names).
    const keys = readdirSync(join(dir, 'ca/keys'));
    assert.equal(keys.length, 2);
    const inodes = keys.map((k) => statSync(join(dir, 'ca/keys', k)).ino).sort();
    assert.deepEqual(
      inodes,
      ['root.key', 'intermediate.key'].map((k) => statSync(join(dir, 'ca', k)).ino).sort(),
    );
    assert.match(readFileSync(join(dir, 'ca/root.key'), 'utf8'), /ENCRYPTED PRIVATE KEY/);
    assert.equal(
      openssl(['pkey', '-in', 'ca/intermediate.key', '-passin', 'pass:ca-pass-1', '-noout'], dir).code,
      0,
    );
    const v = openssl(['verify', '-x509_strict', '-CAfile', 'ca/root.crt', 'ca/intermediate.crt'], dir);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  test('init refuses to overwrite an existing CA', async () => {
    const before = snapshot(join(dir, 'ca'));
    const r = await fleetpki(['ca', 'init', '--dir', 'ca'], { cwd: dir, env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /already exists/);
    assert.equal(snapshot(join(dir, 'ca')), before);
  });

  test('sign device + server CSRs; openssl verifies the chains', async () => {
    assert.equal(
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'dev.key'], dir)
        .code,
      0,
    );
    assert.equal(
      openssl(['req', '-new', '-key', 'dev.key', '-subj', '/CN=device-9', '-out', 'dev.csr'], dir).code,
      0,
    );
    const r = await fleetpki(
      [
        'ca',
        'sign',
        '--dir',
        'ca',
        '--csr',
        'dev.csr',
        '--profile',
        'device',
        '--days',
        '30',
        '--out',
        'dev.crt',
        '--json',
      ],
      { cwd: dir, env },
    );
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.subject, 'CN=device-9');
    assert.ok(Date.parse(j.notAfter) - Date.now() < 31 * 86_400_000);
    const v = openssl(
      [
        'verify',
        '-x509_strict',
        '-purpose',
        'sslclient',
        '-CAfile',
        'ca/root.crt',
        '-untrusted',
        'ca/intermediate.crt',
        'dev.crt',
      ],
      dir,
    );
    assert.equal(v.code, 0, v.stdout + v.stderr);

    assert.equal(
      openssl(
        [
          'req',
          '-new',
          '-key',
          'dev.key',
          '-subj',
          '/CN=gw',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-out',
          'srv.csr',
        ],
        dir,
      ).code,
      0,
    );
    const s = await fleetpki(
      ['ca', 'sign', '--dir', 'ca', '--csr', 'srv.csr', '--profile', 'server', '--out', 'srv.crt'],
      { cwd: dir, env },
    );
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /wrote server certificate, serial [0-9a-f]+, for CN=gw to srv\.crt/);
    const vs = openssl(
      [
        'verify',
        '-x509_strict',
        '-purpose',
        'sslserver',
        '-verify_hostname',
        'localhost',
        '-CAfile',
        'ca/root.crt',
        '-untrusted',
        'ca/intermediate.crt',
        'srv.crt',
      ],
      dir,
    );
    assert.equal(vs.code, 0, vs.stdout + vs.stderr);
  });

  for (const [name, args, message] of [
    ['server CSR without SAN', ['--csr', 'dev.csr', '--profile', 'server'], /san-required/],
    ['tampered CSR', ['--csr', 'tampered.csr', '--profile', 'device'], /bad-csr-signature/],
    ['unknown profile', ['--csr', 'dev.csr', '--profile', 'root'], /unknown profile "root"/],
    ['bad --days', ['--csr', 'dev.csr', '--profile', 'device', '--days', 'ten'], /--days/],
  ] as const)
    test(`sign bad input: ${name} → exit 2, CA dir unchanged`, async () => {
      const pem = readFileSync(join(dir, 'dev.csr'), 'utf8');
      // Flip one base64 character inside the signature (near the end of the PEM body).
      const lines = pem.trimEnd().split('\n');
      const last = lines[lines.length - 2]!;
      lines[lines.length - 2] = last.slice(0, 5) + (last[5] === 'A' ? 'B' : 'A') + last.slice(6);
      writeFileSync(join(dir, 'tampered.csr'), `${lines.join('\n')}\n`);
      const before = snapshot(join(dir, 'ca'));
      const stored = await issuedCount(join(dir, 'ca'));
      const r = await fleetpki(['ca', 'sign', '--dir', 'ca', ...args, '--out', 'bad.crt'], { cwd: dir, env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(snapshot(join(dir, 'ca')), before);
      assert.equal(await issuedCount(join(dir, 'ca')), stored);
    });

  test('wrong passphrase → exit 2, nothing written', async () => {
    const before = snapshot(join(dir, 'ca'));
    const r = await fleetpki(
      ['ca', 'sign', '--dir', 'ca', '--csr', 'dev.csr', '--profile', 'device', '--out', 'x.crt'],
      { cwd: dir, env: { FLEETPKI_PASSPHRASE: 'wrong' } },
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad-passphrase/);
    assert.equal(snapshot(join(dir, 'ca')), before);
  });

  test('revoke + crl create: openssl -crl_check rejects the revoked device only', async () => {
    const serial = openssl(['x509', '-in', 'dev.crt', '-noout', '-serial'], dir).stdout.trim().split('=')[1]!;
    assert.equal(
      (await fleetpki(['ca', 'revoke', '--dir', 'ca', serial, '--reason', 'nonsense'], { cwd: dir, env }))
        .code,
      2,
    );
    assert.equal(
      (
        await fleetpki(['ca', 'revoke', '--dir', 'ca', 'abcdef', '--reason', 'keyCompromise'], {
          cwd: dir,
          env,
        })
      ).code,
      2,
    );
    const r = await fleetpki(['ca', 'revoke', '--dir', 'ca', serial, '--reason', 'keyCompromise', '--json'], {
      cwd: dir,
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).reason, 'keyCompromise');
    assert.match(
      (await fleetpki(['ca', 'revoke', '--dir', 'ca', serial, '--reason', 'superseded'], { cwd: dir, env }))
        .stderr,
      /already revoked/,
    );

    const c = await fleetpki(['crl', 'create', '--dir', 'ca', '--json'], { cwd: dir, env });
    assert.equal(c.code, 0, c.stderr);
    const j = JSON.parse(c.stdout);
    assert.deepEqual([j.crlNumber, j.revoked], [1, 1]);
    const crl = j.file as string;
    const cv = openssl(
      ['crl', '-in', crl, '-noout', '-verify', '-text', '-CAfile', 'ca/intermediate.crt'],
      dir,
    );
    assert.match(cv.stdout + cv.stderr, /verify OK/);
    assert.match(cv.stdout, /Key Compromise/);
    const bad = openssl(
      [
        'verify',
        '-crl_check',
        '-CRLfile',
        crl,
        '-CAfile',
        'ca/root.crt',
        '-untrusted',
        'ca/intermediate.crt',
        'dev.crt',
      ],
      dir,
    );
    assert.match(bad.stdout + bad.stderr, /certificate revoked/);
    const ok = openssl(
      [
        'verify',
        '-crl_check',
        '-CRLfile',
        crl,
        '-CAfile',
        'ca/root.crt',
        '-untrusted',
        'ca/intermediate.crt',
        'srv.crt',
      ],
      dir,
    );
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);

    const c2 = await fleetpki(['crl', 'create', '--dir', 'ca', '--out', 'next.crl'], { cwd: dir, env });
    assert.match(c2.stdout, /wrote CRL #2 /);
  });

  test('certificateHold, then release: the CRL lists the serial, then no longer', async () => {
    const serial = openssl(['x509', '-in', 'srv.crt', '-noout', '-serial'], dir).stdout.trim().split('=')[1]!;
    const hold = await fleetpki(['ca', 'revoke', '--dir', 'ca', serial, '--reason', 'certificateHold'], {
      cwd: dir,
      env,
    });
    assert.equal(hold.code, 0, hold.stderr);
    const listed = await fleetpki(['crl', 'create', '--dir', 'ca', '--out', 'hold.crl'], { cwd: dir, env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(openssl(['crl', '-in', 'hold.crl', '-noout', '-text'], dir).stdout, /Certificate Hold/);
    const rel = await fleetpki(['ca', 'release', '--dir', 'ca', serial], { cwd: dir, env });
    assert.equal(rel.code, 0, rel.stderr);
    assert.match(rel.stdout, /released the hold/);
    const again = await fleetpki(['ca', 'release', '--dir', 'ca', serial], { cwd: dir, env });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /not-on-hold/);
    const after = await fleetpki(['crl', 'create', '--dir', 'ca', '--out', 'released.crl'], {
      cwd: dir,
      env,
    });
    assert.equal(after.code, 0, after.stderr);
    const text = openssl(['crl', '-in', 'released.crl', '-noout', '-text'], dir).stdout;
    assert.doesNotMatch(text, new RegExp(serial, 'i'));
    const ok = openssl(
      [
        'verify',
        '-crl_check',
        '-CRLfile',
        'released.crl',
        '-CAfile',
        'ca/root.crt',
        '-untrusted',
        'ca/intermediate.crt',
        'srv.crt',
      ],
      dir,
    );
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  });
});
