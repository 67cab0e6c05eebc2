// CertificateCache: one parse per distinct DER, identical verdicts, bounded size, and no
// confusion between certificates whose DER differ (a hit needs identical bytes).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
// The Node entry of crypto/ makes node:crypto the default provider: verifyPathSync needs a
// synchronous one (without it every verdict below would be the same invalid-input).
import '../../src/crypto/index.js';
import { CertificateCache, SignatureCache, VerifyError, verifyPathSync } from '../../src/verify/index.js';
import { isDecodeError } from '../../src/x509/index.js';

const cert = (n: string) =>
  new Uint8Array(readFileSync(new URL(`../../../shared/testdata/pkits/certs/${n}.crt`, import.meta.url)));
const TIME = Date.parse('2021-01-01T00:00:00Z');

describe('CertificateCache', () => {
  it('returns the same object for the same bytes, a new one for other bytes', () => {
    const c = new CertificateCache();
    const a = cert('GoodCACert');
    const a1 = c.get(a);
    assert.equal(c.get(new Uint8Array(a)), a1); // equal bytes, another array
    const b = c.get(cert('ValidCertificatePathTest1EE'));
    assert.notEqual(b, a1);
    assert.equal(c.size, 2);
  });

  it('gives the same verdicts as parsing each time, good and bad', () => {
    const c = new CertificateCache();
    const base = {
      intermediates: [cert('GoodCACert')],
      trustAnchors: [cert('TrustAnchorRootCertificate')],
      time: TIME,
      policy: 'rfc5280' as const,
    };
    const expected: Record<string, string> = {
      ValidCertificatePathTest1EE: 'ok',
      InvalidEESignatureTest3EE: 'bad-signature',
    };
    for (const leaf of ['ValidCertificatePathTest1EE', 'InvalidEESignatureTest3EE']) {
      const plain = verifyPathSync({ ...base, leaf: cert(leaf) });
      assert.equal(plain.ok ? 'ok' : plain.code, expected[leaf]);
      for (let k = 0; k < 3; k++) {
        const cached = verifyPathSync({ ...base, leaf: cert(leaf), certificateCache: c });
        assert.equal(cached.ok, plain.ok);
        if (!cached.ok && !plain.ok) assert.equal(cached.code, plain.code);
      }
    }
    assert.equal(c.size, 4);
  });

  it('stays within maxEntries (oldest evicted)', () => {
    const c = new CertificateCache(2);
    c.get(cert('GoodCACert'));
    c.get(cert('TrustAnchorRootCertificate'));
    c.get(cert('ValidCertificatePathTest1EE'));
    assert.equal(c.size, 2);
  });

  it('does not cache what fails to parse', () => {
    const c = new CertificateCache();
    const bad = cert('GoodCACert').slice(0, 100);
    assert.throws(() => c.get(bad), isDecodeError);
    assert.equal(c.size, 0);
  });
});

describe('cache sizes', () => {
  it('0 caches nothing; a negative or fractional size is refused with a typed error', () => {
    const c = new CertificateCache(0);
    const a = c.get(cert('GoodCACert'));
    assert.notEqual(c.get(cert('GoodCACert')), a);
    assert.equal(c.size, 0);
    const s = new SignatureCache(0);
    s.add('k');
    assert.equal(s.has('k'), false);
    for (const bad of [-1, 1.5, Number.NaN]) {
      assert.throws(
        () => new CertificateCache(bad),
        (e: unknown) => e instanceof VerifyError && e.code === 'invalid-input',
      );
      assert.throws(
        () => new SignatureCache(bad),
        (e: unknown) => e instanceof VerifyError && e.code === 'invalid-input',
      );
    }
  });
});

describe('SignatureCache leaves option', () => {
  it('without leaves it remembers only the signatures above the leaf, and verdicts are the same', () => {
    const base = {
      intermediates: [cert('GoodCACert')],
      trustAnchors: [cert('TrustAnchorRootCertificate')],
      time: TIME,
      policy: 'rfc5280' as const,
    };
    const all = new SignatureCache();
    const above = new SignatureCache(100, { leaves: false });
    for (const leaf of ['ValidCertificatePathTest1EE', 'InvalidEESignatureTest3EE']) {
      const a = verifyPathSync({ ...base, leaf: cert(leaf), signatureCache: all });
      const b = verifyPathSync({ ...base, leaf: cert(leaf), signatureCache: above });
      assert.equal(a.ok, leaf === 'ValidCertificatePathTest1EE');
      assert.equal(a.ok, b.ok);
      if (!a.ok && !b.ok) assert.equal(a.code, b.code);
    }
    // The good leaf's and GoodCACert's signatures; the bad leaf's is never cached.
    assert.equal(all.size, 2);
    assert.equal(above.size, 1);
  });
});
