import { bytesEqual } from '../der/bytes.js';
import { DerError } from '../der/errors.js';
import { OID } from '../der/oid-names.js';
import { DerReader } from '../der/reader.js';
import { type AlgorithmIdentifier, parsePssParams, readAlgorithmIdentifier } from './algorithm.js';
import { X509Error } from './errors.js';

/**
 * RFC 5280 §4.1.2.7:  SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
 * Key algorithms and their parameter rules:
 * - rsaEncryption: parameters NULL (RFC 3279 §2.3.1); key RSAPublicKey ::= SEQUENCE { modulus, publicExponent }
 * - id-RSASSA-PSS: parameters absent or RSASSA-PSS-params (RFC 4055 §1.2)
 * - id-ecPublicKey: parameters namedCurve OID only (RFC 5480 §2.1.1: implicit/specified curves MUST NOT be used)
 * - Ed25519/Ed448/X25519/X448: parameters absent (RFC 8410 §3)
 */

export type PublicKeyAlgorithm =
  | { kind: 'rsa' }
  | { kind: 'rsa-pss' }
  | { kind: 'ec'; curve: string }
  | { kind: 'ed25519' }
  | { kind: 'ed448' }
  | { kind: 'x25519' }
  | { kind: 'x448' }
  | { kind: 'dsa' }
  | { kind: 'unknown'; oid: string };

const CURVES: Record<string, { name: string; bits: number; fieldBytes: number }> = {
  [OID.secp256r1]: { name: 'P-256', bits: 256, fieldBytes: 32 },
  [OID.secp384r1]: { name: 'P-384', bits: 384, fieldBytes: 48 },
  [OID.secp521r1]: { name: 'P-521', bits: 521, fieldBytes: 66 },
  [OID.secp256k1]: { name: 'secp256k1', bits: 256, fieldBytes: 32 },
};
export const CURVE_OID: Record<string, string> = {
  'P-256': OID.secp256r1,
  'P-384': OID.secp384r1,
  'P-521': OID.secp521r1,
  secp256k1: OID.secp256k1,
};

const NULL_TLV = Uint8Array.of(0x05, 0x00);

export class SubjectPublicKeyInfo {
  constructor(
    /** The exact DER of the SubjectPublicKeyInfo. */
    readonly der: Uint8Array,
    readonly algorithm: AlgorithmIdentifier,
    readonly keyAlgorithm: PublicKeyAlgorithm,
    /** The subjectPublicKey BIT STRING content (whole octets). */
    readonly publicKey: Uint8Array,
    /** RSA modulus bits, curve size, 256 for Ed25519/X25519, 448/456 for Ed448/X448, 0 if unknown. */
    readonly keySize: number,
    readonly rsa?: { modulus: Uint8Array; publicExponent: Uint8Array },
  ) {}

  /** e.g. "EC P-256", "RSA 2048", "Ed25519". */
  describe(): string {
    const k = this.keyAlgorithm;
    switch (k.kind) {
      case 'rsa':
        return `RSA ${this.keySize}`;
      case 'rsa-pss':
        return `RSA-PSS ${this.keySize}`;
      case 'ec':
        return `EC ${k.curve}`;
      case 'ed25519':
        return 'Ed25519';
      case 'ed448':
        return 'Ed448';
      case 'x25519':
        return 'X25519';
      case 'x448':
        return 'X448';
      case 'dsa':
        return 'DSA';
      case 'unknown':
        return `unknown (${k.oid})`;
    }
  }
}

function bad(msg: string, off: number, path: string[]): never {
  throw new X509Error('bad-public-key', msg, off, path);
}

function bitLength(mag: Uint8Array): number {
  if (mag.length === 0) return 0;
  return (mag.length - 1) * 8 + (32 - Math.clz32(mag[0]!));
}

