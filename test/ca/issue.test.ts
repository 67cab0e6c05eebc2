// Authority.issue end to end on the real SQLite store: the result verified by OpenSSL against the
// root; every bad-input class refused with its code, nothing stored, the CA key never called, one
// audit record `refused:<code>`; idempotent request ids; renew and rekey; manual approval.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CaError } from '../../src/ca/errors.js';
import { type IssuedResult, verifyRequest } from '../../src/ca/pipeline.js';
import { defaultProvider } from '../../src/crypto/default-provider.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { bytesEqual, OID } from '../../src/der/index.js';
import { type CertificationRequest, parseCsr } from '../../src/x509/index.js';
import { assertVerified, type CaFixture, caFixture, pem } from './fixture.js';
import {
  badSignatureCsr,
  evenExponentCsr,
  freshSigner,
  makeCsr,
  offCurveCsr,
  rsa1024Csr,
} from './requests.js';

let f: CaFixture;
before(async () => {
  f = await caFixture({
    config: {
      profiles: {
        sensor: {
          subject: { CN: { required: true, pattern: 'sensor-[0-9a-f]{16}' } },
          approval: 'manual',
        },
      },
    },
  });
});
after(() => f?.close());

const issued = (r: Awaited<ReturnType<CaFixture['ca']['issue']>>): IssuedResult => {
  assert.equal(r.status, 'issued');
  return r as IssuedResult;
};

async function counts() {
  const all = await f.store.findCertificates({ limit: 500, states: ['reserved', 'issued', 'void'] });
  const audit = await f.store.readAudit(0, 100_000);
  return { certs: all.items.length, signatures: f.counter.total(), audit };
}

describe('issuance', () => {
  test('a device certificate: OpenSSL verifies it against the root as an SSL client', async () => {
    const csr = await makeCsr({ subject: 'CN=device-0001,O=Acme', sans: ['uri:urn:dev:acme:0001'] });
    const r = issued(await f.ca.issue(csr.toPem(), { profile: 'device', requester: 'est:bootstrap' }));
    const c = r.certificate;
    assert.equal(c.subject.toString(), 'CN=device-0001,O=Acme');
    assert.deepEqual(c.extKeyUsage, [OID.clientAuth]);
    assert.equal(c.basicConstraints?.cA, false);
    assert.equal(r.issuerId, 'issuing');
    assert.equal(r.chain.length, 2);
    assert.equal(Math.round((r.notAfter - Date.now()) / 86_400_000), 30, '30 days by default');
    f.file('device.pem', pem(r.der));
    f.file('root.pem', pem(f.ca.rootCertificate().der));
    f.file('chain.pem', f.ca.chainPem());
    f.file('int.pem', pem(r.chain[0]!.der));
    assertVerified(f.dir, 'device.pem', { root: 'root.pem', untrusted: 'int.pem', purpose: 'sslclient' });
    // Stored with its audit record.
    const rec = await f.ca.get(r.serialHex);
    assert.equal(rec?.state, 'issued');
    assert.equal(rec?.fingerprint, r.fingerprint);
    const audit = (await f.store.readAudit(0, 100_000)).filter((a) => a.serialHex === r.serialHex);
    assert.deepEqual(
      audit.map((a) => [a.action, a.result, a.actor]),
      [['issue', 'ok', 'est:bootstrap']],
    );
  });

  test('a server certificate from DER: OpenSSL verifies it as an SSL server for its name', async () => {
    const csr = await makeCsr({
      key: 'rsa-2048',
      subject: 'CN=broker.fleet.example',
      sans: ['dns:broker.fleet.example', 'ip:127.0.0.1'],
    });
    const r = issued(await f.ca.issue(csr.der, { profile: 'server', requester: 'admin:token:ops' }));
    f.file('server.pem', pem(r.der));
    assertVerified(f.dir, 'server.pem', { root: 'root.pem', untrusted: 'int.pem', purpose: 'sslserver' });
    assert.deepEqual(r.certificate.extKeyUsage, [OID.serverAuth]);
  });

  test('the chain is the issuing intermediate then the root', () => {
    const chain = f.ca.chain();
    assert.equal(chain.length, 2);
    assert.equal(chain[0]!.subject.toString(), 'CN=fleetpki Issuing CA');
    assert.equal(chain[1]!.subject.toString(), 'CN=fleetpki Root CA');
    assert.ok(f.ca.chainPem().startsWith('-----BEGIN CERTIFICATE-----'));
  });
});

