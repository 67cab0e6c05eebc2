import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { verifyAudit } from '../../ca/audit.js';
import type { Authority } from '../../ca/authority.js';
import { CaError, REQUEST_ERROR_CODES } from '../../ca/errors.js';
import type { IssuedResult } from '../../ca/pipeline.js';
import type { CertificateQuery } from '../../ca/store/types.js';
import { looksLikePem } from '../../pem/pem.js';
import { type Certificate, parseCertificate } from '../../x509/certificate.js';
import { ServerError } from '../errors.js';
import type { ServiceMetrics } from '../metrics.js';
import {
  AuditQuery,
  type AuditVerification,
  type CaInfo,
  CertificateGetQuery,
  CertificateListQuery,
  type CertificateSummary,
  type CrlInfo,
  CrlPublishRequest,
  IssueRequest,
  type IssueResponse,
  PendingListQuery,
  RejectRequest,
  ReleaseHoldRequest,
  RevokeRequest,
  type RevokeResponse,
  StatisticsQuery,
  type WhoAmI,
} from './schemas.js';
import {
  auditRecord,
  certificateSummary,
  decodeCertificate,
  iso,
  issuerFields,
  pemOf,
  pendingRequest,
  profileInfo,
} from './views.js';

/**
 * The admin API (`/api/v1/…`, JSON; shapes in schemas.ts). Every route needs the `admin`
 * credential set (the default of every route; see auth/). Requests are validated with the zod
 * schemas — an unknown field or query parameter is `bad-request` naming it — and every action is
 * done as the authenticated principal's requester, so the audit log says who.
 *
 * | method and path | what |
 * |---|---|
 * | `GET  /whoami` | the authenticated principal |
 * | `POST /certificates` | issue from a CSR (201 issued, 202 pending approval) |
 * | `GET  /certificates` | search, keyset pagination (`cursor`) |
 * | `GET  /certificates/:serial` | one certificate: JSON (default), `?format=pem`, `?format=der` or by Accept |
 * | `POST /certificates/:serial/revoke` | revoke with a reason |
 * | `POST /certificates/:serial/release-hold` | release a certificateHold |
 * | `POST /crl` | publish CRLs now (one issuer or all) |
 * | `GET  /profiles`, `/profiles/:name` | issuance profiles |
 * | `GET  /cas`, `/cas/:id` | the hierarchy with CRL and OCSP status |
 * | `GET  /statistics` | counts for the dashboard |
 * | `GET  /audit`, `/audit/verify` | audit log pages; hash-chain verification |
 * | `GET  /requests`, `/requests/:id`; `POST /requests/:id/approve`, `/reject` | manual approval |
 */
export interface ApiRoutesOptions {
  authority: Authority;
  metrics: ServiceMetrics;
  now?: () => number;
}

/** How long an audit chain verification result is reused (a full walk is O(records)). */
const AUDIT_VERIFY_CACHE_MS = 5_000;

/** Validates `data` with a schema; a failure is `bad-request` naming the first offending field. */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(data ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [];
  const path = [where, ...issue.path.map(String), ...keys].join('.');
  const message = issue.code === 'unrecognized_keys' ? `unknown field "${keys[0]}"` : issue.message;
  throw new ServerError('bad-request', `${path}: ${message}`, { path });
}

const SERIAL = /^[0-9a-fA-F:]{1,128}$/;

function serialParam(s: string): string {
  if (!SERIAL.test(s))
    throw new ServerError('bad-request', 'the serial must be hex (colons allowed)', { path: 'serial' });
  return s;
}

/**
 * The CSR as the Authority takes it: PEM text as is; otherwise base64 of the DER. Text that is
 * neither is passed through as is, so the Authority refuses it as `malformed-csr` (and audits it).
 */
function csrInput(text: string): string | Uint8Array {
  const t = text.trim();
  if (looksLikePem(t)) return t;
  const compact = t.replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact) && compact.length % 4 === 0)
    return new Uint8Array(Buffer.from(compact, 'base64'));
  if (/^[A-Za-z0-9_-]+$/.test(compact)) return new Uint8Array(Buffer.from(compact, 'base64url'));
  return t;
}

