import type { Certificate } from '../x509/certificate.js';
import { sha256Hex } from './hierarchy.js';
import { sanEntry } from './policy.js';
import type { Store } from './store/types.js';

/** Records a certificate signed outside the pipeline (a CA certificate) as reserved + issued. */
export async function recordCertificate(
  store: Store,
  issuerId: string,
  c: Certificate,
  o: { profile: string; requester: string; requestId?: string; now: number; action: string },
): Promise<void> {
  const r = await store.reserve({
    issuerId,
    serialHex: c.serialHex,
    profile: o.profile,
    subject: c.subject.toString(),
    sans: (c.subjectAltName ?? []).map(sanEntry),
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    tbs: c.tbs,
    requester: o.requester,
    requestId: o.requestId,
    reservedAt: o.now,
  });
  if (r !== 'reserved') return;
  const fingerprint = sha256Hex(c.der);
  await store.complete(
    { issuerId, serialHex: c.serialHex, der: c.der, fingerprint, issuedAt: o.now },
    {
      time: o.now,
      actor: o.requester,
      action: o.action,
      result: 'ok',
      issuerId,
      serialHex: c.serialHex,
      fingerprint,
      detail: { profile: o.profile, subject: c.subject.toString() },
    },
  );
}
