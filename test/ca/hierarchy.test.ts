// The CA hierarchy on the real SQLite store: concurrent first starts (exactly one wins, the loser
// adopts the winner's CA and removes its key files), a root imported from OpenSSL, an intermediate
// whose key lives on a SoftHSM2 token, and rotation (old certificates stay verifiable, their CRL
// and OCSP stay served until the old issuer retires).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Authority } from '../../src/ca/authority.js';
import { parseConfig } from '../../src/ca/config.js';
import { CaError } from '../../src/ca/errors.js';
import { makeIntermediateCertificate } from '../../src/ca/hierarchy.js';
import { KeyStore } from '../../src/ca/keys.js';
import type { IssuedResult } from '../../src/ca/pipeline.js';
import { openStore } from '../../src/ca/store/index.js';
import { Pkcs11Signer } from '../../src/crypto/index.js';
import { CertificateBuilder } from '../../src/issue/index.js';
import { registerOcspRoutes } from '../../src/server/ocsp.js';
import { parseCertificate as parse } from '../../src/x509/index.js';
import { run } from '../interop/helpers.js';
import { assertVerified, caFixture, keyFiles, opensslVerify, PASSPHRASE, pem, runAsync } from './fixture.js';
import { freshSigner, makeCsr } from './requests.js';

