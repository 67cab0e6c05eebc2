/**
 * fleetpki for browsers, Deno, Bun and edge workers (`fleetpki/portable`, and `fleetpki` under the
 * `browser`/`worker` conditions): the user's tasks — parse, keys, issue, verify, revoke and
 * publish CRLs, check revocation, serve OCSP — with the platform's WebCrypto as the provider. No
 * `node:` import is reachable from here (a test bundles it for the browser platform and runs it
 * in a bare V8 context). The Node entry (`index.ts`) is this list plus the PKCS#11 signer.
 *
 * Every name is listed explicitly and reviewed in `api/root-exports.txt` (a test compares them).
 * Codecs and building blocks stay in their layers' subpaths: `fleetpki/der`, `/pem`, `/x509`,
 * `/crypto`, `/issue`, `/verify`, `/revocation`.
 */

// Keys: generate, import, export; signers.
export {
  CryptoError,
  type CryptoErrorCode,
  type ExportOptions,
  exportKey,
  generateKeyPair,
  type ImportOptions,
  importKey,
  importPrivateKey,
  importPublicKey,
  type Jwk,
  KEY_TYPES,
  type KeyFormat,
  type KeyPair,
  KeySigner,
  type KeySignerOptions,
  type KeyType,
  type PrivateKey,
  type PublicKey,
  type SignatureAlgorithm,
  type Signer,
} from './crypto/portable.js';
// Parse certificates, CSRs and CRLs (DER or PEM); the errors malformed input raises.
export { DerError, type DerErrorCode } from './der/index.js';
// Issue certificates, CSRs and CRLs.
export {
  CertificateBuilder,
  type CertificateBuilderOptions,
  CrlBuilder,
  type CrlBuilderOptions,
  type CrlEntryInput,
  CsrBuilder,
  type IssuanceProfileName,
  IssuedCertificate,
  IssuedCrl,
  IssueError,
  type IssueErrorCode,
  Issuer,
  type IssuerOptions,
  LintError,
  type LintFinding,
  verifyCsr,
  verifyCsrAsync,
} from './issue/index.js';
// Revoke and publish CRLs, serve OCSP (the CA side); check revocation (the relying party).
export {
  type CrlIssuer,
  CrlPublisher,
  type CrlPublisherOptions,
  createRevocationChecker,
  MemoryStatusSource,
  OcspResponder,
  type OcspResult,
  type PublishedCrl,
  type ResponderIssuer,
  type ResponderOptions,
  RevocationError,
  type RevocationErrorCode,
  type RevocationPolicy,
  type RevocationResult,
  type RevocationSource,
  type RevokedSerial,
  type SerialStatus,
  type StatusSource,
} from './revocation/index.js';

// Verify a chain (RFC 5280 path validation, RFC 9525 names).
export {
  CertificateCache,
  type Purpose,
  profilePolicy,
  SIGNATURE_ALGORITHM_NAMES,
  type SignatureAlgorithmName,
  SignatureCache,
  type ValidationPolicy,
  type ValidationProfile,
  VerifyError,
  type VerifyErrorCode,
  type VerifyOptions,
  type VerifyResult,
  verifyPath,
  verifyPathSync,
} from './verify/index.js';
export {
  Certificate,
  CertificateList,
  CertificationRequest,
  type CRLReason,
  type GeneralName,
  isDecodeError,
  Name,
  type ParseOptions,
  parseCertificate,
  parseCertificates,
  parseCrl,
  parseCsr,
  X509Error,
  type X509ErrorCode,
} from './x509/index.js';

// Run the CA: `Authority` and `openStore` are on the Node entry (index.ts) only.
