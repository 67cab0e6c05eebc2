import { OID } from '../../der/oid-names.js';
import { DEFAULT_LIMITS, type DerLimits, DerReader } from '../../der/reader.js';
import { DerWriter } from '../../der/writer.js';
import { type AlgorithmIdentifier, readAlgorithmIdentifier } from '../../x509/algorithm.js';
import { type Certificate, readCertificate } from '../../x509/certificate.js';
import { EMPTY_EXTENSIONS, type ExtensionSet, readExtensions } from '../../x509/extension-list.js';
import type { Extension } from '../../x509/extensions/types.js';
import { type GeneralName, readGeneralName, writeGeneralName } from '../../x509/general-name.js';
import { RevocationError } from '../errors.js';
import { type CertId, readCertId } from './cert-id.js';
import { decodeAs } from './decode.js';
import { parseNonce } from './nonce.js';

/**
 * RFC 6960 §4.1.1 (module EXPLICIT TAGS):
 *   OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] Signature OPTIONAL }
 *   TBSRequest  ::= SEQUENCE { version [0] Version DEFAULT v1, requestorName [1] GeneralName OPTIONAL,
 *                              requestList SEQUENCE OF Request, requestExtensions [2] Extensions OPTIONAL }
 *   Signature   ::= SEQUENCE { signatureAlgorithm, signature BIT STRING, certs [0] SEQUENCE OF Certificate OPTIONAL }
 *   Request     ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] Extensions OPTIONAL }
 * Strict DER; version must be absent (v1 is the DEFAULT, X.690 §11.5) or an explicit v1 is
 * rejected as `default-value-encoded`. A signature is parsed (and kept) but never required.
 * Every decoding failure is `RevocationError('malformed-request')` with the cause.
 */
export interface OcspSingleRequest {
  reqCert: CertId;
  singleRequestExtensions: readonly Extension[];
}

export interface OcspRequestSignature {
  signatureAlgorithm: AlgorithmIdentifier;
  signature: Uint8Array;
  certs: readonly Certificate[];
  der: Uint8Array;
}

export interface OcspRequest {
  der: Uint8Array;
  /** The TBSRequest TLV (what an optional signature covers). */
  tbsRequest: Uint8Array;
  requestorName?: GeneralName;
  requestList: readonly OcspSingleRequest[];
  requestExtensions: readonly Extension[];
  /** The nonce octets when the request carries a (well-formed) nonce extension. */
  nonce?: Uint8Array;
  optionalSignature?: OcspRequestSignature;
}

export interface OcspRequestLimits {
  /** Largest request body accepted, in bytes. */
  maxBytes: number;
  /** Most single requests in one OCSPRequest. */
  maxRequests: number;
}

/**
 * 64 KiB fits a request with 500+ CertIDs and a signing chain; real clients send one CertID
 * (~70-120 bytes). 100 CertIDs is what a TLS server stapling for many names might ask at once;
 * each costs a lookup and a SingleResponse.
 */
export const DEFAULT_REQUEST_LIMITS: Readonly<OcspRequestLimits> = Object.freeze({
  maxBytes: 64 * 1024,
  maxRequests: 100,
});

/** Requests are small and shallow; 32 levels and 4096 elements per list bound the work on hostile input. */
const REQUEST_DER_LIMITS: Readonly<DerLimits> = Object.freeze({
  ...DEFAULT_LIMITS,
  maxDepth: 32,
  maxElements: 4096,
});

