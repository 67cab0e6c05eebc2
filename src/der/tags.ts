/** Universal tag octets (X.680 §8.4) as they appear in DER, constructed bit included. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8String: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  NumericString: 0x12,
  PrintableString: 0x13,
  TeletexString: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  VisibleString: 0x1a,
  UniversalString: 0x1c,
  BMPString: 0x1e,
} as const;

/** Context-specific primitive tag [n] (IMPLICIT of a primitive type). */
export const contextPrimitive = (n: number): number => 0x80 | n;
/** Context-specific constructed tag [n] (EXPLICIT, or IMPLICIT of a constructed type). */
export const contextConstructed = (n: number): number => 0xa0 | n;

export const isConstructed = (tag: number): boolean => (tag & 0x20) !== 0;

const UNIVERSAL_NAMES: Record<number, string> = {
  1: 'BOOLEAN',
  2: 'INTEGER',
  3: 'BIT STRING',
  4: 'OCTET STRING',
  5: 'NULL',
  6: 'OBJECT IDENTIFIER',
  10: 'ENUMERATED',
  12: 'UTF8String',
  18: 'NumericString',
  19: 'PrintableString',
  20: 'TeletexString',
  22: 'IA5String',
  23: 'UTCTime',
  24: 'GeneralizedTime',
  26: 'VisibleString',
  28: 'UniversalString',
  30: 'BMPString',
  48: 'SEQUENCE',
  49: 'SET',
};

/** Human name of a tag octet, for error messages and `inspect`. */
export function tagName(tag: number): string {
  const u = UNIVERSAL_NAMES[tag];
  if (u) return u;
  const cls = tag >> 6;
  const num = tag & 0x1f;
  const c = isConstructed(tag) ? ' constructed' : '';
  if (cls === 2) return `[${num}]${c}`;
  if (cls === 1) return `[APPLICATION ${num}]${c}`;
  if (cls === 3) return `[PRIVATE ${num}]${c}`;
  return `tag 0x${tag.toString(16).padStart(2, '0')}`;
}
