// What the provisioning service refuses, over a REAL Mosquitto: each bad request gets a typed error
// answer on its answer topic and leaves no certificate row in the store; a replayed request id gets
// the certificate issued the first time (never a second one); a claim whose certificate is revoked
// is refused by the broker at connect (crlfile + SIGHUP) and by the service on a session opened
// before the revocation; a claim over its token bucket gets `rate-limited`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encode as cborEncode } from 'cbor-x';
import { encodeRequest, type PayloadFormat, type ProvisionAnswer } from '../../src/provision/codec.js';
import { provisionDevice } from '../../src/provision/device.js';
import type { ProvisionError, ProvisionErrorCode } from '../../src/provision/errors.js';
import { parseCertificate } from '../../src/x509/index.js';
import { ask, type Bed, csrFor, provisioningBed } from './env.js';

let bed: Bed;
before(async () => {
  bed = await provisioningBed();
});
after(async () => {
  await bed?.close();
});

const text = (s: string) => new TextEncoder().encode(s);
const json = (v: unknown) => text(JSON.stringify(v));

function code(a: ProvisionAnswer): ProvisionErrorCode | 'issued' {
  return 'error' in a ? a.error.code : 'issued';
}

/** A well-formed CSR request for serial `s` (subject and SAN as the sensor template wants). */
async function sensorRequest(s: string, over: Record<string, unknown> = {}) {
  return {
    v: 1,
    requestId: `req-${s}-${Math.random().toString(16).slice(2, 10)}`,
    template: 'sensor',
    attributes: { serialNumber: s },
    csr: Buffer.from(await csrFor(`CN=sensor-${s}`, [`uri:urn:acme:sensor:${s}`])).toString('base64'),
    ...over,
  };
}

describe('bad requests get a typed error answer and store nothing', () => {
  const cases: {
    name: string;
    payload: () => Promise<Uint8Array>;
    format?: PayloadFormat;
    want: ProvisionErrorCode;
    claim?: string;
  }[] = [
    { name: 'not JSON', payload: async () => text('{"v":1,'), want: 'malformed-payload' },
    {
      name: 'JSON of the wrong shape',
      payload: async () => json({ v: 1, requestId: 'x' }),
      want: 'malformed-payload',
    },
    {
      name: 'an unknown field',
      payload: async () => json({ ...(await sensorRequest('SHAPE001')), extra: true }),
      want: 'malformed-payload',
    },
    {
      name: 'a CSR that is not base64',
      payload: async () => json(await sensorRequest('B64X0001', { csr: 'not base64!' })),
      want: 'malformed-payload',
    },
    {
      name: 'CBOR with a tag',
      format: 'cbor',
      payload: async () => new Uint8Array([0xc1, 0x00]),
      want: 'malformed-payload',
    },
    {
      name: 'CBOR with trailing bytes',
      format: 'cbor',
      payload: async () => new Uint8Array([...cborEncode({ v: 1 }), 0x00]),
      want: 'malformed-payload',
    },
    {
      name: 'CBOR nested too deeply',
      format: 'cbor',
      payload: async () => new Uint8Array([0xa1, 0x61, 0x61, ...Array(20).fill(0x81), 0x00]),
      want: 'payload-too-large',
    },
    {
      name: 'an oversize payload',
      payload: async () => text(`"${'x'.repeat(20_000)}"`),
      want: 'payload-too-large',
    },
    {
      name: 'an unknown template',
      payload: async () => json(await sensorRequest('TMPL0001', { template: 'nope' })),
      want: 'unknown-template',
    },
    {
      name: 'a template the claim may not use',
      payload: async () => json(await sensorRequest('TMPL0002', { template: 'other' })),
      want: 'template-not-allowed',
    },
    {
      name: 'a required attribute missing',
      payload: async () => json(await sensorRequest('ATTR0001', { attributes: { model: 'x' } })),
      want: 'missing-attribute',
    },
    {
      name: 'an attribute outside its pattern',
      payload: async () =>
        json(await sensorRequest('ATTR0002', { attributes: { serialNumber: 'lower-case' } })),
      want: 'bad-attribute',
    },
    {
      name: 'an undeclared attribute',
      payload: async () =>
        json(await sensorRequest('ATTR0003', { attributes: { serialNumber: 'ATTR0003', x: 'y' } })),
      want: 'bad-attribute',
    },
    {
      name: "a subject outside the policy (another device's name)",
      payload: async () =>
        json(
          await sensorRequest('SUBJ0001', {
            csr: Buffer.from(await csrFor('CN=sensor-SOMEONE', ['uri:urn:acme:sensor:SUBJ0001'])).toString(
              'base64',
            ),
          }),
        ),
      want: 'subject-not-allowed',
    },
    {
      name: 'a subject attribute the template does not list',
      payload: async () =>
        json(
          await sensorRequest('SUBJ0002', {
            csr: Buffer.from(await csrFor('CN=sensor-SUBJ0002,OU=ops', [])).toString('base64'),
          }),
        ),
      want: 'subject-not-allowed',
    },
    {
      name: 'a SAN outside the policy',
      payload: async () =>
        json(
          await sensorRequest('SANX0001', {
            csr: Buffer.from(await csrFor('CN=sensor-SANX0001', ['dns:evil.example'])).toString('base64'),
          }),
        ),
      want: 'san-not-allowed',
    },
    {
      name: 'a CSR that does not parse',
      payload: async () =>
        json(await sensorRequest('CSRX0001', { csr: Buffer.from('garbage!').toString('base64') })),
      want: 'bad-csr',
    },
    {
      name: 'a CSR whose signature does not verify',
      payload: async () => {
        const der = await csrFor('CN=sensor-SIGX0001', ['uri:urn:acme:sensor:SIGX0001']);
        der[der.length - 3]! ^= 0x01; // inside the signature value
        return json(await sensorRequest('SIGX0001', { csr: Buffer.from(der).toString('base64') }));
      },
      want: 'bad-csr',
    },
    {
      name: 'a serial not on the allow-list',
      payload: async () =>
        json(
          await sensorRequest('NOTLISTED', {
            template: 'listed',
            attributes: { serialNumber: 'NOTLISTED' },
            csr: Buffer.from(await csrFor('CN=sensor-NOTLISTED', [])).toString('base64'),
          }),
        ),
      want: 'not-on-allow-list',
    },
    {
      name: 'create-key on a template without it',
      payload: async () =>
        json({
          v: 1,
          requestId: 'nokeygen-01',
          template: 'sensor',
          attributes: { serialNumber: 'KG01' },
          createKey: {},
        }),
      want: 'create-key-not-allowed',
    },
  ];
  for (const c of cases)
    it(`${c.name} → ${c.want}`, async () => {
      const before = await bed.rows();
      const a = await ask(bed, bed.claims[c.claim ?? 'factory-a']!, await c.payload(), { format: c.format });
      assert.equal(code(a), c.want, 'error' in a ? a.error.message : 'issued');
      assert.ok('error' in a && a.error.message.length > 0);
      assert.equal(await bed.rows(), before, 'nothing stored');
    });

  it('a serial on the allow-list is provisioned', async () => {
    const req = await sensorRequest('LIST0001', {
      template: 'listed',
      attributes: { serialNumber: 'LIST0001' },
      csr: Buffer.from(await csrFor('CN=sensor-LIST0001', [])).toString('base64'),
    });
    assert.equal(code(await ask(bed, bed.claims['factory-a']!, json(req))), 'issued');
  });
});

