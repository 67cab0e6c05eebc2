/**
 * The `fleetpki inspect --json` document: its schema, and the typed view model the command
 * builds (the TypeScript types below are inferred from the schema, so they cannot drift apart).
 *
 * Versioning: `schemaVersion` is 1. Adding an optional field keeps the version; renaming or
 * removing a field, changing a type, or making a field required raises it. The JSON Schema
 * (draft 2020-12) generated from `InspectDocumentSchema` is checked in as
 * `schemas/inspect.schema.json`; a test keeps the two equal and validates real output against it.
 *
 * Every object is strict (no undeclared keys). Field order in the output is fixed by the view
 * builders (views.ts, keys.ts), not by this file. Private key material never appears: keys are
 * described (type, size, curve, SHA-256 of the public key), never dumped.
 *
 * This module is imported as types only at run time (`import type`), so `inspect` itself does
 * not load zod; the tests and the schema generator do.
 */
import { z } from 'zod';

/**
 * A JSON value as the view builders make it: object members may be `undefined`, which
 * JSON.stringify drops (so the document itself holds plain JSON, which the schema checks).
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json | undefined };

/** The document version this code writes. */
export const INSPECT_SCHEMA_VERSION = 1;

const hex = z.string().regex(/^[0-9a-f]*$/);
const colonHexUpper = z.string().regex(/^([0-9A-F]{2}(:[0-9A-F]{2})*)?$/);
const isoTime = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

/** Where in the file the object came from. */
export const SourceSchema = z.strictObject({
  format: z.enum(['PEM', 'DER']),
  /** 1-based PEM block. */
  block: z.number().int().min(1).optional(),
  label: z.string().optional(),
  container: z.enum(['PKCS#7', 'PKCS#12']).optional(),
  /** 1-based position within the container. */
  index: z.number().int().min(1).optional(),
});

/** A signature AlgorithmIdentifier, named. */
export const AlgorithmSchema = z.strictObject({
  name: z.string(),
  oid: z.string(),
  /** RSASSA-PSS parameters, or the raw parameters (hex) of an algorithm we cannot name. */
  parameters: z
    .union([z.strictObject({ hash: z.string(), mgfHash: z.string(), saltLength: z.number().int() }), hex])
    .optional(),
  /** Why the parameters could not be decoded. */
  note: z.string().optional(),
});

/** SHA-1 and SHA-256 of the object's DER (upper-case colon hex, as OpenSSL prints them). */
export const FingerprintsSchema = z.strictObject({ sha1: colonHexUpper, sha256: colonHexUpper });

/** A public key (SubjectPublicKeyInfo, RFC 5280 §4.1.2.7): public data, shown in full. */
export const PublicKeyInfoSchema = z.strictObject({
  /** e.g. "EC P-256", "RSA", "Ed25519". */
  algorithm: z.string(),
  oid: z.string(),
  keySize: z.number().int().optional(),
  curve: z.string().optional(),
  modulus: hex.optional(),
  /** Decimal. */
  publicExponent: z.string().optional(),
  /** The subjectPublicKey bits (hex), for non-RSA keys. */
  publicKey: hex.optional(),
  spkiSha256: colonHexUpper,
});

/** One extension (RFC 5280 §4.1.2.9): decoded value, or raw hex when unknown. */
export const ExtensionSchema = z.strictObject({
  oid: z.string(),
  /** RFC 5280 / registry name (camelCase); absent for unknown OIDs. */
  name: z.string().optional(),
  critical: z.boolean(),
  /** Decoded value; its shape depends on the extension (see extensions.ts). */
  value: z.json().optional() as unknown as z.ZodOptional<z.ZodType<Json>>,
  /** extnValue content (hex), only for extensions that are not decoded. */
  raw: hex.optional(),
});

