// DerWriter: canonical DER out (X.690 §10/§11): SET OF sorted, minimal lengths in every size
// class, minimal two's-complement INTEGERs, OIDs with arcs of any size, and the RFC 5280 time
// switch (UTCTime through 2049, GeneralizedTime from 2050). Each written value is read back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DerError,
  DerReader,
  DerWriter,
  decodeOid,
  encodeDer,
  encodeOid,
  fromHex,
  parseDer,
  toHex,
} from '../../src/der/index.js';
import { useUtcTime } from '../../src/der/time.js';

const h = (s: string) => s.replace(/\s+/g, '');

describe('writer: SET OF is sorted (X.690 §11.6)', () => {
  it('elements written out of order come out ascending, and the reader accepts them', () => {
    const der = encodeDer((w) =>
      w.setOf((w) => {
        w.integer(5);
        w.integer(1);
        w.boolean(true);
        w.octetString(fromHex('00'));
        w.integer(300);
      }),
    );
    assert.equal(toHex(der), h('31 10 0101ff 020101 020105 0202012c 040100'));
    const s = DerReader.from(der, 'set').readSetOf('set');
    assert.equal(s.readBoolean('b'), true);
  });

  it('a prefix sorts before its extension', () => {
    const der = encodeDer((w) =>
      w.setOf((w) => {
        w.octetString(fromHex('0102'));
        w.octetString(fromHex('01'));
      }),
    );
    assert.equal(toHex(der), h('31 07 040101 04020102'));
  });

  it('elements with long-form lengths sort by their whole encoding', () => {
    const big = new Uint8Array(200).fill(1);
    const der = encodeDer((w) =>
      w.setOf((w) => {
        w.octetString(big);
        w.octetString(new Uint8Array(3));
      }),
    );
    const r = DerReader.from(der, 'set').readSetOf('set');
    assert.equal(r.readOctetString('a').length, 3);
    assert.equal(r.readOctetString('b').length, 200);
  });
});

describe('writer: lengths in every size class are minimal', () => {
  const rows: [number, string][] = [
    [0, '0400'],
    [127, '047f'],
    [128, '048180'],
    [255, '0481ff'],
    [256, '04820100'],
    [65535, '0482ffff'],
    [65536, '0483010000'],
    [16777215, '0483ffffff'],
    [16777216, '048401000000'],
  ];
  for (const [n, header] of rows) {
    it(`primitive of ${n} bytes → ${header}`, () => {
      const der = encodeDer((w) => w.octetString(new Uint8Array(n)), n + 8);
      assert.equal(toHex(der.subarray(0, header.length / 2)), header);
      assert.equal(der.length, header.length / 2 + n);
      assert.equal(parseDer(der, 'x', (r) => r.readOctetString('o')).length, n);
    });
  }

  for (const k of [0, 123, 124, 125, 126, 200, 252, 253, 254, 300, 65530, 65531, 65532, 70000])
    it(`constructed around ${k} bytes (length fixed up afterwards, minimal)`, () => {
      const der = encodeDer((w) => w.sequence((w) => w.octetString(new Uint8Array(k))));
      const r = DerReader.from(der, 'x');
      const s = r.readSequence('s');
      assert.equal(s.readOctetString('o').length, k);
      s.finish();
      r.finish();
    });

  it('nested constructed values whose lengths all cross size classes', () => {
    const der = encodeDer((w) =>
      w.sequence((w) => w.sequence((w) => w.sequence((w) => w.octetString(new Uint8Array(70000))))),
    );
    assert.equal(toHex(der.subarray(0, 5)), '308301117f');
    const r = DerReader.from(der, 'x');
    const inner = r.readSequence('a').readSequence('b').readSequence('c');
    assert.equal(inner.readOctetString('o').length, 70000);
  });
});

