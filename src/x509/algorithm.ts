import { bytesEqual } from '../der/bytes.js';
import { DerError } from '../der/errors.js';
import { OID } from '../der/oid-names.js';
import { DerReader } from '../der/reader.js';
import { Tag } from '../der/tags.js';
import { type DerWriter, encodeDer } from '../der/writer.js';
import { X509Error } from './errors.js';

/**
 * RFC 5280 §4.1.1.2:  AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }
 * `parameters` holds the raw parameter TLV (undefined when absent); `der` the whole TLV, so the
 * TBS and outer signature algorithms can be compared byte for byte (RFC 5280 §4.1.1.2).
 */
export interface AlgorithmIdentifier {
  oid: string;
  parameters?: Uint8Array;
  der: Uint8Array;
}

export type HashName = 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'MD5';

/** A signature algorithm with its parameters made explicit. */
export type SignatureAlgorithm =
  | { kind: 'rsa-pkcs1'; hash: HashName }
  | { kind: 'rsa-pss'; hash: HashName; mgfHash: HashName; saltLength: number }
  | { kind: 'ecdsa'; hash: HashName }
  | { kind: 'ed25519' }
  | { kind: 'ed448' }
  | { kind: 'dsa'; hash: HashName };

export function readAlgorithmIdentifier(r: DerReader, name: string): AlgorithmIdentifier {
  const start = r.pos;
  const s = r.readSequence(name);
  const oid = s.readOid('algorithm');
  const parameters = s.atEnd() ? undefined : s.readAny('parameters').der;
  s.finish();
  return { oid, parameters, der: r.bytes.subarray(start, r.pos) };
}

export function writeAlgorithmIdentifier(w: DerWriter, a: AlgorithmIdentifier): void {
  w.raw(a.der);
}

export function makeAlgorithmIdentifier(oid: string, parameters?: Uint8Array): AlgorithmIdentifier {
  const der = encodeDer((w) =>
    w.sequence((w) => {
      w.oid(oid);
      if (parameters) w.raw(parameters);
    }),
  );
  return { oid, parameters, der };
}

const RSA_PKCS1: Record<string, HashName> = {
  [OID.md5WithRSAEncryption]: 'MD5',
  [OID.sha1WithRSAEncryption]: 'SHA-1',
  [OID.sha224WithRSAEncryption]: 'SHA-224',
  [OID.sha256WithRSAEncryption]: 'SHA-256',
  [OID.sha384WithRSAEncryption]: 'SHA-384',
  [OID.sha512WithRSAEncryption]: 'SHA-512',
};
const ECDSA: Record<string, HashName> = {
  [OID.ecdsaWithSHA1]: 'SHA-1',
  [OID.ecdsaWithSHA224]: 'SHA-224',
  [OID.ecdsaWithSHA256]: 'SHA-256',
  [OID.ecdsaWithSHA384]: 'SHA-384',
  [OID.ecdsaWithSHA512]: 'SHA-512',
};
const DSA: Record<string, HashName> = { [OID.dsaWithSHA1]: 'SHA-1', [OID.dsaWithSHA256]: 'SHA-256' };
export const HASH_OIDS: Record<string, HashName> = {
  [OID.sha1]: 'SHA-1',
  [OID.sha224]: 'SHA-224',
  [OID.sha256]: 'SHA-256',
  [OID.sha384]: 'SHA-384',
  [OID.sha512]: 'SHA-512',
  [OID.md5]: 'MD5',
};
export const HASH_OID_BY_NAME: Record<HashName, string> = {
  'SHA-1': OID.sha1,
  'SHA-224': OID.sha224,
  'SHA-256': OID.sha256,
  'SHA-384': OID.sha384,
  'SHA-512': OID.sha512,
  MD5: OID.md5,
};
const HASH_LEN: Record<HashName, number> = {
  MD5: 16,
  'SHA-1': 20,
  'SHA-224': 28,
  'SHA-256': 32,
  'SHA-384': 48,
  'SHA-512': 64,
};
export const hashLength = (h: HashName): number => HASH_LEN[h];

const NULL_TLV = Uint8Array.of(0x05, 0x00);
const isNull = (p: Uint8Array | undefined) => p !== undefined && bytesEqual(p, NULL_TLV);

function badParams(a: Pick<AlgorithmIdentifier, 'oid'>, why: string): never {
  throw new X509Error('bad-algorithm-parameters', `${a.oid}: ${why}`);
}

