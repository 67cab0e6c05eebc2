/**
 * `fleetpki inspect FILE [--json] [--asn1] [--at TIME]` — what is in a PKI file.
 *
 * Recognises certificates, CSRs (PKCS#10), CRLs, private keys (PKCS#8, encrypted PKCS#8, SEC1
 * `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`, legacy PEM-encrypted ones), public keys (SPKI,
 * PKCS#1 `RSA PUBLIC KEY`), PKCS#7 certs-only bundles, OpenSSL `TRUSTED CERTIFICATE` blocks, and
 * files holding several of them; PEM or
 * DER (DER is tried against each parser in turn; when all fail, the error that got furthest into
 * the input is reported). Private key material is never printed: only type, size, curve, whether
 * the public half is embedded, and the SHA-256 of the derived SubjectPublicKeyInfo (to match a
 * key with its certificate).
 *
 * Bad input exits 2 with one line, e.g.
 *   fleetpki: bad-integer at offset 15 (Certificate/tbsCertificate/serialNumber): non-minimal INTEGER
 *
 * `--json` prints the same content as the text view, as one JSON document with a stable key order:
 *   { "file": string, "objects": Obj[] }, each Obj starting with
 *     "type": "certificate" | "csr" | "crl" | "private-key" | "encrypted-private-key" | "public-key",
 *     "source": { "format": "PEM"|"DER", "block"?: n (1-based PEM block), "label"?: PEM label,
 *                 "container"?: "PKCS#7", "index"?: n (1-based within the container) }
 *   certificate: version, serialNumber (colon hex, '-' prefix if negative), signatureAlgorithm
 *     {name, oid, parameters?}, issuer, subject (RFC 4514), validity {notBefore, notAfter (ISO 8601),
 *     status ('valid'|'expired'|'not-yet-valid'), remaining (phrase)}, subjectPublicKeyInfo (Key),
 *     issuerUniqueID?, subjectUniqueID? (hex), selfIssued, extensions (Ext[]), signatureValue (hex),
 *     fingerprints {sha1, sha256} (colon hex, upper case)
 *   csr: version, subject, subjectPublicKeyInfo (Key), challengePassword ('present' if present —
 *     never its value), attributes [{type, name?, values: n}], extensions (Ext[]),
 *     signatureAlgorithm, signatureValue, fingerprints
 *   crl: version, signatureAlgorithm, issuer, thisUpdate, nextUpdate?, nextUpdateStatus?, extensions,
 *     revokedCertificates [{serialNumber, revocationDate, extensions?}], signatureValue, fingerprints
 *   private-key: format ('PKCS#8'|'SEC1'|'PKCS#1'), algorithm, keySize?, curve?, publicExponent?,
 *     publicKeyIncluded, spkiSha256? (SHA-256 of the derived SPKI, colon hex)
 *   encrypted-private-key: format, encryption {scheme, kdf?, cipher?}
 *   public-key: format ('SPKI'|'PKCS#1') + Key
 *   Key: {algorithm (e.g. "EC P-256"), oid, keySize, curve?, modulus? (hex), publicExponent?,
 *     publicKey? (hex, non-RSA), spkiSha256}
 *   Ext: {oid, name?, critical, value? (decoded, shape per extension) | raw? (hex, unknown ones)}
 *   With --asn1 every object also has "asn1": {offset, depth, headerLength, length, tag, value?, children?}.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { CryptoError } from '../crypto/errors.js';
import { nodeCrypto } from '../crypto/node.js';
import { parseEncryptedPrivateKeyInfo } from '../crypto/pbes2.js';
import { bitLength, latin1, toHex } from '../der/bytes.js';
import type { DerError } from '../der/errors.js';
import { OID, oidName } from '../der/oid-names.js';
import { DerReader } from '../der/reader.js';
import { decodePem, looksLikePem, PemError } from '../pem/pem.js';
import {
  type AlgorithmIdentifier,
  parseSignatureAlgorithm,
  signatureAlgorithmName,
} from '../x509/algorithm.js';
import { type Certificate, parseCertificate, readCertificate } from '../x509/certificate.js';
import { type CertificateList, parseCrl } from '../x509/crl.js';
import { type CertificationRequest, parseCsr } from '../x509/csr.js';
import { curveByOid } from '../x509/curves.js';
import {
  encodeRsaPublicKey,
  encodeSubjectPublicKeyInfo,
  NULL_PARAMETER,
  oidParameter,
  parseEcPrivateKey,
  parsePrivateKeyInfo,
  parseRsaPrivateKey,
  parseRsaPublicKey,
} from '../x509/private-key.js';
import { parseSpki, type SubjectPublicKeyInfo } from '../x509/spki.js';
import { asn1Text, asn1Tree } from './asn1-dump.js';
import { CliError, describeDecodeError, EXIT_INPUT, isDecodeError } from './errors.js';
import {
  colonHex,
  extensionTitle,
  hexLines,
  integerDecimal,
  isoTime,
  nextUpdatePhrase,
  serialColonHex,
  TextOut,
  validityPhrase,
  validityStatus,
} from './format.js';
import {
  type ExtensionJson,
  extensionHeading,
  extensionJson,
  extensionValueText,
  type Json,
} from './inspect-extensions.js';
import { ocspRequestView, ocspResponseView, ocspText } from './inspect-ocsp.js';

export interface InspectOptions {
  json?: boolean;
  asn1?: boolean;
  /** Time for the validity phrases (epoch ms); default now. */
  at?: number;
}

