/**
 * `fleetpki inspect`: reading a file and finding out what it holds.
 *
 * PEM is dispatched on its labels; DER is tried against each parser in turn, and when all fail
 * the error that got furthest into the input is reported. Containers (PKCS#7 certs-only,
 * PKCS#12, OpenSSL's TRUSTED CERTIFICATE) yield the objects inside them. Files that are not PKI
 * formats but are often mistaken for them (OpenSSH keys) get a hint saying how to convert them.
 *
 * Memory is bounded: files above MAX_INPUT_BYTES are refused before they are read (a bundle
 * expands roughly tenfold once parsed and described), and at most MAX_OBJECTS objects are read.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { CryptoError } from '../../crypto/errors.js';
import { latin1 } from '../../der/bytes.js';
import type { DerError } from '../../der/errors.js';
import { OID } from '../../der/oid-names.js';
import { DerReader } from '../../der/reader.js';
import { decodePem, looksLikePem, type PemBlock, PemError } from '../../pem/pem.js';
import { type Certificate, parseCertificate, readCertificate } from '../../x509/certificate.js';
import { type CertificateList, parseCrl } from '../../x509/crl.js';
import { type CertificationRequest, parseCsr } from '../../x509/csr.js';
import { CliError, describeDecodeError, EXIT_INPUT, isDecodeError } from '../errors.js';
import {
  ecParametersView,
  encryptedPkcs8View,
  legacyEncryptedView,
  pkcs1PrivateView,
  pkcs1PublicView,
  pkcs8View,
  sec1View,
  spkiView,
} from './keys.js';
import { ocspRequestView, ocspResponseView } from './ocsp.js';
import type { ObjectView, Source, ViewBody } from './schema.js';

/** A body view built while loading (keys, OCSP, PKCS#12 summaries). */
export type PrebuiltView = ViewBody<Exclude<ObjectView, { type: 'certificate' | 'csr' | 'crl' }>>;

/** What one object of the file parsed to. Certificates, CSRs and CRLs are described later (views.ts). */
export type Parsed =
  | { kind: 'certificate'; value: Certificate }
  | { kind: 'csr'; value: CertificationRequest }
  | { kind: 'crl'; value: CertificateList }
  | { kind: 'view'; view: PrebuiltView; redact: boolean };

/** One object of the file, with where it came from and its DER (for `--asn1`). */
export interface Loaded {
  source: Source;
  der: Uint8Array;
  parsed: Parsed;
}

/** Most PEM blocks / DER objects one file may hold (a CA bundle has ~150; a big PKCS#7 a few thousand). */
export const MAX_OBJECTS = 100_000;

/**
 * Largest file `inspect` reads: 64 MiB. A 64 MiB PEM bundle (~45 000 certificates) peaks at
 * well under 1 GiB here; larger inputs are refused up front with a message saying so, rather
 * than taking the machine's memory (CRLs that big are split or delta CRLs in practice).
 */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/** Hook for containers that need more than bytes (PKCS#12 asks for a password). */
export interface LoadContext {
  /** Loads a PKCS#12 file; set by the command (it may prompt). */
  pkcs12?: (der: Uint8Array, source: Source) => Loaded[];
}

/** Reads a file for `inspect`: one-line errors, size-bounded. */
export function readInputFile(file: string, maxBytes = MAX_INPUT_BYTES): Uint8Array {
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new CliError(`${file}: is a directory`);
    if (st.isFile() && st.size > maxBytes)
      throw new CliError(
        `${file}: ${(st.size / 1048576).toFixed(1)} MiB is more than inspect reads (${maxBytes / 1048576} MiB); split the bundle`,
      );
    // Read at most maxBytes + 1 (a device or pipe has no size to check beforehand).
    const fd = openSync(file, 'r');
    try {
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const buf = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - total));
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        chunks.push(buf.subarray(0, n));
        total += n;
        if (total > maxBytes)
          throw new CliError(
            `${file}: more than inspect reads (${maxBytes / 1048576} MiB); split the bundle`,
          );
      }
      return new Uint8Array(Buffer.concat(chunks, total));
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${file}: no such file`);
    if (code === 'EACCES') throw new CliError(`${file}: permission denied`);
    throw new CliError(`${file}: cannot read (${code ?? (e as Error).message})`);
  }
}

/** Parses everything in a file's bytes. Decode errors become a one-line CliError naming the part. */
export function loadObjects(bytes: Uint8Array, ctx: LoadContext = {}): Loaded[] {
  if (looksLikePem(bytes)) return loadPem(latin1(bytes), ctx);
  if (bytes.length === 0) throw new CliError('empty file');
  if (bytes[0] !== 0x30 && looksLikeText(bytes)) {
    const hint = sshHint(latin1(bytes.subarray(0, 256)));
    throw new CliError(hint ?? 'neither PEM (no "-----BEGIN" line) nor DER');
  }
  return loadDer(bytes, ctx);
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

/** RFC 4253 §6.6 / RFC 5656 §3.1 / RFC 8709 public key names as they start an OpenSSH `.pub` line. */
const SSH_PUBLIC_KEY =
  /^(ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s+AAAA/;

/** A hint for OpenSSH key files, which are not X.509/PKCS formats. */
function sshHint(head: string): string | undefined {
  const m = SSH_PUBLIC_KEY.exec(head.trimStart());
  if (m)
    return `an OpenSSH public key (${m[1]}), not a PKI file: convert it with \`ssh-keygen -e -m PKCS8 -f FILE > key.pem\` (a PEM "PUBLIC KEY"), then inspect that`;
  return undefined;
}

