import { OID } from '../der/oid-names.js';
import type { KeyUsage } from '../x509/extensions/types.js';

/**
 * Issuance profiles: what a kind of certificate may contain and what the CA puts into it — policy
 * as data (the shape of `ProfileRules` in verify/policy.ts). The admin API lists them as they are;
 * `config.ts` validates them from YAML/JSON; `policy.ts` checks requests against them.
 *
 * Built-in profiles (each field can be replaced in the config file):
 *
 * | profile   | EKU                    | validity   | subject                        | SAN                         | who may ask        |
 * |-----------|------------------------|------------|--------------------------------|-----------------------------|--------------------|
 * | `device`  | clientAuth             | 30 days    | CN required (an identifier); O, OU, serialNumber | optional: dns, uri (urn:, spiffe:) | anyone authenticated |
 * | `server`  | serverAuth             | 90 days    | CN optional                    | required: dns, ip           | anyone authenticated |
 * | `service` | serverAuth             | 90 days    | CN optional                    | required: dns, ip           | `system`, `cli:*`  |
 * | `admin`   | clientAuth             | 365 days   | CN required                    | none                        | `system`, `cli:*`, `admin:*` |
 * | `claim`   | clientAuth             | 365 days   | CN `claim-<label>`             | none                        | `system`, `cli:*`  |
 * | `provisioner` | clientAuth         | 30 days    | CN `fleetpki-<name>`           | none                        | `system`           |
 *
 * `service` is the CA service's own TLS certificate; `admin` the admin API's client certificate;
 * `claim` a claim certificate of fleet provisioning over MQTT (provisioning-config.ts) and
 * `provisioner` the provisioning service's own MQTT client certificate. A device's CN becomes its
 * MQTT username (the broker's `use_identity_as_username`), so `device` refuses the prefixes of
 * those identities (`claim-`, `fleetpki-`): a device could otherwise take a claim's or the
 * service's broker permissions.
 */

/** Key types a profile may allow. `rsa` is any RSA size in [rsaMinBits, rsaMaxBits]. */
export type AllowedKeyType = 'ec-p256' | 'ec-p384' | 'ec-p521' | 'ed25519' | 'ed448' | 'rsa';
/** Every AllowedKeyType. */
export const ALLOWED_KEY_TYPES: readonly AllowedKeyType[] = [
  'ec-p256',
  'ec-p384',
  'ec-p521',
  'ed25519',
  'ed448',
  'rsa',
];

/** Subject attributes a profile can name, by their RFC 4514 / OpenSSL short names. */
export const SUBJECT_ATTRIBUTES: Readonly<Record<string, string>> = {
  CN: OID.commonName,
  O: OID.organizationName,
  OU: OID.organizationalUnitName,
  C: OID.countryName,
  L: OID.localityName,
  ST: OID.stateOrProvinceName,
  STREET: OID.streetAddress,
  postalCode: OID.postalCode,
  serialNumber: OID.serialNumber,
  DC: OID.domainComponent,
  UID: OID.userId,
  emailAddress: OID.emailAddress,
  title: OID.title,
  GN: OID.givenName,
  SN: OID.surname,
  pseudonym: OID.pseudonym,
};

/** One subject attribute's rule. Absent attributes are not allowed. */
export interface SubjectAttributeRule {
  /** The attribute must be present. */
  required: boolean;
  /** Every value must match this regular expression entirely (it is anchored for you). */
  pattern?: string;
  /** Most values of this attribute (default 1). */
  maxCount: number;
}

/** SubjectAltName entry types a profile can allow. */
export type SanType = 'dns' | 'ip' | 'uri' | 'email';
/** Every SanType. */
export const SAN_TYPES: readonly SanType[] = ['dns', 'ip', 'uri', 'email'];

