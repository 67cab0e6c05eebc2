import {
  CURVES,
  checkAlgorithmFitsKey,
  type HashName,
  type KeyAlgorithm,
  type SignatureAlgorithm,
} from './algorithms.js';
import { readEcdsaSignature, readRsSignature } from './ecdsa-sig.js';
import { CryptoError } from './errors.js';
import type { SpkiInfo } from './key-info.js';

/**
 * Provider-independent checks run before any signature verification. Throws for a bad
 * question (type mismatch, unsupported algorithm); returns false for a signature value that
 * cannot be valid (so no platform ever sees BER ECDSA, r/s ∉ [1, n-1], or a wrong-length RSA or
 * EdDSA signature — platforms differ in what they tolerate there).
 */
export function precheckSignature(alg: SignatureAlgorithm, info: SpkiInfo, sig: Uint8Array): boolean {
  checkSupported(alg);
  checkAlgorithmFitsKey(alg, info.algorithm);
  switch (alg.kind) {
    case 'ecdsa':
      return (
        readEcdsaSignature(sig, CURVES[(info.algorithm as Extract<KeyAlgorithm, { kind: 'ec' }>).curve]) !==
        undefined
      );
    case 'rsa-pkcs1':
    case 'rsa-pss':
      // RFC 8017 §8.2.2 step 1 / §8.1.2 step 1: the signature is exactly k octets.
      return sig.length === info.modulusBytes;
    case 'ed25519':
      return sig.length === 64; // RFC 8032 §5.1.7
    case 'ed448':
      return sig.length === 114; // RFC 8032 §5.2.7
    case 'dsa':
      return info.dsaQ !== undefined && readRsSignature(sig, info.dsaQ) !== undefined;
    default:
      return false;
  }
}

/** Hashes a signature may use here. MD5 is refused outright (RFC 6151); SHA-1 stays available
 * because policy (verify/) decides whether legacy SHA-1 signatures are acceptable. */
export function checkHash(h: HashName): void {
  if (h === 'MD5') throw new CryptoError('unsupported-algorithm', 'MD5 signatures are not supported');
}

export function checkSupported(alg: SignatureAlgorithm): void {
  switch (alg.kind) {
    case 'dsa':
      checkHash(alg.hash);
      return;
    case 'rsa-pss':
      checkHash(alg.hash);
      checkHash(alg.mgfHash);
      if (!Number.isInteger(alg.saltLength) || alg.saltLength < 0 || alg.saltLength > 1024)
        throw new CryptoError('unsupported-algorithm', `RSASSA-PSS salt length ${alg.saltLength}`);
      return;
    case 'ecdsa':
    case 'rsa-pkcs1':
      checkHash(alg.hash);
      return;
    default:
      return;
  }
}
