import { z } from 'zod';
import { CaError } from './errors.js';
import { type CaProfile, SAN_TYPES, type SanType, SUBJECT_ATTRIBUTES } from './profiles.js';

/**
 * The `provisioning` section of the CA configuration: fleet provisioning over MQTT with claim
 * certificates (src/provision/, docs/provisioning.md). It lives in the Authority's configuration so
 * that every part reading that file sees the same claims and templates: the provisioning service
 * (`serve --mqtt`), `claim create` (which labels exist), and `broker-config` (one ACL section per
 * claim identity, `provisionTopicLayout` in provision/acl.ts).
 *
 * ```yaml
 * provisioning:
 *   topicRoot: provisioning            # requests under provisioning/<claim>/request/…
 *   deviceRoot: devices                # each device's own tree: devices/<CN>/#
 *   rateLimit: { burst: 20, perMinute: 120 }
 *   claims:                            # label → claim identity claim-<label> (the claim certificate's CN)
 *     factory-a: { templates: [sensor] }
 *   templates:
 *     sensor:
 *       profile: device                # the Authority profile issued under (its own rules apply too)
 *       attributes:                    # device attributes a request may carry
 *         serialNumber: { required: true, pattern: "[A-Z0-9]{6,20}" }
 *       subject: { CN: "sensor-{serialNumber}" }      # CSR subject rules ({attr} = that attribute)
 *       san: { uri: ["urn:acme:sensor:{serialNumber}"] }
 *       allowList: { file: /etc/fleetpki/serials.txt, attribute: serialNumber }
 *       createKey: { keyType: ec-p256, subject: { CN: "sensor-{serialNumber}" } }   # the no-CSR variant
 * ```
 *
 * Patterns are regular expressions matched against the whole value; `{name}` stands for the value of
 * device attribute `name` (matched literally) and must name an attribute the template declares.
 * Every subject attribute the CSR carries must be listed (a string is a required attribute; an
 * object may make it optional); every SAN entry must match a pattern of its type.
 */

/** Prefix of every claim identity (the claim certificate's CN and MQTT username). */
export const CLAIM_PREFIX = 'claim-';
/** The Authority profile claim certificates are issued under (profiles.ts). */
export const CLAIM_PROFILE = 'claim';
/** The Authority profile of the provisioning service's own MQTT client certificate (profiles.ts). */
export const PROVISIONER_PROFILE = 'provisioner';

/** One device attribute a request may carry. */
export interface AttributeRule {
  required: boolean;
  /** Regular expression the whole value must match. */
  pattern: string;
}

/** A subject attribute's rule in a template: a pattern, required or not. */
export interface TemplateSubjectRule {
  pattern: string;
  required: boolean;
}

/** What the service generates for a device that cannot make a CSR (key returned once, never stored). */
export interface CreateKeyRule {
  keyType: 'ec-p256' | 'ec-p384' | 'ed25519';
  /** Subject attributes by short name (in this order, most significant first); `{attr}` substituted. */
  subject: Readonly<Record<string, string>>;
  /** SAN entries (`uri:…`, `dns:…`); `{attr}` substituted. */
  san: readonly string[];
}

/** A provisioning template: what a claim may ask for, and how the request is checked. */
export interface ProvisioningTemplate {
  name: string;
  /** Authority profile the certificate is issued under. */
  profile: string;
  /** Validity in days (default: the profile's). */
  validityDays?: number;
  attributes: Readonly<Record<string, AttributeRule>>;
  subject: Readonly<Record<string, TemplateSubjectRule>>;
  /** Allowed SAN patterns per type; a type without patterns is not allowed. */
  san: Readonly<Record<SanType, readonly string[]>>;
  /** A SAN entry is required. */
  sanRequired: boolean;
  /** Pre-provisioning allow-list: a file of serial numbers, one a line, and the attribute checked against it. */
  allowList?: { file: string; attribute: string };
  /** The "create key and certificate" variant, when allowed. */
  createKey?: CreateKeyRule;
}

/** Token bucket settings: `burst` requests at once, refilled at `perMinute`. */
export interface RateLimitConfig {
  burst: number;
  perMinute: number;
}

/** A claim label and what its identity may do. */
export interface ClaimConfig {
  label: string;
  /** `claim-<label>`: the claim certificates' CN, the MQTT username, the topic level. */
  identity: string;
  templates: readonly string[];
  rateLimit: RateLimitConfig;
}

/** The validated `provisioning` section. */
export interface ProvisioningConfig {
  topicRoot: string;
  deviceRoot: string;
  /** CN of the service's MQTT client certificate (its broker username). */
  serviceIdentity: string;
  /** Largest request payload accepted, bytes. */
  maxPayloadBytes: number;
  /** Requests handled at once; more are answered `busy`. */
  maxInFlight: number;
  /** Claim certificate validity (`claim create`), days. */
  claimValidityDays: number;
  claims: Readonly<Record<string, ClaimConfig>>;
  templates: Readonly<Record<string, ProvisioningTemplate>>;
}

