// Enrollment: requests held for manual approval (profiles with `approval: manual`), and single-use
// EST credentials for devices without a bootstrap certificate — shown when the service has the EST
// credential endpoints (src/server/api/est-schemas.ts), otherwise said to be unavailable.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { EstCredentialCreated } from '../../../server/api/est-schemas.js';
import type { PendingRequest } from '../../../server/api/schemas.js';
import { ApiError } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { Badge, Card, Empty, ErrorNotice, Link, Loading, PageHeader } from '../components/ui.js';
import { commonName, relative, utc } from '../format.js';
import { useApi, useAsync, useTitle } from '../hooks.js';
import { certificatePath } from '../router.js';

type State = 'pending' | 'approved' | 'rejected';
const STATES: readonly State[] = ['pending', 'approved', 'rejected'];

function Approvals() {
  const api = useApi();
  const [state, setState] = useState<State>('pending');
  const [rejecting, setRejecting] = useState<PendingRequest>();
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; node: ComponentChildren }>();
  const [busy, setBusy] = useState<string>();
  const list = useAsync(() => api.requests(state), [state]);
  const now = Date.now();

  const approve = async (p: PendingRequest) => {
    setBusy(p.id);
    setMessage(undefined);
    try {
      const r = await api.approve(p.id);
      if (r.status === 'issued')
        setMessage({
          tone: 'ok',
          node: (
            <>
              Approved:{' '}
              <Link href={certificatePath(r.certificate.issuer, r.certificate.serial)}>
                {commonName(r.certificate.subject)}
              </Link>{' '}
              was issued.
            </>
          ),
        });
      list.reload();
    } catch (e) {
      setMessage({ tone: 'error', node: (e as Error).message });
    } finally {
      setBusy(undefined);
    }
  };
  const reject = async (e: Event) => {
    e.preventDefault();
    if (!rejecting) return;
    setBusy(rejecting.id);
    try {
      await api.reject(rejecting.id, reason.trim());
      setMessage({ tone: 'ok', node: `Rejected the request for ${commonName(rejecting.subject)}.` });
      setRejecting(undefined);
      setReason('');
      list.reload();
    } catch (err) {
      setMessage({ tone: 'error', node: (err as Error).message });
      setRejecting(undefined);
    } finally {
      setBusy(undefined);
    }
  };

  const items = list.data?.items ?? [];
  return (
    <Card
      title="Requests held for approval"
      labelledBy="approvals-title"
      actions={
        <fieldset class="segmented">
          <legend class="visually-hidden">Show requests</legend>
          {STATES.map((s) => (
            <button
              key={s}
              type="button"
              class="btn btn-small"
              aria-pressed={state === s}
              onClick={() => setState(s)}
            >
              {s.charAt(0).toUpperCase() + s.slice(1)}
            </button>
          ))}
        </fieldset>
      }
    >
      {message ? (
        <p
          class={`notice ${message.tone === 'ok' ? 'notice-ok' : 'notice-error'}`}
          role={message.tone === 'ok' ? 'status' : 'alert'}
        >
          {message.node}
        </p>
      ) : null}
      <ErrorNotice error={list.error} retry={list.reload} />
      {!list.data ? (
        list.error ? null : (
          <Loading />
        )
      ) : items.length === 0 ? (
        <Empty>
          No {state} requests. Requests wait here when their profile says <code>approval: manual</code>.
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="table" data-testid="requests-table">
            <thead>
              <tr>
                <th scope="col">Subject</th>
                <th scope="col">Names</th>
                <th scope="col">Profile</th>
                <th scope="col">Requested by</th>
                <th scope="col">Received</th>
                <th scope="col">
                  {state === 'pending' ? <span class="visually-hidden">Decision</span> : 'Decided'}
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id} data-request={p.id}>
                  <td>
                    <strong>{commonName(p.subject)}</strong>
                    <div class="muted small mono">{p.subject}</div>
                  </td>
                  <td class="mono small">{p.sans.join(', ') || <span class="muted">none</span>}</td>
                  <td>{p.profile}</td>
                  <td class="mono small break">{p.requester}</td>
                  <td class="small">{relative(p.createdAt, now)}</td>
                  <td>
                    {p.state === 'pending' ? (
                      <div class="row-actions">
                        <button
                          type="button"
                          class="btn btn-small btn-primary"
                          disabled={busy === p.id}
                          onClick={() => approve(p)}
                        >
                          Approve
                        </button>
                        <button
                          type="button"
                          class="btn btn-small"
                          disabled={busy === p.id}
                          onClick={() => setRejecting(p)}
                        >
                          Reject…
                        </button>
                      </div>
                    ) : (
                      <span class="small">
                        <Badge tone={p.state === 'approved' ? 'ok' : 'danger'}>{p.state}</Badge>{' '}
                        {p.decidedAt ? utc(p.decidedAt) : ''} {p.reason ? `— ${p.reason}` : ''}
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog
        open={rejecting !== undefined}
        title="Reject this request?"
        onClose={() => setRejecting(undefined)}
      >
        <form onSubmit={reject} class="stack">
          <p>
            The request for <strong>{rejecting ? commonName(rejecting.subject) : ''}</strong> will be refused;
            the device has to ask again.
          </p>
          <div class="field">
            <label for="reject-reason">Reason (optional, recorded in the audit log)</label>
            <input
              id="reject-reason"
              value={reason}
              maxLength={500}
              onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)}
            />
          </div>
          <div class="dialog-actions">
            <button type="button" class="btn" onClick={() => setRejecting(undefined)}>
              Cancel
            </button>
            <button type="submit" class="btn btn-danger" disabled={busy !== undefined}>
              Reject request
            </button>
          </div>
        </form>
      </Dialog>
    </Card>
  );
}

