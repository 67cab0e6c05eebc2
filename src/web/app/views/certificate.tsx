// One certificate: what it says (decoded by the service, the fields `fleetpki inspect` shows), its
// chain of trust up to the root, its record in the store, downloads, and revocation.
import { useState } from 'preact/hooks';
import {
  type CertificateDetail,
  REVOCATION_REASON_NAMES,
  type RevocationReason,
} from '../../../server/api/schemas.js';
import { certificateFileUrl } from '../api.js';
import { ChainDiagram } from '../components/chain.js';
import { Dialog } from '../components/dialog.js';
import { Badge, Card, ErrorNotice, Facts, Link, Loading, PageHeader, StatusBadge } from '../components/ui.js';
import { colonHex, commonName, humanize, relative, utc } from '../format.js';
import { useApi, useAsync, useTitle } from '../hooks.js';
import { chainNodes } from '../model/chain.js';

function RevokeDialog(props: {
  detail: CertificateDetail;
  open: boolean;
  onClose: () => void;
  onRevoked: (message: string) => void;
}) {
  const api = useApi();
  const [reason, setReason] = useState<RevocationReason>('unspecified');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const d = props.detail;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const r = await api.revoke(d.issuer, d.serial, reason);
      props.onRevoked(
        `Revoked (${humanize(r.reason)}) at ${utc(r.revocationTime)}. OCSP answers revoked from now on.`,
      );
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={props.open} title="Revoke this certificate?" onClose={props.onClose} tone="danger">
      <form onSubmit={submit} class="stack" data-testid="revoke-form">
        <p>
          <strong>{commonName(d.subject)}</strong> <span class="mono small">({d.serial})</span> will be
          reported as revoked by OCSP at once and listed on the next CRL of{' '}
          <span class="mono">{d.issuer}</span>. A revocation cannot be undone, except one with the reason
          “certificate hold”.
        </p>
        <div class="field">
          <label for="revoke-reason">Reason (RFC 5280 §5.3.1)</label>
          <select
            id="revoke-reason"
            value={reason}
            onChange={(e) => setReason((e.currentTarget as HTMLSelectElement).value as RevocationReason)}
          >
            {REVOCATION_REASON_NAMES.map((r) => (
              <option key={r} value={r}>
                {humanize(r)}
              </option>
            ))}
          </select>
        </div>
        <ErrorNotice error={error} />
        <div class="dialog-actions">
          <button type="button" class="btn" onClick={props.onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class="btn btn-danger" disabled={busy}>
            {busy ? 'Revoking…' : 'Revoke certificate'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function Decoded(props: { d: NonNullable<CertificateDetail['decoded']> }) {
  const d = props.d;
  return (
    <Facts
      rows={[
        ['Version', `${d.version} (0x${(d.version - 1).toString(16)})`],
        ['Serial number', <span class="mono break">{colonHex(d.serial)}</span>],
        ['Signature algorithm', d.signatureAlgorithm],
        ['Issuer', <span class="mono break">{d.issuer}</span>],
        ['Not before', utc(d.notBefore)],
        ['Not after', utc(d.notAfter)],
        ['Subject', <span class="mono break">{d.subject}</span>],
        ['Public key', d.publicKey],
        [
          'Subject alternative names',
          d.subjectAltName.length ? (
            <ul class="plain mono">
              {d.subjectAltName.map((s) => (
                <li key={s}>{s}</li>
              ))}
            </ul>
          ) : (
            <span class="muted">none</span>
          ),
        ],
        ['Basic constraints', d.isCA ? 'CA: true' : 'CA: false'],
        d.keyUsage && ['Key usage', d.keyUsage.join(', ')],
        d.extKeyUsage && ['Extended key usage', d.extKeyUsage.join(', ')],
        d.crlDistributionPoints.length > 0 && [
          'CRL distribution points',
          <ul class="plain mono">
            {d.crlDistributionPoints.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>,
        ],
        d.ocsp.length > 0 && [
          'OCSP',
          <ul class="plain mono">
            {d.ocsp.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>,
        ],
      ]}
    />
  );
}

export function CertificateView(props: { issuer: string; serial: string }) {
  const api = useApi();
  const [revokeOpen, setRevokeOpen] = useState(false);
  const [notice, setNotice] = useState<string>();
  const data = useAsync(async () => {
    const [detail, cas] = await Promise.all([api.certificate(props.issuer, props.serial), api.cas()]);
    return { detail, cas: cas.items };
  }, [props.issuer, props.serial]);
  const d = data.data?.detail;
  useTitle(d ? commonName(d.subject) : 'Certificate');
  const now = Date.now();
  const revocable = d?.state === 'issued' && (d.status === 'valid' || d.status === 'hold');

  return (
    <>
      <PageHeader
        title={d ? commonName(d.subject) : 'Certificate'}
        subtitle={
          <>
            <Link href="/certificates">Certificates</Link> / <span class="mono">{props.serial}</span>
          </>
        }
        actions={
          d?.pem ? (
            <>
              <a
                class="btn"
                href={certificateFileUrl(d.issuer, d.serial, 'pem')}
                download={`${d.serial}.pem`}
              >
                Download PEM
              </a>
              <a
                class="btn"
                href={certificateFileUrl(d.issuer, d.serial, 'der')}
                download={`${d.serial}.der`}
              >
                Download DER
              </a>
              {revocable ? (
                <button type="button" class="btn btn-danger" onClick={() => setRevokeOpen(true)}>
                  Revoke…
                </button>
              ) : null}
            </>
          ) : null
        }
      />
      {notice ? (
        <p class="notice notice-ok" role="status" data-testid="revoke-notice">
          {notice}
        </p>
      ) : null}
      <ErrorNotice error={data.error} retry={data.reload} />
      {!d ? (
        data.error ? null : (
          <Loading />
        )
      ) : (
        <div class="grid">
          <div class="summary-bar">
            <StatusBadge status={d.status} state={d.state} />
            <span>
              Profile <strong>{d.profile}</strong>
            </span>
            <span>
              Issuer <strong class="mono">{d.issuer}</strong>
            </span>
            <span>
              {d.status === 'expired' ? 'Expired' : 'Expires'} {relative(d.notAfter, now)}
            </span>
          </div>
          {d.revocation ? (
            <p class="notice notice-error">
              Revoked on {utc(d.revocation.time)} — reason: <strong>{humanize(d.revocation.reason)}</strong>
              {d.revocation.invalidityDate ? `, key invalid since ${utc(d.revocation.invalidityDate)}` : ''}.
            </p>
          ) : null}
          <div class="grid-detail">
            <Card title="Chain of trust" labelledBy="chain-title">
              <ChainDiagram nodes={chainNodes(d, data.data!.cas)} now={now} />
            </Card>
            <Card title="Record" labelledBy="record-title">
              <Facts
                rows={[
                  ['State', d.state],
                  ['Issued', d.issuedAt ? utc(d.issuedAt) : '—'],
                  ['Requested by', <span class="mono break">{d.requester}</span>],
                  d.requestId !== undefined && ['Request id', <span class="mono break">{d.requestId}</span>],
                  d.fingerprint !== undefined && [
                    'SHA-256 fingerprint',
                    <span class="mono break">{colonHex(d.fingerprint)}</span>,
                  ],
                ]}
              />
            </Card>
          </div>
          {d.decoded ? (
            <Card title="Certificate" labelledBy="decoded-title">
              <Decoded d={d.decoded} />
            </Card>
          ) : null}
          {d.decoded ? (
            <Card title="Extensions" labelledBy="ext-title">
              <div class="table-wrap">
                <table class="table">
                  <thead>
                    <tr>
                      <th scope="col">Extension</th>
                      <th scope="col">OID</th>
                      <th scope="col">Critical</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.decoded.extensions.map((e) => (
                      <tr key={e.oid}>
                        <td>{e.name ?? <span class="muted">unknown</span>}</td>
                        <td class="mono small">{e.oid}</td>
                        <td>
                          {e.critical ? <Badge tone="warn">critical</Badge> : <span class="muted">no</span>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </Card>
          ) : null}
          {d.pem ? (
            <Card title="PEM" labelledBy="pem-title">
              <pre class="pem" data-testid="pem">
                {d.pem}
              </pre>
            </Card>
          ) : null}
          <RevokeDialog
            detail={d}
            open={revokeOpen}
            onClose={() => setRevokeOpen(false)}
            onRevoked={(m) => {
              setRevokeOpen(false);
              setNotice(m);
              data.reload();
            }}
          />
        </div>
      )}
    </>
  );
}