describe('writer: INTEGER is minimal two’s complement (X.690 §8.3)', () => {
  const rows: [number | bigint, string][] = [
    [0, '020100'],
    [1, '020101'],
    [127, '02017f'],
    [128, '02020080'],
    [255, '020200ff'],
    [256, '02020100'],
    [-1, '0201ff'],
    [-128, '020180'],
    [-129, '0202ff7f'],
    [-256, '0202ff00'],
    [-257, '0202feff'],
    [2 ** 31 - 1, '02047fffffff'],
    [2 ** 31, '02050080000000'],
    [Number.MAX_SAFE_INTEGER, '02071fffffffffffff'],
    [2n ** 64n, '0209010000000000000000'],
    [2n ** 64n - 1n, '020900ffffffffffffffff'],
    [-(2n ** 63n), '02088000000000000000'],
    [-(2n ** 63n) - 1n, '0209ff7fffffffffffffff'],
  ];
  for (const [v, expected] of rows)
    it(`${v} → ${expected}`, () => {
      const der = encodeDer((w) => w.integer(v));
      assert.equal(toHex(der), expected);
      assert.equal(
        parseDer(der, 'i', (r) => r.readBigInt('i')),
        BigInt(v),
      );
    });

  it('a 2048-bit magnitude with the high bit set gets a 00 sign octet', () => {
    const m = new Uint8Array(256).fill(0xff);
    const der = encodeDer((w) => w.unsignedInteger(m));
    assert.equal(toHex(der.subarray(0, 5)), '0282010100');
    assert.deepEqual(
      parseDer(der, 'u', (r) => r.readUnsignedInteger('u')),
      m,
    );
  });

  it('unsignedInteger strips redundant leading zeros', () => {
    assert.equal(toHex(encodeDer((w) => w.unsignedInteger(fromHex('000001')))), '020101');
    assert.equal(toHex(encodeDer((w) => w.unsignedInteger(fromHex('0000')))), '020100');
  });

  it('refuses non-minimal content bytes and non-integers', () => {
    assert.throws(
      () => encodeDer((w) => w.integer(fromHex('007f'))),
      (e: unknown) => e instanceof DerError && e.code === 'cannot-encode',
    );
    assert.throws(
      () => encodeDer((w) => w.integer(new Uint8Array(0))),
      (e: unknown) => e instanceof DerError && e.code === 'cannot-encode',
    );
    assert.throws(
      () => encodeDer((w) => w.integer(1.5)),
      (e: unknown) => e instanceof DerError && e.code === 'cannot-encode',
    );
  });
});

describe('writer: OBJECT IDENTIFIER arcs of any size (X.690 §8.19)', () => {
  const rows: [string, string][] = [
    ['2.5.4.3', '0603550403'],
    ['1.2.840.113549.1.1.11', '06092a864886f70d01010b'],
    ['0.0', '060100'],
    ['1.39', '06014f'],
    ['2.40', '060178'],
    ['2.47', '06017f'],
    ['2.48', '06028100'],
    ['2.999.3', '0603883703'],
    ['1.2.4294967295', '06062a8fffffff7f'],
    ['1.2.9007199254740993', '06092a9080808080808001'],
    ['1.2.18446744073709551616', '060b2a82808080808080808000'],
  ];
  for (const [dotted, der] of rows)
    it(`${dotted}`, () => {
      const enc = encodeDer((w) => w.oid(dotted));
      assert.equal(toHex(enc), der);
      assert.equal(
        parseDer(enc, 'o', (r) => r.readOid('o')),
        dotted,
      );
    });

  it('a 128-bit UUID arc (2.25.x, X.667) round-trips', () => {
    const oid = '2.25.329800735698586629295641978511506172918';
    assert.equal(decodeOid(encodeOid(oid)), oid);
  });

  for (const bad of ['', '1', '3.1', '1.40', '0.40', '1..2', '1.2.', '01.2', '1.02', 'a.b', '-1.2'])
    it(`refuses "${bad}"`, () => {
      assert.throws(
        () => encodeOid(bad),
        (e: unknown) => e instanceof DerError && e.code === 'cannot-encode',
      );
    });
});

