// Loads the public corpora the codec is held to (issue 2, acceptance 1), pre-decoded to DER:
// the Debian ca-certificates bundle, every unique certificate and CRL in x509-limbo, and the
// NIST PKITS certificates and CRLs. Shared data is found relative to the repo (../shared/...).
// Also used by bench/parse.bench.ts and scripts/fuzz.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesEqual, DerReader, encodeDer, OID, useUtcTime } from '../../src/der/index.js';
import { decodePem } from '../../src/pem/index.js';
import {
  type Certificate,
  type CertificateList,
  type CertificationRequest,
  type Extension,
  encodeCsrInfo,
  encodeSigned,
  extensionCodec,
  isDecodeError,
  parseCertificate,
  parseCrl,
  parseCsr,
  reencodeCertificate,
  reencodeCrl,
  reencodeCsr,
} from '../../src/x509/index.js';

export const TESTDATA = fileURLToPath(new URL('../../../shared/testdata/', import.meta.url));
export const DEBIAN_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface CorpusItem {
  /** Where it comes from, e.g. `limbo:rfc5280::san::malformed:peer`, `pkits:UIDCACert.crt`, `debian:12`. */
  id: string;
  /** x509-limbo testcase id (the first one using this object), for limbo items. */
  testcase?: string;
  kind: 'certificate' | 'crl';
  der: Uint8Array;
}

function need(path: string, what: string): void {
  if (!existsSync(path)) throw new Error(`${what} not found at ${path}`);
}

/** Every certificate of the Debian bundle (about 150). */
export function debianCertificates(): CorpusItem[] {
  need(DEBIAN_BUNDLE, 'the Debian ca-certificates bundle (apt-get install ca-certificates)');
  return decodePem(readFileSync(DEBIAN_BUNDLE, 'latin1'))
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b, i) => ({ id: `debian:${i + 1}`, kind: 'certificate' as const, der: b.der }));
}

interface LimboCase {
  id: string;
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  crls?: string[];
}

let limboCache: CorpusItem[] | undefined;

/** Every unique certificate and CRL PEM in limbo.json (~30 000), first use wins for the id. */
export function limboItems(): CorpusItem[] {
  if (limboCache) return limboCache;
  const file = join(TESTDATA, 'x509-limbo', 'limbo.json');
  need(file, 'x509-limbo');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { testcases: LimboCase[] };
  const seen = new Set<string>();
  const out: CorpusItem[] = [];
  const add = (pem: string, t: LimboCase, role: string, kind: CorpusItem['kind']) => {
    if (seen.has(pem)) return;
    seen.add(pem);
    const b = decodePem(pem)[0];
    if (!b) throw new Error(`limbo ${t.id}: ${role} is not PEM`);
    out.push({ id: `limbo:${t.id}:${role}`, testcase: t.id, kind, der: b.der });
  };
  for (const t of doc.testcases) {
    for (const [i, p] of t.trusted_certs.entries()) add(p, t, `trusted[${i}]`, 'certificate');
    for (const [i, p] of t.untrusted_intermediates.entries()) add(p, t, `untrusted[${i}]`, 'certificate');
    add(t.peer_certificate, t, 'peer', 'certificate');
    for (const [i, p] of (t.crls ?? []).entries()) add(p, t, `crl[${i}]`, 'crl');
  }
  limboCache = out;
  return out;
}

/** PKITS: 405 certificates (`certs/*.crt`) and 173 CRLs (`crls/*.crl`), DER files. */
export function pkitsItems(): CorpusItem[] {
  const dir = join(TESTDATA, 'pkits');
  need(dir, 'NIST PKITS');
  const out: CorpusItem[] = [];
  for (const [sub, kind] of [
    ['certs', 'certificate'],
    ['crls', 'crl'],
  ] as const)
    for (const f of readdirSync(join(dir, sub)).sort())
      out.push({ id: `pkits:${f}`, kind, der: new Uint8Array(readFileSync(join(dir, sub, f))) });
  return out;
}

/** A deterministic pseudo-random sample (xorshift32), so benches and tests see the same subset. */
export function sample<T>(items: readonly T[], n: number, seed = 0x9e3779b9): T[] {
  if (n >= items.length) return [...items];
  const idx = items.map((_, i) => i);
  let s = seed >>> 0 || 1;
  for (let i = idx.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, n).map((i) => items[i]!);
}

// ---- tolerated non-canonical encodings (re-encoding differs, and that is expected) ----