describe('refused requests: typed code, nothing stored, no CA key used, audited', () => {
  const cases: {
    name: string;
    csr: () => Promise<CertificationRequest | Uint8Array | string>;
    profile?: string;
    requester?: string;
    code: string;
  }[] = [
    {
      name: 'malformed CSR (garbage)',
      csr: async () => Uint8Array.of(0x30, 0x03, 0x02, 0x01),
      code: 'malformed-csr',
    },
    {
      name: 'malformed CSR (truncated DER)',
      csr: async () => (await makeCsr({ subject: 'CN=device-trunc' })).der.slice(0, 60),
      code: 'malformed-csr',
    },
    {
      name: 'malformed CSR (PEM of something else)',
      csr: async () => pem(f.ca.rootCertificate().der),
      code: 'malformed-csr',
    },
    { name: 'bad CSR signature', csr: badSignatureCsr, code: 'bad-csr-signature' },
    { name: 'weak key: RSA-1024', csr: rsa1024Csr, code: 'weak-key' },
    { name: 'weak key: RSA with an even exponent', csr: evenExponentCsr, code: 'weak-key' },
    { name: 'weak key: EC point off the curve', csr: offCurveCsr, code: 'weak-key' },
    {
      name: 'subject outside the profile (attribute not allowed)',
      csr: () => makeCsr({ subject: 'CN=device-1,C=DE,L=Berlin' }),
      code: 'subject-not-allowed',
    },
    {
      name: 'subject outside the profile (pattern)',
      csr: () => makeCsr({ subject: 'CN=sensor-XYZ' }),
      profile: 'sensor',
      code: 'subject-not-allowed',
    },
    {
      name: 'SAN outside the profile (IP on a device)',
      csr: () => makeCsr({ subject: 'CN=device-1', sans: ['ip:10.0.0.1'] }),
      code: 'san-not-allowed',
    },
    {
      name: 'DNS:*.com',
      csr: () => makeCsr({ subject: 'CN=srv', sans: ['dns:*.com'] }),
      profile: 'server',
      code: 'san-not-allowed',
    },
    {
      name: 'URI:javascript:…',
      csr: () => makeCsr({ subject: 'CN=device-1', sans: ['uri:javascript:alert(document.cookie)'] }),
      code: 'san-not-allowed',
    },
    {
      name: "subject equal to the issuing CA's",
      csr: () => makeCsr({ subject: 'CN=fleetpki Issuing CA' }),
      code: 'subject-equals-issuer',
    },
    {
      name: 'server certificate without SAN',
      csr: () => makeCsr({ subject: 'CN=broker' }),
      profile: 'server',
      code: 'san-required',
    },
    {
      name: 'unknown profile',
      csr: () => makeCsr({ subject: 'CN=device-1' }),
      profile: 'root',
      code: 'unknown-profile',
    },
    {
      name: 'a requester the profile does not allow',
      csr: () => makeCsr({ subject: 'CN=ops', sans: ['email:ops@acme.example'] }),
      profile: 'admin',
      requester: 'est:device-7',
      code: 'forbidden',
    },
  ];
  for (const c of cases)
    test(c.name, async () => {
      const csr = await c.csr();
      const before = await counts();
      await assert.rejects(
        f.ca.issue(csr, { profile: c.profile ?? 'device', requester: c.requester ?? 'est:bootstrap' }),
        (e: unknown) => {
          assert.ok(e instanceof CaError, String(e));
          assert.equal(e.code, c.code, e.message);
          return true;
        },
      );
      const now = await counts();
      assert.equal(now.certs, before.certs, 'nothing stored (no reservation, no certificate)');
      assert.equal(now.signatures, before.signatures, 'no CA key was called');
      const added = now.audit.slice(before.audit.length);
      assert.deepEqual(
        added.map((a) => [a.action, a.result]),
        [['issue', `refused:${c.code}`]],
        'exactly one audit record, the refusal',
      );
    });

  test('the counter does count: one issuance is one signature', async () => {
    const before = f.counter.total();
    issued(
      await f.ca.issue(await makeCsr({ subject: 'CN=device-count' }), {
        profile: 'device',
        requester: 'cli:t',
      }),
    );
    assert.equal(f.counter.total() - before, 1);
  });
});

