import { OID } from '../../der/oid-names.js';
import { DEFAULT_LIMITS, type DerLimits, DerReader } from '../../der/reader.js';
import { DerWriter } from '../../der/writer.js';
import { type AlgorithmIdentifier, readAlgorithmIdentifier } from '../../x509/algorithm.js';
import { type Certificate, readCertificate } from '../../x509/certificate.js';
import { EMPTY_EXTENSIONS, type ExtensionSet, readExtensions } from '../../x509/extension-list.js';
import type { CRLReason, Extension } from '../../x509/extensions/types.js';
import { type Name, readName } from '../../x509/name.js';
import { RevocationError } from '../errors.js';
import { type CertId, readCertId } from './cert-id.js';
import { decodeAs } from './decode.js';
import { findNonce } from './nonce.js';
import { CRL_REASON_BY_CODE, CRL_REASON_CODE } from './reason.js';

/**
 * RFC 6960 §4.2.1 (module EXPLICIT TAGS, CertStatus alternatives IMPLICIT):
 *   OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED { successful(0), malformedRequest(1),
 *       internalError(2), tryLater(3), -- 4 unused -- sigRequired(5), unauthorized(6) },
 *     responseBytes [0] SEQUENCE { responseType OID, response OCTET STRING } OPTIONAL }
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm,
 *     signature BIT STRING, certs [0] SEQUENCE OF Certificate OPTIONAL }
 *   ResponseData ::= SEQUENCE { version [0] Version DEFAULT v1,
 *     responderID CHOICE { byName [1] Name, byKey [2] OCTET STRING -- SHA-1 of the key -- },
 *     producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse,
 *     responseExtensions [1] Extensions OPTIONAL }
 *   SingleResponse ::= SEQUENCE { certID CertID,
 *     certStatus CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL },
 *     thisUpdate GeneralizedTime, nextUpdate [0] GeneralizedTime OPTIONAL, singleExtensions [1] Extensions OPTIONAL }
 *   RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] CRLReason OPTIONAL }
 * Strict DER throughout; an explicitly encoded v1 is `default-value-encoded`. A successful
 * response must carry responseBytes, a non-successful one must not (§4.2.1). Only
 * id-pkix-ocsp-basic is decoded. Every decoding failure is `RevocationError('malformed-response')`.
 */

export type OcspResponseStatus =
  | 'successful'
  | 'malformedRequest'
  | 'internalError'
  | 'tryLater'
  | 'sigRequired'
  | 'unauthorized';

const STATUS_BY_CODE: readonly (OcspResponseStatus | undefined)[] = [
  'successful',
  'malformedRequest',
  'internalError',
  'tryLater',
  undefined,
  'sigRequired',
  'unauthorized',
];
export const OCSP_STATUS_CODE: Readonly<Record<OcspResponseStatus, number>> = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
};

export type ResponderId = { byName: Name; byKey?: undefined } | { byKey: Uint8Array; byName?: undefined };

export type CertStatus =
  | { status: 'good' }
  | { status: 'revoked'; revocationTime: number; revocationReason?: CRLReason }
  | { status: 'unknown' };

export interface SingleResponse {
  der: Uint8Array;
  certId: CertId;
  certStatus: CertStatus;
  thisUpdate: number;
  nextUpdate?: number;
  singleExtensions: readonly Extension[];
}

export interface BasicOcspResponse {
  der: Uint8Array;
  /** The ResponseData TLV (what the signature covers). */
  tbsResponseData: Uint8Array;
  responderId: ResponderId;
  /** The responderID TLV as encoded. */
  responderIdDer: Uint8Array;
  producedAt: number;
  responses: readonly SingleResponse[];
  responseExtensions: readonly Extension[];
  /** The nonce octets when responseExtensions carry a nonce. */
  nonce?: Uint8Array;
  signatureAlgorithm: AlgorithmIdentifier;
  signature: Uint8Array;
  /** Unused bits of the signature BIT STRING (non-zero never verifies). */
  signatureUnusedBits: number;
  certs: readonly Certificate[];
}

export interface OcspResponse {
  der: Uint8Array;
  responseStatus: OcspResponseStatus;
  responseType?: string;
  /** The response OCTET STRING content (the BasicOCSPResponse DER for id-pkix-ocsp-basic). */
  response?: Uint8Array;
  basic?: BasicOcspResponse;
}