describe('idempotency per request id', () => {
  for (const format of ['json', 'cbor'] as const)
    it(`${format}: a replayed request gets the same certificate, and nothing more is stored`, async () => {
      const s = `RPLY${format.toUpperCase()}`;
      const payload = encodeRequest(
        {
          requestId: `replay-${format}-1`,
          template: 'sensor',
          attributes: { serialNumber: s },
          csr: await csrFor(`CN=sensor-${s}`),
        },
        format,
      );
      const first = await ask(bed, bed.claims['factory-a']!, payload, { format });
      const rows = await bed.rows();
      const again = await ask(bed, bed.claims['factory-a']!, payload, { format, protocol: '3.1.1' });
      assert.ok(!('error' in first) && !('error' in again));
      assert.equal(first.replayed, false);
      assert.equal(again.replayed, true);
      assert.deepEqual(again.certificates[0], first.certificates[0]);
      assert.equal(await bed.rows(), rows);
    });

  it('the same request id with another key → request-conflict', async () => {
    const req = (csr: Uint8Array) =>
      encodeRequest(
        { requestId: 'conflict-0001', template: 'sensor', attributes: { serialNumber: 'CONF0001' }, csr },
        'json',
      );
    assert.equal(
      code(await ask(bed, bed.claims['factory-a']!, req(await csrFor('CN=sensor-CONF0001')))),
      'issued',
    );
    const rows = await bed.rows();
    assert.equal(
      code(await ask(bed, bed.claims['factory-a']!, req(await csrFor('CN=sensor-CONF0001')))),
      'request-conflict',
    );
    assert.equal(await bed.rows(), rows);
  });

  it('request ids are per claim: the same id from another claim is another request', async () => {
    const req = async () =>
      encodeRequest(
        {
          requestId: 'shared-id-0001',
          template: 'sensor',
          attributes: { serialNumber: 'PERCLAIM' },
          csr: await csrFor('CN=sensor-PERCLAIM'),
        },
        'json',
      );
    const a = await ask(bed, bed.claims['factory-a']!, await req());
    const b = await ask(bed, bed.claims['factory-b']!, await req());
    assert.ok(!('error' in a) && !('error' in b));
    assert.notDeepEqual(
      parseCertificate(a.certificates[0]!).serialHex,
      parseCertificate(b.certificates[0]!).serialHex,
    );
  });
});

describe('claims', () => {
  it('over its token bucket → rate-limited (the bucket is per claim identity)', async () => {
    const slow = bed.claims.slow!;
    const bad = json({ v: 1, requestId: 'rate-00001', template: 'nope', createKey: {} });
    assert.equal(code(await ask(bed, slow, bad)), 'unknown-template');
    assert.equal(code(await ask(bed, slow, bad)), 'unknown-template');
    const third = await ask(bed, slow, bad);
    assert.equal(code(third), 'rate-limited');
    // Another claim is not affected.
    assert.equal(code(await ask(bed, bed.claims['factory-a']!, bad)), 'unknown-template');
  });

  it('a revoked claim certificate: the service refuses an open session, the broker refuses to connect', async () => {
    const claim = bed.claims['factory-b']!;
    const open = await bed.connect(claim, { clientId: 'revoked-claim-session' });
    await bed.ca.revoke(claim.serialHex, 'keyCompromise', { requester: 'cli:test' });
    const rows = await bed.rows();
    const a = await ask(bed, claim, json(await sensorRequest('REVK0001')), { client: open });
    assert.equal(code(a), 'claim-revoked');
    assert.equal(await bed.rows(), rows);

    await bed.refreshCrl();
    await assert.rejects(
      provisionDevice({
        url: bed.url,
        ca: bed.rootPem,
        claimCert: claim.certPem,
        claimKey: claim.keyPem,
        template: 'sensor',
        attributes: { serialNumber: 'REVK0002' },
        subject: 'CN=sensor-REVK0002',
      }),
      (e: ProvisionError) => e.code === 'connect-failed' && /certificate revoked/.test(e.message),
    );
  });
});
