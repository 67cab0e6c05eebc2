// The provisioning payload codecs: round trips in JSON and CBOR, and a table of hostile or
// malformed payloads, each refused with its code (RFC 8949 well-formedness, our subset and bounds).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode as cborEncode } from 'cbor-x';
import { checkCbor } from '../../src/provision/cbor-check.js';
import {
  decodeAnswer,
  decodeRequest,
  encodeAnswer,
  encodeRequest,
  type PayloadFormat,
  type ProvisionAnswer,
  type ProvisionRequest,
} from '../../src/provision/codec.js';
import { ProvisionError, type ProvisionErrorCode } from '../../src/provision/errors.js';

const csr = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]);
const REQUESTS: [string, ProvisionRequest][] = [
  [
    'CSR with attributes',
    { requestId: 'abcdefgh-1', template: 'sensor', attributes: { serialNumber: 'SN1', model: 'x' }, csr },
  ],
  ['CSR without attributes', { requestId: 'A.b_c-12345', template: 't', attributes: {}, csr }],
  [
    'create key',
    { requestId: 'abcdefgh-2', template: 'meter', attributes: { serialNumber: 'SN2' }, createKey: {} },
  ],
];
const ANSWERS: [string, ProvisionAnswer][] = [
  [
    'issued',
    { requestId: 'abcdefgh-1', certificates: [csr, csr], deviceTopic: 'devices/x', replayed: false },
  ],
  [
    'issued with a key',
    {
      requestId: 'abcdefgh-1',
      certificates: [csr],
      privateKey: Buffer.from([1, 2, 3]),
      deviceTopic: 'devices/x',
      replayed: true,
    },
  ],
  ['refused', { requestId: 'abcdefgh-1', error: { code: 'rate-limited', message: 'slow down' } }],
  ['refused, no request id', { error: { code: 'malformed-payload', message: 'JSON: bad' } }],
];

describe('round trips', () => {
  for (const format of ['json', 'cbor'] as const) {
    for (const [name, r] of REQUESTS)
      it(`${format} request: ${name}`, () =>
        assert.deepEqual(decodeRequest(encodeRequest(r, format), format), r));
    for (const [name, a] of ANSWERS)
      it(`${format} answer: ${name}`, () => {
        const back = decodeAnswer(encodeAnswer(a, format), format);
        const want =
          'privateKey' in a && a.privateKey ? { ...a, privateKey: new Uint8Array(a.privateKey) } : a;
        assert.deepEqual(back, want);
      });
  }
  it('JSON carries binary values as base64', () => {
    const text = new TextDecoder().decode(encodeRequest(REQUESTS[0]![1], 'json'));
    assert.match(text, /"csr":"MAMCAQA="/);
  });
  it('CBOR carries binary values as byte strings (major type 2, no typed-array tag)', () => {
    const b = encodeRequest(REQUESTS[0]![1], 'cbor');
    const hex = Buffer.from(b).toString('hex');
    assert.ok(hex.includes(`63637372${'45'}3003020100`), hex); // "csr" → bstr(5)
  });
});