/** `--asn1`: the DER tree, like `openssl asn1parse`. */
export interface Asn1NodeView {
  offset: number;
  depth: number;
  headerLength: number;
  length: number;
  tag: string;
  value?: string | undefined;
  children?: Asn1NodeView[] | undefined;
}
/** `--asn1` tree node (schema). */
export const Asn1NodeSchema: z.ZodType<Asn1NodeView> = z.lazy(() =>
  z.strictObject({
    offset: z.number().int(),
    depth: z.number().int(),
    headerLength: z.number().int(),
    length: z.number().int(),
    tag: z.string(),
    value: z.string().optional(),
    children: z.array(Asn1NodeSchema).optional(),
  }),
);

const common = { source: SourceSchema, asn1: Asn1NodeSchema.optional() };

/** A certificate (RFC 5280 §4.1). */
export const CertificateViewSchema = z.strictObject({
  type: z.literal('certificate'),
  ...common,
  version: z.number().int(),
  /** Colon hex; '-' prefix if (illegally) negative. */
  serialNumber: z.string(),
  signatureAlgorithm: AlgorithmSchema,
  /** RFC 4514 text. */
  issuer: z.string(),
  subject: z.string(),
  validity: z.strictObject({
    notBefore: isoTime,
    notAfter: isoTime,
    status: z.enum(['valid', 'expired', 'not-yet-valid']),
    /** e.g. "expires in 23 days". */
    remaining: z.string(),
  }),
  subjectPublicKeyInfo: PublicKeyInfoSchema,
  issuerUniqueID: hex.optional(),
  subjectUniqueID: hex.optional(),
  selfIssued: z.boolean(),
  extensions: z.array(ExtensionSchema),
  signatureValue: hex,
  fingerprints: FingerprintsSchema,
});

/** Whether a CSR's signature verifies with its own public key (RFC 2986 §3: proof of possession). */
export const SelfSignatureSchema = z.strictObject({
  status: z.enum(['valid', 'invalid', 'not-checked']),
  /** Why it was not checked (e.g. an algorithm this platform lacks). */
  reason: z.string().optional(),
});

/** A certification request (RFC 2986). */
export const CsrViewSchema = z.strictObject({
  type: z.literal('csr'),
  ...common,
  version: z.number().int(),
  subject: z.string(),
  subjectPublicKeyInfo: PublicKeyInfoSchema,
  /** Presence only: the value is a secret shared with the CA (RFC 2985 §5.4.1). */
  challengePassword: z.literal('present').optional(),
  attributes: z.array(
    z.strictObject({ type: z.string(), name: z.string().optional(), values: z.number().int() }),
  ),
  extensions: z.array(ExtensionSchema),
  signatureAlgorithm: AlgorithmSchema,
  signatureValue: hex,
  signature: SelfSignatureSchema,
  fingerprints: FingerprintsSchema,
});

/** A CRL (RFC 5280 §5.1). */
export const CrlViewSchema = z.strictObject({
  type: z.literal('crl'),
  ...common,
  version: z.number().int(),
  signatureAlgorithm: AlgorithmSchema,
  issuer: z.string(),
  thisUpdate: isoTime,
  nextUpdate: isoTime.optional(),
  /** e.g. "due in 5 days". */
  nextUpdateStatus: z.string().optional(),
  extensions: z.array(ExtensionSchema),
  revokedCertificates: z.array(
    z.strictObject({
      serialNumber: z.string(),
      revocationDate: isoTime,
      extensions: z.array(ExtensionSchema).optional(),
    }),
  ),
  signatureValue: hex,
  fingerprints: FingerprintsSchema,
});

/** A private key, described: never its secret values. */
export const PrivateKeyViewSchema = z.strictObject({
  type: z.literal('private-key'),
  ...common,
  format: z.enum(['PKCS#8', 'SEC1', 'PKCS#1']),
  algorithm: z.string(),
  keySize: z.number().int().optional(),
  curve: z.string().optional(),
  /** Decimal (RSA). */
  publicExponent: z.string().optional(),
  publicKeyIncluded: z.boolean(),
  /** SHA-256 of the derived SubjectPublicKeyInfo: equal to the certificate's when they match. */
  spkiSha256: colonHexUpper.optional(),
});

