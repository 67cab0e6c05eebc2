import type { IssuerInfo } from '../../ca/hierarchy.js';
import { sanEntry } from '../../ca/policy.js';
import type { CaProfile } from '../../ca/profiles.js';
import type {
  AuditRecord as AuditRow,
  CertificateRecord,
  CertificateStatus,
  PendingRequest as PendingRow,
} from '../../ca/store/types.js';
import { OID, oidName } from '../../der/oid-names.js';
import { encodePem } from '../../pem/pem.js';
import { parseSignatureAlgorithm, signatureAlgorithmName } from '../../x509/algorithm.js';
import type { Certificate } from '../../x509/certificate.js';
import { generalNameToString } from '../../x509/general-name.js';
import type {
  AuditRecord,
  CertificateSummary,
  DecodedCertificate,
  PendingRequest,
  ProfileInfo,
  RevocationInfo,
  RevocationReason,
} from './schemas.js';

/**
 * Store records and certificates as the admin API shows them (the shapes in schemas.ts): times as
 * ISO strings, serials as hex, nothing secret (records hold none).
 */

export const iso = (ms: number): string => new Date(ms).toISOString();

/** RFC 5280 §4.1.2.5: notAfter itself is still within the validity period. */
export function statusOf(r: CertificateRecord, now: number): CertificateStatus | undefined {
  if (r.state !== 'issued') return undefined;
  if (r.revocation) return r.revocation.reason === 'certificateHold' ? 'hold' : 'revoked';
  return r.notAfter < now ? 'expired' : 'valid';
}

export function certificateSummary(r: CertificateRecord, now: number): CertificateSummary {
  const out: CertificateSummary = {
    issuer: r.issuerId,
    serial: r.serialHex,
    state: r.state,
    profile: r.profile,
    subject: r.subject,
    sans: [...r.sans],
    notBefore: iso(r.notBefore),
    notAfter: iso(r.notAfter),
    requester: r.requester,
  };
  const status = statusOf(r, now);
  if (status) out.status = status;
  if (r.requestId !== undefined) out.requestId = r.requestId;
  if (r.issuedAt !== undefined) out.issuedAt = iso(r.issuedAt);
  if (r.fingerprint !== undefined) out.fingerprint = r.fingerprint;
  if (r.revocation) {
    // removeFromCRL is never stored (it exists only in delta CRLs, RFC 5280 §5.3.1).
    const rev: RevocationInfo = {
      time: iso(r.revocation.time),
      reason: r.revocation.reason as RevocationReason,
    };
    if (r.revocation.invalidityDate !== undefined) rev.invalidityDate = iso(r.revocation.invalidityDate);
    out.revocation = rev;
  }
  return out;
}

const KEY_USAGE_ORDER = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** What a certificate says, decoded (a compact view; `fleetpki inspect --json` is the full one). */
export function decodeCertificate(c: Certificate): DecodedCertificate {
  let sigAlg: string;
  try {
    sigAlg = signatureAlgorithmName(parseSignatureAlgorithm(c.signatureAlgorithm));
  } catch {
    sigAlg = c.signatureAlgorithm.oid;
  }
  const ku = c.keyUsage;
  const crl: string[] = [];
  for (const dp of c.cRLDistributionPoints ?? [])
    for (const g of dp.distributionPoint?.fullName ?? []) crl.push(generalNameToString(g));
  const ocsp: string[] = [];
  for (const ad of c.authorityInfoAccess ?? [])
    if (ad.accessMethod === OID.ocsp) ocsp.push(generalNameToString(ad.accessLocation));
  const out: DecodedCertificate = {
    version: c.version,
    serial: c.serialHex,
    subject: c.subject.toString(),
    issuer: c.issuer.toString(),
    notBefore: iso(c.notBefore),
    notAfter: iso(c.notAfter),
    publicKey: c.subjectPublicKeyInfo.describe(),
    signatureAlgorithm: sigAlg,
    subjectAltName: (c.subjectAltName ?? []).map(sanEntry),
    isCA: c.isCA,
    crlDistributionPoints: crl,
    ocsp,
    extensions: c.extensions.map((e) => {
      const name = oidName(e.oid);
      return name ? { oid: e.oid, name, critical: e.critical } : { oid: e.oid, critical: e.critical };
    }),
  };
  if (ku) out.keyUsage = KEY_USAGE_ORDER.filter((b) => ku[b]);
  const eku = c.extKeyUsage;
  if (eku) out.extKeyUsage = eku.map((o) => oidName(o) ?? o);
  return out;
}

