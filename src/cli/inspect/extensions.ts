/**
 * `fleetpki inspect`: extensions as JSON values and as OpenSSL-like text.
 *
 * `extensionJson` turns one parsed extension (its typed value from the x509 registry, or its raw
 * bytes when no codec knows it) into a plain JSON value; `extensionText` renders text lines from
 * that JSON only, so `--json` and the text view always carry the same content.
 */
import { toHex } from '../../der/bytes.js';
import { OID } from '../../der/oid-names.js';
import { decodeString, STRING_TAGS } from '../../der/strings.js';
import type * as T from '../../x509/extensions/types.js';
import type { Extension } from '../../x509/extensions/types.js';
import { type GeneralName, ipToString } from '../../x509/general-name.js';
import { attributeShortName } from '../../x509/name.js';
import {
  accessMethodTitle,
  colonHex,
  ekuTitle,
  extensionTitle,
  isoTime,
  KEY_USAGE_TITLES,
  oidLabel,
  policyTitle,
  serialColonHex,
} from '../format.js';
import type { Json } from './schema.js';

// ---- JSON shapes (documented in inspect.ts) ----

export type { Json } from './schema.js';

/** One extension as JSON (schema.ts `ExtensionSchema`). */
export interface ExtensionJson {
  [k: string]: Json | undefined;
  oid: string;
  /** RFC 5280 / registry name (camelCase), or undefined for unknown OIDs. */
  name?: string | undefined;
  critical: boolean;
  /** Decoded value (shape per extension, see `valueJson`); absent for unknown extensions. */
  value?: Json;
  /** extnValue content as hex, only for extensions we do not decode. */
  raw?: string;
}

/** A GeneralName as JSON: `{type, value}`; raw forms carry `der` (hex); otherName its type-id. */
export function generalNameJson(g: GeneralName): Json {
  switch (g.type) {
    case 'dNSName':
    case 'rfc822Name':
    case 'uniformResourceIdentifier':
    case 'registeredID':
      return { type: g.type, value: g.value };
    case 'iPAddress':
      return { type: g.type, value: ipToString(g.value) };
    case 'directoryName':
      return { type: g.type, value: g.value.toString() };
    case 'otherName': {
      const text = tlvText(g.value);
      return text === undefined
        ? { type: g.type, typeId: g.typeId, value: toHex(g.value) }
        : { type: g.type, typeId: g.typeId, value: toHex(g.value), text };
    }
    case 'x400Address':
    case 'ediPartyName':
      return { type: g.type, der: toHex(g.der) };
  }
}

/** The text of a string-typed TLV (e.g. an otherName UPN), or undefined. */
function tlvText(tlv: Uint8Array): string | undefined {
  if (tlv.length < 2 || !STRING_TAGS.has(tlv[0]!)) return undefined;
  let len = tlv[1]!;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 2 || tlv.length < 2 + n) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + tlv[2 + i]!;
    hdr += n;
  }
  if (hdr + len !== tlv.length) return undefined;
  try {
    return decodeString(tlv[0]!, tlv.subarray(hdr));
  } catch {
    return undefined;
  }
}

const OTHER_NAME_TITLES: Record<string, string> = {
  [OID.upn]: 'UPN',
  [OID.smtpUTF8Mailbox]: 'SmtpUTF8Mailbox',
  [OID.permanentIdentifier]: 'Permanent Identifier',
  [OID.hardwareModuleName]: 'Hardware Module Name',
};

/** OpenSSL's prefixes: `DNS:`, `email:`, `URI:`, `IP Address:`, `DirName:`, `Registered ID:`, `othername:`. */
export function generalNameText(j: Json): string {
  const g = j as { type: string; value?: string; der?: string; typeId?: string; text?: string };
  switch (g.type) {
    case 'dNSName':
      return `DNS:${g.value}`;
    case 'rfc822Name':
      return `email:${g.value}`;
    case 'uniformResourceIdentifier':
      return `URI:${g.value}`;
    case 'iPAddress':
      return `IP Address:${g.value}`;
    case 'directoryName':
      return `DirName:${g.value}`;
    case 'registeredID':
      return `Registered ID:${oidLabel(g.value!)}`;
    case 'otherName': {
      const t = OTHER_NAME_TITLES[g.typeId!] ?? g.typeId;
      return `othername:${t}:${g.text ?? `#${g.value}`}`;
    }
    case 'x400Address':
      return `X400Name:#${g.der}`;
    default:
      return `EdiPartyName:#${g.der}`;
  }
}