/** The key derivation of an encrypted key or PKCS#12 part. */
export const KdfSchema = z.discriminatedUnion('name', [
  z.strictObject({
    name: z.literal('PBKDF2'),
    prf: z.string(),
    iterations: z.number().int(),
    saltLength: z.number().int(),
  }),
  z.strictObject({
    name: z.literal('scrypt'),
    N: z.number().int(),
    r: z.number().int(),
    p: z.number().int(),
    saltLength: z.number().int(),
  }),
  z.strictObject({
    /** PKCS#12 PBE (RFC 7292 Appendix B key derivation). */
    name: z.literal('PKCS#12 KDF'),
    hash: z.string(),
    iterations: z.number().int(),
    saltLength: z.number().int(),
  }),
]);

/** How an encrypted key or PKCS#12 part is protected. */
export const EncryptionSchema = z.strictObject({
  /** e.g. "PBES2", "pbeWithSHAAnd3-KeyTripleDES-CBC". */
  scheme: z.string(),
  kdf: KdfSchema.optional(),
  cipher: z.string().optional(),
  /** Why we cannot decrypt it. */
  unsupported: z.string().optional(),
});

/** An encrypted private key: its format and encryption only. */
export const EncryptedPrivateKeyViewSchema = z.strictObject({
  type: z.literal('encrypted-private-key'),
  ...common,
  format: z.string(),
  encryption: EncryptionSchema,
});

/** A public key file (SPKI or PKCS#1 RSAPublicKey). */
export const PublicKeyViewSchema = z.strictObject({
  type: z.literal('public-key'),
  ...common,
  format: z.enum(['SPKI', 'PKCS#1']),
  ...PublicKeyInfoSchema.shape,
  oid: z.string().optional(),
});

/** An `EC PARAMETERS` block (namedCurve). */
export const EcParametersViewSchema = z.strictObject({
  type: z.literal('ec-parameters'),
  ...common,
  curve: z.string(),
  oid: z.string(),
});

/** An OCSP CertID (RFC 6960 §4.1.1). */
export const CertIdSchema = z.strictObject({
  hashAlgorithm: z.string(),
  issuerNameHash: hex,
  issuerKeyHash: hex,
  serialNumber: z.string(),
});

/** An OCSP response (RFC 6960 §4.2). */
export const OcspResponseViewSchema = z.strictObject({
  type: z.literal('ocsp-response'),
  ...common,
  responseStatus: z.string(),
  responseType: z.string().optional(),
  responderId: z.string().optional(),
  producedAt: isoTime.optional(),
  nonce: hex.optional(),
  responses: z
    .array(
      z.strictObject({
        certId: CertIdSchema,
        certStatus: z.enum(['good', 'revoked', 'unknown']),
        revocationTime: isoTime.optional(),
        revocationReason: z.string().optional(),
        thisUpdate: isoTime,
        nextUpdate: isoTime.optional(),
      }),
    )
    .optional(),
  signatureAlgorithm: z.string().optional(),
  /** Subjects of the certificates the response carries. */
  certs: z.array(z.string()).optional(),
});

/** An OCSP request (RFC 6960 §4.1). */
export const OcspRequestViewSchema = z.strictObject({
  type: z.literal('ocsp-request'),
  ...common,
  requestorName: z.string().optional(),
  nonce: hex.optional(),
  requests: z.array(z.strictObject({ certId: CertIdSchema })),
  signed: z.boolean(),
});

/** A PKCS#12 file (RFC 7292) as a whole; its certificates and keys follow as objects of their own. */
export const Pkcs12ViewSchema = z.strictObject({
  type: z.literal('pkcs12'),
  ...common,
  /** RFC 7292 §4 MacData; absent when the file has no MAC (public-key integrity mode or none). */
  mac: z
    .strictObject({
      algorithm: z.string(),
      /** 'PKCS#12 KDF' (RFC 7292 Appendix B) or 'PBMAC1' (RFC 9579). */
      kdf: z.string(),
      iterations: z.number().int(),
      saltLength: z.number().int(),
    })
    .optional(),
  /** The safe contents in order: plain, or password-encrypted with the scheme shown. */
  contents: z.array(
    z.strictObject({
      encryption: EncryptionSchema.optional(),
      /** Bag types found (certBag, pkcs8ShroudedKeyBag, keyBag, …), when readable. */
      bags: z.array(z.string()).optional(),
    }),
  ),
  /** 'verified': MAC checked and contents decrypted; 'locked': no password given. */
  status: z.enum(['verified', 'locked']),
  /** What to do to see the contents (when locked or partly unreadable). */
  note: z.string().optional(),
});

