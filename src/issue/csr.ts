import { supportedCurve } from '../crypto/algorithms.js';
import { defaultProvider } from '../crypto/default-provider.js';
import { readEcdsaSignature } from '../crypto/ecdsa-sig.js';
import { CryptoError } from '../crypto/errors.js';
import type { CryptoProvider } from '../crypto/provider.js';
import type { Signer } from '../crypto/signer.js';
import { OID } from '../der/oid-names.js';
import { isPrintableString } from '../der/strings.js';
import { encodeDer } from '../der/writer.js';
import {
  encodeSignatureAlgorithm,
  parseSignatureAlgorithm,
  type SignatureAlgorithm,
} from '../x509/algorithm.js';
import { type CertificationRequest, parseCsr } from '../x509/csr.js';
import { encodeCsrInfo, encodeSigned, makeExtension } from '../x509/encode.js';
import { isDecodeError } from '../x509/errors.js';
import { encodeSubjectAltName } from '../x509/extensions/subject-alt-name.js';
import type { Extension } from '../x509/extensions/types.js';
import type { GeneralName } from '../x509/general-name.js';
import { Name } from '../x509/name.js';
import { IssueError } from './errors.js';
import { parseGeneralName } from './san.js';

/**
 * PKCS#10 certification requests (RFC 2986):
 *   CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name,
 *     subjectPKInfo SubjectPublicKeyInfo, attributes [0] IMPLICIT SET OF Attribute }
 * Attributes written: extensionRequest (PKCS#9, RFC 2985 §5.4.2) carrying the requested
 * extensions, and challengePassword (§5.4.1, a DirectoryString: PrintableString when the text
 * allows it, else UTF8String).
 *
 *   const csr = await new CsrBuilder().subject('CN=device-001').subjectAltName(['dns:dev1.local']).sign(signer);
 */
export class CsrBuilder {
  private _subject: Name = Name.fromRdns([]);
  private _san?: GeneralName[];
  private _password?: string;
  private readonly exts: Extension[] = [];

  subject(n: Name | string): this {
    try {
      this._subject = typeof n === 'string' ? Name.parse(n) : n;
    } catch (e) {
      throw new IssueError('bad-input', `bad subject name: ${(e as Error).message}`, { cause: e });
    }
    return this;
  }

  /** Requested subjectAltName: GeneralNames or text (`dns:…`, `ip:…`, `uri:…`, `email:…`). */
  subjectAltName(names: readonly (GeneralName | string)[]): this {
    this._san = names.map((n) => (typeof n === 'string' ? parseGeneralName(n) : n));
    if (this._san.length === 0) throw new IssueError('bad-input', 'subjectAltName needs at least one name');
    return this;
  }

  /** Any other extension to request (the CA decides what it honours). */
  extension(e: Extension): this {
    if (this.exts.some((x) => x.oid === e.oid))
      throw new IssueError('bad-input', `extension ${e.oid} requested twice`);
    this.exts.push(e);
    return this;
  }

  challengePassword(pw: string): this {
    if (pw.length === 0 || pw.length > 255)
      throw new IssueError('bad-input', 'challengePassword must be 1..255 characters');
    this._password = pw;
    return this;
  }

  private info(signer: Signer): Uint8Array {
    const exts: Extension[] = [];
    if (this._san) {
      let v: Uint8Array;
      try {
        v = encodeSubjectAltName(this._san);
      } catch (e) {
        throw new IssueError('bad-input', `cannot encode subjectAltName: ${(e as Error).message}`, {
          cause: e,
        });
      }
      // RFC 5280 §4.2.1.6: critical when the subject is empty.
      exts.push(makeExtension(OID.subjectAltName, this._subject.isEmpty, v));
    }
    exts.push(...this.exts);
    const attributes: { type: string; values: Uint8Array[] }[] = [];
    if (this._password !== undefined) {
      const pw = this._password;
      const value = encodeDer((w) => (isPrintableString(pw) ? w.printableString(pw) : w.utf8String(pw)));
      attributes.push({ type: OID.challengePassword, values: [value] });
    }
    return encodeCsrInfo({
      subject: this._subject,
      subjectPublicKeyInfo: signer.publicKey,
      attributes,
      extensions: exts,
    });
  }

