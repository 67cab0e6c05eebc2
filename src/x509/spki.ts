import { bitLength, bytesEqual } from '../der/bytes.js';
import { DerError } from '../der/errors.js';
import { OID } from '../der/oid-names.js';
import { DerReader } from '../der/reader.js';
import { type AlgorithmIdentifier, parsePssParams, readAlgorithmIdentifier } from './algorithm.js';
import { curveByName, curveByOid } from './curves.js';
import { X509Error } from './errors.js';

/**
 * RFC 5280 §4.1.2.7:  SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
 * Key algorithms and their parameter rules:
 * - rsaEncryption: parameters NULL (RFC 3279 §2.3.1); key RSAPublicKey ::= SEQUENCE { modulus, publicExponent }
 * - id-RSASSA-PSS: parameters absent or RSASSA-PSS-params (RFC 4055 §1.2)
 * - id-ecPublicKey: parameters namedCurve OID only (RFC 5480 §2.1.1: implicit/specified curves MUST NOT be used)
 * - Ed25519/Ed448/X25519/X448: parameters absent (RFC 8410 §3)
 * - id-dsa: parameters Dss-Parms ::= SEQUENCE { p, q, g INTEGER }, or absent to inherit the
 *   issuer's (RFC 3279 §2.3.2)
 *
 * This is the one SPKI model: crypto/ reads keys through it and only adds what it supports.
 */

export type PublicKeyAlgorithm =
  | { kind: 'rsa' }
  | { kind: 'rsa-pss' }
  /** `curve`: the name from curves.ts (P-256, …), or the namedCurve OID when we do not know it. */
  | { kind: 'ec'; curve: string }
  | { kind: 'ed25519' }
  | { kind: 'ed448' }
  | { kind: 'x25519' }
  | { kind: 'x448' }
  /** `params` absent: inherited from the issuer's key (RFC 3279 §2.3.2). */
  | { kind: 'dsa'; params?: DssParms }
  | { kind: 'unknown'; oid: string };

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

/** RFC 3279 §2.3.2 Dss-Parms: the DSA domain parameters (unsigned magnitudes). */
export interface DssParms {
  p: Uint8Array;
  q: Uint8Array;
  g: Uint8Array;
}

/** Dss-Parms ::= SEQUENCE { p INTEGER, q INTEGER, g INTEGER } from an AlgorithmIdentifier's parameters TLV. */
export function parseDssParms(parameters: Uint8Array): DssParms {
  const r = DerReader.from(parameters, 'Dss-Parms');
  const s = r.readSequence('Dss-Parms');
  const p = s.readUnsignedInteger('p');
  const q = s.readUnsignedInteger('q');
  const g = s.readUnsignedInteger('g');
  s.finish();
  r.finish();
  return { p, q, g };
}

/**
 * The key algorithm an AlgorithmIdentifier names, with its parameters checked by the rules in the
 * header — the part shared by SubjectPublicKeyInfo and PKCS#8 PrivateKeyInfo (RFC 5958 §2).
 * Unknown algorithms are `{ kind: 'unknown' }`. Errors are X509Error('bad-algorithm-parameters')
 * at `offset`/`path` when given.
 */
export function keyAlgorithmOf(
  algorithm: Pick<AlgorithmIdentifier, 'oid' | 'parameters'>,
  offset?: number,
  path?: readonly string[],
): PublicKeyAlgorithm {
  const p = algorithm.parameters;
  const badParams = (msg: string): never => {
    throw new X509Error('bad-algorithm-parameters', msg, offset, path);
  };
  switch (algorithm.oid) {
    case OID.rsaEncryption:
      if (p === undefined || !bytesEqual(p, NULL_TLV)) badParams('rsaEncryption key parameters must be NULL');
      return { kind: 'rsa' };
    case OID.rsassaPss:
      if (p !== undefined) parsePssParams(p, algorithm);
      return { kind: 'rsa-pss' };
    case OID.ecPublicKey: {
      if (p === undefined || p[0] !== 0x06) return badParams('EC key parameters must be a namedCurve OID');
      try {
        const pr = DerReader.from(p, 'ECParameters');
        const curveOid = pr.readOid('namedCurve');
        pr.finish();
        return { kind: 'ec', curve: curveByOid(curveOid)?.name ?? curveOid };
      } catch (e) {
        if (e instanceof DerError) badParams(e.message);
        throw e;
      }
    }
    case OID.ed25519:
    case OID.ed448:
    case OID.x25519:
    case OID.x448:
      if (p !== undefined) badParams('EdDSA/XDH key parameters must be absent');
      return { kind: EDWARDS_KIND[algorithm.oid]! };
    case OID.dsa: {
      if (p === undefined) return { kind: 'dsa' };
      try {
        return { kind: 'dsa', params: parseDssParms(p) };
      } catch (e) {
        if (e instanceof DerError) badParams(e.message);
        throw e;
      }
    }
    default:
      return { kind: 'unknown', oid: algorithm.oid };
  }
}

