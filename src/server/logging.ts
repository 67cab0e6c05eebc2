import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * The service's structured logs (pino, one JSON object per line) with secrets kept out, three ways:
 *
 * 1. nothing secret is passed to the logger in the first place (the Authority's rule too: see
 *    ca/logger.ts): request logs carry method, route, status, principal id — never headers or bodies;
 * 2. the fields where a secret would sit if it were logged by mistake are censored (`redactFields`:
 *    `authorization`/`cookie` headers, `passphrase`, `password`, `pin`, `token`, `secret`,
 *    `privateKey`, connection strings — at any of the first three levels of a log object);
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

/** Text none of PATTERNS can match lacks all of these (checked first: most lines have none). */
const PATTERN_HINT = /:\/\/|bearer|basic|fpk_|PRIVATE KEY/i;

function scrubPatterns(s: string): string {
  if (!PATTERN_HINT.test(s)) return s;
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

/** Keys whose values are censored wherever they appear in the first REDACT_DEPTH levels of a log object. */
const SENSITIVE_KEYS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'passphrase',
  'password',
  'pin',
  'token',
  'secret',
  'privateKey',
  'connectionString',
  'databaseUrl',
]);
/** Levels searched: `req.headers.authorization` is three deep. */
const REDACT_DEPTH = 3;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * `o` with the value of every sensitive key (SENSITIVE_KEYS) replaced by REDACTED, in `o` and in
 * the plain objects under it down to REDACT_DEPTH levels; `o` itself, uncopied, when it has none
 * (what nearly every record is). Replaces pino's `redact` paths, whose wildcards (`*.token`) cost
 * ~5 µs per line — a third of the cost of a log line, and the service writes one per issuance.
 */
export function redactFields(o: Record<string, unknown>, depth = 1): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    const v = o[k];
    let r = v;
    if (SENSITIVE_KEYS.has(k)) r = REDACTED;
    else if (depth < REDACT_DEPTH && isPlainObject(v)) r = redactFields(v, depth + 1);
    if (r !== v) {
      out ??= { ...o };
      out[k] = r;
    }
  }
  return out ?? o;
}

let sharedStderr: DestinationStream | undefined;

/**
 * The process's stderr log stream, shared by every logger of the process: lines are gathered up
 * to 4 KiB and written together (and at least every 100 ms, and what is left when the process
 * exits, synchronously). Writing each line as it came cost ~110 µs of CPU per line on the 2-core
 * development machine — every asynchronous write is a round trip through libuv's thread pool —
 * about a tenth of an issuance; a synchronous write per line ~50 µs, blocking the event loop when
 * stderr is a slow pipe. The price: lines of the last 100 ms are lost if the process is killed
 * (SIGKILL, a crash of the runtime itself); the audit log, in the store, is the durable record.
 */
function stderrDestination(): DestinationStream {
  if (sharedStderr) return sharedStderr;
  const d = pino.destination({ fd: 2, sync: false, minLength: 4096 });
  // pino itself writes what is left, synchronously, when the process exits (on-exit-leak-free).
  setInterval(() => d.flush(), 100).unref();
  sharedStderr = d;
  return d;
}

export interface LoggerOptions {
  level?: string;
  secrets: SecretSet;
  /** Default: stderr (stdout is the service's own startup output). */
  destination?: DestinationStream;
}

/** The service's pino logger (see the header). */
export function createLogger(o: LoggerOptions): Logger {
  const secrets = o.secrets;
  const root = pino(
    {
      level: o.level ?? 'info',
      base: { pid: process.pid, service: 'fleetpki' },
      formatters: { log: redactFields, bindings: redactFields },
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
    o.destination ?? stderrDestination(),
  );
  // pino applies the bindings formatter to the base bindings only: a child's go through here
  // (children inherit this method, so their children's do too).
  const child = root.child;
  root.child = function (this: Logger, bindings, options) {
    return child.call(this, redactFields(bindings), options);
  } as Logger['child'];
  return root;
}