function EstCredentials() {
  const api = useApi();
  const available = api.features.estCredentials;
  const list = useAsync(() => (available ? api.estCredentials() : Promise.resolve(undefined)), [available]);
  const [label, setLabel] = useState('');
  const [subject, setSubject] = useState('');
  const [created, setCreated] = useState<EstCredentialCreated>();
  const [error, setError] = useState<Error>();
  const unavailable = !available || (list.error instanceof ApiError && list.error.status === 404);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const c = await api.createEstCredential({
        ...(label.trim() ? { label: label.trim() } : {}),
        ...(subject.trim() ? { subject: subject.trim() } : {}),
      });
      setCreated(c);
      list.reload();
    } catch (err) {
      setError(err as Error);
    }
  };

  return (
    <Card title="Single-use EST credentials" labelledBy="est-title">
      {unavailable ? (
        <p class="notice notice-info" data-testid="est-unavailable">
          This service does not offer EST enrollment credentials (its EST endpoints are not enabled). Devices
          can still be enrolled with a bootstrap certificate, or from the command line with{' '}
          <code>fleetpki est token</code> where EST is available.
        </p>
      ) : list.error ? (
        <ErrorNotice error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : (
        <div class="stack">
          <form class="inline-form" onSubmit={create} aria-label="New EST credential">
            <div class="field">
              <label for="est-label">EST label (optional)</label>
              <input
                id="est-label"
                value={label}
                onInput={(e) => setLabel((e.currentTarget as HTMLInputElement).value)}
              />
            </div>
            <div class="field">
              <label for="est-subject">Device CN (optional)</label>
              <input
                id="est-subject"
                value={subject}
                onInput={(e) => setSubject((e.currentTarget as HTMLInputElement).value)}
              />
            </div>
            <button type="submit" class="btn btn-primary">
              Create credential
            </button>
          </form>
          <ErrorNotice error={error} />
          {created ? (
            <div class="notice notice-ok" role="status">
              <p>Give this to the device once — the password is not shown again:</p>
              <p class="mono secret">
                {created.username}:{created.password}
              </p>
            </div>
          ) : null}
          {list.data.items.length === 0 ? (
            <Empty>No EST credentials yet.</Empty>
          ) : (
            <div class="table-wrap">
              <table class="table table-compact">
                <thead>
                  <tr>
                    <th scope="col">User name</th>
                    <th scope="col">Label</th>
                    <th scope="col">Device CN</th>
                    <th scope="col">State</th>
                    <th scope="col">Expires</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.items.map((c) => (
                    <tr key={c.username}>
                      <td class="mono">{c.username}</td>
                      <td>{c.label ?? <span class="muted">any</span>}</td>
                      <td>{c.subject ?? <span class="muted">any</span>}</td>
                      <td>
                        <Badge tone={c.state === 'unused' ? 'ok' : 'neutral'}>{c.state}</Badge>
                      </td>
                      <td class="small">{utc(c.expiresAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </Card>
  );
}

export function EnrollmentView() {
  useTitle('Enrollment');
  return (
    <>
      <PageHeader
        title="Enrollment"
        subtitle="Approve held requests and hand out one-time credentials to new devices."
      />
      <div class="grid">
        <Approvals />
        <EstCredentials />
      </div>
    </>
  );
}
