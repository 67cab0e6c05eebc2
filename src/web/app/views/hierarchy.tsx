// The CA hierarchy: each CA under its parent, with its validity, key, constraints, and its
// revocation services — the latest CRL (number, next update) and OCSP.
import { useState } from 'preact/hooks';
import type { CaInfo } from '../../../server/api/schemas.js';
import { ValidityBar } from '../components/charts.js';
import { Badge, ErrorNotice, Facts, Link, Loading, PageHeader } from '../components/ui.js';
import { colonHex, commonName, count, relative, utc } from '../format.js';
import { useApi, useAsync, useTitle } from '../hooks.js';
import { inventoryPath } from '../router.js';

function CrlStatus(props: { ca: CaInfo; now: number }) {
  const crl = props.ca.crl;
  if (!crl) return <Badge tone="neutral">no CRL yet</Badge>;
  const overdue = Date.parse(crl.nextUpdate) < props.now;
  return (
    <span class="crl-status">
      <Badge tone={overdue ? 'danger' : 'ok'}>{overdue ? 'overdue' : 'current'}</Badge>{' '}
      <span>
        number <strong data-testid={`crl-number-${props.ca.id}`}>{crl.crlNumber}</strong>, next update{' '}
        {utc(crl.nextUpdate)} ({relative(crl.nextUpdate, props.now)})
      </span>
    </span>
  );
}

function CaCard(props: { ca: CaInfo; now: number; onPublished: () => void }) {
  const api = useApi();
  const c = props.ca;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<string>();
  const publish = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await api.publishCrl(c.id);
      setDone(`CRL ${r.published[0]?.crlNumber ?? ''} published.`);
      props.onPublished();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const expired = Date.parse(c.notAfter) < props.now;
  const headingId = `ca-${c.id}`;
  return (
    <article class={`ca-card ca-${c.role}`} aria-labelledby={headingId} data-testid={`ca-${c.id}`}>
      <header class="ca-header">
        <div>
          <h2 id={headingId}>{commonName(c.subject)}</h2>
          <p class="muted small mono">{c.id}</p>
        </div>
        <div class="ca-badges">
          <Badge tone="accent">{c.role === 'root' ? 'Root CA' : 'Intermediate CA'}</Badge>
          <Badge tone={c.status === 'active' ? 'ok' : c.status === 'retiring' ? 'warn' : 'neutral'}>
            {c.status}
          </Badge>
          {c.isDefault ? <Badge tone="neutral">default issuer</Badge> : null}
        </div>
      </header>
      <div class="ca-validity">
        <div class="ca-validity-text small">
          <span>{utc(c.notBefore)}</span>
          <span class={expired ? 'text-danger' : 'muted'}>
            {expired ? 'expired' : 'expires'} {relative(c.notAfter, props.now)}
          </span>
          <span>{utc(c.notAfter)}</span>
        </div>
        <ValidityBar notBefore={c.notBefore} notAfter={c.notAfter} now={props.now} />
      </div>
      <dl class="ministats">
        <div>
          <dt>Key</dt>
          <dd>{c.keyAlgorithm}</dd>
        </div>
        <div>
          <dt>Key storage</dt>
          <dd>{c.keyStorage === 'pkcs11' ? 'PKCS#11 token' : 'Encrypted file'}</dd>
        </div>
        <div>
          <dt>Path length</dt>
          <dd>{c.pathLenConstraint !== undefined ? String(c.pathLenConstraint) : 'unlimited'}</dd>
        </div>
        <div>
          <dt>Certificates issued</dt>
          <dd>
            <Link href={inventoryPath({ issuer: c.id })}>{count(c.issued)}</Link>
          </dd>
        </div>
      </dl>
      <Facts
        rows={[
          ['Subject', <span class="mono break">{c.subject}</span>],
          c.nameConstraints && [
            'Name constraints',
            <span class="mono small">
              {c.nameConstraints.permitted.length
                ? `permitted ${c.nameConstraints.permitted.join(', ')}`
                : ''}
              {c.nameConstraints.excluded.length ? ` excluded ${c.nameConstraints.excluded.join(', ')}` : ''}
            </span>,
          ],
          ['CRL', <CrlStatus ca={c} now={props.now} />],
          [
            'OCSP',
            c.ocsp.served ? (
              <span>
                <Badge tone="ok">answering</Badge> {count(c.ocsp.responsesSent)} responses sent by this
                instance (all CAs)
              </span>
            ) : (
              <span class="muted">
                {c.role === 'root' ? 'not served for the root (its CRL covers intermediates)' : 'not served'}
              </span>
            ),
          ],
          ['SHA-256', <span class="mono small break">{colonHex(c.fingerprint)}</span>],
        ]}
      />
      <div class="ca-actions">
        {c.status !== 'retired' ? (
          <button type="button" class="btn btn-small" onClick={publish} disabled={busy}>
            {busy ? 'Publishing…' : 'Publish CRL now'}
          </button>
        ) : null}
        <a class="btn btn-small" href={c.chainPath} download={`${c.id}-chain.pem`}>
          Download chain
        </a>
        {c.crl ? (
          <a class="btn btn-small" href={c.crl.path} download={`${c.id}.crl`}>
            Download CRL
          </a>
        ) : null}
        {done ? (
          <span class="small text-ok" role="status">
            {done}
          </span>
        ) : null}
      </div>
      <ErrorNotice error={error} />
    </article>
  );
}

/** CAs in tree order: each root, then its children depth first. */
function treeOrder(cas: readonly CaInfo[]): { ca: CaInfo; depth: number }[] {
  const out: { ca: CaInfo; depth: number }[] = [];
  const ids = new Set(cas.map((c) => c.id));
  const walk = (parent: string | undefined, depth: number) => {
    for (const c of cas)
      if (
        (parent === undefined ? !c.parentId || !ids.has(c.parentId) : c.parentId === parent) &&
        depth < 16
      ) {
        out.push({ ca: c, depth });
        walk(c.id, depth + 1);
      }
  };
  walk(undefined, 0);
  return out;
}

export function HierarchyView() {
  useTitle('CA hierarchy');
  const api = useApi();
  const data = useAsync(() => api.cas(), []);
  const now = Date.now();
  return (
    <>
      <PageHeader
        title="CA hierarchy"
        subtitle="Every certificate authority of this service, its validity, and the state of its CRL and OCSP."
      />
      <ErrorNotice error={data.error} retry={data.reload} />
      {!data.data ? (
        data.error ? null : (
          <Loading />
        )
      ) : (
        <ol class="tree" aria-label="CA hierarchy">
          {treeOrder(data.data.items).map(({ ca, depth }) => (
            <li key={ca.id} class={`tree-item depth-${Math.min(depth, 3)}`}>
              <CaCard ca={ca} now={now} onPublished={data.reload} />
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
