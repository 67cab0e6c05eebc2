/**
 * `fleetpki inspect`: what a key file is — type, size, curve, format, encryption, and the SHA-256
 * of the (derived) SubjectPublicKeyInfo, which matches the certificate's. Never key material:
 * the views below have no field that could carry a private value.
 */
import { CryptoError } from '../../crypto/errors.js';
import { nodeCrypto } from '../../crypto/node.js';
import { parseEncryptedPrivateKeyInfo } from '../../crypto/pbes2.js';
import { bitLength, toHex } from '../../der/bytes.js';
import { OID, oidName } from '../../der/oid-names.js';
import { DerReader } from '../../der/reader.js';
import { curveByOid } from '../../x509/curves.js';
import {
  encodeRsaPublicKey,
  encodeSubjectPublicKeyInfo,
  NULL_PARAMETER,
  oidParameter,
  parseEcPrivateKey,
  parsePrivateKeyInfo,
  parseRsaPrivateKey,
  parseRsaPublicKey,
} from '../../x509/private-key.js';
import { parseSpki, type SubjectPublicKeyInfo } from '../../x509/spki.js';
import { CliError } from '../errors.js';
import { colonHex, integerDecimal } from '../format.js';
import type {
  EcParametersView,
  EncryptedPrivateKeyView,
  EncryptionView,
  KdfView,
  PrivateKeyView,
  PublicKeyInfoView,
  PublicKeyView,
  ViewBody,
} from './schema.js';

const EDWARDS: Record<string, { name: string; bits: number }> = {
  [OID.ed25519]: { name: 'Ed25519', bits: 256 },
  [OID.ed448]: { name: 'Ed448', bits: 456 },
  [OID.x25519]: { name: 'X25519', bits: 256 },
  [OID.x448]: { name: 'X448', bits: 448 },
};

/** SHA-256 as upper-case colon hex (the form fingerprints use). */
export function sha256Colon(b: Uint8Array): string {
  return colonHex(nodeCrypto.digest('SHA-256', b), true);
}

function curveOfParameter(p: Uint8Array | undefined): string | undefined {
  if (p === undefined || p[0] !== 0x06) return undefined;
  const r = DerReader.from(p, 'namedCurve');
  const oid = r.readOid('namedCurve');
  r.finish();
  return oid;
}

type KeyFields = Omit<ViewBody<PrivateKeyView>, 'type' | 'format'>;

function ecKeyFields(curveOid: string | undefined, publicKey: Uint8Array | undefined): KeyFields {
  const c = curveOid ? curveByOid(curveOid) : undefined;
  const spki =
    curveOid && publicKey
      ? encodeSubjectPublicKeyInfo(OID.ecPublicKey, oidParameter(curveOid), publicKey)
      : undefined;
  return {
    algorithm: 'EC',
    keySize: c?.bits,
    curve: c?.name ?? curveOid,
    publicKeyIncluded: publicKey !== undefined,
    spkiSha256: spki ? sha256Colon(spki) : undefined,
  };
}

function unsignedDecimal(b: Uint8Array): string {
  return integerDecimal(b[0]! & 0x80 ? Uint8Array.of(0, ...b) : b);
}

function rsaKeyFields(modulus: Uint8Array, publicExponent: Uint8Array): KeyFields {
  const spki = encodeSubjectPublicKeyInfo(
    OID.rsaEncryption,
    NULL_PARAMETER,
    encodeRsaPublicKey({ modulus, publicExponent }),
  );
  return {
    algorithm: 'RSA',
    keySize: bitLength(modulus),
    publicExponent: unsignedDecimal(publicExponent),
    publicKeyIncluded: true,
    spkiSha256: sha256Colon(spki),
  };
}

/** RFC 5958 OneAsymmetricKey (PKCS#8). */
export function pkcs8View(der: Uint8Array): ViewBody<PrivateKeyView> {
  const info = parsePrivateKeyInfo(der);
  const oid = info.algorithm.oid;
  let fields: KeyFields;
  if (oid === OID.rsaEncryption || oid === OID.rsassaPss) {
    const k = parseRsaPrivateKey(info.privateKey);
    fields = rsaKeyFields(k.modulus, k.publicExponent);
    if (oid === OID.rsassaPss) fields.algorithm = 'RSA-PSS';
  } else if (oid === OID.ecPublicKey) {
    const curve = curveOfParameter(info.algorithm.parameters);
    const k = parseEcPrivateKey(info.privateKey);
    fields = ecKeyFields(curve ?? k.curveOid, k.publicKey ?? info.publicKey);
  } else if (EDWARDS[oid]) {
    const e = EDWARDS[oid]!;
    const spki = info.publicKey ? encodeSubjectPublicKeyInfo(oid, undefined, info.publicKey) : undefined;
    fields = {
      algorithm: e.name,
      keySize: e.bits,
      publicKeyIncluded: info.publicKey !== undefined,
      spkiSha256: spki ? sha256Colon(spki) : undefined,
    };
  } else fields = { algorithm: oidName(oid) ?? oid, publicKeyIncluded: info.publicKey !== undefined };
  return { type: 'private-key', format: 'PKCS#8', ...fields };
}

