import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KEY_TYPES, type KeyType } from '../crypto/algorithms.js';
import { revocationUriProblem } from '../issue/revocation-info.js';
import { KEY_USAGE_BITS } from '../x509/extensions/key-usage.js';
import { parseSubtreeText } from './constraint-text.js';
import { CaError } from './errors.js';
import {
  ALLOWED_KEY_TYPES,
  BUILTIN_PROFILES,
  type CaProfile,
  DEFAULT_RULES,
  EKU_NAMES,
  SAN_TYPES,
  SUBJECT_ATTRIBUTES,
} from './profiles.js';
import { type ProvisioningConfig, ProvisioningSchema, resolveProvisioning } from './provisioning-config.js';

/**
 * The CA's configuration file (YAML or JSON), validated with zod. Unknown keys are rejected with
 * the path of the offending key (`CaError('bad-config', …, { path: 'profiles.device.subject.XX' })`),
 * so a typo never silently weakens the policy. Every field has a default: no file is needed to start.
 *
 * ```yaml
 * hierarchy:
 *   root: { subject: "CN=Acme Fleet Root CA,O=Acme", keyType: ec-p384, validityDays: 7300 }
 *   intermediates:
 *     - { id: devices, subject: "CN=Acme Devices CA,O=Acme", keyType: ec-p256, validityDays: 1825,
 *         nameConstraints: { permitted: ["dns:.fleet.acme.example"] } }
 *   defaultIssuer: devices
 * urls: { base: "https://pki.acme.example:8443" }      # → /crl/{issuer}.crl and /ocsp in certificates
 * profiles:
 *   device:                                              # fields given replace the built-in's
 *     issuer: devices
 *     keyTypes: [ec-p256, ed25519]
 *     subject: { CN: { required: true, pattern: "device-[0-9a-f]{16}" } }
 *     validityDays: 30
 *   sensor: { extKeyUsage: [clientAuth], approval: manual }   # a new profile starts from `device`
 * ```
 *
 * Regular expressions are matched against the whole value (anchored for you) and checked here,
 * when the file is loaded. A profile given in the file replaces the built-in profile's fields it
 * names (a shallow merge); a new profile name starts from the built-in `device` profile.
 */

/** `{ base }` fills in `{base}/crl/{issuer}.crl` and `{base}/ocsp`; explicit lists win. */
export interface UrlConfig {
  base?: string;
  crl: readonly string[];
  ocsp: readonly string[];
}

/** The root `Authority.init` creates. */
export interface RootConfig {
  id: string;
  subject: string;
  keyType: KeyType;
  validityDays: number;
}

/** An issuing intermediate `Authority.init` creates. */
export interface IntermediateConfig {
  id: string;
  subject: string;
  keyType: KeyType;
  validityDays: number;
  pathLenConstraint: number;
  /** GeneralName text (`dns:.example.com`, `ip:10.0.0.0/8`, `email:…`, `uri:…`, `dn:…`). */
  nameConstraints?: { permitted: readonly string[]; excluded: readonly string[] };
}

/** The validated configuration with every default filled in. */
export interface CaConfig {
  hierarchy: {
    root: RootConfig;
    intermediates: readonly IntermediateConfig[];
    /** The intermediate whose chain `/ca/chain.pem` serves and profiles default to. */
    defaultIssuer: string;
  };
  urls: UrlConfig;
  crl: {
    /** nextUpdate − thisUpdate (RFC 5280 §5.1.2.5). */
    validitySeconds: number;
    /** Scheduled republication interval; default half the validity. */
    refreshSeconds?: number;
    /** Republish on revocation/release, after `debounceMs`. */
    republishOnChange: boolean;
    debounceMs: number;
  };
  ocsp: {
    validitySeconds: number;
    /** How often each instance polls the store for status changes made by other instances. */
    pollIntervalMs: number;
    notIssued: 'unknown' | 'revoked';
    cacheSize: number;
  };
  recovery: {
    /** Reservations older than this are voided by the recovery pass (a crashed issuance). */
    graceMs: number;
    /** How often the recovery sweep runs while the Authority is open (0: only at open). */
    sweepIntervalMs: number;
  };
  profiles: Readonly<Record<string, CaProfile>>;
  /** Fleet provisioning over MQTT (provisioning-config.ts); absent when the file has no such section. */
  provisioning?: ProvisioningConfig;
  /** The `est` section as given (src/est/config.ts validates it). */
  est?: unknown;
}

