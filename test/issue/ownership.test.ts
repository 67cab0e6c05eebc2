// Issued certificates are assembled in shared slabs that hold certificates only (issue/assemble.ts):
// `der` and `tbs` are views into one slab, `copy()` gives bytes of their own that may be
// transferred or cloned without touching any other certificate, and what sits beside a
// certificate in its slab is other certificates (public data), never keys or pooled randomness.
// Also: the in-place assembly equals x509's generic encoder byte for byte, whether the signature
// fills its room, leaves some, or needs a copy.
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

describe('issued certificates: shared slabs, copy() of their own', () => {
  for (const type of TYPES)
    test(`${type}: der and tbs in one slab, copy() exact and separate`, () => {
      const certs = issue(type, 40);
      for (const c of certs) {
        assert.equal(c.tbs.buffer, c.der.buffer);
        assert.deepEqual(parseCertificate(c.der).tbs, c.tbs);
        const own = c.copy();
        assert.equal(own.byteOffset, 0);
        assert.equal(own.buffer.byteLength, c.der.byteLength);
        assert.notEqual(own.buffer, c.der.buffer);
        assert.ok(bytesEqual(own, c.der));
        // The serial is not a view into the CSPRNG pool (whose unused octets are future serials).
        assert.equal(c.serialNumber.buffer.byteLength, c.serialNumber.byteLength);
      }
      // Small certificates share slabs (the point of them); assemblies above 2 KiB get their own.
      const slabs = new Set(certs.map((c) => c.der.buffer));
      assert.ok(slabs.size < certs.length, `${slabs.size} slabs for ${certs.length} certificates`);
    });

  test('transferring or cloning copy() leaves every other certificate intact', () => {
    const certs = issue('ec-p256', 64);
    const before = certs.map((c) => c.copy());
    const own = certs[31]!.copy();
    const moved = structuredClone(own.buffer, { transfer: [own.buffer] });
    assert.equal(own.byteLength, 0, 'the transferred copy is detached');
    assert.ok(bytesEqual(new Uint8Array(moved), before[31]!));
    const cloned = structuredClone(certs[5]!.copy());
    assert.equal(
      cloned.buffer.byteLength,
      cloned.byteLength,
      'a clone of copy() carries the certificate only',
    );
    certs.forEach((c, i) => {
      assert.ok(bytesEqual(c.der, before[i]!), `certificate ${i} unchanged`);
      assert.equal(parseCertificate(c.der).subject.toString(), `CN=device-${i}`);
    });
  });

  test('a slab holds certificates and zero padding only', () => {
    const certs = issue('ed25519', 30);
    const slab = new Uint8Array(certs[29]!.der.buffer);
    let p = 0;
    let seen = 0;
    while (p < slab.length) {
      if (slab[p] === 0) {
        p++;
        continue;
      }
      // Every other octet starts a SEQUENCE: a Certificate, or the TBSCertificate of an assembly
      // that was prepared and never signed (its outer header is still zeros).
      assert.equal(slab[p], 0x30, `SEQUENCE at ${p}`);
      const n = sequenceLength(slab, p);
      const tlv = slab.subarray(p, p + n);
      let ok = false;
      try {
        parseCertificate(tlv);
        ok = true;
      } catch {
        ok =
          DerReader.from(tlv, 'TBSCertificate').readSequence('TBSCertificate').readAny('version').der[0] ===
          0xa0;
      }
      assert.ok(ok, `certificate material at ${p}`);
      seen++;
      p += n;
    }
    assert.ok(seen >= 2, `${seen} certificates in the slab`);
  });
});

/** Length of the whole TLV of a definite-length SEQUENCE at `p` (test helper, DER lengths). */
function sequenceLength(b: Uint8Array, p: number): number {
  const l0 = b[p + 1]!;
  if (l0 < 0x80) return 2 + l0;
  const k = l0 & 0x7f;
  let n = 0;
  for (let i = 0; i < k; i++) n = n * 256 + b[p + 2 + i]!;
  return 2 + k + n;
}

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