describe('malformed options', () => {
  const cases: { name: string; o: { requester: string; requestId?: string; validityDays?: number } }[] = [
    { name: 'an empty requester', o: { requester: '' } },
    { name: 'a requester with a newline', o: { requester: 'est:a\nadmin:forged' } },
    { name: 'an oversized request id', o: { requester: 'est:x', requestId: 'r'.repeat(300) } },
    { name: 'a fractional validity', o: { requester: 'est:x', validityDays: 1.5 } },
  ];
  for (const c of cases)
    test(`${c.name} is bad-request, before anything else`, async () => {
      const csr = await makeCsr({ subject: 'CN=device-opts' });
      const before = await counts();
      await assert.rejects(
        f.ca.issue(csr, { profile: 'device', ...c.o }),
        (e: unknown) => e instanceof CaError && e.code === 'bad-request',
      );
      const now = await counts();
      assert.deepEqual(
        [now.certs, now.signatures, now.audit.length],
        [before.certs, before.signatures, before.audit.length],
      );
    });

  test('a validity above the profile maximum is validity-not-allowed (audited)', async () => {
    await assert.rejects(
      f.ca.issue(await makeCsr({ subject: 'CN=device-long' }), {
        profile: 'device',
        requester: 'est:x',
        validityDays: 400,
      }),
      (e: unknown) => e instanceof CaError && e.code === 'validity-not-allowed',
    );
  });
});

