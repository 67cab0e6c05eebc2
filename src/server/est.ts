import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EnrollmentCredential } from '../ca/store/types.js';
import { bytesEqual } from '../der/bytes.js';
import { createEnrollmentCredential } from '../est/credentials.js';
import { EstError } from '../est/errors.js';
import { type EstAnswer, type EstOperation, type EstPrincipal, EstServer } from '../est/server.js';
import {
  type EstCredentialCreated,
  type EstCredentialInfo,
  type EstCredentialList,
  EstCredentialListQuery,
  EstCredentialRequest,
  type EstLabelInfo,
} from './api/est-schemas.js';
import { parseWith } from './api/routes.js';
import type { Authenticator, Principal } from './auth/types.js';
import type { ServiceExtension } from './service.js';

/**
 * EST mounted into the service (`fleetpki serve`): the RFC 7030 routes under `/.well-known/est/`
 * (and `/.well-known/est/<label>/`), authenticated by the `est` credential set, and the admin API's
 * EST routes (`/api/v1/est/…`, admin credential). The protocol is src/est/server.ts; here only
 * HTTP: media types, the 401 challenge (`Basic`, RFC 7030 §3.2.3), answers.
 *
 * | route | what |
 * |---|---|
 * | `GET /.well-known/est[/<label>]/cacerts`, `/csrattrs` | no credential |
 * | `POST /.well-known/est[/<label>]/simpleenroll`, `/simplereenroll`, `/serverkeygen` | `application/pkcs10`, base64 |
 * | `POST /api/v1/est/credentials` | a single-use enrollment credential (`EstCredentialCreated`) |
 * | `GET /api/v1/est/credentials` | credentials, without secrets |
 * | `GET /api/v1/est/labels` | the labels served |
 */
export const EST_SET = 'est';

const principals = new WeakMap<FastifyRequest, EstPrincipal>();

/** The `est` credential set: the EST server decides (see EstServer.authenticate). */
class EstAuthenticator implements Authenticator {
  readonly method = 'est';
  constructor(private readonly est: () => EstServer) {}

  async authenticate(req: FastifyRequest): Promise<Principal> {
    const { label, op } = route(req);
    const p = await this.est().authenticate(label, op, {
      socket: req.raw.socket as TLSSocket,
      authorization: req.headers.authorization,
    });
    principals.set(req, p);
    return { method: `est-${p.kind}`, id: p.id, requester: p.requester };
  }
}

function route(req: FastifyRequest): { label?: string; op: EstOperation } {
  const url = req.routeOptions.url ?? '';
  const op = url.slice(url.lastIndexOf('/') + 1) as EstOperation;
  const label = (req.params as { label?: string } | undefined)?.label;
  return { label, op };
}

function send(reply: FastifyReply, a: EstAnswer): FastifyReply {
  reply.code(a.status);
  for (const [k, v] of Object.entries(a.headers)) reply.header(k, v);
  // RFC 8951 §3.2.2: the header is meaningless over HTTP, but RFC 7030 clients may look for it.
  if (a.status === 200) reply.header('content-transfer-encoding', 'base64');
  reply.header('cache-control', 'no-store');
  return reply.send(a.body);
}

/** The EST extension for `Service.start` (mounted by default). */
export function estExtension(): ServiceExtension & { server(): EstServer | undefined } {
  let est: EstServer | undefined;
  const get = () => {
    if (!est) throw new EstError('not-found', 'EST is not running');
    return est;
  };
  return {
    name: 'est',
    server: () => est,
    async register(app, ctx) {
      est = await EstServer.create({
        authority: ctx.authority,
        logger: ctx.logger.child({ component: 'est' }),
      });
      ctx.auth.define(EST_SET, new EstAuthenticator(get));
      await app.register(async (scope) => registerEstRoutes(scope, get));
      await app.register(async (api) => registerEstAdminRoutes(api, get), { prefix: '/api/v1/est' });
    },
    async close() {
      est?.close();
    },
  };
}