const ID = /^[a-z][a-z0-9-]{0,30}$/;
const id = z.string().regex(ID, 'must be lower-case letters, digits and dashes, starting with a letter');
const keyType = z.enum(KEY_TYPES as unknown as [KeyType, ...KeyType[]]);
const days = z.number().int().min(1).max(36500);

const Pattern = z.string().superRefine((p, ctx) => {
  try {
    new RegExp(`^(?:${p})$`, 'u');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
  }
});

const Url = z.string().superRefine((u, ctx) => {
  const why = revocationUriProblem(u.replace('{issuer}', 'x'));
  if (why) ctx.addIssue({ code: 'custom', message: why });
});

const SubjectRule = z.strictObject({
  required: z.boolean().default(false),
  pattern: Pattern.optional(),
  maxCount: z.number().int().min(1).max(16).default(1),
});

const Subject = z.record(z.string(), SubjectRule).superRefine((s, ctx) => {
  for (const k of Object.keys(s))
    if (!(k in SUBJECT_ATTRIBUTES))
      ctx.addIssue({
        code: 'custom',
        path: [k],
        message: `unknown subject attribute (one of ${Object.keys(SUBJECT_ATTRIBUTES).join(', ')})`,
      });
});

const San = z.strictObject({
  required: z.boolean().default(false),
  maxEntries: z.number().int().min(1).max(100).default(8),
  allow: z
    .strictObject({
      dns: z.array(Pattern).max(64).default([]),
      ip: z.array(Pattern).max(64).default([]),
      uri: z.array(Pattern).max(64).default([]),
      email: z.array(Pattern).max(64).default([]),
    })
    .prefault({}),
});

const FORBIDDEN_SCHEMES = new Set(['javascript', 'data', 'vbscript', 'file']);

const Rules = z.strictObject({
  wildcards: z.enum(['forbid', 'allow']).optional(),
  uriSchemes: z
    .array(
      z
        .string()
        .regex(/^[a-z][a-z0-9+.-]*$/, 'a lower-case URI scheme')
        .refine((s) => !FORBIDDEN_SCHEMES.has(s), 'this scheme is never allowed'),
    )
    .optional(),
  commonNameInSan: z.enum(['require', 'off']).optional(),
  emptySubject: z.enum(['forbid', 'allow']).optional(),
});

const Profile = z.strictObject({
  description: z.string().max(200).optional(),
  issuer: id.optional(),
  keyTypes: z
    .array(z.enum(ALLOWED_KEY_TYPES as unknown as [string, ...string[]]))
    .min(1)
    .optional(),
  rsaMinBits: z.number().int().min(2048).max(16384).optional(),
  rsaMaxBits: z.number().int().min(2048).max(16384).optional(),
  subject: Subject.optional(),
  san: San.optional(),
  validityDays: days.optional(),
  maxValidityDays: days.optional(),
  keyUsage: z
    .array(z.enum(KEY_USAGE_BITS as unknown as [string, ...string[]]))
    .min(1)
    .optional(),
  extKeyUsage: z
    .array(
      z.string().refine((e) => e in EKU_NAMES || /^[0-2](\.[0-9]+)+$/.test(e), 'an EKU name or a dotted OID'),
    )
    .min(1)
    .optional(),
  crlDistributionPoints: z.array(Url).max(4).optional(),
  ocsp: z.array(Url).max(4).optional(),
  approval: z.enum(['auto', 'manual']).optional(),
  requesters: z.array(z.string().min(1).max(200)).min(1).optional(),
  rules: Rules.optional(),
});

const Subtree = z.string().superRefine((t, ctx) => {
  const r = parseSubtreeText(t);
  if ('why' in r) ctx.addIssue({ code: 'custom', message: r.why });
});

const NameConstraints = z.strictObject({
  permitted: z.array(Subtree).max(64).default([]),
  excluded: z.array(Subtree).max(64).default([]),
});

