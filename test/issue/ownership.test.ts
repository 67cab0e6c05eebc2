// Every issued certificate owns its bytes: `der` (and `tbs`, a view into it) sit in an
// ArrayBuffer no other certificate shares, so transferring one to a worker or wrapping its
// `.buffer` never reaches another certificate. Also: the in-place assembly equals x509's generic
// encoder byte for byte, whether the signature fills its room, leaves some, or needs a copy.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { generateKeyPair, type KeyPair, KeySigner, type KeyType } from '../../src/crypto/index.js';
import { bytesEqual, DerReader } from '../../src/der/index.js';
import { assembleSigned, assembleTbs } from '../../src/issue/assemble.js';
import { CertificateBuilder, type IssuedCertificate, Issuer } from '../../src/issue/index.js';
import { type Certificate, encodeSigned, Name, parseCertificate } from '../../src/x509/index.js';

const TYPES: KeyType[] = ['ec-p256', 'ec-p384', 'ec-p521', 'ed25519', 'ed448', 'rsa-2048'];
const issuers = new Map<KeyType, Issuer>();
let leaf: KeyPair;

before(async () => {
  leaf = await generateKeyPair('ec-p256');
  for (const type of TYPES) {
    const key = await generateKeyPair(type);
    const signer = await KeySigner.create(key.privateKey);
    const root = await new CertificateBuilder('root').subject(`CN=Root ${type}`).sign(signer);
    issuers.set(type, Issuer.fromCertificate(root.certificate, signer));
  }
});

function issue(type: KeyType, n: number): IssuedCertificate[] {
  const out: IssuedCertificate[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      new CertificateBuilder('device')
        .subject(Name.parse(`CN=device-${i}`))
        .publicKey(leaf.publicKey)
        .issuer(issuers.get(type)!)
        .signSync(),
    );
  return out;
}

describe('issued certificates own their bytes', () => {
  for (const type of TYPES)
    test(`${type}: one buffer per certificate, DER at offset 0, tbs inside it`, () => {
      const certs = issue(type, 40);
      const buffers = new Set(certs.map((c) => c.der.buffer));
      assert.equal(buffers.size, certs.length, 'no two certificates share a buffer');
      for (const c of certs) {
        assert.equal(c.der.byteOffset, 0);
        assert.equal(c.tbs.buffer, c.der.buffer);
        const slack = c.der.buffer.byteLength - c.der.byteLength;
        // Only ECDSA signatures vary in length (a few octets); the slack is zeros.
        assert.ok(slack >= 0 && slack <= (type.startsWith('ec-') ? 8 : 0), `slack ${slack}`);
        assert.ok(new Uint8Array(c.der.buffer, c.der.byteLength).every((b) => b === 0));
        assert.deepEqual(parseCertificate(c.der).tbs, c.tbs);
        // The serial is not a view into the CSPRNG pool (whose unused octets are future serials).
        assert.equal(c.serialNumber.buffer.byteLength, c.serialNumber.byteLength);
      }
    });

  test('transferring one certificate’s buffer leaves every other certificate intact', () => {
    const certs = issue('ec-p256', 64);
    const copies = certs.map((c) => c.der.slice());
    const victim = certs[31]!;
    const moved = structuredClone(victim.der.buffer, { transfer: [victim.der.buffer] });
    assert.equal(victim.der.byteLength, 0, 'the transferred view is detached');
    assert.deepEqual(new Uint8Array(moved, 0, copies[31]!.length), copies[31]);
    certs.forEach((c, i) => {
      if (i === 31) return;
      assert.ok(bytesEqual(c.der, copies[i]!), `certificate ${i} unchanged`);
      assert.equal(parseCertificate(c.der).subject.toString(), `CN=device-${i}`);
    });
  });

  test('wrapping `.buffer` reads this certificate only', () => {
    const [a, b] = issue('ed25519', 2);
    const whole = new Uint8Array(a!.der.buffer);
    assert.ok(bytesEqual(whole, a!.der));
    assert.ok(!bytesEqual(whole, b!.der));
  });
});

describe('in-place assembly equals the generic encoder', () => {
  const parts = () => {
    const c = issue('ec-p256', 1)[0]!.certificate;
    const sigAlg = c.signatureAlgorithm.der;
    return {
      cert: c,
      tbsParts: {
        serialNumber: c.serialNumber,
        signatureAlgorithm: sigAlg,
        issuer: c.issuer.der,
        validity: validityOf(c),
        subject: c.subject.der,
        spki: c.subjectPublicKeyInfo.der,
        extensions: c.extensions,
      },
    };
  };
  // Room for a 72-octet ECDSA signature (P-256's largest): 70 leaves slack, 72 fills it, 80
  // does not fit and is copied, and with no room at all the Certificate is always copied.
  const rows: [string, number, number, 'in place' | 'copied'][] = [
    ['shorter signature than the room', 72, 70, 'in place'],
    ['signature exactly fills the room', 72, 72, 'in place'],
    ['longer signature than the room', 72, 80, 'copied'],
    ['no room reserved', 0, 71, 'copied'],
  ];
  for (const [name, room, sigLen, how] of rows)
    test(`${name}: ${how}`, () => {
      const { cert, tbsParts } = parts();
      const t = assembleTbs(tbsParts, room === 0 ? 0 : tbsParts.signatureAlgorithm.length + 2 + room + 1);
      assert.ok(bytesEqual(t.tbs, cert.tbs), 'TBS identical to the signed one');
      const sig = new Uint8Array(sigLen).fill(0xab);
      const { der, tbs } = assembleSigned(t, tbsParts.signatureAlgorithm, sig);
      assert.ok(bytesEqual(der, encodeSigned(cert.tbs, tbsParts.signatureAlgorithm, sig)));
      assert.ok(bytesEqual(tbs, cert.tbs));
      assert.equal(der.buffer === t.buffer.buffer, how === 'in place');
    });
});

/** The Validity TLV of a parsed certificate: the fifth element of its TBS (RFC 5280 §4.1). */
function validityOf(c: Certificate): Uint8Array {
  const s = DerReader.from(c.tbs, 'TBSCertificate').readSequence('TBSCertificate');
  for (const name of ['version', 'serialNumber', 'signature', 'issuer']) s.readAny(name);
  return s.readAny('validity').der;
}
