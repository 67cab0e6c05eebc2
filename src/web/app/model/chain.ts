// The chain-of-trust diagram's model: the certificate's real chain, root first, from the detail's
// `chainPem` matched to the hierarchy's CA certificates (no X.509 parsing in the browser: the
// service already decoded what the page shows).
import type { CaInfo, CertificateDetail } from '../../../server/api/schemas.js';

export interface ChainNode {
  role: 'root' | 'intermediate' | 'leaf';
  subject: string;
  notBefore: string;
  notAfter: string;
  fingerprint?: string;
  /** The CA's id in the hierarchy, when it is one of ours. */
  caId?: string;
  /** Known to this service's hierarchy (a CA we hold), or only seen in the chain. */
  known: boolean;
}

/** The PEM blocks of a bundle, whitespace-normalised for comparison. */
export function pemBlocks(bundle: string): string[] {
  const out: string[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(bundle); m && out.length < 16; m = re.exec(bundle))
    out.push(m[1]!.replace(/\s+/g, ''));
  return out;
}

/**
 * The diagram's nodes, root first: the detail's `chainPem` (issuer first, root last) matched block by
 * block to the hierarchy's CA certificates (`/api/v1/cas`), then the certificate itself.
 */
export function chainNodes(detail: CertificateDetail, cas: readonly CaInfo[]): ChainNode[] {
  const byPem = new Map(cas.map((c) => [pemBlocks(c.certificatePem)[0], c]));
  const upper: ChainNode[] = pemBlocks(detail.chainPem ?? '').map((b, i, all) => {
    const ca = byPem.get(b);
    const role = i === all.length - 1 ? 'root' : 'intermediate';
    if (!ca)
      return {
        role,
        subject: '(a CA certificate not in this hierarchy)',
        notBefore: '',
        notAfter: '',
        known: false,
      };
    return {
      role: ca.role === 'root' ? 'root' : role,
      subject: ca.subject,
      notBefore: ca.notBefore,
      notAfter: ca.notAfter,
      fingerprint: ca.fingerprint,
      caId: ca.id,
      known: true,
    };
  });
  const leaf: ChainNode = {
    role: 'leaf',
    subject: detail.subject,
    notBefore: detail.notBefore,
    notAfter: detail.notAfter,
    known: true,
    ...(detail.fingerprint ? { fingerprint: detail.fingerprint } : {}),
  };
  return [...upper.reverse(), leaf];
}
