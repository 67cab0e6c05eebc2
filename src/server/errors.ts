import { CaError, type CaErrorCode } from '../ca/errors.js';
import { StoreError, type StoreErrorCode } from '../ca/store/types.js';
import type { Problem } from './api/schemas.js';

/**
 * The service's errors and the one table that maps every error code — the Authority's
 * (`CaErrorCode`), the store's (`StoreErrorCode`) and the service's own (`ServerErrorCode`) — to
 * an HTTP status. Domain errors carry no status (STYLE §3); this is the only place that decides.
 * Every answer that is not a success is RFC 9457 `application/problem+json` with the code.
 *
 * What a problem carries: for 4xx, the error's message and its safe, structured details (the
 * profile rule and its RFC section, a config path, lint findings, the path validation's reason for
 * a refused client certificate). For 5xx, only the code and the request id: messages of internal
 * failures may name files, hosts or database errors, so they go to the log, never to the client.
 * Stack traces never leave the process.
 */
export type ServerErrorCode =
  /** No credential was presented for a route that needs one. */
  | 'unauthorized'
  /** A bearer token was presented that is malformed, unknown or wrong. */
  | 'bad-credential'
  /** A client certificate was presented and refused: not from our CA, expired, revoked, wrong EKU, or not an admin certificate. */
  | 'client-certificate-rejected'
  /** A state-changing request from a browser came without the session's CSRF token, or from another origin (dashboard). */
  | 'csrf-rejected'
  /** The request body is larger than the route accepts. */
  | 'body-too-large'
  /** The request is malformed: invalid JSON, a field of the wrong type, an unknown field, a bad query parameter. */
  | 'bad-request'
  /** The request body's media type is not one the route accepts. */
  | 'unsupported-media-type'
  /** No such route (the same code as the Authority's for a missing certificate or issuer). */
  | 'not-found'
  /** The route does not support the method. */
  | 'method-not-allowed'
  /** The representation asked for (Accept) is not available. */
  | 'not-acceptable'
  /** The operation did not finish in time; an issuance may still complete (retry with the same requestId). */
  | 'timeout'
  /** The service is shutting down and takes no new work. */
  | 'shutting-down'
  /** An unexpected failure; the log has the details under the request id. */
  | 'internal';

/** Every code an API problem can carry. `not-found` and `forbidden` are shared with the Authority's. */
export type ApiErrorCode = CaErrorCode | StoreErrorCode | ServerErrorCode;

