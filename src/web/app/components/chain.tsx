// The chain-of-trust diagram: the certificate's real chain from the root it ends at down to the
// certificate itself, one box per certificate, each box linked to the next by "signed".
import { commonName, relative, shortHex, utc } from '../format.js';
import type { ChainNode } from '../model/chain.js';
import { Link } from './ui.js';

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