function requester(req: FastifyRequest): string {
  const p = req.principal;
  if (!p) throw new ServerError('unauthorized', 'no principal');
  return p.requester;
}

export async function registerApiRoutes(app: FastifyInstance, o: ApiRoutesOptions): Promise<void> {
  const ca = o.authority;
  const m = o.metrics;
  const now = o.now ?? Date.now;
  let auditCheck: { at: number; result: Promise<AuditVerification> } | undefined;

  app.get('/whoami', async (req) => {
    const p = req.principal!;
    const out: WhoAmI = { method: p.method, id: p.id, requester: p.requester };
    if (p.subject !== undefined) out.subject = p.subject;
    return out;
  });

  // ---- certificates -------------------------------------------------------------------------------

  app.post('/certificates', async (req, reply) => {
    const body = parseWith(IssueRequest, req.body, 'body');
    const t0 = performance.now();
    const profileLabel = ca.profile(body.profile) ? body.profile : 'unknown';
    const done = (result: string) => {
      m.issuance.inc({ profile: profileLabel, result });
      m.issuanceSeconds.observe({ result }, (performance.now() - t0) / 1000);
    };
    let r: Awaited<ReturnType<Authority['issue']>>;
    try {
      r = await ca.issue(csrInput(body.csr), {
        profile: body.profile,
        requester: requester(req),
        requestId: body.requestId,
        validityDays: body.validityDays,
      });
    } catch (e) {
      done(e instanceof CaError && REQUEST_ERROR_CODES.has(e.code) ? 'refused' : 'error');
      throw e;
    }
    done(r.status);
    if (r.status === 'pending') {
      const out: IssueResponse = { status: 'pending', pendingId: r.pendingId, profile: r.profile };
      return reply.code(202).send(out);
    }
    // A new certificate is described from the result (no store read); a replay from its record.
    const rec = r.replayed ? await ca.get(r.serialHex, r.issuerId) : undefined;
    const out: IssueResponse = {
      status: 'issued',
      certificate: rec ? certificateSummary(rec, now()) : issuedSummary(r, requester(req), body.requestId),
      pem: pemOf(r.der),
      chainPem: chainPemOf(r.chain),
      replayed: r.replayed,
    };
    return reply.code(r.replayed ? 200 : 201).send(out);
  });

  app.get('/certificates', async (req) => {
    const q = parseWith(CertificateListQuery, req.query, 'query');
    const query: CertificateQuery = {
      issuerId: q.issuer,
      profile: q.profile,
      status: q.status,
      subject: q.subject,
      san: q.san,
      serial: q.serial?.replaceAll(':', '').toLowerCase(),
      expiresFrom: q.expiresAfter ? Date.parse(q.expiresAfter) : undefined,
      expiresTo: q.expiresBefore ? Date.parse(q.expiresBefore) : undefined,
      states: q.state === 'all' ? ['reserved', 'issued', 'void'] : undefined,
      sort: q.sort,
      order: q.order,
      limit: q.limit,
      cursor: q.cursor,
    };
    const page = await ca.find(query);
    const t = now();
    return {
      items: page.items.map((r) => certificateSummary(r, t)),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    };
  });

  app.get<{ Params: { serial: string } }>('/certificates/:serial', async (req, reply) => {
    const q = parseWith(CertificateGetQuery, req.query, 'query');
    const rec = await ca.get(serialParam(req.params.serial), q.issuer);
    if (!rec) throw new CaError('not-found', `no certificate ${req.params.serial.slice(0, 80)}`);
    const format = q.format ?? negotiate(req);
    if (format !== 'json') {
      if (!rec.der)
        throw new CaError('not-found', `certificate ${rec.serialHex} was never issued (${rec.state})`);
      if (format === 'der')
        return reply
          .type('application/pkix-cert')
          .send(Buffer.from(rec.der.buffer, rec.der.byteOffset, rec.der.byteLength));
      return reply.type('application/x-pem-file').send(pemOf(rec.der));
    }
    const summary = certificateSummary(rec, now());
    if (!rec.der) return summary;
    const cert = parseCertificate(rec.der);
    let chainPem: string | undefined;
    try {
      chainPem = ca.chainPem(rec.issuerId);
    } catch {
      chainPem = undefined; // an issuer no longer in the hierarchy
    }
    return {
      ...summary,
      pem: pemOf(rec.der),
      ...(chainPem ? { chainPem } : {}),
      decoded: decodeCertificate(cert),
    };
  });

  app.post<{ Params: { serial: string } }>('/certificates/:serial/revoke', async (req) => {
    const body = parseWith(RevokeRequest, req.body, 'body');
    const r = await ca.revoke(serialParam(req.params.serial), body.reason, {
      requester: requester(req),
      issuerId: body.issuer,
      invalidityDate: body.invalidityDate ? Date.parse(body.invalidityDate) : undefined,
    });
    const out: RevokeResponse = {
      issuer: r.issuerId,
      serial: r.serialHex,
      reason: r.reason as RevokeResponse['reason'],
      revocationTime: iso(r.revocationTime),
    };
    return out;
  });

  app.post<{ Params: { serial: string } }>('/certificates/:serial/release-hold', async (req) => {
    const body = parseWith(ReleaseHoldRequest, req.body, 'body');
    const serial = serialParam(req.params.serial);
    await ca.releaseHold(serial, { requester: requester(req), issuerId: body.issuer });
    const rec = await ca.get(serial, body.issuer);
    if (!rec) throw new CaError('not-found', `no certificate ${serial}`);
    return certificateSummary(rec, now());
  });

  // ---- CRLs, profiles, CAs ------------------------------------------------------------------------

  app.post('/crl', async (req) => {
    const body = parseWith(CrlPublishRequest, req.body, 'body');
    await ca.audit({
      actor: requester(req),
      action: 'crl-now',
      result: 'ok',
      issuerId: body.issuer,
      detail: {},
    });
    const list = body.issuer ? [await ca.publishCrl(body.issuer)] : await ca.publishCrl();
    const published: CrlInfo[] = list.map((c) => ({
      issuer: c.issuerId,
      crlNumber: c.crlNumber.toString(),
      thisUpdate: iso(c.thisUpdate),
      nextUpdate: iso(c.nextUpdate),
      entries: c.entries,
      path: `/crl/${c.issuerId}.crl`,
    }));
    return { published };
  });

  app.get('/profiles', async () => ({ items: ca.profiles().map(profileInfo) }));
  app.get<{ Params: { name: string } }>('/profiles/:name', async (req) => {
    const p = ca.profile(req.params.name);
    if (!p) throw new CaError('unknown-profile', `no profile "${req.params.name.slice(0, 64)}"`);
    return profileInfo(p);
  });

  const caInfos = async (): Promise<CaInfo[]> => {
    const t = now();
    const stats = await ca.store.statistics(t, t);
    const out: CaInfo[] = [];
    for (const i of ca.issuers()) {
      const crl = i.status === 'retired' ? undefined : await ca.store.latestCrl(i.id);
      out.push({
        ...issuerFields(i),
        ...(crl
          ? {
              crl: {
                crlNumber: crl.crlNumber.toString(),
                thisUpdate: iso(crl.thisUpdate),
                nextUpdate: iso(crl.nextUpdate),
                path: `/crl/${i.id}.crl`,
              },
            }
          : {}),
        ocsp: {
          served: i.role === 'intermediate' && i.status !== 'retired',
          responsesSent: m.ocspResponsesSent,
        },
        chainPath: `/ca/${i.id}/chain.pem`,
        issued: stats.byIssuer[i.id] ?? 0,
      });
    }
    return out;
  };
  app.get('/cas', async () => ({ items: await caInfos() }));
  app.get<{ Params: { id: string } }>('/cas/:id', async (req) => {
    const c = (await caInfos()).find((x) => x.id === req.params.id);
    if (!c) throw new CaError('not-found', `no issuer ${req.params.id.slice(0, 64)}`);
    return c;
  });

  // ---- dashboard ----------------------------------------------------------------------------------

  app.get('/statistics', async (req) => {
    const q = parseWith(StatisticsQuery, req.query, 'query');
    const at = now();
    const s = await ca.store.statistics(at, at + q.days * 86_400_000);
    return { at: iso(at), ...s };
  });

  app.get('/audit', async (req) => {
    const q = parseWith(AuditQuery, req.query, 'query');
    const rows = await ca.store.readAudit(q.after, q.limit);
    const last = rows.at(-1);
    return {
      items: rows.map(auditRecord),
      ...(rows.length === q.limit && last ? { nextAfter: last.seq } : {}),
    };
  });

  app.get('/audit/verify', async () => {
    const t = now();
    if (!auditCheck || t - auditCheck.at > AUDIT_VERIFY_CACHE_MS) {
      const result = verifyAudit(ca.store).then((r): AuditVerification => {
        const checkedAt = iso(now());
        if (r.ok) return { ok: true, records: r.records, ...(r.head ? { head: r.head } : {}), checkedAt };
        return { ok: false, records: r.records, code: r.code, seq: r.seq, message: r.message, checkedAt };
      });
      auditCheck = { at: t, result };
      result.catch(() => {
        auditCheck = undefined;
      });
    }
    return auditCheck.result;
  });

  // ---- manual approval ----------------------------------------------------------------------------

  app.get('/requests', async (req) => {
    const q = parseWith(PendingListQuery, req.query, 'query');
    const rows = await ca.listPending({ state: q.state, limit: q.limit, afterId: q.cursor });
    const last = rows.at(-1);
    return {
      items: rows.map(pendingRequest),
      ...(rows.length === q.limit && last ? { nextCursor: last.id } : {}),
    };
  });
  app.get<{ Params: { id: string } }>('/requests/:id', async (req) => {
    const p = await ca.getPending(req.params.id);
    if (!p) throw new CaError('not-found', `no request ${req.params.id.slice(0, 80)}`);
    return pendingRequest(p);
  });
  app.post<{ Params: { id: string } }>('/requests/:id/approve', async (req, reply) => {
    parseWith(RejectRequest.pick({}), req.body, 'body');
    const r = await ca.approve(req.params.id, { requester: requester(req) });
    const rec = await ca.get(r.serialHex, r.issuerId);
    if (!rec) throw new ServerError('internal', 'the issued certificate is not in the store');
    const out: IssueResponse = {
      status: 'issued',
      certificate: certificateSummary(rec, now()),
      pem: pemOf(r.der),
      chainPem: r.chain.map((c) => c.toPem()).join(''),
      replayed: r.replayed,
    };
    return reply.code(201).send(out);
  });
  app.post<{ Params: { id: string } }>('/requests/:id/reject', async (req, reply) => {
    const body = parseWith(RejectRequest, req.body, 'body');
    await ca.reject(req.params.id, { requester: requester(req), reason: body.reason });
    return reply.code(204).send();
  });
}

