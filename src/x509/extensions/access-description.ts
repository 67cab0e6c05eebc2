import type { DerReader } from '../../der/reader.js';
import { encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { readGeneralName, writeGeneralName } from '../general-name.js';
import { checkAddress, fail } from './common.js';
import type { AccessDescription } from './types.js';

/**
 * RFC 5280 §4.2.2.1 / §4.2.2.2 (shared by authorityInfoAccess and subjectInfoAccess):
 *   SEQUENCE SIZE (1..MAX) OF AccessDescription
 *   AccessDescription ::= SEQUENCE { accessMethod OID, accessLocation GeneralName }
 * Empty → `empty-sequence`; an iPAddress location must be 4 or 16 octets.
 */
export function readAccessDescriptions(r: DerReader, name: string): AccessDescription[] {
  const s = r.readSequence(name);
  const out: AccessDescription[] = [];
  s.forEach('AccessDescription', (e) => {
    const a = e.readSequence('AccessDescription');
    const accessMethod = a.readOid('accessMethod');
    const at = a.pos;
    const accessLocation = readGeneralName(a, 'accessLocation');
    checkAddress(a, accessLocation, at);
    a.finish();
    out.push({ accessMethod, accessLocation });
  });
  if (out.length === 0) fail(r, 'empty-sequence', `${name} must not be empty`, 0);
  return out;
}

export function encodeAccessDescriptions(v: readonly AccessDescription[], name: string): Uint8Array {
  if (v.length === 0) throw new X509Error('cannot-encode', `${name} must not be empty`);
  return encodeDer((w) =>
    w.sequence((w) => {
      for (const d of v)
        w.sequence((w) => {
          w.oid(d.accessMethod);
          writeGeneralName(w, d.accessLocation);
        });
    }),
  );
}