/** Responses carry few certificates and shallow structures; a list of 100 000 SingleResponses is far above any responder. */
const RESPONSE_DER_LIMITS: Readonly<DerLimits> = Object.freeze({
  ...DEFAULT_LIMITS,
  maxDepth: 32,
  maxElements: 100_000,
});

export function parseOcspResponse(der: Uint8Array): OcspResponse {
  const resp = decodeAs('malformed-response', 'OCSPResponse', () => {
    const r = DerReader.from(der, 'OCSPResponse', RESPONSE_DER_LIMITS);
    const s = r.readSequence('OCSPResponse');
    const statusOff = s.pos;
    const code = s.readEnumerated('responseStatus', 255);
    const responseStatus = STATUS_BY_CODE[code];
    if (!responseStatus) s.fail('integer-out-of-range', `responseStatus ${code} is not defined`, statusOff);
    let responseType: string | undefined;
    let response: Uint8Array | undefined;
    const rb = s.readOptionalExplicit(0, 'responseBytes');
    if (rb) {
      const b = rb.readSequence('ResponseBytes');
      responseType = b.readOid('responseType');
      response = b.readOctetString('response');
      b.finish();
      rb.finish();
    }
    s.finish();
    r.finish();
    if (responseStatus === 'successful' && !response)
      s.fail('empty', 'a successful OCSPResponse needs responseBytes', statusOff);
    if (responseStatus !== 'successful' && response)
      s.fail('unexpected-tag', `a ${responseStatus} OCSPResponse must not carry responseBytes`, statusOff);
    return { der, responseStatus, responseType, response } as OcspResponse;
  });
  if (resp.response) {
    if (resp.responseType !== OID.ocspBasic)
      throw new RevocationError(
        'unsupported-response-type',
        `responseType ${resp.responseType} is not id-pkix-ocsp-basic`,
      );
    resp.basic = parseBasicOcspResponse(resp.response);
  }
  return resp;
}

export function parseBasicOcspResponse(der: Uint8Array): BasicOcspResponse {
  const basic = decodeAs('malformed-response', 'BasicOCSPResponse', () => {
    const r = DerReader.from(der, 'BasicOCSPResponse', RESPONSE_DER_LIMITS);
    const b = r.readSequence('BasicOCSPResponse');
    const tbsStart = b.pos;
    const t = b.readSequence('tbsResponseData');
    const tbsResponseData = der.subarray(tbsStart, b.pos);
    const vr = t.readOptionalExplicit(0, 'version');
    if (vr) {
      const v = vr.readSmallInt('version', 255);
      if (v === 0)
        vr.fail('default-value-encoded', 'version v1 is the DEFAULT and must not be encoded', vr.lastOffset);
      vr.fail('integer-out-of-range', `unsupported ResponseData version ${v + 1}`, vr.lastOffset);
    }
    const ridStart = t.pos;
    let responderId: ResponderId;
    const tag = t.peekTag();
    if (tag === 0xa1) {
      const n = t.readExplicit(1, 'byName');
      responderId = { byName: readName(n, 'byName') };
      n.finish();
    } else {
      const k = t.readExplicit(2, 'byKey');
      const key = k.readOctetString('KeyHash');
      k.finish();
      // §4.2.1: KeyHash is the SHA-1 hash of the responder's public key.
      if (key.length !== 20)
        t.fail('unexpected-tag', `byKey hash of ${key.length} octets (SHA-1: 20)`, ridStart);
      responderId = { byKey: key };
    }
    const responderIdDer = der.subarray(ridStart, t.pos);
    const producedAt = t.readGeneralizedTime('producedAt');
    const list = t.readSequence('responses');
    const responses: SingleResponse[] = [];
    list.forEach('SingleResponse', (lr) => {
      responses.push(readSingleResponse(lr));
    });
    let ext: ExtensionSet = EMPTY_EXTENSIONS;
    const er = t.readOptionalExplicit(1, 'responseExtensions');
    if (er) {
      ext = readExtensions(er, 'responseExtensions', false);
      er.finish();
    }
    t.finish();
    const signatureAlgorithm = readAlgorithmIdentifier(b, 'signatureAlgorithm');
    const sig = b.readBitString('signature');
    const certs: Certificate[] = [];
    const cr = b.readOptionalExplicit(0, 'certs');
    if (cr) {
      const seq = cr.readSequence('certs');
      seq.forEach('Certificate', (c) => {
        certs.push(readCertificate(c));
      });
      cr.finish();
    }
    b.finish();
    r.finish();
    return {
      der,
      tbsResponseData,
      responderId,
      responderIdDer,
      producedAt,
      responses,
      responseExtensions: ext.list,
      signatureAlgorithm,
      signature: sig.bytes,
      signatureUnusedBits: sig.unusedBits,
      certs,
    } as BasicOcspResponse;
  });
  // A malformed nonce in a response is the responder's fault: report it as such.
  try {
    basic.nonce = findNonce(basic.responseExtensions);
  } catch (e) {
    throw new RevocationError('malformed-response', 'response nonce is malformed', { cause: e });
  }
  return basic;
}

