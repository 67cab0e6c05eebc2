import { DerReader } from '../der/reader.js';
import { Tag } from '../der/tags.js';
import { encodeDer } from '../der/writer.js';
import { X509Error } from './errors.js';

/**
 * Private (and bare public) key structures as DATA: decode and encode only, no cryptography.
 * `crypto/` uses these to convert between PKCS#8, SEC1, PKCS#1 and JWK without the platform.
 * Errors: `DerError` for bad DER, `X509Error` ('bad-version', 'unknown-algorithm',
 * 'bad-algorithm-parameters', 'bad-input') for well-formed DER that is not a usable key.
 */

/**
 * RFC 5958 §2 (PKCS#8 v1 = RFC 5208):
 *   OneAsymmetricKey ::= SEQUENCE { version INTEGER (0|1), privateKeyAlgorithm AlgorithmIdentifier,
 *     privateKey OCTET STRING, attributes [0] IMPLICIT SET OF Attribute OPTIONAL,
 *     publicKey [1] IMPLICIT BIT STRING OPTIONAL -- v2 (version 1) only }
 */
export interface PrivateKeyInfo {
  version: 0 | 1;
  algorithm: { oid: string; parameters?: Uint8Array /* TLV */ };
  privateKey: Uint8Array;
  /** Raw `[0]` attributes TLV, kept so a re-encode is faithful. */
  attributes?: Uint8Array;
  publicKey?: Uint8Array;
}

export function parsePrivateKeyInfo(der: Uint8Array): PrivateKeyInfo {
  const top = DerReader.from(der, 'PrivateKeyInfo');
  const r = top.readSequence('PrivateKeyInfo');
  const version = r.readSmallInt('version', 255);
  if (version !== 0 && version !== 1)
    throw new X509Error('bad-version', `PrivateKeyInfo version ${version}`, 0);
  const alg = r.readSequence('privateKeyAlgorithm');
  const oid = alg.readOid('algorithm');
  const parameters = alg.atEnd() ? undefined : alg.readAny('parameters').der;
  alg.finish();
  const privateKey = r.readOctetString('privateKey');
  const attributes = r.peekTag() === 0xa0 ? r.readTlvBytes(0xa0, 'attributes') : undefined;
  let publicKey: Uint8Array | undefined;
  if (r.peekTag() === 0x81) {
    if (version !== 1)
      throw new X509Error('bad-version', 'publicKey [1] needs PrivateKeyInfo version 1', r.pos);
    publicKey = r.readImplicitBitString(0x81, 'publicKey').bytes;
  }
  r.finish();
  top.finish();
  return { version, algorithm: { oid, parameters }, privateKey, attributes, publicKey };
}

export function encodePrivateKeyInfo(k: PrivateKeyInfo): Uint8Array {
  return encodeDer((w) =>
    w.sequence((w) => {
      w.integer(k.publicKey ? 1 : k.version);
      w.sequence((w) => {
        w.oid(k.algorithm.oid);
        if (k.algorithm.parameters) w.raw(k.algorithm.parameters);
      });
      w.octetString(k.privateKey);
      if (k.attributes) w.raw(k.attributes);
      if (k.publicKey) w.bitString(k.publicKey, 0, 0x81);
    }),
  );
}

/**
 * RFC 5915 §3:
 *   ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING,
 *     parameters [0] EXPLICIT ECParameters OPTIONAL, publicKey [1] EXPLICIT BIT STRING OPTIONAL }
 * Only namedCurve parameters are accepted (RFC 5480 §2.1.1.1 forbids the others in PKIX).
 */
export interface EcPrivateKey {
  privateKey: Uint8Array;
  /** namedCurve OID when `[0]` is present. */
  curveOid?: string;
  /** Uncompressed SEC1 point 04||X||Y when `[1]` is present. */
  publicKey?: Uint8Array;
}

export function parseEcPrivateKey(der: Uint8Array): EcPrivateKey {
  const top = DerReader.from(der, 'ECPrivateKey');
  const r = top.readSequence('ECPrivateKey');
  const version = r.readSmallInt('version', 255);
  if (version !== 1) throw new X509Error('bad-version', `ECPrivateKey version ${version}`, 0);
  const privateKey = r.readOctetString('privateKey');
  let curveOid: string | undefined;
  const p = r.readOptionalExplicit(0, 'parameters');
  if (p) {
    if (p.peekTag() !== Tag.OID)
      throw new X509Error('bad-algorithm-parameters', 'ECParameters must be a namedCurve OID', p.pos);
    curveOid = p.readOid('namedCurve');
    p.finish();
  }
  let publicKey: Uint8Array | undefined;
  const pk = r.readOptionalExplicit(1, 'publicKey');
  if (pk) {
    publicKey = pk.readBitStringBytes('publicKey');
    pk.finish();
  }
  r.finish();
  top.finish();
  return { privateKey, curveOid, publicKey };
}