export const TOLERANCES: Record<string, string> = {
  'generalized-time-before-2050':
    'RFC 5280 §4.1.2.5 wants UTCTime through 2049; GeneralizedTime earlier is accepted (Certum Trusted Network CA 2, PKITS 4.2.x) and re-encoded as UTCTime',
  'explicit-v1-version': 'version [0] INTEGER 0 encoded although DEFAULT v1 (X.690 §11.5); old roots do this',
  'empty-extensions':
    'extensions [3] present but empty (RFC 5280 says SIZE 1..MAX); webpki tolerates the same',
  'explicit-critical-false':
    'Extension.critical FALSE encoded although DEFAULT (X.690 §11.5); older Microsoft CAs',
  'extension-value:basicConstraints':
    'basicConstraints with cA FALSE encoded explicitly (DEFAULT, X.690 §11.5)',
  'extension-value:keyUsage':
    'keyUsage with trailing zero bits kept (X.690 §11.2.2); e.g. Trustwave Global ECC roots',
  'extension-value:issuingDistributionPoint':
    'IDP with onlySomeReasons trailing zero bits kept (X.690 §11.2.2) or a DEFAULT FALSE flag encoded; both tolerated by the codec (extensions/common.ts)',
  'extension-value:cRLDistributionPoints':
    'DistributionPoint reasons with trailing zero bits kept (X.690 §11.2.2), tolerated like keyUsage',
  'extension-value:freshestCRL':
    'DistributionPoint reasons with trailing zero bits kept (X.690 §11.2.2), tolerated like keyUsage',
  'csr-attributes-unsorted':
    'CSR attributes [0] IMPLICIT SET OF not in DER order (the parser does not check it)',
  'csr-attributes-absent':
    'CSR without the attributes [0] field (tolerated by csr.ts; re-encoded as empty [0])',
};

function timeTags(r: DerReader, n: number): { tag: number; ms: number }[] {
  const out: { tag: number; ms: number }[] = [];
  for (let i = 0; i < n && !r.atEnd(); i++) {
    const t = r.peekTag();
    if (t !== 0x17 && t !== 0x18) break;
    out.push({ tag: t, ms: r.readTime('time') });
  }
  return out;
}

const earlyGeneralized = (ts: { tag: number; ms: number }[]) =>
  ts.some((t) => t.tag === 0x18 && useUtcTime(t.ms));

function extensionTolerances(
  list: readonly Extension[],
  decoded: (oid: string) => unknown,
  out: Set<string>,
): void {
  for (const e of list) {
    // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }: look at what follows the OID.
    const r = DerReader.from(e.der, 'Extension').readSequence('Extension');
    r.readOid('extnID');
    if (r.peekTag() === 0x01 && !r.readBoolean('critical')) out.add('explicit-critical-false');
    const c = extensionCodec(e.oid);
    const v = decoded(e.oid);
    if (c && v !== undefined && !bytesEqual(c.encode(v), e.value)) out.add(`extension-value:${c.name}`);
  }
}

export function certificateTolerances(c: Certificate): Set<string> {
  const out = new Set<string>();
  const tbs = DerReader.from(c.tbs, 'tbs').readSequence('tbs');
  const v = tbs.readOptionalExplicit(0, 'version');
  if (v && v.readSmallInt('version') === 0) out.add('explicit-v1-version');
  tbs.readAny('serialNumber');
  tbs.readAny('signature');
  tbs.readAny('issuer');
  if (earlyGeneralized(timeTags(tbs.readSequence('validity'), 2))) out.add('generalized-time-before-2050');
  tbs.readAny('subject');
  tbs.readAny('spki');
  while (!tbs.atEnd()) {
    const t = tbs.readAny('rest');
    if (t.tag === 0xa3 && t.value.length === 2) out.add('empty-extensions');
  }
  extensionTolerances(c.extensions, (o) => c.decoded(o), out);
  return out;
}

export function crlTolerances(c: CertificateList): Set<string> {
  const out = new Set<string>();
  const tbs = DerReader.from(c.tbs, 'tbs').readSequence('tbs');
  if (tbs.peekTag() === 0x02) tbs.readAny('version');
  tbs.readAny('signature');
  tbs.readAny('issuer');
  const times = timeTags(tbs, 2);
  if (tbs.peekTag() === 0x30)
    tbs.readSequence('revoked').forEach('entry', (r) => {
      const e = r.readSequence('entry');
      e.readAny('serial');
      times.push(...timeTags(e, 1));
      while (!e.atEnd()) e.readAny('ext');
    });
  if (earlyGeneralized(times)) out.add('generalized-time-before-2050');
  if (tbs.peekTag() === 0xa0 && tbs.readAny('exts').value.length === 2) out.add('empty-extensions');
  extensionTolerances(c.extensions, (o) => c.decoded(o), out);
  for (const e of c.revokedCertificates) extensionTolerances(e.extensions, (o) => e.decoded(o), out);
  return out;
}

/**
 * CSR-specific tolerances: the attributes [0] IMPLICIT SET OF is not order-checked by the parser
 * (RFC 2986 generators differ), and an absent [0] is read as empty (csr.ts documents both);
 * `encodeCsrInfo` writes the canonical form, so such inputs re-encode differently.
 */
