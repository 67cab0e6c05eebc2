import { DerError, DerReader, OID, Tag } from '../der/index.js';
import { X509Error } from '../x509/errors.js';
import {
  encodeRsaPublicKey,
  encodeSubjectPublicKeyInfo,
  isNullParameter,
  NULL_PARAMETER,
  oidParameter,
  type PrivateKeyInfo,
  parseEcPrivateKey,
  parsePrivateKeyInfo,
  parseRsaPrivateKey,
  parseRsaPublicKey,
} from '../x509/private-key.js';
import { CURVES, type CurveName, curveByOid, type KeyAlgorithm } from './algorithms.js';
import { CryptoError } from './errors.js';

/**
 * What a SubjectPublicKeyInfo or PrivateKeyInfo holds, read strictly and cheaply (no platform
 * call): used to check algorithm/key pairs and signature sizes before any cryptography runs.
 * Accepted: rsaEncryption with NULL parameters (RFC 3279 §2.3.1), id-ecPublicKey with a
 * namedCurve P-256/384/521 and an uncompressed point (RFC 5480 §2.1.1, §2.2), Ed25519/Ed448
 * with absent parameters (RFC 8410 §3). Everything else is `unsupported-key-type` or `bad-key`.
 */
export interface SpkiInfo {
  algorithm: KeyAlgorithm;
  /** subjectPublicKey bytes: EC point, Ed key, or RSAPublicKey DER. */
  key: Uint8Array;
  /** RSA: modulus length in bytes (= signature length, RFC 8017 §8.2.2 step 1). */
  modulusBytes?: number;
  /** DSA: the subgroup order q (range check of r and s, FIPS 186-4 §4.7). */
  dsaQ?: Uint8Array;
}

export function wrapDecodeError(e: unknown, what: string): never {
  if (e instanceof DerError || e instanceof X509Error)
    throw new CryptoError('bad-key', `malformed ${what}: ${e.message}`, { cause: e });
  throw e;
}

function algorithmOf(oid: string, parameters: Uint8Array | undefined, what: string): KeyAlgorithm {
  switch (oid) {
    case OID.rsaEncryption:
      if (!isNullParameter(parameters))
        throw new CryptoError('bad-key', `${what}: rsaEncryption parameters must be NULL`);
      return { kind: 'rsa', modulusBits: 0 };
    case OID.ecPublicKey: {
      if (!parameters || parameters[0] !== Tag.OID)
        throw new CryptoError('unsupported-key-type', `${what}: EC key without a namedCurve`);
      const r = DerReader.from(parameters, 'namedCurve');
      const curveOid = r.readOid('namedCurve');
      r.finish();
      const c = curveByOid(curveOid);
      if (!c) throw new CryptoError('unsupported-key-type', `${what}: unsupported curve ${curveOid}`);
      return { kind: 'ec', curve: c.name };
    }
    case OID.ed25519:
    case OID.ed448:
      if (parameters) throw new CryptoError('bad-key', `${what}: EdDSA parameters must be absent`);
      return { kind: oid === OID.ed25519 ? 'ed25519' : 'ed448' };
    case OID.dsa:
      // RFC 3279 §2.3.2: absent parameters are inherited from the issuer's key; the verifier
      // must rebuild the SPKI with them before asking us (see verify/ for the inheritance).
      if (!parameters)
        throw new CryptoError(
          'bad-key',
          `${what}: DSA key without parameters (inherit them from the issuer)`,
        );
      return { kind: 'dsa', pBits: 0 };
    default:
      throw new CryptoError('unsupported-key-type', `${what}: unsupported key algorithm ${oid}`);
  }
}

/** Dss-Parms ::= SEQUENCE { p INTEGER, q INTEGER, g INTEGER } (RFC 3279 §2.3.2) */
function readDssParms(parameters: Uint8Array): { p: Uint8Array; q: Uint8Array; g: Uint8Array } {
  const r = DerReader.from(parameters, 'Dss-Parms');
  const s = r.readSequence('Dss-Parms');
  const p = s.readUnsignedInteger('p');
  const q = s.readUnsignedInteger('q');
  const g = s.readUnsignedInteger('g');
  s.finish();
  r.finish();
  return { p, q, g };
}

export function parseSpkiInfo(spki: Uint8Array): SpkiInfo {
  try {
    const top = DerReader.from(spki, 'SubjectPublicKeyInfo');
    const r = top.readSequence('SubjectPublicKeyInfo');
    const a = r.readSequence('algorithm');
    const oid = a.readOid('algorithm');
    const parameters = a.atEnd() ? undefined : a.readAny('parameters').der;
    a.finish();
    const key = r.readBitStringBytes('subjectPublicKey');
    r.finish();
    top.finish();
    const algorithm = algorithmOf(oid, parameters, 'SubjectPublicKeyInfo');
    switch (algorithm.kind) {
      case 'rsa': {
        const pub = parseRsaPublicKey(key);
        if (pub.modulus[0] === 0) throw new CryptoError('bad-key', 'RSA modulus is zero');
        const bits = pub.modulus.length * 8 - Math.clz32(pub.modulus[0]!) + 24;
        return { algorithm: { kind: 'rsa', modulusBits: bits }, key, modulusBytes: pub.modulus.length };
      }
      case 'ec': {
        const size = CURVES[algorithm.curve].size;
        // RFC 5480 §2.2: uncompressed form is what PKIX uses; compressed points are refused.
        if (key.length !== 1 + 2 * size || key[0] !== 4)
          throw new CryptoError('bad-key', `EC public key is not an uncompressed ${algorithm.curve} point`);
        return { algorithm, key };
      }
      case 'ed25519':
      case 'ed448':
        if (key.length !== (algorithm.kind === 'ed25519' ? 32 : 57))
          throw new CryptoError('bad-key', `${algorithm.kind} public key has ${key.length} bytes`);
        return { algorithm, key };
      case 'dsa': {
        const { p, q } = readDssParms(parameters!);
        const bits = p.length * 8 - Math.clz32(p[0]!) + 24;
        return { algorithm: { kind: 'dsa', pBits: bits }, key, dsaQ: q };
      }
    }
  } catch (e) {
    return wrapDecodeError(e, 'SubjectPublicKeyInfo');
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
    let algorithm = algorithmOf(info.algorithm.oid, info.algorithm.parameters, 'PrivateKeyInfo');
    let spki: Uint8Array | undefined;
    switch (algorithm.kind) {
      case 'rsa': {
        const k = parseRsaPrivateKey(info.privateKey);
        const bits = k.modulus.length * 8 - Math.clz32(k.modulus[0]!) + 24;
        algorithm = { kind: 'rsa', modulusBits: bits };
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
