import { parseValue } from './common.js';
import type { OcspNoCheck } from './types.js';

/** RFC 6960 §4.2.2.2.1 id-pkix-ocsp-nocheck (1.3.6.1.5.5.7.48.1.5): extnValue is NULL (`05 00`). */
export function parseOcspNoCheck(value: Uint8Array, offset = 0): OcspNoCheck {
  return parseValue(value, offset, (r) => {
    r.readNull('ocspNoCheck');
    return true as const;
  });
}

const NULL_DER = Uint8Array.of(0x05, 0x00);

export function encodeOcspNoCheck(_v: OcspNoCheck = true): Uint8Array {
  return NULL_DER.slice();
}