// ---- loading ----

interface Source {
  [k: string]: Json | undefined;
  format: 'PEM' | 'DER';
  block?: number;
  label?: string;
  container?: string;
  index?: number;
}

type Parsed =
  | { kind: 'certificate'; value: Certificate }
  | { kind: 'csr'; value: CertificationRequest }
  | { kind: 'crl'; value: CertificateList }
  | { kind: 'view'; view: Obj; redact: boolean };

interface Loaded {
  source: Source;
  der: Uint8Array;
  parsed: Parsed;
}

type Obj = { [k: string]: Json | undefined };

/** Most PEM blocks / DER objects one file may hold (a CA bundle has ~150; a big PKCS#7 a few thousand). */
const MAX_OBJECTS = 100_000;

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/** Parses everything in a file's bytes. Decode errors propagate with `where` context via CliError. */
export function loadObjects(bytes: Uint8Array): Loaded[] {
  if (looksLikePem(bytes)) return loadPem(latin1(bytes));
  if (bytes.length === 0) throw new CliError('empty file');
  if (bytes[0] !== 0x30 && looksLikeText(bytes))
    throw new CliError('neither PEM (no "-----BEGIN" line) nor DER');
  return loadDer(bytes);
}

/** Printable ASCII (plus whitespace) in the first 256 bytes: a text file, not DER. */
function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 256);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c > 0x7e || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)) return false;
  }
  return true;
}

function loadPem(text: string): Loaded[] {
  let blocks: ReturnType<typeof decodePem>;
  try {
    blocks = decodePem(text, MAX_OBJECTS);
  } catch (e) {
    if (e instanceof PemError)
      throw new CliError(`bad PEM (${e.code}) at line ${e.line}: ${e.message.replace(/ \(line \d+\)$/, '')}`);
    throw e;
  }
  if (blocks.length === 0) throw new CliError('no PEM block found');
  const out: Loaded[] = [];
  blocks.forEach((b, i) => {
    const source: Source = { format: 'PEM', block: i + 1, label: b.label };
    const where = `PEM block ${i + 1} (${b.label})`;
    withWhere(where, () => {
      const encrypted = b.headers['Proc-Type']?.includes('ENCRYPTED');
      if (CERT_LABELS.has(b.label))
        out.push({ source, der: b.der, parsed: { kind: 'certificate', value: parseCertificate(b.der) } });
      else if (CSR_LABELS.has(b.label))
        out.push({ source, der: b.der, parsed: { kind: 'csr', value: parseCsr(b.der) } });
      else if (b.label === 'X509 CRL')
        out.push({ source, der: b.der, parsed: { kind: 'crl', value: parseCrl(b.der) } });
      else if (b.label === 'PKCS7' || b.label === 'CMS') out.push(...loadPkcs7(b.der, source));
      else if (b.label === 'TRUSTED CERTIFICATE') {
        // OpenSSL's trusted form: a Certificate followed by its X509_CERT_AUX trust settings.
        const r = DerReader.from(b.der, 'TrustedCertificate');
        const cert = readCertificate(r);
        out.push({ source, der: cert.der, parsed: { kind: 'certificate', value: cert } });
      } else if (encrypted)
        out.push(view(source, b.der, legacyEncryptedView(b.label, b.headers['DEK-Info']), true));
      else if (b.label === 'PRIVATE KEY') out.push(view(source, b.der, pkcs8View(b.der), true));
      else if (b.label === 'ENCRYPTED PRIVATE KEY')
        out.push(view(source, b.der, encryptedPkcs8View(b.der), true));
      else if (b.label === 'EC PRIVATE KEY') out.push(view(source, b.der, sec1View(b.der), true));
      else if (b.label === 'RSA PRIVATE KEY') out.push(view(source, b.der, pkcs1PrivateView(b.der), true));
      else if (b.label === 'PUBLIC KEY') out.push(view(source, b.der, spkiView(b.der), false));
      else if (b.label === 'RSA PUBLIC KEY') out.push(view(source, b.der, pkcs1PublicView(b.der), false));
      else if (b.label === 'EC PARAMETERS') out.push(view(source, b.der, ecParametersView(b.der), false));
      else if (b.label === 'OCSP RESPONSE') out.push(view(source, b.der, ocspResponseView(b.der), false));
      else if (b.label === 'OCSP REQUEST') out.push(view(source, b.der, ocspRequestView(b.der), false));
      else throw new CliError(`${where}: unsupported PEM label "${b.label}"`);
    });
  });
  return out;
}