async function registerEstRoutes(scope: FastifyInstance, est: () => EstServer): Promise<void> {
  scope.addHook('onRoute', (r) => {
    r.config = {
      ...(r.config ?? {}),
      auth: EST_SET,
      wwwAuthenticate: 'Basic realm="fleetpki EST", charset="UTF-8"',
    };
  });
  // RFC 8951 §3.2: the body is base64 text of the DER CSR.
  scope.addContentTypeParser('application/pkcs10', { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  );
  for (const prefix of ['/.well-known/est', '/.well-known/est/:label']) {
    scope.get(`${prefix}/cacerts`, async (req, reply) => send(reply, est().cacerts(route(req).label)));
    scope.get(`${prefix}/csrattrs`, async (req, reply) => send(reply, est().csrattrs(route(req).label)));
    for (const op of ['simpleenroll', 'simplereenroll', 'serverkeygen'] as const)
      scope.post(`${prefix}/${op}`, async (req, reply) => {
        const who = principals.get(req);
        if (!who) throw new EstError('unauthorized', 'no credential');
        if (typeof req.body !== 'string') throw new EstError('bad-request', 'the body must be a base64 CSR');
        const a = await est().enroll(route(req).label, op, who, req.body, req.raw.socket as TLSSocket);
        return send(reply, a);
      });
  }
}

function iso(t: number | undefined): string | undefined {
  return t === undefined ? undefined : new Date(t).toISOString();
}

function credentialInfo(c: EnrollmentCredential, now: number): EstCredentialInfo {
  return {
    username: c.id,
    label: c.label,
    ...(c.subject !== undefined ? { subject: c.subject } : {}),
    createdAt: iso(c.createdAt)!,
    expiresAt: iso(c.expiresAt)!,
    createdBy: c.createdBy,
    state: c.usedAt !== undefined ? 'used' : c.expiresAt <= now ? 'expired' : 'unused',
    ...(c.usedAt !== undefined ? { usedAt: iso(c.usedAt) } : {}),
  };
}

async function registerEstAdminRoutes(api: FastifyInstance, est: () => EstServer): Promise<void> {
  api.post('/credentials', async (req, reply) => {
    const body = parseWith(EstCredentialRequest, req.body, 'body');
    const label = est().label(body.label);
    const c = await createEnrollmentCredential(est().authority, {
      label: label.name,
      subject: body.subject,
      validityHours: body.validityHours ?? label.tokenValidityHours,
      requester: req.principal!.requester,
    });
    const out: EstCredentialCreated = {
      username: c.username,
      password: c.password,
      label: c.label,
      ...(c.subject !== undefined ? { subject: c.subject } : {}),
      expiresAt: iso(c.expiresAt)!,
    };
    reply.header('cache-control', 'no-store');
    return reply.code(201).send(out);
  });

  api.get('/credentials', async (req) => {
    const q = parseWith(EstCredentialListQuery, req.query, 'query');
    const rows = await est().authority.store.listEnrollmentCredentials({
      limit: q.limit + 1,
      afterId: q.after,
    });
    const now = Date.now();
    const page = rows.slice(0, q.limit);
    const out: EstCredentialList = {
      items: page.map((c) => credentialInfo(c, now)),
      ...(rows.length > q.limit ? { next: page[page.length - 1]!.id } : {}),
    };
    return out;
  });

  api.get('/labels', async () => {
    const s = est();
    const out: EstLabelInfo[] = [];
    for (const l of Object.values(s.config.labels)) {
      const trust = s.trust(l.name);
      out.push({
        name: l.name,
        path: l.name === 'default' ? '/.well-known/est' : `/.well-known/est/${l.name}`,
        profile: l.profile,
        issuer: l.issuer,
        credentials: [...l.credentials],
        subject: l.subject,
        bootstrapSubject: l.bootstrapSubject,
        bootstrapCas: trust.anchors.map((a) => ({
          subject: a.subject.toString(),
          crl: trust.crls.some((c) => bytesEqual(c.issuer.der, a.subject.der)),
        })),
        channelBinding: l.channelBinding,
        serverKeygen: l.serverKeygen,
        approval: s.authority.profile(l.profile)?.approval ?? 'auto',
      });
    }
    return { items: out };
  });
}
