/**
 * `fleetpki inspect`: the typed view of each loaded object (schema.ts) — the single model that
 * both `--json` and the text rendering (text.ts) are made from, so the two always agree.
 */
import { nodeCrypto } from '../../crypto/node.js';
import { toHex } from '../../der/bytes.js';
import { OID, oidName } from '../../der/oid-names.js';
import { verifyCsr } from '../../issue/csr.js';
import { IssueError } from '../../issue/errors.js';
import {
  type AlgorithmIdentifier,
  parseSignatureAlgorithm,
  signatureAlgorithmName,
} from '../../x509/algorithm.js';
import type { Certificate } from '../../x509/certificate.js';
import type { CertificateList } from '../../x509/crl.js';
import type { CertificationRequest } from '../../x509/csr.js';
import type { Extension } from '../../x509/extensions/types.js';
import { asn1Tree } from '../asn1-dump.js';
import { isDecodeError } from '../errors.js';
import {
  colonHex,
  isoTime,
  nextUpdatePhrase,
  serialColonHex,
  validityPhrase,
  validityStatus,
} from '../format.js';
import { extensionJson } from './extensions.js';
import { publicKeyInfoView } from './keys.js';
import type { Loaded } from './load.js';
import {
  type AlgorithmView,
  type CertificateView,
  type CrlView,
  type CsrView,
  type ExtensionView,
  type Fingerprints,
  INSPECT_SCHEMA_VERSION,
  type InspectDocument,
  type ObjectView,
  type SelfSignature,
  type ViewBody,
} from './schema.js';

/** How the views are built. */
export interface ViewOptions {
  /** Time for the validity phrases (epoch ms). */
  now: number;
  /** Add the DER tree (`--asn1`). */
  asn1?: boolean;
}

function algorithmView(a: AlgorithmIdentifier): AlgorithmView {
  try {
    const s = parseSignatureAlgorithm(a);
    const out: AlgorithmView = { name: signatureAlgorithmName(s), oid: a.oid };
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

function fingerprints(der: Uint8Array): Fingerprints {
  return {
    sha1: colonHex(nodeCrypto.digest('SHA-1', der), true),
    sha256: colonHex(nodeCrypto.digest('SHA-256', der), true),
  };
}

function extensionsView(list: readonly Extension[], decoded: (oid: string) => unknown): ExtensionView[] {
  return list.map((e) => extensionJson(e, decoded(e.oid)));
}

/** RFC 5280 §4.1 Certificate: every field `openssl x509 -text` shows. */
export function certificateView(c: Certificate, now: number): ViewBody<CertificateView> {
  return {
    type: 'certificate',
    version: c.version,
    serialNumber: serialColonHex(c.serialNumber),
    signatureAlgorithm: algorithmView(c.signatureAlgorithm),
    issuer: c.issuer.toString(),
    subject: c.subject.toString(),
    validity: {
      notBefore: isoTime(c.notBefore),
      notAfter: isoTime(c.notAfter),
      status: validityStatus(c.notBefore, c.notAfter, now),
      remaining: validityPhrase(c.notBefore, c.notAfter, now),
    },
    subjectPublicKeyInfo: publicKeyInfoView(c.subjectPublicKeyInfo),
    issuerUniqueID: c.issuerUniqueID ? toHex(c.issuerUniqueID) : undefined,
    subjectUniqueID: c.subjectUniqueID ? toHex(c.subjectUniqueID) : undefined,
    selfIssued: c.isSelfIssued,
    extensions: extensionsView(c.extensions, (o) => c.decoded(o)),
    signatureValue: toHex(c.signatureValue),
    fingerprints: fingerprints(c.der),
  };
}

/** RFC 2986 §3: the CSR is signed with the key it carries (proof of possession). */
function selfSignature(c: CertificationRequest): SelfSignature {
  try {
    verifyCsr(c);
    return { status: 'valid' };
  } catch (e) {
    if (!(e instanceof IssueError)) throw e;
    if (e.code === 'csr-bad-signature') return { status: 'invalid', reason: e.message };
    return { status: 'not-checked', reason: e.message };
  }
}

/** RFC 2986 CertificationRequest, with whether its signature verifies. */
export function csrView(c: CertificationRequest): ViewBody<CsrView> {
  return {
    type: 'csr',
    version: c.version + 1,
    subject: c.subject.toString(),
    subjectPublicKeyInfo: publicKeyInfoView(c.subjectPublicKeyInfo),
    // Presence only: the value is a secret shared with the CA (RFC 2985 §5.4.1).
    challengePassword: c.challengePassword !== undefined ? 'present' : undefined,
    attributes: c.attributes.map((a) => ({ type: a.type, name: oidName(a.type), values: a.values.length })),
    extensions: extensionsView(c.extensions, (o) => c.decoded(o)),
    signatureAlgorithm: algorithmView(c.signatureAlgorithm),
    signatureValue: toHex(c.signatureValue),
    signature: selfSignature(c),
    fingerprints: fingerprints(c.der),
  };
}

/** RFC 5280 §5.1 CertificateList. */
export function crlView(c: CertificateList, now: number): ViewBody<CrlView> {
  return {
    type: 'crl',
    version: c.version,
    signatureAlgorithm: algorithmView(c.signatureAlgorithm),
    issuer: c.issuer.toString(),
    thisUpdate: isoTime(c.thisUpdate),
    nextUpdate: c.nextUpdate !== undefined ? isoTime(c.nextUpdate) : undefined,
    nextUpdateStatus: c.nextUpdate !== undefined ? nextUpdatePhrase(c.nextUpdate, now) : undefined,
    extensions: extensionsView(c.extensions, (o) => c.decoded(o)),
    revokedCertificates: c.revokedCertificates.map((e) => ({
      serialNumber: serialColonHex(e.serialNumber),
      revocationDate: isoTime(e.revocationDate),
      extensions: e.extensions.length ? extensionsView(e.extensions, (o) => e.decoded(o)) : undefined,
    })),
    signatureValue: toHex(c.signatureValue),
    fingerprints: fingerprints(c.der),
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

/** The view of one loaded object: `type` and `source` first, `asn1` last (a stable key order). */
export function objectView(o: Loaded, opts: ViewOptions): ObjectView {
  let body: ViewBody<ObjectView>;
  switch (o.parsed.kind) {
    case 'certificate':
      body = certificateView(o.parsed.value, opts.now);
      break;
    case 'csr':
      body = csrView(o.parsed.value);
      break;
    case 'crl':
      body = crlView(o.parsed.value, opts.now);
      break;
    case 'view':
      body = o.parsed.view;
      break;
  }
  const { type, ...rest } = body;
  const view = { type, source: o.source, ...rest } as ObjectView;
  if (opts.asn1) view.asn1 = asn1Tree(o.der, o.parsed.kind === 'view' && o.parsed.redact, secretOffsets(o));
  return view;
}

/** The whole `--json` document for a file's objects. */
export function inspectDocument(
  file: string,
  objects: readonly Loaded[],
  opts: ViewOptions,
): InspectDocument {
  return { schemaVersion: INSPECT_SCHEMA_VERSION, file, objects: objects.map((o) => objectView(o, opts)) };
}