export function readSpki(r: DerReader, name = 'subjectPublicKeyInfo'): SubjectPublicKeyInfo {
  const start = r.pos;
  const s = r.readSequence(name);
  const algorithm = readAlgorithmIdentifier(s, 'algorithm');
  const keyOff = s.pos;
  const publicKey = s.readBitStringBytes('subjectPublicKey');
  s.finish();
  const der = r.bytes.subarray(start, r.pos);
  const path = r.path(name);
  const p = algorithm.parameters;
  switch (algorithm.oid) {
    case OID.rsaEncryption:
    case OID.rsassaPss: {
      const pss = algorithm.oid === OID.rsassaPss;
      if (!pss && (p === undefined || !bytesEqual(p, NULL_TLV)))
        throw new X509Error(
          'bad-algorithm-parameters',
          'rsaEncryption key parameters must be NULL',
          start,
          path,
        );
      if (pss && p !== undefined) parsePssParams(p, algorithm);
      let modulus: Uint8Array;
      let publicExponent: Uint8Array;
      try {
        const kr = DerReader.from(publicKey, 'RSAPublicKey');
        const ks = kr.readSequence('RSAPublicKey');
        modulus = ks.readUnsignedInteger('modulus');
        publicExponent = ks.readUnsignedInteger('publicExponent');
        ks.finish();
        kr.finish();
      } catch (e) {
        if (e instanceof DerError) bad(`RSAPublicKey: ${e.message}`, keyOff, path);
        throw e;
      }
      if (modulus.length === 1 && modulus[0] === 0) bad('RSA modulus is zero', keyOff, path);
      if (publicExponent.length === 1 && publicExponent[0]! < 3) bad('RSA public exponent < 3', keyOff, path);
      return new SubjectPublicKeyInfo(
        der,
        algorithm,
        { kind: pss ? 'rsa-pss' : 'rsa' },
        publicKey,
        bitLength(modulus),
        {
          modulus,
          publicExponent,
        },
      );
    }
    case OID.ecPublicKey: {
      if (p === undefined || p[0] !== 0x06)
        throw new X509Error(
          'bad-algorithm-parameters',
          'EC key parameters must be a namedCurve OID',
          start,
          path,
        );
      let curveOid: string;
      try {
        const pr = DerReader.from(p, 'ECParameters');
        curveOid = pr.readOid('namedCurve');
        pr.finish();
      } catch (e) {
        if (e instanceof DerError) throw new X509Error('bad-algorithm-parameters', e.message, start, path);
        throw e;
      }
      const c = CURVES[curveOid];
      if (!c) return new SubjectPublicKeyInfo(der, algorithm, { kind: 'ec', curve: curveOid }, publicKey, 0);
      // SEC 1 §2.3.3: uncompressed 04||X||Y or compressed 02/03||X.
      const f = c.fieldBytes;
      const ok =
        (publicKey[0] === 0x04 && publicKey.length === 1 + 2 * f) ||
        ((publicKey[0] === 0x02 || publicKey[0] === 0x03) && publicKey.length === 1 + f);
      if (!ok) bad(`malformed ${c.name} point`, keyOff, path);
      return new SubjectPublicKeyInfo(der, algorithm, { kind: 'ec', curve: c.name }, publicKey, c.bits);
    }
    case OID.ed25519:
    case OID.ed448:
    case OID.x25519:
    case OID.x448: {
      if (p !== undefined)
        throw new X509Error(
          'bad-algorithm-parameters',
          'EdDSA/XDH key parameters must be absent',
          start,
          path,
        );
      const kind = (
        {
          [OID.ed25519]: 'ed25519',
          [OID.ed448]: 'ed448',
          [OID.x25519]: 'x25519',
          [OID.x448]: 'x448',
        } as const
      )[algorithm.oid];
      const len = { ed25519: 32, ed448: 57, x25519: 32, x448: 56 }[kind];
      if (publicKey.length !== len) bad(`${kind} key must be ${len} bytes`, keyOff, path);
      return new SubjectPublicKeyInfo(
        der,
        algorithm,
        { kind },
        publicKey,
        kind === 'ed448' ? 456 : kind === 'x448' ? 448 : 256,
      );
    }
    case OID.dsa:
      return new SubjectPublicKeyInfo(der, algorithm, { kind: 'dsa' }, publicKey, 0);
    default:
      return new SubjectPublicKeyInfo(der, algorithm, { kind: 'unknown', oid: algorithm.oid }, publicKey, 0);
  }
}

export function parseSpki(der: Uint8Array): SubjectPublicKeyInfo {
  const r = DerReader.from(der, 'SubjectPublicKeyInfo');
  const s = readSpki(r, 'SubjectPublicKeyInfo');
  r.finish();
  return s;
}