const tmp = mkdtempSync(join(tmpdir(), 'fleetpki-hier-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(tmp, `d${n++}`);
  mkdirSync(d);
  return d;
};

async function issue(ca: Authority, cn: string, profile = 'device'): Promise<IssuedResult> {
  const r = await ca.issue(await makeCsr({ subject: `CN=${cn}` }, await freshSigner()), {
    profile,
    requester: 'cli:t',
  });
  assert.equal(r.status, 'issued');
  return r as IssuedResult;
}

describe('two concurrent first starts on one store', () => {
  test('exactly one creates the CA; the other adopts it and removes its own key files', async () => {
    const dir = fresh();
    const url = `sqlite:${join(dir, 'fleetpki.db')}`;
    const config = parseConfig({});
    const start = async () => {
      const store = await openStore(url);
      const keys = await KeyStore.open({ dataDir: dir, passphrase: PASSPHRASE });
      const r = await Authority.init({ store, keys, config, background: 'off' });
      return { ...r, store, keys };
    };
    const both = await Promise.all([start(), start(), start()]);
    try {
      assert.deepEqual(both.map((b) => b.created).sort(), [false, false, true]);
      const roots = new Set(both.map((b) => b.authority.rootCertificate().serialHex));
      assert.equal(roots.size, 1, "every instance uses the winner's root");
      const stored = (await both[0]!.store.listIssuers()).map(
        (i) => (i.key as { path: string }).path.split('/')[1],
      );
      assert.deepEqual(keyFiles(dir), stored.sort(), "only the winner's key files remain");
      const audit = await both[0]!.store.readAudit(0, 1000);
      assert.equal(audit.filter((a) => a.action === 'init').length, 1);
    } finally {
      for (const b of both) {
        await b.authority.close();
        b.keys.close();
        await b.store.close();
      }
    }
  });

  test('a restart reuses the CA; a wrong passphrase or an exposed key file refuses to start', async () => {
    const f = await caFixture({ dir: fresh() });
    const root = f.ca.rootCertificate().serialHex;
    await f.close();
    const again = await caFixture({ dir: f.dir });
    try {
      assert.equal(again.created, false);
      assert.equal(again.ca.rootCertificate().serialHex, root);
      const store = await openStore(again.dbUrl);
      const wrong = await KeyStore.open({ dataDir: f.dir, passphrase: 'wrong' });
      await assert.rejects(
        Authority.open({ store, keys: wrong, background: 'off' }),
        (e: unknown) => e instanceof CaError && e.code === 'bad-passphrase',
      );
      await store.close();
      const { chmodSync } = await import('node:fs');
      chmodSync(join(f.dir, 'keys', keyFiles(f.dir)[0]!), 0o644);
      await assert.rejects(
        KeyStore.open({ dataDir: f.dir, passphrase: PASSPHRASE }),
        (e: unknown) => e instanceof CaError && e.code === 'key-file-permissions',
      );
    } finally {
      await again.close();
    }
  });
});

describe('import', () => {
  test('a root made by OpenSSL (certificate + encrypted key file) issues certificates OpenSSL accepts', async () => {
    const dir = fresh();
    const r = run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-keyout',
        'ext-root.key',
        '-passout',
        'pass:outside',
        '-out',
        'ext-root.pem',
        '-days',
        '3650',
        '-subj',
        '/O=Elsewhere/CN=External Root',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const f = await caFixture({
      dir,
      init: {
        root: {
          certificate: readFileSync(join(dir, 'ext-root.pem'), 'utf8'),
          key: { file: join(dir, 'ext-root.key'), passphrase: 'outside' },
        },
      },
    });
    try {
      assert.equal(f.created, true);
      assert.equal(f.ca.rootCertificate().subject.toString(), 'CN=External Root,O=Elsewhere');
      const c = await issue(f.ca, 'device-imported-root');
      f.file('leaf.pem', pem(c.der));
      f.file('int.pem', pem(c.chain[0]!.der));
      assertVerified(dir, 'leaf.pem', { root: 'ext-root.pem', untrusted: 'int.pem', purpose: 'sslclient' });
      assert.equal(keyFiles(dir).length, 2, 'the root key was copied into DATA/keys (re-encrypted)');
    } finally {
      await f.close();
    }
  });

  test('an intermediate made by OpenSSL (signed with our root key file) imported with its key file', async () => {
    const f = await caFixture({ dir: fresh(), config: { profiles: { legacy: { issuer: 'legacy' } } } });
    try {
      const rootRec = (await f.store.listIssuers()).find((i) => i.role === 'root')!;
      const rootKey = join(f.dir, (rootRec.key as { path: string }).path);
      f.file('root.pem', pem(f.ca.rootCertificate().der));
      f.file(
        'ext.cnf',
        '[v3]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' +
          'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
      );
      for (const args of [
        [
          'req',
          '-new',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          'legacy.key',
          '-subj',
          '/CN=Legacy Issuing CA',
          '-out',
          'legacy.csr',
        ],
        [
          'x509',
          '-req',
          '-in',
          'legacy.csr',
          '-CA',
          'root.pem',
          '-CAkey',
          rootKey,
          '-passin',
          `pass:${PASSPHRASE}`,
          '-CAcreateserial',
          '-days',
          '365',
          '-extfile',
          'ext.cnf',
          '-extensions',
          'v3',
          '-out',
          'legacy.pem',
        ],
      ]) {
        const r = run('openssl', args, { cwd: f.dir });
        assert.equal(r.code, 0, r.stderr);
      }
      const info = await f.ca.importIssuer({
        id: 'legacy',
        certificate: readFileSync(join(f.dir, 'legacy.pem'), 'utf8'),
        key: { file: join(f.dir, 'legacy.key') },
        requester: 'cli:t',
      });
      assert.deepEqual([info.parentId, info.keyStorage, info.status], ['root', 'file', 'active']);
      assert.equal(keyFiles(f.dir).length, 3, 'copied into DATA/keys, encrypted');
      const c = await issue(f.ca, 'device-legacy', 'legacy');
      f.file('leaf.pem', pem(c.der));
      assertVerified(f.dir, 'leaf.pem', { root: 'root.pem', untrusted: 'legacy.pem', purpose: 'sslclient' });
      await assert.rejects(
        f.ca.importIssuer({
          id: 'again',
          certificate: readFileSync(join(f.dir, 'legacy.pem'), 'utf8'),
          key: { file: join(f.dir, 'legacy.key') },
          requester: 'cli:t',
        }),
        (e: unknown) => e instanceof CaError && e.code === 'bad-issuer',
        'the same CA certificate cannot be imported twice',
      );
      assert.equal(keyFiles(f.dir).length, 3, 'the refused import left no key file behind');
    } finally {
      await f.close();
    }
  });

  describe('keys on a SoftHSM2 token', () => {
    const MODULE = process.env.PKCS11_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
    // A canary long enough never to appear by chance in hashes, times or serials.
    const PIN = `pin${randomBytes(8).toString('hex')}`;
    let hsmDir: string;
    before(() => {
      hsmDir = fresh();
      mkdirSync(join(hsmDir, 'tokens'));
      const conf = join(hsmDir, 'softhsm2.conf');
      writeFileSync(
        conf,
        `directories.tokendir = ${hsmDir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
      );
      process.env.SOFTHSM2_CONF = conf;
      const r = spawnSync('softhsm2-util', [
        '--init-token',
        '--free',
        '--label',
        'fleet-ca',
        '--so-pin',
        '12345678',
        '--pin',
        PIN,
      ]);
      if (r.error) throw new Error(`softhsm2-util not found (apt-get install softhsm2): ${r.error.message}`);
      assert.equal(r.status, 0, String(r.stderr));
    });

    test('imported by certificate + PKCS#11 URI; its certificates verify; the PIN is never stored', async () => {
      const f = await caFixture({
        dir: fresh(),
        config: { profiles: { hsm: { issuer: 'hsm' } } },
      });
      const token = await Pkcs11Signer.generate({
        module: MODULE,
        tokenLabel: 'fleet-ca',
        pin: PIN,
        keyLabel: 'hsm-int',
        keyType: 'ec-p256',
      });
      try {
        const rootRec = (await f.store.listIssuers()).find((i) => i.role === 'root')!;
        const rootSigner = await f.keys.signer(rootRec.key);
        const cert = await makeIntermediateCertificate(
          { certificate: f.ca.rootCertificate(), signer: rootSigner },
          {
            subject: 'CN=HSM Issuing CA',
            publicKey: token.publicKey,
            validityDays: 365,
            pathLenConstraint: 0,
            crlUrls: [],
            now: Date.now(),
          },
        );
        await assert.rejects(
          f.ca.importIssuer({
            id: 'hsm',
            certificate: cert.der,
            key: { pkcs11: `pkcs11:token=fleet-ca;object=hsm-int?pin-value=${PIN}` },
            requester: 'cli:t',
          }),
          (e: unknown) => e instanceof CaError && /pin-value/.test(e.message),
        );
        process.env.FLEETPKI_PKCS11_PIN = PIN;
        const info = await f.ca.importIssuer({
          id: 'hsm',
          certificate: cert.der,
          key: { pkcs11: `pkcs11:token=fleet-ca;object=hsm-int;type=private?module-path=${MODULE}` },
          requester: 'cli:t',
        });
        assert.equal(info.keyStorage, 'pkcs11');
        assert.equal(info.parentId, 'root');
        const c = await issue(f.ca, 'device-on-hsm', 'hsm');
        assert.equal(c.issuerId, 'hsm');
        f.file('root.pem', pem(f.ca.rootCertificate().der));
        f.file('hsm.pem', pem(cert.der));
        f.file('leaf.pem', pem(c.der));
        assertVerified(f.dir, 'leaf.pem', { root: 'root.pem', untrusted: 'hsm.pem', purpose: 'sslclient' });
        const db = readFileSync(join(f.dir, 'fleetpki.db'));
        assert.equal(db.includes(Buffer.from(PIN)), false, 'no PIN in the database');
        const audit = JSON.stringify(await f.store.readAudit(0, 1000));
        assert.equal(audit.includes(PIN), false, 'no PIN in the audit log');
      } finally {
        delete process.env.FLEETPKI_PKCS11_PIN;
        token.close();
        await f.close();
      }
    });

    test('a root whose key is on the token: the first start signs its intermediate there', async () => {
      const token = await Pkcs11Signer.generate({
        module: MODULE,
        tokenLabel: 'fleet-ca',
        pin: PIN,
        keyLabel: 'hsm-root',
        keyType: 'ec-p384',
      });
      process.env.FLEETPKI_PKCS11_PIN = PIN;
      const dir = fresh();
      try {
        const root = (
          await new CertificateBuilder('root').subject('CN=Token Root,O=fleetpki test').sign(token)
        ).certificate;
        const f = await caFixture({
          dir,
          init: {
            root: {
              certificate: root.der,
              key: { pkcs11: `pkcs11:token=fleet-ca;object=hsm-root?module-path=${MODULE}` },
            },
          },
        });
        try {
          assert.equal(f.created, true);
          const info = f.ca.issuers().find((i) => i.role === 'root')!;
          assert.equal(info.keyStorage, 'pkcs11');
          assert.equal(keyFiles(dir).length, 1, 'only the intermediate key is a file');
          const c = await issue(f.ca, 'device-token-root');
          f.file('root.pem', pem(root.der));
          f.file('int.pem', pem(c.chain[0]!.der));
          f.file('leaf.pem', pem(c.der));
          assertVerified(dir, 'leaf.pem', { root: 'root.pem', untrusted: 'int.pem', purpose: 'sslclient' });
          f.file('root.crl.pem', pem((await f.ca.publishCrl('root')).der, 'X509 CRL'));
          const v = run('openssl', ['crl', '-in', 'root.crl.pem', '-CAfile', 'root.pem', '-noout'], {
            cwd: dir,
          });
          assert.match(v.stdout + v.stderr, /verify OK/, 'the root CRL is signed on the token');
        } finally {
          await f.close();
        }
      } finally {
        delete process.env.FLEETPKI_PKCS11_PIN;
        token.close();
      }
    });
  });
});

describe('rotation', () => {
  let now = Date.now();
  const clock = () => now;
  const servers: FastifyInstance[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  test('the new generation issues; the old one keeps its certificates verifiable, its CRL and OCSP, then retires', async () => {
    const f = await caFixture({ dir: fresh(), clock, config: { urls: { base: 'http://127.0.0.1:9' } } });
    try {
      const old = await issue(f.ca, 'device-before');
      f.file('root.pem', pem(f.ca.rootCertificate().der));
      f.file('old-int.pem', pem(old.chain[0]!.der));
      f.file('old.pem', pem(old.der));

      // A second instance, running before the rotation, with its OCSP responder in hand.
      const other = await f.instance();
      const otherResponder = await other.ca.ocspResponder();
      const info = await f.ca.rotate('issuing', { requester: 'admin:token:ops' });
      assert.equal(info.id, 'issuing-g2');
      await other.ca.refresh();
      const fromOther = await issue(other.ca, 'device-other-instance');
      assert.equal(fromOther.issuerId, 'issuing-g2', 'the other instance issues from the new generation');
      assert.deepEqual(
        otherResponder.issuerIds.sort(),
        ['issuing', 'issuing-g2'],
        'its responder answers for both',
      );
      assert.equal(info.subject, 'CN=fleetpki Issuing CA G2');
      const statuses = Object.fromEntries(f.ca.issuers().map((i) => [i.id, i.status]));
      assert.deepEqual(statuses, { root: 'active', issuing: 'retiring', 'issuing-g2': 'active' });
      assert.equal(f.ca.chain()[0]!.subject.toString(), 'CN=fleetpki Issuing CA G2', '/ca/chain.pem follows');

      const fresh2 = await issue(f.ca, 'device-after');
      assert.equal(fresh2.issuerId, 'issuing-g2');
      f.file('new-int.pem', pem(fresh2.chain[0]!.der));
      f.file('new.pem', pem(fresh2.der));
      assertVerified(f.dir, 'new.pem', { root: 'root.pem', untrusted: 'new-int.pem', purpose: 'sslclient' });
      assertVerified(f.dir, 'old.pem', { root: 'root.pem', untrusted: 'old-int.pem', purpose: 'sslclient' });

      // The retiring issuer's OCSP and CRL are still served.
      const app = Fastify();
      await registerOcspRoutes(app, { responder: await f.ca.ocspResponder() });
      await app.listen({ port: 0, host: '127.0.0.1' });
      servers.push(app);
      const a = app.server.address();
      const url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/ocsp`;
      const ask = async (int: string, cert: string) => {
        const r = await runAsync(
          'openssl',
          ['ocsp', '-issuer', int, '-cert', cert, '-url', url, '-CAfile', 'root.pem', '-no_nonce'],
          { cwd: f.dir },
        );
        return r.stdout + r.stderr;
      };
      assert.match(await ask('old-int.pem', 'old.pem'), /old\.pem: good/);
      assert.match(await ask('new-int.pem', 'new.pem'), /new\.pem: good/);
      await f.ca.revoke(old.serialHex, 'keyCompromise', { requester: 'admin:token:ops' });
      assert.match(await ask('old-int.pem', 'old.pem'), /old\.pem: revoked/);
      const crl = await f.ca.publishCrl('issuing');
      assert.equal(crl.entries, 1);
      f.file('old.crl.pem', pem(crl.der, 'X509 CRL'));
      f.file('root.crl.pem', pem((await f.ca.crl('root')).der, 'X509 CRL'));
      const v = opensslVerify(f.dir, 'old.pem', {
        root: 'root.pem',
        untrusted: 'old-int.pem',
        crls: ['old.crl.pem', 'root.crl.pem'],
        purpose: 'sslclient',
      });
      assert.match(v.out, /certificate revoked/);

      // Nothing new from a retiring issuer; it retires once its last certificate has expired.
      assert.deepEqual(await f.ca.retireExpired(), []);
      now += 31 * 86_400_000;
      assert.deepEqual(await f.ca.retireExpired(), ['issuing']);
      assert.equal(f.ca.issuers().find((i) => i.id === 'issuing')?.status, 'retired');
      await assert.rejects(
        f.ca.publishCrl('issuing'),
        (e: unknown) => e instanceof CaError && e.code === 'not-found',
      );
      assert.match(
        await ask('old-int.pem', 'old.pem'),
        /unauthorized/i,
        'a retired issuer is no longer answered for',
      );

      // The retired intermediate itself can be revoked: it goes on the root's CRL.
      const oldInt = parse(readFileSync(join(f.dir, 'old-int.pem'), 'utf8'));
      await f.ca.revoke(oldInt.serialHex, 'cessationOfOperation', { requester: 'admin:token:ops' });
      f.file('root2.crl.pem', pem((await f.ca.publishCrl('root')).der, 'X509 CRL'));
      const text = run('openssl', ['crl', '-in', 'root2.crl.pem', '-noout', '-text'], { cwd: f.dir }).stdout;
      assert.match(text, new RegExp(oldInt.serialHex.toUpperCase()));
      assert.match(text, /Cessation Of Operation/);
    } finally {
      await f.close();
    }
  });
});
