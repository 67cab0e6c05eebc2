import type { DerReader } from '../../der/reader.js';
import { type DerWriter, encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { readGeneralName, writeGeneralName } from '../general-name.js';
import { fail, parseValue, readImplicitSmallInt } from './common.js';
import type { GeneralSubtree, NameConstraints } from './types.js';

/**
 * RFC 5280 §4.2.1.10 nameConstraints (2.5.29.30):
 *   NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
 *                                  excludedSubtrees  [1] GeneralSubtrees OPTIONAL }
 *   GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree      ([0]/[1] IMPLICIT: tags A0/A1)
 *   GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] BaseDistance DEFAULT 0,
 *                                 maximum [1] BaseDistance OPTIONAL }  (BaseDistance INTEGER 0..MAX)
 *
 * Strict: at least one of permitted/excluded (§4.2.1.10: "MUST NOT issue ... an empty sequence"),
 * each GeneralSubtrees non-empty (`empty-sequence`); an iPAddress base must be 8 (IPv4) or
 * 32 (IPv6) octets, address then mask (`bad-general-name`). A non-contiguous mask still
 * decodes — x509-limbo and BetterTLS test how the *verifier* handles it; see `isContiguousMask`.
 * `minimum` and `maximum` are decoded and exposed: §4.2.1.10 says minimum MUST be zero and
 * maximum MUST be absent, which the verifier enforces. An explicitly encoded `minimum 0`
 * violates DER (X.690 §11.5) and is rejected (`default-value-encoded`).
 */
export function parseNameConstraints(value: Uint8Array, offset = 0): NameConstraints {
  return parseValue(value, offset, (r) => {
    const s = r.readSequence('NameConstraints');
    const out: NameConstraints = {};
    if (s.peekTag() === 0xa0) out.permittedSubtrees = readSubtrees(s, 0xa0, 'permittedSubtrees');
    if (s.peekTag() === 0xa1) out.excludedSubtrees = readSubtrees(s, 0xa1, 'excludedSubtrees');
    s.finish();
    if (!out.permittedSubtrees && !out.excludedSubtrees)
      fail(r, 'empty-sequence', 'nameConstraints has neither permitted nor excluded subtrees', 0);
    return out;
  });
}

function readSubtrees(r: DerReader, tag: number, name: string): GeneralSubtree[] {
  const off = r.pos;
  const s = r.readConstructed(tag, name);
  const out: GeneralSubtree[] = [];
  s.forEach('GeneralSubtree', (e) => {
    const t = e.readSequence('GeneralSubtree');
    const at = t.pos;
    const base = readGeneralName(t, 'base');
    if (base.type === 'iPAddress' && base.value.length !== 8 && base.value.length !== 32)
      fail(
        t,
        'bad-general-name',
        `iPAddress constraint of length ${base.value.length} (want 8 or 32)`,
        at,
        'base',
      );
    const sub: GeneralSubtree = { base, minimum: 0 };
    if (t.peekTag() === 0x80) {
      sub.minimum = readImplicitSmallInt(t, 0x80, 'minimum');
      if (sub.minimum === 0)
        t.fail(
          'default-value-encoded',
          'minimum 0 is the DEFAULT and must be omitted',
          t.lastOffset,
          'minimum',
        );
    }
    if (t.peekTag() === 0x81) sub.maximum = readImplicitSmallInt(t, 0x81, 'maximum');
    t.finish();
    out.push(sub);
  });
  if (out.length === 0) throw new X509Error('empty-sequence', `${name} must not be empty`, off, r.path(name));
  return out;
}

/**
 * True when `mask` is a run of 1 bits followed only by 0 bits (a CIDR prefix). RFC 5280
 * §4.2.1.10 expresses IP constraints as address + mask in the CIDR sense (RFC 4632).
 */
export function isContiguousMask(mask: Uint8Array): boolean {
  let i = 0;
  while (i < mask.length && mask[i] === 0xff) i++;
  if (i === mask.length) return true;
  const b = mask[i]!;
  // b must look like 1…10…0: its complement plus one is a power of two.
  const inv = ~b & 0xff;
  if ((inv & (inv + 1)) !== 0) return false;
  for (let j = i + 1; j < mask.length; j++) if (mask[j] !== 0) return false;
  return true;
}

function writeSubtrees(w: DerWriter, tag: number, subtrees: readonly GeneralSubtree[], name: string): void {
  if (subtrees.length === 0) throw new X509Error('cannot-encode', `${name} must not be empty`);
  w.constructed(tag, (w) => {
    for (const st of subtrees) {
      if (st.base.type === 'iPAddress' && st.base.value.length !== 8 && st.base.value.length !== 32)
        throw new X509Error('cannot-encode', `${name}: iPAddress constraint must be 8 or 32 octets`);
      w.sequence((w) => {
        writeGeneralName(w, st.base);
        if (st.minimum !== 0) w.integer(st.minimum, 0x80);
        if (st.maximum !== undefined) w.integer(st.maximum, 0x81);
      });
    }
  });
}

export function encodeNameConstraints(v: NameConstraints): Uint8Array {
  if (!v.permittedSubtrees && !v.excludedSubtrees)
    throw new X509Error('cannot-encode', 'nameConstraints needs permitted or excluded subtrees');
  return encodeDer((w) =>
    w.sequence((w) => {
      if (v.permittedSubtrees) writeSubtrees(w, 0xa0, v.permittedSubtrees, 'permittedSubtrees');
      if (v.excludedSubtrees) writeSubtrees(w, 0xa1, v.excludedSubtrees, 'excludedSubtrees');
    }),
  );
}
