import { z } from 'zod';
import type { CaConfig } from '../ca/config.js';
import { CaError } from '../ca/errors.js';
import { KEY_TYPES, type KeyType } from '../crypto/algorithms.js';

/**
 * The `est` section of the CA's configuration file: EST labels (RFC 7030 §3.2.2), each mapping
 * `/.well-known/est/<label>/…` to an issuance profile (and so an issuer), with the label's
 * authentication and authorisation rules as data. Validated strictly: an unknown key is refused
 * with its path (`CaError('bad-config')`, `details.path` e.g. `est.labels.sensors.subjct`), like the
 * rest of the file (ca/config.ts keeps the section as given; this module owns it).
 *
 * ```yaml
 * est:
 *   labels:
 *     default:                      # /.well-known/est/simpleenroll (no label)
 *       profile: device
 *       subject: "device-[0-9]{1,6}"  # every enrolled CN must match
 *       bootstrap: { subject: "{cn}" } # a bootstrap certificate enrolls only its own CN
 *     sensors:
 *       profile: sensor                # approval: manual → 202 + Retry-After
 *       credentials: [token]
 *       channelBinding: require        # tls-unique / tls-exporter in challengePassword (RFC 7030 §3.5)
 * ```
 *
 * The label `default` always exists (defaults below unless configured).
 */

/** The kinds of credential a label may accept (RFC 7030 §3.3.2, §3.2.3). */
export type EstCredentialKind =
  /** A bootstrap (claim) certificate from an imported manufacturing CA: first enrollment. */
  | 'bootstrap'
  /** A single-use enrollment credential over HTTP Basic: first enrollment. */
  | 'token'
  /** The device's own certificate from this CA: re-enrollment (/simplereenroll). */
  | 'device';

export const EST_CREDENTIAL_KINDS: readonly EstCredentialKind[] = ['bootstrap', 'token', 'device'];

/** One label's rules, every default filled in. */
export interface EstLabelConfig {
  name: string;
  /** The issuance profile; its issuer is the label's issuer (what /cacerts returns). */
  profile: string;
  /** The profile's issuer (checked against `issuer` when the config names one). */
  issuer: string;
  /** Which credentials authenticate here. */
  credentials: readonly EstCredentialKind[];
  /** Every enrolled commonName must match this (anchored) regular expression. */
  subject: string;
  /**
   * What a bootstrap certificate may enroll: a regular expression where `{cn}` stands for the
   * bootstrap certificate's own commonName (escaped). Default `.*` (anything `subject` allows).
   */
  bootstrapSubject: string;
  /** Bootstrap CA certificate files (PEM) trusted besides those imported into the store. */
  bootstrapCaFiles: readonly string[];
  /** RFC 7030 §3.5: `require` a CSR whose challengePassword carries this TLS session's channel binding. */
  channelBinding: 'off' | 'require';
  /** /serverkeygen (RFC 7030 §4.4): offered (`on`) or not; the key type it generates. */
  serverKeygen: 'on' | 'off';
  serverKeygenKeyType: KeyType;
  /** The Retry-After of a 202 (RFC 7030 §4.2.3). */
  retryAfterSeconds: number;
  /** Lifetime of new enrollment credentials. */
  tokenValidityHours: number;
}

export interface EstConfig {
  labels: Readonly<Record<string, EstLabelConfig>>;
}

/** RFC 7030 §3.2.2: a label is one path segment; ours are tame, and never an operation's name. */
const LABEL = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const OPERATIONS = new Set([
  'cacerts',
  'simpleenroll',
  'simplereenroll',
  'csrattrs',
  'serverkeygen',
  'fullcmc',
]);

const Pattern = z.string().superRefine((p, ctx) => {
  try {
    new RegExp(`^(?:${p.replaceAll('{cn}', 'x')})$`, 'u');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
  }
});

const Label = z.strictObject({
  profile: z.string().min(1).default('device'),
  issuer: z.string().min(1).optional(),
  credentials: z
    .array(z.enum(EST_CREDENTIAL_KINDS as unknown as [EstCredentialKind, ...EstCredentialKind[]]))
    .min(1)
    .default([...EST_CREDENTIAL_KINDS]),
  subject: Pattern.default('.+'),
  bootstrap: z
    .strictObject({
      subject: Pattern.default('.*'),
      caFiles: z.array(z.string().min(1)).max(16).default([]),
    })
    .prefault({}),
  channelBinding: z.enum(['off', 'require']).default('off'),
  serverKeygen: z.enum(['on', 'off']).default('on'),
  serverKeygenKeyType: z.enum(KEY_TYPES as unknown as [KeyType, ...KeyType[]]).default('ec-p256'),
  retryAfterSeconds: z.number().int().min(1).max(86_400).default(60),
  tokenValidityHours: z
    .number()
    .int()
    .min(1)
    .max(366 * 24)
    .default(168),
});

const Schema = z.strictObject({
  labels: z
    .record(
      z
        .string()
        .regex(LABEL, 'a label: lower-case letters, digits, ".", "_", "-" (one path segment)')
        .refine((l) => !OPERATIONS.has(l), 'an EST operation name cannot be a label'),
      Label,
    )
    .default({}),
});

function fail(path: readonly PropertyKey[], message: string): never {
  const p = ['est', ...path.map(String)].join('.');
  throw new CaError('bad-config', `config ${p}: ${message}`, { path: p });
}

/**
 * Validates the `est` section of a parsed CA configuration and fills in every default: the label
 * `default` exists; each label's profile exists, and its issuer is the profile's.
 */
export function parseEstConfig(ca: CaConfig): EstConfig {
  const r = Schema.safeParse(ca.est ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    if (issue.code === 'unrecognized_keys')
      fail([...issue.path, issue.keys[0]!], `unknown key "${issue.keys[0]}"`);
    fail(issue.path, issue.message);
  }
  const given = { default: Label.parse({}), ...r.data.labels };
  const labels: Record<string, EstLabelConfig> = {};
  for (const [name, l] of Object.entries(given)) {
    const profile = ca.profiles[l.profile];
    if (!profile) fail(['labels', name, 'profile'], `no profile "${l.profile}"`);
    if (l.issuer !== undefined && l.issuer !== profile.issuer)
      fail(
        ['labels', name, 'issuer'],
        `profile ${l.profile} issues from "${profile.issuer}", not "${l.issuer}"`,
      );
    labels[name] = Object.freeze({
      name,
      profile: l.profile,
      issuer: profile.issuer,
      credentials: l.credentials,
      subject: l.subject,
      bootstrapSubject: l.bootstrap.subject,
      bootstrapCaFiles: l.bootstrap.caFiles,
      channelBinding: l.channelBinding,
      serverKeygen: l.serverKeygen,
      serverKeygenKeyType: l.serverKeygenKeyType,
      retryAfterSeconds: l.retryAfterSeconds,
      tokenValidityHours: l.tokenValidityHours,
    });
  }
  return { labels };
}

/** True when `name` is a syntactically valid label (one path segment, not an operation). */
export function isEstLabel(name: string): boolean {
  return LABEL.test(name) && !OPERATIONS.has(name);
}

/** `pattern` anchored, with `{cn}` replaced by the escaped `cn`. */
export function subjectRegExp(pattern: string, cn = ''): RegExp {
  const escaped = cn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^(?:${pattern.replaceAll('{cn}', escaped)})$`, 'u');
}