/** PEM labels of SSH formats, with what to do about each. */
const SSH_LABELS: Record<string, string> = {
  'OPENSSH PRIVATE KEY':
    'an OpenSSH private key, not a PKI file: convert a COPY with `ssh-keygen -p -m PKCS8 -f COPY` (rewrites it as PKCS#8 "PRIVATE KEY"), then inspect that',
  'SSH2 PUBLIC KEY':
    'an RFC 4716 (SSH2) public key, not a PKI file: `ssh-keygen -i -m RFC4716 -f FILE > key.pub` then `ssh-keygen -e -m PKCS8 -f key.pub > key.pem`',
};

function loadPem(text: string, ctx: LoadContext): Loaded[] {
  let blocks: PemBlock[];
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
    withWhere(where, () => out.push(...loadPemBlock(b, source, where, ctx)));
  });
  return out;
}

function loadPemBlock(b: PemBlock, source: Source, where: string, ctx: LoadContext): Loaded[] {
  const one = (parsed: Parsed): Loaded[] => [{ source, der: b.der, parsed }];
  if (CERT_LABELS.has(b.label)) return one({ kind: 'certificate', value: parseCertificate(b.der) });
  if (CSR_LABELS.has(b.label)) return one({ kind: 'csr', value: parseCsr(b.der) });
  if (b.label === 'X509 CRL') return one({ kind: 'crl', value: parseCrl(b.der) });
  if (b.label === 'PKCS7' || b.label === 'CMS') return loadPkcs7(b.der, source);
  if (b.label === 'PKCS12' && ctx.pkcs12) return ctx.pkcs12(b.der, source);
  if (b.label === 'TRUSTED CERTIFICATE') {
    // OpenSSL's trusted form: a Certificate followed by its X509_CERT_AUX trust settings.
    const r = DerReader.from(b.der, 'TrustedCertificate');
    const cert = readCertificate(r);
    return [{ source, der: cert.der, parsed: { kind: 'certificate', value: cert } }];
  }
  const view = (v: PrebuiltView, redact: boolean): Loaded[] => one({ kind: 'view', view: v, redact });
  if (b.headers['Proc-Type']?.includes('ENCRYPTED'))
    return view(legacyEncryptedView(b.label, b.headers['DEK-Info']), true);
  switch (b.label) {
    case 'PRIVATE KEY':
      return view(pkcs8View(b.der), true);
    case 'ENCRYPTED PRIVATE KEY':
      return view(encryptedPkcs8View(b.der), true);
    case 'EC PRIVATE KEY':
      return view(sec1View(b.der), true);
    case 'RSA PRIVATE KEY':
      return view(pkcs1PrivateView(b.der), true);
    case 'PUBLIC KEY':
      return view(spkiView(b.der), false);
    case 'RSA PUBLIC KEY':
      return view(pkcs1PublicView(b.der), false);
    case 'EC PARAMETERS':
      return view(ecParametersView(b.der), false);
    case 'OCSP RESPONSE':
      return view(ocspResponseView(b.der), false);
    case 'OCSP REQUEST':
      return view(ocspRequestView(b.der), false);
  }
  const ssh = SSH_LABELS[b.label];
  if (ssh) throw new CliError(`${where}: ${ssh}`);
  throw new CliError(`${where}: unsupported PEM label "${b.label}"`);
}

