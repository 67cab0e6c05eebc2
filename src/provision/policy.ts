import { sanEntry } from '../ca/policy.js';
import { SUBJECT_ATTRIBUTES } from '../ca/profiles.js';
import { expandPattern, expandText, type ProvisioningTemplate } from '../ca/provisioning-config.js';
import type { GeneralName } from '../x509/general-name.js';
import { Name } from '../x509/name.js';
import { ProvisionError } from './errors.js';

/**
 * A provisioning template's policy (ca/provisioning-config.ts) applied to one request, before the
 * Authority sees it (whose profile rules apply afterwards, again): the device attributes, the
 * CSR's subject and subjectAltName against the template's patterns — `{attr}` in a pattern is the
 * request's attribute value, matched literally, so `CN: "sensor-{serialNumber}"` ties the identity
 * to the serial number the allow-list checks. Each refusal is a `ProvisionError` with the code of
 * its answer.
 */

const SHORT_BY_OID = new Map(Object.entries(SUBJECT_ATTRIBUTES).map(([short, oid]) => [oid, short]));

/** Required attributes are present; every attribute is declared and matches its pattern. */
export function checkAttributes(t: ProvisioningTemplate, attrs: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(attrs)) {
    const rule = Object.hasOwn(t.attributes, name) ? t.attributes[name] : undefined;
    if (!rule) throw new ProvisionError('bad-attribute', `template ${t.name} has no attribute "${name}"`);
    if (!new RegExp(`^(?:${rule.pattern})$`, 'u').test(value))
      throw new ProvisionError('bad-attribute', `attribute ${name} does not match the template's pattern`);
  }
  for (const [name, rule] of Object.entries(t.attributes))
    if (rule.required && !Object.hasOwn(attrs, name))
      throw new ProvisionError('missing-attribute', `template ${t.name} requires attribute "${name}"`);
}

/** The subject's attributes are the template's, each once, each matching its (expanded) pattern. */
export function checkSubject(
  t: ProvisioningTemplate,
  attrs: Readonly<Record<string, string>>,
  subject: Name,
): void {
  const seen = new Set<string>();
  for (const rdn of subject.rdns)
    for (const a of rdn) {
      const short = SHORT_BY_OID.get(a.type) ?? a.type;
      const rule = Object.hasOwn(t.subject, short) ? t.subject[short] : undefined;
      if (!rule)
        throw new ProvisionError(
          'subject-not-allowed',
          `subject attribute ${short} is not allowed by template ${t.name}`,
        );
      if (seen.has(short))
        throw new ProvisionError('subject-not-allowed', `subject attribute ${short} appears twice`);
      seen.add(short);
      const re = expandPattern(rule.pattern, attrs);
      if (!re)
        throw new ProvisionError(
          'subject-not-allowed',
          `subject rule for ${short} needs an attribute the request lacks`,
        );
      if (!re.test(a.value))
        throw new ProvisionError(
          'subject-not-allowed',
          `subject ${short}="${a.value.slice(0, 64)}" is outside template ${t.name}`,
        );
    }
  for (const [short, rule] of Object.entries(t.subject))
    if (rule.required && !seen.has(short))
      throw new ProvisionError(
        'subject-not-allowed',
        `template ${t.name} requires subject attribute ${short}`,
      );
}

/** Every SAN entry matches one of the template's (expanded) patterns of its type. */
export function checkSan(
  t: ProvisioningTemplate,
  attrs: Readonly<Record<string, string>>,
  sans: readonly GeneralName[],
): void {
  if (t.sanRequired && sans.length === 0)
    throw new ProvisionError('san-not-allowed', `template ${t.name} requires a subjectAltName`);
  if (sans.length > 16) throw new ProvisionError('san-not-allowed', 'more than 16 subjectAltName entries');
  for (const g of sans) {
    const text = sanEntry(g);
    const colon = text.indexOf(':');
    const type = text.slice(0, colon) as 'dns' | 'ip' | 'uri' | 'email';
    const value = text.slice(colon + 1);
    const patterns = (t.san as Record<string, readonly string[] | undefined>)[type] ?? [];
    // DNS names compare case-insensitively (RFC 4343); the other types as written.
    const ok = patterns.some((p) => {
      const re = expandPattern(p, attrs);
      return re !== undefined && (type === 'dns' ? new RegExp(re.source, 'iu') : re).test(value);
    });
    if (!ok)
      throw new ProvisionError(
        'san-not-allowed',
        `subjectAltName ${text.slice(0, 128)} is outside template ${t.name}`,
      );
  }
}

/**
 * The subject and SAN of a "create key" request, from the template's `createKey` with the
 * request's attributes substituted (checked afterwards like a CSR's: `checkSubject`, `checkSan`).
 */
export function createKeyNames(
  t: ProvisioningTemplate,
  attrs: Readonly<Record<string, string>>,
): { subject: Name; san: string[] } {
  const ck = t.createKey;
  if (!ck) throw new ProvisionError('create-key-not-allowed', `template ${t.name} does not create keys`);
  const rdns: { type: string; value: string }[][] = [];
  for (const [short, text] of Object.entries(ck.subject)) {
    const value = expandText(text, attrs);
    if (value === undefined)
      throw new ProvisionError(
        'missing-attribute',
        `template ${t.name} needs the attributes named in ${short}`,
      );
    rdns.push([{ type: SUBJECT_ATTRIBUTES[short]!, value }]);
  }
  const san: string[] = [];
  for (const s of ck.san) {
    const v = expandText(s, attrs);
    if (v === undefined)
      throw new ProvisionError('missing-attribute', `template ${t.name} needs the attributes named in ${s}`);
    san.push(v);
  }
  return { subject: Name.fromRdns(rdns), san };
}

/** Prefixes of broker identities that are not devices (claims, fleetpki's own services). */
const RESERVED_PREFIXES = ['claim-', 'fleetpki-'];

/**
 * The device's CN becomes its MQTT username and the level of its own topic tree (the broker's
 * `use_identity_as_username` and the ACL pattern `<deviceRoot>/%u/#`): it must be one topic level
 * without wildcards (MQTT 3.1.1 §4.7; Mosquitto substitutes `%u` verbatim) and outside the names
 * of claims and services. Returns the CN.
 */
export function checkDeviceIdentity(subject: Name): string {
  const cns = subject.get(SUBJECT_ATTRIBUTES.CN!);
  const cn = cns[0];
  if (cns.length !== 1 || cn === undefined)
    throw new ProvisionError('subject-not-allowed', 'the subject needs exactly one CN (the device identity)');
  if (!/^[^\s/+#\p{Cc}]{1,128}$/u.test(cn))
    throw new ProvisionError(
      'subject-not-allowed',
      'the CN must be one MQTT topic level (no /, +, #, spaces or controls)',
    );
  if (RESERVED_PREFIXES.some((p) => cn.startsWith(p)))
    throw new ProvisionError(
      'subject-not-allowed',
      `the CN may not start with ${RESERVED_PREFIXES.join(' or ')}`,
    );
  return cn;
}
