// The CMS certs-only codec against OpenSSL: byte-identical to `openssl crl2pkcs7` for the same
// inputs, read back by `openssl pkcs7 -print_certs`, and strict about everything else.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { bytesEqual, encodeDer } from '../../src/der/index.js';
import { encodeCertsOnly, parseCertsOnly } from '../../src/est/cms.js';
import { EstError, type EstErrorCode } from '../../src/est/errors.js';
import type { Certificate } from '../../src/x509/index.js';
import { type Hierarchy, makeHierarchy, tempDir } from '../helpers/fleet.js';
import { run } from '../helpers/proc.js';

let h: Hierarchy;
let device: Certificate;
let crl: Uint8Array;
const tmp = tempDir('cms');

before(async () => {
  h = await makeHierarchy('CMS');
  device = (await h.device('cms-device')).certificate;
  crl = await h.crl([device]);
  tmp.file('root.pem', h.rootPem);
  tmp.file('int.pem', h.intPem);
  tmp.file('device.pem', device.toPem());
  tmp.file('crl.der', crl);
  await run('openssl', ['crl', '-inform', 'DER', '-in', 'crl.der', '-out', 'crl.pem'], { cwd: tmp.dir });
});
after(() => tmp.remove());

async function openssl(args: string[], input?: Uint8Array): Promise<{ out: Buffer; text: string }> {
  const outFile = tmp.file(`out-${Math.random().toString(16).slice(2)}`);
  const r = await run('openssl', [...args, '-out', outFile], { cwd: tmp.dir, input });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  const out = readFileSync(outFile);
  return { out, text: out.toString('latin1') };
}

describe('certs-only encoding', () => {
  const cases: { name: string; certs: () => Certificate[]; crl: boolean; args: string[] }[] = [
    {
      name: 'one certificate (a /simpleenroll answer)',
      certs: () => [device],
      crl: false,
      args: ['-nocrl', '-certfile', 'device.pem'],
    },
    {
      name: 'intermediate then root (a /cacerts answer)',
      certs: () => [h.int.certificate, h.root.certificate],
      crl: false,
      args: ['-nocrl', '-certfile', 'int.pem', '-certfile', 'root.pem'],
    },
    {
      name: 'certificates and a CRL',
      certs: () => [device, h.int.certificate],
      crl: true,
      args: ['-in', 'crl.pem', '-certfile', 'device.pem', '-certfile', 'int.pem'],
    },
    { name: 'empty', certs: () => [], crl: false, args: ['-nocrl'] },
  ];
  for (const c of cases)
    it(`${c.name}: byte-identical to openssl crl2pkcs7`, async () => {
      const ours = encodeCertsOnly(c.certs(), c.crl ? [crl] : []);
      const theirs = await openssl(['crl2pkcs7', ...c.args, '-outform', 'DER']);
      assert.ok(bytesEqual(ours, theirs.out), 'DER differs from openssl crl2pkcs7');
    });

  it('openssl pkcs7 -print_certs reads what we write, in order', async () => {
    const der = encodeCertsOnly([device, h.int.certificate, h.root.certificate]);
    const { text } = await openssl(['pkcs7', '-inform', 'DER', '-print_certs'], der);
    const subjects = [...text.matchAll(/^subject=(.*)$/gm)].map((m) => m[1]);
    // openssl prints RDNs in DER order; the RFC 4514 text we built them from lists them reversed.
    assert.deepEqual(subjects, [
      'CN = cms-device',
      'O = fleetpki test, CN = CMS Issuing CA',
      'O = fleetpki test, CN = CMS Root',
    ]);
  });

  it('DER inputs are checked: bytes that are not a certificate are refused', () => {
    assert.throws(
      () => encodeCertsOnly([Uint8Array.of(0x30, 0x00)]),
      (e: unknown) => e instanceof EstError && e.code === 'bad-input',
    );
  });
});