const gnList = (v: readonly GeneralName[]): Json[] => v.map(generalNameJson);

function reasonsJson(r: T.ReasonFlags | undefined): Json[] | undefined {
  if (!r) return undefined;
  return Object.entries(r)
    .filter(([, on]) => on)
    .map(([k]) => k);
}

function dpNameJson(n: T.DistributionPointName | undefined): Json | undefined {
  if (!n) return undefined;
  if (n.fullName) return { fullName: gnList(n.fullName) };
  return {
    nameRelativeToCRLIssuer: n
      .nameRelativeToCRLIssuer!.map((a) => `${attributeShortName(a.type)}=${a.value}`)
      .join('+'),
  };
}

function distributionPointsJson(v: T.CRLDistributionPoints): Json {
  return v.map((dp) => ({
    distributionPoint: dpNameJson(dp.distributionPoint),
    reasons: reasonsJson(dp.reasons),
    cRLIssuer: dp.cRLIssuer ? gnList(dp.cRLIssuer) : undefined,
  }));
}

function userNoticeJson(u: T.UserNotice): Json {
  return {
    noticeRef: u.noticeRef
      ? { organization: u.noticeRef.organization, noticeNumbers: u.noticeRef.noticeNumbers }
      : undefined,
    explicitText: u.explicitText,
  };
}

function subtreesJson(s: readonly T.GeneralSubtree[] | undefined): Json[] | undefined {
  return s?.map((t) => ({ base: generalNameJson(t.base), minimum: t.minimum, maximum: t.maximum }));
}

/**
 * RFC 6962 §3.3: SignedCertificateTimestampList is a TLS `opaque<1..2^16-1>` of length-prefixed
 * SCTs; v1 SCT = version(1) logID(32) timestamp(8) extensions<0..2^16-1> hash(1) sig(1) signature<..>.
 * Decoded for display only; undefined when the blob does not follow that layout.
 */
export function decodeSctList(b: Uint8Array): Json[] | undefined {
  const u16 = (p: number) => (b[p]! << 8) | b[p + 1]!;
  if (b.length < 2 || u16(0) !== b.length - 2) return undefined;
  const out: Json[] = [];
  let p = 2;
  while (p < b.length) {
    if (p + 2 > b.length) return undefined;
    const len = u16(p);
    const end = p + 2 + len;
    if (end > b.length) return undefined;
    let q = p + 2;
    const version = b[q]!;
    if (version !== 0 || len < 1 + 32 + 8 + 2 + 2 + 2) {
      out.push({ version: version + 1, raw: toHex(b.subarray(p + 2, end)) });
      p = end;
      continue;
    }
    const logId = b.subarray(q + 1, q + 33);
    q += 33;
    let ts = 0;
    for (let i = 0; i < 8; i++) ts = ts * 256 + b[q + i]!;
    q += 8;
    const extLen = u16(q);
    q += 2 + extLen;
    if (q + 4 > end) return undefined;
    const hash = b[q]!;
    const sig = b[q + 1]!;
    const sigLen = u16(q + 2);
    if (q + 4 + sigLen !== end) return undefined;
    out.push({
      version: 1,
      logId: colonHex(logId, true),
      timestamp: Number.isSafeInteger(ts) ? isoTime(ts) : String(ts),
      signatureAlgorithm: `${TLS_HASH[hash] ?? `hash-${hash}`}-with-${TLS_SIG[sig] ?? `sig-${sig}`}`,
    });
    p = end;
  }
  return out;
}
const TLS_HASH: Record<number, string> = {
  1: 'md5',
  2: 'sha1',
  3: 'sha224',
  4: 'sha256',
  5: 'sha384',
  6: 'sha512',
};
const TLS_SIG: Record<number, string> = { 1: 'rsa', 2: 'dsa', 3: 'ecdsa' };

