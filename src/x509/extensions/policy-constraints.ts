import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { fail, parseValue, readImplicitSmallInt } from './common.js';
import type { PolicyConstraints } from './types.js';

/**
 * RFC 5280 §4.2.1.11 policyConstraints (2.5.29.36):
 *   PolicyConstraints ::= SEQUENCE { requireExplicitPolicy [0] SkipCerts OPTIONAL,
 *                                    inhibitPolicyMapping  [1] SkipCerts OPTIONAL }
 *   SkipCerts ::= INTEGER (0..MAX)   (IMPLICIT: tags 80/81; capped at 2^31-1 here)
 * Strict: an empty sequence is rejected (`empty-sequence`; §4.2.1.11 "MUST NOT issue ... where
 * policy constraints is an empty sequence").
 */
export function parsePolicyConstraints(value: Uint8Array, offset = 0): PolicyConstraints {
  return parseValue(value, offset, (r) => {
    const s = r.readSequence('PolicyConstraints');
    const out: PolicyConstraints = {};
    if (s.peekTag() === 0x80)
      out.requireExplicitPolicy = readImplicitSmallInt(s, 0x80, 'requireExplicitPolicy');
    if (s.peekTag() === 0x81)
      out.inhibitPolicyMapping = readImplicitSmallInt(s, 0x81, 'inhibitPolicyMapping');
    s.finish();
    if (out.requireExplicitPolicy === undefined && out.inhibitPolicyMapping === undefined)
      fail(r, 'empty-sequence', 'policyConstraints must not be an empty sequence', 0);
    return out;
  });
}

export function encodePolicyConstraints(v: PolicyConstraints): Uint8Array {
  if (v.requireExplicitPolicy === undefined && v.inhibitPolicyMapping === undefined)
    throw new X509Error('cannot-encode', 'policyConstraints must not be empty');
  return encodeDer(
    (w) =>
      w.sequence((w) => {
        if (v.requireExplicitPolicy !== undefined) w.integer(v.requireExplicitPolicy, 0x80);
        if (v.inhibitPolicyMapping !== undefined) w.integer(v.inhibitPolicyMapping, 0x81);
      }),
    32,
  );
}
