import { defaultProvider } from '../crypto/default-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import type { Signer } from '../crypto/signer.js';
import { bytesEqual } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';
import { encodeSignatureAlgorithm } from '../x509/algorithm.js';
import type { Certificate } from '../x509/certificate.js';
import { makeExtension } from '../x509/encode.js';
import { encodeAuthorityKeyIdentifier } from '../x509/extensions/authority-key-identifier.js';
import type {
  AuthorityInfoAccess,
  AuthorityKeyIdentifier,
  CRLDistributionPoints,
  Extension,
  KeyUsage,
} from '../x509/extensions/types.js';
import type { Name } from '../x509/name.js';
import { parseSpki, type SubjectPublicKeyInfo } from '../x509/spki.js';
import { signedTail } from './assemble.js';
import { IssueError } from './errors.js';
import { keyIdentifier } from './key-id.js';
import type { TypedExtension } from './profiles.js';
import {
  authorityInfoAccessExtension,
  crlDistributionPointsExtension,
  type RevocationInfo,
} from './revocation-info.js';

/**
 * Options of `Issuer.fromCertificate`/`selfSigned`: default revocation pointers and the provider.
 */
export interface IssuerOptions extends RevocationInfo {
  provider?: CryptoProvider;
}

/**
 * An issuing CA ready to sign: its certificate (or, for a root being created, just its name),
 * its signer, and everything that is the same for every certificate or CRL it issues, encoded
 * once — issuer Name DER, the authorityKeyIdentifier extension (keyIdentifier = the issuer's
 * subjectKeyIdentifier, RFC 5280 §4.2.1.1), the signature AlgorithmIdentifier DER, and the
 * revocation pointers (cRLDistributionPoints, authorityInfoAccess) given as defaults.
 *
 *   const ca = Issuer.fromCertificate(intermediateCert, signer, {
 *     crlDistributionPoints: ['http://pki.example/crl/int.crl'],
 *     authorityInfoAccess: { ocsp: ['http://pki.example/ocsp'] },
 *   });
 *   const leaf = new CertificateBuilder('device').subject(name).publicKey(spki).issuer(ca).signSync();
 */
export class Issuer {
  /** The signature AlgorithmIdentifier TLV of `signer.algorithm`. */
  readonly signatureAlgorithm: Uint8Array;
  readonly authorityKeyIdentifier: AuthorityKeyIdentifier;
  /** The authorityKeyIdentifier extension for what this issuer signs. */
  readonly akiExtension: Extension;
  /** Default cRLDistributionPoints for what this issuer signs (a builder may override or drop it). */
  readonly cdpExtension?: TypedExtension<CRLDistributionPoints>;
  /** Default authorityInfoAccess for what this issuer signs. */
  readonly aiaExtension?: TypedExtension<AuthorityInfoAccess>;
  /** Room a certificate's buffer keeps behind its TBS for this issuer's signature (`signedTail`). */
  readonly signedTail: number;

  private constructor(
    readonly name: Name,
    readonly signer: Signer,
    /** The issuer's public key (SPKI), parsed. */
    readonly spki: SubjectPublicKeyInfo,
    /** The issuer's subjectKeyIdentifier. */
    readonly keyIdentifier: Uint8Array,
    readonly certificate: Certificate | undefined,
    readonly provider: CryptoProvider,
    info: RevocationInfo = {},
  ) {
    if (info.crlDistributionPoints !== undefined)
      this.cdpExtension = crlDistributionPointsExtension(info.crlDistributionPoints);
    if (info.authorityInfoAccess !== undefined)
      this.aiaExtension = authorityInfoAccessExtension(info.authorityInfoAccess);
    this.signatureAlgorithm = encodeSignatureAlgorithm(signer.algorithm);
    this.signedTail = signedTail(this.signatureAlgorithm, signer.algorithm, spki);
    this.authorityKeyIdentifier = { keyIdentifier };
    this.akiExtension = makeExtension(
      OID.authorityKeyIdentifier,
      false,
      encodeAuthorityKeyIdentifier(this.authorityKeyIdentifier),
    );
  }

  get notBefore(): number | undefined {
    return this.certificate?.notBefore;
  }

  get notAfter(): number | undefined {
    return this.certificate?.notAfter;
  }

  get keyUsage(): KeyUsage | undefined {
    return this.certificate?.keyUsage;
  }

  /**
   * An issuer from its CA certificate and the signer holding its private key. Refuses a
   * certificate that is not a CA (basicConstraints cA TRUE; keyCertSign when keyUsage is
   * present — RFC 5280 §4.2.1.3) and a signer whose public key is not the certificate's.
   * `crlDistributionPoints` / `authorityInfoAccess` (URLs) go into every certificate it issues.
   */
  static fromCertificate(cert: Certificate, signer: Signer, options: IssuerOptions = {}): Issuer {
    if (!bytesEqual(signer.publicKey, cert.subjectPublicKeyInfo.der))
      throw new IssueError(
        'signer-mismatch',
        `the signer's public key is not the key of ${cert.subject.toString()}`,
      );
    if (cert.basicConstraints?.cA !== true)
      throw new IssueError(
        'issuer-not-ca',
        `${cert.subject.toString()} is not a CA certificate (basicConstraints cA)`,
      );
    const ku = cert.keyUsage;
    if (ku && !ku.keyCertSign && !ku.cRLSign)
      throw new IssueError(
        'issuer-not-ca',
        `${cert.subject.toString()} asserts neither keyCertSign nor cRLSign`,
      );
    const provider = options.provider ?? defaultProvider();
    const ski = cert.subjectKeyIdentifier ?? keyIdentifier(cert.subjectPublicKeyInfo.publicKey, provider);
    return new Issuer(cert.subject, signer, cert.subjectPublicKeyInfo, ski, cert, provider, options);
  }

  /** The issuer of a self-signed certificate being built (a root): its own name and key. */
  static selfSigned(name: Name, signer: Signer, options: IssuerOptions = {}): Issuer {
    const provider = options.provider ?? defaultProvider();
    const spki = parseSpki(signer.publicKey);
    return new Issuer(
      name,
      signer,
      spki,
      keyIdentifier(spki.publicKey, provider),
      undefined,
      provider,
      options,
    );
  }
}