/** A profile's subjectAltName rules. */
export interface SanRules {
  /** At least one entry is required (RFC 9525 §6.3: TLS server names come only from the SAN). */
  required: boolean;
  /** Most entries in one certificate. */
  maxEntries: number;
  /**
   * Allowed entries per type, as regular expressions matched against the whole text form:
   * `dns` lower-cased, `ip` as printed (`192.0.2.1`, `2001:db8::1`), `uri` and `email` as given.
   * A type without patterns is not allowed.
   */
  allow: Readonly<Record<SanType, readonly string[]>>;
}

/**
 * Rules every request of the profile is held to, each naming where it comes from. Defaults are
 * the strict choice; a profile may relax the ones that are not RFC requirements.
 */
export interface IssuanceRules {
  /**
   * RFC 5280 §6.1 (self-issued certificates) and §4.1.2.6: a subject equal to the issuing CA's
   * name makes the certificate look self-issued to path builders; refused.
   */
  subjectNotIssuer: true;
  /**
   * CA/B Forum BR §3.2.2.6: a wildcard dNSName (`*.example.com`) is `forbid`den, or allowed
   * (`allow`) except over a public suffix (`*.com`, `*.co.uk`, or a bare `*`), which is always refused.
   */
  wildcards: 'forbid' | 'allow';
  /**
   * RFC 5280 §4.2.1.6 and RFC 3986 §3.1: URI names must be absolute with a scheme from this list
   * (lower case). Script and data schemes (`javascript:`, `data:`, `vbscript:`, `file:`) are never allowed.
   */
  uriSchemes: readonly string[];
  /** RFC 5280 §4.2.1.10: the names must lie within the issuing CA chain's nameConstraints (checked before signing). */
  nameConstraints: 'enforce';
  /**
   * CA/B Forum BR §7.1.4.3: a commonName that reads as a DNS name or IP address must also be in
   * the subjectAltName (`require`), or is not checked (`off`).
   */
  commonNameInSan: 'require' | 'off';
  /** RFC 5280 §4.1.2.6: an empty subject (the SAN is then critical) is allowed only when `allow`. */
  emptySubject: 'forbid' | 'allow';
}

/** The RFC (or CA/B Forum) section behind each rule, for error details and the admin API. */
export const RULE_SECTIONS: Readonly<Record<string, string>> = {
  keyType: 'RFC 5280 §4.1.2.7; NIST SP 800-131A (RSA ≥ 2048)',
  weakKey: 'RFC 8017 §3.1 (RSA n odd, e odd ≥ 3); SEC 1 §3.2.2 (EC point on curve)',
  proofOfPossession: 'RFC 2986 §3; RFC 4211 §4',
  subject: 'RFC 5280 §4.1.2.6',
  subjectNotIssuer: 'RFC 5280 §6.1, §4.1.2.6',
  san: 'RFC 5280 §4.2.1.6',
  sanRequired: 'RFC 9525 §6.3',
  wildcards: 'CA/B Forum BR §3.2.2.6',
  uriSchemes: 'RFC 5280 §4.2.1.6; RFC 3986 §3.1',
  nameConstraints: 'RFC 5280 §4.2.1.10',
  commonNameInSan: 'CA/B Forum BR §7.1.4.3',
  emptySubject: 'RFC 5280 §4.1.2.6, §4.2.1.6',
  validity: 'RFC 5280 §4.1.2.5',
  lint: 'RFC 5280 §4 (issue/lint.ts)',
};

/** Names of the keyUsage bits (RFC 5280 §4.2.1.3). */
export type KeyUsageBit = keyof KeyUsage;

