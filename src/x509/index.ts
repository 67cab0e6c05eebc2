export * from './algorithm.js';
export {
  Certificate,
  type ParseOptions,
  parseCertificate,
  parseCertificates,
  readCertificate,
} from './certificate.js';
export { CertificateList, parseCrl, RevokedCertificate } from './crl.js';
export { CertificationRequest, type CsrAttribute, parseCsr } from './csr.js';
export { curveByName, curveByOid, NAMED_CURVES, type NamedCurve } from './curves.js';
export * from './encode.js';
export { isDecodeError, X509Error, type X509ErrorCode } from './errors.js';
export { type ExtensionSet, readExtensions, writeExtensions } from './extension-list.js';
export * from './extensions/index.js';
export * from './general-name.js';
export { toDer } from './input.js';
export {
  type AttributeTypeAndValue,
  attributeShortName,
  Name,
  parseRfc4514,
  type RelativeDistinguishedName,
  readName,
} from './name.js';
export {
  type DssParms,
  keyAlgorithmOf,
  type PublicKeyAlgorithm,
  parseDssParms,
  parseSpki,
  readSpki,
  SubjectPublicKeyInfo,
} from './spki.js';