function view(source: Source, der: Uint8Array, v: Obj, redact: boolean): Loaded {
  return { source, der, parsed: { kind: 'view', view: v, redact } };
}

/** Runs fn, turning decode errors into a one-line CliError that names the part of the input. */
function withWhere<T>(where: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isDecodeError(e)) throw new CliError(describeDecodeError(e, where), EXIT_INPUT);
    if (e instanceof CryptoError) {
      const cause = (e as { cause?: unknown }).cause;
      if (isDecodeError(cause)) throw new CliError(describeDecodeError(cause, where), EXIT_INPUT);
      throw new CliError(`${e.code}${where ? ` in ${where}` : ''}: ${e.message}`, EXIT_INPUT);
    }
    throw e;
  }
}

/** DER alternatives, in the order tried. */
const DER_PARSERS: readonly { name: string; parse: (der: Uint8Array, source: Source) => Loaded[] }[] = [
  {
    name: 'certificate',
    parse: (d, s) => [{ source: s, der: d, parsed: { kind: 'certificate', value: parseCertificate(d) } }],
  },
  { name: 'CRL', parse: (d, s) => [{ source: s, der: d, parsed: { kind: 'crl', value: parseCrl(d) } }] },
  { name: 'CSR', parse: (d, s) => [{ source: s, der: d, parsed: { kind: 'csr', value: parseCsr(d) } }] },
  { name: 'PKCS#7', parse: (d, s) => loadPkcs7(d, s) },
  { name: 'OCSP response', parse: (d, s) => [view(s, d, ocspResponseView(d), false)] },
  { name: 'OCSP request', parse: (d, s) => [view(s, d, ocspRequestView(d), false)] },
  { name: 'PKCS#8 private key', parse: (d, s) => [view(s, d, pkcs8View(d), true)] },
  { name: 'encrypted PKCS#8 private key', parse: (d, s) => [view(s, d, encryptedPkcs8View(d), true)] },
  { name: 'SEC1 EC private key', parse: (d, s) => [view(s, d, sec1View(d), true)] },
  { name: 'PKCS#1 RSA private key', parse: (d, s) => [view(s, d, pkcs1PrivateView(d), true)] },
  { name: 'public key', parse: (d, s) => [view(s, d, spkiView(d), false)] },
  { name: 'PKCS#1 RSA public key', parse: (d, s) => [view(s, d, pkcs1PublicView(d), false)] },
];

function loadDer(der: Uint8Array): Loaded[] {
  const source: Source = { format: 'DER' };
  let best: { e: DerError | Error; offset: number } | undefined;
  for (const p of DER_PARSERS) {
    try {
      return p.parse(der, source);
    } catch (e) {
      let err: unknown = e;
      if (e instanceof CryptoError && isDecodeError((e as { cause?: unknown }).cause))
        err = (e as { cause?: unknown }).cause;
      if (!isDecodeError(err) && !(err instanceof CryptoError)) throw e;
      const offset = isDecodeError(err) ? (err.offset ?? 0) : -1;
      if (!best || offset > best.offset) best = { e: err as Error, offset };
    }
  }
  const e = best!.e;
  if (isDecodeError(e)) throw new CliError(describeDecodeError(e), EXIT_INPUT);
  throw new CliError(`not a certificate, CRL, CSR, PKCS#7 or key: ${e.message}`, EXIT_INPUT);
}

/**
 * RFC 5652 §3/§5.1 (certs-only, RFC 7030 §4.1.3): ContentInfo ::= SEQUENCE { contentType OID,
 * content [0] EXPLICIT SignedData }; SignedData ::= SEQUENCE { version, digestAlgorithms SET,
 * encapContentInfo SEQUENCE, certificates [0] IMPLICIT SET OF Certificate OPTIONAL,
 * crls [1] IMPLICIT ... OPTIONAL, signerInfos SET }.
 */
