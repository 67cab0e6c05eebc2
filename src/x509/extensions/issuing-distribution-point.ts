import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { fail, parseValue, readImplicitBoolean } from './common.js';
import {
  readDistributionPointName,
  readReasonFlags,
  writeDistributionPointName,
  writeReasonFlags,
} from './distribution-point.js';
import type { IssuingDistributionPoint } from './types.js';

/**
 * RFC 5280 §5.2.5 issuingDistributionPoint (2.5.29.28), a critical CRL extension:
 *   SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL,
 *              onlyContainsUserCerts [1] BOOLEAN DEFAULT FALSE,
 *              onlyContainsCACerts [2] BOOLEAN DEFAULT FALSE,
 *              onlySomeReasons [3] ReasonFlags OPTIONAL,
 *              indirectCRL [4] BOOLEAN DEFAULT FALSE,
 *              onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }   (IMPLICIT: tags 81..85)
 * Strict: an empty sequence is rejected (`empty-sequence`; §5.2.5 "MUST NOT issue CRLs where the
 * DER encoding of the issuing distribution point extension is an empty sequence").
 * Tolerated: explicit FALSE booleans (see `readImplicitBoolean`). More than one of the
 * onlyContains* flags set is a §5.2.5 issuer error that the revocation layer reports.
 */
export function parseIssuingDistributionPoint(value: Uint8Array, offset = 0): IssuingDistributionPoint {
  return parseValue(value, offset, (r) => {
    const s = r.readSequence('IssuingDistributionPoint');
    if (s.atEnd()) fail(r, 'empty-sequence', 'issuingDistributionPoint must not be an empty sequence', 0);
    const out: IssuingDistributionPoint = {
      onlyContainsUserCerts: false,
      onlyContainsCACerts: false,
      indirectCRL: false,
      onlyContainsAttributeCerts: false,
    };
    if (s.peekTag() === 0xa0) out.distributionPoint = readDistributionPointName(s);
    out.onlyContainsUserCerts = readImplicitBoolean(s, 0x81, 'onlyContainsUserCerts') ?? false;
    out.onlyContainsCACerts = readImplicitBoolean(s, 0x82, 'onlyContainsCACerts') ?? false;
    if (s.peekTag() === 0x83) out.onlySomeReasons = readReasonFlags(s, 0x83, 'onlySomeReasons');
    out.indirectCRL = readImplicitBoolean(s, 0x84, 'indirectCRL') ?? false;
    out.onlyContainsAttributeCerts = readImplicitBoolean(s, 0x85, 'onlyContainsAttributeCerts') ?? false;
    s.finish();
    return out;
  });
}

export function encodeIssuingDistributionPoint(v: IssuingDistributionPoint): Uint8Array {
  const der = encodeDer((w) =>
    w.sequence((w) => {
      if (v.distributionPoint) writeDistributionPointName(w, v.distributionPoint);
      if (v.onlyContainsUserCerts) w.tlv(0x81, TRUE);
      if (v.onlyContainsCACerts) w.tlv(0x82, TRUE);
      if (v.onlySomeReasons) writeReasonFlags(w, 0x83, v.onlySomeReasons);
      if (v.indirectCRL) w.tlv(0x84, TRUE);
      if (v.onlyContainsAttributeCerts) w.tlv(0x85, TRUE);
    }),
  );
  if (der.length === 2) throw new X509Error('cannot-encode', 'issuingDistributionPoint must not be empty');
  return der;
}

const TRUE = Uint8Array.of(0xff);
