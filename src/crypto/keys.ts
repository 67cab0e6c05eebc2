import { DerReader, OID, Tag } from '../der/index.js';
import { decodePem, encodePem, looksLikePem, type PemBlock } from '../pem/index.js';
import {
  encodeEcPrivateKey,
  encodePrivateKeyInfo,
  encodeRsaPublicKey,
  NULL_PARAMETER,
  oidParameter,
  parseEcPrivateKey,
  parseRsaPrivateKey,
  parseRsaPublicKey,
} from '../x509/private-key.js';
import { CURVES, type KeyAlgorithm, type KeyType, keyAlgorithmOfType, supportedCurve } from './algorithms.js';
import { defaultProvider } from './default-provider.js';
import { CryptoError } from './errors.js';
import { type Jwk, jwkToPkcs8, jwkToSpki, pkcs8ToJwk, spkiToJwk } from './jwk.js';
import { describePrivateKey, parseSpkiInfo, rsaSpki, wrapDecodeError } from './key-info.js';
import {
  DEFAULT_KDF_LIMITS,
  decryptPrivateKeyInfo,
  type EncryptOptions,
  encryptPrivateKeyInfo,
  type KdfLimits,
} from './pbes2.js';
import type { CryptoProvider } from './provider.js';

/**
 * Keys as immutable DER values: a private key is its PKCS#8 PrivateKeyInfo plus its SPKI; a
 * public key is its SPKI. Providers turn them into platform handles when signing (KeySigner)
 * or verifying. Import accepts PKCS#8 (plain or PBES2-encrypted), SPKI, SEC1, PKCS#1 and JWK,
 * as PEM or DER (detected from the PEM label or the DER shape); export writes any of them.
 *
 *   const { privateKey } = await generateKeyPair('ec-p256');
 *   const pem = await exportKey(privateKey, { format: 'pkcs8', passphrase: 'pw' });
 *   const again = await importPrivateKey(pem, { passphrase: 'pw' });
 */
export interface PrivateKey {
  readonly type: 'private';
  readonly algorithm: KeyAlgorithm;
  /** Unencrypted PKCS#8 PrivateKeyInfo DER. Handle as a secret. */
  readonly pkcs8: Uint8Array;
  readonly spki: Uint8Array;
}

/** A public key: its algorithm and its SubjectPublicKeyInfo DER (immutable). */
export interface PublicKey {
  readonly type: 'public';
  readonly algorithm: KeyAlgorithm;
  readonly spki: Uint8Array;
}

/** What `generateKeyPair` returns. */
export interface KeyPair {
  privateKey: PrivateKey;
  publicKey: PublicKey;
}

/**
 * Key encodings: PKCS#8 (RFC 5958), SPKI (RFC 5280), SEC1 (RFC 5915), PKCS#1 (RFC 8017), JWK (RFC 7517).
 */
export type KeyFormat = 'pkcs8' | 'spki' | 'sec1' | 'pkcs1' | 'jwk';

export interface ProviderOption {
  provider?: CryptoProvider;
}

export function makePrivateKey(pkcs8: Uint8Array, spki: Uint8Array, algorithm: KeyAlgorithm): PrivateKey {
  return Object.freeze({ type: 'private' as const, algorithm, pkcs8, spki });
}

export function makePublicKey(spki: Uint8Array): PublicKey {
  return Object.freeze({ type: 'public' as const, algorithm: parseSpkiInfo(spki).algorithm, spki });
}

/** Generates a key pair of `type` with the provider's CSPRNG. */
export async function generateKeyPair(type: KeyType, options: ProviderOption = {}): Promise<KeyPair> {
  keyAlgorithmOfType(type); // validates `type`
  const p = options.provider ?? defaultProvider();
  const raw = await p.generateKeyPair(type);
  const d = describePrivateKey(raw.pkcs8);
  return {
    privateKey: makePrivateKey(raw.pkcs8, raw.spki, d.algorithm),
    publicKey: makePublicKey(raw.spki),
  };
}

