/**
 * fleetpki/revocation — CRL and OCSP: checking inside `verifyPath` (createRevocationChecker),
 * the RFC 6960 codec and client, the pure OCSP responder and the CRL publisher.
 */

export { DEFAULT_REVOCATION_BACKDATE_MS } from './backdate.js';
export {
  createRevocationChecker,
  crlUrls,
  DEFAULT_REVOCATION_POLICY,
  defaultSources,
  PolicyRevocationChecker,
  type RevocationPolicy,
  type RevocationProblem,
  type RevocationResult,
  type RevocationSource,
  revocationPolicy,
} from './checker.js';
export {
  type CrlCheckEnv,
  type CrlCheckTarget,
  type CrlProblem,
  type CrlStatus,
  checkCrls,
  checkCrlsSync,
} from './crl-check.js';
export {
  type CrlIssuer,
  CrlPublisher,
  type CrlPublisherOptions,
  encodeRevokedList,
  type PublishedCrl,
} from './crl-publisher.js';
export { RevocationError, type RevocationErrorCode } from './errors.js';
export { type FetchFn, type HttpOptions, httpRequest } from './http.js';
export * from './ocsp/index.js';
export {
  checkOcspResponse,
  checkOcspResponseSync,
  type OcspCertStatus,
  type OcspCheckOptions,
} from './ocsp-check.js';
export { OcspResponder, type OcspResult, type ResponderIssuer, type ResponderOptions } from './responder.js';
export {
  MemoryStatusSource,
  type RevokedSerial,
  type SerialStatus,
  type StatusSource,
  serialBytes,
  serialKey,
} from './status-source.js';
