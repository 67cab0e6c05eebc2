import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * The service's structured logs (pino, one JSON object per line) with secrets kept out, three ways:
 *
 * 1. nothing secret is passed to the logger in the first place (the Authority's rule too: see
 *    ca/logger.ts): request logs carry method, route, status, principal id — never headers or bodies;
 * 2. pino's `redact` censors the fields where a secret would sit if it were logged by mistake
 *    (`authorization`/`cookie` headers, `passphrase`, `password`, `pin`, `token`, `secret`,
 *    `privateKey`, connection strings);
 * 3. every line is scrubbed before it is written: the secret values this process knows
 *    (`SecretSet`: the key passphrase, the PKCS#11 PIN, the database password, bearer tokens)
 *    are replaced wherever they appear, as are credential-shaped text — a password in a URL's
 *    userinfo, `Bearer …`, our token format, PEM private keys — which an error message from a
 *    driver or library could carry.
 */
export const REDACTED = '[REDACTED]';

/** Secret values the process holds, to be scrubbed from every log line. */
export class SecretSet {
  private readonly values = new Set<string>();

  /** Adds a secret (values under 4 characters are too short to scrub without mangling logs). */
  add(value: string | undefined): void {
    if (value === undefined) return;
    const v = value.trim();
    if (v.length >= 4) this.values.add(v);
    // The same value as it would appear inside JSON or a URL.
    const j = JSON.stringify(v).slice(1, -1);
    if (j !== v && j.length >= 4) this.values.add(j);
    const u = encodeURIComponent(v);
    if (u !== v && u.length >= 4) this.values.add(u);
  }

  /** The text with every known secret and credential-shaped substring replaced. */
  scrub(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.replaceAll(v, REDACTED);
    return scrubPatterns(out);
  }
}

const PATTERNS: readonly [RegExp, string][] = [
  // userinfo password in a URL (RFC 3986 §3.2.1): scheme://user:password@host
  [/([a-z][a-z0-9+.-]*:\/\/[^\s:/@"]*:)[^\s@"/]+@/gi, `$1${REDACTED}@`],
  // HTTP credentials
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // our bearer token format
  [/\bfpk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}\b/g, `fpk_$1_${REDACTED}`],
  // PEM private keys (RFC 7468 labels ending in PRIVATE KEY), also with escaped newlines
  [/-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, REDACTED],
];

function scrubPatterns(s: string): string {
  let out = s;
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
  return out;
}

/** A URL safe to print: the userinfo password replaced. Non-URLs are scrubbed of patterns. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = REDACTED.replaceAll(/[[\]]/g, '');
    return u.toString();
  } catch {
    return scrubPatterns(url);
  }
}

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'headers.cookie',
  'passphrase',
  'password',
  'pin',
  'token',
  'secret',
  'privateKey',
  '*.passphrase',
  '*.password',
  '*.pin',
  '*.token',
  '*.secret',
  '*.privateKey',
  '*.connectionString',
  '*.databaseUrl',
];

export interface LoggerOptions {
  level?: string;
  secrets: SecretSet;
  /** Default: stderr (stdout is the service's own startup output). */
  destination?: DestinationStream;
}

/** The service's pino logger (see the header). */
export function createLogger(o: LoggerOptions): Logger {
  const secrets = o.secrets;
  return pino(
    {
      level: o.level ?? 'info',
      base: { pid: process.pid, service: 'fleetpki' },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: {
        // Errors as type, code and message: their stacks stay out of the logs' hot path and
        // their `cause` chains (which may hold driver internals) are not walked.
        err: (e: unknown) =>
          e instanceof Error
            ? { type: e.name, code: (e as { code?: unknown }).code, message: e.message }
            : { message: String(e) },
      },
      hooks: { streamWrite: (line: string) => secrets.scrub(line) },
    },
    o.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