/**
 * Interprets a signature AlgorithmIdentifier with the exact parameter rules:
 * - RSA PKCS#1 v1.5: parameters NULL; RFC 4055 §5 also requires accepting them absent.
 * - ECDSA: parameters absent (RFC 5758 §3.2). DSA: absent (RFC 3279 §2.2.2).
 * - Ed25519/Ed448: absent (RFC 8410 §3).
 * - RSASSA-PSS: RSASSA-PSS-params present (RFC 4055 §3.1); DEFAULT values must not be encoded
 *   (DER), MGF must be MGF1 with the same hash, trailerField must be 1.
 */
export function parseSignatureAlgorithm(a: AlgorithmIdentifier): SignatureAlgorithm {
  const p = a.parameters;
  const rsa = RSA_PKCS1[a.oid];
  if (rsa) {
    if (p !== undefined && !isNull(p)) badParams(a, 'RSA PKCS#1 parameters must be NULL');
    return { kind: 'rsa-pkcs1', hash: rsa };
  }
  const ec = ECDSA[a.oid];
  if (ec) {
    if (p !== undefined) badParams(a, 'ECDSA parameters must be absent');
    return { kind: 'ecdsa', hash: ec };
  }
  if (a.oid === OID.ed25519 || a.oid === OID.ed448) {
    if (p !== undefined) badParams(a, 'EdDSA parameters must be absent');
    return { kind: a.oid === OID.ed25519 ? 'ed25519' : 'ed448' };
  }
  if (a.oid === OID.rsassaPss) {
    if (p === undefined) badParams(a, 'RSASSA-PSS parameters are required');
    return parsePssParams(p, a);
  }
  const dsa = DSA[a.oid];
  if (dsa) {
    if (p !== undefined) badParams(a, 'DSA parameters must be absent');
    return { kind: 'dsa', hash: dsa };
  }
  throw new X509Error('unknown-algorithm', `unsupported signature algorithm ${a.oid}`);
}

/** Reads a hash AlgorithmIdentifier: parameters NULL or absent (RFC 4055 §2.1). */
function readHashAlg(r: DerReader, name: string, outer: Pick<AlgorithmIdentifier, 'oid'>): HashName {
  const h = readAlgorithmIdentifier(r, name);
  const hash = HASH_OIDS[h.oid];
  if (!hash) badParams(outer, `unsupported hash ${h.oid} in ${name}`);
  if (h.parameters !== undefined && !isNull(h.parameters))
    badParams(outer, `${name} parameters must be NULL or absent`);
  return hash;
}

/**
 * RFC 4055 §3.1:
 *   RSASSA-PSS-params ::= SEQUENCE {
 *     hashAlgorithm    [0] HashAlgorithm    DEFAULT sha1,
 *     maskGenAlgorithm [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
 *     saltLength       [2] INTEGER          DEFAULT 20,
 *     trailerField     [3] TrailerField     DEFAULT trailerFieldBC (1) }
 */
export function parsePssParams(p: Uint8Array, a: Pick<AlgorithmIdentifier, 'oid'>): SignatureAlgorithm {
  try {
    const r = DerReader.from(p, 'RSASSA-PSS-params');
    const s = r.readSequence('RSASSA-PSS-params');
    let hash: HashName = 'SHA-1';
    let mgfHash: HashName = 'SHA-1';
    let saltLength = 20;
    const h = s.readOptionalExplicit(0, 'hashAlgorithm');
    if (h) {
      hash = readHashAlg(h, 'hashAlgorithm', a);
      h.finish();
      if (hash === 'SHA-1') s.fail('default-value-encoded', 'hashAlgorithm DEFAULT sha1 encoded');
    }
    const m = s.readOptionalExplicit(1, 'maskGenAlgorithm');
    if (m) {
      const mgf = m.readSequence('maskGenAlgorithm');
      if (mgf.readOid('algorithm') !== OID.mgf1) badParams(a, 'only MGF1 is supported');
      mgfHash = readHashAlg(mgf, 'mgf1Hash', a);
      mgf.finish();
      m.finish();
      if (mgfHash === 'SHA-1') s.fail('default-value-encoded', 'maskGenAlgorithm DEFAULT mgf1SHA1 encoded');
    }
    const sl = s.readOptionalExplicit(2, 'saltLength');
    if (sl) {
      saltLength = sl.readSmallInt('saltLength', 1024);
      sl.finish();
      if (saltLength === 20) s.fail('default-value-encoded', 'saltLength DEFAULT 20 encoded');
    }
    const t = s.readOptionalExplicit(3, 'trailerField');
    if (t) {
      const tf = t.readSmallInt('trailerField');
      t.finish();
      if (tf !== 1) badParams(a, 'trailerField must be 1');
      s.fail('default-value-encoded', 'trailerField DEFAULT 1 encoded');
    }
    s.finish();
    r.finish();
    if (mgfHash !== hash) badParams(a, 'MGF1 hash differs from the message hash');
    return { kind: 'rsa-pss', hash, mgfHash, saltLength };
  } catch (e) {
    if (e instanceof DerError)
      throw new X509Error('bad-algorithm-parameters', `RSASSA-PSS-params: ${e.message}`);
    throw e;
  }
}

