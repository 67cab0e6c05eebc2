// Revocation through the Authority on the real SQLite store: OpenSSL reads the CRLs (the issuing
// CA's and the root's) and asks OCSP over HTTP (our responder on 127.0.0.1 via src/server/ocsp.ts);
// hold and release; a second instance on the same store sees a revocation after one poll; the
// recovery pass voids reservations a crash left behind, and OCSP never calls them good.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Authority } from '../../src/ca/authority.js';
import { parseConfig } from '../../src/ca/config.js';
import { CaError } from '../../src/ca/errors.js';
import type { IssuedResult } from '../../src/ca/pipeline.js';
import { registerOcspRoutes } from '../../src/server/ocsp.js';
import { parseCrl } from '../../src/x509/index.js';
import { run } from '../interop/helpers.js';
import { assertVerified, type CaFixture, caFixture, opensslVerify, pem, runAsync } from './fixture.js';
import { freshSigner, makeCsr } from './requests.js';

let f: CaFixture;
const servers: FastifyInstance[] = [];
after(async () => {
  for (const s of servers) await s.close();
  await f?.close();
});

/** Our OCSP routes for an Authority on 127.0.0.1:<free port>. */
async function ocspUrl(ca: Authority): Promise<string> {
  const app = Fastify();
  await registerOcspRoutes(app, { responder: await ca.ocspResponder() });
  await app.listen({ port: 0, host: '127.0.0.1' });
  servers.push(app);
  const a = app.server.address();
  return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/ocsp`;
}

/** `openssl ocsp` status line for a certificate file: good, revoked (with reason), unknown. */
async function ocsp(url: string, cert: string): Promise<{ status: string; reason?: string; out: string }> {
  const r = await runAsync(
    'openssl',
    ['ocsp', '-issuer', 'int.pem', '-cert', cert, '-url', url, '-CAfile', 'root.pem', '-no_nonce'],
    { cwd: f.dir },
  );
  const out = r.stdout + r.stderr;
  assert.match(out, /Response verify OK/, out);
  const m = new RegExp(`${cert.replace('.', '\\.')}: (good|revoked|unknown)`).exec(out);
  assert.ok(m, out);
  return { status: m[1]!, reason: /Reason: (\S+)/.exec(out)?.[1], out };
}

async function issue(cn: string): Promise<IssuedResult> {
  const r = await f.ca.issue(await makeCsr({ subject: `CN=${cn}` }, await freshSigner()), {
    profile: 'device',
    requester: 'est:t',
  });
  assert.equal(r.status, 'issued');
  f.file(`${cn}.pem`, pem((r as IssuedResult).der));
  return r as IssuedResult;
}

async function writeCrls(): Promise<void> {
  f.file('int.crl.pem', pem((await f.ca.crl('issuing')).der, 'X509 CRL'));
  f.file('root.crl.pem', pem((await f.ca.crl('root')).der, 'X509 CRL'));
}

before(async () => {
  f = await caFixture({ config: { urls: { base: 'http://127.0.0.1:9' } } });
  f.file('root.pem', pem(f.ca.rootCertificate().der));
  f.file('int.pem', pem(f.ca.chain()[0]!.der));
});

describe('revocation', () => {
  let url: string;
  before(async () => {
    url = await ocspUrl(f.ca);
  });

  test('keyCompromise: the next CRL lists it (OpenSSL verifies the CRL and refuses the chain), OCSP says revoked', async () => {
    const good = await issue('device-good');
    const bad = await issue('device-bad');
    assert.equal((await ocsp(url, 'device-bad.pem')).status, 'good');
    const published = await f.ca.publishCrl();
    assert.deepEqual(published.map((p) => p.issuerId).sort(), ['issuing', 'root'], 'the root CRL too');

    const r = await f.ca.revoke(bad.serialHex, 'keyCompromise', { requester: 'admin:token:ops' });
    assert.equal(r.reason, 'keyCompromise');
    const o = await ocsp(url, 'device-bad.pem');
    assert.equal(o.status, 'revoked', 'OCSP cache invalidated at once on this instance');
    assert.equal(o.reason, 'keyCompromise');
    assert.equal((await ocsp(url, 'device-good.pem')).status, 'good');

    const crl = await f.ca.publishCrl('issuing');
    assert.equal(crl.entries, 1);
    await writeCrls();
    const v = run('openssl', ['crl', '-in', 'int.crl.pem', '-CAfile', 'int.pem', '-noout', '-text'], {
      cwd: f.dir,
    });
    assert.match(v.stdout + v.stderr, /verify OK/);
    assert.match(v.stdout, new RegExp(bad.serialHex.toUpperCase()));
    assert.match(v.stdout, /Key Compromise/);
    const opts = {
      root: 'root.pem',
      untrusted: 'int.pem',
      crls: ['int.crl.pem', 'root.crl.pem'],
      purpose: 'sslclient',
    };
    const refused = opensslVerify(f.dir, 'device-bad.pem', opts);
    assert.equal(refused.ok, false);
    assert.match(refused.out, /certificate revoked/);
    assertVerified(f.dir, 'device-good.pem', opts);
    void good;
  });

  test('CRL numbers increase with every publication (RFC 5280 §5.2.3)', async () => {
    const a = await f.ca.publishCrl('issuing');
    const b = await f.ca.publishCrl('issuing');
    assert.ok(b.crlNumber > a.crlNumber);
    assert.equal((await f.ca.crl('issuing')).crlNumber, b.crlNumber);
  });

  test('a second revocation is already-revoked; a bad reason is bad-reason; an unknown serial not-found', async () => {
    const c = await issue('device-twice');
    await f.ca.revoke(c.serialHex, 'superseded', { requester: 'cli:t' });
    await assert.rejects(
      f.ca.revoke(c.serialHex, 'keyCompromise', { requester: 'cli:t' }),
      (e: unknown) => e instanceof CaError && e.code === 'already-revoked',
    );
    await assert.rejects(
      f.ca.revoke(c.serialHex, 'removeFromCRL', { requester: 'cli:t' }),
      (e: unknown) => e instanceof CaError && e.code === 'bad-reason',
    );
    await assert.rejects(
      f.ca.revoke('4000deadbeef', 'keyCompromise', { requester: 'cli:t' }),
      (e: unknown) => e instanceof CaError && e.code === 'not-found',
    );
  });

  test('certificateHold, then release: revoked (certificateHold) and listed, then good and unlisted', async () => {
    const c = await issue('device-hold');
    await f.ca.revoke(c.serialHex, 'certificateHold', { requester: 'admin:token:ops' });
    const held = await ocsp(url, 'device-hold.pem');
    assert.equal(held.status, 'revoked');
    assert.equal(held.reason, 'certificateHold');
    await f.ca.publishCrl();
    await writeCrls();
    const opts = {
      root: 'root.pem',
      untrusted: 'int.pem',
      crls: ['int.crl.pem', 'root.crl.pem'],
      purpose: 'sslclient',
    };
    assert.equal(opensslVerify(f.dir, 'device-hold.pem', opts).ok, false);

    await f.ca.releaseHold(c.serialHex, { requester: 'admin:token:ops' });
    assert.equal((await ocsp(url, 'device-hold.pem')).status, 'good');
    await f.ca.publishCrl();
    await writeCrls();
    assertVerified(f.dir, 'device-hold.pem', opts);
    await assert.rejects(
      f.ca.releaseHold(c.serialHex, { requester: 'admin:token:ops' }),
      (e: unknown) => e instanceof CaError && e.code === 'not-on-hold',
    );
    const actions = (await f.store.readAudit(0, 100_000))
      .filter((a) => a.serialHex === c.serialHex)
      .map((a) => `${a.action}:${a.result}`);
    assert.deepEqual(actions, [
      'issue:ok',
      'revoke:ok',
      'release-hold:ok',
      'release-hold:refused:not-on-hold',
    ]);
  });

  test('the intermediate is recorded under the root (its revocation goes on the root CRL)', async () => {
    const int = f.ca.chain()[0]!;
    const rec = await f.ca.get(int.serialHex, 'root');
    assert.equal(rec?.state, 'issued', 'the intermediate is recorded under the root');
  });
});

describe('several instances on one store', () => {
  test('a revocation on instance 1 is revoked in OCSP on instance 2 after one poll', async () => {
    const two = await f.instance();
    const url2 = await ocspUrl(two.ca);
    const c = await issue('device-shared');
    assert.equal((await ocsp(url2, 'device-shared.pem')).status, 'good', 'instance 2 caches a good answer');
    await f.ca.revoke(c.serialHex, 'keyCompromise', { requester: 'admin:token:ops' });
    await two.ca.pollStatusChanges();
    assert.equal((await ocsp(url2, 'device-shared.pem')).status, 'revoked');
  });
});

describe('several instances, with their timers', () => {
  test('instance 2 polls by itself (background on) and serves the revocation', async () => {
    const two = await f.instance({
      background: 'on',
      config: parseConfig({ ocsp: { pollIntervalMs: 100 } }),
    });
    const url2 = await ocspUrl(two.ca);
    const c = await issue('device-polled');
    assert.equal((await ocsp(url2, 'device-polled.pem')).status, 'good');
    await f.ca.revoke(c.serialHex, 'cessationOfOperation', { requester: 'admin:token:ops' });
    // Waits for the poll timer (100 ms); bounded so a broken timer fails the test instead of hanging.
    let status = 'good';
    for (let i = 0; i < 100 && status === 'good'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await ocsp(url2, 'device-polled.pem')).status;
    }
    assert.equal(status, 'revoked');
  });
});

describe('CRLs on change and on schedule', () => {
  /** Waits (bounded) until `f` returns true; polls every 50 ms. */
  async function until(what: string, f: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (await f()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`timed out waiting for ${what}`);
  }

  test('a revocation republishes the CRL after the debounce; the schedule republishes by itself', async () => {
    const three = await f.instance({
      background: 'on',
      config: parseConfig({ crl: { debounceMs: 50, refreshSeconds: 1 } }),
    });
    const c = await issue('device-crl-on-change');
    const listed = async () => {
      const crl = await f.store.latestCrl('issuing');
      return (
        crl !== undefined && parseCrl(crl.der).revokedCertificates.some((e) => e.serialHex === c.serialHex)
      );
    };
    assert.equal(await listed(), false);
    await three.ca.revoke(c.serialHex, 'affiliationChanged', { requester: 'admin:token:ops' });
    await until('the CRL listing the revocation', listed);
    const n = (await f.store.latestCrl('root'))!.crlNumber;
    await until('a scheduled root CRL', async () => (await f.store.latestCrl('root'))!.crlNumber > n);
  });
});

describe('recovery', () => {
  test('a reservation left by a crash is voided at open (audited recover); OCSP never says good for it', async () => {
    // What a crash between reserve and complete leaves: the reservation of a fully prepared TBS.
    const c = await issue('device-template');
    const serialHex = '4a'.repeat(17);
    const reserved = await f.store.reserve({
      issuerId: 'issuing',
      serialHex,
      profile: 'device',
      subject: 'CN=device-crashed',
      sans: [],
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      tbs: c.certificate.tbs,
      requester: 'est:t',
      reservedAt: Date.now() - 60_000,
    });
    assert.equal(reserved, 'reserved');
    assert.equal(await f.store.status('issuing', serialHex), undefined, 'a reservation is not good');
    const next = await f.instance();
    assert.deepEqual(await f.store.unresolvedReservations(Date.now(), 10), []);
    assert.equal((await next.ca.get(serialHex))?.state, 'void');
    const audit = (await f.store.readAudit(0, 100_000)).filter((a) => a.serialHex === serialHex);
    assert.deepEqual(
      audit.map((a) => `${a.action}:${a.result}`),
      ['recover:ok'],
    );
    const r = await runAsync(
      'openssl',
      [
        'ocsp',
        '-issuer',
        'int.pem',
        '-serial',
        `0x${serialHex}`,
        '-url',
        await ocspUrl(next.ca),
        '-CAfile',
        'root.pem',
        '-no_nonce',
      ],
      { cwd: f.dir },
    );
    assert.match(r.stdout, /: unknown/);
  });

  test('a fresh reservation (another instance issuing right now) is left alone', async () => {
    const c = await issue('device-template-2');
    const serialHex = '4b'.repeat(17);
    await f.store.reserve({
      issuerId: 'issuing',
      serialHex,
      profile: 'device',
      subject: 'CN=device-in-flight',
      sans: [],
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      tbs: c.certificate.tbs,
      requester: 'est:t',
      reservedAt: Date.now(),
    });
    assert.equal(await f.ca.recover(), 0);
    assert.equal((await f.ca.get(serialHex))?.state, 'reserved');
    assert.equal(await f.ca.recover({ before: Date.now() + 1 }), 1);
  });
});
