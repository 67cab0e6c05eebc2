import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { fail, parseValue } from './common.js';
import type { CRLReason } from './types.js';

/**
 * RFC 5280 §5.3.1 reasonCode (2.5.29.21), a CRL entry extension:
 *   CRLReason ::= ENUMERATED { unspecified(0), keyCompromise(1), cACompromise(2), affiliationChanged(3),
 *     superseded(4), cessationOfOperation(5), certificateHold(6), -- 7 not used --
 *     removeFromCRL(8), privilegeWithdrawn(9), aACompromise(10) }
 * Value 7 or anything above 10 → `X509Error('bad-extension')`.
 */
const REASONS: readonly (CRLReason | undefined)[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

/** Every defined CRLReason, in ENUMERATED order. */
export const CRL_REASONS: readonly CRLReason[] = REASONS.filter((r): r is CRLReason => r !== undefined);

/** CRLReason ⇄ its ENUMERATED value. */
export function crlReasonCode(v: CRLReason): number {
  const n = REASONS.indexOf(v);
  if (n < 0) throw new X509Error('cannot-encode', `unknown CRLReason ${String(v)}`);
  return n;
}

export function crlReasonFromCode(n: number): CRLReason | undefined {
  return REASONS[n];
}

export function parseReasonCode(value: Uint8Array, offset = 0): CRLReason {
  return parseValue(value, offset, (r) => {
    const n = r.readEnumerated('CRLReason', 0xff);
    const v = REASONS[n];
    if (v === undefined) fail(r, 'bad-extension', `CRLReason ${n} is not defined (RFC 5280 §5.3.1)`, 0);
    return v;
  });
}

export function encodeReasonCode(v: CRLReason): Uint8Array {
  return encodeDer((w) => w.enumerated(crlReasonCode(v)), 4);
}
