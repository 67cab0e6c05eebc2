/**
 * Text rendering helpers for the CLI: hex in OpenSSL's colon form, times and durations, the
 * display names OpenSSL uses for extensions, key usages and access methods, and a small indented
 * line builder. Pure functions of their inputs (the current time is always passed in).
 */
import { toHex } from '../der/bytes.js';
import { OID, oidName } from '../der/oid-names.js';

// ---- hex ----

/** `aa:bb:cc` (lower case, as OpenSSL prints serials and key identifiers). */
export function colonHex(b: Uint8Array, upper = false): string {
  const h = toHex(b, ':');
  return upper ? h.toUpperCase() : h;
}

/** Colon hex split into lines of `perLine` bytes (OpenSSL prints 15 for keys and 18 for signatures). */
export function hexLines(b: Uint8Array, perLine = 18): string[] {
  const out: string[] = [];
  for (let i = 0; i < b.length; i += perLine) {
    const last = i + perLine >= b.length;
    out.push(toHex(b.subarray(i, i + perLine), ':') + (last ? '' : ':'));
  }
  if (out.length === 0) out.push('(empty)');
  return out;
}

/** Magnitude of an INTEGER's content octets (leading 00 sign octet removed). */
export function integerMagnitude(content: Uint8Array): Uint8Array {
  return content.length > 1 && content[0] === 0 ? content.subarray(1) : content;
}

/** An INTEGER's content as OpenSSL's colon hex of the magnitude; negative values get a '-' (two's complement decoded). */
export function serialColonHex(content: Uint8Array): string {
  if (content.length > 0 && content[0]! & 0x80) {
    // Two's complement → magnitude of the negative value.
    const mag = new Uint8Array(content.length);
    let carry = 1;
    for (let i = content.length - 1; i >= 0; i--) {
      const v = (~content[i]! & 0xff) + carry;
      mag[i] = v & 0xff;
      carry = v >> 8;
    }
    let s = 0;
    while (s < mag.length - 1 && mag[s] === 0) s++;
    return `-${colonHex(mag.subarray(s))}`;
  }
  return colonHex(integerMagnitude(content));
}

/** Decimal text of an INTEGER's content (two's complement), for small counters such as CRL numbers. */
export function integerDecimal(content: Uint8Array): string {
  let n = 0n;
  for (let i = 0; i < content.length; i++) n = (n << 8n) | BigInt(content[i]!);
  if (content.length > 0 && content[0]! & 0x80) n -= 1n << BigInt(content.length * 8);
  return n.toString();
}

// ---- time ----

/** `2024-05-01T12:00:00Z` (whole seconds: DER times carry no fractions). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration in the largest sensible unit: "23 days", "5 hours", "3284 days (~9.0 years)". */
export function humanDuration(ms: number): string {
  const a = Math.abs(ms);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (a < HOUR) return plural(Math.max(0, Math.floor(a / MINUTE)), 'minute');
  if (a < 2 * DAY) return plural(Math.floor(a / HOUR), 'hour');
  const days = Math.floor(a / DAY);
  if (days < 365) return plural(days, 'day');
  return `${plural(days, 'day')} (~${(days / 365.25).toFixed(1)} years)`;
}

export type ValidityStatus = 'valid' | 'expired' | 'not-yet-valid';

/** Where `now` falls in [notBefore, notAfter] (RFC 5280 §4.1.2.5: both ends inclusive). */
export function validityStatus(notBefore: number, notAfter: number, now: number): ValidityStatus {
  if (now < notBefore) return 'not-yet-valid';
  if (now > notAfter) return 'expired';
  return 'valid';
}

/** "expires in 23 days", "expired 3 days ago", "not valid for another 2 hours". */
export function validityPhrase(notBefore: number, notAfter: number, now: number): string {
  switch (validityStatus(notBefore, notAfter, now)) {
    case 'not-yet-valid':
      return `not valid for another ${humanDuration(notBefore - now)}`;
    case 'expired':
      return `expired ${humanDuration(now - notAfter)} ago`;
    case 'valid':
      return `expires in ${humanDuration(notAfter - now)}`;
  }
}

/** "next update in 6 days" / "next update overdue by 2 days" for CRLs. */
export function nextUpdatePhrase(nextUpdate: number, now: number): string {
  return now > nextUpdate
    ? `overdue by ${humanDuration(now - nextUpdate)}`
    : `due in ${humanDuration(nextUpdate - now)}`;
}

// ---- names OpenSSL prints ----

