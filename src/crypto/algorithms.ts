import type { HashName, SignatureAlgorithm } from '../x509/algorithm.js';
import { curveByName, curveByOid, type NamedCurve } from '../x509/curves.js';
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
/** Every `KeyType`, in the order the CLI lists them. */
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

/** A curve crypto/ signs and verifies on: an entry of x509's one curve table (x509/curves.ts). */
export interface CurveInfo extends NamedCurve {
  readonly name: CurveName;
}

const supported = (name: CurveName): CurveInfo => curveByName(name) as CurveInfo;

/** The supported curves by name (the same objects as x509's `NAMED_CURVES` entries). */
export const CURVES: Readonly<Record<CurveName, CurveInfo>> = Object.freeze({
  'P-256': supported('P-256'),
  'P-384': supported('P-384'),
  'P-521': supported('P-521'),
});

/** The supported curve named by `oid` or by a `NamedCurve` name, or undefined (x509 also knows curves we do not sign with). */
export function supportedCurve(oidOrName: string): CurveInfo | undefined {
  const c = curveByOid(oidOrName) ?? curveByName(oidOrName);
  return c && (c.name === 'P-256' || c.name === 'P-384' || c.name === 'P-521') ? (c as CurveInfo) : undefined;
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
