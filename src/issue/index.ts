/**
 * fleetpki/issue — certificate, CSR and CRL builders with issuance profiles and a pre-signing
 * linter. Builders sign through a `Signer` (crypto/); everything here is portable.
 */
export {
  CertificateBuilder,
  type CertificateBuilderOptions,
  DEFAULT_BACKDATE_MS,
  IssuedCertificate,
} from './certificate.js';
export {
  CrlBuilder,
  type CrlBuilderOptions,
  type CrlEntryInput,
  DEFAULT_CRL_VALIDITY_MS,
  IssuedCrl,
} from './crl.js';
export { CRL_REASON_CODES, isCrlReason } from './crl-extensions.js';
export { CsrBuilder, verifyCsr, verifyCsrAsync } from './csr.js';
export { IssueError, type IssueErrorCode, LintError } from './errors.js';
export { Issuer, type IssuerOptions } from './issuer.js';
export { keyIdentifier } from './key-id.js';
export {
  type CertificateLintInput,
  type CrlLintInput,
  hasErrors,
  type LintCode,
  type LintFinding,
  type LintSeverity,
  lintCertificate,
  lintCrl,
  lintParsedCertificate,
} from './lint.js';
export {
  ISSUANCE_PROFILE_NAMES,
  ISSUANCE_PROFILES,
  type IssuanceProfile,
  type IssuanceProfileName,
} from './profiles.js';
export {
  type AuthorityInfoAccessUrls,
  authorityInfoAccessExtension,
  crlDistributionPointsExtension,
  type RevocationInfo,
  revocationUriProblem,
} from './revocation-info.js';
export { parseGeneralName, parseGeneralNames, parseIp } from './san.js';
export { randomSerial, SERIAL_LENGTH, serialFromInput } from './serial.js';