describe('proof of possession is checked once', () => {
  // EST verifies a CSR before its label's rules and then hands the same object to issue().
  async function counted() {
    const calls: Uint8Array[] = [];
    const base = defaultProvider();
    const crypto = new Proxy(base, {
      get(t, k) {
        if (k === 'verifyAsync')
          return (alg: never, spki: Uint8Array, data: Uint8Array, sig: Uint8Array) => {
            calls.push(spki);
            return t.verifyAsync(alg, spki, data, sig);
          };
        const v = Reflect.get(t, k);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    }) as CryptoProvider;
    const { ca } = await f.instance({ crypto });
    return {
      ca,
      csrChecks: (csr: CertificationRequest) =>
        calls.filter((c) => bytesEqual(c, csr.subjectPublicKeyInfo.der)).length,
    };
  }

  test('a request object verified by verifyRequest is not verified again; its bytes are', async () => {
    const { ca, csrChecks } = await counted();
    const csr = await makeCsr({ subject: 'CN=device-pop-once' }, await freshSigner());
    assert.equal(verifyRequest(csr), csr);
    issued(await ca.issue(csr, { profile: 'device', requester: 'est:x' }));
    assert.equal(csrChecks(csr), 0);
    issued(await ca.issue(csr.der, { profile: 'device', requester: 'est:x' }));
    assert.equal(csrChecks(csr), 1);
  });

  test('a parsed request object that was never verified is, and a bad signature is refused', async () => {
    const { ca } = await counted();
    const bad = parseCsr(await badSignatureCsr());
    await assert.rejects(
      ca.issue(bad, { profile: 'device', requester: 'est:x' }),
      (e: unknown) => e instanceof CaError && e.code === 'bad-csr-signature',
    );
    assert.throws(
      () => verifyRequest(bad),
      (e: unknown) => e instanceof CaError && e.code === 'bad-csr-signature',
    );
  });
});

describe('request ids', () => {
  test('a retry with the same request id returns the first certificate, without signing again', async () => {
    const csr = await makeCsr({ subject: 'CN=device-retry' }, await freshSigner());
    const a = issued(await f.ca.issue(csr, { profile: 'device', requester: 'est:x', requestId: 'req-1' }));
    const sigs = f.counter.total();
    const b = issued(await f.ca.issue(csr, { profile: 'device', requester: 'est:x', requestId: 'req-1' }));
    assert.equal(b.replayed, true);
    assert.equal(b.serialHex, a.serialHex);
    assert.equal(f.counter.total(), sigs);
  });

  test('the same request id for another key is request-conflict', async () => {
    const csr = await makeCsr({ subject: 'CN=device-retry' }, await freshSigner());
    await assert.rejects(
      f.ca.issue(csr, { profile: 'device', requester: 'est:x', requestId: 'req-1' }),
      (e: unknown) => e instanceof CaError && e.code === 'request-conflict',
    );
  });
});

describe('renew and rekey', () => {
  let first: IssuedResult;
  let old: Awaited<ReturnType<typeof freshSigner>> | undefined;
  async function oldKey() {
    old ??= await freshSigner();
    return old;
  }
  before(async () => {
    // A certificate whose key the test keeps, for the key-reuse case.
    const csr = await makeCsr(
      { subject: 'CN=device-renew', sans: ['dns:renew.fleet.example'] },
      await oldKey(),
    );
    first = issued(await f.ca.issue(csr, { profile: 'device', requester: 'est:x' }));
  });

  test('renew: same key, subject and SAN; new serial; verified by OpenSSL', async () => {
    const r = await f.ca.renew(first.serialHex, { requester: 'est:x' });
    assert.notEqual(r.serialHex, first.serialHex);
    assert.ok(r.certificate.subject.equals(first.certificate.subject));
    assert.deepEqual(r.certificate.subjectAltName, first.certificate.subjectAltName);
    assert.equal(
      Buffer.compare(r.certificate.subjectPublicKeyInfo.der, first.certificate.subjectPublicKeyInfo.der),
      0,
    );
    f.file('renewed.pem', pem(r.der));
    assertVerified(f.dir, 'renewed.pem', { root: 'root.pem', untrusted: 'int.pem', purpose: 'sslclient' });
    const audit = (await f.store.readAudit(0, 100_000)).filter((a) => a.serialHex === r.serialHex);
    assert.equal(audit[0]?.action, 'renew');
  });

  test('rekey: a new key with the same subject and SAN', async () => {
    const csr = await makeCsr(
      { subject: 'CN=device-renew', sans: ['dns:renew.fleet.example'] },
      await freshSigner(),
    );
    const r = await f.ca.rekey(first.serialHex, csr, { requester: 'est:x' });
    assert.notEqual(
      Buffer.compare(r.certificate.subjectPublicKeyInfo.der, first.certificate.subjectPublicKeyInfo.der),
      0,
    );
  });

  const rekeyCases: { name: string; csr: () => Promise<CertificationRequest>; code: string }[] = [
    {
      name: 'rekey with the old key is key-reuse',
      csr: async () =>
        makeCsr({ subject: 'CN=device-renew', sans: ['dns:renew.fleet.example'] }, await oldKey()),
      code: 'key-reuse',
    },
    {
      name: 'rekey with another subject is refused',
      csr: async () =>
        makeCsr({ subject: 'CN=device-other', sans: ['dns:renew.fleet.example'] }, await freshSigner()),
      code: 'subject-not-allowed',
    },
    {
      name: 'rekey with another SAN is refused',
      csr: async () =>
        makeCsr({ subject: 'CN=device-renew', sans: ['dns:x.fleet.example'] }, await freshSigner()),
      code: 'subject-not-allowed',
    },
  ];
  for (const c of rekeyCases)
    test(c.name, async () => {
      const sigs = f.counter.total();
      await assert.rejects(
        f.ca.rekey(first.serialHex, await c.csr(), { requester: 'est:x' }),
        (e: unknown) => {
          assert.ok(e instanceof CaError && e.code === c.code, String(e));
          return true;
        },
      );
      assert.equal(f.counter.total(), sigs);
    });

  test('renewing a revoked certificate is certificate-not-valid', async () => {
    const csr = await makeCsr({ subject: 'CN=device-gone' }, await freshSigner());
    const r = issued(await f.ca.issue(csr, { profile: 'device', requester: 'est:x' }));
    await f.ca.revoke(r.serialHex, 'superseded', { requester: 'cli:t' });
    await assert.rejects(
      f.ca.renew(r.serialHex, { requester: 'est:x' }),
      (e: unknown) => e instanceof CaError && e.code === 'certificate-not-valid',
    );
  });
});

describe('manual approval', () => {
  test('a request is pending, then approved and issued; the retry with its id gets the certificate', async () => {
    const csr = await makeCsr({ subject: 'CN=sensor-0123456789abcdef' }, await freshSigner());
    const sigs = f.counter.total();
    const p = await f.ca.issue(csr, { profile: 'sensor', requester: 'est:s', requestId: 'sensor-req-1' });
    assert.deepEqual(p, { status: 'pending', pendingId: 'sensor-req-1', profile: 'sensor' });
    assert.equal(f.counter.total(), sigs, 'nothing signed while pending');
    assert.deepEqual(
      (await f.ca.listPending()).map((x) => x.id),
      ['sensor-req-1'],
    );
    const again = await f.ca.issue(csr, { profile: 'sensor', requester: 'est:s', requestId: 'sensor-req-1' });
    assert.equal(again.status, 'pending');
    const r = await f.ca.approve('sensor-req-1', { requester: 'admin:token:ops' });
    assert.equal(r.certificate.subject.toString(), 'CN=sensor-0123456789abcdef');
    await assert.rejects(
      f.ca.approve('sensor-req-1', { requester: 'admin:token:ops' }),
      (e: unknown) => e instanceof CaError && e.code === 'not-pending',
    );
    const retry = issued(
      await f.ca.issue(csr, { profile: 'sensor', requester: 'est:s', requestId: 'sensor-req-1' }),
    );
    assert.equal(retry.serialHex, r.serialHex);
    assert.equal(retry.replayed, true);
  });

  test('a rejected request stays rejected', async () => {
    const csr = await makeCsr({ subject: 'CN=sensor-fedcba9876543210' }, await freshSigner());
    const p = await f.ca.issue(csr, { profile: 'sensor', requester: 'est:s', requestId: 'sensor-req-2' });
    assert.equal(p.status, 'pending');
    await f.ca.reject('sensor-req-2', { requester: 'admin:token:ops', reason: 'unknown device' });
    assert.equal((await f.ca.getPending('sensor-req-2'))?.state, 'rejected');
    await assert.rejects(
      f.ca.issue(csr, { profile: 'sensor', requester: 'est:s', requestId: 'sensor-req-2' }),
      (e: unknown) => e instanceof CaError && e.code === 'forbidden',
    );
  });
});

describe('shutdown', () => {
  test('close() lets issuances in flight finish, then refuses new ones', async () => {
    const other = await f.instance();
    const csrs = await Promise.all(
      Array.from({ length: 5 }, async (_, i) =>
        makeCsr({ subject: `CN=device-drain-${i}` }, await freshSigner()),
      ),
    );
    const running = csrs.map((c) => other.ca.issue(c, { profile: 'device', requester: 'est:x' }));
    assert.equal(other.ca.inFlight, 5);
    await other.ca.close();
    for (const r of await Promise.all(running)) {
      assert.equal(r.status, 'issued');
      assert.equal((await f.ca.get((r as IssuedResult).serialHex))?.state, 'issued');
    }
    await assert.rejects(
      other.ca.issue(csrs[0]!, { profile: 'device', requester: 'est:x' }),
      (e: unknown) => e instanceof CaError && e.code === 'closed',
    );
  });
});