/** Any object of the document, by `type`. */
export const ObjectViewSchema = z.discriminatedUnion('type', [
  CertificateViewSchema,
  CsrViewSchema,
  CrlViewSchema,
  PrivateKeyViewSchema,
  EncryptedPrivateKeyViewSchema,
  PublicKeyViewSchema,
  EcParametersViewSchema,
  OcspResponseViewSchema,
  OcspRequestViewSchema,
  Pkcs12ViewSchema,
]);

/** The whole `--json` document. */
export const InspectDocumentSchema = z
  .strictObject({
    schemaVersion: z.literal(INSPECT_SCHEMA_VERSION),
    file: z.string(),
    objects: z.array(ObjectViewSchema),
  })
  .meta({
    $id: 'https://fleetpki.dev/schemas/inspect.schema.json',
    title: 'fleetpki inspect --json',
    description:
      'What a PKI file holds: certificates, CSRs, CRLs, keys (described, never dumped), PKCS#7/#12, OCSP.',
  });

/** Where an object came from. */
export type Source = z.infer<typeof SourceSchema>;
/** A named signature algorithm. */
export type AlgorithmView = z.infer<typeof AlgorithmSchema>;
/** Fingerprints of an object's DER. */
export type Fingerprints = z.infer<typeof FingerprintsSchema>;
/** A public key, described. */
export type PublicKeyInfoView = z.infer<typeof PublicKeyInfoSchema>;
/** One extension as shown. */
export type ExtensionView = z.infer<typeof ExtensionSchema>;
/** The view of a certificate. */
export type CertificateView = z.infer<typeof CertificateViewSchema>;
/** The view of a CSR. */
export type CsrView = z.infer<typeof CsrViewSchema>;
/** Whether a CSR's signature verifies. */
export type SelfSignature = z.infer<typeof SelfSignatureSchema>;
/** The view of a CRL. */
export type CrlView = z.infer<typeof CrlViewSchema>;
/** The view of a private key (no key material). */
export type PrivateKeyView = z.infer<typeof PrivateKeyViewSchema>;
/** A key derivation, described. */
export type KdfView = z.infer<typeof KdfSchema>;
/** An encryption scheme, described. */
export type EncryptionView = z.infer<typeof EncryptionSchema>;
/** The view of an encrypted private key. */
export type EncryptedPrivateKeyView = z.infer<typeof EncryptedPrivateKeyViewSchema>;
/** The view of a public key file. */
export type PublicKeyView = z.infer<typeof PublicKeyViewSchema>;
/** The view of EC parameters. */
export type EcParametersView = z.infer<typeof EcParametersViewSchema>;
/** An OCSP CertID as shown. */
export type CertIdView = z.infer<typeof CertIdSchema>;
/** The view of an OCSP response. */
export type OcspResponseView = z.infer<typeof OcspResponseViewSchema>;
/** The view of an OCSP request. */
export type OcspRequestView = z.infer<typeof OcspRequestViewSchema>;
/** The summary view of a PKCS#12 file. */
export type Pkcs12View = z.infer<typeof Pkcs12ViewSchema>;
/** Any object view. */
export type ObjectView = z.infer<typeof ObjectViewSchema>;
/** The `--json` document. */
export type InspectDocument = z.infer<typeof InspectDocumentSchema>;
/** A view without its `source` and `asn1`, as the per-kind builders return it. */
export type ViewBody<T extends ObjectView> = Omit<T, 'source' | 'asn1'>;
