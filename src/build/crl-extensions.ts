import { OID } from '../der/oid-names.js';
import { DerWriter, encodeDer } from '../der/writer.js';
import { makeExtension } from '../x509/encode.js';
import type {
  CRLReason,
  Extension,
  IssuingDistributionPoint,
  ReasonFlags,
} from '../x509/extensions/types.js';
import { writeGeneralName } from '../x509/general-name.js';
import { BuildError } from './errors.js';

/**
 * Encoders for the CRL and CRL-entry extensions the CrlBuilder writes (RFC 5280 §5.2, §5.3).
 * Kept here, encode-only, so the builder does not wait on the x509 codecs for these OIDs; the
 * parser side (x509/extensions) decodes them, and the tests read every CRL back through it.
 */

/** §5.3.1 CRLReason ::= ENUMERATED — value 7 is not used. */
export const CRL_REASON_CODES: Readonly<Record<CRLReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

export function isCrlReason(s: string): s is CRLReason {
  return Object.hasOwn(CRL_REASON_CODES, s);
}

/** §5.2.3 cRLNumber / §5.2.4 BaseCRLNumber: INTEGER (0..MAX). */
function integerExtension(oid: string, critical: boolean, n: bigint): Extension {
  return makeExtension(
    oid,
    critical,
    encodeDer((w) => w.integer(n), 24),
  );
}

export function crlNumberExtension(n: bigint): Extension {
  return integerExtension(OID.cRLNumber, false, n);
}

/** §5.2.4: deltaCRLIndicator is critical. */
export function deltaCrlIndicatorExtension(base: bigint): Extension {
  return integerExtension(OID.deltaCRLIndicator, true, base);
}

// §5.3.1: reasonCode extensions are built once per reason.
const REASON_EXT = new Map<CRLReason, Extension>();
export function reasonCodeExtension(r: CRLReason): Extension {
  let e = REASON_EXT.get(r);
  if (!e) {
    e = makeExtension(
      OID.reasonCode,
      false,
      encodeDer((w) => w.enumerated(CRL_REASON_CODES[r]), 4),
    );
    REASON_EXT.set(r, e);
  }
  return e;
}

/** §5.3.2 invalidityDate ::= GeneralizedTime (always GeneralizedTime, unlike other CRL times). */
export function invalidityDateExtension(t: number): Extension {
  return makeExtension(
    OID.invalidityDate,
    false,
    encodeDer((w) => w.generalizedTime(t - (t % 1000)), 20),
  );
}

const REASON_BITS: readonly (keyof ReasonFlags)[] = [
  'unused',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
];

/**
 * §5.2.5 issuingDistributionPoint (critical):
 *   SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL,
 *              onlyContainsUserCerts [1] BOOLEAN DEFAULT FALSE, onlyContainsCACerts [2] BOOLEAN DEFAULT FALSE,
 *              onlySomeReasons [3] ReasonFlags OPTIONAL, indirectCRL [4] BOOLEAN DEFAULT FALSE,
 *              onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }
 *   DistributionPointName ::= CHOICE { fullName [0] GeneralNames, nameRelativeToCRLIssuer [1] RDN }
 * Only `fullName` is written (what every relying party understands). At most one of the
 * onlyContains* flags may be TRUE (§5.2.5).
 */
export function issuingDistributionPointExtension(v: Partial<IssuingDistributionPoint>): Extension {
  const only = [v.onlyContainsUserCerts, v.onlyContainsCACerts, v.onlyContainsAttributeCerts].filter(
    Boolean,
  ).length;
  if (only > 1)
    throw new BuildError('bad-input', 'issuingDistributionPoint: at most one onlyContains* flag may be set');
  const dp = v.distributionPoint;
  if (dp && !dp.fullName)
    throw new BuildError('bad-input', 'issuingDistributionPoint: only fullName is supported');
  if (dp?.fullName && dp.fullName.length === 0)
    throw new BuildError('bad-input', 'issuingDistributionPoint: fullName must not be empty');
  const w = new DerWriter(128);
  w.sequence((w) => {
    if (dp?.fullName)
      w.constructed(0xa0, (w) =>
        w.constructed(0xa0, (w) => {
          for (const g of dp.fullName!) writeGeneralName(w, g);
        }),
      );
    if (v.onlyContainsUserCerts) w.tlv(0x81, Uint8Array.of(0xff));
    if (v.onlyContainsCACerts) w.tlv(0x82, Uint8Array.of(0xff));
    if (v.onlySomeReasons) {
      const bits: number[] = [];
      REASON_BITS.forEach((b, i) => {
        if (v.onlySomeReasons![b]) bits.push(i);
      });
      w.namedBits(bits, 0x83);
    }
    if (v.indirectCRL) w.tlv(0x84, Uint8Array.of(0xff));
    if (v.onlyContainsAttributeCerts) w.tlv(0x85, Uint8Array.of(0xff));
  });
  return makeExtension(OID.issuingDistributionPoint, true, w.finish());
}
