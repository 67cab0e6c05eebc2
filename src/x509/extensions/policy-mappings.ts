import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { fail, parseValue } from './common.js';
import type { PolicyMappings } from './types.js';

/**
 * RFC 5280 §4.2.1.5 policyMappings (2.5.29.33):
 *   PolicyMappings ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE {
 *     issuerDomainPolicy CertPolicyId, subjectDomainPolicy CertPolicyId }
 * Empty → `empty-sequence`. Mappings to or from anyPolicy are decoded; §6.1.4 (a) makes the
 * verifier reject them.
 */
export function parsePolicyMappings(value: Uint8Array, offset = 0): PolicyMappings {
  return parseValue(value, offset, (r) => {
    const s = r.readSequence('PolicyMappings');
    const out: PolicyMappings = [];
    s.forEach('PolicyMapping', (e) => {
      const m = e.readSequence('PolicyMapping');
      const issuerDomainPolicy = m.readOid('issuerDomainPolicy');
      const subjectDomainPolicy = m.readOid('subjectDomainPolicy');
      m.finish();
      out.push({ issuerDomainPolicy, subjectDomainPolicy });
    });
    if (out.length === 0) fail(r, 'empty-sequence', 'policyMappings must not be empty', 0);
    return out;
  });
}

export function encodePolicyMappings(v: PolicyMappings): Uint8Array {
  if (v.length === 0) throw new X509Error('cannot-encode', 'policyMappings must not be empty');
  return encodeDer((w) =>
    w.sequence((w) => {
      for (const m of v)
        w.sequence((w) => {
          w.oid(m.issuerDomainPolicy);
          w.oid(m.subjectDomainPolicy);
        });
    }),
  );
}