/** How `importKey` reads a key: the format (default: detected), a passphrase, KDF caps. */
export interface ImportOptions extends ProviderOption {
  /** Default: detected from the PEM label or the DER structure. */
  format?: KeyFormat | 'encrypted-pkcs8';
  passphrase?: string | Uint8Array;
  /** Caps on KDF parameters of encrypted keys (see pbes2.ts). */
  kdfLimits?: Readonly<KdfLimits>;
}

const PEM_LABELS: Record<string, KeyFormat | 'encrypted-pkcs8' | 'pkcs1-public'> = {
  'PRIVATE KEY': 'pkcs8',
  'ENCRYPTED PRIVATE KEY': 'encrypted-pkcs8',
  'PUBLIC KEY': 'spki',
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
  'RSA PUBLIC KEY': 'pkcs1-public',
};

type Detected = KeyFormat | 'encrypted-pkcs8' | 'pkcs1-public';

/** Classifies DER by its first elements (no full parse): the shapes are mutually exclusive. */
function detectDer(der: Uint8Array): Detected {
  try {
    const seq = DerReader.from(der, 'key').readSequence('key');
    const first = seq.readAny('first');
    const secondTag = seq.peekTag();
    if (first.tag === Tag.SEQUENCE) return secondTag === Tag.BIT_STRING ? 'spki' : 'encrypted-pkcs8';
    if (first.tag === Tag.INTEGER) {
      if (secondTag === Tag.SEQUENCE) return 'pkcs8';
      if (secondTag === Tag.OCTET_STRING) return 'sec1';
      if (secondTag === Tag.INTEGER) {
        seq.readAny('second');
        return seq.atEnd() ? 'pkcs1-public' : 'pkcs1';
      }
    }
  } catch (e) {
    wrapDecodeError(e, 'key');
  }
  throw new CryptoError('bad-format', 'not a recognised key structure');
}

function pickPemBlock(text: string): PemBlock {
  let blocks: PemBlock[];
  try {
    blocks = decodePem(text, 16);
  } catch (e) {
    throw new CryptoError('bad-format', `bad PEM: ${(e as Error).message}`, { cause: e });
  }
  const b = blocks.find((x) => PEM_LABELS[x.label] !== undefined);
  if (!b) throw new CryptoError('bad-format', 'no key PEM block found');
  if (b.headers['Proc-Type']?.includes('ENCRYPTED'))
    throw new CryptoError(
      'unsupported-algorithm',
      'legacy PEM encryption (Proc-Type/DEK-Info) is not supported; convert with `openssl pkcs8 -topk8`',
    );
  return b;
}

/** Imports a key in any supported format; see `ImportOptions`. */
export async function importKey(
  input: string | Uint8Array | Jwk,
  options: ImportOptions = {},
): Promise<PrivateKey | PublicKey> {
  const p = options.provider ?? defaultProvider();
  let der: Uint8Array;
  let format: Detected | undefined = options.format;
  if (typeof input === 'object' && !(input instanceof Uint8Array)) return importJwk(input, p);
  if (typeof input === 'string' && input.trimStart().startsWith('{')) {
    let j: Jwk;
    try {
      j = JSON.parse(input) as Jwk;
    } catch (e) {
      throw new CryptoError('bad-format', 'invalid JWK JSON', { cause: e });
    }
    return importJwk(j, p);
  }
  if (typeof input === 'string' || looksLikePem(input)) {
    const text = typeof input === 'string' ? input : new TextDecoder('latin1').decode(input);
    const b = pickPemBlock(text);
    der = b.der;
    const labelFormat = PEM_LABELS[b.label]!;
    if (format && format !== labelFormat && !(format === 'pkcs1' && labelFormat === 'pkcs1-public'))
      throw new CryptoError('bad-format', `PEM label ${b.label} does not match format ${format}`);
    format = labelFormat;
  } else {
    der = input;
    const detected = detectDer(der);
    if (format && format !== detected && !(format === 'pkcs1' && detected === 'pkcs1-public'))
      throw new CryptoError('bad-format', `DER looks like ${detected}, not ${format}`);
    format = detected;
  }
  switch (format) {
    case 'pkcs8':
      return privateFromPkcs8(der, p);
    case 'encrypted-pkcs8': {
      if (options.passphrase === undefined)
        throw new CryptoError('passphrase-required', 'the key is encrypted');
      const pkcs8 = await decryptPrivateKeyInfo(
        der,
        options.passphrase,
        p,
        isPrivateKeyInfo,
        options.kdfLimits ?? DEFAULT_KDF_LIMITS,
      );
      return privateFromPkcs8(pkcs8, p);
    }
    case 'spki':
      return makePublicKey(der);
    case 'sec1':
      return privateFromPkcs8(sec1ToPkcs8(der), p);
    case 'pkcs1':
      return privateFromPkcs8(pkcs1ToPkcs8(der), p);
    case 'pkcs1-public': {
      try {
        const k = parseRsaPublicKey(der);
        return makePublicKey(rsaSpki(k.modulus, k.publicExponent));
      } catch (e) {
        return wrapDecodeError(e, 'RSAPublicKey');
      }
    }
    case 'jwk':
      throw new CryptoError('bad-format', 'JWK input must be an object or JSON text');
  }
}

