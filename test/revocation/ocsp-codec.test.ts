import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bytesEqual, concatBytes, encodeDer, fromHex } from '../../src/der/index.js';
import { RevocationError } from '../../src/revocation/errors.js';
import {
  encodeOcspRequest,
  encodeOcspResponse,
  parseOcspRequest,
  parseOcspResponse,
  reencodeOcspRequest,
  reencodeOcspResponse,
} from '../../src/revocation/ocsp/index.js';
import { makeExtension } from '../../src/x509/index.js';
import { makeTestPki, type TestPki } from './pki.js';

let pki: TestPki;
const files: Record<string, Uint8Array> = {};

before(() => {
  pki = makeTestPki();
  const ca = ['-issuer', 'int.pem'];
  pki.openssl(['ocsp', ...ca, '-cert', 'device.pem', '-no_nonce', '-reqout', 'req-plain.der']);
  pki.openssl(['ocsp', ...ca, '-cert', 'device.pem', '-reqout', 'req-nonce.der']);
  pki.openssl([
    'ocsp',
    ...ca,
    '-cert',
    'device.pem',
    '-cert',
    'revoked.pem',
    '-sha256',
    '-serial',
    '0x9999',
    '-reqout',
    'req-multi.der',
  ]);
  // Signed request (optionalSignature with certs).
  pki.openssl([
    'ocsp',
    ...ca,
    '-cert',
    'device.pem',
    '-signer',
    'device.pem',
    '-signkey',
    'device.key',
    '-reqout',
    'req-signed.der',
  ]);
  for (const [req, out, extra] of [
    ['req-plain.der', 'resp-plain.der', ['-resp_key_id']],
    ['req-nonce.der', 'resp-nonce.der', []],
    ['req-multi.der', 'resp-multi.der', ['-resp_no_certs']],
  ] as const)
    pki.openssl([
      'ocsp',
      '-index',
      'index.txt',
      '-rsigner',
      'ocsp.pem',
      '-rkey',
      'ocsp.key',
      '-CA',
      'int.pem',
      '-nmin',
      '5',
      '-reqin',
      req,
      '-respout',
      out,
      ...extra,
    ]);
  for (const f of [
    'req-plain.der',
    'req-nonce.der',
    'req-multi.der',
    'req-signed.der',
    'resp-plain.der',
    'resp-nonce.der',
    'resp-multi.der',
  ])
    files[f] = new Uint8Array(pki.read(f));
});
after(() => pki?.cleanup());

describe('OCSP requests from openssl', () => {
  const cases: [string, (r: ReturnType<typeof parseOcspRequest>) => void][] = [
    [
      'req-plain.der',
      (r) => {
        assert.equal(r.requestList.length, 1);
        assert.equal(r.requestList[0]!.reqCert.hash, 'SHA-1');
        assert.equal(r.nonce, undefined);
      },
    ],
    [
      'req-nonce.der',
      (r) => {
        assert.ok(r.nonce && r.nonce.length >= 1);
      },
    ],
    [
      'req-multi.der',
      (r) => {
        assert.equal(r.requestList.length, 3);
        assert.equal(r.requestList[2]!.reqCert.hash, 'SHA-256');
        assert.ok(bytesEqual(r.requestList[2]!.reqCert.serialNumber, fromHex('009999')));
      },
    ],
    [
      'req-signed.der',
      (r) => {
        assert.ok(r.optionalSignature);
        assert.equal(r.optionalSignature.certs.length, 1);
        assert.equal(r.requestorName?.type, 'directoryName');
      },
    ],
  ];
  for (const [name, check] of cases)
    it(`${name} parses and re-encodes byte-identically`, () => {
      const r = parseOcspRequest(files[name]!);
      check(r);
      assert.ok(bytesEqual(reencodeOcspRequest(r), files[name]!));
    });
});

