import { OID } from '../der/index.js';
import {
  encodeCurvePrivateKey,
  encodeEcPrivateKey,
  encodePrivateKeyInfo,
  encodeRsaPrivateKey,
  encodeSubjectPublicKeyInfo,
  NULL_PARAMETER,
  oidParameter,
  parseCurvePrivateKey,
  parseEcPrivateKey,
  parseRsaPrivateKey,
  parseRsaPublicKey,
} from '../x509/private-key.js';
import { CURVES, type CurveName, type KeyAlgorithm } from './algorithms.js';
import { base64UrlDecode, base64UrlEncode } from './base64url.js';
import { CryptoError } from './errors.js';
import { describePrivateKey, ecSpki, parseSpkiInfo, rsaSpki } from './key-info.js';

/**
 * JSON Web Key (RFC 7517/7518 §6, RFC 8037 for OKP) ⇄ PKCS#8 / SPKI, as pure data
 * transformations. Only the members that define the key are read or written.
 */
export interface Jwk {
  kty: 'EC' | 'RSA' | 'OKP';
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  [member: string]: unknown;
}

/** Left-pads an unsigned magnitude to `size` bytes (JWK EC coordinates are fixed-width, RFC 7518 §6.2.1.2). */
function fixed(b: Uint8Array, size: number, what: string): Uint8Array {
  if (b.length === size) return b;
  if (b.length > size) throw new CryptoError('bad-key', `${what} longer than ${size} bytes`);
  const out = new Uint8Array(size);
  out.set(b, size - b.length);
  return out;
}

export function spkiToJwk(spki: Uint8Array): Jwk {
  const info = parseSpkiInfo(spki);
  switch (info.algorithm.kind) {
    case 'ec': {
      const size = CURVES[info.algorithm.curve].size;
      return {
        kty: 'EC',
        crv: info.algorithm.curve,
        x: base64UrlEncode(info.key.subarray(1, 1 + size)),
        y: base64UrlEncode(info.key.subarray(1 + size)),
      };
    }
    case 'rsa': {
      const k = parseRsaPublicKey(info.key);
      return { kty: 'RSA', n: base64UrlEncode(k.modulus), e: base64UrlEncode(k.publicExponent) };
    }
    case 'ed25519':
      return { kty: 'OKP', crv: 'Ed25519', x: base64UrlEncode(info.key) };
    case 'ed448':
      return { kty: 'OKP', crv: 'Ed448', x: base64UrlEncode(info.key) };
    default:
      throw new CryptoError('unsupported-key-type', `no JWK form for ${info.algorithm.kind} keys`);
  }
}

/** `spki` must be the key's public half (import paths derive it first). */
export function pkcs8ToJwk(pkcs8: Uint8Array, spki: Uint8Array): Jwk {
  const d = describePrivateKey(pkcs8);
  const pub = spkiToJwk(spki);
  switch (d.algorithm.kind) {
    case 'ec': {
      const k = parseEcPrivateKey(d.info.privateKey);
      return { ...pub, d: base64UrlEncode(k.privateKey) };
    }
    case 'rsa': {
      const k = parseRsaPrivateKey(d.info.privateKey);
      return {
        ...pub,
        d: base64UrlEncode(k.privateExponent),
        p: base64UrlEncode(k.prime1),
        q: base64UrlEncode(k.prime2),
        dp: base64UrlEncode(k.exponent1),
        dq: base64UrlEncode(k.exponent2),
        qi: base64UrlEncode(k.coefficient),
      };
    }
    case 'ed25519':
    case 'ed448':
      return {
        ...pub,
        d: base64UrlEncode(parseCurvePrivateKey(d.info.privateKey, d.algorithm.kind === 'ed25519' ? 32 : 57)),
      };
    default:
      throw new CryptoError('unsupported-key-type', `no JWK form for ${d.algorithm.kind} keys`);
  }
}

