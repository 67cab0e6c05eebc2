// A CA directory made by the file-based `fleetpki ca init` (ca.json + PEM files, as written before
// the CLI moved onto the store) is migrated on its first use: the hierarchy with its CRL counters,
// every issued record and revocation, the URLs; ca.json renamed; audited. Then the migrated CA
// works like any other (CRLs continue their numbering and list the old revocations, old serials
// can be revoked), a migration interrupted half-way is finished by the next command, and several
// first uses at once migrate once.
// clock-shift: skip — what this file tests runs in child processes, which keep the real clock
// (scripts/test.sh --clock-sensitive leaves it out: shifting this process's clock tests nothing).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyAudit } from '../../src/ca/audit.js';
import { openStore, type Store } from '../../src/ca/store/index.js';
import { migrateLegacyCaDir } from '../../src/cli/ca-migrate.js';
import { exportKey, generateKeyPair, KeySigner } from '../../src/crypto/index.js';
import { OID } from '../../src/der/index.js';
import { CertificateBuilder, CsrBuilder, Issuer } from '../../src/issue/index.js';
import { serialKey } from '../../src/revocation/status-source.js';
import { type Certificate, parseCertificate } from '../../src/x509/certificate.js';
import { parseCrl } from '../../src/x509/crl.js';
import { cliBundle, fleetpkiAsync, type ProcResult } from '../helpers/cli-bundle.js';

const PASS = 'legacy-pass-1';
const env = { FLEETPKI_PASSPHRASE: PASS };
const CRL_URL = 'http://127.0.0.1:8888/crl/intermediate.crl';
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'fleetpki-ca-migrate-'));
  await cliBundle();
});
after(() => rmSync(work, { recursive: true, force: true }));

