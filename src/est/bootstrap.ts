import { readFileSync } from 'node:fs';
import type { Authority } from '../ca/authority.js';
import { verifySignatureAsync } from '../crypto/signature.js';
import { bytesEqual } from '../der/bytes.js';
import { base64Decode, base64Encode } from '../pem/base64.js';
import { parseSignatureAlgorithm } from '../x509/algorithm.js';
import { type Certificate, parseCertificate, parseCertificates } from '../x509/certificate.js';
import { type CertificateList, parseCrl } from '../x509/crl.js';
import { EstError } from './errors.js';

/**
 * The bootstrap trust of an EST label: the manufacturing CA certificates whose (claim) certificates
 * may authenticate a device's first enrollment (RFC 7030 §3.3.2 "certificate-less" devices need not
 * apply: these have a factory certificate), and, when the operator has them, those CAs' CRLs. An
 * imported CA is kept in the store (setting `est:bootstrap:<label>`), so every instance on the store
 * trusts the same CAs; a label's `bootstrap.caFiles` adds files read at start.
 *
 * Revocation of a bootstrap certificate is checked against the imported CRL of its issuer; a
 * bootstrap CA imported without a CRL gets no revocation check (said when it is imported). A CRL
 * past its nextUpdate makes its certificates' status unknown, and they are refused.
 */
export interface BootstrapTrust {
  anchors: Certificate[];
  crls: CertificateList[];
}

interface StoredTrust {
  anchors: { der: string; addedAt: number; addedBy: string }[];
  crls: { der: string; addedAt: number }[];
}

/** Most CAs and CRLs per label (a handful of factories). */
const MAX_ANCHORS = 32;

function key(label: string): string {
  return `est:bootstrap:${label}`;
}

async function read(ca: Authority, label: string): Promise<StoredTrust> {
  const raw = await ca.store.getSetting(key(label));
  if (!raw) return { anchors: [], crls: [] };
  return JSON.parse(raw) as StoredTrust;
}

/**
 * Imports manufacturing CA certificates (CA certificates only) and CRLs for a label; a CRL must be
 * issued by an imported CA (same name, its signature verified) and replaces an older one of that
 * CA. Audited `est-trust-bootstrap`. Returns what the label trusts now.
 */
export async function importBootstrapTrust(
  ca: Authority,
  label: string,
  o: {
    certificates?: readonly Certificate[];
    crls?: readonly CertificateList[];
    requester: string;
    now?: number;
  },
): Promise<BootstrapTrust> {
  const now = o.now ?? Date.now();
  const stored = await read(ca, label);
  const anchors = stored.anchors.map((a) => parseCertificate(base64Decode(a.der)));
  for (const c of o.certificates ?? []) {
    if (!c.isCA)
      throw new EstError(
        'bad-input',
        `${c.subject.toString()} is not a CA certificate (basicConstraints cA)`,
      );
    if (anchors.some((a) => bytesEqual(a.der, c.der))) continue;
    if (anchors.length >= MAX_ANCHORS)
      throw new EstError('too-many-items', `more than ${MAX_ANCHORS} bootstrap CAs`);
    anchors.push(c);
    stored.anchors.push({ der: base64Encode(c.der), addedAt: now, addedBy: o.requester });
  }
  let crls = stored.crls.map((c) => parseCrl(base64Decode(c.der)));
  for (const crl of o.crls ?? []) {
    const issuer = anchors.find((a) => bytesEqual(a.subject.der, crl.issuer.der));
    if (!issuer)
      throw new EstError('bad-input', `CRL of ${crl.issuer.toString()}: no such bootstrap CA imported`);
    let ok = false;
    try {
      ok = await verifySignatureAsync(
        parseSignatureAlgorithm(crl.signatureAlgorithm),
        issuer.subjectPublicKeyInfo.der,
        crl.tbs,
        crl.signatureValue,
      );
    } catch {
      ok = false;
    }
    if (!ok) throw new EstError('bad-input', `CRL of ${crl.issuer.toString()}: signature does not verify`);
    crls = crls.filter((c) => !bytesEqual(c.issuer.der, crl.issuer.der));
    crls.push(crl);
  }
  stored.crls = crls.map((c) => ({ der: base64Encode(c.der), addedAt: now }));
  await ca.store.setSetting(key(label), JSON.stringify(stored));
  await ca.audit({
    time: now,
    actor: o.requester,
    action: 'est-trust-bootstrap',
    result: 'ok',
    detail: {
      label,
      certificates: (o.certificates ?? []).map((c) => c.subject.toString().slice(0, 200)),
      crls: (o.crls ?? []).length,
    },
  });
  return { anchors, crls };
}

/** What a label trusts: the imported CAs and CRLs, plus the certificates in `caFiles` (PEM). */
export async function loadBootstrapTrust(
  ca: Authority,
  label: string,
  caFiles: readonly string[] = [],
): Promise<BootstrapTrust> {
  const stored = await read(ca, label);
  const anchors = stored.anchors.map((a) => parseCertificate(base64Decode(a.der)));
  for (const f of caFiles) {
    let certs: Certificate[];
    try {
      certs = parseCertificates(readFileSync(f, 'utf8'));
    } catch (e) {
      throw new EstError('bad-input', `bootstrap CA file ${f}: ${(e as Error).message}`, { cause: e });
    }
    for (const c of certs) if (!anchors.some((a) => bytesEqual(a.der, c.der))) anchors.push(c);
  }
  return { anchors, crls: stored.crls.map((c) => parseCrl(base64Decode(c.der))) };
}