const Root = z.strictObject({
  id: id.default('root'),
  subject: z.string().min(3).default('CN=fleetpki Root CA'),
  keyType: keyType.default('ec-p384'),
  validityDays: days.default(7300),
});

const Intermediate = z.strictObject({
  id,
  subject: z.string().min(3),
  keyType: keyType.default('ec-p256'),
  validityDays: days.default(1825),
  pathLenConstraint: z.number().int().min(0).max(8).default(0),
  nameConstraints: NameConstraints.optional(),
});

const Schema = z.strictObject({
  hierarchy: z
    .strictObject({
      root: Root.prefault({}),
      intermediates: z
        .array(Intermediate)
        .min(1)
        .max(16)
        .default([
          {
            id: 'issuing',
            subject: 'CN=fleetpki Issuing CA',
            keyType: 'ec-p256',
            validityDays: 1825,
            pathLenConstraint: 0,
          },
        ]),
      defaultIssuer: id.optional(),
    })
    .prefault({}),
  urls: z
    .strictObject({
      base: z
        .string()
        .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'an http(s) URL')
        .optional(),
      crl: z.array(Url).max(4).default([]),
      ocsp: z.array(Url).max(4).default([]),
    })
    .prefault({}),
  crl: z
    .strictObject({
      validitySeconds: z
        .number()
        .int()
        .min(60)
        .max(366 * 86400)
        .default(86400),
      refreshSeconds: z.number().int().min(1).optional(),
      republishOnChange: z.boolean().default(true),
      debounceMs: z.number().int().min(0).max(600_000).default(1000),
    })
    .prefault({}),
  ocsp: z
    .strictObject({
      validitySeconds: z
        .number()
        .int()
        .min(60)
        .max(7 * 86400)
        .default(3600),
      pollIntervalMs: z.number().int().min(50).max(5000).default(2000),
      notIssued: z.enum(['unknown', 'revoked']).default('unknown'),
      cacheSize: z.number().int().min(0).max(10_000_000).default(100_000),
    })
    .prefault({}),
  recovery: z
    .strictObject({
      graceMs: z.number().int().min(0).default(30_000),
      sweepIntervalMs: z.number().int().min(0).default(15_000),
    })
    .prefault({}),
  profiles: z
    .record(z.string().regex(ID, 'a profile name: lower-case letters, digits, dashes'), Profile)
    .default({}),
  provisioning: ProvisioningSchema.optional(),
  // Sections of the layers above the CA, kept as given and validated (strictly) by their owner:
  // `est` by src/est/config.ts when the EST routes are mounted.
  est: z.unknown().optional(),
});

type Parsed = z.infer<typeof Schema>;

function fail(path: readonly PropertyKey[], message: string): never {
  const p = path.map(String).join('.');
  throw new CaError('bad-config', `config ${p || '(root)'}: ${message}`, { path: p });
}

/**
 * Validates a configuration object (from YAML/JSON, or built in code) and fills in every default.
 * Throws `CaError('bad-config')` naming the first offending key in `details.path`.
 */
export function parseConfig(input: unknown = {}): CaConfig {
  const r = Schema.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    if (issue.code === 'unrecognized_keys')
      fail([...issue.path, issue.keys[0]!], `unknown key "${issue.keys[0]}"`);
    fail(issue.path, issue.message);
  }
  return resolve(r.data);
}

/** Reads a YAML or JSON config file (YAML is a superset of JSON) and validates it. */
export function loadConfig(path: string): CaConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CaError('bad-config', `cannot read config file ${path}: ${(e as Error).message}`, {
      path: '',
    });
  }
  let data: unknown;
  try {
    // A plain-data YAML subset: no custom tags, bounded alias expansion (billion-laughs).
    data = parseYaml(text, { maxAliasCount: 100, prettyErrors: true });
  } catch (e) {
    throw new CaError('bad-config', `${path}: not valid YAML/JSON: ${(e as Error).message}`, { path: '' });
  }
  return parseConfig(data ?? {});
}

