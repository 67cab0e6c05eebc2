/**
 * fleetpki/est — Enrollment over Secure Transport (RFC 7030, RFC 8951): the message codecs (CMS
 * certs-only, base64 transfer framing, CsrAttrs, the multipart /serverkeygen answer) and the
 * device client with its enrollment flow. The server routes live with the CA service.
 */

// Node-only: the node:crypto provider is the default here (see crypto/node-default.ts).
import '../crypto/node-default.js';

export {
  type EnrollResult,
  EstClient,
  type EstClientOptions,
  retryAfterSeconds,
  type ServerKeygenResult,
} from './client.js';
export {
  type CertificateInput,
  type CertsOnly,
  type CertsOnlyLimits,
  type CrlInput,
  DEFAULT_CERTS_ONLY_LIMITS,
  encodeCertsOnly,
  parseCertsOnly,
} from './cms.js';
export {
  type AttrOrOid,
  type CsrAttrsLimits,
  DEFAULT_CSRATTRS_LIMITS,
  encodeCsrAttrs,
  parseCsrAttrs,
} from './csrattrs.js';
export {
  type EnrollDeviceOptions,
  type EnrolledDevice,
  enrollDevice,
  nextCheckDelay,
  renewalDue,
} from './enroll.js';
export { EstError, type EstErrorCode } from './errors.js';
export {
  checkMediaType,
  DEFAULT_MAX_BODY_BYTES,
  decodeBase64Body,
  EST_MEDIA_TYPES,
  encodeBase64Body,
  type MediaType,
  parseMediaType,
} from './framing.js';
export {
  DEFAULT_MULTIPART_LIMITS,
  encodeMultipartMixed,
  encodeServerKeygenResponse,
  type MimePart,
  type MultipartLimits,
  parseMultipartMixed,
  parseServerKeygenResponse,
  randomBoundary,
  type ServerKeygenResponse,
} from './multipart.js';
