// The chain-of-trust diagram: the certificate's real chain from the root it ends at down to the
// certificate itself, one box per certificate, each box linked to the next by "signed".
import type { CaInfo, CertificateDetail } from '../../../server/api/schemas.js';
import { commonName, relative, shortHex, utc } from '../format.js';
import { Link } from './ui.js';

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

const ROLE_LABEL = { root: 'Root CA', intermediate: 'Intermediate CA', leaf: 'This certificate' } as const;

export function ChainDiagram(props: { nodes: readonly ChainNode[]; now: number }) {
  return (
    <ol class="chain" data-testid="chain-diagram" aria-label="Chain of trust, from the root down">
      {props.nodes.map((n, i) => {
        const expired = n.notAfter !== '' && Date.parse(n.notAfter) < props.now;
        return (
          <li
            key={`${i}-${n.fingerprint ?? n.subject}`}
            class={`chain-item chain-${n.role}`}
            data-role={n.role}
          >
            {i > 0 ? (
              <div class="chain-link" aria-hidden="true">
                <span>signed</span>
              </div>
            ) : null}
            <div class={`chain-node${n.known ? '' : ' chain-unknown'}`}>
              <div class="chain-role">
                <span class={`chain-dot chain-dot-${n.role}`} aria-hidden="true" />
                {ROLE_LABEL[n.role]}
                {expired ? <span class="badge badge-expired">Expired</span> : null}
              </div>
              <div class="chain-cn">
                {n.caId ? <Link href="/hierarchy">{commonName(n.subject)}</Link> : commonName(n.subject)}
              </div>
              <div class="chain-subject mono">{n.subject}</div>
              {n.notAfter ? (
                <div class="chain-meta">
                  <span>
                    {utc(n.notBefore)} → {utc(n.notAfter)}
                  </span>
                  <span class="muted">
                    ({expired ? 'expired' : 'expires'} {relative(n.notAfter, props.now)})
                  </span>
                </div>
              ) : null}
              {n.fingerprint ? (
                <div class="chain-meta mono muted" title={n.fingerprint}>
                  SHA-256 {shortHex(n.fingerprint, 12)}
                </div>
              ) : null}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
