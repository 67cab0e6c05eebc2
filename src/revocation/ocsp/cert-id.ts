import { bytesEqual, toHex } from '../../der/bytes.js';
import { OID } from '../../der/oid-names.js';
import { DerReader } from '../../der/reader.js';
import { type DerWriter, encodeDer } from '../../der/writer.js';
import { type AlgorithmIdentifier, type HashName, readAlgorithmIdentifier } from '../../x509/algorithm.js';
import type { Certificate } from '../../x509/certificate.js';
import { RevocationError } from '../errors.js';

/**
 * RFC 6960 §4.1.1:
 *   CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                         issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
 * issuerNameHash = H(DER of the issuer's subject Name); issuerKeyHash = H(the issuer's
 * subjectPublicKey BIT STRING value, without tag, length and unused-bits octet).
 * Only SHA-1 (what OpenSSL sends by default) and SHA-256 are computed or matched; the hash
 * AlgorithmIdentifier may carry NULL parameters or none (both are seen: OpenSSL writes NULL).
 */
export interface CertId {
  hashAlgorithm: AlgorithmIdentifier;
  /** `undefined` when the hash OID is not SHA-1/SHA-256 (such a CertID can never match). */
  hash: CertIdHash | undefined;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** serialNumber INTEGER content (two's complement, as encoded). */
  serialNumber: Uint8Array;
  /** The whole CertID TLV. */
  der: Uint8Array;
}

export type CertIdHash = Extract<HashName, 'SHA-1' | 'SHA-256'>;

const HASH_BY_OID: Record<string, CertIdHash> = { [OID.sha1]: 'SHA-1', [OID.sha256]: 'SHA-256' };
const LENGTH: Record<CertIdHash, number> = { 'SHA-1': 20, 'SHA-256': 32 };
const NULL_TLV = Uint8Array.of(0x05, 0x00);

export function readCertId(r: DerReader, name = 'CertID'): CertId {
  const start = r.pos;
  const s = r.readSequence(name);
  const hashAlgorithm = readAlgorithmIdentifier(s, 'hashAlgorithm');
  const issuerNameHash = s.readOctetString('issuerNameHash');
  const issuerKeyHash = s.readOctetString('issuerKeyHash');
  const serialNumber = s.readInteger('serialNumber');
  s.finish();
  let hash: CertIdHash | undefined = HASH_BY_OID[hashAlgorithm.oid];
  const p = hashAlgorithm.parameters;
  // A hash with parameters other than NULL, or hashes of the wrong length, cannot match any issuer.
  if (hash && p !== undefined && !bytesEqual(p, NULL_TLV)) hash = undefined;
  if (hash && (issuerNameHash.length !== LENGTH[hash] || issuerKeyHash.length !== LENGTH[hash]))
    hash = undefined;
  return {
    hashAlgorithm,
    hash,
    issuerNameHash,
    issuerKeyHash,
    serialNumber,
    der: r.bytes.subarray(start, r.pos),
  };
}

export function writeCertId(w: DerWriter, c: CertId): void {
  w.raw(c.der);
}

/** Encodes a CertID from its parts (hash AlgorithmIdentifier with NULL parameters, as OpenSSL does). */
export function encodeCertIdParts(
  w: DerWriter,
  hash: CertIdHash,
  issuerNameHash: Uint8Array,
  issuerKeyHash: Uint8Array,
  serialNumber: Uint8Array,
): void {
  w.sequence((w) => {
    w.sequence((w) => w.oid(hash === 'SHA-1' ? OID.sha1 : OID.sha256).null());
    w.octetString(issuerNameHash);
    w.octetString(issuerKeyHash);
    w.integer(serialNumber);
  });
}

/** The issuer half of a CertID for one hash: what a responder indexes its issuers by. */
export interface IssuerHashes {
  hash: CertIdHash;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
}

/** Hashes an issuer certificate's subject and key for CertIDs (`digest` from the crypto provider). */
export function issuerHashes(
  issuer: Certificate,
  hash: CertIdHash,
  digest: (h: HashName, data: Uint8Array) => Uint8Array,
): IssuerHashes {
  return {
    hash,
    issuerNameHash: digest(hash, issuer.subject.der),
    issuerKeyHash: digest(hash, issuer.subjectPublicKeyInfo.publicKey),
  };
}

/** A map key for the issuer half of a CertID. */
export function issuerKey(hash: CertIdHash, issuerNameHash: Uint8Array, issuerKeyHash: Uint8Array): string {
  return `${hash}:${toHex(issuerNameHash)}:${toHex(issuerKeyHash)}`;
}

/** Builds the CertID for `serialNumber` (INTEGER content) issued by `issuer`. */
export function computeCertId(issuer: IssuerHashes, serialNumber: Uint8Array): CertId {
  const der = encodeDer((w) =>
    encodeCertIdParts(w, issuer.hash, issuer.issuerNameHash, issuer.issuerKeyHash, serialNumber),
  );
  const r = DerReader.from(der, 'CertID');
  const id = readCertId(r);
  r.finish();
  return id;
}

/** Serial numbers compare by value: the INTEGER contents are minimal, so bytes are enough. */
export function sameCertId(a: CertId, b: CertId): boolean {
  return (
    a.hash !== undefined &&
    a.hash === b.hash &&
    bytesEqual(a.serialNumber, b.serialNumber) &&
    bytesEqual(a.issuerNameHash, b.issuerNameHash) &&
    bytesEqual(a.issuerKeyHash, b.issuerKeyHash)
  );
}

export function checkCertIdHash(h: string): CertIdHash {
  if (h === 'SHA-1' || h === 'SHA-256') return h;
  throw new RevocationError('unsupported-hash', `CertID hash ${h} is not supported (SHA-1 or SHA-256)`);
}
