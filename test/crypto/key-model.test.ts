// One SPKI/key model: x509/spki.ts parses every SubjectPublicKeyInfo, x509/curves.ts is the only
// curve table and der/bytes.ts has the only bitLength; crypto/ narrows x509's model to the keys it
// signs and verifies with. These rows pin where the two views agree and where crypto narrows.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CryptoError, CURVES, generateKeyPair, importKey, type KeyType } from '../../src/crypto/index.js';
import { parseSpkiInfo } from '../../src/crypto/key-info.js';
import { bitLength, encodeDer, fromHex, OID } from '../../src/der/index.js';
import { curveByName, curveByOid, NAMED_CURVES, parseCertificate, parseSpki } from '../../src/x509/index.js';

const src = fileURLToPath(new URL('../../src/', import.meta.url));
const pkits = (n: string) =>
  parseCertificate(readFileSync(new URL(`../../../shared/testdata/pkits/certs/${n}.crt`, import.meta.url)));

function ecSpki(curveOid: string, point: Uint8Array): Uint8Array {
  return encodeDer((w) =>
    w.sequence((w) => {
      w.sequence((w) => w.oid(OID.ecPublicKey).oid(curveOid));
      w.bitString(point);
    }),
  );
}

describe('bitLength', () => {
  const rows: [string, string, number][] = [
    ['empty', '', 0],
    ['zero', '00', 0],
    ['one', '01', 1],
    ['0x80', '80', 8],
    ['leading zero octets ignored', '000100', 9],
    ['RSA-2048-like', `c0${'00'.repeat(255)}`, 2048],
    ['P-521 order', NAMED_CURVES[2]!.order.reduce((s, b) => s + b.toString(16).padStart(2, '0'), ''), 521],
  ];
  for (const [name, hex, bits] of rows)
    it(name, () => {
      assert.equal(bitLength(fromHex(hex)), bits);
    });
});

describe('one curve table', () => {
  for (const c of NAMED_CURVES)
    it(`${c.name}: bits is the order's bit length, lookups by name and OID agree`, () => {
      assert.equal(bitLength(c.order), c.bits);
      assert.equal(Math.ceil(c.bits / 8), c.size);
      assert.equal(curveByOid(c.oid), c);
      assert.equal(curveByName(c.name), c);
      assert.ok(Object.isFrozen(c));
    });

  it("crypto's CURVES are x509's entries, not a copy", () => {
    for (const [name, c] of Object.entries(CURVES)) assert.equal(c, curveByName(name));
  });

  it('no other module of src/ spells a curve OID or defines bitLength', () => {
    const files = (d: string): string[] =>
      readdirSync(d).flatMap((f) => {
        const p = join(d, f);
        return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
      });
    const offenders = files(src)
      .filter((f) => !/der[/\\]oid-names\.ts$|x509[/\\]curves\.ts$|der[/\\]bytes\.ts$/.test(f))
      .filter((f) =>
        /secp(256|384|521)r1|secp256k1|1\.2\.840\.10045\.3\.1\.7|function bitLength/.test(
          readFileSync(f, 'utf8'),
        ),
      );
    assert.deepEqual(offenders, []);
  });
});

describe('crypto reads keys through the x509 SPKI model', () => {
  const types: KeyType[] = ['ec-p256', 'ec-p384', 'ec-p521', 'ed25519', 'ed448', 'rsa-2048'];
  for (const type of types)
    it(`${type}: both views agree on algorithm, size and key bytes`, async () => {
      const { publicKey } = await generateKeyPair(type);
      const x = parseSpki(publicKey.spki);
      const c = parseSpkiInfo(publicKey.spki);
      assert.deepEqual(c.key, x.publicKey);
      assert.deepEqual(publicKey.algorithm, c.algorithm);
      switch (c.algorithm.kind) {
        case 'ec':
          assert.deepEqual(x.keyAlgorithm, { kind: 'ec', curve: c.algorithm.curve });
          assert.equal(x.keySize, CURVES[c.algorithm.curve].bits);
          break;
        case 'rsa':
          assert.equal(x.keySize, c.algorithm.modulusBits);
          assert.equal(c.modulusBytes, x.rsa!.modulus.length);
          break;
        default:
          assert.equal(x.keyAlgorithm.kind, c.algorithm.kind);
      }
    });

  it('DSA: x509 parses the Dss-Parms once; crypto takes q and the size of p from it', () => {
    const spki = pkits('DSACACert').subjectPublicKeyInfo;
    assert.equal(spki.keyAlgorithm.kind, 'dsa');
    const params = spki.keyAlgorithm.kind === 'dsa' ? spki.keyAlgorithm.params : undefined;
    assert.ok(params);
    assert.equal(spki.keySize, bitLength(params.p));
    const c = parseSpkiInfo(spki.der);
    assert.deepEqual(c.algorithm, { kind: 'dsa', pBits: spki.keySize });
    assert.deepEqual(c.dsaQ, params.q);
  });

  // What x509 keeps as data but crypto does not use.
  const g = curveByName('P-256')!;
  const x = new Uint8Array(32).fill(7);
  const narrowed: [string, Uint8Array, string, string][] = [
    [
      'secp256k1 key',
      ecSpki(OID.secp256k1, Uint8Array.of(4, ...x, ...x)),
      'secp256k1',
      'unsupported-key-type',
    ],
    ['compressed P-256 point (RFC 5480 §2.2)', ecSpki(g.oid, Uint8Array.of(2, ...x)), 'P-256', 'bad-key'],
    ['unknown curve', ecSpki('1.2.3.4', Uint8Array.of(4, ...x, ...x)), '1.2.3.4', 'unsupported-key-type'],
  ];
  for (const [name, der, curve, code] of narrowed)
    it(`${name}: x509 parses it, crypto refuses with ${code}`, () => {
      assert.deepEqual(parseSpki(der).keyAlgorithm, { kind: 'ec', curve });
      assert.throws(
        () => parseSpkiInfo(der),
        (e: unknown) => e instanceof CryptoError && e.code === code,
      );
    });

  it('what x509 refuses is bad-key in crypto, with the x509 error as its cause', async () => {
    const spki = ecSpki(g.oid, Uint8Array.of(4, 1, 2, 3));
    await assert.rejects(
      importKey(spki, { format: 'spki' }),
      (e: unknown) =>
        e instanceof CryptoError && e.code === 'bad-key' && (e.cause as Error).name === 'X509Error',
    );
  });
});
