// Acceptance 3 (issue 2): one row per DER rule — a hostile encoding and the DerError code (and
// offset where it is meaningful) the strict reader must give. Plus the whole-certificate rules
// (truncation at every position, trailing data, unsorted RDN SET, depth bombs).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_LIMITS,
  DerError,
  type DerErrorCode,
  DerReader,
  fromHex,
  walkDer,
} from '../../src/der/index.js';
import { decodePem } from '../../src/pem/index.js';
import { Name, parseCertificate, X509Error } from '../../src/x509/index.js';
import { nestedSequences } from './mutate.js';

const hex = (s: string) => fromHex(s.replace(/\s+/g, ''));
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const tlv = (tag: number, content: Uint8Array) => Uint8Array.from([tag, content.length, ...content]);

/** The first certificate of the sample chain: small, v3, with extensions. */
const sampleCert = decodePem(
  readFileSync(fileURLToPath(new URL('../../examples/device-chain.pem', import.meta.url)), 'latin1'),
)[0]!.der;

/** Runs `read` over `bytes` (then requires the input consumed) and returns the DerError thrown. */
function derError(bytes: Uint8Array, read: (r: DerReader) => unknown, limits = DEFAULT_LIMITS): DerError {
  try {
    const r = DerReader.from(bytes, 'input', limits);
    read(r);
    r.finish();
  } catch (e) {
    if (e instanceof DerError) return e;
    throw new Error(`expected a DerError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  throw new Error('expected a DerError, but the input was accepted');
}

interface Row {
  name: string;
  bytes: Uint8Array;
  read: (r: DerReader) => unknown;
  code: DerErrorCode;
  /** Absolute offset of the offending TLV, where it is meaningful. */
  offset?: number;
  limits?: typeof DEFAULT_LIMITS;
}

const anyValue = (r: DerReader) => r.readAny('v');
const seqOfInts = (r: DerReader) => {
  const s = r.readSequence('s');
  while (!s.atEnd()) s.readInteger('i');
  s.finish();
};

const rows: Row[] = [
  // ---- TLV layer (X.690 §8.1, §10.1) ----
  { name: 'truncated: length octet missing', bytes: hex('04'), read: anyValue, code: 'truncated', offset: 0 },
  {
    name: 'truncated: content shorter than length',
    bytes: hex('04 05 01 02'),
    read: anyValue,
    code: 'truncated',
    offset: 0,
  },
  {
    name: 'truncated: long-form length octets missing',
    bytes: hex('04 82 01'),
    read: anyValue,
    code: 'truncated',
    offset: 0,
  },
  {
    name: 'truncated: child overruns its parent',
    bytes: hex('30 03 04 05 00'),
    read: (r) => r.readSequence('s').readAny('c'),
    code: 'truncated',
    offset: 2,
  },
  {
    name: 'indefinite length (BER 0x80)',
    bytes: hex('30 80 02 01 01 00 00'),
    read: anyValue,
    code: 'indefinite-length',
    offset: 0,
  },
  {
    name: 'non-minimal length 81 05 (short form fits)',
    bytes: hex('04 81 05 0102030405'),
    read: anyValue,
    code: 'non-minimal-length',
    offset: 0,
  },
  {
    name: 'non-minimal length 82 00 80 (leading zero octet)',
    bytes: Uint8Array.from([0x04, 0x82, 0x00, 0x80, ...new Uint8Array(0x80)]),
    read: anyValue,
    code: 'non-minimal-length',
    offset: 0,
  },
  {
    name: 'non-minimal length 81 7f',
    bytes: Uint8Array.from([0x04, 0x81, 0x7f, ...new Uint8Array(0x7f)]),
    read: anyValue,
    code: 'non-minimal-length',
    offset: 0,
  },
  {
    name: 'length-of-length 0x85 (5 octets)',
    bytes: hex('04 85 01 00 00 00 00'),
    read: anyValue,
    code: 'length-too-large',
    offset: 0,
  },
  {
    name: 'length-of-length 0xff',
    bytes: hex('04 ff 01'),
    read: anyValue,
    code: 'length-too-large',
    offset: 0,
  },
  {
    name: 'length 2^31-1 (beyond maxLength)',
    bytes: hex('04 84 7f ff ff ff 00'),
    read: anyValue,
    code: 'length-too-large',
    offset: 0,
  },
  {
    name: 'length 2^31-1 with a permissive maxLength: truncated, not a RangeError',
    bytes: hex('04 84 7f ff ff ff 00'),
    read: anyValue,
    code: 'truncated',
    offset: 0,
    limits: { ...DEFAULT_LIMITS, maxLength: 2 ** 32 },
  },
  {
    name: 'length 2^32-1',
    bytes: hex('04 84 ff ff ff ff 00'),
    read: anyValue,
    code: 'length-too-large',
    offset: 0,
  },
  {
    name: 'length 2^64-1 (8 length octets)',
    bytes: hex('04 88 ff ff ff ff ff ff ff ff 00'),
    read: anyValue,
    code: 'length-too-large',
    offset: 0,
  },
  {
    name: 'high-tag-number form (primitive)',
    bytes: hex('1f 81 00 00'),
    read: anyValue,
    code: 'high-tag-number',
    offset: 0,
  },
  {
    name: 'high-tag-number form (context, constructed)',
    bytes: hex('30 04 bf 20 01 00'),
    read: (r) => r.readSequence('s').readAny('c'),
    code: 'high-tag-number',
    offset: 2,
  },
  {
    name: 'trailing bytes after the top-level value',
    bytes: hex('05 00 00'),
    read: (r) => r.readNull('n'),
    code: 'trailing-data',
    offset: 2,
  },
  {
    name: 'trailing bytes inside a SEQUENCE',
    bytes: hex('30 05 02 01 01 05 00'),
    read: (r) => {
      const s = r.readSequence('s');
      s.readInteger('i');
      s.finish();
    },
    code: 'trailing-data',
    offset: 5,
  },
  {
    name: 'constructed OCTET STRING (BER segmentation)',
    bytes: hex('24 06 04 01 aa 04 01 bb'),
    read: (r) => r.readOctetString('o'),
    code: 'bad-constructed-bit',
    offset: 0,
  },
  {
    name: 'primitive SEQUENCE (tag 0x10)',
    bytes: hex('10 03 02 01 01'),
    read: (r) => r.readSequence('s'),
    code: 'bad-constructed-bit',
    offset: 0,
  },
  {
    name: 'unexpected tag',
    bytes: hex('04 01 00'),
    read: (r) => r.readInteger('i'),
    code: 'unexpected-tag',
    offset: 0,
  },
  {
    name: 'too many SEQUENCE OF elements (limit)',
    bytes: hex('30 09 02 01 01 02 01 02 02 01 03'),
    read: (r) => r.readSequence('s').forEach('e', (e) => e.readInteger('i')),
    code: 'too-many-elements',
    limits: { ...DEFAULT_LIMITS, maxElements: 2 },
  },

  // ---- INTEGER (X.690 §8.3) ----
  {
    name: 'INTEGER with no content',
    bytes: hex('02 00'),
    read: (r) => r.readInteger('i'),
    code: 'bad-integer',
    offset: 0,
  },
  {
    name: 'non-minimal INTEGER 00 7F',
    bytes: hex('02 02 00 7f'),
    read: (r) => r.readInteger('i'),
    code: 'bad-integer',
    offset: 0,
  },
  {
    name: 'non-minimal INTEGER FF 80',
    bytes: hex('02 02 ff 80'),
    read: (r) => r.readInteger('i'),
    code: 'bad-integer',
    offset: 0,
  },
  {
    name: 'non-minimal INTEGER 00 00',
    bytes: hex('02 02 00 00'),
    read: (r) => r.readInteger('i'),
    code: 'bad-integer',
    offset: 0,
  },
  {
    name: 'non-minimal INTEGER inside a SEQUENCE (offset of the INTEGER)',
    bytes: hex('30 07 02 01 01 02 02 00 01'),
    read: seqOfInts,
    code: 'bad-integer',
    offset: 5,
  },
  {
    name: 'negative where unsigned required (80)',
    bytes: hex('02 01 80'),
    read: (r) => r.readUnsignedInteger('u'),
    code: 'integer-out-of-range',
    offset: 0,
  },
  {
    name: 'negative small int (FF)',
    bytes: hex('02 01 ff'),
    read: (r) => r.readSmallInt('n'),
    code: 'integer-out-of-range',
    offset: 0,
  },
  {
    name: 'small int above its maximum',
    bytes: hex('02 02 01 00'),
    read: (r) => r.readSmallInt('n', 255),
    code: 'integer-out-of-range',
    offset: 0,
  },
  {
    name: 'small int too long (8 octets)',
    bytes: hex('02 08 01 00 00 00 00 00 00 00'),
    read: (r) => r.readSmallInt('n'),
    code: 'integer-out-of-range',
    offset: 0,
  },
  {
    name: 'ENUMERATED non-minimal',
    bytes: hex('0a 02 00 01'),
    read: (r) => r.readEnumerated('e'),
    code: 'bad-integer',
    offset: 0,
  },

  // ---- BOOLEAN (X.690 §11.1) and NULL ----
  {
    name: 'BOOLEAN 01 (DER requires FF for TRUE)',
    bytes: hex('01 01 01'),
    read: (r) => r.readBoolean('b'),
    code: 'bad-boolean',
    offset: 0,
  },
  {
    name: 'BOOLEAN FE',
    bytes: hex('01 01 fe'),
    read: (r) => r.readBoolean('b'),
    code: 'bad-boolean',
    offset: 0,
  },
  {
    name: 'BOOLEAN of length 2',
    bytes: hex('01 02 ff ff'),
    read: (r) => r.readBoolean('b'),
    code: 'bad-boolean',
    offset: 0,
  },
  {
    name: 'BOOLEAN of length 0',
    bytes: hex('01 00'),
    read: (r) => r.readBoolean('b'),
    code: 'bad-boolean',
    offset: 0,
  },
  {
    name: 'NULL with content',
    bytes: hex('05 01 00'),
    read: (r) => r.readNull('n'),
    code: 'bad-null',
    offset: 0,
  },

  // ---- BIT STRING (X.690 §8.6, §11.2) ----
  {
    name: 'BIT STRING with no content (no unused-bits octet)',
    bytes: hex('03 00'),
    read: (r) => r.readBitString('b'),
    code: 'bad-bit-string',
    offset: 0,
  },
  {
    name: 'BIT STRING unused bits 8',
    bytes: hex('03 02 08 00'),
    read: (r) => r.readBitString('b'),
    code: 'bad-bit-string',
    offset: 0,
  },
  {
    name: 'BIT STRING unused bits on an empty string',
    bytes: hex('03 01 01'),
    read: (r) => r.readBitString('b'),
    code: 'bad-bit-string',
    offset: 0,
  },
  {
    name: 'BIT STRING non-zero padding bits',
    bytes: hex('03 02 07 81'),
    read: (r) => r.readBitString('b'),
    code: 'bad-bit-string',
    offset: 0,
  },
  {
    name: 'BIT STRING with unused bits where octets are required',
    bytes: hex('03 02 01 80'),
    read: (r) => r.readBitStringBytes('b'),
    code: 'bad-bit-string',
    offset: 0,
  },

  // ---- OBJECT IDENTIFIER (X.690 §8.19) ----
  { name: 'OID empty', bytes: hex('06 00'), read: (r) => r.readOid('o'), code: 'bad-oid' },
  {
    name: 'OID arc with leading 0x80 (non-minimal)',
    bytes: hex('06 03 2a 80 01'),
    read: (r) => r.readOid('o'),
    code: 'bad-oid',
  },
  {
    name: 'OID first subidentifier with leading 0x80',
    bytes: hex('06 02 80 01'),
    read: (r) => r.readOid('o'),
    code: 'bad-oid',
  },
  {
    name: 'OID truncated arc (continuation bit on the last octet)',
    bytes: hex('06 02 2a 86'),
    read: (r) => r.readOid('o'),
    code: 'bad-oid',
  },
  {
    name: 'OID longer than MAX_OID_LENGTH',
    bytes: Uint8Array.from([0x06, 0x82, 0x04, 0x01, ...new Uint8Array(1025).fill(1)]),
    read: (r) => r.readOid('o'),
    code: 'bad-oid',
  },

  // ---- Times (RFC 5280 §4.1.2.5, X.690 §11.7/§11.8) ----
  {
    name: 'UTCTime without seconds',
    bytes: tlv(0x17, ascii('2401011200Z')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'UTCTime with a zone offset',
    bytes: tlv(0x17, ascii('240101120000+0100')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'UTCTime with a fraction',
    bytes: tlv(0x17, ascii('240101120000.5Z')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'UTCTime without Z',
    bytes: tlv(0x17, ascii('2401011200000')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'UTCTime February 30',
    bytes: tlv(0x17, ascii('240230120000Z')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'UTCTime February 29 in a non-leap year',
    bytes: tlv(0x17, ascii('230229120000Z')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'UTCTime month 13',
    bytes: tlv(0x17, ascii('241301120000Z')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'UTCTime month 00',
    bytes: tlv(0x17, ascii('240001120000Z')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'UTCTime hour 24',
    bytes: tlv(0x17, ascii('240101240000Z')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'UTCTime second 60',
    bytes: tlv(0x17, ascii('240101235960Z')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'UTCTime with a non-digit',
    bytes: tlv(0x17, ascii('24010112000aZ')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'GeneralizedTime with a fraction',
    bytes: tlv(0x18, ascii('20240101120000.5Z')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'GeneralizedTime without Z (local time)',
    bytes: tlv(0x18, ascii('20240101120000')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'GeneralizedTime without seconds',
    bytes: tlv(0x18, ascii('202401011200Z')),
    read: (r) => r.readTime('t'),
    code: 'bad-time',
    offset: 0,
  },
  {
    name: 'time with another tag',
    bytes: tlv(0x04, ascii('240101120000Z')),
    read: (r) => r.readTime('t'),
    code: 'unexpected-tag',
    offset: 0,
  },

  // ---- Strings (X.680 §41) ----
  {
    name: "PrintableString with '@'",
    bytes: tlv(0x13, ascii('a@b')),
    read: (r) => r.readString('s'),
    code: 'bad-string',
    offset: 0,
  },
  {
    name: 'PrintableString with a control character',
    bytes: tlv(0x13, hex('41 0a')),
    read: (r) => r.readString('s'),
    code: 'bad-string',
    offset: 0,
  },
  {
    name: 'IA5String with 0x80',
    bytes: tlv(0x16, hex('61 80')),
    read: (r) => r.readString('s'),
    code: 'bad-string',
    offset: 0,
  },
  {
    name: 'UTF8String invalid (C3 28)',
    bytes: tlv(0x0c, hex('c3 28')),
    read: (r) => r.readString('s'),
    code: 'bad-string',
    offset: 0,
  },
  {
    name: 'UTF8String overlong encoding (C0 AF)',
    bytes: tlv(0x0c, hex('c0 af')),
    read: (r) => r.readString('s'),
    code: 'bad-string',
    offset: 0,
  },
  {
    name: 'UTF8String encoded surrogate (ED A0 80)',
    bytes: tlv(0x0c, hex('ed a0 80')),
    read: (r) => r.readString('s'),
    code: 'bad-string',
    offset: 0,
  },
  {
    name: 'BMPString of odd length',
    bytes: tlv(0x1e, hex('00 41 00')),
    read: (r) => r.readString('s'),
    code: 'bad-string',
    offset: 0,
  },
  {
    name: 'BMPString with a surrogate code unit',
    bytes: tlv(0x1e, hex('d8 00')),
    read: (r) => r.readString('s'),
    code: 'bad-string',
    offset: 0,
  },
  {
    name: 'UniversalString not a multiple of 4',
    bytes: tlv(0x1c, hex('00 00 41')),
    read: (r) => r.readString('s'),
    code: 'bad-string',
    offset: 0,
  },
  {
    name: 'NumericString with a letter',
    bytes: tlv(0x12, ascii('12a')),
    read: (r) => r.readString('s'),
    code: 'bad-string',
    offset: 0,
  },
  {
    name: 'VisibleString with DEL',
    bytes: tlv(0x1a, hex('41 7f')),
    read: (r) => r.readString('s'),
    code: 'bad-string',
    offset: 0,
  },

  // ---- SET OF order (X.690 §11.6) ----
  {
    name: 'unsorted SET OF',
    bytes: hex('31 06 02 01 02 02 01 01'),
    read: (r) => r.readSetOf('s'),
    code: 'set-not-sorted',
    offset: 5,
  },
];

describe('hostile encodings: one row per DER rule', () => {
  for (const row of rows)
    it(row.name, () => {
      const e = derError(row.bytes, row.read, row.limits);
      assert.equal(e.code, row.code, e.message);
      if (row.offset !== undefined) assert.equal(e.offset, row.offset, `offset (${e.message})`);
    });
});

describe('hostile encodings: whole structures', () => {
  it('certificate truncated at every position: truncated (empty input: bad-input)', () => {
    assert.throws(
      () => parseCertificate(new Uint8Array(0)),
      (e: unknown) => e instanceof X509Error && e.code === 'bad-input',
    );
    for (let n = 1; n < sampleCert.length; n++) {
      const e = (() => {
        try {
          parseCertificate(sampleCert.subarray(0, n));
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      assert.ok(e instanceof DerError, `prefix of ${n} bytes: ${String(e)}`);
      assert.equal(e.code, 'truncated', `prefix of ${n} bytes: ${e.message}`);
    }
  });

  it('trailing bytes after the certificate', () => {
    const der = Uint8Array.from([...sampleCert, 0x00]);
    assert.throws(
      () => parseCertificate(der),
      (e: unknown) => e instanceof DerError && e.code === 'trailing-data' && e.offset === sampleCert.length,
    );
  });

  it('trailing bytes inside tbsCertificate', () => {
    // Grow tbsCertificate by one NULL after its last element: adjust the two outer lengths.
    const c = parseCertificate(sampleCert);
    const tbs = Uint8Array.from([...c.tbs, 0x05, 0x00]);
    assert.equal(tbs[1], 0x82);
    const tbsLen = ((tbs[2]! << 8) | tbs[3]!) + 2;
    tbs[2] = tbsLen >> 8;
    tbs[3] = tbsLen & 0xff;
    const rest = sampleCert.subarray(4 + c.tbs.length);
    const body = Uint8Array.from([...tbs, ...rest]);
    const der = Uint8Array.from([0x30, 0x82, body.length >> 8, body.length & 0xff, ...body]);
    assert.throws(
      () => parseCertificate(der),
      (e: unknown) =>
        e instanceof DerError && e.code === 'trailing-data' && e.path.includes('tbsCertificate'),
    );
  });

  it('unsorted SET OF in a multi-valued RDN', () => {
    // SET { CN=b, CN=a } — DER needs the encodings in ascending order (…61 before …62).
    const atv = (v: string) => [0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, v.charCodeAt(0)];
    const set = [0x31, 0x14, ...atv('b'), ...atv('a')];
    const name = Uint8Array.from([0x30, set.length, ...set]);
    assert.throws(
      () => Name.fromDer(name),
      (e: unknown) => e instanceof DerError && e.code === 'set-not-sorted' && e.offset === 14,
    );
    const sorted = Uint8Array.from([0x30, 0x16, 0x31, 0x14, ...atv('a'), ...atv('b')]);
    assert.equal(Name.fromDer(sorted).toString(), 'CN=a+CN=b');
  });

  it('nesting depth 100 000: too-deep, no RangeError (walkDer and parseCertificate)', () => {
    const deep = nestedSequences(100_000);
    assert.throws(
      () => walkDer(deep),
      (e: unknown) => e instanceof DerError && e.code === 'too-deep',
    );
    assert.throws(
      () => parseCertificate(deep),
      (e: unknown) => e instanceof DerError,
    );
    // A limit-respecting reader still descends as far as maxDepth allows, then stops.
    const r = DerReader.from(deep, 'deep');
    assert.throws(
      () => {
        let cur = r;
        for (;;) cur = cur.readSequence('s');
      },
      (e: unknown) => e instanceof DerError && e.code === 'too-deep',
    );
  });
});