describe('writer: RFC 5280 §4.1.2.5 time encoding', () => {
  const rows: [string, string, string][] = [
    ['1950-01-01T00:00:00Z', '17', '500101000000Z'],
    ['1949-12-31T23:59:59Z', '18', '19491231235959Z'],
    ['2024-02-29T12:34:56Z', '17', '240229123456Z'],
    ['2049-12-31T23:59:59Z', '17', '491231235959Z'],
    ['2050-01-01T00:00:00Z', '18', '20500101000000Z'],
    ['9999-12-31T23:59:59Z', '18', '99991231235959Z'],
  ];
  for (const [iso, tag, body] of rows)
    it(`${iso} → ${tag === '17' ? 'UTCTime' : 'GeneralizedTime'} ${body}`, () => {
      const ms = Date.parse(iso);
      const der = encodeDer((w) => w.time(ms));
      assert.equal(toHex(der.subarray(0, 1)), tag);
      assert.equal(String.fromCharCode(...der.subarray(2)), body);
      assert.equal(
        parseDer(der, 't', (r) => r.readTime('t')),
        ms,
      );
    });

  it('milliseconds are truncated to whole seconds', () => {
    const der = encodeDer((w) => w.time(Date.parse('2030-05-06T07:08:09.999Z')));
    assert.equal(String.fromCharCode(...der.subarray(2)), '300506070809Z');
  });

  it('UTCTime outside 1950–2049 cannot be written', () => {
    assert.throws(
      () => new DerWriter().utcTime(Date.parse('2050-01-01T00:00:00Z')),
      (e: unknown) => e instanceof DerError,
    );
  });
});

describe('writer: other primitives', () => {
  it('BOOLEAN, NULL, named bits with trailing zeros removed (X.690 §11.2.2)', () => {
    assert.equal(toHex(encodeDer((w) => w.boolean(true).boolean(false).null())), '0101ff0101000500');
    // keyCertSign(5) + cRLSign(6): 03 02 01 06
    assert.equal(toHex(encodeDer((w) => w.namedBits([5, 6]))), '03020106');
    // digitalSignature(0) only: 03 02 07 80
    assert.equal(toHex(encodeDer((w) => w.namedBits([0]))), '03020780');
    // decipherOnly(8): 03 03 07 00 80
    assert.equal(toHex(encodeDer((w) => w.namedBits([8]))), '0303070080');
    assert.equal(toHex(encodeDer((w) => w.namedBits([]))), '030100');
  });

  it('BIT STRING padding must be zero; strings keep their alphabets', () => {
    assert.throws(
      () => encodeDer((w) => w.bitString(fromHex('81'), 1)),
      (e: unknown) => e instanceof DerError,
    );
    assert.throws(
      () => encodeDer((w) => w.printableString('a@b')),
      (e: unknown) => e instanceof DerError,
    );
    assert.throws(
      () => encodeDer((w) => w.ia5String('é')),
      (e: unknown) => e instanceof DerError,
    );
    assert.equal(toHex(encodeDer((w) => w.utf8String('é'))), '0c02c3a9');
  });
});

describe('useUtcTime: UTCTime exactly for the years 1950..2049 (RFC 5280 §4.1.2.5)', () => {
  const byYear = (ms: number) => {
    const y = new Date(ms).getUTCFullYear();
    return y >= 1950 && y <= 2049;
  };
  const edges = [Date.UTC(1950, 0, 1), Date.UTC(2050, 0, 1), 0, Date.UTC(2049, 11, 31, 23, 59, 59, 999)];
  for (const t of [...edges.flatMap((e) => [e - 1, e, e + 1]), Number.NaN, -8.64e15, 8.64e15])
    it(`${Number.isNaN(t) ? 'NaN' : new Date(t).toISOString()}`, () =>
      assert.equal(useUtcTime(t), byYear(t)));
});