  /** Signs with the requester's key (proof of possession) and returns the parsed request. */
  async sign(signer: Signer): Promise<CertificationRequest> {
    const info = this.info(signer);
    const sig = signer.signSync ? signer.signSync(info) : await signer.sign(info);
    return parseCsr(encodeSigned(info, encodeSignatureAlgorithm(signer.algorithm), sig));
  }

  signSync(signer: Signer): CertificationRequest {
    if (!signer.signSync)
      throw new IssueError('bad-input', 'this signer cannot sign synchronously; use sign()');
    const info = this.info(signer);
    return parseCsr(encodeSigned(info, encodeSignatureAlgorithm(signer.algorithm), signer.signSync(info)));
  }
}

/**
 * Proof of possession: parses a CSR (DER, PEM or parsed) and checks its signature with its own
 * public key. Returns the parsed request. Unlike `verifyPath` (which returns a result), it
 * **throws** on a bad CSR — a CSR that fails is input to refuse, not a verdict to report:
 *
 * @throws {IssueError} with `code`:
 * - `csr-malformed`: not a well-formed DER PKCS#10 request;
 * - `csr-unsupported-algorithm`: unknown/unsupported signature algorithm or key type, or an
 *   algorithm that does not fit the key;
 * - `csr-bad-signature`: the signature does not verify — including a BER or otherwise non-DER
 *   ECDSA value, r/s out of range, or a BIT STRING with unused bits.
 */
export function verifyCsr(
  input: CertificationRequest | Uint8Array | string,
  options: { provider?: CryptoProvider } = {},
): CertificationRequest {
  const provider = options.provider ?? defaultProvider();
  const { csr, alg } = precheckCsr(input);
  let ok: boolean;
  try {
    ok = provider.verify(alg, csr.subjectPublicKeyInfo.der, csr.tbs, csr.signatureValue);
  } catch (e) {
    throw csrCryptoError(e);
  }
  if (!ok) throw new IssueError('csr-bad-signature', 'CSR signature does not verify with its own public key');
  return csr;
}

/**
 * `verifyCsr` for asynchronous providers (WebCrypto in browsers and edge runtimes).
 *
 * @throws {IssueError} (rejects) with `csr-malformed`, `csr-unsupported-algorithm` or
 *   `csr-bad-signature`, as `verifyCsr`.
 */
export async function verifyCsrAsync(
  input: CertificationRequest | Uint8Array | string,
  options: { provider?: CryptoProvider } = {},
): Promise<CertificationRequest> {
  const provider = options.provider ?? defaultProvider();
  const { csr, alg } = precheckCsr(input);
  let ok: boolean;
  try {
    ok = await provider.verifyAsync(alg, csr.subjectPublicKeyInfo.der, csr.tbs, csr.signatureValue);
  } catch (e) {
    throw csrCryptoError(e);
  }
  if (!ok) throw new IssueError('csr-bad-signature', 'CSR signature does not verify with its own public key');
  return csr;
}

function csrCryptoError(e: unknown): unknown {
  if (e instanceof CryptoError)
    return new IssueError('csr-unsupported-algorithm', `cannot verify the CSR: ${e.message}`, { cause: e });
  return e;
}

/** Parsing and the checks that need no cryptography: algorithm, BIT STRING, DER ECDSA value. */
function precheckCsr(input: CertificationRequest | Uint8Array | string): {
  csr: CertificationRequest;
  alg: SignatureAlgorithm;
} {
  let csr: CertificationRequest;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      csr = parseCsr(input);
    } catch (e) {
      if (isDecodeError(e))
        throw new IssueError('csr-malformed', `malformed CSR: ${(e as Error).message}`, { cause: e });
      throw e;
    }
  } else csr = input;
  let alg: SignatureAlgorithm;
  try {
    alg = parseSignatureAlgorithm(csr.signatureAlgorithm);
  } catch (e) {
    throw new IssueError('csr-unsupported-algorithm', `CSR signature algorithm: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (csr.signatureUnusedBits !== 0)
    throw new IssueError('csr-bad-signature', 'CSR signature BIT STRING has unused bits');
  const spki = csr.subjectPublicKeyInfo;
  if (alg.kind === 'ecdsa' && spki.keyAlgorithm.kind === 'ec') {
    const curve = supportedCurve(spki.keyAlgorithm.curve);
    if (curve && !readEcdsaSignature(csr.signatureValue, curve))
      throw new IssueError(
        'csr-bad-signature',
        'CSR ECDSA signature is not a DER Ecdsa-Sig-Value with r, s in range',
      );
  }
  return { csr, alg };
}