export function encodeEcPrivateKey(k: EcPrivateKey): Uint8Array {
  return encodeDer((w) =>
    w.sequence((w) => {
      w.integer(1);
      w.octetString(k.privateKey);
      if (k.curveOid) {
        const oid = k.curveOid;
        w.explicit(0, (w) => w.oid(oid));
      }
      if (k.publicKey) {
        const pub = k.publicKey;
        w.explicit(1, (w) => w.bitString(pub));
      }
    }),
  );
}

/**
 * RFC 8017 §A.1.2:
 *   RSAPrivateKey ::= SEQUENCE { version INTEGER (0), modulus, publicExponent, privateExponent,
 *     prime1, prime2, exponent1, exponent2, coefficient INTEGER }
 * Multi-prime keys (version 1, otherPrimeInfos) are refused: no platform we target signs with them.
 * All values are unsigned magnitudes (no sign octet).
 */
export interface RsaPrivateKey {
  modulus: Uint8Array;
  publicExponent: Uint8Array;
  privateExponent: Uint8Array;
  prime1: Uint8Array;
  prime2: Uint8Array;
  exponent1: Uint8Array;
  exponent2: Uint8Array;
  coefficient: Uint8Array;
}

const RSA_FIELDS = [
  'modulus',
  'publicExponent',
  'privateExponent',
  'prime1',
  'prime2',
  'exponent1',
  'exponent2',
  'coefficient',
] as const;

export function parseRsaPrivateKey(der: Uint8Array): RsaPrivateKey {
  const top = DerReader.from(der, 'RSAPrivateKey');
  const r = top.readSequence('RSAPrivateKey');
  const version = r.readSmallInt('version', 255);
  if (version !== 0)
    throw new X509Error('bad-version', `RSAPrivateKey version ${version} (multi-prime) unsupported`, 0);
  const out = {} as RsaPrivateKey;
  for (const f of RSA_FIELDS) out[f] = r.readUnsignedInteger(f);
  r.finish();
  top.finish();
  return out;
}

export function encodeRsaPrivateKey(k: RsaPrivateKey): Uint8Array {
  return encodeDer((w) =>
    w.sequence((w) => {
      w.integer(0);
      for (const f of RSA_FIELDS) w.unsignedInteger(k[f]);
    }),
  );
}

/** RFC 8017 §A.1.1:  RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
export interface RsaPublicKey {
  modulus: Uint8Array;
  publicExponent: Uint8Array;
}

export function parseRsaPublicKey(der: Uint8Array): RsaPublicKey {
  const top = DerReader.from(der, 'RSAPublicKey');
  const r = top.readSequence('RSAPublicKey');
  const modulus = r.readUnsignedInteger('modulus');
  const publicExponent = r.readUnsignedInteger('publicExponent');
  r.finish();
  top.finish();
  return { modulus, publicExponent };
}

export function encodeRsaPublicKey(k: RsaPublicKey): Uint8Array {
  return encodeDer((w) =>
    w.sequence((w) => {
      w.unsignedInteger(k.modulus);
      w.unsignedInteger(k.publicExponent);
    }),
  );
}

/**
 * RFC 8410 §7: the privateKey OCTET STRING of an Ed25519/Ed448 PrivateKeyInfo holds
 *   CurvePrivateKey ::= OCTET STRING   (32 or 57 bytes)
 */
export function parseCurvePrivateKey(privateKey: Uint8Array, size: number): Uint8Array {
  const top = DerReader.from(privateKey, 'CurvePrivateKey');
  const k = top.readOctetString('CurvePrivateKey');
  top.finish();
  if (k.length !== size)
    throw new X509Error('bad-input', `CurvePrivateKey is ${k.length} bytes, expected ${size}`, 0);
  return k;
}

export function encodeCurvePrivateKey(k: Uint8Array): Uint8Array {
  return encodeDer((w) => w.octetString(k));
}

/**
 * RFC 5280 §4.1:  SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
 * A writer for keys `crypto/` assembles (the reader is `x509/spki.ts`).
 */
export function encodeSubjectPublicKeyInfo(
  algOid: string,
  parameters: Uint8Array | undefined,
  key: Uint8Array,
): Uint8Array {
  return encodeDer((w) =>
    w.sequence((w) => {
      w.sequence((w) => {
        w.oid(algOid);
        if (parameters) w.raw(parameters);
      });
      w.bitString(key);
    }),
  );
}

/** DER of the namedCurve OID parameter / NULL parameter used in AlgorithmIdentifiers. */
export const oidParameter = (oid: string): Uint8Array => encodeDer((w) => w.oid(oid));
export const NULL_PARAMETER: Uint8Array = new Uint8Array([Tag.NULL, 0]);

/** Checks an AlgorithmIdentifier parameter is exactly NULL (RFC 3279 §2.3.1 for rsaEncryption). */
export function isNullParameter(p: Uint8Array | undefined): boolean {
  return p !== undefined && p.length === 2 && p[0] === Tag.NULL && p[1] === 0;
}