describe('certs-only decoding', () => {
  it('reads openssl crl2pkcs7 output: certificates and CRL, in encoded order, exact DER', async () => {
    const { out } = await openssl([
      'crl2pkcs7',
      '-in',
      'crl.pem',
      '-certfile',
      'device.pem',
      '-certfile',
      'root.pem',
      '-outform',
      'DER',
    ]);
    const p = parseCertsOnly(out);
    assert.equal(p.certificates.length, 2);
    assert.ok(bytesEqual(p.certificates[0]!.der, device.der));
    assert.ok(bytesEqual(p.certificates[1]!.der, h.root.certificate.der));
    assert.equal(p.crls.length, 1);
    assert.ok(bytesEqual(p.crls[0]!.der, crl));
  });

  it('round-trips our own encoding', () => {
    const p = parseCertsOnly(encodeCertsOnly([h.int.certificate, h.root.certificate], [crl]));
    assert.deepEqual(
      p.certificates.map((c) => c.serialHex),
      [h.int.certificate.serialHex, h.root.certificate.serialHex],
    );
    assert.equal(p.crls[0]!.revokedCertificates.length, 1);
  });

  it('refuses a signed CMS message (openssl cms -sign): not certs-only', async () => {
    tmp.file('msg.txt', 'hello');
    tmp.file('device.key', (await h.device('signer')).keyPem);
    const signer = await h.device('cms-signer');
    tmp.file('signer.pem', signer.certPem);
    tmp.file('signer.key', signer.keyPem);
    const { out } = await openssl([
      'cms',
      '-sign',
      '-in',
      'msg.txt',
      '-signer',
      'signer.pem',
      '-inkey',
      'signer.key',
      '-nodetach',
      '-outform',
      'DER',
    ]);
    assert.throws(
      () => parseCertsOnly(out),
      (e: unknown) => e instanceof EstError && e.code === 'not-certs-only',
    );
  });

  // Hostile encodings, each built from a valid message by one targeted change.
  const certDer = () => device.der;
  const sd = (parts: {
    version?: number;
    digests?: Uint8Array;
    eci?: Uint8Array;
    certs?: Uint8Array;
    crls?: Uint8Array;
    signers?: Uint8Array;
  }) =>
    encodeDer((w) =>
      w.sequence((w) => {
        w.oid('1.2.840.113549.1.7.2');
        w.explicit(0, (w) =>
          w.sequence((w) => {
            w.integer(parts.version ?? 1);
            w.raw(parts.digests ?? Uint8Array.of(0x31, 0x00));
            w.raw(parts.eci ?? encodeDer((w) => w.sequence((w) => w.oid('1.2.840.113549.1.7.1'))));
            if (parts.certs) w.raw(parts.certs);
            if (parts.crls) w.raw(parts.crls);
            w.raw(parts.signers ?? Uint8Array.of(0x31, 0x00));
          }),
        );
      }),
    );
  const certSet = (...ders: Uint8Array[]) =>
    encodeDer((w) =>
      w.constructed(0xa0, (w) => {
        for (const d of ders) w.raw(d);
      }),
    );
  const hostile: {
    name: string;
    der: () => Uint8Array;
    code: EstErrorCode;
    limits?: { maxCertificates?: number };
  }[] = [
    { name: 'empty input', der: () => new Uint8Array(0), code: 'malformed-cms' },
    { name: 'a bare certificate', der: certDer, code: 'malformed-cms' },
    {
      name: 'trailing byte',
      der: () => Uint8Array.from([...encodeCertsOnly([device]), 0]),
      code: 'malformed-cms',
    },
    {
      name: 'truncated',
      der: () => encodeCertsOnly([device]).subarray(0, 100),
      code: 'malformed-cms',
    },
    {
      name: 'indefinite length (BER)',
      der: () => {
        const d = Uint8Array.from(encodeCertsOnly([]));
        // ContentInfo SEQUENCE length 0x23 -> 0x80 plus an end-of-contents marker.
        return Uint8Array.from([0x30, 0x80, ...d.subarray(2), 0, 0]);
      },
      code: 'malformed-cms',
    },
    {
      name: 'contentType id-data',
      der: () =>
        encodeDer((w) =>
          w.sequence((w) => {
            w.oid('1.2.840.113549.1.7.1');
            w.explicit(0, (w) => w.octetString(Uint8Array.of(1)));
          }),
        ),
      code: 'not-certs-only',
    },
    { name: 'version 3', der: () => sd({ version: 3, certs: certSet(certDer()) }), code: 'not-certs-only' },
    {
      name: 'eContentType other than id-data',
      der: () =>
        sd({
          eci: encodeDer((w) => w.sequence((w) => w.oid('1.2.840.113549.1.9.16.1.4'))),
          certs: certSet(certDer()),
        }),
      code: 'not-certs-only',
    },
    {
      name: 'eContent present',
      der: () =>
        sd({
          eci: encodeDer((w) =>
            w.sequence((w) => {
              w.oid('1.2.840.113549.1.7.1');
              w.explicit(0, (w) => w.octetString(Uint8Array.of(1)));
            }),
          ),
        }),
      code: 'not-certs-only',
    },
    {
      name: 'a signerInfo',
      der: () =>
        sd({
          certs: certSet(certDer()),
          signers: encodeDer((w) => w.constructed(0x31, (w) => w.sequence((w) => w.integer(1)))),
        }),
      code: 'not-certs-only',
    },
    {
      name: 'an attribute certificate choice [2]',
      der: () => sd({ certs: certSet(encodeDer((w) => w.constructed(0xa2, (w) => w.integer(1)))) }),
      code: 'unsupported-choice',
    },
    {
      name: 'an other revocation format [1]',
      der: () =>
        sd({
          crls: encodeDer((w) => w.constructed(0xa1, (w) => w.constructed(0xa1, (w) => w.oid('1.2.3')))),
        }),
      code: 'unsupported-choice',
    },
    {
      name: 'a corrupt certificate inside (tbsCertificate tagged SET)',
      der: () => sd({ certs: certSet(Uint8Array.from([...certDer()].map((b, i) => (i === 4 ? 0x31 : b)))) }),
      code: 'malformed-cms',
    },
    {
      name: 'more certificates than the bound',
      der: () => sd({ certs: certSet(certDer(), certDer(), certDer()) }),
      code: 'too-many-items',
      limits: { maxCertificates: 2 },
    },
    {
      name: 'more digestAlgorithms than the bound',
      der: () =>
        sd({
          digests: encodeDer((w) =>
            w.constructed(0x31, (w) => {
              for (let i = 0; i < 9; i++) w.sequence((w) => w.oid(`2.16.840.1.101.3.4.2.${i + 1}`));
            }),
          ),
        }),
      code: 'too-many-items',
    },
  ];
  for (const c of hostile)
    it(`refuses ${c.name} (${c.code})`, () => {
      assert.throws(
        () => parseCertsOnly(c.der(), c.limits),
        (e: unknown) => e instanceof EstError && e.code === c.code,
      );
    });
});