export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(
    readonly code: ServerErrorCode,
    message: string,
    /** Safe details for the problem document (e.g. `verifyCode`, `path`). */
    readonly details: { path?: string; verifyCode?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The HTTP status of every code (one table; a test checks every code has a row). */
export const STATUS_BY_CODE: Readonly<Record<ApiErrorCode, number>> = {
  // the request was refused by policy: the client must change it
  'malformed-csr': 400,
  'bad-csr-signature': 400,
  'unsupported-algorithm': 400,
  'weak-key': 400,
  'key-type-not-allowed': 400,
  'key-reuse': 400,
  'subject-not-allowed': 400,
  'subject-equals-issuer': 400,
  'san-not-allowed': 400,
  'san-required': 400,
  'name-constraint-violation': 400,
  'validity-not-allowed': 400,
  'lint-failed': 400,
  'unknown-profile': 400,
  'bad-reason': 400,
  'bad-config': 400,
  'bad-issuer': 400,
  forbidden: 403,
  'request-conflict': 409,
  // certificates and revocation
  'not-found': 404,
  'ambiguous-serial': 409,
  'already-revoked': 409,
  'not-on-hold': 409,
  'certificate-not-valid': 409,
  'not-pending': 409,
  'hierarchy-exists': 409,
  // the CA itself
  'issuer-unavailable': 503,
  'no-hierarchy': 503,
  'passphrase-required': 500,
  'bad-passphrase': 500,
  'key-file-permissions': 500,
  'key-unavailable': 503,
  'store-failure': 503,
  'sign-failed': 500,
  closed: 503,
  // the store
  'schema-too-new': 500,
  'not-reserved': 500,
  'unknown-issuer': 404,
  'bad-input': 400,
  unavailable: 503,
  constraint: 500,
  unsupported: 501,
  'bad-url': 500,
  // the service
  unauthorized: 401,
  'bad-credential': 401,
  'client-certificate-rejected': 401,
  'csrf-rejected': 403,
  'body-too-large': 413,
  'bad-request': 400,
  'unsupported-media-type': 415,
  'method-not-allowed': 405,
  'not-acceptable': 406,
  timeout: 503,
  'shutting-down': 503,
  internal: 500,
};

const TITLES: Partial<Record<ApiErrorCode, string>> = {
  unauthorized: 'Authentication required',
  'bad-credential': 'Invalid credential',
  'client-certificate-rejected': 'Client certificate refused',
  'csrf-rejected': 'Cross-site request refused',
  'body-too-large': 'Request body too large',
  'bad-request': 'Bad request',
  'not-found': 'Not found',
  forbidden: 'Forbidden',
  internal: 'Internal error',
};

/** Fastify's own error codes (body parsing, limits, routing) mapped to ours. */
const FASTIFY_CODES: Readonly<Record<string, ApiErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad-request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad-request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad-request',
  FST_ERR_CTP_MALFORMED_JSON_BODY: 'bad-request',
  FST_ERR_BAD_URL: 'bad-request',
  FST_ERR_VALIDATION: 'bad-request',
  FST_ERR_NOT_FOUND: 'not-found',
  FST_ERR_HANDLER_TIMEOUT: 'timeout',
};

/** An error as the service answers it. */
export interface ProblemAnswer {
  status: number;
  code: ApiErrorCode;
  body: Problem;
  /** True for 5xx: log it with its cause. */
  internal: boolean;
}

/** Maps any thrown value to its problem document (see the header for what is disclosed). */
export function toProblem(e: unknown, requestId?: string): ProblemAnswer {
  let code: ApiErrorCode = 'internal';
  let detail: string | undefined;
  const extra: Partial<Problem> = {};
  if (e instanceof CaError) {
    code = e.code;
    detail = e.message;
    const d = e.details;
    if (typeof d.rule === 'string') extra.rule = d.rule;
    if (typeof d.section === 'string') extra.section = d.section;
    if (typeof d.path === 'string') extra.path = d.path;
    if (Array.isArray(d.findings))
      extra.findings = d.findings.map((f) => ({ code: f.code, severity: f.severity, message: f.message }));
  } else if (e instanceof StoreError) {
    code = e.code;
    detail = e.message;
  } else if (e instanceof ServerError) {
    code = e.code;
    detail = e.message;
    if (e.details.path) extra.path = e.details.path;
    if (e.details.verifyCode) extra.verifyCode = e.details.verifyCode;
  } else if (isFastifyError(e)) {
    const mapped = FASTIFY_CODES[e.code];
    if (mapped) {
      code = mapped;
      detail = mapped === 'body-too-large' ? 'the request body exceeds the size limit' : e.message;
    } else if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      code = 'bad-request';
      detail = e.message;
    }
  }
  const status = STATUS_BY_CODE[code] ?? 500;
  const internal = status >= 500;
  const body: Problem = {
    type: `urn:fleetpki:error:${code}`,
    title: TITLES[code] ?? code.replaceAll('-', ' '),
    status,
    code,
    ...(internal ? {} : { detail, ...extra }),
    ...(requestId ? { instance: requestId } : {}),
  };
  if (internal)
    body.detail =
      code === 'internal'
        ? 'internal error; the service log has the details under this request id'
        : publicDetail(code);
  return { status, code, body, internal };
}

/** Fixed, non-revealing explanations for the 5xx codes a client may act on. */
function publicDetail(code: ApiErrorCode): string {
  switch (code) {
    case 'timeout':
      return 'the operation did not finish in time; retry (with the same requestId for an issuance)';
    case 'shutting-down':
    case 'closed':
      return 'the service is shutting down';
    case 'store-failure':
    case 'unavailable':
      return 'the store is unavailable; nothing was issued';
    case 'issuer-unavailable':
      return 'no active CA can issue for this profile';
    default:
      return 'the service could not complete the request';
  }
}

function isFastifyError(e: unknown): e is { code: string; statusCode?: number; message: string } {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    ((e as { code: string }).code.startsWith('FST_') || 'statusCode' in e)
  );
}