describe('OCSP responses from openssl', () => {
  const cases: [string, (r: ReturnType<typeof parseOcspResponse>) => void][] = [
    [
      'resp-plain.der',
      (r) => {
        assert.equal(r.responseStatus, 'successful');
        assert.ok(r.basic?.responderId.byKey);
        assert.equal(r.basic.responses[0]!.certStatus.status, 'good');
        assert.equal(r.basic.certs.length, 1);
      },
    ],
    [
      'resp-nonce.der',
      (r) => {
        assert.ok(r.basic?.responderId.byName);
        assert.ok(r.basic.nonce);
      },
    ],
    [
      'resp-multi.der',
      (r) => {
        const st = r.basic!.responses.map((s) => s.certStatus);
        assert.deepEqual(st[0], { status: 'good' });
        assert.equal(st[1]!.status, 'revoked');
        assert.equal(st[1]!.status === 'revoked' && st[1]!.revocationReason, 'keyCompromise');
        assert.deepEqual(st[2], { status: 'unknown' });
        assert.equal(r.basic!.certs.length, 0);
        assert.ok(r.basic!.responses[0]!.nextUpdate! > r.basic!.responses[0]!.thisUpdate);
      },
    ],
  ];
  for (const [name, check] of cases)
    it(`${name} parses and re-encodes byte-identically`, () => {
      const r = parseOcspResponse(files[name]!);
      check(r);
      assert.ok(bytesEqual(reencodeOcspResponse(r), files[name]!));
    });
  it('an error status response round-trips', () => {
    const der = encodeOcspResponse('unauthorized');
    assert.deepEqual([...der], [0x30, 0x03, 0x0a, 0x01, 0x06]);
    const r = parseOcspResponse(der);
    assert.equal(r.responseStatus, 'unauthorized');
    assert.ok(bytesEqual(reencodeOcspResponse(r), der));
  });
});

describe('hostile OCSP requests', () => {
  const plain = () => files['req-plain.der']!;
  const cases: [string, () => Uint8Array, string][] = [
    ['empty input', () => new Uint8Array(0), 'malformed-request'],
    ['truncated', () => plain().subarray(0, plain().length - 1), 'malformed-request'],
    ['trailing byte', () => concatBytes(plain(), Uint8Array.of(0)), 'malformed-request'],
    ['indefinite length', () => Uint8Array.of(0x30, 0x80, 0, 0), 'malformed-request'],
    ['empty requestList', () => encodeEmptyList(), 'malformed-request'],
    ['not a sequence', () => Uint8Array.of(0x04, 0x00), 'malformed-request'],
    ['explicit v1 version', () => withVersion(plain()), 'malformed-request'],
    ['oversized body', () => new Uint8Array(70 * 1024), 'request-too-large'],
    ['too many CertIDs', () => manyRequests(101), 'too-many-requests'],
    ['zero-length nonce', () => withNonce(new Uint8Array(0)), 'bad-nonce'],
    ['129-octet nonce', () => withNonce(new Uint8Array(129)), 'bad-nonce'],
  ];
  for (const [name, input, code] of cases)
    it(`${name} → ${code}`, () => {
      assert.throws(
        () => parseOcspRequest(input()),
        (e: unknown) => e instanceof RevocationError && e.code === code,
      );
    });
  it('a 128-octet nonce is accepted (RFC 9654)', () => {
    assert.equal(parseOcspRequest(withNonce(new Uint8Array(128).fill(7))).nonce?.length, 128);
  });

  function first() {
    return parseOcspRequest(plain()).requestList[0]!.reqCert;
  }
  function encodeEmptyList(): Uint8Array {
    return Uint8Array.of(0x30, 0x04, 0x30, 0x02, 0x30, 0x00);
  }
  function withVersion(req: Uint8Array): Uint8Array {
    // Insert [0] { INTEGER 0 } at the start of TBSRequest (lengths are short-form here).
    const tbsLen = req[3]!;
    const body = req.subarray(4, 4 + tbsLen);
    const tbs = concatBytes(Uint8Array.of(0x30, tbsLen + 5, 0xa0, 0x03, 0x02, 0x01, 0x00), body);
    return concatBytes(Uint8Array.of(0x30, tbs.length), tbs);
  }
  function manyRequests(n: number): Uint8Array {
    const id = first();
    return encodeOcspRequest({ requestList: Array.from({ length: n }, () => ({ reqCert: id })) });
  }
  function withNonce(n: Uint8Array): Uint8Array {
    const ext = makeExtension(
      '1.3.6.1.5.5.7.48.1.2',
      false,
      encodeDer((w) => w.octetString(n)),
    );
    return encodeOcspRequest({ requestList: [{ reqCert: first() }], requestExtensions: [ext] });
  }
});