/** `importKey` for a private key: refuses a public one with `bad-format`. */
export async function importPrivateKey(
  input: string | Uint8Array | Jwk,
  options: ImportOptions = {},
): Promise<PrivateKey> {
  const k = await importKey(input, options);
  if (k.type !== 'private') throw new CryptoError('bad-format', 'expected a private key, found a public key');
  return k;
}

/** `importKey` for a public key: a private key given here yields its public half. */
export async function importPublicKey(
  input: string | Uint8Array | Jwk,
  options: ImportOptions = {},
): Promise<PublicKey> {
  const k = await importKey(input, options);
  return k.type === 'public' ? k : makePublicKey(k.spki);
}

function isPrivateKeyInfo(pkcs8: Uint8Array): boolean {
  try {
    describePrivateKey(pkcs8);
    return true;
  } catch {
    return false;
  }
}

async function privateFromPkcs8(pkcs8: Uint8Array, p: CryptoProvider): Promise<PrivateKey> {
  const d = describePrivateKey(pkcs8);
  const spki = d.spki ?? (await p.publicKeyFromPrivate(pkcs8, d.algorithm));
  parseSpkiInfo(spki);
  return makePrivateKey(pkcs8, spki, d.algorithm);
}

async function importJwk(j: Jwk, p: CryptoProvider): Promise<PrivateKey | PublicKey> {
  if (typeof j !== 'object' || j === null) throw new CryptoError('bad-format', 'JWK must be an object');
  if (j.d === undefined) return makePublicKey(jwkToSpki(j));
  return privateFromPkcs8(jwkToPkcs8(j), p);
}

/** RFC 5915 ECPrivateKey → PKCS#8 (RFC 5915 §2: algorithm id-ecPublicKey with the namedCurve). */
function sec1ToPkcs8(der: Uint8Array): Uint8Array {
  try {
    const k = parseEcPrivateKey(der);
    if (!k.curveOid) throw new CryptoError('bad-key', 'SEC1 key without curve parameters');
    const c = supportedCurve(k.curveOid);
    if (!c) throw new CryptoError('unsupported-key-type', `unsupported curve ${k.curveOid}`);
    return encodePrivateKeyInfo({
      version: 0,
      algorithm: { oid: OID.ecPublicKey, parameters: oidParameter(c.oid) },
      privateKey: encodeEcPrivateKey({ privateKey: k.privateKey, publicKey: k.publicKey }),
    });
  } catch (e) {
    return wrapDecodeError(e, 'ECPrivateKey');
  }
}

