import type { GeneralName } from '../general-name.js';
import type { AttributeTypeAndValue } from '../name.js';

/**
 * Typed values of the RFC 5280 extensions (field names as in the RFC, camelCase).
 * Each extension's codec lives in its own file and is registered in `registry.ts`.
 */

/** RFC 5280 §4.1 Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
export interface Extension {
  oid: string;
  critical: boolean;
  /** The extnValue content (the DER of the extension's own type). */
  value: Uint8Array;
  /** The whole Extension TLV. */
  der: Uint8Array;
}

/** §4.2.1.9 */
export interface BasicConstraints {
  cA: boolean;
  pathLenConstraint?: number;
}

/** §4.2.1.3 — named bits 0..8 */
export interface KeyUsage {
  digitalSignature: boolean;
  /** Also called contentCommitment. */
  nonRepudiation: boolean;
  keyEncipherment: boolean;
  dataEncipherment: boolean;
  keyAgreement: boolean;
  keyCertSign: boolean;
  cRLSign: boolean;
  encipherOnly: boolean;
  decipherOnly: boolean;
}

/** §4.2.1.12 — KeyPurposeId OIDs */
export type ExtKeyUsage = string[];

/** §4.2.1.6 / §4.2.1.7 */
export type SubjectAltName = GeneralName[];
export type IssuerAltName = GeneralName[];

/** §4.2.1.2 */
export type SubjectKeyIdentifier = Uint8Array;

/** §4.2.1.1 */
export interface AuthorityKeyIdentifier {
  keyIdentifier?: Uint8Array;
  authorityCertIssuer?: GeneralName[];
  /** INTEGER content bytes. */
  authorityCertSerialNumber?: Uint8Array;
}

/** §4.2.1.10 */
export interface GeneralSubtree {
  base: GeneralName;
  minimum: number;
  maximum?: number;
}
export interface NameConstraints {
  permittedSubtrees?: GeneralSubtree[];
  excludedSubtrees?: GeneralSubtree[];
}

/** §4.2.1.4 DisplayText CHOICE: which string type carried a text (encoders default to utf8String). */
export type DisplayTextType = 'ia5String' | 'visibleString' | 'bmpString' | 'utf8String';

/** §4.2.1.4 */
export interface UserNotice {
  noticeRef?: { organization: string; noticeNumbers: number[]; organizationType?: DisplayTextType };
  explicitText?: string;
  explicitTextType?: DisplayTextType;
}
export interface PolicyQualifierInfo {
  policyQualifierId: string;
  /** The qualifier's TLV. */
  qualifier: Uint8Array;
  cpsUri?: string;
  userNotice?: UserNotice;
}
export interface PolicyInformation {
  policyIdentifier: string;
  policyQualifiers?: PolicyQualifierInfo[];
}
export type CertificatePolicies = PolicyInformation[];

/** §4.2.1.5 */
export type PolicyMappings = { issuerDomainPolicy: string; subjectDomainPolicy: string }[];

/** §4.2.1.11 */
export interface PolicyConstraints {
  requireExplicitPolicy?: number;
  inhibitPolicyMapping?: number;
}

/** §4.2.1.14 — SkipCerts */
export type InhibitAnyPolicy = number;

/** §4.2.1.13 ReasonFlags bits */
export interface ReasonFlags {
  unused: boolean;
  keyCompromise: boolean;
  cACompromise: boolean;
  affiliationChanged: boolean;
  superseded: boolean;
  cessationOfOperation: boolean;
  certificateHold: boolean;
  privilegeWithdrawn: boolean;
  aACompromise: boolean;
}

export type DistributionPointName =
  | { fullName: GeneralName[]; nameRelativeToCRLIssuer?: undefined }
  | { nameRelativeToCRLIssuer: AttributeTypeAndValue[]; fullName?: undefined };

/** §4.2.1.13 */
export interface DistributionPoint {
  distributionPoint?: DistributionPointName;
  reasons?: ReasonFlags;
  cRLIssuer?: GeneralName[];
}
export type CRLDistributionPoints = DistributionPoint[];
/** §4.2.1.15 */
export type FreshestCRL = DistributionPoint[];

/** §4.2.2.1 / §4.2.2.2 */
export interface AccessDescription {
  accessMethod: string;
  accessLocation: GeneralName;
}
export type AuthorityInfoAccess = AccessDescription[];
export type SubjectInfoAccess = AccessDescription[];

/** §4.2.1.8 — Attribute { type, values SET OF ANY } with values kept as TLVs. */
export type SubjectDirectoryAttributes = { type: string; values: Uint8Array[] }[];

// ---- CRL and CRL entry extensions (§5.2, §5.3) ----

/** §5.2.3 / §5.2.4 — CRLNumber / BaseCRLNumber: INTEGER (0..MAX), up to 20 octets */
export type CRLNumber = bigint;
export type DeltaCRLIndicator = bigint;

/** §5.2.5 */
export interface IssuingDistributionPoint {
  distributionPoint?: DistributionPointName;
  onlyContainsUserCerts: boolean;
  onlyContainsCACerts: boolean;
  onlySomeReasons?: ReasonFlags;
  indirectCRL: boolean;
  onlyContainsAttributeCerts: boolean;
}

/** §5.3.1 CRLReason ENUMERATED (7 is unused) */
export type CRLReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/** §5.3.2 — GeneralizedTime as epoch ms */
export type InvalidityDate = number;
/** §5.3.3 */
export type CertificateIssuer = GeneralName[];

/** RFC 6962 §3.3 — kept raw (TLS-encoded list inside an OCTET STRING). */
export type SignedCertificateTimestampList = Uint8Array;

/** RFC 6960 §4.2.2.2.1 id-pkix-ocsp-nocheck: NULL */
export type OcspNoCheck = true;

/** RFC 3280 §5.3.2 holdInstructionCode (2.5.29.23; dropped from RFC 5280, still seen in old CRLs). */
export type HoldInstructionCode = string;