/** Runs fn, turning decode errors into a one-line CliError that names the part of the input. */
export function withWhere<T>(where: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isDecodeError(e)) throw new CliError(describeDecodeError(e, where), EXIT_INPUT);
    if (e instanceof CryptoError) {
      const cause = e.cause;
      if (isDecodeError(cause)) throw new CliError(describeDecodeError(cause, where), EXIT_INPUT);
      throw new CliError(`${e.code}${where ? ` in ${where}` : ''}: ${e.message}`, EXIT_INPUT);
    }
    throw e;
  }
}

/** DER alternatives, in the order tried. */
const DER_PARSERS: readonly {
  name: string;
  parse: (der: Uint8Array, s: Source, ctx: LoadContext) => Loaded[];
}[] = [
  {
    name: 'certificate',
    parse: (d, s) => [{ source: s, der: d, parsed: { kind: 'certificate', value: parseCertificate(d) } }],
  },
  { name: 'CRL', parse: (d, s) => [{ source: s, der: d, parsed: { kind: 'crl', value: parseCrl(d) } }] },
  { name: 'CSR', parse: (d, s) => [{ source: s, der: d, parsed: { kind: 'csr', value: parseCsr(d) } }] },
  { name: 'PKCS#7', parse: (d, s) => loadPkcs7(d, s) },
  // Before the keys: a PFX starts INTEGER 3, SEQUENCE, like a PKCS#8 key with a bad version.
  { name: 'PKCS#12', parse: (d, s, ctx) => (ctx.pkcs12 && looksLikePfx(d) ? ctx.pkcs12(d, s) : notPfx(d)) },
  { name: 'OCSP response', parse: (d, s) => [viewLoaded(s, d, ocspResponseView(d), false)] },
  { name: 'OCSP request', parse: (d, s) => [viewLoaded(s, d, ocspRequestView(d), false)] },
  { name: 'PKCS#8 private key', parse: (d, s) => [viewLoaded(s, d, pkcs8View(d), true)] },
  { name: 'encrypted PKCS#8 private key', parse: (d, s) => [viewLoaded(s, d, encryptedPkcs8View(d), true)] },
  { name: 'SEC1 EC private key', parse: (d, s) => [viewLoaded(s, d, sec1View(d), true)] },
  { name: 'PKCS#1 RSA private key', parse: (d, s) => [viewLoaded(s, d, pkcs1PrivateView(d), true)] },
  { name: 'public key', parse: (d, s) => [viewLoaded(s, d, spkiView(d), false)] },
  { name: 'PKCS#1 RSA public key', parse: (d, s) => [viewLoaded(s, d, pkcs1PublicView(d), false)] },
];

function viewLoaded(source: Source, der: Uint8Array, view: PrebuiltView, redact: boolean): Loaded {
  return { source, der, parsed: { kind: 'view', view, redact } };
}

/** RFC 7292 §4: PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData OPTIONAL }. */
export function looksLikePfx(der: Uint8Array): boolean {
  try {
    const s = DerReader.from(der, 'PFX').readSequence('PFX');
    if (s.readSmallInt('version', 255) !== 3) return false;
    return s.readSequence('authSafe').readOid('contentType') === OID.data;
  } catch {
    return false;
  }
}

function notPfx(der: Uint8Array): never {
  // Reported as a decode failure at offset 0, so a better-matching parser's error wins.
  const r = DerReader.from(der, 'PFX');
  return r.fail('unexpected-tag', 'not a PKCS#12 PFX', 0);
}

function loadDer(der: Uint8Array, ctx: LoadContext): Loaded[] {
  const source: Source = { format: 'DER' };
  let best: { e: DerError | Error; offset: number } | undefined;
  for (const p of DER_PARSERS) {
    try {
      return p.parse(der, source, ctx);
    } catch (e) {
      let err: unknown = e;
      if (e instanceof CryptoError && isDecodeError(e.cause)) err = e.cause;
      if (!isDecodeError(err) && !(err instanceof CryptoError)) throw e;
      const offset = isDecodeError(err) ? (err.offset ?? 0) : -1;
      if (!best || offset > best.offset) best = { e: err as Error, offset };
    }
  }
  const e = best!.e;
  if (isDecodeError(e)) throw new CliError(describeDecodeError(e), EXIT_INPUT);
  throw new CliError(`not a certificate, CRL, CSR, PKCS#7, PKCS#12 or key: ${e.message}`, EXIT_INPUT);
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
