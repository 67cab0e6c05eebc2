import { OID } from '../der/oid-names.js';
import { DEFAULT_LIMITS, DerReader } from '../der/reader.js';
import { Tag } from '../der/tags.js';
import { DerWriter } from '../der/writer.js';
import { type Certificate, parseCertificate, readCertificate } from '../x509/certificate.js';
import { type CertificateList, parseCrl } from '../x509/crl.js';
import { isDecodeError } from '../x509/errors.js';
import { EstError } from './errors.js';

/**
 * The CMS SignedData "certs-only" message (RFC 5652 §5 in its degenerate form, no signers), which
 * RFC 7030 uses for /cacerts, /simpleenroll, /simplereenroll and the certificate part of
 * /serverkeygen (§4.1.3, §4.2.3; RFC 5272 §4.1 "Simple PKI Response"):
 *
 *   ContentInfo  ::= SEQUENCE { contentType OID (id-signedData), content [0] EXPLICIT SignedData }
 *   SignedData   ::= SEQUENCE {
 *     version          INTEGER (1: no attribute or "other" certificates, eContentType id-data),
 *     digestAlgorithms SET OF AlgorithmIdentifier (empty: nothing is signed),
 *     encapContentInfo SEQUENCE { eContentType OID (id-data), eContent [0] absent },
 *     certificates     [0] IMPLICIT SET OF CertificateChoices OPTIONAL (here: Certificate only),
 *     crls             [1] IMPLICIT SET OF RevocationInfoChoice OPTIONAL (here: CertificateList only),
 *     signerInfos      SET OF SignerInfo (empty) }
 *
 * Encoding writes exactly what `openssl crl2pkcs7 -outform DER` writes for the same inputs
 * (byte-identical; tested): certificates and CRLs in the order given — leaf first is what EST
 * clients expect — and `[0]`/`[1]` omitted when empty.
 *
 * Decoding is strict DER at the TLV level (definite, minimal lengths; trailing bytes rejected),
 * requires the certs-only shape above, parses every certificate and CRL (X.509 strictness), and
 * bounds their number. Tolerated, with reason:
 * - `certificates`/`crls` elements in any order: RFC 5652 gives the sets no meaning of order, and
 *   OpenSSL (crl2pkcs7, PKCS7_sign) writes them in the order given rather than DER SET OF order.
 * - `digestAlgorithms` entries are skipped (bounded) rather than refused: with no signer they
 *   carry no meaning, and some CAs list one anyway.
 */
export interface CertsOnly {
  certificates: Certificate[];
  crls: CertificateList[];
}

/** Bounds for `parseCertsOnly`. */
export interface CertsOnlyLimits {
  /** Most certificates accepted. Default 64: an EST /cacerts answer holds a handful (RFC 7030 §4.1.3). */
  maxCertificates: number;
  /** Most CRLs accepted. Default 16. */
  maxCrls: number;
  /** Most digestAlgorithms entries skipped. Default 8. */
  maxDigestAlgorithms: number;
}

export const DEFAULT_CERTS_ONLY_LIMITS: Readonly<CertsOnlyLimits> = Object.freeze({
  maxCertificates: 64,
  maxCrls: 16,
  maxDigestAlgorithms: 8,
});

/** A Certificate, or its DER (parsed to check it is one). */
export type CertificateInput = Certificate | Uint8Array;
/** A CertificateList, or its DER (parsed to check it is one). */
export type CrlInput = CertificateList | Uint8Array;

