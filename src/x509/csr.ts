import { OID } from '../der/oid-names.js';
import { DEFAULT_LIMITS, type DerLimits, DerReader } from '../der/reader.js';
import { encodePem } from '../pem/pem.js';
import { type AlgorithmIdentifier, readAlgorithmIdentifier } from './algorithm.js';
import { X509Error } from './errors.js';
import { EMPTY_EXTENSIONS, type ExtensionSet, HasExtensions, readExtensions } from './extension-list.js';
import type * as T from './extensions/types.js';
import { toDer } from './input.js';
import { type Name, readName } from './name.js';
import { readSpki, type SubjectPublicKeyInfo } from './spki.js';
import './extensions/index.js';

/**
 * RFC 2986 (PKCS #10):
 *   CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm AlgorithmIdentifier, signature BIT STRING }
 *   CertificationRequestInfo ::= SEQUENCE { version INTEGER { v1(0) }, subject Name,
 *     subjectPKInfo SubjectPublicKeyInfo, attributes [0] IMPLICIT SET OF Attribute }
 *   Attribute ::= SEQUENCE { type OID, values SET SIZE(1..MAX) OF ANY }
 * Known attributes: extensionRequest (RFC 2985 §5.4.2: one Extensions value) and
 * challengePassword (§5.4.1: one DirectoryString value).
 */
export interface CsrAttribute {
  type: string;
  /** Each value's TLV. */
  values: Uint8Array[];
}

/**
 * A parsed PKCS#10 request (RFC 2986): exact `der`, subject, public key, attributes, extensions.
 */
export class CertificationRequest extends HasExtensions {
  constructor(
    readonly der: Uint8Array,
    /** The exact CertificationRequestInfo TLV (what the signature covers). */
    readonly tbs: Uint8Array,
    readonly version: number,
    readonly subject: Name,
    readonly subjectPublicKeyInfo: SubjectPublicKeyInfo,
    readonly attributes: readonly CsrAttribute[],
    ext: ExtensionSet,
    readonly challengePassword: string | undefined,
    readonly signatureAlgorithm: AlgorithmIdentifier,
    readonly signatureValue: Uint8Array,
    readonly signatureUnusedBits = 0,
  ) {
    super(ext);
  }

  get subjectAltName(): T.SubjectAltName | undefined {
    return this.decoded(OID.subjectAltName);
  }
  get keyUsage(): T.KeyUsage | undefined {
    return this.decoded(OID.keyUsage);
  }
  get extKeyUsage(): T.ExtKeyUsage | undefined {
    return this.decoded(OID.extKeyUsage);
  }
  get basicConstraints(): T.BasicConstraints | undefined {
    return this.decoded(OID.basicConstraints);
  }

  toPem(): string {
    return encodePem('CERTIFICATE REQUEST', this.der);
  }
}

/** Upper bound on CSR attributes: real CSRs carry one or two. */
const MAX_ATTRIBUTES = 64;

/**
 * Parses a CSR from DER bytes or PEM text (`CERTIFICATE REQUEST`); throws DerError or X509Error.
 * The signature is not checked here: `verifyCsr` does that.
 */
export function parseCsr(
  input: Uint8Array | string,
  opts: { limits?: Readonly<DerLimits> } = {},
): CertificationRequest {
  const der = toDer(input, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
  const r = DerReader.from(der, 'CertificationRequest', opts.limits ?? DEFAULT_LIMITS);
  const start = r.pos;
  const csr = r.readSequence('CertificationRequest');
  const infoStart = csr.pos;
  const info = csr.readSequence('certificationRequestInfo');
  const infoEnd = csr.pos;
  const vOff = info.pos;
  const version = info.readSmallInt('version', 255);
  if (version !== 0)
    throw new X509Error(
      'bad-version',
      `CSR version must be v1 (0), got ${version}`,
      vOff,
      info.path('version'),
    );
  const subject = readName(info, 'subject');
  const spki = readSpki(info, 'subjectPKInfo');
  const attributes: CsrAttribute[] = [];
  let ext = EMPTY_EXTENSIONS;
  let challengePassword: string | undefined;
  // Tolerance: `attributes` is not OPTIONAL in RFC 2986, but some generators omit the empty [0];
  // OpenSSL and Go accept that, and it means "no attributes".
  if (info.peekTag() === 0xa0) {
    const attrs = info.readConstructed(0xa0, 'attributes');
    attrs.forEach('Attribute', (a) => {
      if (attributes.length >= MAX_ATTRIBUTES) a.fail('too-many-elements', 'too many CSR attributes');
      const aOff = a.pos;
      const at = a.readSequence('Attribute');
      const type = at.readOid('type');
      const vs = at.readSetOf('values');
      const values: Uint8Array[] = [];
      const valueReaders: DerReader[] = [];
      while (!vs.atEnd()) {
        const vStart = vs.pos;
        values.push(vs.readAny('value').der);
        valueReaders.push(new DerReader(vs.bytes, vStart, vs.pos, vs.depth, 'value', vs, vs.limits));
      }
      at.finish();
      if (values.length === 0)
        throw new X509Error('bad-attribute', `attribute ${type} has no values`, aOff, a.path('Attribute'));
      if (attributes.some((x) => x.type === type))
        throw new X509Error('bad-attribute', `attribute ${type} appears twice`, aOff, a.path('Attribute'));
      if (type === OID.extensionRequest) {
        if (values.length !== 1)
          throw new X509Error('bad-attribute', 'extensionRequest must have one value', aOff);
        ext = readExtensions(valueReaders[0]!, 'extensionRequest');
        valueReaders[0]!.finish();
      } else if (type === OID.challengePassword) {
        if (values.length !== 1)
          throw new X509Error('bad-attribute', 'challengePassword must have one value', aOff);
        challengePassword = valueReaders[0]!.readString('challengePassword').value;
        valueReaders[0]!.finish();
      }
      attributes.push({ type, values });
    });
  }
  info.finish();
  const signatureAlgorithm = readAlgorithmIdentifier(csr, 'signatureAlgorithm');
  const sigBits = csr.readBitString('signature');
  csr.finish();
  r.finish();
  return new CertificationRequest(
    der.subarray(start, r.pos),
    der.subarray(infoStart, infoEnd),
    version,
    subject,
    spki,
    attributes,
    ext,
    challengePassword,
    signatureAlgorithm,
    sigBits.bytes,
    sigBits.unusedBits,
  );
}
