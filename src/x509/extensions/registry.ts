import { DerError } from '../../der/errors.js';
import { OID } from '../../der/oid-names.js';
import { X509Error } from '../errors.js';
import { encodeAuthorityInfoAccess, parseAuthorityInfoAccess } from './authority-info-access.js';
import { encodeAuthorityKeyIdentifier, parseAuthorityKeyIdentifier } from './authority-key-identifier.js';
import { encodeBasicConstraints, parseBasicConstraints } from './basic-constraints.js';
import { encodeCertificateIssuer, parseCertificateIssuer } from './certificate-issuer.js';
import { encodeCertificatePolicies, parseCertificatePolicies } from './certificate-policies.js';
import { encodeCRLDistributionPoints, parseCRLDistributionPoints } from './crl-distribution-points.js';
import { encodeCRLNumber, parseCRLNumber } from './crl-number.js';
import { encodeDeltaCRLIndicator, parseDeltaCRLIndicator } from './delta-crl-indicator.js';
import { encodeExtKeyUsage, parseExtKeyUsage } from './ext-key-usage.js';
import { encodeFreshestCRL, parseFreshestCRL } from './freshest-crl.js';
import { encodeHoldInstructionCode, parseHoldInstructionCode } from './hold-instruction-code.js';
import { encodeInhibitAnyPolicy, parseInhibitAnyPolicy } from './inhibit-any-policy.js';
import { encodeInvalidityDate, parseInvalidityDate } from './invalidity-date.js';
import { encodeIssuerAltName, parseIssuerAltName } from './issuer-alt-name.js';
import {
  encodeIssuingDistributionPoint,
  parseIssuingDistributionPoint,
} from './issuing-distribution-point.js';
import { encodeKeyUsage, parseKeyUsage } from './key-usage.js';
import { encodeNameConstraints, parseNameConstraints } from './name-constraints.js';
import { encodeOcspNoCheck, parseOcspNoCheck } from './ocsp-no-check.js';
import { encodePolicyConstraints, parsePolicyConstraints } from './policy-constraints.js';
import { encodePolicyMappings, parsePolicyMappings } from './policy-mappings.js';
import { encodeReasonCode, parseReasonCode } from './reason-code.js';
import { encodeSignedCertificateTimestampList, parseSignedCertificateTimestampList } from './sct-list.js';
import { encodeSubjectAltName, parseSubjectAltName } from './subject-alt-name.js';
import {
  encodeSubjectDirectoryAttributes,
  parseSubjectDirectoryAttributes,
} from './subject-directory-attributes.js';
import { encodeSubjectInfoAccess, parseSubjectInfoAccess } from './subject-info-access.js';
import { encodeSubjectKeyIdentifier, parseSubjectKeyIdentifier } from './subject-key-identifier.js';
import type { Extension } from './types.js';

/**
 * The table of extensions we decode. A codec turns an extnValue into its typed value and back.
 * Unknown extensions stay raw (with their critical flag); decoding a known one that is malformed
 * is an `X509Error('bad-extension')` naming the extension and the offset.
 */
export interface ExtensionCodec<T = unknown> {
  readonly oid: string;
  /** RFC name, e.g. "basicConstraints". */
  readonly name: string;
  /** Decodes extnValue content. `offset` is the absolute offset of the content (for errors). */
  readonly parse: (value: Uint8Array, offset: number) => T;
  /** Encodes the typed value as extnValue content. */
  readonly encode: (v: T) => Uint8Array;
}

function codec<T>(
  oid: string,
  name: string,
  parse: (value: Uint8Array, offset: number) => T,
  encode: (v: T) => Uint8Array,
): ExtensionCodec {
  return Object.freeze({ oid, name, parse, encode }) as ExtensionCodec;
}

