import { OID } from '../der/oid-names.js';
import { makeExtension } from '../x509/encode.js';
import { encodeCRLNumber } from '../x509/extensions/crl-number.js';
import { encodeInvalidityDate } from '../x509/extensions/invalidity-date.js';
import { encodeIssuingDistributionPoint } from '../x509/extensions/issuing-distribution-point.js';
import { CRL_REASONS, crlReasonCode, encodeReasonCode } from '../x509/extensions/reason-code.js';
import type { CRLReason, Extension, IssuingDistributionPoint } from '../x509/extensions/types.js';
import { IssueError } from './errors.js';

/**
 * The CRL and CRL-entry extensions the CrlBuilder writes (RFC 5280 §5.2, §5.3), built with the
 * x509 codecs plus the builder's own rules (criticality, the IDP forms we issue).
 */

/** §5.3.1 CRLReason ::= ENUMERATED — value 7 is not used. */
export const CRL_REASON_CODES: Readonly<Record<CRLReason, number>> = Object.fromEntries(
  CRL_REASONS.map((r) => [r, crlReasonCode(r)]),
) as Record<CRLReason, number>;

export function isCrlReason(s: string): s is CRLReason {
  return Object.hasOwn(CRL_REASON_CODES, s);
}

/** §5.2.3 cRLNumber: non-critical. */
export function crlNumberExtension(n: bigint): Extension {
  return makeExtension(OID.cRLNumber, false, encodeCRLNumber(n));
}

/** §5.2.4: deltaCRLIndicator (a BaseCRLNumber) is critical. */
export function deltaCrlIndicatorExtension(base: bigint): Extension {
  return makeExtension(OID.deltaCRLIndicator, true, encodeCRLNumber(base));
}

// §5.3.1: reasonCode extensions are built once per reason.
const REASON_EXT = new Map<CRLReason, Extension>();
export function reasonCodeExtension(r: CRLReason): Extension {
  let e = REASON_EXT.get(r);
  if (!e) {
    e = makeExtension(OID.reasonCode, false, encodeReasonCode(r));
    REASON_EXT.set(r, e);
  }
  return e;
}

/** §5.3.2 invalidityDate ::= GeneralizedTime (always GeneralizedTime, unlike other CRL times). */
export function invalidityDateExtension(t: number): Extension {
  return makeExtension(OID.invalidityDate, false, encodeInvalidityDate(t - (t % 1000)));
}

/**
 * §5.2.5 issuingDistributionPoint (critical). Only `fullName` is written (what every relying
 * party understands), and at most one of the onlyContains* flags may be TRUE.
 */
export function issuingDistributionPointExtension(v: Partial<IssuingDistributionPoint>): Extension {
  const only = [v.onlyContainsUserCerts, v.onlyContainsCACerts, v.onlyContainsAttributeCerts].filter(
    Boolean,
  ).length;
  if (only > 1)
    throw new IssueError('bad-input', 'issuingDistributionPoint: at most one onlyContains* flag may be set');
  const dp = v.distributionPoint;
  if (dp && !dp.fullName)
    throw new IssueError('bad-input', 'issuingDistributionPoint: only fullName is supported');
  if (dp?.fullName && dp.fullName.length === 0)
    throw new IssueError('bad-input', 'issuingDistributionPoint: fullName must not be empty');
  const value = encodeIssuingDistributionPoint({
    distributionPoint: dp,
    onlyContainsUserCerts: v.onlyContainsUserCerts ?? false,
    onlyContainsCACerts: v.onlyContainsCACerts ?? false,
    onlySomeReasons: v.onlySomeReasons,
    indirectCRL: v.indirectCRL ?? false,
    onlyContainsAttributeCerts: v.onlyContainsAttributeCerts ?? false,
  });
  return makeExtension(OID.issuingDistributionPoint, true, value);
}