function readSingleResponse(r: DerReader): SingleResponse {
  const start = r.pos;
  const s = r.readSequence('SingleResponse');
  const certId = readCertId(s, 'certID');
  let certStatus: CertStatus;
  const tag = s.peekTag();
  if (tag === 0x80) {
    const v = s.readValue(0x80, 'good');
    if (v.length) s.fail('bad-null', 'good [0] IMPLICIT NULL has content', s.lastOffset);
    certStatus = { status: 'good' };
  } else if (tag === 0xa1) {
    const ri = s.readConstructed(0xa1, 'revoked');
    const revocationTime = ri.readGeneralizedTime('revocationTime');
    let revocationReason: CRLReason | undefined;
    const rr = ri.readOptionalExplicit(0, 'revocationReason');
    if (rr) {
      const off = rr.pos;
      const code = rr.readEnumerated('CRLReason', 255);
      revocationReason = CRL_REASON_BY_CODE[code];
      if (!revocationReason) rr.fail('integer-out-of-range', `CRLReason ${code} is not defined`, off);
      rr.finish();
    }
    ri.finish();
    certStatus = { status: 'revoked', revocationTime, revocationReason };
  } else if (tag === 0x82) {
    const v = s.readValue(0x82, 'unknown');
    if (v.length) s.fail('bad-null', 'unknown [2] IMPLICIT NULL has content', s.lastOffset);
    certStatus = { status: 'unknown' };
  } else {
    return s.fail('unexpected-tag', `certStatus: unexpected tag 0x${tag.toString(16)}`);
  }
  const thisUpdate = s.readGeneralizedTime('thisUpdate');
  let nextUpdate: number | undefined;
  const nu = s.readOptionalExplicit(0, 'nextUpdate');
  if (nu) {
    nextUpdate = nu.readGeneralizedTime('nextUpdate');
    nu.finish();
  }
  let ext: ExtensionSet = EMPTY_EXTENSIONS;
  const er = s.readOptionalExplicit(1, 'singleExtensions');
  if (er) {
    ext = readExtensions(er, 'singleExtensions', false);
    er.finish();
  }
  s.finish();
  return {
    der: r.bytes.subarray(start, r.pos),
    certId,
    certStatus,
    thisUpdate,
    nextUpdate,
    singleExtensions: ext.list,
  };
}

// ---- encoders ----

export interface SingleResponseFields {
  certId: CertId | Uint8Array;
  certStatus: CertStatus;
  thisUpdate: number;
  nextUpdate?: number;
  singleExtensions?: readonly Extension[];
}

export function writeSingleResponse(w: DerWriter, f: SingleResponseFields): void {
  w.sequence((w) => {
    w.raw(f.certId instanceof Uint8Array ? f.certId : f.certId.der);
    const st = f.certStatus;
    if (st.status === 'good') w.tlv(0x80, EMPTY);
    else if (st.status === 'unknown') w.tlv(0x82, EMPTY);
    else
      w.constructed(0xa1, (w) => {
        w.generalizedTime(st.revocationTime);
        if (st.revocationReason !== undefined)
          w.explicit(0, (w) => w.enumerated(CRL_REASON_CODE[st.revocationReason!]));
      });
    w.generalizedTime(f.thisUpdate);
    if (f.nextUpdate !== undefined) w.explicit(0, (w) => w.generalizedTime(f.nextUpdate!));
    if (f.singleExtensions && f.singleExtensions.length > 0)
      w.explicit(1, (w) =>
        w.sequence((w) =>
          f.singleExtensions!.forEach((x) => {
            w.raw(x.der);
          }),
        ),
      );
  });
}

export function encodeSingleResponse(f: SingleResponseFields): Uint8Array {
  const w = new DerWriter(128);
  writeSingleResponse(w, f);
  return w.finish();
}

