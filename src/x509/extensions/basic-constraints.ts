import { Tag } from '../../der/tags.js';
import { encodeDer } from '../../der/writer.js';
import { parseValue } from './common.js';
import type { BasicConstraints } from './types.js';

/**
 * RFC 5280 §4.2.1.9 basicConstraints (2.5.29.19):
 *   SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
 *
 * Tolerance: `cA` encoded explicitly as FALSE violates DER (X.690 §11.5) but appears in deployed
 * certificates; webpki (`der.rs`, its note on explicit DEFAULT booleans) and Go accept it, so do we.
 * pathLenConstraint is capped at 2^31-1 (`integer-out-of-range` above, or when negative).
 * pathLenConstraint with cA FALSE is a CA's error the verifier reports; it is decoded as is.
 */
export function parseBasicConstraints(value: Uint8Array, offset = 0): BasicConstraints {
  return parseValue(value, offset, (r) => {
    const s = r.readSequence('BasicConstraints');
    const cA = s.peekTag() === Tag.BOOLEAN ? s.readBoolean('cA') : false;
    const out: BasicConstraints = { cA };
    if (!s.atEnd()) out.pathLenConstraint = s.readSmallInt('pathLenConstraint');
    s.finish();
    return out;
  });
}

export function encodeBasicConstraints(v: BasicConstraints): Uint8Array {
  return encodeDer(
    (w) =>
      w.sequence((w) => {
        if (v.cA) w.boolean(true);
        if (v.pathLenConstraint !== undefined) w.integer(v.pathLenConstraint);
      }),
    16,
  );
}