/** A resolved profile: every field filled in. */
export interface CaProfile {
  name: string;
  description: string;
  /** The issuing CA: an intermediate's id (its lineage: rotation keeps the id's stem, see hierarchy.ts). */
  issuer: string;
  keyTypes: readonly AllowedKeyType[];
  rsaMinBits: number;
  rsaMaxBits: number;
  /** Rules by attribute short name (keys of SUBJECT_ATTRIBUTES). */
  subject: Readonly<Record<string, SubjectAttributeRule>>;
  san: SanRules;
  /** Default validity. */
  validityDays: number;
  /** The longest validity a request may ask for. */
  maxValidityDays: number;
  /** keyUsage bits; undefined = by key type (digitalSignature, + keyEncipherment for RSA; issue/profiles.ts). */
  keyUsage?: readonly KeyUsageBit[];
  /** extKeyUsage: names (`clientAuth`, `serverAuth`, …) or OIDs; must contain clientAuth or serverAuth. */
  extKeyUsage: readonly string[];
  /** cRLDistributionPoints URLs (RFC 5280 §4.2.1.13); `{issuer}` is replaced by the issuer id. Empty = from `urls`. */
  crlDistributionPoints: readonly string[];
  /** authorityInfoAccess OCSP URLs (RFC 5280 §4.2.2.1). Empty = from `urls`. */
  ocsp: readonly string[];
  /** `manual`: a request is stored `pending` until an administrator approves or rejects it. */
  approval: 'auto' | 'manual';
  /** Requesters allowed to use the profile: exact ids or prefixes ending in `*` (`est:*`, `*`). */
  requesters: readonly string[];
  rules: IssuanceRules;
}

/** Extended key usage names accepted in profiles. */
export const EKU_NAMES: Readonly<Record<string, string>> = {
  serverAuth: OID.serverAuth,
  clientAuth: OID.clientAuth,
  codeSigning: OID.codeSigning,
  emailProtection: OID.emailProtection,
  timeStamping: OID.timeStampingEku,
};

/** The rules every profile starts from (the strict choices). */
export const DEFAULT_RULES: IssuanceRules = {
  subjectNotIssuer: true,
  wildcards: 'forbid',
  uriSchemes: ['https', 'urn', 'spiffe'],
  nameConstraints: 'enforce',
  commonNameInSan: 'require',
  emptySubject: 'forbid',
};

// A DNS host name (RFC 1123 §2.1 labels), matched lower-cased.
const DNS_NAME = '(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
// A device identifier: what fleets put in CN (serial numbers, MACs, UUIDs, hex ids).
const IDENTIFIER = '[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}';
const ANY_IP = '[0-9a-f.:]+';

const rule = (required: boolean, pattern?: string): SubjectAttributeRule => ({
  required,
  pattern,
  maxCount: 1,
});

const FREE_TEXT = '[^\\u0000-\\u001f\\u007f]{1,64}';
// A device identifier outside the name spaces of broker identities that are not devices.
const DEVICE_IDENTIFIER = `(?!claim-|fleetpki-)${IDENTIFIER}`;