function resolve(c: Parsed): CaConfig {
  const ints = c.hierarchy.intermediates;
  const ids = new Set<string>([c.hierarchy.root.id]);
  ints.forEach((i, n) => {
    if (ids.has(i.id)) fail(['hierarchy', 'intermediates', n, 'id'], `duplicate issuer id "${i.id}"`);
    if (/-g[0-9]+$/.test(i.id))
      fail(['hierarchy', 'intermediates', n, 'id'], 'the suffix -g<N> is reserved for rotated generations');
    ids.add(i.id);
  });
  const defaultIssuer = c.hierarchy.defaultIssuer ?? ints[0]!.id;
  if (!ints.some((i) => i.id === defaultIssuer))
    fail(['hierarchy', 'defaultIssuer'], `"${defaultIssuer}" is not one of the intermediates`);

  const base = c.urls.base?.replace(/\/+$/, '');
  const urls: UrlConfig = {
    base,
    crl: c.urls.crl.length ? c.urls.crl : base ? [`${base}/crl/{issuer}.crl`] : [],
    ocsp: c.urls.ocsp.length ? c.urls.ocsp : base ? [`${base}/ocsp`] : [],
  };

  const profiles: Record<string, CaProfile> = {};
  const names = new Set([...Object.keys(BUILTIN_PROFILES), ...Object.keys(c.profiles)]);
  for (const name of names) {
    const given = c.profiles[name] ?? {};
    const builtin = BUILTIN_PROFILES[name] ?? BUILTIN_PROFILES.device!;
    const at = (k: string) => ['profiles', name, k];
    // An imported intermediate (Authority.importIssuer) is not in `hierarchy`; the Authority warns
    // at open about a profile whose issuer the store does not hold.
    const issuer = given.issuer ?? defaultIssuer;
    const p: CaProfile = {
      name,
      description: given.description ?? (BUILTIN_PROFILES[name] ? builtin.description : name),
      issuer,
      keyTypes: (given.keyTypes as CaProfile['keyTypes'] | undefined) ?? builtin.keyTypes,
      rsaMinBits: given.rsaMinBits ?? builtin.rsaMinBits,
      rsaMaxBits: given.rsaMaxBits ?? builtin.rsaMaxBits,
      subject: given.subject ?? builtin.subject,
      san: given.san ?? builtin.san,
      validityDays: given.validityDays ?? builtin.validityDays,
      maxValidityDays: given.maxValidityDays ?? Math.max(builtin.maxValidityDays, given.validityDays ?? 0),
      keyUsage: (given.keyUsage as CaProfile['keyUsage']) ?? builtin.keyUsage,
      extKeyUsage: given.extKeyUsage ?? builtin.extKeyUsage,
      crlDistributionPoints: given.crlDistributionPoints ?? builtin.crlDistributionPoints,
      ocsp: given.ocsp ?? builtin.ocsp,
      approval: given.approval ?? builtin.approval,
      requesters: given.requesters ?? builtin.requesters,
      rules: { ...DEFAULT_RULES, ...builtin.rules, ...stripUndefined(given.rules ?? {}) },
    };
    if (p.rsaMinBits > p.rsaMaxBits) fail(at('rsaMinBits'), 'rsaMinBits is above rsaMaxBits');
    if (p.validityDays > p.maxValidityDays) fail(at('validityDays'), 'validityDays is above maxValidityDays');
    if (!p.extKeyUsage.some((e) => e === 'clientAuth' || e === 'serverAuth'))
      fail(at('extKeyUsage'), 'must contain clientAuth or serverAuth (this CA issues TLS certificates)');
    for (const t of SAN_TYPES) if (!(t in p.san.allow)) fail(at('san'), `san.allow.${t} missing`);
    if (p.san.required && SAN_TYPES.every((t) => p.san.allow[t].length === 0))
      fail(at('san'), 'a SAN is required but no SAN type is allowed');
    profiles[name] = Object.freeze(p);
  }
  return {
    hierarchy: {
      root: c.hierarchy.root,
      intermediates: ints.map((i) =>
        i.nameConstraints
          ? { ...i, nameConstraints: i.nameConstraints }
          : { ...i, nameConstraints: undefined },
      ),
      defaultIssuer,
    },
    urls,
    crl: c.crl,
    ocsp: c.ocsp,
    recovery: c.recovery,
    profiles,
    provisioning: c.provisioning ? resolveProvisioning(c.provisioning, profiles) : undefined,
    ...(c.est === undefined ? {} : { est: c.est }),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
