import { compareBytes, toHex } from '../../der/bytes.js';
import { DerError } from '../../der/errors.js';
import type { DerReader } from '../../der/reader.js';
import { decodeString, STRING_TAGS } from '../../der/strings.js';
import { type DerWriter, encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { writeGeneralName } from '../general-name.js';
import type { AttributeTypeAndValue } from '../name.js';
import { addressNamesContent, checkAddressNamesForEncoding, maskBits, readNamedBits } from './common.js';
import type { DistributionPoint, DistributionPointName, ReasonFlags } from './types.js';

/**
 * Pieces shared by cRLDistributionPoints, freshestCRL (§4.2.1.13, §4.2.1.15) and
 * issuingDistributionPoint (§5.2.5):
 *   DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL,
 *                                    reasons [1] ReasonFlags OPTIONAL, cRLIssuer [2] GeneralNames OPTIONAL }
 *   DistributionPointName ::= CHOICE { fullName [0] GeneralNames,
 *                                      nameRelativeToCRLIssuer [1] RelativeDistinguishedName }
 *   ReasonFlags ::= BIT STRING { unused(0), keyCompromise(1), cACompromise(2), affiliationChanged(3),
 *     superseded(4), cessationOfOperation(5), certificateHold(6), privilegeWithdrawn(7), aACompromise(8) }
 * Tags are IMPLICIT except that a CHOICE cannot be: `distributionPoint [0]` is A0 wrapping A0/A1.
 */

export const REASON_FLAG_BITS = [
  'unused',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
] as const satisfies readonly (keyof ReasonFlags)[];

export function reasonFlagsFromMask(mask: number): ReasonFlags {
  const v = {} as ReasonFlags;
  for (let i = 0; i < REASON_FLAG_BITS.length; i++) v[REASON_FLAG_BITS[i]!] = ((mask >> i) & 1) === 1;
  return v;
}

export function reasonFlagsMask(v: ReasonFlags): number {
  let m = 0;
  for (let i = 0; i < REASON_FLAG_BITS.length; i++) if (v[REASON_FLAG_BITS[i]!]) m |= 1 << i;
  return m;
}

/** ReasonFlags `[n] IMPLICIT` named-bit BIT STRING (non-minimal trailing zeros tolerated, see `readNamedBits`). */
export function readReasonFlags(r: DerReader, tag: number, name: string): ReasonFlags {
  return reasonFlagsFromMask(readNamedBits(r, tag, name, 9));
}

export function writeReasonFlags(w: DerWriter, tag: number, v: ReasonFlags): void {
  w.namedBits(maskBits(reasonFlagsMask(v)), tag);
}

/** Reads the `[0] DistributionPointName` wrapper (tag A0) and the CHOICE inside it. */
export function readDistributionPointName(r: DerReader): DistributionPointName {
  const d = r.readExplicit(0, 'distributionPoint');
  let out: DistributionPointName;
  const at = d.pos;
  if (d.peekTag() === 0xa0)
    out = { fullName: addressNamesContent(d.readConstructed(0xa0, 'fullName'), at, 'fullName') };
  else if (d.peekTag() === 0xa1)
    out = { nameRelativeToCRLIssuer: readRdnContent(d.readConstructed(0xa1, 'nameRelativeToCRLIssuer')) };
  else
    return d.fail(
      'unexpected-tag',
      'DistributionPointName must be [0] fullName or [1] nameRelativeToCRLIssuer',
    );
  d.finish();
  return out;
}

/** RelativeDistinguishedName content: SET SIZE (1..MAX) OF AttributeTypeAndValue, in DER order. */
function readRdnContent(s: DerReader): AttributeTypeAndValue[] {
  const start = s.pos;
  const out: AttributeTypeAndValue[] = [];
  let prev: Uint8Array | undefined;
  s.forEach('AttributeTypeAndValue', (e) => {
    const at = e.pos;
    const atv = e.readSequence('AttributeTypeAndValue');
    const whole = e.bytes.subarray(at, e.pos);
    // X.690 §11.6: SET OF elements in ascending order of their encodings.
    if (prev && compareBytes(prev, whole) > 0)
      e.fail('set-not-sorted', 'RDN attributes not in DER order', at);
    prev = whole;
    const type = atv.readOid('type');
    const vOff = atv.pos;
    const t = atv.readAny('value');
    atv.finish();
    let value: string;
    if (STRING_TAGS.has(t.tag)) {
      try {
        value = decodeString(t.tag, t.value, vOff);
      } catch (err) {
        if (err instanceof DerError)
          throw new DerError(err.code, 'invalid string value', vOff, atv.path('value'));
        throw err;
      }
    } else value = `#${toHex(t.der)}`;
    out.push({ type, tag: t.tag, value, der: t.der });
  });
  if (out.length === 0)
    throw new X509Error('empty-sequence', 'nameRelativeToCRLIssuer must not be empty', start, s.path());
  return out;
}

export function writeDistributionPointName(w: DerWriter, n: DistributionPointName): void {
  w.explicit(0, (w) => {
    if (n.fullName) {
      checkAddressNamesForEncoding(n.fullName, 'fullName');
      w.constructed(0xa0, (w) => {
        for (const g of n.fullName!) writeGeneralName(w, g);
      });
    } else {
      if (n.nameRelativeToCRLIssuer.length === 0)
        throw new X509Error('cannot-encode', 'nameRelativeToCRLIssuer must not be empty');
      // A SET OF under an IMPLICIT [1] tag: encode it as a SET (the writer sorts it), then retag.
      const set = encodeDer((w) =>
        w.setOf((w) => {
          for (const a of n.nameRelativeToCRLIssuer!)
            w.sequence((w) => {
              w.oid(a.type);
              w.raw(a.der);
            });
        }),
      );
      set[0] = 0xa1;
      w.raw(set);
    }
  });
}

/** Reads one DistributionPoint SEQUENCE. */
export function readDistributionPoint(r: DerReader): DistributionPoint {
  const s = r.readSequence('DistributionPoint');
  const out: DistributionPoint = {};
  if (s.peekTag() === 0xa0) out.distributionPoint = readDistributionPointName(s);
  if (s.peekTag() === 0x81) out.reasons = readReasonFlags(s, 0x81, 'reasons');
  if (s.peekTag() === 0xa2) {
    const at = s.pos;
    out.cRLIssuer = addressNamesContent(s.readConstructed(0xa2, 'cRLIssuer'), at, 'cRLIssuer');
  }
  s.finish();
  return out;
}

export function writeDistributionPoint(w: DerWriter, d: DistributionPoint): void {
  w.sequence((w) => {
    if (d.distributionPoint) writeDistributionPointName(w, d.distributionPoint);
    if (d.reasons) writeReasonFlags(w, 0x81, d.reasons);
    if (d.cRLIssuer) {
      checkAddressNamesForEncoding(d.cRLIssuer, 'cRLIssuer');
      w.constructed(0xa2, (w) => {
        for (const g of d.cRLIssuer!) writeGeneralName(w, g);
      });
    }
  });
}
