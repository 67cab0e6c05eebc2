import { fromHex } from '../der/index.js';
import type { HashName, SignatureAlgorithm } from '../x509/algorithm.js';
import { CryptoError } from './errors.js';

// The signature vocabulary is x509's (parsed from AlgorithmIdentifiers there); re-exported here
// so users of `crypto/` need only one import.
export type { HashName, SignatureAlgorithm };

/** Key types fleetpki generates. */
export type KeyType =
  | 'ec-p256'
  | 'ec-p384'
  | 'ec-p521'
  | 'ed25519'
  | 'ed448'
  | 'rsa-2048'
  | 'rsa-3072'
  | 'rsa-4096';
export const KEY_TYPES: readonly KeyType[] = [
  'ec-p256',
  'ec-p384',
  'ec-p521',
  'ed25519',
  'ed448',
  'rsa-2048',
  'rsa-3072',
  'rsa-4096',
];

export type CurveName = 'P-256' | 'P-384' | 'P-521';

/** What a key is, as read from its encoding (imported RSA keys may have any size ≥ 1024). */
export type KeyAlgorithm =
  | { kind: 'ec'; curve: CurveName }
  | { kind: 'rsa'; modulusBits: number }
  | { kind: 'ed25519' }
  | { kind: 'ed448' }
  /** Verification only (PKITS 4.1.4–5 and legacy chains); we never generate DSA keys. */
  | { kind: 'dsa'; pBits: number };

export interface CurveInfo {
  name: CurveName;
  oid: string;
  /** Field element / scalar size in bytes (P-521: 66). */
  size: number;
  /** Group order n, big-endian, for the ECDSA r/s range check (SEC 1 §4.1.4 step 1). */
  order: Uint8Array;
}

// Group orders from SEC 2 v2 §2.4.2, §2.5.1, §2.6.1 (public curve constants, not key material).
export const CURVES: Readonly<Record<CurveName, CurveInfo>> = {
  'P-256': {
    name: 'P-256',
    oid: '1.2.840.10045.3.1.7',
    size: 32,
    order: fromHex('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  },
  'P-384': {
    name: 'P-384',
    oid: '1.3.132.0.34',
    size: 48,
    order: fromHex(
      'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
    ),
  },
  'P-521': {
    name: 'P-521',
    oid: '1.3.132.0.35',
    size: 66,
    order: fromHex(
      '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
    ),
  },
};

export function curveByOid(oid: string): CurveInfo | undefined {
  if (oid === CURVES['P-256'].oid) return CURVES['P-256'];
  if (oid === CURVES['P-384'].oid) return CURVES['P-384'];
  if (oid === CURVES['P-521'].oid) return CURVES['P-521'];
  return undefined;
}

export function keyAlgorithmOfType(type: KeyType): KeyAlgorithm {
  switch (type) {
    case 'ec-p256':
      return { kind: 'ec', curve: 'P-256' };
    case 'ec-p384':
      return { kind: 'ec', curve: 'P-384' };
    case 'ec-p521':
      return { kind: 'ec', curve: 'P-521' };
    case 'ed25519':
      return { kind: 'ed25519' };
    case 'ed448':
      return { kind: 'ed448' };
    case 'rsa-2048':
      return { kind: 'rsa', modulusBits: 2048 };
    case 'rsa-3072':
      return { kind: 'rsa', modulusBits: 3072 };
    case 'rsa-4096':
      return { kind: 'rsa', modulusBits: 4096 };
  }
  throw new CryptoError('unsupported-key-type', `unknown key type ${String(type)}`);
}

/**
 * The signature algorithm a key signs with unless told otherwise: the hash matches the curve's
 * strength (RFC 5480 §4 recommends P-256/SHA-256, P-384/SHA-384, P-521/SHA-512); RSA uses
 * PKCS#1 v1.5 with SHA-256 (what every verifier accepts); EdDSA is "pure" (RFC 8410 §6).
 */
export function defaultSignatureAlgorithm(key: KeyAlgorithm): SignatureAlgorithm {
  switch (key.kind) {
    case 'ec':
      return {
        kind: 'ecdsa',
        hash: key.curve === 'P-256' ? 'SHA-256' : key.curve === 'P-384' ? 'SHA-384' : 'SHA-512',
      };
    case 'rsa':
      return { kind: 'rsa-pkcs1', hash: 'SHA-256' };
    case 'ed25519':
      return { kind: 'ed25519' };
    case 'ed448':
      return { kind: 'ed448' };
    case 'dsa':
      return { kind: 'dsa', hash: 'SHA-256' };
  }
}

/**
 * Throws `algorithm-key-mismatch` unless `alg` can be used with `key`. Only the key *type* is
 * checked: RFC 5758 §3.2 lets any ECDSA hash go with any curve, and RSA-PSS works with an
 * rsaEncryption key (RFC 4055 §1.2).
 */
export function checkAlgorithmFitsKey(alg: SignatureAlgorithm, key: KeyAlgorithm): void {
  const ok =
    (alg.kind === 'ecdsa' && key.kind === 'ec') ||
    ((alg.kind === 'rsa-pkcs1' || alg.kind === 'rsa-pss') && key.kind === 'rsa') ||
    (alg.kind === 'ed25519' && key.kind === 'ed25519') ||
    (alg.kind === 'ed448' && key.kind === 'ed448') ||
    (alg.kind === 'dsa' && key.kind === 'dsa');
  if (!ok)
    throw new CryptoError(
      'algorithm-key-mismatch',
      `${alg.kind} signature algorithm does not fit a ${key.kind} key`,
    );
}

export function hashLength(hash: HashName): number {
  switch (hash) {
    case 'SHA-1':
      return 20;
    case 'SHA-224':
      return 28;
    case 'SHA-256':
      return 32;
    case 'SHA-384':
      return 48;
    case 'SHA-512':
      return 64;
    case 'MD5':
      return 16;
  }
}

/** A short label for messages and cache keys, e.g. `ecdsa/SHA-256`, `rsa-pss/SHA-256/SHA-256/32`. */
export function algorithmLabel(alg: SignatureAlgorithm): string {
  switch (alg.kind) {
    case 'rsa-pss':
      return `rsa-pss/${alg.hash}/${alg.mgfHash}/${alg.saltLength}`;
    case 'ed25519':
    case 'ed448':
      return alg.kind;
    default:
      return `${alg.kind}/${alg.hash}`;
  }
}