const SIG_OID: Record<string, string> = {};
for (const [oid, h] of Object.entries(RSA_PKCS1)) SIG_OID[`rsa-pkcs1/${h}`] = oid;
for (const [oid, h] of Object.entries(ECDSA)) SIG_OID[`ecdsa/${h}`] = oid;
for (const [oid, h] of Object.entries(DSA)) SIG_OID[`dsa/${h}`] = oid;
const encodedCache = new Map<string, Uint8Array>();

/** The canonical AlgorithmIdentifier TLV for a signature algorithm. */
export function encodeSignatureAlgorithm(s: SignatureAlgorithm): Uint8Array {
  const key =
    s.kind === 'rsa-pss'
      ? `pss/${s.hash}/${s.mgfHash}/${s.saltLength}`
      : `${s.kind}/${'hash' in s ? s.hash : ''}`;
  const hit = encodedCache.get(key);
  if (hit) return hit;
  let der: Uint8Array;
  switch (s.kind) {
    case 'rsa-pkcs1':
      der = makeAlgorithmIdentifier(SIG_OID[`rsa-pkcs1/${s.hash}`]!, NULL_TLV).der;
      break;
    case 'ecdsa':
    case 'dsa': {
      const oid = SIG_OID[`${s.kind}/${s.hash}`];
      if (!oid) throw new X509Error('cannot-encode', `no OID for ${s.kind} with ${s.hash}`);
      der = makeAlgorithmIdentifier(oid).der;
      break;
    }
    case 'ed25519':
      der = makeAlgorithmIdentifier(OID.ed25519).der;
      break;
    case 'ed448':
      der = makeAlgorithmIdentifier(OID.ed448).der;
      break;
    case 'rsa-pss':
      der = encodeDer((w) =>
        w.sequence((w) => {
          w.oid(OID.rsassaPss);
          w.sequence((w) => {
            if (s.hash !== 'SHA-1')
              w.explicit(0, (w) => w.sequence((w) => w.oid(HASH_OID_BY_NAME[s.hash]).null()));
            if (s.mgfHash !== 'SHA-1')
              w.explicit(1, (w) =>
                w.sequence((w) => {
                  w.oid(OID.mgf1);
                  w.sequence((w) => w.oid(HASH_OID_BY_NAME[s.mgfHash]).null());
                }),
              );
            if (s.saltLength !== 20) w.explicit(2, (w) => w.integer(s.saltLength));
          });
        }),
      );
      break;
  }
  if (der.length === 0 || der[0] !== Tag.SEQUENCE)
    throw new X509Error('cannot-encode', 'bad algorithm encoding');
  encodedCache.set(key, der);
  return der;
}

/** Short human name, e.g. "ecdsa-with-SHA256", "RSASSA-PSS(SHA-256, salt 32)". */
export function signatureAlgorithmName(s: SignatureAlgorithm): string {
  switch (s.kind) {
    case 'rsa-pkcs1':
      return `${s.hash.replace('-', '').toLowerCase()}WithRSAEncryption`;
    case 'ecdsa':
      return `ecdsa-with-${s.hash.replace('-', '')}`;
    case 'dsa':
      return `dsa-with-${s.hash.replace('-', '')}`;
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    case 'rsa-pss':
      return `RSASSA-PSS(${s.hash}, MGF1-${s.mgfHash}, salt ${s.saltLength})`;
  }
}
