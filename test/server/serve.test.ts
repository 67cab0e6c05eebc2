// `fleetpki serve` end to end, as a new user runs it: the real CLI in a child process on a fresh
// directory (embedded SQLite, default ./fleetpki-data), a scripted client issuing a device
// certificate through the admin API, OpenSSL verifying it against the root published at
// /ca/chain.pem, curl checking the service's own certificate, OpenSSL's OCSP client seeing
// good then revoked, a second start reusing the CA, and the start-up refusals.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseCertificates } from '../../src/x509/certificate.js';
import { run } from '../helpers/proc.js';
import { api, request, type ServeProcess, serveFails, spawnServe } from './helpers.js';

const ENV = { DATABASE_URL: undefined, FLEETPKI_PASSPHRASE: undefined, FLEETPKI_PKCS11_PIN: undefined };

describe('fleetpki serve on a fresh directory (embedded SQLite)', () => {
  let dir: string;
  let svc: ServeProcess | undefined;
  const data = () => join(dir, 'fleetpki-data');
  const f = (name: string) => join(dir, name);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpki-serve-'));
  });
  after(async () => {
    await svc?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('first start creates the CA and says what it serves and where the credentials are', async () => {
    svc = await spawnServe(['--port', '0'], { cwd: dir, env: ENV });
    const out = svc.stdout();
    assert.match(out, /new CA created; store: sqlite .*fleetpki-data\/fleetpki\.db/);
    for (const path of ['/ca/chain.pem', '/crl/<issuer>.crl', '/ocsp', '/healthz', '/metrics', '/api/v1/'])
      assert.ok(out.includes(`${svc.url}${path}`), `summary names ${path}`);
    assert.ok(out.includes(join(data(), 'admin', 'admin.crt')));
    assert.ok(out.includes(join(data(), 'admin', 'admin.key')));
    assert.ok(out.includes(join(data(), 'admin', 'token')));
    assert.ok(out.includes(join(data(), 'ca', 'root.pem')));
    assert.ok(out.includes(join(data(), 'admin', 'admin.p12')));
    for (const name of ['admin.crt', 'admin.key', 'admin.p12', 'admin.p12.password', 'token'])
      assert.equal(
        (await import('node:fs')).statSync(join(data(), 'admin', name)).mode & 0o777,
        0o600,
        `${name} is 0600`,
      );
    // The PKCS#12 opens with its password in OpenSSL and holds the admin certificate and key.
    const p12 = await run('openssl', [
      'pkcs12',
      '-in',
      join(data(), 'admin', 'admin.p12'),
      '-passin',
      `file:${join(data(), 'admin', 'admin.p12.password')}`,
      '-nodes',
      '-info',
    ]);
    assert.equal(p12.code, 0, p12.stderr);
    assert.match(p12.stdout, /subject=CN\s?=\s?fleetpki-admin/);
    assert.match(p12.stdout, /BEGIN PRIVATE KEY/);
    // Logs are JSON lines on stderr, stdout is the summary only.
    for (const line of svc
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{')))
      assert.doesNotThrow(() => JSON.parse(line));
  });

  test('the published root (from /ca/chain.pem) verifies the service over curl --cacert', async () => {
    // Bootstrapping the trust: fetched without verification, then pinned by fingerprint to the file.
    const chain = await request(`${svc!.url}/ca/chain.pem`);
    assert.equal(chain.status, 200);
    assert.equal(chain.headers['content-type'], 'application/pem-certificate-chain');
    const certs = parseCertificates(chain.text);
    assert.equal(certs.length, 2, 'issuing CA then root');
    assert.ok(certs[1]!.isSelfIssued && !certs[0]!.isSelfIssued);
    writeFileSync(f('root.pem'), certs[1]!.toPem());
    writeFileSync(f('int.pem'), certs[0]!.toPem());
    assert.equal(readFileSync(join(data(), 'ca', 'root.pem'), 'utf8'), certs[1]!.toPem());
    const r = await run('curl', ['-sS', '--cacert', f('root.pem'), `https://127.0.0.1:${svc!.port}/healthz`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).status, 'ok');
    const host = await run('curl', [
      '-sS',
      '--cacert',
      f('root.pem'),
      `https://localhost:${svc!.port}/healthz`,
    ]);
    assert.equal(host.code, 0, host.stderr);
  });

  test('a scripted client issues a device certificate that openssl verify -x509_strict accepts', async () => {
    const key = f('device.key');
    const csr = f('device.csr');
    const gen = await run('openssl', [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      '/CN=device-0123456789abcdef/O=Acme',
    ]);
    assert.equal(gen.code, 0, gen.stderr);
    const token = readFileSync(join(data(), 'admin', 'token'), 'utf8').trim();
    const root = readFileSync(f('root.pem'), 'utf8');
    const r = await api(svc!.url, '/api/v1/certificates', {
      token,
      ca: root,
      json: { csr: readFileSync(csr, 'utf8'), profile: 'device' },
    });
    assert.equal(r.status, 201, r.text);
    const body = r.json<{
      status: string;
      pem: string;
      chainPem: string;
      certificate: { serial: string; status: string };
    }>();
    assert.equal(body.status, 'issued');
    assert.equal(body.certificate.status, 'valid');
    writeFileSync(f('device.pem'), body.pem);
    const v = await run('openssl', [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslclient',
      '-CAfile',
      f('root.pem'),
      '-untrusted',
      f('int.pem'),
      f('device.pem'),
    ]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /device\.pem: OK/);
    // The chain it returned is the published one.
    assert.equal(body.chainPem, readFileSync(join(data(), 'ca', 'chain.pem'), 'utf8'));
  });

  test('openssl ocsp against /ocsp says good, then revoked after an admin revoke (mTLS admin)', async () => {
    const ocsp = async () => {
      // OpenSSL 3.0's ocsp client speaks plain HTTP only: it writes the request, curl carries it
      // over HTTPS (as OpenSSL would POST it), and OpenSSL checks the answer.
      const q = await run('openssl', [
        'ocsp',
        '-issuer',
        f('int.pem'),
        '-cert',
        f('device.pem'),
        '-no_nonce',
        '-reqout',
        f('req.der'),
      ]);
      assert.equal(q.code, 0, q.stderr);
      const post = await run('curl', [
        '-sS',
        '--fail',
        '--cacert',
        f('root.pem'),
        '-H',
        'Content-Type: application/ocsp-request',
        '--data-binary',
        `@${f('req.der')}`,
        '-o',
        f('resp.der'),
        '-D',
        f('headers.txt'),
        `${svc!.url}/ocsp`,
      ]);
      assert.equal(post.code, 0, post.stderr);
      assert.match(readFileSync(f('headers.txt'), 'utf8'), /content-type: application\/ocsp-response/i);
      const a = await run('openssl', [
        'ocsp',
        '-respin',
        f('resp.der'),
        '-issuer',
        f('int.pem'),
        '-cert',
        f('device.pem'),
        '-CAfile',
        f('root.pem'),
        '-no_nonce',
      ]);
      assert.equal(a.code, 0, a.stdout + a.stderr);
      assert.match(a.stderr, /Response verify OK/);
      return a.stdout;
    };
    assert.match(await ocsp(), /device\.pem: good/);

    const serial = parseCertificates(readFileSync(f('device.pem'), 'utf8'))[0]!.serialHex;
    const adminCert = readFileSync(join(data(), 'admin', 'admin.crt'), 'utf8');
    const adminKey = readFileSync(join(data(), 'admin', 'admin.key'), 'utf8');
    const root = readFileSync(f('root.pem'), 'utf8');
    const who = await api(svc!.url, '/api/v1/whoami', { ca: root, cert: adminCert, key: adminKey });
    assert.equal(who.status, 200, who.text);
    assert.equal(who.json<{ method: string }>().method, 'client-certificate');
    const rv = await api(svc!.url, `/api/v1/certificates/${serial}/revoke`, {
      ca: root,
      cert: adminCert,
      key: adminKey,
      json: { reason: 'keyCompromise' },
    });
    assert.equal(rv.status, 200, rv.text);
    const out = await ocsp();
    assert.match(out, /device\.pem: revoked/);
    assert.match(out, /Reason: keyCompromise/);
  });

  test('SIGTERM stops the service cleanly (exit 0)', async () => {
    const code = await svc!.stop('SIGTERM');
    assert.equal(code, 0, svc!.stderr());
    assert.match(svc!.stdout(), /fleetpki serve: stopped/);
    svc = undefined;
  });

  test('a second start reuses the same CA and credentials', async () => {
    const rootBefore = readFileSync(f('root.pem'), 'utf8');
    const tokenBefore = readFileSync(join(data(), 'admin', 'token'), 'utf8');
    svc = await spawnServe(['--port', '0'], { cwd: dir, env: ENV });
    assert.match(svc.stdout(), /existing CA/);
    const chain = parseCertificates((await request(`${svc.url}/ca/chain.pem`, { ca: rootBefore })).text);
    assert.equal(chain[1]!.toPem(), rootBefore, 'same root');
    assert.equal(readFileSync(join(data(), 'admin', 'token'), 'utf8'), tokenBefore);
    const list = await api(svc.url, '/api/v1/certificates?profile=device&status=revoked', {
      token: tokenBefore.trim(),
      ca: rootBefore,
    });
    assert.equal(list.status, 200, list.text);
    assert.equal(
      list.json<{ items: unknown[] }>().items.length,
      1,
      'the revoked device certificate is still there',
    );
    assert.equal(await svc.stop(), 0);
    svc = undefined;
  });

  test('refuses to start when a key file is readable by group or others', async () => {
    const keys = join(data(), 'keys');
    const k = readdirSync(keys).find((n) => n.endsWith('.key'))!;
    chmodSync(join(keys, k), 0o640);
    try {
      const r = await serveFails(['--port', '0'], { cwd: dir, env: ENV });
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /key-file-permissions: .*accessible by group or others/);
    } finally {
      chmodSync(join(keys, k), 0o600);
    }
    const adminKey = join(data(), 'admin', 'admin.key');
    chmodSync(adminKey, 0o644);
    try {
      const r = await serveFails(['--port', '0'], { cwd: dir, env: ENV });
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /key-file-permissions: .*admin\.key/);
    } finally {
      chmodSync(adminKey, 0o600);
    }
  });
});