function ok(r: ProcResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code ?? r.signal}\n${r.stderr}`);
}

interface Legacy {
  dir: string;
  root: Certificate;
  intermediate: Certificate;
  devices: Certificate[];
  /** Serials revoked in ca.json, with their reasons. */
  revoked: Map<string, string>;
}

/**
 * Writes a CA directory exactly as the file-based CLI left it: root/intermediate PEM certificates,
 * their keys encrypted with PASS, and ca.json (version 1) with `n` device records — certificates
 * the CA signed but whose DER only the clients kept — two of them revoked, and CRL numbers used.
 */
async function makeLegacyDir(name: string, n: number): Promise<Legacy> {
  const dir = join(work, name);
  mkdirSync(dir, { mode: 0o700 });
  const [rk, ik] = await Promise.all([generateKeyPair('ec-p256'), generateKeyPair('ec-p256')]);
  const rootSigner = await KeySigner.create(rk.privateKey);
  const root = (await new CertificateBuilder('root').subject('CN=Legacy Root CA').sign(rootSigner))
    .certificate;
  const intermediate = (
    await new CertificateBuilder('intermediate')
      .subject('CN=Legacy Issuing CA')
      .publicKey(ik.publicKey)
      .issuer(Issuer.fromCertificate(root, rootSigner))
      .sign()
  ).certificate;
  const ca = Issuer.fromCertificate(intermediate, await KeySigner.create(ik.privateKey), {
    crlDistributionPoints: [CRL_URL],
  });
  const devices: Certificate[] = [];
  for (let i = 0; i < n; i++) {
    const key = await generateKeyPair('ec-p256');
    const csr = await new CsrBuilder().subject(`CN=legacy-${i}`).sign(await KeySigner.create(key.privateKey));
    devices.push((await new CertificateBuilder('device').fromCsr(csr).issuer(ca).sign()).certificate);
  }
  const now = new Date().toISOString();
  const record = (c: Certificate, profile: string, issuer: string) => ({
    serial: c.serialHex.toLowerCase(),
    subject: c.subject.toString(),
    profile,
    issuer,
    notBefore: new Date(c.notBefore).toISOString(),
    notAfter: new Date(c.notAfter).toISOString(),
    issuedAt: now,
  });
  const revoked = new Map([
    [serialKey(devices[0]!.serialHex), 'keyCompromise'],
    [serialKey(devices[1]!.serialHex), 'certificateHold'],
  ]);
  const state = {
    version: 1,
    keyType: 'ec-p256',
    issued: [
      record(root, 'root', 'root'),
      record(intermediate, 'intermediate', 'root'),
      ...devices.map((d) => record(d, 'device', 'intermediate')),
    ],
    revoked: [...revoked].map(([serial, reason]) => ({
      serial,
      issuer: 'intermediate',
      reason,
      revokedAt: now,
    })),
    crlNumber: { root: 3, intermediate: 5 },
    revocationInfo: { crlUrls: [CRL_URL], ocspUrls: [] },
  };
  const enc = (k: Awaited<ReturnType<typeof generateKeyPair>>) =>
    exportKey(k.privateKey, { format: 'pkcs8', passphrase: PASS });
  writeFileSync(join(dir, 'root.crt'), root.toPem(), { mode: 0o644 });
  writeFileSync(join(dir, 'intermediate.crt'), intermediate.toPem(), { mode: 0o644 });
  writeFileSync(join(dir, 'root.key'), await enc(rk), { mode: 0o600 });
  writeFileSync(join(dir, 'intermediate.key'), await enc(ik), { mode: 0o600 });
  writeFileSync(join(dir, 'ca.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return { dir, root, intermediate, devices, revoked };
}

async function withStore<T>(dir: string, f: (s: Store) => Promise<T>): Promise<T> {
  const s = await openStore(`sqlite:${join(dir, 'fleetpki.db')}`, { sqlite: { writer: 'inline' } });
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

async function auditActions(s: Store): Promise<string[]> {
  return (await s.readAudit(0, 10_000)).map((r) => r.action);
}

function crlOf(text: string) {
  const crl = parseCrl(text);
  return {
    number: crl.cRLNumber!,
    entries: new Map(crl.revokedCertificates.map((r) => [serialKey(r.serialNumber), r])),
  };
}

describe('a CA directory of the file-based CLI, migrated on first use', () => {
  test('records, revocations, CRL numbers and URLs move into the store; the CA goes on', async () => {
    const L = await makeLegacyDir('legacy', 4);
    const crl = await fleetpkiAsync(['crl', 'create', '--dir', 'legacy', '--out', 'legacy-1.crl'], {
      cwd: work,
      env,
    });
    ok(crl, 'first command on the legacy directory');
    assert.ok(!existsSync(join(L.dir, 'ca.json')));
    assert.ok(existsSync(join(L.dir, 'ca.json.migrated')));

    // CRL numbering continues after the last number ca.json used, with the old revocations.
    const c = crlOf(readFileSync(join(work, 'legacy-1.crl'), 'utf8'));
    assert.equal(c.number, 6n);
    assert.deepEqual([...c.entries.keys()].sort(), [...L.revoked.keys()].sort());
    assert.equal(c.entries.get(serialKey(L.devices[1]!.serialHex))!.reasonCode, 'certificateHold');

    await withStore(L.dir, async (s) => {
      const issuers = await s.listIssuers();
      assert.deepEqual(issuers.map((i) => [i.id, i.key]).sort(), [
        ['issuing', { kind: 'file', path: 'intermediate.key' }],
        ['root', { kind: 'file', path: 'root.key' }],
      ]);
      for (const d of L.devices) {
        const [rec] = await s.findBySerial(serialKey(d.serialHex));
        assert.equal(rec?.state, 'issued');
        assert.equal(rec?.migrated, true);
        assert.equal(rec?.der, undefined, 'ca.json never held the DER');
        assert.equal(rec?.subject, d.subject.toString());
        assert.equal(rec?.profile, 'device');
        assert.equal(rec?.notAfter, d.notAfter);
        const st = await s.status('issuing', serialKey(d.serialHex));
        assert.equal(st?.status, L.revoked.has(serialKey(d.serialHex)) ? 'revoked' : 'good');
      }
      // The intermediate's own record has its DER (from intermediate.crt).
      const [int] = await s.findBySerial(serialKey(L.intermediate.serialHex));
      assert.deepEqual(Buffer.from(int!.der!), Buffer.from(L.intermediate.der));
      const actions = await auditActions(s);
      assert.equal(actions.filter((a) => a === 'migrate').length, 1);
      assert.equal(actions.filter((a) => a === 'migrate-records').length, 1);
      assert.equal((await verifyAudit(s)).ok, true);
    });

    // The URLs `ca init` recorded are in config.yaml, and new certificates carry them.
    assert.match(readFileSync(join(L.dir, 'config.yaml'), 'utf8'), /intermediate\.crl/);
    const key = await generateKeyPair('ec-p256');
    const csr = await new CsrBuilder()
      .subject('CN=after-migration')
      .sign(await KeySigner.create(key.privateKey));
    writeFileSync(join(work, 'after.csr'), csr.toPem());
    ok(
      await fleetpkiAsync(
        ['ca', 'sign', '--dir', 'legacy', '--csr', 'after.csr', '--profile', 'device', '--out', 'after.crt'],
        { cwd: work, env },
      ),
      'sign after migration',
    );
    const issued = parseCertificate(readFileSync(join(work, 'after.crt'), 'utf8'));
    assert.ok(issued.extension(OID.cRLDistributionPoints), 'the recorded CRL URL is in new certificates');
    assert.ok(issued.issuer.equals(L.intermediate.subject));

    // An old serial is revocable; the held one can be released; the next CRL shows both.
    const old = serialKey(L.devices[2]!.serialHex);
    ok(
      await fleetpkiAsync(['ca', 'revoke', '--dir', 'legacy', old, '--reason', 'superseded'], {
        cwd: work,
        env,
      }),
      'revoke a migrated serial',
    );
    ok(
      await fleetpkiAsync(['ca', 'release', '--dir', 'legacy', serialKey(L.devices[1]!.serialHex)], {
        cwd: work,
        env,
      }),
      'release a migrated hold',
    );
    ok(
      await fleetpkiAsync(['crl', 'create', '--dir', 'legacy', '--out', 'legacy-2.crl'], { cwd: work, env }),
      'crl',
    );
    const c2 = crlOf(readFileSync(join(work, 'legacy-2.crl'), 'utf8'));
    assert.equal(c2.number, 7n);
    assert.deepEqual([...c2.entries.keys()].sort(), [serialKey(L.devices[0]!.serialHex), old].sort());
    // The root's counter continued too.
    ok(
      await fleetpkiAsync(
        ['crl', 'create', '--dir', 'legacy', '--issuer', 'root', '--out', 'legacy-root.crl'],
        {
          cwd: work,
          env,
        },
      ),
      'root crl',
    );
    assert.equal(crlOf(readFileSync(join(work, 'legacy-root.crl'), 'utf8')).number, 4n);
  });

  test('a migration interrupted half-way is finished by the next command, once', async () => {
    const L = await makeLegacyDir('interrupted', 3);
    // First use dies after the hierarchy is stored, before any record is imported.
    const store = await openStore(`sqlite:${join(L.dir, 'fleetpki.db')}`, { sqlite: { writer: 'inline' } });
    const crashing = new Proxy(store, {
      get(t, p) {
        if (p === 'importCertificates') return () => Promise.reject(new Error('simulated crash'));
        const v = Reflect.get(t, p, t) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    await assert.rejects(
      migrateLegacyCaDir({ dir: L.dir, store: crashing, requester: 'cli:test' }),
      /simulated crash/,
    );
    await store.close();
    assert.ok(existsSync(join(L.dir, 'ca.json')), 'ca.json stays until the migration is complete');

    ok(
      await fleetpkiAsync(['crl', 'create', '--dir', 'interrupted', '--out', 'interrupted.crl'], {
        cwd: work,
        env,
      }),
      'next command',
    );
    assert.ok(existsSync(join(L.dir, 'ca.json.migrated')));
    assert.deepEqual(
      [...crlOf(readFileSync(join(work, 'interrupted.crl'), 'utf8')).entries.keys()].sort(),
      [...L.revoked.keys()].sort(),
    );
    await withStore(L.dir, async (s) => {
      const actions = await auditActions(s);
      assert.equal(actions.filter((a) => a === 'migrate').length, 1);
      assert.equal(actions.filter((a) => a === 'migrate-records').length, 1);
      // Running it again finds nothing to do.
      writeFileSync(join(L.dir, 'ca.json'), readFileSync(join(L.dir, 'ca.json.migrated')));
      const again = await migrateLegacyCaDir({ dir: L.dir, store: s, requester: 'cli:test' });
      assert.deepEqual(again, { created: false, imported: 0 });
      assert.equal((await auditActions(s)).length, actions.length, 'nothing audited twice');
    });
  });

  test('several first uses at once migrate once', async () => {
    const L = await makeLegacyDir('concurrent', 5);
    const runs = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        fleetpkiAsync(['crl', 'create', '--dir', 'concurrent', '--out', `concurrent-${i}.crl`], {
          cwd: work,
          env,
        }),
      ),
    );
    for (const [i, r] of runs.entries()) ok(r, `first use ${i}`);
    const numbers = [0, 1, 2, 3].map(
      (i) => crlOf(readFileSync(join(work, `concurrent-${i}.crl`), 'utf8')).number,
    );
    assert.deepEqual(numbers.sort(), [6n, 7n, 8n, 9n]);
    await withStore(L.dir, async (s) => {
      const actions = await auditActions(s);
      assert.equal(actions.filter((a) => a === 'migrate').length, 1);
      const page = await s.findCertificates({ issuerId: 'issuing', limit: 100 });
      assert.equal(page.items.length, 5);
      assert.equal((await verifyAudit(s)).ok, true);
    });
  });

  test('ca.json that is not a CA state: exit 2, one line, nothing migrated', async () => {
    const L = await makeLegacyDir('corrupt', 2);
    writeFileSync(join(L.dir, 'ca.json'), '{"version": 1, "issued": "nope"}');
    const r = await fleetpkiAsync(['crl', 'create', '--dir', 'corrupt', '--out', 'corrupt.crl'], {
      cwd: work,
      env,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot migrate .*ca\.json: issued\/revoked are not lists/);
    assert.ok(existsSync(join(L.dir, 'ca.json')));
    assert.ok(!existsSync(join(L.dir, 'fleetpki.db')), 'no store made for a directory that is not a CA');
  });
});
