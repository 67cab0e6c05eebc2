import { createPublicKey } from 'node:crypto';
import type { SubjectPublicKeyInfo } from '../x509/spki.js';
import { CaError } from './errors.js';
import { type AllowedKeyType, type CaProfile, RULE_SECTIONS } from './profiles.js';

/**
 * Is a requester's public key sound? Checked before its CSR signature is even looked at: a proof
 * of possession over a broken key proves nothing. Refusals are `weak-key`:
 * - RSA (RFC 8017 §3.1): modulus below 2048 bits (NIST SP 800-131A), even (a factor of 2 is
 *   public), public exponent even, below 3, or above 2^256 (RFC 8017 allows larger; no real
 *   key uses one, and huge exponents make verification a CPU sink);
 * - EC (SEC 1 §3.2.2.1): the point must lie on the named curve and not be the point at infinity —
 *   decided by the platform's decoder (OpenSSL refuses off-curve points on import), never by
 *   arithmetic of our own;
 * - Ed25519/Ed448: the platform must accept the encoding (RFC 8032 §5.1.3 decoding).
 * Key *types* outside what fleetpki issues for (DSA, X25519, unknown OIDs) are `unsupported-algorithm`.
 */
export function checkKeySoundness(spki: SubjectPublicKeyInfo): void {
  checkKeyParameters(spki);
  try {
    createPublicKey({ key: Buffer.from(spki.der), format: 'der', type: 'spki' });
  } catch {
    throw invalidKey(spki);
  }
}

/**
 * The checks of `checkKeySoundness` that need no platform call: key type, RSA sizes and
 * exponent. The issuance pipeline runs these first and lets the platform's decoding happen where
 * the proof of possession imports the key (crypto/node.ts caches it): a key the platform refuses
 * there is `invalidKey`, never a bad signature.
 */
export function checkKeyParameters(spki: SubjectPublicKeyInfo): void {
  const k = spki.keyAlgorithm;
  switch (k.kind) {
    case 'rsa':
    case 'rsa-pss': {
      const rsa = spki.rsa;
      if (!rsa) throw weak('RSA key without modulus/exponent');
      if (spki.keySize < 2048) throw weak(`RSA key of ${spki.keySize} bits; at least 2048 are required`);
      const n = rsa.modulus;
      if ((n[n.length - 1]! & 1) === 0) throw weak('RSA modulus is even');
      const e = stripZeros(rsa.publicExponent);
      if (e.length === 0 || (e[e.length - 1]! & 1) === 0) throw weak('RSA public exponent is even');
      if (e.length === 1 && e[0]! < 3) throw weak('RSA public exponent is below 3');
      if (e.length > 32) throw weak('RSA public exponent is above 2^256');
      break;
    }
    case 'ec':
    case 'ed25519':
    case 'ed448':
      break;
    default:
      throw new CaError('unsupported-algorithm', `cannot issue for a ${spki.describe()} key`, {
        rule: 'keyType',
        section: RULE_SECTIONS.keyType,
      });
  }
}

/** The `weak-key` refusal of a key the platform cannot decode (an EC point off its curve…). */
export function invalidKey(spki: SubjectPublicKeyInfo): CaError {
  const k = spki.keyAlgorithm;
  return weak(
    k.kind === 'ec'
      ? `EC public key is not a valid ${k.curve} point (off the curve or malformed)`
      : `${spki.describe()} public key is not a valid encoding`,
  );
}

function weak(message: string): CaError {
  return new CaError('weak-key', message, { rule: 'weakKey', section: RULE_SECTIONS.weakKey });
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.subarray(i);
}

/** The profile's key-type name for a key, or undefined when none fits. */
export function allowedKeyTypeOf(spki: SubjectPublicKeyInfo): AllowedKeyType | undefined {
  const k = spki.keyAlgorithm;
  switch (k.kind) {
    case 'rsa':
      return 'rsa';
    case 'ec':
      return k.curve === 'P-256'
        ? 'ec-p256'
        : k.curve === 'P-384'
          ? 'ec-p384'
          : k.curve === 'P-521'
            ? 'ec-p521'
            : undefined;
    case 'ed25519':
    case 'ed448':
      return k.kind;
    default:
      return undefined;
  }
}

/** The profile's key rule: type allowed, RSA size within bounds (`key-type-not-allowed`). */
export function checkKeyAllowed(spki: SubjectPublicKeyInfo, profile: CaProfile): void {
  const t = allowedKeyTypeOf(spki);
  const details = { rule: 'keyType', section: RULE_SECTIONS.keyType, profile: profile.name };
  if (!t || !profile.keyTypes.includes(t))
    throw new CaError(
      'key-type-not-allowed',
      `profile ${profile.name} does not allow ${spki.describe()} keys (allowed: ${profile.keyTypes.join(', ')})`,
      details,
    );
  if (t === 'rsa' && (spki.keySize < profile.rsaMinBits || spki.keySize > profile.rsaMaxBits))
    throw new CaError(
      spki.keySize < 2048 ? 'weak-key' : 'key-type-not-allowed',
      `profile ${profile.name} allows RSA keys of ${profile.rsaMinBits}–${profile.rsaMaxBits} bits, not ${spki.keySize}`,
      details,
    );
}