function certDer(c: CertificateInput, i: number): Uint8Array {
  if (!(c instanceof Uint8Array)) return c.der;
  try {
    return parseCertificate(c).der;
  } catch (e) {
    throw new EstError(
      'bad-input',
      `certificate ${i + 1} is not a DER certificate: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

function crlDer(c: CrlInput, i: number): Uint8Array {
  if (!(c instanceof Uint8Array)) return c.der;
  try {
    return parseCrl(c).der;
  } catch (e) {
    throw new EstError('bad-input', `CRL ${i + 1} is not a DER CRL: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Encodes certificates (and CRLs) as a DER certs-only ContentInfo, in the order given.
 *
 *   const body = encodeCertsOnly([issued.certificate]);         // /simpleenroll answer
 *   const chain = encodeCertsOnly([intermediate, root]);         // /cacerts answer
 */
export function encodeCertsOnly(
  certificates: readonly CertificateInput[],
  crls: readonly CrlInput[] = [],
): Uint8Array {
  const certs = certificates.map(certDer);
  const lists = crls.map(crlDer);
  const size = [...certs, ...lists].reduce((n, d) => n + d.length, 64);
  const w = new DerWriter(size + 32);
  w.sequence((w) => {
    w.oid(OID.signedData);
    w.explicit(0, (w) =>
      w.sequence((w) => {
        w.integer(1);
        w.constructed(Tag.SET, () => {});
        w.sequence((w) => w.oid(OID.data));
        // [0] IMPLICIT / [1] IMPLICIT SET OF, kept in the given order (see the header).
        if (certs.length > 0)
          w.constructed(0xa0, (w) => {
            for (const d of certs) w.raw(d);
          });
        if (lists.length > 0)
          w.constructed(0xa1, (w) => {
            for (const d of lists) w.raw(d);
          });
        w.constructed(Tag.SET, () => {});
      }),
    );
  });
  return w.finish();
}

/**
 * Decodes a DER certs-only ContentInfo into its certificates and CRLs (in encoded order).
 * Throws `EstError`: `malformed-cms` (not DER / not a ContentInfo with SignedData; the DerError
 * or X509Error as `cause`), `not-certs-only`, `unsupported-choice`, `too-many-items`.
 */
export function parseCertsOnly(der: Uint8Array, limits: Partial<CertsOnlyLimits> = {}): CertsOnly {
  const lim = { ...DEFAULT_CERTS_ONLY_LIMITS, ...limits };
  try {
    return readCertsOnly(der, lim);
  } catch (e) {
    if (e instanceof EstError) throw e;
    if (isDecodeError(e))
      throw new EstError('malformed-cms', `not a CMS certs-only message: ${e.message}`, { cause: e });
    throw e;
  }
}

function readCertsOnly(der: Uint8Array, lim: CertsOnlyLimits): CertsOnly {
  const top = DerReader.from(der, 'ContentInfo', DEFAULT_LIMITS);
  const ci = top.readSequence('ContentInfo');
  const contentType = ci.readOid('contentType');
  if (contentType !== OID.signedData)
    throw new EstError('not-certs-only', `contentType ${contentType} is not id-signedData (RFC 5652 §5.1)`);
  const content = ci.readExplicit(0, 'content');
  const sd = content.readSequence('SignedData');
  const version = sd.readSmallInt('version', 255);
  // RFC 5652 §5.1: v1 when there are no attribute/other certificates, no "other" CRLs, no v3
  // SignerInfos and eContentType is id-data — which is all certs-only may hold.
  if (version !== 1)
    throw new EstError('not-certs-only', `SignedData version ${version}: a certs-only message is version 1`);

  const digests = sd.readConstructed(Tag.SET, 'digestAlgorithms');
  let nDigests = 0;
  while (!digests.atEnd()) {
    if (++nDigests > lim.maxDigestAlgorithms)
      throw new EstError('too-many-items', `more than ${lim.maxDigestAlgorithms} digestAlgorithms`);
    digests.readSequence('DigestAlgorithmIdentifier');
  }

  const eci = sd.readSequence('encapContentInfo');
  const eContentType = eci.readOid('eContentType');
  if (eContentType !== OID.data)
    throw new EstError('not-certs-only', `eContentType ${eContentType} is not id-data (RFC 7030 §4.1.3)`);
  if (!eci.atEnd()) throw new EstError('not-certs-only', 'encapContentInfo carries eContent');
  eci.finish();

  const certificates: Certificate[] = [];
  if (sd.peekTag() === 0xa0) {
    const set = sd.readConstructed(0xa0, 'certificates');
    while (!set.atEnd()) {
      if (certificates.length >= lim.maxCertificates)
        throw new EstError('too-many-items', `more than ${lim.maxCertificates} certificates`);
      if (set.peekTag() !== Tag.SEQUENCE)
        throw new EstError(
          'unsupported-choice',
          `certificate ${certificates.length + 1}: CertificateChoices tag 0x${set.peekTag().toString(16)} is not an X.509 certificate`,
        );
      certificates.push(readCertificate(set));
    }
  }

  const crls: CertificateList[] = [];
  if (sd.peekTag() === 0xa1) {
    const set = sd.readConstructed(0xa1, 'crls');
    while (!set.atEnd()) {
      if (crls.length >= lim.maxCrls) throw new EstError('too-many-items', `more than ${lim.maxCrls} CRLs`);
      if (set.peekTag() !== Tag.SEQUENCE)
        throw new EstError(
          'unsupported-choice',
          `CRL ${crls.length + 1}: an OtherRevocationInfoFormat is not supported`,
        );
      const tlv = set.readAny('CertificateList');
      crls.push(parseCrl(tlv.der));
    }
  }

  const signers = sd.readConstructed(Tag.SET, 'signerInfos');
  if (!signers.atEnd()) throw new EstError('not-certs-only', 'SignedData has signerInfos: not certs-only');
  sd.finish();
  content.finish();
  ci.finish();
  top.finish();
  return { certificates, crls };
}
