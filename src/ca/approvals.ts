import { randomBytes } from 'node:crypto';
import type { CertificationRequest } from '../x509/csr.js';
import type { CaConfig } from './config.js';
import { CaError } from './errors.js';
import type { IssuanceInput, IssuancePipeline, IssuedResult, IssueResult } from './pipeline.js';
import { verifyRequest } from './pipeline.js';
import { sanEntry } from './policy.js';
import type { AuditEvent, PendingRequest, PendingState, Store } from './store/types.js';

/**
 * Manual approval (a profile with `approval: manual`): a request that passed every check is stored
 * `pending` instead of being signed; an administrator approves it (the policy is checked again, then
 * it is issued) or rejects it. EST answers a pending request with 202 + Retry-After; the device
 * retries with the same request id (for EST without one, the service uses a hash of the CSR) and
 * gets the certificate once it is approved, or `forbidden` once rejected.
 */
export class Approvals {
  constructor(
    private readonly store: Store,
    private readonly pipeline: IssuancePipeline,
    private readonly config: CaConfig,
    private readonly now: () => number,
  ) {}

  list(q: { state?: PendingState; limit?: number; afterId?: string } = {}): Promise<PendingRequest[]> {
    return this.store.listPending({
      state: q.state,
      limit: Math.min(q.limit ?? 100, 500),
      afterId: q.afterId,
    });
  }

  get(id: string): Promise<PendingRequest | undefined> {
    return this.store.getPending(id);
  }

  /** Stores a checked request; its id is the request id when there is one. */
  async hold(req: CertificationRequest, input: IssuanceInput): Promise<IssueResult> {
    const id = input.requestId ?? randomBytes(16).toString('hex');
    const subject = input.subject.toString();
    const r = await this.store.addPending(
      {
        id,
        state: 'pending',
        profile: input.profile.name,
        requester: input.requester,
        csr: req.der,
        subject,
        sans: input.sans.map(sanEntry),
        validityDays: input.validityDays,
        createdAt: this.now(),
      },
      this.event(input.requester, 'issue', 'pending', {
        pendingId: id,
        profile: input.profile.name,
        subject: subject.slice(0, 256),
      }),
    );
    if (r === 'exists') {
      const earlier = await this.earlier(id);
      if (earlier) return earlier;
    }
    return { status: 'pending', pendingId: id, profile: input.profile.name };
  }

  /**
   * What an earlier request with this id came to: pending (its state), rejected (`forbidden`), or
   * undefined when there is none or it was approved (its certificate is found by request id).
   */
  async earlier(id: string): Promise<IssueResult | undefined> {
    const p = await this.store.getPending(id);
    if (!p) return undefined;
    if (p.state === 'pending') return { status: 'pending', pendingId: p.id, profile: p.profile };
    if (p.state === 'rejected')
      throw new CaError('forbidden', `request ${p.id} was rejected${p.reason ? `: ${p.reason}` : ''}`);
    return undefined;
  }

  /**
   * Approves and issues. Of two concurrent approvals one issues, the other gets `not-pending`. The
   * certificate carries the pending id as its request id.
   */
  async approve(id: string, requester: string): Promise<IssuedResult> {
    const p = await this.store.getPending(id);
    if (!p) throw new CaError('not-found', `no pending request ${id}`);
    if (p.state !== 'pending') throw new CaError('not-pending', `request ${id} was already ${p.state}`);
    const profile = this.config.profiles[p.profile];
    if (!profile) throw new CaError('unknown-profile', `profile ${p.profile} no longer exists`);
    const req = verifyRequest(p.csr);
    const input: IssuanceInput = {
      action: 'approve',
      profile,
      requester,
      requestId: p.id,
      subject: req.subject,
      spki: req.subjectPublicKeyInfo,
      sans: req.subjectAltName ?? [],
      validityDays: p.validityDays,
      detail: { pendingId: p.id, requestedBy: p.requester },
    };
    const checked = await this.pipeline.check(input);
    const d = await this.store.decidePending(
      id,
      { state: 'approved', by: requester, at: this.now() },
      this.event(requester, 'approve', 'ok', { pendingId: id, profile: p.profile }),
    );
    if (d !== 'decided') throw new CaError('not-pending', `request ${id} was already decided`);
    return this.pipeline.issue(input, checked);
  }

  async reject(id: string, requester: string, why?: string): Promise<void> {
    const p = await this.store.getPending(id);
    if (!p) throw new CaError('not-found', `no pending request ${id}`);
    const reason = why?.slice(0, 300);
    const d = await this.store.decidePending(
      id,
      { state: 'rejected', by: requester, at: this.now(), reason },
      this.event(requester, 'reject', 'ok', { pendingId: id, profile: p.profile, reason }),
    );
    if (d !== 'decided') throw new CaError('not-pending', `request ${id} was already decided`);
  }

  private event(actor: string, action: string, result: string, detail: Record<string, unknown>): AuditEvent {
    return { time: this.now(), actor, action, result, detail };
  }
}