/** The JSON of a decoded extension value, by OID (undefined when we have no renderer for it). */
function valueJson(oid: string, v: unknown): Json | undefined {
  switch (oid) {
    case OID.basicConstraints: {
      const b = v as T.BasicConstraints;
      return { cA: b.cA, pathLenConstraint: b.pathLenConstraint };
    }
    case OID.keyUsage:
      return Object.entries(v as T.KeyUsage)
        .filter(([, on]) => on)
        .map(([k]) => k);
    case OID.extKeyUsage:
      return (v as T.ExtKeyUsage).map((oid) => ({
        oid,
        name: ekuTitle(oid) === oid ? undefined : ekuTitle(oid),
      }));
    case OID.subjectAltName:
    case OID.issuerAltName:
    case OID.certificateIssuer:
      return gnList(v as GeneralName[]);
    case OID.subjectKeyIdentifier:
      return colonHex(v as Uint8Array, true);
    case OID.authorityKeyIdentifier: {
      const a = v as T.AuthorityKeyIdentifier;
      return {
        keyIdentifier: a.keyIdentifier ? colonHex(a.keyIdentifier, true) : undefined,
        authorityCertIssuer: a.authorityCertIssuer ? gnList(a.authorityCertIssuer) : undefined,
        authorityCertSerialNumber: a.authorityCertSerialNumber
          ? serialColonHex(a.authorityCertSerialNumber)
          : undefined,
      };
    }
    case OID.nameConstraints: {
      const n = v as T.NameConstraints;
      return {
        permittedSubtrees: subtreesJson(n.permittedSubtrees),
        excludedSubtrees: subtreesJson(n.excludedSubtrees),
      };
    }
    case OID.certificatePolicies:
      return (v as T.CertificatePolicies).map((p) => ({
        policyIdentifier: p.policyIdentifier,
        policyQualifiers: p.policyQualifiers?.map((q) => {
          if (q.cpsUri !== undefined) return { policyQualifierId: 'cps', cpsUri: q.cpsUri };
          if (q.userNotice)
            return { policyQualifierId: 'userNotice', userNotice: userNoticeJson(q.userNotice) };
          return { policyQualifierId: q.policyQualifierId, qualifier: toHex(q.qualifier) };
        }),
      }));
    case OID.policyMappings:
      return (v as T.PolicyMappings).map((m) => ({
        issuerDomainPolicy: m.issuerDomainPolicy,
        subjectDomainPolicy: m.subjectDomainPolicy,
      }));
    case OID.policyConstraints: {
      const p = v as T.PolicyConstraints;
      return { requireExplicitPolicy: p.requireExplicitPolicy, inhibitPolicyMapping: p.inhibitPolicyMapping };
    }
    case OID.inhibitAnyPolicy:
      return v as number;
    case OID.cRLDistributionPoints:
    case OID.freshestCRL:
      return distributionPointsJson(v as T.CRLDistributionPoints);
    case OID.authorityInfoAccess:
    case OID.subjectInfoAccess:
      return (v as T.AuthorityInfoAccess).map((a) => ({
        accessMethod: a.accessMethod,
        accessLocation: generalNameJson(a.accessLocation),
      }));
    case OID.subjectDirectoryAttributes:
      return (v as T.SubjectDirectoryAttributes).map((a) => ({
        type: a.type,
        values: a.values.map((x) => toHex(x)),
      }));
    case OID.cRLNumber:
    case OID.deltaCRLIndicator:
      return (v as bigint).toString();
    case OID.issuingDistributionPoint: {
      const i = v as T.IssuingDistributionPoint;
      return {
        distributionPoint: dpNameJson(i.distributionPoint),
        onlyContainsUserCerts: i.onlyContainsUserCerts,
        onlyContainsCACerts: i.onlyContainsCACerts,
        onlySomeReasons: reasonsJson(i.onlySomeReasons),
        indirectCRL: i.indirectCRL,
        onlyContainsAttributeCerts: i.onlyContainsAttributeCerts,
      };
    }
    case OID.reasonCode:
      return v as string;
    case OID.invalidityDate:
      return isoTime(v as number);
    case OID.holdInstructionCode:
      return v as string;
    case OID.signedCertificateTimestampList: {
      const blob = v as Uint8Array;
      return { scts: decodeSctList(blob), raw: toHex(blob) };
    }
    case OID.ocspNoCheck:
      return true;
    default:
      return undefined;
  }
}

