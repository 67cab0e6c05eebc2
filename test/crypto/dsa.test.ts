import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CryptoError, verifySignature } from '../../src/crypto/index.js';
import { parseCertificate, parseSignatureAlgorithm } from '../../src/x509/index.js';

// DSA is verification-only (legacy chains, PKITS 4.1.4–4.1.6); the vectors are PKITS's own.
const pkits = (n: string) =>
  parseCertificate(readFileSync(new URL(`../../../shared/testdata/pkits/certs/${n}.crt`, import.meta.url)));

describe('DSA signature verification (PKITS vectors)', () => {
  const ca = pkits('DSACACert');
  const check = (ee: ReturnType<typeof pkits>, sig = ee.signatureValue) =>
    verifySignature(parseSignatureAlgorithm(ee.signatureAlgorithm), ca.subjectPublicKeyInfo.der, ee.tbs, sig);

  it('4.1.4 valid DSA signature verifies', () => {
    assert.equal(check(pkits('ValidDSASignaturesTest4EE')), true);
  });
  it('4.1.6 invalid DSA signature is rejected', () => {
    assert.equal(check(pkits('InvalidDSASignatureTest6EE')), false);
  });
  it('a Dss-Sig-Value with trailing bytes is rejected before the platform sees it', () => {
    const ee = pkits('ValidDSASignaturesTest4EE');
    const sig = new Uint8Array([...ee.signatureValue, 0]);
    assert.equal(check(ee, sig), false);
  });
  it('a key without parameters (to be inherited) is a typed bad-key error', () => {
    const inherited = pkits('DSAParametersInheritedCACert');
    const ee = pkits('ValidDSAParameterInheritanceTest5EE');
    assert.throws(
      () =>
        verifySignature(
          parseSignatureAlgorithm(ee.signatureAlgorithm),
          inherited.subjectPublicKeyInfo.der,
          ee.tbs,
          ee.signatureValue,
        ),
      (e: unknown) => e instanceof CryptoError && e.code === 'bad-key',
    );
  });
});