const te = new TextEncoder();
const ok = { v: 1, requestId: 'abcdefgh-1', template: 'sensor', csr: 'MAMCAQA=' };
const BAD: {
  name: string;
  format: PayloadFormat;
  payload: Uint8Array;
  code: ProvisionErrorCode;
  max?: number;
}[] = [
  { name: 'empty', format: 'json', payload: new Uint8Array(), code: 'malformed-payload' },
  {
    name: 'not UTF-8',
    format: 'json',
    payload: new Uint8Array([0x7b, 0xff, 0x7d]),
    code: 'malformed-payload',
  },
  { name: 'truncated JSON', format: 'json', payload: te.encode('{"v":1'), code: 'malformed-payload' },
  { name: 'an array', format: 'json', payload: te.encode('[1]'), code: 'malformed-payload' },
  {
    name: 'version 2',
    format: 'json',
    payload: te.encode(JSON.stringify({ ...ok, v: 2 })),
    code: 'malformed-payload',
  },
  {
    name: 'unknown field',
    format: 'json',
    payload: te.encode(JSON.stringify({ ...ok, x: 1 })),
    code: 'malformed-payload',
  },
  {
    name: 'csr and createKey',
    format: 'json',
    payload: te.encode(JSON.stringify({ ...ok, createKey: {} })),
    code: 'malformed-payload',
  },
  {
    name: 'short request id',
    format: 'json',
    payload: te.encode(JSON.stringify({ ...ok, requestId: 'abc' })),
    code: 'malformed-payload',
  },
  {
    name: 'request id with a slash',
    format: 'json',
    payload: te.encode(JSON.stringify({ ...ok, requestId: 'abcd/efgh' })),
    code: 'malformed-payload',
  },
  {
    name: 'base64 with whitespace',
    format: 'json',
    payload: te.encode(JSON.stringify({ ...ok, csr: 'MAMC AQA=' })),
    code: 'malformed-payload',
  },
  {
    name: 'non-canonical base64',
    format: 'json',
    payload: te.encode(JSON.stringify({ ...ok, csr: 'MAMCAQB=' })),
    code: 'malformed-payload',
  },
  {
    name: 'base64url',
    format: 'json',
    payload: te.encode(JSON.stringify({ ...ok, csr: 'MAMC_QA=' })),
    code: 'malformed-payload',
  },
  {
    name: 'an attribute value with a control character',
    format: 'json',
    payload: te.encode(JSON.stringify({ ...ok, attributes: { serialNumber: 'a\nb' } })),
    code: 'malformed-payload',
  },
  {
    name: '17 attributes',
    format: 'json',
    payload: te.encode(
      JSON.stringify({
        ...ok,
        attributes: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`a${i}`, 'x'])),
      }),
    ),
    code: 'malformed-payload',
  },
  {
    name: 'over the size cap',
    format: 'json',
    payload: te.encode(JSON.stringify({ ...ok, csr: 'A'.repeat(2000) })),
    code: 'payload-too-large',
    max: 1024,
  },
  { name: 'CBOR: empty', format: 'cbor', payload: new Uint8Array(), code: 'malformed-payload' },
  {
    name: 'CBOR: truncated',
    format: 'cbor',
    payload: cborEncode(ok).subarray(0, 10),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: trailing byte',
    format: 'cbor',
    payload: new Uint8Array([...cborEncode({ v: 1 }), 0]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: indefinite-length map',
    format: 'cbor',
    payload: new Uint8Array([0xbf, 0x61, 0x76, 0x01, 0xff]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: tag (typed array)',
    format: 'cbor',
    payload: new Uint8Array([0xa1, 0x61, 0x61, 0xd8, 0x40, 0x41, 0x00]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: float',
    format: 'cbor',
    payload: new Uint8Array([0xa1, 0x61, 0x76, 0xf9, 0x3c, 0x00]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: half float that reads as 20',
    format: 'cbor',
    payload: new Uint8Array([0xa1, 0x61, 0x76, 0xf9, 0x00, 0x14]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: two-byte simple value',
    format: 'cbor',
    payload: new Uint8Array([0xa1, 0x61, 0x76, 0xf8, 0x14]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: integer map key',
    format: 'cbor',
    payload: new Uint8Array([0xa1, 0x01, 0x01]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: duplicate key',
    format: 'cbor',
    payload: new Uint8Array([0xa2, 0x61, 0x76, 0x01, 0x61, 0x76, 0x01]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: __proto__ key',
    format: 'cbor',
    payload: new Uint8Array([0xa1, 0x69, ...te.encode('__proto__'), 0xa0]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: invalid UTF-8 text',
    format: 'cbor',
    payload: new Uint8Array([0xa1, 0x61, 0x76, 0x62, 0xc3, 0x28]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: string longer than the input',
    format: 'cbor',
    payload: new Uint8Array([0x5a, 0xff, 0xff, 0xff, 0xff, 0x00]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: 2^64-1 array length',
    format: 'cbor',
    payload: new Uint8Array([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: a map of 2^32-1 entries in 6 bytes',
    format: 'cbor',
    payload: new Uint8Array([0xba, 0xff, 0xff, 0xff, 0xff, 0x00]),
    code: 'malformed-payload',
  },
  {
    name: 'CBOR: nested 5 deep',
    format: 'cbor',
    payload: new Uint8Array([0x81, 0x81, 0x81, 0x81, 0x81, 0x00]),
    code: 'payload-too-large',
  },
  {
    name: 'CBOR: 600 items',
    format: 'cbor',
    payload: new Uint8Array([0x99, 0x02, 0x58, ...Array(600).fill(0x00)]),
    code: 'payload-too-large',
  },
  {
    name: 'CBOR: a text where bytes belong',
    format: 'cbor',
    payload: cborEncode(ok),
    code: 'malformed-payload',
  },
];

describe('malformed and hostile payloads', () => {
  for (const c of BAD)
    it(`${c.name} → ${c.code}`, () =>
      assert.throws(
        () => decodeRequest(c.payload, c.format, { maxBytes: c.max }),
        (e: unknown) => e instanceof ProvisionError && e.code === c.code,
      ));

  it('checkCbor accepts what our encoder writes', () => {
    for (const [, r] of REQUESTS) checkCbor(encodeRequest(r, 'cbor'));
  });
});