export function parseOcspRequest(
  der: Uint8Array,
  limits: Readonly<OcspRequestLimits> = DEFAULT_REQUEST_LIMITS,
): OcspRequest {
  if (der.length > limits.maxBytes)
    throw new RevocationError(
      'request-too-large',
      `OCSP request of ${der.length} bytes exceeds ${limits.maxBytes}`,
    );
  const req = decodeAs('malformed-request', 'OCSPRequest', () => {
    const r = DerReader.from(der, 'OCSPRequest', REQUEST_DER_LIMITS);
    const outer = r.readSequence('OCSPRequest');
    const tbsStart = outer.pos;
    const tbs = outer.readSequence('tbsRequest');
    const tbsRequest = der.subarray(tbsStart, outer.pos);
    const vr = tbs.readOptionalExplicit(0, 'version');
    if (vr) {
      const v = vr.readSmallInt('version', 255);
      vr.finish();
      if (v === 0)
        vr.fail('default-value-encoded', 'version v1 is the DEFAULT and must not be encoded', vr.lastOffset);
      vr.fail('integer-out-of-range', `unsupported OCSPRequest version ${v + 1}`, vr.lastOffset);
    }
    let requestorName: GeneralName | undefined;
    const rn = tbs.readOptionalExplicit(1, 'requestorName');
    if (rn) {
      requestorName = readGeneralName(rn, 'requestorName');
      rn.finish();
    }
    const list = tbs.readSequence('requestList');
    const requestList: OcspSingleRequest[] = [];
    list.forEach('Request', (lr, i) => {
      if (i >= limits.maxRequests)
        throw new RevocationError(
          'too-many-requests',
          `more than ${limits.maxRequests} requests in one OCSPRequest`,
        );
      const q = lr.readSequence('Request');
      const reqCert = readCertId(q, 'reqCert');
      let ext: ExtensionSet = EMPTY_EXTENSIONS;
      const er = q.readOptionalExplicit(0, 'singleRequestExtensions');
      if (er) {
        ext = readExtensions(er, 'singleRequestExtensions', false);
        er.finish();
      }
      q.finish();
      requestList.push({ reqCert, singleRequestExtensions: ext.list });
    });
    if (requestList.length === 0) list.fail('empty', 'requestList is empty');
    let ext: ExtensionSet = EMPTY_EXTENSIONS;
    const er = tbs.readOptionalExplicit(2, 'requestExtensions');
    if (er) {
      ext = readExtensions(er, 'requestExtensions', false);
      er.finish();
    }
    tbs.finish();
    let optionalSignature: OcspRequestSignature | undefined;
    const sr = outer.readOptionalExplicit(0, 'optionalSignature');
    if (sr) {
      const sigStart = sr.pos;
      const s = sr.readSequence('Signature');
      const signatureAlgorithm = readAlgorithmIdentifier(s, 'signatureAlgorithm');
      const signature = s.readBitStringBytes('signature');
      const certs: Certificate[] = [];
      const cr = s.readOptionalExplicit(0, 'certs');
      if (cr) {
        const seq = cr.readSequence('certs');
        seq.forEach('Certificate', (c) => {
          certs.push(readCertificate(c));
        });
        cr.finish();
      }
      s.finish();
      optionalSignature = { signatureAlgorithm, signature, certs, der: der.subarray(sigStart, sr.pos) };
      sr.finish();
    }
    outer.finish();
    r.finish();
    return {
      der,
      tbsRequest,
      requestorName,
      requestList,
      requestExtensions: ext.list,
      optionalSignature,
    } as OcspRequest;
  });
  for (const e of req.requestExtensions) if (e.oid === OID.ocspNonce) req.nonce = parseNonce(e.value);
  return req;
}

export interface OcspRequestFields {
  requestList: readonly { reqCert: CertId; singleRequestExtensions?: readonly Extension[] }[];
  requestorName?: GeneralName;
  requestExtensions?: readonly Extension[];
  /** Pre-encoded Signature TLV (signing requests is rare; RFC 6960 §4.1.2 makes it optional). */
  optionalSignature?: Uint8Array;
}

/** Encodes an OCSPRequest (canonical DER; version left at its DEFAULT). */
export function encodeOcspRequest(f: OcspRequestFields): Uint8Array {
  const w = new DerWriter(128 + f.requestList.length * 80);
  w.sequence((w) => {
    w.sequence((w) => {
      if (f.requestorName) w.explicit(1, (w) => writeGeneralName(w, f.requestorName!));
      w.sequence((w) => {
        for (const q of f.requestList)
          w.sequence((w) => {
            w.raw(q.reqCert.der);
            if (q.singleRequestExtensions && q.singleRequestExtensions.length > 0)
              w.explicit(0, (w) =>
                w.sequence((w) =>
                  q.singleRequestExtensions!.forEach((x) => {
                    w.raw(x.der);
                  }),
                ),
              );
          });
      });
      if (f.requestExtensions && f.requestExtensions.length > 0)
        w.explicit(2, (w) =>
          w.sequence((w) =>
            f.requestExtensions!.forEach((x) => {
              w.raw(x.der);
            }),
          ),
        );
    });
    if (f.optionalSignature) w.explicit(0, (w) => w.raw(f.optionalSignature!));
  });
  return w.finish();
}

/** Rebuilds a parsed request from its fields (equal to `req.der` for canonical input). */
export function reencodeOcspRequest(req: OcspRequest): Uint8Array {
  return encodeOcspRequest({
    requestList: req.requestList,
    requestorName: req.requestorName,
    requestExtensions: req.requestExtensions,
    optionalSignature: req.optionalSignature?.der,
  });
}