/**
 * One extension as JSON. `decoded` is the typed value from the parsed object (undefined when no
 * codec is registered for the OID, then the raw extnValue is shown).
 */
export function extensionJson(e: Extension, decoded: unknown): ExtensionJson {
  const name = oidLabel(e.oid) === e.oid ? undefined : oidLabel(e.oid);
  const value = decoded === undefined ? undefined : valueJson(e.oid, decoded);
  if (value === undefined) return { oid: e.oid, name, critical: e.critical, raw: toHex(e.value) };
  return { oid: e.oid, name, critical: e.critical, value };
}

// ---- text ----

type Obj = { [k: string]: Json | undefined };

function subtreeText(s: Obj): string {
  const base = generalNameText(s.base as Json);
  const range =
    (s.minimum as number) !== 0 || s.maximum !== undefined
      ? ` (min ${s.minimum}, max ${s.maximum ?? '∞'})`
      : '';
  return `${base}${range}`;
}

function dpText(dp: Obj, out: string[], pad = ''): void {
  const n = dp.distributionPoint as Obj | undefined;
  if (n?.fullName) {
    out.push(`${pad}Full Name:`);
    for (const g of n.fullName as Json[]) out.push(`${pad}  ${generalNameText(g)}`);
  } else if (n?.nameRelativeToCRLIssuer) out.push(`${pad}Relative Name: ${n.nameRelativeToCRLIssuer}`);
  if (dp.reasons) out.push(`${pad}Reasons: ${(dp.reasons as string[]).join(', ')}`);
  if (dp.onlySomeReasons) out.push(`${pad}Only Some Reasons: ${(dp.onlySomeReasons as string[]).join(', ')}`);
  if (dp.cRLIssuer) out.push(`${pad}CRL Issuer: ${(dp.cRLIssuer as Json[]).map(generalNameText).join(', ')}`);
}

