import type { CryptoProvider } from '../crypto/provider.js';

/**
 * Key identifiers (RFC 5280 §4.2.1.2). We use RFC 7093 §2 method 1: the leftmost 160 bits of
 * the SHA-256 hash of the subjectPublicKey BIT STRING value (excluding tag, length and the
 * unused-bits octet). Same length as the classic SHA-1 method (RFC 5280 §4.2.1.2 (1)), so
 * nothing downstream sees a difference, without needing SHA-1 (absent from some FIPS builds).
 * The authorityKeyIdentifier of a certificate is its issuer's subjectKeyIdentifier — copied
 * from the issuer certificate when it has one, never recomputed (a foreign CA may use SHA-1).
 */
export function keyIdentifier(subjectPublicKey: Uint8Array, provider: CryptoProvider): Uint8Array {
  const d = provider.digest('SHA-256', subjectPublicKey);
  // A 20-octet array of its own (small arrays live on the JS heap), not a view of the digest.
  const id = new Uint8Array(20);
  for (let i = 0; i < 20; i++) id[i] = d[i]!;
  return id;
}
