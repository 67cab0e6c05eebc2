/**
 * The typed extension values, each extension's parse/encode functions, and the read-only codec
 * table (`extensionCodec`, `decodeExtension`). The table is closed: it is fixed in registry.ts
 * and cannot be extended or replaced at run time.
 */

export { encodeAuthorityInfoAccess, parseAuthorityInfoAccess } from './authority-info-access.js';
export { encodeAuthorityKeyIdentifier, parseAuthorityKeyIdentifier } from './authority-key-identifier.js';
export { encodeBasicConstraints, parseBasicConstraints } from './basic-constraints.js';
export { encodeCertificateIssuer, parseCertificateIssuer } from './certificate-issuer.js';
export { encodeCertificatePolicies, parseCertificatePolicies } from './certificate-policies.js';
export { encodeCRLDistributionPoints, parseCRLDistributionPoints } from './crl-distribution-points.js';
export { encodeCRLNumber, MAX_CRL_NUMBER_OCTETS, parseCRLNumber } from './crl-number.js';
export { encodeDeltaCRLIndicator, parseDeltaCRLIndicator } from './delta-crl-indicator.js';
export { REASON_FLAG_BITS, reasonFlagsFromMask, reasonFlagsMask } from './distribution-point.js';
export { encodeExtKeyUsage, parseExtKeyUsage } from './ext-key-usage.js';
export { encodeFreshestCRL, parseFreshestCRL } from './freshest-crl.js';
export { encodeHoldInstructionCode, parseHoldInstructionCode } from './hold-instruction-code.js';
export { encodeInhibitAnyPolicy, parseInhibitAnyPolicy } from './inhibit-any-policy.js';
export { encodeInvalidityDate, parseInvalidityDate } from './invalidity-date.js';
export { encodeIssuerAltName, parseIssuerAltName } from './issuer-alt-name.js';
export {
  encodeIssuingDistributionPoint,
  parseIssuingDistributionPoint,
} from './issuing-distribution-point.js';
export {
  encodeKeyUsage,
  KEY_USAGE_BITS,
  keyUsage,
  keyUsageFromMask,
  keyUsageMask,
  parseKeyUsage,
} from './key-usage.js';
export { encodeNameConstraints, isContiguousMask, parseNameConstraints } from './name-constraints.js';
export { encodeOcspNoCheck, parseOcspNoCheck } from './ocsp-no-check.js';
export { encodePolicyConstraints, parsePolicyConstraints } from './policy-constraints.js';
export { encodePolicyMappings, parsePolicyMappings } from './policy-mappings.js';
export { crlReasonCode, crlReasonFromCode, encodeReasonCode, parseReasonCode } from './reason-code.js';
export {
  decodeExtension,
  type ExtensionCodec,
  extensionCodec,
  extensionName,
} from './registry.js';
export {
  encodeSignedCertificateTimestampList,
  parseSignedCertificateTimestampList,
} from './sct-list.js';
export { encodeSubjectAltName, parseSubjectAltName } from './subject-alt-name.js';
export {
  encodeSubjectDirectoryAttributes,
  parseSubjectDirectoryAttributes,
} from './subject-directory-attributes.js';
export { encodeSubjectInfoAccess, parseSubjectInfoAccess } from './subject-info-access.js';
export { encodeSubjectKeyIdentifier, parseSubjectKeyIdentifier } from './subject-key-identifier.js';
export * from './types.js';