// A closed table, fixed when this module loads: path validation trusts what these codecs return
// (basicConstraints, nameConstraints, policies…), so no other code in the process may register or
// replace one. The map is private to this module and every codec object is frozen.
const CODECS: ReadonlyMap<string, ExtensionCodec> = new Map(
  [
    codec(
      OID.authorityInfoAccess,
      'authorityInfoAccess',
      parseAuthorityInfoAccess,
      encodeAuthorityInfoAccess,
    ),
    codec(
      OID.authorityKeyIdentifier,
      'authorityKeyIdentifier',
      parseAuthorityKeyIdentifier,
      encodeAuthorityKeyIdentifier,
    ),
    codec(OID.basicConstraints, 'basicConstraints', parseBasicConstraints, encodeBasicConstraints),
    codec(OID.certificateIssuer, 'certificateIssuer', parseCertificateIssuer, encodeCertificateIssuer),
    codec(
      OID.certificatePolicies,
      'certificatePolicies',
      parseCertificatePolicies,
      encodeCertificatePolicies,
    ),
    codec(
      OID.cRLDistributionPoints,
      'cRLDistributionPoints',
      parseCRLDistributionPoints,
      encodeCRLDistributionPoints,
    ),
    codec(OID.cRLNumber, 'cRLNumber', parseCRLNumber, encodeCRLNumber),
    codec(OID.deltaCRLIndicator, 'deltaCRLIndicator', parseDeltaCRLIndicator, encodeDeltaCRLIndicator),
    codec(OID.extKeyUsage, 'extKeyUsage', parseExtKeyUsage, encodeExtKeyUsage),
    codec(OID.freshestCRL, 'freshestCRL', parseFreshestCRL, encodeFreshestCRL),
    codec(
      OID.holdInstructionCode,
      'holdInstructionCode',
      parseHoldInstructionCode,
      encodeHoldInstructionCode,
    ),
    codec(OID.inhibitAnyPolicy, 'inhibitAnyPolicy', parseInhibitAnyPolicy, encodeInhibitAnyPolicy),
    codec(OID.invalidityDate, 'invalidityDate', parseInvalidityDate, encodeInvalidityDate),
    codec(OID.issuerAltName, 'issuerAltName', parseIssuerAltName, encodeIssuerAltName),
    codec(
      OID.issuingDistributionPoint,
      'issuingDistributionPoint',
      parseIssuingDistributionPoint,
      encodeIssuingDistributionPoint,
    ),
    codec(OID.keyUsage, 'keyUsage', parseKeyUsage, encodeKeyUsage),
    codec(OID.nameConstraints, 'nameConstraints', parseNameConstraints, encodeNameConstraints),
    codec(OID.ocspNoCheck, 'ocspNoCheck', parseOcspNoCheck, encodeOcspNoCheck),
    codec(OID.policyConstraints, 'policyConstraints', parsePolicyConstraints, encodePolicyConstraints),
    codec(OID.policyMappings, 'policyMappings', parsePolicyMappings, encodePolicyMappings),
    codec(OID.reasonCode, 'reasonCode', parseReasonCode, encodeReasonCode),
    codec(
      OID.signedCertificateTimestampList,
      'signedCertificateTimestampList',
      parseSignedCertificateTimestampList,
      encodeSignedCertificateTimestampList,
    ),
    codec(OID.subjectAltName, 'subjectAltName', parseSubjectAltName, encodeSubjectAltName),
    codec(
      OID.subjectDirectoryAttributes,
      'subjectDirectoryAttributes',
      parseSubjectDirectoryAttributes,
      encodeSubjectDirectoryAttributes,
    ),
    codec(OID.subjectInfoAccess, 'subjectInfoAccess', parseSubjectInfoAccess, encodeSubjectInfoAccess),
    codec(
      OID.subjectKeyIdentifier,
      'subjectKeyIdentifier',
      parseSubjectKeyIdentifier,
      encodeSubjectKeyIdentifier,
    ),
  ].map((c) => [c.oid, c]),
);

/** The codec for `oid`, or undefined for an extension we keep raw. The codec object is frozen. */
export function extensionCodec(oid: string): ExtensionCodec | undefined {
  return CODECS.get(oid);
}

/** The RFC name of a known extension ("basicConstraints"), or undefined. */
export function extensionName(oid: string): string | undefined {
  return CODECS.get(oid)?.name;
}

/** Decodes a known extension; undefined for unknown OIDs. Malformed → X509Error bad-extension. */
export function decodeExtension(ext: Extension, offset = 0): unknown {
  const c = CODECS.get(ext.oid);
  if (!c) return undefined;
  try {
    return c.parse(ext.value, offset);
  } catch (e) {
    if (e instanceof DerError)
      throw new X509Error('bad-extension', `${c.name}: ${bareMessage(e)}`, e.offset, [c.name, ...e.path]);
    if (e instanceof X509Error && e.code !== 'bad-extension')
      throw new X509Error('bad-extension', `${c.name}: ${bareMessage(e)}`, e.offset, [
        c.name,
        ...(e.path ?? []),
      ]);
    throw e;
  }
}

/** The message without the " (offset N)" suffix the error classes append (re-added by the wrapper). */
function bareMessage(e: DerError | X509Error): string {
  const suffix = e.offset === undefined ? '' : ` (offset ${e.offset})`;
  return suffix && e.message.endsWith(suffix) ? e.message.slice(0, -suffix.length) : e.message;
}