/** PEM of an issuing chain, kept per issuing certificate (its chain above it does not change). */
const chainPems = new WeakMap<Certificate, string>();

function chainPemOf(chain: readonly Certificate[]): string {
  const first = chain[0];
  if (!first) return '';
  let pem = chainPems.get(first);
  if (pem === undefined) {
    pem = chain.map((c) => c.toPem()).join('');
    chainPems.set(first, pem);
  }
  return pem;
}

/** The summary of a certificate just issued, from the issuance result. */
function issuedSummary(
  r: IssuedResult,
  requester: string,
  requestId: string | undefined,
): CertificateSummary {
  // From the result (what the certificate was built from): no need to parse it again.
  const out: CertificateSummary = {
    issuer: r.issuerId,
    serial: r.serialHex,
    state: 'issued',
    status: 'valid',
    profile: r.profile,
    subject: r.subject,
    sans: [...r.sans],
    notBefore: iso(r.notBefore),
    notAfter: iso(r.notAfter),
    requester,
    fingerprint: r.fingerprint,
  };
  if (requestId !== undefined) out.requestId = requestId;
  return out;
}

/** The representation an Accept header asks for (JSON unless it names a certificate type). */
function negotiate(req: FastifyRequest): 'json' | 'pem' | 'der' {
  const a = req.headers.accept ?? '';
  if (a.includes('application/pkix-cert')) return 'der';
  if (a.includes('application/x-pem-file') || a.includes('application/pem-certificate-chain')) return 'pem';
  return 'json';
}