/** The built-in profiles (see the table above); the config may replace their fields. */
export const BUILTIN_PROFILES: Readonly<Record<string, Omit<CaProfile, 'name' | 'issuer'>>> = {
  device: {
    description: 'IoT device client certificate (mTLS to brokers and APIs)',
    keyTypes: ['ec-p256', 'ec-p384', 'ed25519', 'rsa'],
    rsaMinBits: 2048,
    rsaMaxBits: 4096,
    subject: {
      CN: rule(true, DEVICE_IDENTIFIER),
      O: rule(false, FREE_TEXT),
      OU: rule(false, FREE_TEXT),
      serialNumber: rule(false, IDENTIFIER),
    },
    san: {
      required: false,
      maxEntries: 8,
      allow: {
        dns: [DNS_NAME],
        ip: [],
        uri: ['urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[^\\s]{1,200}', 'spiffe://[^\\s]{1,200}'],
        email: [],
      },
    },
    validityDays: 30,
    maxValidityDays: 90,
    extKeyUsage: ['clientAuth'],
    crlDistributionPoints: [],
    ocsp: [],
    approval: 'auto',
    requesters: ['*'],
    rules: DEFAULT_RULES,
  },
  server: {
    description: 'TLS server certificate (brokers, gateways)',
    keyTypes: ['ec-p256', 'ec-p384', 'ed25519', 'rsa'],
    rsaMinBits: 2048,
    rsaMaxBits: 4096,
    subject: {
      CN: rule(false, `${DNS_NAME}|${IDENTIFIER}`),
      O: rule(false, FREE_TEXT),
      OU: rule(false, FREE_TEXT),
    },
    san: { required: true, maxEntries: 32, allow: { dns: [DNS_NAME], ip: [ANY_IP], uri: [], email: [] } },
    validityDays: 90,
    maxValidityDays: 397,
    extKeyUsage: ['serverAuth'],
    crlDistributionPoints: [],
    ocsp: [],
    approval: 'auto',
    requesters: ['*'],
    rules: DEFAULT_RULES,
  },
  service: {
    description: "the CA service's own TLS certificate",
    keyTypes: ['ec-p256', 'ec-p384', 'rsa'],
    rsaMinBits: 2048,
    rsaMaxBits: 4096,
    subject: { CN: rule(false, `${DNS_NAME}|${IDENTIFIER}`), O: rule(false, FREE_TEXT) },
    san: { required: true, maxEntries: 32, allow: { dns: [DNS_NAME], ip: [ANY_IP], uri: [], email: [] } },
    validityDays: 90,
    maxValidityDays: 397,
    extKeyUsage: ['serverAuth'],
    crlDistributionPoints: [],
    ocsp: [],
    approval: 'auto',
    requesters: ['system', 'cli:*'],
    rules: DEFAULT_RULES,
  },
  admin: {
    description: 'admin API client certificate (mTLS)',
    keyTypes: ['ec-p256', 'ec-p384', 'ed25519', 'rsa'],
    rsaMinBits: 2048,
    rsaMaxBits: 4096,
    subject: { CN: rule(true, IDENTIFIER), O: rule(false, FREE_TEXT) },
    san: {
      required: false,
      maxEntries: 4,
      allow: { dns: [], ip: [], uri: [], email: ['[^@\\s]{1,64}@[^@\\s]{1,200}'] },
    },
    validityDays: 365,
    maxValidityDays: 825,
    extKeyUsage: ['clientAuth'],
    crlDistributionPoints: [],
    ocsp: [],
    approval: 'auto',
    requesters: ['system', 'cli:*', 'admin:*'],
    rules: DEFAULT_RULES,
  },
  claim: {
    description: 'claim certificate: connects a new device to the broker to provision its own certificate',
    keyTypes: ['ec-p256', 'ec-p384', 'ed25519', 'rsa'],
    rsaMinBits: 2048,
    rsaMaxBits: 4096,
    subject: { CN: rule(true, 'claim-[a-z0-9][a-z0-9-]{0,39}'), O: rule(false, FREE_TEXT) },
    san: { required: false, maxEntries: 1, allow: { dns: [], ip: [], uri: [], email: [] } },
    validityDays: 365,
    maxValidityDays: 3650,
    extKeyUsage: ['clientAuth'],
    crlDistributionPoints: [],
    ocsp: [],
    approval: 'auto',
    requesters: ['system', 'cli:*'],
    rules: DEFAULT_RULES,
  },
  provisioner: {
    description: "the provisioning service's MQTT client certificate",
    keyTypes: ['ec-p256', 'ec-p384'],
    rsaMinBits: 2048,
    rsaMaxBits: 4096,
    subject: { CN: rule(true, 'fleetpki-[a-z0-9-]{1,40}') },
    san: { required: false, maxEntries: 1, allow: { dns: [], ip: [], uri: [], email: [] } },
    validityDays: 30,
    maxValidityDays: 90,
    extKeyUsage: ['clientAuth'],
    crlDistributionPoints: [],
    ocsp: [],
    approval: 'auto',
    requesters: ['system'],
    rules: DEFAULT_RULES,
  },
};

/** True when `requester` matches one of the patterns (exact, or a prefix ending in `*`). */
export function requesterAllowed(patterns: readonly string[], requester: string): boolean {
  for (const p of patterns) {
    if (p.endsWith('*') ? requester.startsWith(p.slice(0, -1)) : requester === p) return true;
  }
  return false;
}

/** The extKeyUsage OIDs of a profile. */
export function ekuOids(p: Pick<CaProfile, 'extKeyUsage'>): string[] {
  return p.extKeyUsage.map((e) => EKU_NAMES[e] ?? e);
}