export function csrTolerances(c: CertificationRequest): Set<string> {
  const out = new Set<string>();
  const info = DerReader.from(c.tbs, 'info').readSequence('info');
  info.readAny('version');
  info.readAny('subject');
  info.readAny('spki');
  if (info.atEnd()) out.add('csr-attributes-absent');
  else {
    const attrs = info.readConstructed(0xa0, 'attributes');
    let prev: Uint8Array | undefined;
    while (!attrs.atEnd()) {
      const a = attrs.readAny('attribute').der;
      if (prev && compare(prev, a) > 0) out.add('csr-attributes-unsorted');
      prev = a;
    }
  }
  extensionTolerances(c.extensions, (o) => c.decoded(o), out);
  return out;
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

// ---- seeds for property tests and the fuzzer ----

export interface FuzzSeeds {
  certificate: Uint8Array[];
  crl: Uint8Array[];
  csr: Uint8Array[];
}

function parses(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

/**
 * Valid objects to mutate: Debian + PKITS + 300 limbo certificates; PKITS, limbo and sample CRLs;
 * the sample CSR plus one CSR per certificate (its subject, key and extensions, every third with
 * a challengePassword). Only objects that parse are returned.
 */
export function fuzzSeeds(limboSample = 300): FuzzSeeds {
  const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
  const pkits = pkitsItems();
  const limbo = limboItems();
  const certificate = [
    ...debianCertificates().map((i) => i.der),
    ...pkits.filter((i) => i.kind === 'certificate').map((i) => i.der),
    ...sample(
      limbo.filter((i) => i.kind === 'certificate'),
      limboSample,
    ).map((i) => i.der),
  ].filter((der) => parses(() => parseCertificate(der)));
  const crl = [
    ...pkits.filter((i) => i.kind === 'crl').map((i) => i.der),
    ...limbo.filter((i) => i.kind === 'crl').map((i) => i.der),
    decodePem(readFileSync(join(examples, 'fleet-issuing-1.crl.pem'), 'latin1'))[0]!.der,
  ].filter((der) => parses(() => parseCrl(der)));
  const csr = [
    decodePem(readFileSync(join(examples, 'sensor-0043.csr.pem'), 'latin1'))[0]!.der,
    ...certificate.slice(0, 200).flatMap((der, i) => {
      const c = parseCertificate(der);
      const pw = encodeDer((w) => w.utf8String(`pw-${i}`));
      const info = encodeCsrInfo({
        subject: c.subject,
        subjectPublicKeyInfo: c.subjectPublicKeyInfo.der,
        attributes: i % 3 === 0 ? [{ type: OID.challengePassword, values: [pw] }] : [],
        extensions: c.extensions,
      });
      const der2 = encodeSigned(info, c.signatureAlgorithm.der, c.signatureValue);
      return parses(() => parseCsr(der2)) ? [der2] : [];
    }),
  ];
  return { certificate, crl, csr };
}

// ---- the round-trip property (property tests and scripts/fuzz.ts) ----

export type InputKind = 'certificate' | 'crl' | 'csr';

const PARSE: Record<InputKind, (b: Uint8Array) => Certificate | CertificateList | CertificationRequest> = {
  certificate: parseCertificate,
  crl: parseCrl,
  csr: parseCsr,
};

/** Broken property: the message says which (a non-typed exception, or an unexplained re-encoding). */
export class PropertyViolation extends Error {
  override readonly name = 'PropertyViolation';
}

/**
 * Parses `input` as `kind`. Rejection must be a DerError/X509Error; acceptance must re-encode to
 * the same bytes, or differ only by documented tolerances. Throws PropertyViolation otherwise.
 */
export function roundTrip(
  kind: InputKind,
  input: Uint8Array,
  /** When given, receives the time the parse alone took (ms). */
  timing?: { parseMs: number },
): 'parsed' | 'rejected' | 'tolerated' {
  let obj: Certificate | CertificateList | CertificationRequest;
  const t0 = timing ? performance.now() : 0;
  try {
    obj = PARSE[kind](input);
    if (timing) timing.parseMs = performance.now() - t0;
  } catch (e) {
    if (timing) timing.parseMs = performance.now() - t0;
    if (isDecodeError(e)) return 'rejected';
    throw new PropertyViolation(
      `${kind}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (not a DerError/X509Error)`,
    );
  }
  let re: Uint8Array;
  let tol: () => Set<string>;
  try {
    if (kind === 'certificate') {
      re = reencodeCertificate(obj as Certificate);
      tol = () => certificateTolerances(obj as Certificate);
    } else if (kind === 'crl') {
      re = reencodeCrl(obj as CertificateList);
      tol = () => crlTolerances(obj as CertificateList);
    } else {
      re = reencodeCsr(obj as CertificationRequest);
      tol = () => csrTolerances(obj as CertificationRequest);
    }
  } catch (e) {
    throw new PropertyViolation(
      `${kind}: accepted, but re-encoding threw ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (bytesEqual(re, input)) return 'parsed';
  const t = tol();
  if (t.size === 0)
    throw new PropertyViolation(
      `${kind}: accepted, but re-encodes differently and no known tolerance explains it`,
    );
  for (const x of t)
    if (!(x in TOLERANCES)) throw new PropertyViolation(`${kind}: undocumented tolerance ${x}`);
  return 'tolerated';
}