/** The encryption of an EncryptedPrivateKeyInfo (RFC 5958 §3): PBES2 details when we know the scheme. */
export function encryptionOf(der: Uint8Array): EncryptionView {
  try {
    const p = parseEncryptedPrivateKeyInfo(der);
    const kdf: KdfView =
      p.kdf.kdf === 'pbkdf2'
        ? {
            name: 'PBKDF2',
            prf: `HMAC-${p.kdf.prf}`,
            iterations: p.kdf.iterations,
            saltLength: p.kdf.salt.length,
          }
        : { name: 'scrypt', N: p.kdf.N, r: p.kdf.r, p: p.kdf.p, saltLength: p.kdf.salt.length };
    return { scheme: 'PBES2', kdf, cipher: p.cipher.name };
  } catch (e) {
    if (!(e instanceof CryptoError) || e.code !== 'unsupported-algorithm') throw e;
    // A scheme we cannot decrypt (PBES1, PKCS#12 PBE): still say what it is.
    const r = DerReader.from(der, 'EncryptedPrivateKeyInfo');
    const s = r.readSequence('EncryptedPrivateKeyInfo');
    const alg = s.readSequence('encryptionAlgorithm');
    const oid = alg.readOid('algorithm');
    return { scheme: oidName(oid) ?? oid, unsupported: e.message };
  }
}

/** RFC 5958 §3 EncryptedPrivateKeyInfo: how it is encrypted (never decrypted here). */
export function encryptedPkcs8View(der: Uint8Array): ViewBody<EncryptedPrivateKeyView> {
  return { type: 'encrypted-private-key', format: 'PKCS#8', encryption: encryptionOf(der) };
}

/** RFC 1421-style `Proc-Type: 4,ENCRYPTED` keys (OpenSSL's traditional format): opaque to us. */
export function legacyEncryptedView(
  label: string,
  dekInfo: string | undefined,
): ViewBody<EncryptedPrivateKeyView> {
  const format = label === 'RSA PRIVATE KEY' ? 'PKCS#1' : label === 'EC PRIVATE KEY' ? 'SEC1' : label;
  return {
    type: 'encrypted-private-key',
    format,
    encryption: { scheme: 'legacy PEM encryption (RFC 1421 headers)', cipher: dekInfo?.split(',')[0] },
  };
}

/** RFC 5915 ECPrivateKey. */
export function sec1View(der: Uint8Array): ViewBody<PrivateKeyView> {
  const k = parseEcPrivateKey(der);
  return { type: 'private-key', format: 'SEC1', ...ecKeyFields(k.curveOid, k.publicKey) };
}

/** RFC 8017 §A.1.2 RSAPrivateKey. */
export function pkcs1PrivateView(der: Uint8Array): ViewBody<PrivateKeyView> {
  const k = parseRsaPrivateKey(der);
  return { type: 'private-key', format: 'PKCS#1', ...rsaKeyFields(k.modulus, k.publicExponent) };
}

/** RFC 5280 §4.1.2.7 SubjectPublicKeyInfo as a public-key view. */
export function spkiView(der: Uint8Array): ViewBody<PublicKeyView> {
  return { type: 'public-key', format: 'SPKI', ...publicKeyInfoView(parseSpki(der)) };
}

/** RFC 8017 §A.1.1 RSAPublicKey. */
export function pkcs1PublicView(der: Uint8Array): ViewBody<PublicKeyView> {
  const k = parseRsaPublicKey(der);
  const f = rsaKeyFields(k.modulus, k.publicExponent);
  return {
    type: 'public-key',
    format: 'PKCS#1',
    algorithm: 'RSA',
    keySize: f.keySize,
    modulus: toHex(k.modulus),
    publicExponent: f.publicExponent,
    spkiSha256: f.spkiSha256!,
  };
}

/** RFC 5480 §2.1.1 ECParameters (namedCurve only). */
export function ecParametersView(der: Uint8Array): ViewBody<EcParametersView> {
  const curve = curveOfParameter(der);
  if (!curve) throw new CliError('EC PARAMETERS: only namedCurve parameters are supported (RFC 5480 §2.1.1)');
  return { type: 'ec-parameters', curve: curveByOid(curve)?.name ?? curve, oid: curve };
}

/** A SubjectPublicKeyInfo (public data: shown in full). */
export function publicKeyInfoView(spki: SubjectPublicKeyInfo): PublicKeyInfoView {
  const k = spki.keyAlgorithm;
  const key = spki.rsa
    ? {
        modulus: toHex(spki.rsa.modulus),
        publicExponent: integerDecimal(Uint8Array.of(0, ...spki.rsa.publicExponent)),
      }
    : { publicKey: toHex(spki.publicKey) };
  return {
    algorithm: spki.describe(),
    oid: spki.algorithm.oid,
    keySize: spki.keySize || undefined,
    curve: k.kind === 'ec' ? k.curve : undefined,
    ...key,
    spkiSha256: sha256Colon(spki.der),
  };
}