function loadPkcs7(der: Uint8Array, source: Source): Loaded[] {
  const top = DerReader.from(der, 'ContentInfo');
  const ci = top.readSequence('ContentInfo');
  const type = ci.readOid('contentType');
  if (type !== OID.signedData) ci.fail('unexpected-tag', `PKCS#7 content type ${type} is not signedData`, 0);
  const c = ci.readExplicit(0, 'content');
  const sd = c.readSequence('SignedData');
  sd.readSmallInt('version', 255);
  sd.readConstructed(0x31, 'digestAlgorithms');
  sd.readSequence('encapContentInfo');
  const out: Loaded[] = [];
  const certs = sd.peekTag() === 0xa0 ? sd.readConstructed(0xa0, 'certificates') : undefined;
  let i = 0;
  if (certs)
    certs.forEach('certificate', (r) => {
      if (r.peekTag() !== 0x30) {
        r.readAny('other certificate format');
        return;
      }
      const start = r.pos;
      const cert = readCertificate(r);
      out.push({
        source: { ...source, container: 'PKCS#7', index: ++i },
        der: r.bytes.subarray(start, r.pos),
        parsed: { kind: 'certificate', value: cert },
      });
    });
  if (sd.peekTag() === 0xa1) sd.readConstructed(0xa1, 'crls');
  sd.readConstructed(0x31, 'signerInfos');
  sd.finish();
  c.finish();
  ci.finish();
  top.finish();
  if (out.length === 0) throw new CliError('PKCS#7 bundle holds no certificates');
  return out;
}

// ---- keys (never key material) ----

function sha256Colon(b: Uint8Array): string {
  return colonHex(nodeCrypto.digest('SHA-256', b), true);
}

function curveOfParameter(p: Uint8Array | undefined): string | undefined {
  if (p === undefined || p[0] !== 0x06) return undefined;
  const r = DerReader.from(p, 'namedCurve');
  const oid = r.readOid('namedCurve');
  r.finish();
  return oid;
}

