import { encodeDer } from '../../der/writer.js';
import { parseValue } from './common.js';
import type { HoldInstructionCode } from './types.js';

/**
 * RFC 3280 §5.3.2 holdInstructionCode (2.5.29.23), a CRL entry extension dropped from RFC 5280
 * but still found in older CRLs: HoldInstructionCode ::= OBJECT IDENTIFIER (e.g. id-holdinstruction-reject).
 */
export function parseHoldInstructionCode(value: Uint8Array, offset = 0): HoldInstructionCode {
  return parseValue(value, offset, (r) => r.readOid('HoldInstructionCode'));
}

export function encodeHoldInstructionCode(v: HoldInstructionCode): Uint8Array {
  return encodeDer((w) => w.oid(v), 16);
}