const LABEL = /^[a-z0-9][a-z0-9-]{0,39}$/;
const NAME = /^[a-z][a-z0-9-]{0,39}$/;
const ATTR = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
/** One MQTT topic level or several, without wildcards (MQTT 3.1.1 §4.7). */
const TOPIC_ROOT = /^[A-Za-z0-9_-]{1,64}(\/[A-Za-z0-9_-]{1,64}){0,3}$/;
const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]{0,31})\}/g;

/** The names `{…}` placeholders in `text` refer to. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Escapes a value for literal use inside a regular expression. */
export function escapeRegExp(v: string): string {
  return v.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * `pattern` with each `{attr}` replaced by the attribute's value as a literal; undefined when a
 * placeholder names an attribute the request does not carry.
 */
export function expandPattern(pattern: string, attrs: Readonly<Record<string, string>>): RegExp | undefined {
  let missing = false;
  const src = pattern.replace(PLACEHOLDER, (_m, n: string) => {
    const v = attrs[n];
    if (v === undefined) missing = true;
    return v === undefined ? '' : escapeRegExp(v);
  });
  return missing ? undefined : new RegExp(`^(?:${src})$`, 'u');
}

/** `text` with each `{attr}` replaced by the attribute's value; undefined when one is missing. */
export function expandText(text: string, attrs: Readonly<Record<string, string>>): string | undefined {
  let missing = false;
  const out = text.replace(PLACEHOLDER, (_m, n: string) => {
    const v = attrs[n];
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? undefined : out;
}

const Pattern = z
  .string()
  .min(1)
  .max(512)
  .superRefine((p, ctx) => {
    try {
      new RegExp(`^(?:${p.replace(PLACEHOLDER, 'x')})$`, 'u');
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
    }
  });

const RateLimit = z.strictObject({
  burst: z.number().int().min(1).max(100_000),
  perMinute: z.number().min(0.001).max(6_000_000),
});

const SubjectRule = z.union([
  Pattern,
  z.strictObject({ pattern: Pattern, required: z.boolean().default(true) }),
]);

const Template = z.strictObject({
  profile: z.string().regex(NAME).default('device'),
  validityDays: z.number().int().min(1).max(36500).optional(),
  attributes: z
    .record(
      z.string().regex(ATTR, 'an attribute name: letters, digits, _'),
      z.strictObject({ required: z.boolean().default(false), pattern: Pattern }),
    )
    .default({}),
  subject: z.record(z.string(), SubjectRule).default({}),
  san: z
    .strictObject({
      required: z.boolean().default(false),
      dns: z.array(Pattern).max(16).default([]),
      ip: z.array(Pattern).max(16).default([]),
      uri: z.array(Pattern).max(16).default([]),
      email: z.array(Pattern).max(16).default([]),
    })
    .prefault({}),
  allowList: z
    .strictObject({ file: z.string().min(1).max(4096), attribute: z.string().regex(ATTR) })
    .optional(),
  createKey: z
    .strictObject({
      keyType: z.enum(['ec-p256', 'ec-p384', 'ed25519']).default('ec-p256'),
      subject: z.record(z.string(), z.string().min(1).max(256)),
      san: z.array(z.string().min(3).max(512)).max(8).default([]),
    })
    .optional(),
});

/** The zod schema of the `provisioning` section (config.ts embeds it). */
export const ProvisioningSchema = z.strictObject({
  topicRoot: z.string().regex(TOPIC_ROOT, 'topic levels of letters, digits, _ and -').default('provisioning'),
  deviceRoot: z.string().regex(TOPIC_ROOT, 'topic levels of letters, digits, _ and -').default('devices'),
  serviceIdentity: z
    .string()
    .regex(/^fleetpki-[a-z0-9-]{1,40}$/, 'fleetpki-<name> (the prefix is reserved: devices cannot take it)')
    .default('fleetpki-provisioning'),
  maxPayloadBytes: z.number().int().min(1024).max(1_048_576).default(16_384),
  maxInFlight: z.number().int().min(1).max(100_000).default(256),
  claimValidityDays: z.number().int().min(1).max(36500).default(365),
  rateLimit: RateLimit.default({ burst: 20, perMinute: 120 }),
  claims: z
    .record(
      z.string().regex(LABEL, 'a claim label: lower-case letters, digits, dashes (at most 40)'),
      z.strictObject({
        templates: z.array(z.string().regex(NAME)).min(1).max(64),
        rateLimit: RateLimit.optional(),
      }),
    )
    .default({}),
  templates: z
    .record(z.string().regex(NAME, 'a template name: lower-case letters, digits, dashes'), Template)
    .default({}),
});

type Parsed = z.infer<typeof ProvisioningSchema>;

function fail(path: readonly PropertyKey[], message: string): never {
  const p = ['provisioning', ...path].map(String).join('.');
  throw new CaError('bad-config', `config ${p}: ${message}`, { path: p });
}

/**
 * Checks what the schema cannot see alone (profiles exist and issue without approval, placeholders
 * name declared attributes, claims name existing templates) and fills in the derived fields.
 */
export function resolveProvisioning(
  c: Parsed,
  profiles: Readonly<Record<string, CaProfile>>,
): ProvisioningConfig {
  const templates: Record<string, ProvisioningTemplate> = {};
  for (const [name, t] of Object.entries(c.templates)) {
    const at = (...k: PropertyKey[]) => ['templates', name, ...k];
    const profile = profiles[t.profile];
    if (!profile) fail(at('profile'), `no profile "${t.profile}"`);
    if (profile.approval === 'manual')
      fail(at('profile'), 'a provisioning template cannot use a profile with manual approval');
    if (!profile.extKeyUsage.includes('clientAuth'))
      fail(at('profile'), 'the profile must include clientAuth (devices connect to the broker with it)');
    const declared = new Set(Object.keys(t.attributes));
    const uses = (text: string, path: PropertyKey[]) => {
      for (const n of placeholders(text))
        if (!declared.has(n)) fail(path, `{${n}} names no attribute of the template`);
    };
    const subject: Record<string, TemplateSubjectRule> = {};
    for (const [attr, r] of Object.entries(t.subject)) {
      if (!(attr in SUBJECT_ATTRIBUTES)) fail(at('subject', attr), 'unknown subject attribute');
      const rule = typeof r === 'string' ? { pattern: r, required: true } : r;
      uses(rule.pattern, at('subject', attr));
      subject[attr] = rule;
    }
    if (!Object.keys(subject).includes('CN'))
      fail(at('subject'), 'a CN rule is needed (the device identity: its MQTT username)');
    const san = {} as Record<SanType, readonly string[]>;
    for (const type of SAN_TYPES) {
      t.san[type].forEach((p, i) => {
        uses(p, at('san', type, i));
      });
      san[type] = t.san[type];
    }
    if (t.allowList && !declared.has(t.allowList.attribute))
      fail(at('allowList', 'attribute'), `"${t.allowList.attribute}" is not an attribute of the template`);
    if (t.createKey) {
      for (const [attr, v] of Object.entries(t.createKey.subject)) {
        if (!(attr in SUBJECT_ATTRIBUTES))
          fail(at('createKey', 'subject', attr), 'unknown subject attribute');
        if (!subject[attr])
          fail(at('createKey', 'subject', attr), 'not allowed by the template subject rules');
        uses(v, at('createKey', 'subject', attr));
      }
      t.createKey.san.forEach((s, i) => {
        if (!/^(dns|ip|uri|email):/.test(s)) fail(at('createKey', 'san', i), 'dns:…, ip:…, uri:… or email:…');
        uses(s, at('createKey', 'san', i));
      });
    }
    templates[name] = Object.freeze({
      name,
      profile: t.profile,
      validityDays: t.validityDays,
      attributes: t.attributes,
      subject,
      san,
      sanRequired: t.san.required,
      allowList: t.allowList,
      createKey: t.createKey,
    });
  }
  const claims: Record<string, ClaimConfig> = {};
  for (const [label, cl] of Object.entries(c.claims)) {
    cl.templates.forEach((t, i) => {
      if (!templates[t]) fail(['claims', label, 'templates', i], `no template "${t}"`);
    });
    claims[label] = Object.freeze({
      label,
      identity: `${CLAIM_PREFIX}${label}`,
      templates: cl.templates,
      rateLimit: cl.rateLimit ?? c.rateLimit,
    });
  }
  return {
    topicRoot: c.topicRoot,
    deviceRoot: c.deviceRoot,
    serviceIdentity: c.serviceIdentity,
    maxPayloadBytes: c.maxPayloadBytes,
    maxInFlight: c.maxInFlight,
    claimValidityDays: c.claimValidityDays,
    claims,
    templates,
  };
}

/** The claim of an MQTT username (`claim-<label>`), if the configuration declares it. */
export function claimOf(p: ProvisioningConfig, identity: string): ClaimConfig | undefined {
  if (!identity.startsWith(CLAIM_PREFIX)) return undefined;
  const label = identity.slice(CLAIM_PREFIX.length);
  return Object.hasOwn(p.claims, label) ? p.claims[label] : undefined;
}

/** The template of that name, if the configuration declares it (own properties only). */
export function templateOf(p: ProvisioningConfig, name: string): ProvisioningTemplate | undefined {
  return Object.hasOwn(p.templates, name) ? p.templates[name] : undefined;
}