const EDWARDS_KIND: Record<string, 'ed25519' | 'ed448' | 'x25519' | 'x448'> = {
  [OID.ed25519]: 'ed25519',
  [OID.ed448]: 'ed448',
  [OID.x25519]: 'x25519',
  [OID.x448]: 'x448',
};
/** RFC 8410 §3 key lengths in bytes, and key sizes in bits as other tools report them. */
const EDWARDS_KEY = {
  ed25519: { bytes: 32, bits: 256 },
  ed448: { bytes: 57, bits: 456 },
  x25519: { bytes: 32, bits: 256 },
  x448: { bytes: 56, bits: 448 },
} as const;

/**
 * Reads a SubjectPublicKeyInfo at the reader's position; the parameter and key rules are in the
 * header above. Unknown key algorithms (and unknown curves) are kept as data with keySize 0.
 */
export function readSpki(r: DerReader, name = 'subjectPublicKeyInfo'): SubjectPublicKeyInfo {
  const start = r.pos;
  const s = r.readSequence(name);
  const algorithm = readAlgorithmIdentifier(s, 'algorithm');
  const keyOff = s.pos;
  const publicKey = s.readBitStringBytes('subjectPublicKey');
  s.finish();
  const der = r.bytes.subarray(start, r.pos);
  const path = r.path(name);
  const k = keyAlgorithmOf(algorithm, start, path);
  switch (k.kind) {
    case 'rsa':
    case 'rsa-pss': {
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
      return new SubjectPublicKeyInfo(der, algorithm, k, publicKey, bitLength(modulus), {
        modulus,
        publicExponent,
      });
    }
    case 'ec': {
      const c = curveByName(k.curve);
      if (!c) return new SubjectPublicKeyInfo(der, algorithm, k, publicKey, 0);
      // SEC 1 §2.3.3: uncompressed 04||X||Y or compressed 02/03||X.
      const f = c.size;
      const ok =
        (publicKey[0] === 0x04 && publicKey.length === 1 + 2 * f) ||
        ((publicKey[0] === 0x02 || publicKey[0] === 0x03) && publicKey.length === 1 + f);
      if (!ok) bad(`malformed ${c.name} point`, keyOff, path);
      return new SubjectPublicKeyInfo(der, algorithm, k, publicKey, c.bits);
    }
    case 'ed25519':
    case 'ed448':
    case 'x25519':
    case 'x448': {
      const { bytes, bits } = EDWARDS_KEY[k.kind];
      if (publicKey.length !== bytes) bad(`${k.kind} key must be ${bytes} bytes`, keyOff, path);
      return new SubjectPublicKeyInfo(der, algorithm, k, publicKey, bits);
    }
    case 'dsa':
      return new SubjectPublicKeyInfo(der, algorithm, k, publicKey, k.params ? bitLength(k.params.p) : 0);
    case 'unknown':
      return new SubjectPublicKeyInfo(der, algorithm, k, publicKey, 0);
  }
}

/** Parses a DER SubjectPublicKeyInfo (exactly one, nothing after it). Throws DerError/X509Error. */
export function parseSpki(der: Uint8Array): SubjectPublicKeyInfo {
  const r = DerReader.from(der, 'SubjectPublicKeyInfo');
  const s = readSpki(r, 'SubjectPublicKeyInfo');
  r.finish();
  return s;
}