export interface ResponseDataFields {
  /** byName (a Name) or byKey (the SHA-1 of the responder's subjectPublicKey); or a pre-encoded responderID TLV. */
  responderId: ResponderId | Uint8Array;
  producedAt: number;
  /** Typed single responses or pre-encoded SingleResponse TLVs (the responder caches those). */
  responses: readonly (SingleResponseFields | Uint8Array)[];
  responseExtensions?: readonly Extension[];
}

export function encodeResponderId(id: ResponderId): Uint8Array {
  const w = new DerWriter(128);
  if (id.byName) w.explicit(1, (w) => w.raw(id.byName!.der));
  else w.explicit(2, (w) => w.octetString(id.byKey!));
  return w.finish();
}

export function encodeResponseData(f: ResponseDataFields): Uint8Array {
  const w = new DerWriter(256 + f.responses.length * 120);
  w.sequence((w) => {
    w.raw(f.responderId instanceof Uint8Array ? f.responderId : encodeResponderId(f.responderId));
    w.generalizedTime(f.producedAt);
    w.sequence((w) => {
      for (const s of f.responses) {
        if (s instanceof Uint8Array) w.raw(s);
        else writeSingleResponse(w, s);
      }
    });
    if (f.responseExtensions && f.responseExtensions.length > 0)
      w.explicit(1, (w) =>
        w.sequence((w) =>
          f.responseExtensions!.forEach((x) => {
            w.raw(x.der);
          }),
        ),
      );
  });
  return w.finish();
}

/** BasicOCSPResponse from signed ResponseData; `certs` are Certificate DERs (e.g. the delegated responder's). */
export function encodeBasicOcspResponse(
  tbsResponseData: Uint8Array,
  signatureAlgorithm: Uint8Array,
  signature: Uint8Array,
  certs: readonly Uint8Array[] = [],
  unusedBits = 0,
): Uint8Array {
  let certLen = 0;
  for (const c of certs) certLen += c.length;
  const w = new DerWriter(
    tbsResponseData.length + signatureAlgorithm.length + signature.length + certLen + 32,
  );
  w.sequence((w) => {
    w.raw(tbsResponseData);
    w.raw(signatureAlgorithm);
    w.bitString(signature, unusedBits);
    if (certs.length > 0)
      w.explicit(0, (w) =>
        w.sequence((w) =>
          certs.forEach((c) => {
            w.raw(c);
          }),
        ),
      );
  });
  return w.finish();
}

/** OCSPResponse; `basic` (the BasicOCSPResponse DER) only with `successful`. */
export function encodeOcspResponse(status: OcspResponseStatus, basic?: Uint8Array): Uint8Array {
  if ((status === 'successful') !== (basic !== undefined))
    throw new RevocationError(
      'bad-configuration',
      'responseBytes go with, and only with, a successful status',
    );
  const w = new DerWriter((basic?.length ?? 0) + 32);
  w.sequence((w) => {
    w.enumerated(OCSP_STATUS_CODE[status]);
    if (basic)
      w.explicit(0, (w) =>
        w.sequence((w) => {
          w.oid(OID.ocspBasic);
          w.octetString(basic);
        }),
      );
  });
  return w.finish();
}

/** The fixed bytes of an error response (no signature, RFC 6960 §2.3). */
export function errorResponse(status: Exclude<OcspResponseStatus, 'successful'>): Uint8Array {
  return encodeOcspResponse(status);
}

/** Rebuilds a parsed response from its fields (equal to `resp.der` for canonical input). */
export function reencodeOcspResponse(resp: OcspResponse): Uint8Array {
  if (!resp.basic) return encodeOcspResponse(resp.responseStatus);
  const b = resp.basic;
  const tbs = encodeResponseData({
    responderId: b.responderId,
    producedAt: b.producedAt,
    responses: b.responses.map((s) => ({
      certId: s.certId,
      certStatus: s.certStatus,
      thisUpdate: s.thisUpdate,
      nextUpdate: s.nextUpdate,
      singleExtensions: s.singleExtensions,
    })),
    responseExtensions: b.responseExtensions,
  });
  const basic = encodeBasicOcspResponse(
    tbs,
    b.signatureAlgorithm.der,
    b.signature,
    b.certs.map((c) => c.der),
    b.signatureUnusedBits,
  );
  return encodeOcspResponse(resp.responseStatus, basic);
}

const EMPTY = new Uint8Array(0);
