import { bitLength } from '../der/bytes.js';
import { DerError } from '../der/errors.js';
import { OID } from '../der/oid-names.js';
import { X509Error } from '../x509/errors.js';
import {
  encodeRsaPublicKey,
  encodeSubjectPublicKeyInfo,
  NULL_PARAMETER,
  oidParameter,
  type PrivateKeyInfo,
  parseEcPrivateKey,
  parsePrivateKeyInfo,
  parseRsaPrivateKey,
} from '../x509/private-key.js';
import {
  keyAlgorithmOf,
  type PublicKeyAlgorithm,
  parseSpki,
  type SubjectPublicKeyInfo,
} from '../x509/spki.js';
import { CURVES, type CurveName, type KeyAlgorithm, supportedCurve } from './algorithms.js';
import { CryptoError } from './errors.js';

/**
 * What a SubjectPublicKeyInfo or PrivateKeyInfo holds, as far as cryptography is concerned: the
 * key is read by x509's SPKI codec (spki.ts, the one model) and narrowed here to what we sign and
 * verify with — rsaEncryption, id-ecPublicKey on P-256/384/521 with an uncompressed point
 * (RFC 5480 §2.2), Ed25519/Ed448, and DSA with parameters — so that algorithm/key pairs and
 * signature sizes are checked before any platform call. Other keys are `unsupported-key-type`;
 * keys x509 refuses are `bad-key`.
 */
export interface SpkiInfo {
  algorithm: KeyAlgorithm;
  /** subjectPublicKey bytes: EC point, Ed key, or RSAPublicKey DER. */
  key: Uint8Array;
  /** RSA: modulus length in bytes (= signature length, RFC 8017 §8.2.2 step 1). */
  modulusBytes?: number;
  /** RSA: the RSAPublicKey's integers (content octets). */
  rsa?: { modulus: Uint8Array; publicExponent: Uint8Array };
  /** DSA: the subgroup order q (range check of r and s, FIPS 186-4 §4.7). */
  dsaQ?: Uint8Array;
}

export function wrapDecodeError(e: unknown, what: string): never {
  if (e instanceof DerError || e instanceof X509Error)
    throw new CryptoError('bad-key', `malformed ${what}: ${e.message}`, { cause: e });
  throw e;
}

/** x509's key algorithm narrowed to the ones we use; RSA and DSA sizes from `bits`. */
function supportedAlgorithm(k: PublicKeyAlgorithm, oid: string, bits: number, what: string): KeyAlgorithm {
  switch (k.kind) {
    case 'rsa':
      return { kind: 'rsa', modulusBits: bits };
    case 'ec': {
      const c = supportedCurve(k.curve);
      if (!c) throw new CryptoError('unsupported-key-type', `${what}: unsupported curve ${k.curve}`);
      return { kind: 'ec', curve: c.name };
    }
    case 'ed25519':
    case 'ed448':
      return { kind: k.kind };
    case 'dsa':
      // RFC 3279 §2.3.2: absent parameters are inherited from the issuer's key; the verifier
      // must rebuild the SPKI with them before asking us (see verify/ for the inheritance).
      if (!k.params)
        throw new CryptoError(
          'bad-key',
          `${what}: DSA key without parameters (inherit them from the issuer)`,
        );
      return { kind: 'dsa', pBits: bitLength(k.params.p) };
    default:
      throw new CryptoError('unsupported-key-type', `${what}: unsupported key algorithm ${oid}`);
  }
}

/** Reads SPKI DER through x509's codec and narrows it (see SpkiInfo). */
export function parseSpkiInfo(der: Uint8Array): SpkiInfo {
  let spki: SubjectPublicKeyInfo;
  try {
    spki = parseSpki(der);
  } catch (e) {
    return wrapDecodeError(e, 'SubjectPublicKeyInfo');
  }
  return spkiInfo(spki);
}

/** Narrows a parsed SubjectPublicKeyInfo (see SpkiInfo). */
export function spkiInfo(spki: SubjectPublicKeyInfo): SpkiInfo {
  const k = spki.keyAlgorithm;
  const algorithm = supportedAlgorithm(k, spki.algorithm.oid, spki.keySize, 'SubjectPublicKeyInfo');
  const key = spki.publicKey;
  switch (algorithm.kind) {
    case 'rsa':
      return { algorithm, key, modulusBytes: spki.rsa!.modulus.length, rsa: spki.rsa };
    case 'ec': {
      const size = CURVES[algorithm.curve].size;
      // RFC 5480 §2.2: uncompressed form is what PKIX uses; compressed points are refused.
      if (key.length !== 1 + 2 * size || key[0] !== 4)
        throw new CryptoError('bad-key', `EC public key is not an uncompressed ${algorithm.curve} point`);
      return { algorithm, key };
    }
    case 'ed25519':
    case 'ed448':
      return { algorithm, key };
    case 'dsa':
      return { algorithm, key, dsaQ: (k as Extract<PublicKeyAlgorithm, { kind: 'dsa' }>).params!.q };
  }
}

export interface PrivateKeyDescription {
  algorithm: KeyAlgorithm;
  info: PrivateKeyInfo;
  /** SPKI derived from the encoding alone, when the encoding carries the public key. */
  spki?: Uint8Array;
}

/** Reads a PKCS#8 PrivateKeyInfo and, when possible without crypto, its public key. */
export function describePrivateKey(pkcs8: Uint8Array): PrivateKeyDescription {
  try {
    const info = parsePrivateKeyInfo(pkcs8);
    let algorithm = supportedAlgorithm(
      keyAlgorithmOf(info.algorithm),
      info.algorithm.oid,
      0,
      'PrivateKeyInfo',
    );
    let spki: Uint8Array | undefined;
    switch (algorithm.kind) {
      case 'rsa': {
        const k = parseRsaPrivateKey(info.privateKey);
        algorithm = { kind: 'rsa', modulusBits: bitLength(k.modulus) };
        spki = rsaSpki(k.modulus, k.publicExponent);
        break;
      }
      case 'ec': {
        const k = parseEcPrivateKey(info.privateKey);
        const c = CURVES[algorithm.curve];
        if (k.curveOid && k.curveOid !== c.oid)
          throw new CryptoError('bad-key', 'ECPrivateKey curve differs from PrivateKeyInfo');
        if (k.privateKey.length !== c.size)
          throw new CryptoError('bad-key', `EC private key must be ${c.size} bytes`);
        const pub = k.publicKey ?? info.publicKey;
        if (pub) spki = ecSpki(algorithm.curve, pub);
        break;
      }
      case 'ed25519':
      case 'ed448':
        if (info.publicKey) spki = encodeSubjectPublicKeyInfo(info.algorithm.oid, undefined, info.publicKey);
        break;
    }
    return { algorithm, info, spki };
  } catch (e) {
    return wrapDecodeError(e, 'PrivateKeyInfo');
  }
}

export function ecSpki(curve: CurveName, point: Uint8Array): Uint8Array {
  return encodeSubjectPublicKeyInfo(OID.ecPublicKey, oidParameter(CURVES[curve].oid), point);
}

export function rsaSpki(modulus: Uint8Array, publicExponent: Uint8Array): Uint8Array {
  const pub = encodeRsaPublicKey({ modulus, publicExponent });
  return encodeSubjectPublicKeyInfo(OID.rsaEncryption, NULL_PARAMETER, pub);
}