/** Text lines (without indentation) for one extension's JSON, OpenSSL-style where OpenSSL has a style. */
export function extensionValueText(x: ExtensionJson): string[] {
  if (x.value === undefined)
    return [`<unknown extension, ${(x.raw?.length ?? 0) / 2} bytes>`, ...hexChunks(x.raw ?? '')];
  const v = x.value;
  switch (x.oid) {
    case OID.basicConstraints: {
      const b = v as Obj;
      return [
        `CA:${b.cA ? 'TRUE' : 'FALSE'}${b.pathLenConstraint !== undefined ? `, pathlen:${b.pathLenConstraint}` : ''}`,
      ];
    }
    case OID.keyUsage:
      return [(v as string[]).map((k) => KEY_USAGE_TITLES[k] ?? k).join(', ')];
    case OID.extKeyUsage:
      return [(v as Obj[]).map((e) => (e.name as string | undefined) ?? (e.oid as string)).join(', ')];
    case OID.subjectAltName:
    case OID.issuerAltName:
    case OID.certificateIssuer:
      return [(v as Json[]).map(generalNameText).join(', ')];
    case OID.subjectKeyIdentifier:
      return [v as string];
    case OID.authorityKeyIdentifier: {
      const a = v as Obj;
      const out: string[] = [];
      if (a.keyIdentifier) out.push(`keyid:${a.keyIdentifier}`);
      if (a.authorityCertIssuer)
        out.push(`${(a.authorityCertIssuer as Json[]).map(generalNameText).join(', ')}`);
      if (a.authorityCertSerialNumber) out.push(`serial:${a.authorityCertSerialNumber}`);
      return out;
    }
    case OID.nameConstraints: {
      const n = v as Obj;
      const out: string[] = [];
      if (n.permittedSubtrees) {
        out.push('Permitted:');
        for (const s of n.permittedSubtrees as Obj[]) out.push(`  ${subtreeText(s)}`);
      }
      if (n.excludedSubtrees) {
        out.push('Excluded:');
        for (const s of n.excludedSubtrees as Obj[]) out.push(`  ${subtreeText(s)}`);
      }
      return out;
    }
    case OID.certificatePolicies: {
      const out: string[] = [];
      for (const p of v as Obj[]) {
        out.push(`Policy: ${policyTitle(p.policyIdentifier as string)}`);
        for (const q of (p.policyQualifiers as Obj[] | undefined) ?? []) {
          if (q.cpsUri !== undefined) out.push(`  CPS: ${q.cpsUri}`);
          else if (q.userNotice) {
            const u = q.userNotice as Obj;
            out.push('  User Notice:');
            const ref = u.noticeRef as Obj | undefined;
            if (ref) {
              out.push(`    Organization: ${ref.organization}`);
              out.push(`    Notice Numbers: ${(ref.noticeNumbers as number[]).join(', ')}`);
            }
            if (u.explicitText !== undefined) out.push(`    Explicit Text: ${u.explicitText}`);
          } else out.push(`  ${q.policyQualifierId}: #${q.qualifier}`);
        }
      }
      return out;
    }
    case OID.policyMappings:
      return (v as Obj[]).map((m) => `${m.issuerDomainPolicy}:${m.subjectDomainPolicy}`);
    case OID.policyConstraints: {
      const p = v as Obj;
      const out: string[] = [];
      if (p.requireExplicitPolicy !== undefined)
        out.push(`Require Explicit Policy:${p.requireExplicitPolicy}`);
      if (p.inhibitPolicyMapping !== undefined) out.push(`Inhibit Policy Mapping:${p.inhibitPolicyMapping}`);
      return out;
    }
    case OID.inhibitAnyPolicy:
      return [String(v)];
    case OID.cRLDistributionPoints:
    case OID.freshestCRL: {
      const out: string[] = [];
      for (const dp of v as Obj[]) dpText(dp, out);
      return out;
    }
    case OID.authorityInfoAccess:
    case OID.subjectInfoAccess:
      return (v as Obj[]).map(
        (a) =>
          `${accessMethodTitle(a.accessMethod as string)} - ${generalNameText(a.accessLocation as Json)}`,
      );
    case OID.subjectDirectoryAttributes:
      return (v as Obj[]).map(
        (a) => `${oidLabel(a.type as string)}: ${(a.values as string[]).map((h) => `#${h}`).join(', ')}`,
      );
    case OID.cRLNumber:
    case OID.deltaCRLIndicator:
      return [v as string];
    case OID.issuingDistributionPoint: {
      const i = v as Obj;
      const out: string[] = [];
      dpText(i, out);
      for (const k of [
        'onlyContainsUserCerts',
        'onlyContainsCACerts',
        'indirectCRL',
        'onlyContainsAttributeCerts',
      ])
        if (i[k]) out.push(`${k}: TRUE`);
      return out.length ? out : ['(empty)'];
    }
    case OID.reasonCode:
    case OID.invalidityDate:
    case OID.holdInstructionCode:
      return [String(v)];
    case OID.signedCertificateTimestampList: {
      const s = v as Obj;
      const scts = s.scts as Obj[] | undefined;
      if (!scts) return ['<unparsed SCT list>', ...hexChunks(s.raw as string)];
      const out: string[] = [];
      for (const t of scts) {
        out.push(`Signed Certificate Timestamp (v${t.version}):`);
        if (t.logId !== undefined) {
          out.push(`  Log ID    : ${t.logId}`);
          out.push(`  Timestamp : ${t.timestamp}`);
          out.push(`  Signature : ${t.signatureAlgorithm}`);
        }
      }
      return out;
    }
    case OID.ocspNoCheck:
      return ['NULL'];
    default:
      return [JSON.stringify(v)];
  }
}

function hexChunks(hex: string, perLine = 18): string[] {
  const out: string[] = [];
  for (let i = 0; i < hex.length; i += perLine * 2) {
    const chunk = hex.slice(i, i + perLine * 2);
    out.push(chunk.replace(/(..)(?!$)/g, '$1:'));
  }
  return out;
}

/** Header line of an extension: "X509v3 Basic Constraints: critical". */
export function extensionHeading(x: ExtensionJson): string {
  const title = extensionTitle(x.oid);
  const shown = title === x.oid ? x.oid : `${title}`;
  return `${shown}:${x.critical ? ' critical' : ''}`;
}