const EXTENSION_TITLES: Record<string, string> = {
  [OID.subjectDirectoryAttributes]: 'X509v3 Subject Directory Attributes',
  [OID.subjectKeyIdentifier]: 'X509v3 Subject Key Identifier',
  [OID.keyUsage]: 'X509v3 Key Usage',
  [OID.privateKeyUsagePeriod]: 'X509v3 Private Key Usage Period',
  [OID.subjectAltName]: 'X509v3 Subject Alternative Name',
  [OID.issuerAltName]: 'X509v3 Issuer Alternative Name',
  [OID.basicConstraints]: 'X509v3 Basic Constraints',
  [OID.cRLNumber]: 'X509v3 CRL Number',
  [OID.reasonCode]: 'X509v3 CRL Reason Code',
  [OID.holdInstructionCode]: 'Hold Instruction Code',
  [OID.invalidityDate]: 'Invalidity Date',
  [OID.deltaCRLIndicator]: 'X509v3 Delta CRL Indicator',
  [OID.issuingDistributionPoint]: 'X509v3 Issuing Distribution Point',
  [OID.certificateIssuer]: 'X509v3 Certificate Issuer',
  [OID.nameConstraints]: 'X509v3 Name Constraints',
  [OID.cRLDistributionPoints]: 'X509v3 CRL Distribution Points',
  [OID.certificatePolicies]: 'X509v3 Certificate Policies',
  [OID.policyMappings]: 'X509v3 Policy Mappings',
  [OID.authorityKeyIdentifier]: 'X509v3 Authority Key Identifier',
  [OID.policyConstraints]: 'X509v3 Policy Constraints',
  [OID.extKeyUsage]: 'X509v3 Extended Key Usage',
  [OID.freshestCRL]: 'X509v3 Freshest CRL',
  [OID.inhibitAnyPolicy]: 'X509v3 Inhibit Any Policy',
  [OID.authorityInfoAccess]: 'Authority Information Access',
  [OID.subjectInfoAccess]: 'Subject Information Access',
  [OID.signedCertificateTimestampList]: 'CT Precertificate SCTs',
  [OID.ctPrecertificatePoison]: 'CT Precertificate Poison',
  [OID.ocspNoCheck]: 'OCSP No Check',
  [OID.tlsFeature]: 'TLS Feature',
  [OID.netscapeCertType]: 'Netscape Cert Type',
  [OID.netscapeComment]: 'Netscape Comment',
};

/** Title of an extension as OpenSSL prints it, or the dotted OID for unknown ones. */
export function extensionTitle(oid: string): string {
  return EXTENSION_TITLES[oid] ?? oidName(oid) ?? oid;
}

/** KeyUsage bit names (RFC 5280 field names) → OpenSSL's words. */
export const KEY_USAGE_TITLES: Record<string, string> = {
  digitalSignature: 'Digital Signature',
  nonRepudiation: 'Non Repudiation',
  keyEncipherment: 'Key Encipherment',
  dataEncipherment: 'Data Encipherment',
  keyAgreement: 'Key Agreement',
  keyCertSign: 'Certificate Sign',
  cRLSign: 'CRL Sign',
  encipherOnly: 'Encipher Only',
  decipherOnly: 'Decipher Only',
};

const EKU_TITLES: Record<string, string> = {
  [OID.serverAuth]: 'TLS Web Server Authentication',
  [OID.clientAuth]: 'TLS Web Client Authentication',
  [OID.codeSigning]: 'Code Signing',
  [OID.emailProtection]: 'E-mail Protection',
  [OID.ipsecEndSystem]: 'IPSec End System',
  [OID.ipsecTunnel]: 'IPSec Tunnel',
  [OID.ipsecUser]: 'IPSec User',
  [OID.timeStampingEku]: 'Time Stamping',
  [OID.OCSPSigning]: 'OCSP Signing',
  [OID.anyExtendedKeyUsage]: 'Any Extended Key Usage',
  [OID.msServerGatedCrypto]: 'Microsoft Server Gated Crypto',
  [OID.nsServerGatedCrypto]: 'Netscape Server Gated Crypto',
  '1.3.6.1.4.1.311.10.3.4': 'Microsoft Encrypted File System',
  '1.3.6.1.4.1.311.20.2.2': 'Microsoft Smartcard Login',
  '1.3.6.1.5.5.7.3.17': 'ipsec Internet Key Exchange',
  '1.3.6.1.5.2.3.5': 'Signing KDC Response',
};

/** OpenSSL's long name of an extended key usage, or the dotted OID. */
export function ekuTitle(oid: string): string {
  return EKU_TITLES[oid] ?? oid;
}

const ACCESS_METHOD_TITLES: Record<string, string> = {
  [OID.ocsp]: 'OCSP',
  [OID.caIssuers]: 'CA Issuers',
  [OID.timeStamping]: 'Time Stamping',
  [OID.caRepository]: 'CA Repository',
};

export function accessMethodTitle(oid: string): string {
  return ACCESS_METHOD_TITLES[oid] ?? oid;
}

/** RFC 5280 §4.2.1.4 qualifier and policy names worth spelling out. */
export function policyTitle(oid: string): string {
  const known: Record<string, string> = {
    [OID.anyPolicy]: 'X509v3 Any Policy',
    '2.23.140.1.1': 'CA/B Forum EV',
    '2.23.140.1.2.1': 'CA/B Forum Domain Validated',
    '2.23.140.1.2.2': 'CA/B Forum Organization Validated',
    '2.23.140.1.2.3': 'CA/B Forum Individual Validated',
  };
  const k = known[oid];
  return k ? `${oid} (${k})` : oid;
}

/** A name for any OID: registered camelCase name, else the dotted form. */
export function oidLabel(oid: string): string {
  return oidName(oid) ?? oid;
}

// ---- text building ----

/** Accumulates indented lines. */
export class TextOut {
  readonly lines: string[] = [];
  private depth = 0;

  constructor(private readonly unit = '    ') {}

  line(s = ''): this {
    this.lines.push(s === '' ? '' : this.unit.repeat(this.depth) + s);
    return this;
  }

  /** A `key: value` line, or a `key:` heading followed by indented lines when given several. */
  field(key: string, value: string | readonly string[]): this {
    if (typeof value === 'string') return this.line(`${key}: ${value}`);
    if (value.length === 1) return this.line(`${key}: ${value[0]}`);
    this.line(`${key}:`);
    return this.indented(() => {
      for (const v of value) this.line(v);
    });
  }

  indented(fn: () => void): this {
    this.depth++;
    try {
      fn();
    } finally {
      this.depth--;
    }
    return this;
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