function pkcs1ToPkcs8(der: Uint8Array): Uint8Array {
  try {
    parseRsaPrivateKey(der);
  } catch (e) {
    wrapDecodeError(e, 'RSAPrivateKey');
  }
  return encodePrivateKeyInfo({
    version: 0,
    algorithm: { oid: OID.rsaEncryption, parameters: NULL_PARAMETER },
    privateKey: der,
  });
}

/** How `exportKey` writes a key: the format, PEM or DER, and optional PKCS#8 encryption. */
export interface ExportOptions extends ProviderOption {
  format: KeyFormat;
  /** Default 'pem'. Ignored for 'jwk'. */
  encoding?: 'pem' | 'der';
  /** PKCS#8 only: encrypt with PBES2 (PBKDF2-HMAC-SHA256 600 000 + AES-256-CBC unless `encryption` says otherwise). */
  passphrase?: string | Uint8Array;
  encryption?: EncryptOptions;
}

/**
 * Writes a key as PKCS#8 (optionally encrypted, RFC 5958 §3), SPKI, SEC1, PKCS#1 or JWK: PEM
 * text by default, DER bytes with `encoding: 'der'`, a JWK object for `format: 'jwk'`.
 */
export async function exportKey(
  key: PrivateKey | PublicKey,
  o: ExportOptions & { format: 'jwk' },
): Promise<Jwk>;
export async function exportKey(
  key: PrivateKey | PublicKey,
  o: ExportOptions & { encoding: 'der' },
): Promise<Uint8Array>;
export async function exportKey(key: PrivateKey | PublicKey, o: ExportOptions): Promise<string>;
export async function exportKey(
  key: PrivateKey | PublicKey,
  o: ExportOptions,
): Promise<string | Uint8Array | Jwk> {
  if (o.passphrase !== undefined && !(o.format === 'pkcs8' && key.type === 'private'))
    throw new CryptoError('bad-format', 'only PKCS#8 private keys can be exported encrypted');
  let der: Uint8Array;
  let label: string;
  switch (o.format) {
    case 'jwk':
      return key.type === 'private' ? pkcs8ToJwk(key.pkcs8, key.spki) : spkiToJwk(key.spki);
    case 'spki':
      der = key.spki;
      label = 'PUBLIC KEY';
      break;
    case 'pkcs8': {
      if (key.type !== 'private') throw new CryptoError('bad-format', 'PKCS#8 needs a private key');
      if (o.passphrase !== undefined) {
        der = await encryptPrivateKeyInfo(
          key.pkcs8,
          o.passphrase,
          o.provider ?? defaultProvider(),
          o.encryption,
        );
        label = 'ENCRYPTED PRIVATE KEY';
      } else {
        der = key.pkcs8;
        label = 'PRIVATE KEY';
      }
      break;
    }
    case 'sec1': {
      if (key.type !== 'private' || key.algorithm.kind !== 'ec')
        throw new CryptoError('bad-format', 'SEC1 applies to EC private keys only');
      const d = describePrivateKey(key.pkcs8);
      const ec = parseEcPrivateKey(d.info.privateKey);
      // OpenSSL's `EC PRIVATE KEY` carries the curve and the public point; so do we.
      der = encodeEcPrivateKey({
        privateKey: ec.privateKey,
        curveOid: CURVES[key.algorithm.curve].oid,
        publicKey: parseSpkiInfo(key.spki).key,
      });
      label = 'EC PRIVATE KEY';
      break;
    }
    case 'pkcs1': {
      if (key.algorithm.kind !== 'rsa')
        throw new CryptoError('bad-format', 'PKCS#1 applies to RSA keys only');
      if (key.type === 'private') {
        der = describePrivateKey(key.pkcs8).info.privateKey;
        label = 'RSA PRIVATE KEY';
      } else {
        const k = parseRsaPublicKey(parseSpkiInfo(key.spki).key);
        der = encodeRsaPublicKey(k);
        label = 'RSA PUBLIC KEY';
      }
      break;
    }
    default:
      throw new CryptoError('bad-format', `unknown format ${String((o as { format: unknown }).format)}`);
  }
  return o.encoding === 'der' ? der.slice() : encodePem(label, der);
}
