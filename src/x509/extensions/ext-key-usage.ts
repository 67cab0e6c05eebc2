import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { parseValue } from './common.js';
import type { ExtKeyUsage } from './types.js';

/**
 * RFC 5280 §4.2.1.12 extKeyUsage (2.5.29.37):
 *   ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (OBJECT IDENTIFIER)
 * Empty → `X509Error('empty-sequence')`. Duplicates are not forbidden by the RFC and are kept.
 */
export function parseExtKeyUsage(value: Uint8Array, offset = 0): ExtKeyUsage {
  return parseValue(value, offset, (r) => {
    const s = r.readSequence('ExtKeyUsageSyntax');
    const out: string[] = [];
    s.forEach('KeyPurposeId', (e) => out.push(e.readOid('KeyPurposeId')));
    if (out.length === 0) throw new X509Error('empty-sequence', 'extKeyUsage must not be empty', 0, r.path());
    return out;
  });
}

export function encodeExtKeyUsage(v: ExtKeyUsage): Uint8Array {
  if (v.length === 0) throw new X509Error('cannot-encode', 'extKeyUsage must not be empty');
  return encodeDer((w) =>
    w.sequence((w) => {
      for (const oid of v) w.oid(oid);
    }),
  );
}