function ecKeyFields(curveOid: string | undefined, publicKey: Uint8Array | undefined): Obj {
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

function rsaKeyFields(modulus: Uint8Array, publicExponent: Uint8Array): Obj {
  const spki = encodeSubjectPublicKeyInfo(
    OID.rsaEncryption,
    NULL_PARAMETER,
    encodeRsaPublicKey({ modulus, publicExponent }),
  );
  return {
    algorithm: 'RSA',
    keySize: bitLength(modulus),
    publicExponent: integerDecimal(
      publicExponent[0]! & 0x80 ? Uint8Array.of(0, ...publicExponent) : publicExponent,
    ),
    publicKeyIncluded: true,
    spkiSha256: sha256Colon(spki),
  };
}

const EDWARDS: Record<string, { name: string; bits: number }> = {
  [OID.ed25519]: { name: 'Ed25519', bits: 256 },
  [OID.ed448]: { name: 'Ed448', bits: 456 },
  [OID.x25519]: { name: 'X25519', bits: 256 },
  [OID.x448]: { name: 'X448', bits: 448 },
};

/** RFC 5958 OneAsymmetricKey. */
function pkcs8View(der: Uint8Array): Obj {
  const info = parsePrivateKeyInfo(der);
  const oid = info.algorithm.oid;
  let fields: Obj;
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

/** RFC 5958 §3 EncryptedPrivateKeyInfo; PBES2 details when we know the scheme. */
function encryptedPkcs8View(der: Uint8Array): Obj {
  try {
    const p = parseEncryptedPrivateKeyInfo(der);
    const kdf: Obj =
      p.kdf.kdf === 'pbkdf2'
        ? {
            name: 'PBKDF2',
            prf: `HMAC-${p.kdf.prf}`,
            iterations: p.kdf.iterations,
            saltLength: p.kdf.salt.length,
          }
        : { name: 'scrypt', N: p.kdf.N, r: p.kdf.r, p: p.kdf.p, saltLength: p.kdf.salt.length };
    return {
      type: 'encrypted-private-key',
      format: 'PKCS#8',
      encryption: { scheme: 'PBES2', kdf, cipher: p.cipher.name },
    };
  } catch (e) {
    if (!(e instanceof CryptoError) || e.code !== 'unsupported-algorithm') throw e;
    // A scheme we cannot decrypt (PBES1, PKCS#12 PBE): still say what it is.
    const r = DerReader.from(der, 'EncryptedPrivateKeyInfo');
    const s = r.readSequence('EncryptedPrivateKeyInfo');
    const alg = s.readSequence('encryptionAlgorithm');
    const oid = alg.readOid('algorithm');
    return {
      type: 'encrypted-private-key',
      format: 'PKCS#8',
      encryption: { scheme: oidName(oid) ?? oid, unsupported: e.message },
    };
  }
}

/** RFC 1421-style `Proc-Type: 4,ENCRYPTED` keys (OpenSSL's traditional format): opaque to us. */
function legacyEncryptedView(label: string, dekInfo: string | undefined): Obj {
  const format = label === 'RSA PRIVATE KEY' ? 'PKCS#1' : label === 'EC PRIVATE KEY' ? 'SEC1' : label;
  return {
    type: 'encrypted-private-key',
    format,
    encryption: { scheme: 'legacy PEM encryption (RFC 1421 headers)', cipher: dekInfo?.split(',')[0] },
  };
}

/** RFC 5915 ECPrivateKey. */
function sec1View(der: Uint8Array): Obj {
  const k = parseEcPrivateKey(der);
  return { type: 'private-key', format: 'SEC1', ...ecKeyFields(k.curveOid, k.publicKey) };
}

/** RFC 8017 §A.1.2 RSAPrivateKey. */
function pkcs1PrivateView(der: Uint8Array): Obj {
  const k = parseRsaPrivateKey(der);
  return { type: 'private-key', format: 'PKCS#1', ...rsaKeyFields(k.modulus, k.publicExponent) };
}

function spkiView(der: Uint8Array): Obj {
  return { type: 'public-key', format: 'SPKI', ...keyJson(parseSpki(der)) };
}

function pkcs1PublicView(der: Uint8Array): Obj {
  const k = parseRsaPublicKey(der);
  const f = rsaKeyFields(k.modulus, k.publicExponent);
  return {
    type: 'public-key',
    format: 'PKCS#1',
    algorithm: 'RSA',
    keySize: f.keySize,
    modulus: toHex(k.modulus),
    publicExponent: f.publicExponent,
    spkiSha256: f.spkiSha256,
  };
}

function ecParametersView(der: Uint8Array): Obj {
  const curve = curveOfParameter(der);
  if (!curve) throw new CliError('EC PARAMETERS: only namedCurve parameters are supported (RFC 5480 §2.1.1)');
  return { type: 'ec-parameters', curve: curveByOid(curve)?.name ?? curve, oid: curve };
}

/** A SubjectPublicKeyInfo as JSON (public data: shown in full). */
function keyJson(spki: SubjectPublicKeyInfo): Obj {
  const k = spki.keyAlgorithm;
  const out: Obj = {
    algorithm: spki.describe(),
    oid: spki.algorithm.oid,
    keySize: spki.keySize || undefined,
    curve: k.kind === 'ec' ? k.curve : undefined,
  };
  if (spki.rsa) {
    out.modulus = toHex(spki.rsa.modulus);
    out.publicExponent = integerDecimal(Uint8Array.of(0, ...spki.rsa.publicExponent));
  } else out.publicKey = toHex(spki.publicKey);
  out.spkiSha256 = sha256Colon(spki.der);
  return out;
}

// ---- views of signed objects ----

function algorithmJson(a: AlgorithmIdentifier): Obj {
  try {
    const s = parseSignatureAlgorithm(a);
    const out: Obj = { name: signatureAlgorithmName(s), oid: a.oid };
    if (s.kind === 'rsa-pss') out.parameters = { hash: s.hash, mgfHash: s.mgfHash, saltLength: s.saltLength };
    return out;
  } catch (e) {
    if (!isDecodeError(e)) throw e;
    // Unknown or malformed parameters: still name it; verification will refuse it.
    return {
      name: oidName(a.oid) ?? a.oid,
      oid: a.oid,
      parameters: a.parameters ? toHex(a.parameters) : undefined,
      note: e.message,
    };
  }
}

function fingerprints(der: Uint8Array): Obj {
  return {
    sha1: colonHex(nodeCrypto.digest('SHA-1', der), true),
    sha256: colonHex(nodeCrypto.digest('SHA-256', der), true),
  };
}

function extensionsJson(
  list: readonly { oid: string; critical: boolean; value: Uint8Array; der: Uint8Array }[],
  decoded: (oid: string) => unknown,
): ExtensionJson[] {
  return list.map((e) => extensionJson(e, decoded(e.oid)));
}

function certificateJson(c: Certificate, now: number): Obj {
  return {
    version: c.version,
    serialNumber: serialColonHex(c.serialNumber),
    signatureAlgorithm: algorithmJson(c.signatureAlgorithm),
    issuer: c.issuer.toString(),
    subject: c.subject.toString(),
    validity: {
      notBefore: isoTime(c.notBefore),
      notAfter: isoTime(c.notAfter),
      status: validityStatus(c.notBefore, c.notAfter, now),
      remaining: validityPhrase(c.notBefore, c.notAfter, now),
    },
    subjectPublicKeyInfo: keyJson(c.subjectPublicKeyInfo),
    issuerUniqueID: c.issuerUniqueID ? toHex(c.issuerUniqueID) : undefined,
    subjectUniqueID: c.subjectUniqueID ? toHex(c.subjectUniqueID) : undefined,
    selfIssued: c.isSelfIssued,
    extensions: extensionsJson(c.extensions, (o) => c.decoded(o)),
    signatureValue: toHex(c.signatureValue),
    fingerprints: fingerprints(c.der),
  };
}

function csrJson(c: CertificationRequest): Obj {
  return {
    version: c.version + 1,
    subject: c.subject.toString(),
    subjectPublicKeyInfo: keyJson(c.subjectPublicKeyInfo),
    // Presence only: the value is a secret shared with the CA (RFC 2985 §5.4.1).
    challengePassword: c.challengePassword !== undefined ? 'present' : undefined,
    attributes: c.attributes.map((a) => ({ type: a.type, name: oidName(a.type), values: a.values.length })),
    extensions: extensionsJson(c.extensions, (o) => c.decoded(o)),
    signatureAlgorithm: algorithmJson(c.signatureAlgorithm),
    signatureValue: toHex(c.signatureValue),
    fingerprints: fingerprints(c.der),
  };
}

function crlJson(c: CertificateList, now: number): Obj {
  return {
    version: c.version,
    signatureAlgorithm: algorithmJson(c.signatureAlgorithm),
    issuer: c.issuer.toString(),
    thisUpdate: isoTime(c.thisUpdate),
    nextUpdate: c.nextUpdate !== undefined ? isoTime(c.nextUpdate) : undefined,
    nextUpdateStatus: c.nextUpdate !== undefined ? nextUpdatePhrase(c.nextUpdate, now) : undefined,
    extensions: extensionsJson(c.extensions, (o) => c.decoded(o)),
    revokedCertificates: c.revokedCertificates.map((e) => ({
      serialNumber: serialColonHex(e.serialNumber),
      revocationDate: isoTime(e.revocationDate),
      extensions: e.extensions.length ? extensionsJson(e.extensions, (o) => e.decoded(o)) : undefined,
    })),
    signatureValue: toHex(c.signatureValue),
    fingerprints: fingerprints(c.der),
  };
}

/** The JSON document for a file's objects. */
export function inspectJson(file: string, objects: readonly Loaded[], opts: InspectOptions = {}): Obj {
  const now = opts.at ?? Date.now();
  return {
    file,
    objects: objects.map((o) => {
      let body: Obj;
      let type: string;
      switch (o.parsed.kind) {
        case 'certificate':
          type = 'certificate';
          body = certificateJson(o.parsed.value, now);
          break;
        case 'csr':
          type = 'csr';
          body = csrJson(o.parsed.value);
          break;
        case 'crl':
          type = 'crl';
          body = crlJson(o.parsed.value, now);
          break;
        case 'view': {
          const { type: t, ...rest } = o.parsed.view;
          type = t as string;
          body = rest;
          break;
        }
      }
      const out: Obj = { type, source: o.source, ...body };
      if (opts.asn1)
        out.asn1 = asn1Tree(o.der, o.parsed.kind === 'view' && o.parsed.redact, secretOffsets(o));
      return out;
    }),
  };
}

/** Offsets (in the object's DER) of values never to print: a CSR's challengePassword. */
function secretOffsets(o: Loaded): Set<number> {
  const out = new Set<number>();
  if (o.parsed.kind !== 'csr') return out;
  for (const a of o.parsed.value.attributes)
    if (a.type === OID.challengePassword) for (const v of a.values) out.add(v.byteOffset - o.der.byteOffset);
  return out;
}

// ---- text ----

const TITLES: Record<string, string> = {
  certificate: 'Certificate',
  csr: 'Certificate Request',
  crl: 'Certificate Revocation List',
  'private-key': 'Private Key',
  'encrypted-private-key': 'Encrypted Private Key',
  'public-key': 'Public Key',
  'ec-parameters': 'EC Parameters',
  'ocsp-response': 'OCSP Response',
  'ocsp-request': 'OCSP Request',
};

function sourceText(s: Obj): string {
  const parts: string[] = [];
  if (s.format === 'PEM') parts.push(`PEM block ${s.block}${s.label ? ` "${s.label}"` : ''}`);
  else parts.push('DER');
  if (s.container) parts.push(`${s.container} #${s.index}`);
  return parts.join(', ');
}

function keyText(t: TextOut, k: Obj): void {
  t.field('Public Key Algorithm', `${oidName(k.oid as string) ?? k.oid}`);
  t.indented(() => {
    t.field(
      'Key',
      `${k.algorithm}${k.keySize && !(k.algorithm as string).includes(String(k.keySize)) ? ` (${k.keySize} bit)` : ''}`,
    );
    if (k.modulus !== undefined) {
      t.field('Modulus', hexLines(hexBytes(k.modulus as string), 15));
      const e = BigInt(k.publicExponent as string);
      t.field('Exponent', `${e} (0x${e.toString(16)})`);
    }
    if (k.publicKey !== undefined) t.field('pub', hexLines(hexBytes(k.publicKey as string), 15));
    if (k.spkiSha256) t.field('SPKI SHA-256', k.spkiSha256 as string);
  });
}

function hexBytes(h: string): Uint8Array {
  const out = new Uint8Array(h.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function extensionsText(t: TextOut, title: string, exts: readonly ExtensionJson[]): void {
  if (exts.length === 0) return;
  t.line(`${title}:`);
  t.indented(() => {
    for (const x of exts) {
      t.line(extensionHeading(x));
      t.indented(() => {
        for (const l of extensionValueText(x)) t.line(l);
      });
    }
  });
}

function signatureText(t: TextOut, o: Obj): void {
  const a = o.signatureAlgorithm as Obj;
  t.field('Signature Algorithm', a.name as string);
  t.field('Signature Value', hexLines(hexBytes(o.signatureValue as string)));
  const f = o.fingerprints as Obj;
  t.line('Fingerprints:');
  t.indented(() => {
    t.line(`SHA-1:   ${f.sha1}`);
    t.line(`SHA-256: ${f.sha256}`);
  });
}

function objectText(t: TextOut, o: Obj): void {
  const type = o.type as string;
  t.line(`${TITLES[type] ?? type} [${sourceText(o.source as Obj)}]`);
  t.indented(() => {
    switch (type) {
      case 'certificate': {
        const v = o.validity as Obj;
        t.field('Version', `${o.version} (0x${((o.version as number) - 1).toString(16)})`);
        t.field('Serial Number', o.serialNumber as string);
        t.field('Signature Algorithm', (o.signatureAlgorithm as Obj).name as string);
        t.field('Issuer', (o.issuer as string) || '(empty)');
        t.line('Validity:');
        t.indented(() => {
          t.line(`Not Before: ${v.notBefore}`);
          t.line(`Not After:  ${v.notAfter} (${v.remaining})`);
        });
        t.field('Subject', (o.subject as string) || '(empty)');
        if (o.selfIssued) t.line('(self-issued: issuer and subject are the same name)');
        t.line('Subject Public Key Info:');
        t.indented(() => keyText(t, o.subjectPublicKeyInfo as Obj));
        if (o.issuerUniqueID) t.field('Issuer Unique ID', o.issuerUniqueID as string);
        if (o.subjectUniqueID) t.field('Subject Unique ID', o.subjectUniqueID as string);
        extensionsText(t, 'X509v3 extensions', o.extensions as ExtensionJson[]);
        signatureText(t, o);
        break;
      }
      case 'csr': {
        t.field('Version', `${o.version} (0x${((o.version as number) - 1).toString(16)})`);
        t.field('Subject', (o.subject as string) || '(empty)');
        t.line('Subject Public Key Info:');
        t.indented(() => keyText(t, o.subjectPublicKeyInfo as Obj));
        const attrs = o.attributes as Obj[];
        t.line(`Attributes:${attrs.length ? '' : ' (none)'}`);
        t.indented(() => {
          for (const a of attrs) {
            if (a.type === OID.extensionRequest) t.line('extensionRequest: (below)');
            else if (a.type === OID.challengePassword) t.line('challengePassword: present (value not shown)');
            else t.line(`${a.name ?? a.type}: ${a.values} value(s)`);
          }
        });
        extensionsText(t, 'Requested Extensions', o.extensions as ExtensionJson[]);
        signatureText(t, o);
        break;
      }
      case 'crl': {
        t.field('Version', `${o.version} (0x${((o.version as number) - 1).toString(16)})`);
        t.field('Signature Algorithm', (o.signatureAlgorithm as Obj).name as string);
        t.field('Issuer', (o.issuer as string) || '(empty)');
        t.field('This Update', o.thisUpdate as string);
        t.field('Next Update', o.nextUpdate ? `${o.nextUpdate} (${o.nextUpdateStatus})` : 'NONE');
        extensionsText(t, 'CRL extensions', o.extensions as ExtensionJson[]);
        const rev = o.revokedCertificates as Obj[];
        t.line(rev.length ? `Revoked Certificates (${rev.length}):` : 'No Revoked Certificates.');
        t.indented(() => {
          for (const e of rev) {
            t.line(`Serial Number: ${e.serialNumber}`);
            t.indented(() => {
              t.line(`Revocation Date: ${e.revocationDate}`);
              for (const x of (e.extensions as ExtensionJson[] | undefined) ?? []) {
                const lines = extensionValueText(x);
                if (lines.length === 1)
                  t.line(`${extensionTitle(x.oid)}${x.critical ? ' (critical)' : ''}: ${lines[0]}`);
                else {
                  t.line(extensionHeading(x));
                  t.indented(() => {
                    for (const l of lines) t.line(l);
                  });
                }
              }
            });
          }
        });
        signatureText(t, o);
        break;
      }
      case 'ocsp-response':
      case 'ocsp-request':
        ocspText(
          o,
          (l) => t.line(l),
          (fn) => t.indented(fn),
        );
        break;
      default:
        keyObjectText(t, o);
    }
    if (o.asn1) {
      t.line('ASN.1:');
      t.indented(() => {
        for (const l of asn1Text(o.asn1 as never)) t.line(l);
      });
    }
  });
}

const KEY_FIELD_TITLES: Record<string, string> = {
  format: 'Format',
  algorithm: 'Algorithm',
  keySize: 'Key Size',
  curve: 'Curve',
  oid: 'OID',
  publicExponent: 'Public Exponent',
  publicKeyIncluded: 'Public Key Included',
  publicKey: 'Public Key',
  modulus: 'Modulus',
  spkiSha256: 'SPKI SHA-256',
};

function kdfText(k: Obj): string {
  if (k.name === 'PBKDF2') return `PBKDF2 (${k.prf}, ${k.iterations} iterations, ${k.saltLength}-byte salt)`;
  if (k.name === 'scrypt') return `scrypt (N=${k.N}, r=${k.r}, p=${k.p}, ${k.saltLength}-byte salt)`;
  return JSON.stringify(k);
}

/** Keys and EC parameters: flat fields; never key material (there is none in the view). */
function keyObjectText(t: TextOut, o: Obj): void {
  for (const [k, v] of Object.entries(o)) {
    if (k === 'type' || k === 'source' || k === 'asn1' || v === undefined) continue;
    const title = KEY_FIELD_TITLES[k] ?? k;
    if (k === 'encryption') {
      const e = v as Obj;
      t.line('Encryption:');
      t.indented(() => {
        t.field('Scheme', String(e.scheme));
        if (e.kdf) t.field('Key Derivation', kdfText(e.kdf as Obj));
        if (e.cipher) t.field('Cipher', String(e.cipher));
        if (e.unsupported) t.field('Note', String(e.unsupported));
      });
    } else if (k === 'modulus' || k === 'publicKey') t.field(title, hexLines(hexBytes(v as string), 15));
    else if (k === 'keySize') t.field(title, `${v} bit`);
    else if (typeof v === 'boolean') t.field(title, v ? 'yes' : 'no');
    else t.field(title, String(v));
  }
}

/** Text view of the JSON document. */
export function inspectText(doc: Obj): string {
  const t = new TextOut();
  const objs = doc.objects as Obj[];
  if (objs.length > 1) t.line(`${doc.file}: ${objs.length} objects`).line();
  objs.forEach((o, i) => {
    if (i > 0) t.line();
    objectText(t, o);
  });
  return t.toString();
}

// ---- command ----

function readInput(file: string): Uint8Array {
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new CliError(`${file}: is a directory`);
    return readFileSync(file);
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${file}: no such file`);
    if (code === 'EACCES') throw new CliError(`${file}: permission denied`);
    throw new CliError(`${file}: cannot read (${code ?? (e as Error).message})`);
  }
}

/** Parses a `--at` value: ISO 8601 date/time (UTC when no zone is given). */
export function parseAt(s: string): number {
  const v = /[zZ]|[+-]\d\d:?\d\d$/.test(s) || !s.includes('T') ? Date.parse(s) : Date.parse(`${s}Z`);
  if (Number.isNaN(v)) throw new CliError(`--at: not an ISO 8601 time: "${s}"`);
  return v;
}

/** Everything `fleetpki inspect` prints for a file (throws CliError on bad input). */
export function inspectFile(file: string, opts: InspectOptions = {}): string {
  const objects = loadObjects(readInput(file));
  const doc = withWhere(undefined, () => inspectJson(file, objects, opts));
  return opts.json ? `${JSON.stringify(doc, null, 2)}\n` : inspectText(doc);
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show what a certificate, CSR, CRL, key or bundle (PEM or DER) contains')
    .argument('<file>', 'file to inspect (PEM with one or more blocks, or DER)')
    .option('--json', 'print JSON instead of text (same content, stable key order)')
    .option('--asn1', 'also show the DER structure (private key contents are redacted)')
    .option('--at <time>', 'evaluate validity at this ISO 8601 time instead of now')
    .action((file: string, o: { json?: boolean; asn1?: boolean; at?: string }) => {
      const out = inspectFile(file, { json: o.json, asn1: o.asn1, at: o.at ? parseAt(o.at) : undefined });
      process.stdout.write(out);
    });
}