function member(j: Jwk, name: keyof Jwk & string): Uint8Array {
  const v = j[name];
  if (typeof v !== 'string') throw new CryptoError('bad-key', `JWK lacks "${name}"`);
  return base64UrlDecode(v, name);
}

function jwkAlgorithm(j: Jwk): KeyAlgorithm {
  if (j.kty === 'EC') {
    if (j.crv !== 'P-256' && j.crv !== 'P-384' && j.crv !== 'P-521')
      throw new CryptoError('unsupported-key-type', `JWK curve ${String(j.crv)}`);
    return { kind: 'ec', curve: j.crv as CurveName };
  }
  if (j.kty === 'RSA') return { kind: 'rsa', modulusBits: 0 };
  if (j.kty === 'OKP' && (j.crv === 'Ed25519' || j.crv === 'Ed448'))
    return { kind: j.crv === 'Ed25519' ? 'ed25519' : 'ed448' };
  throw new CryptoError('unsupported-key-type', `JWK kty ${String(j.kty)} crv ${String(j.crv)}`);
}

/** The SPKI of a JWK's public members. */
export function jwkToSpki(j: Jwk): Uint8Array {
  const a = jwkAlgorithm(j);
  switch (a.kind) {
    case 'ec': {
      const size = CURVES[a.curve].size;
      const point = new Uint8Array(1 + 2 * size);
      point[0] = 4;
      point.set(fixed(member(j, 'x'), size, 'x'), 1);
      point.set(fixed(member(j, 'y'), size, 'y'), 1 + size);
      return ecSpki(a.curve, point);
    }
    case 'rsa':
      return rsaSpki(member(j, 'n'), member(j, 'e'));
    case 'ed25519':
    case 'ed448':
      return encodeSubjectPublicKeyInfo(
        a.kind === 'ed25519' ? OID.ed25519 : OID.ed448,
        undefined,
        member(j, 'x'),
      );
    default:
      throw new CryptoError('unsupported-key-type', `no JWK form for ${a.kind} keys`);
  }
}

/** A private JWK as PKCS#8 (with the public key embedded where the format allows). */
export function jwkToPkcs8(j: Jwk): Uint8Array {
  const a = jwkAlgorithm(j);
  switch (a.kind) {
    case 'ec': {
      const c = CURVES[a.curve];
      const spkiInfo = parseSpkiInfo(jwkToSpki(j));
      const ec = encodeEcPrivateKey({
        privateKey: fixed(member(j, 'd'), c.size, 'd'),
        publicKey: spkiInfo.key,
      });
      return encodePrivateKeyInfo({
        version: 0,
        algorithm: { oid: OID.ecPublicKey, parameters: oidParameter(c.oid) },
        privateKey: ec,
      });
    }
    case 'rsa': {
      const rsa = encodeRsaPrivateKey({
        modulus: member(j, 'n'),
        publicExponent: member(j, 'e'),
        privateExponent: member(j, 'd'),
        prime1: member(j, 'p'),
        prime2: member(j, 'q'),
        exponent1: member(j, 'dp'),
        exponent2: member(j, 'dq'),
        coefficient: member(j, 'qi'),
      });
      return encodePrivateKeyInfo({
        version: 0,
        algorithm: { oid: OID.rsaEncryption, parameters: NULL_PARAMETER },
        privateKey: rsa,
      });
    }
    case 'ed25519':
    case 'ed448': {
      const size = a.kind === 'ed25519' ? 32 : 57;
      const d = member(j, 'd');
      if (d.length !== size) throw new CryptoError('bad-key', `${a.kind} JWK "d" must be ${size} bytes`);
      return encodePrivateKeyInfo({
        version: 0,
        algorithm: { oid: a.kind === 'ed25519' ? OID.ed25519 : OID.ed448 },
        privateKey: encodeCurvePrivateKey(d),
      });
    }
    default:
      throw new CryptoError('unsupported-key-type', `no JWK form for ${a.kind} keys`);
  }
}
