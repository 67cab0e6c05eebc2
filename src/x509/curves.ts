import { fromHex } from '../der/bytes.js';
import { OID } from '../der/oid-names.js';

/**
 * The named elliptic curves fleetpki recognises in keys: the one table that the SPKI codec, the
 * key layer (crypto/) and the CLI read. OIDs from RFC 5480 §2.1.1.1 (secp256k1: SEC 2 v2 §A.2);
 * group orders from SEC 2 v2 §2.4.1, §2.4.2, §2.5.1, §2.6.1 (public curve constants).
 * crypto/ signs and verifies on P-256, P-384 and P-521; secp256k1 keys are parsed and described.
 */
export interface NamedCurve {
  /** The NIST name (P-256, P-384, P-521), else the SEC 2 name (secp256k1). */
  readonly name: string;
  readonly oid: string;
  /** Key size in bits: the bit length of the group order (P-521: 521). */
  readonly bits: number;
  /** Field element and scalar size in bytes (P-521: 66); a SEC 1 §2.3.3 point is 1 + 2·size bytes uncompressed. */
  readonly size: number;
  /** The group order n, big-endian (the ECDSA r and s range check, SEC 1 §4.1.4 step 1). */
  readonly order: Uint8Array;
}

const curve = (name: string, oid: string, bits: number, size: number, order: string): NamedCurve =>
  Object.freeze({ name, oid, bits, size, order: fromHex(order) });

/** Every named curve we recognise, in order of preference. */
export const NAMED_CURVES: readonly NamedCurve[] = Object.freeze([
  curve('P-256', OID.secp256r1, 256, 32, 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  curve(
    'P-384',
    OID.secp384r1,
    384,
    48,
    'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
  ),
  curve(
    'P-521',
    OID.secp521r1,
    521,
    66,
    '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
  ),
  curve(
    'secp256k1',
    OID.secp256k1,
    256,
    32,
    'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141',
  ),
]);

/** The curve with this namedCurve OID, or undefined. */
export function curveByOid(oid: string): NamedCurve | undefined {
  for (const c of NAMED_CURVES) if (c.oid === oid) return c;
  return undefined;
}

/** The curve with this name (as in `NamedCurve.name`), or undefined. */
export function curveByName(name: string): NamedCurve | undefined {
  for (const c of NAMED_CURVES) if (c.name === name) return c;
  return undefined;
}