export function pemOf(der: Uint8Array): string {
  return encodePem('CERTIFICATE', der);
}

export function profileInfo(p: CaProfile): ProfileInfo {
  const out: ProfileInfo = {
    name: p.name,
    description: p.description,
    issuer: p.issuer,
    keyTypes: [...p.keyTypes],
    rsaMinBits: p.rsaMinBits,
    rsaMaxBits: p.rsaMaxBits,
    subject: Object.fromEntries(
      Object.entries(p.subject).map(([k, r]) => [
        k,
        r.pattern === undefined
          ? { required: r.required, maxCount: r.maxCount }
          : { required: r.required, pattern: r.pattern, maxCount: r.maxCount },
      ]),
    ),
    san: {
      required: p.san.required,
      maxEntries: p.san.maxEntries,
      allow: {
        dns: [...p.san.allow.dns],
        ip: [...p.san.allow.ip],
        uri: [...p.san.allow.uri],
        email: [...p.san.allow.email],
      },
    },
    validityDays: p.validityDays,
    maxValidityDays: p.maxValidityDays,
    extKeyUsage: [...p.extKeyUsage],
    crlDistributionPoints: [...p.crlDistributionPoints],
    ocsp: [...p.ocsp],
    approval: p.approval,
    requesters: [...p.requesters],
    rules: { ...p.rules, uriSchemes: [...p.rules.uriSchemes] },
  };
  if (p.keyUsage) out.keyUsage = [...p.keyUsage];
  return out;
}

export function auditRecord(r: AuditRow): AuditRecord {
  const out: AuditRecord = {
    seq: r.seq,
    time: iso(r.time),
    actor: r.actor,
    action: r.action,
    result: r.result,
    prevHash: r.prevHash,
    hash: r.hash,
  };
  if (r.issuerId !== undefined) out.issuer = r.issuerId;
  if (r.serialHex !== undefined) out.serial = r.serialHex;
  if (r.fingerprint !== undefined) out.fingerprint = r.fingerprint;
  if (r.detail !== undefined) out.detail = r.detail;
  return out;
}

export function pendingRequest(p: PendingRow): PendingRequest {
  const out: PendingRequest = {
    id: p.id,
    state: p.state,
    profile: p.profile,
    requester: p.requester,
    subject: p.subject,
    sans: [...p.sans],
    createdAt: iso(p.createdAt),
  };
  if (p.validityDays !== undefined) out.validityDays = p.validityDays;
  if (p.decidedBy !== undefined) out.decidedBy = p.decidedBy;
  if (p.decidedAt !== undefined) out.decidedAt = iso(p.decidedAt);
  if (p.reason !== undefined) out.reason = p.reason;
  return out;
}

/** IssuerInfo's fields with times as ISO text (the rest of CaInfo is added by the route). */
export function issuerFields(i: IssuerInfo) {
  return {
    id: i.id,
    lineage: i.lineage,
    role: i.role,
    ...(i.parentId !== undefined ? { parentId: i.parentId } : {}),
    status: i.status,
    isDefault: i.isDefault,
    subject: i.subject,
    serial: i.serialHex,
    notBefore: iso(i.notBefore),
    notAfter: iso(i.notAfter),
    keyAlgorithm: i.keyAlgorithm,
    keyStorage: i.keyStorage,
    fingerprint: i.fingerprint,
    ...(i.pathLenConstraint !== undefined ? { pathLenConstraint: i.pathLenConstraint } : {}),
    ...(i.nameConstraints ? { nameConstraints: i.nameConstraints } : {}),
    createdAt: iso(i.createdAt),
    certificatePem: i.certificatePem,
  };
}
