import { DerReader } from '../der/reader.js';
import { Tag } from '../der/tags.js';
import { DerWriter } from '../der/writer.js';
import { isDecodeError } from '../x509/errors.js';
import { EstError } from './errors.js';

/**
 * The /csrattrs answer (RFC 7030 §4.5.2): what the server wants to see in the CSR.
 *
 *   CsrAttrs  ::= SEQUENCE SIZE (0..MAX) OF AttrOrOID
 *   AttrOrOID ::= CHOICE { oid OBJECT IDENTIFIER, attribute Attribute }
 *   Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET SIZE (1..MAX) OF ANY }
 *
 * An `oid` names something to include (an attribute such as challengePassword, or the signature
 * algorithm to use, e.g. ecdsa-with-SHA384); an `attribute` carries values (e.g. ecPublicKey with
 * the curve OID). Values are kept as their exact DER TLVs: their type depends on the attribute.
 * Decoding is strict DER (the values SET in DER order, non-empty) and bounded.
 *
 *   encodeCsrAttrs([{ oid: '1.2.840.113549.1.9.7' },
 *     { type: '1.2.840.10045.2.1', values: [encodeDer((w) => w.oid('1.3.132.0.34'))] }]);
 */
export type AttrOrOid =
  | { oid: string }
  | {
      /** The attribute type. */
      type: string;
      /** Each value's DER TLV. */
      values: Uint8Array[];
    };

/** Bounds for `parseCsrAttrs`. */
export interface CsrAttrsLimits {
  /** Most AttrOrOID entries. Default 64. */
  maxItems: number;
  /** Most values in one attribute. Default 64. */
  maxValues: number;
}

export const DEFAULT_CSRATTRS_LIMITS: Readonly<CsrAttrsLimits> = Object.freeze({
  maxItems: 64,
  maxValues: 64,
});

/** DER of a CsrAttrs SEQUENCE; attribute values are written as given (sorted, X.690 §11.6). */
export function encodeCsrAttrs(items: readonly AttrOrOid[]): Uint8Array {
  const w = new DerWriter();
  try {
    w.sequence((w) => {
      for (const it of items) {
        if ('oid' in it) {
          w.oid(it.oid);
          continue;
        }
        if (it.values.length === 0)
          throw new EstError('bad-input', `attribute ${it.type} needs at least one value (RFC 7030 §4.5.2)`);
        w.sequence((w) => {
          w.oid(it.type);
          w.setOf((w) => {
            for (const v of it.values) w.raw(checkTlv(v, it.type));
          });
        });
      }
    });
  } catch (e) {
    if (e instanceof EstError) throw e;
    throw new EstError('bad-input', `cannot encode CsrAttrs: ${(e as Error).message}`, { cause: e });
  }
  return w.finish();
}

/** A value must be exactly one DER TLV, or the SET would be corrupt. */
function checkTlv(v: Uint8Array, type: string): Uint8Array {
  try {
    const r = DerReader.from(v, 'AttributeValue');
    r.readAny('AttributeValue');
    r.finish();
  } catch (e) {
    throw new EstError('bad-input', `a value of attribute ${type} is not one DER TLV`, { cause: e });
  }
  return v;
}

/** Decodes a CsrAttrs SEQUENCE. Throws `EstError` `malformed-csrattrs` or `too-many-items`. */
export function parseCsrAttrs(der: Uint8Array, limits: Partial<CsrAttrsLimits> = {}): AttrOrOid[] {
  const lim = { ...DEFAULT_CSRATTRS_LIMITS, ...limits };
  const out: AttrOrOid[] = [];
  try {
    const top = DerReader.from(der, 'CsrAttrs');
    const seq = top.readSequence('CsrAttrs');
    while (!seq.atEnd()) {
      if (out.length >= lim.maxItems)
        throw new EstError('too-many-items', `more than ${lim.maxItems} AttrOrOID`);
      const tag = seq.peekTag();
      if (tag === Tag.OID) {
        out.push({ oid: seq.readOid('oid') });
        continue;
      }
      if (tag !== Tag.SEQUENCE)
        throw new EstError(
          'malformed-csrattrs',
          `AttrOrOID ${out.length + 1}: neither an OID nor an Attribute`,
        );
      const a = seq.readSequence('Attribute');
      const type = a.readOid('type');
      const set = a.readSetOf('values');
      const values: Uint8Array[] = [];
      while (!set.atEnd()) {
        if (values.length >= lim.maxValues)
          throw new EstError('too-many-items', `attribute ${type}: more than ${lim.maxValues} values`);
        values.push(set.readAny('value').der);
      }
      if (values.length === 0)
        throw new EstError(
          'malformed-csrattrs',
          `attribute ${type} has no values (RFC 7030 §4.5.2: SIZE (1..MAX))`,
        );
      a.finish();
      out.push({ type, values });
    }
    top.finish();
  } catch (e) {
    if (e instanceof EstError) throw e;
    if (isDecodeError(e))
      throw new EstError('malformed-csrattrs', `not a CsrAttrs value: ${e.message}`, { cause: e });
    throw e;
  }
  return out;
}
