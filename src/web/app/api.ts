// The dashboard's client of the admin API. Every request and response type comes from the server's
// zod schemas (src/server/api/*schemas.ts), and every response the views rely on is validated with
// them at run time (a page is at most a few hundred rows), so a server/client drift shows up as a
// clear error instead of a half-drawn page.
import type { z } from 'zod';
import { CSRF_HEADER, SessionInfo } from '../../server/api/dashboard-schemas.js';
import {
  type EstCredentialCreate,
  EstCredentialCreated,
  EstCredentialPage,
} from '../../server/api/est-schemas.js';
import {
  AuditPage,
  AuditVerification,
  CaList,
  CertificateDetail,
  type CertificateListQuery,
  CertificatePage,
  CrlPublishResponse,
  IssueResponse,
  PendingPage,
  Problem,
  ProfileList,
  type RevocationReason,
  RevokeResponse,
  Statistics,
} from '../../server/api/schemas.js';

/** A refusal or failure of the API, with the problem document's code when there is one. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The query of a certificate search as the page builds it (strings as in a URL). */
export type CertificateSearch = Partial<z.input<typeof CertificateListQuery>>;

type Method = 'GET' | 'POST' | 'DELETE';

export class ApiClient {
  /** The session's CSRF token (absent when the browser authenticated with a client certificate). */
  private csrfToken: string | undefined;
  /** The optional parts of the API this service has (from the session). */
  features: SessionInfo['features'] = { estCredentials: false };

  constructor(private readonly onUnauthorized: () => void) {}

  private async call<S extends z.ZodType>(
    schema: S | undefined,
    method: Method,
    path: string,
    body?: unknown,
  ): Promise<z.infer<S>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.csrfToken) headers[CSRF_HEADER] = this.csrfToken;
    let r: Response;
    try {
      r = await fetch(path, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', 'The service could not be reached.');
    }
    if (r.status === 401) {
      this.onUnauthorized();
      throw new ApiError(401, 'unauthorized', 'Your session has ended. Sign in again.');
    }
    if (!r.ok) {
      const p = Problem.safeParse(await r.json().catch(() => null));
      if (p.success) throw new ApiError(r.status, p.data.code, p.data.detail ?? p.data.title);
      throw new ApiError(r.status, 'http', `HTTP ${r.status}`);
    }
    if (r.status === 204 || schema === undefined) return undefined as z.infer<S>;
    const data = schema.safeParse(await r.json());
    if (!data.success)
      throw new ApiError(r.status, 'bad-response', `Unexpected answer from ${path.split('?')[0]}`);
    return data.data;
  }

  /** Who is signed in; remembers the CSRF token for later state-changing requests. */
  async session(): Promise<SessionInfo> {
    const s = await this.call(SessionInfo, 'GET', '/session');
    this.csrfToken = s.csrfToken;
    this.features = s.features;
    return s;
  }

  async logout(): Promise<void> {
    await this.call(undefined, 'DELETE', '/session');
  }

  certificates(q: CertificateSearch): Promise<CertificatePage> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return this.call(CertificatePage, 'GET', `/api/v1/certificates${qs ? `?${qs}` : ''}`);
  }

  certificate(issuer: string, serial: string): Promise<CertificateDetail> {
    return this.call(
      CertificateDetail,
      'GET',
      `/api/v1/certificates/${encodeURIComponent(serial)}?issuer=${encodeURIComponent(issuer)}`,
    );
  }

  revoke(issuer: string, serial: string, reason: RevocationReason): Promise<RevokeResponse> {
    return this.call(RevokeResponse, 'POST', `/api/v1/certificates/${encodeURIComponent(serial)}/revoke`, {
      reason,
      issuer,
    });
  }

  cas(): Promise<CaList> {
    return this.call(CaList, 'GET', '/api/v1/cas');
  }

  profiles(): Promise<ProfileList> {
    return this.call(ProfileList, 'GET', '/api/v1/profiles');
  }

  statistics(days: number): Promise<Statistics> {
    return this.call(Statistics, 'GET', `/api/v1/statistics?days=${days}`);
  }

  publishCrl(issuer: string): Promise<CrlPublishResponse> {
    return this.call(CrlPublishResponse, 'POST', '/api/v1/crl', { issuer });
  }

  audit(after: number, limit: number): Promise<AuditPage> {
    return this.call(AuditPage, 'GET', `/api/v1/audit?after=${after}&limit=${limit}`);
  }

  auditVerify(): Promise<AuditVerification> {
    return this.call(AuditVerification, 'GET', '/api/v1/audit/verify');
  }

  requests(state: 'pending' | 'approved' | 'rejected', cursor?: string): Promise<PendingPage> {
    const c = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    return this.call(PendingPage, 'GET', `/api/v1/requests?state=${state}&limit=50${c}`);
  }

  approve(id: string): Promise<IssueResponse> {
    return this.call(IssueResponse, 'POST', `/api/v1/requests/${encodeURIComponent(id)}/approve`, {});
  }

  async reject(id: string, reason: string): Promise<void> {
    await this.call(
      undefined,
      'POST',
      `/api/v1/requests/${encodeURIComponent(id)}/reject`,
      reason ? { reason } : {},
    );
  }

  estCredentials(): Promise<EstCredentialPage> {
    return this.call(EstCredentialPage, 'GET', '/api/v1/est/credentials');
  }

  createEstCredential(body: EstCredentialCreate): Promise<EstCredentialCreated> {
    return this.call(EstCredentialCreated, 'POST', '/api/v1/est/credentials', body);
  }
}

/** A link that downloads a certificate (`format` pem or der) with the session's cookie. */
export function certificateFileUrl(issuer: string, serial: string, format: 'pem' | 'der'): string {
  return `/api/v1/certificates/${encodeURIComponent(serial)}?issuer=${encodeURIComponent(issuer)}&format=${format}`;
}
