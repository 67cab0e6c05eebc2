import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { fail, parseValue } from './common.js';
import type { SubjectDirectoryAttributes } from './types.js';

/**
 * RFC 5280 §4.2.1.8 subjectDirectoryAttributes (2.5.29.9):
 *   SEQUENCE SIZE (1..MAX) OF Attribute
 *   Attribute ::= SEQUENCE { type OID, values SET OF AttributeValue }  (at least one value; Appendix A.1)
 * Values are kept as TLVs (their syntax depends on the type). Strict: empty list or empty value
 * set (`empty-sequence`), value SET not in DER order (`set-not-sorted`).
 */
export function parseSubjectDirectoryAttributes(value: Uint8Array, offset = 0): SubjectDirectoryAttributes {
  return parseValue(value, offset, (r) => {
    const s = r.readSequence('SubjectDirectoryAttributes');
    const out: SubjectDirectoryAttributes = [];
    s.forEach('Attribute', (e) => {
      const a = e.readSequence('Attribute');
      const type = a.readOid('type');
      const at = a.pos;
      const set = a.readSetOf('values');
      const values: Uint8Array[] = [];
      set.forEach('AttributeValue', (v) => values.push(v.readAny('AttributeValue').der));
      if (values.length === 0) fail(a, 'empty-sequence', `attribute ${type} has no values`, at, 'values');
      a.finish();
      out.push({ type, values });
    });
    if (out.length === 0) fail(r, 'empty-sequence', 'subjectDirectoryAttributes must not be empty', 0);
    return out;
  });
}

export function encodeSubjectDirectoryAttributes(v: SubjectDirectoryAttributes): Uint8Array {
  if (v.length === 0) throw new X509Error('cannot-encode', 'subjectDirectoryAttributes must not be empty');
  return encodeDer((w) =>
    w.sequence((w) => {
      for (const a of v) {
        if (a.values.length === 0) throw new X509Error('cannot-encode', `attribute ${a.type} has no values`);
        w.sequence((w) => {
          w.oid(a.type);
          w.setOf((w) => {
            for (const x of a.values) w.raw(x);
          });
        });
      }
    }),
  );
}
