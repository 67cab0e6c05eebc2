// EST message codecs other than CMS: the base64 transfer framing (RFC 7030 §4, RFC 8951 §3.2),
// CsrAttrs (RFC 7030 §4.5.2, with the RFC's own example), media types, and the multipart/mixed
// /serverkeygen answer (RFC 7030 §4.4.2). Real peers: openssl reads what we write.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { bytesEqual, encodeDer } from '../../src/der/index.js';
import { encodeCertsOnly } from '../../src/est/cms.js';
import { type AttrOrOid, encodeCsrAttrs, parseCsrAttrs } from '../../src/est/csrattrs.js';
import { EstError, type EstErrorCode } from '../../src/est/errors.js';
import {
  checkMediaType,
  decodeBase64Body,
  EST_MEDIA_TYPES,
  encodeBase64Body,
  parseMediaType,
} from '../../src/est/framing.js';
import {
  encodeMultipartMixed,
  encodeServerKeygenResponse,
  parseMultipartMixed,
  parseServerKeygenResponse,
} from '../../src/est/multipart.js';
import { makeHierarchy, tempDir } from '../helpers/fleet.js';
import { run, sh } from '../helpers/proc.js';

const isEst = (code: EstErrorCode) => (e: unknown) => e instanceof EstError && e.code === code;
const tmp = tempDir('est-messages');
after(() => tmp.remove());

describe('base64 transfer framing', () => {
  const der = Uint8Array.from({ length: 200 }, (_, i) => (i * 37) & 0xff);

  it('writes 64-character LF lines that base64 -d and openssl base64 -d read', async () => {
    const body = encodeBase64Body(der);
    const lines = body.split('\n');
    assert.equal(lines.pop(), '');
    assert.ok(lines.every((l) => l.length <= 64) && lines[0]!.length === 64);
    for (const cmd of ['base64 -d', 'openssl base64 -d']) {
      const file = tmp.file('body.b64', body);
      const r = await sh(`${cmd} < ${file} | od -An -tx1 | tr -d ' \\n'`);
      assert.equal(r.stdout, Buffer.from(der).toString('hex'), cmd);
    }
  });

  const accepted: { name: string; text: string }[] = [
    { name: 'LF lines', text: encodeBase64Body(der) },
    { name: 'CRLF lines', text: encodeBase64Body(der, { eol: '\r\n' }) },
    { name: 'one long line, no newline', text: Buffer.from(der).toString('base64') },
    {
      name: 'spaces and tabs between groups',
      text: Buffer.from(der)
        .toString('base64')
        .replace(/(.{8})/g, '$1 \t'),
    },
  ];
  for (const c of accepted)
    it(`reads ${c.name} (RFC 8951 §3.2.2: whitespace is ignored)`, () => {
      assert.ok(bytesEqual(decodeBase64Body(c.text), der));
      assert.ok(bytesEqual(decodeBase64Body(new TextEncoder().encode(c.text)), der));
    });

  const refused: { name: string; text: string; code: EstErrorCode; max?: number }[] = [
    { name: 'binary DER', text: String.fromCharCode(...der.subarray(0, 40)), code: 'bad-base64' },
    {
      name: 'a PEM header',
      text: `-----BEGIN PKCS7-----\n${encodeBase64Body(der)}-----END PKCS7-----\n`,
      code: 'bad-base64',
    },
    { name: 'missing padding', text: 'QUJD\nRA', code: 'bad-base64' },
    { name: 'an empty body', text: '\r\n', code: 'bad-base64' },
    { name: 'a body over the bound', text: encodeBase64Body(der), code: 'too-large', max: 100 },
  ];
  for (const c of refused)
    it(`refuses ${c.name} (${c.code})`, () => {
      assert.throws(() => decodeBase64Body(c.text, { maxBytes: c.max }), isEst(c.code));
    });
});

describe('media types', () => {
  const ok: [string, string][] = [
    ['application/pkcs7-mime; smime-type=certs-only', EST_MEDIA_TYPES.certsOnly],
    ['Application/PKCS7-MIME;smime-type="certs-only"', EST_MEDIA_TYPES.certsOnly],
    ['application/pkcs7-mime', EST_MEDIA_TYPES.certsOnly],
    ['application/csrattrs', EST_MEDIA_TYPES.csrattrs],
  ];
  for (const [value, want] of ok)
    it(`accepts "${value}" for ${want}`, () => assert.ok(checkMediaType(value, want)));
  const bad: [string | undefined, string][] = [
    [undefined, EST_MEDIA_TYPES.certsOnly],
    ['text/html', EST_MEDIA_TYPES.certsOnly],
    ['application/pkcs7-mime; smime-type=server-generated-key', EST_MEDIA_TYPES.certsOnly],
    ['application/pkcs7-mime; smime-type', EST_MEDIA_TYPES.certsOnly],
  ];
  for (const [value, want] of bad)
    it(`refuses "${value}" for ${want}`, () =>
      assert.throws(() => checkMediaType(value, want), isEst('bad-content-type')));
  it('reads quoted parameters with escapes', () => {
    assert.equal(parseMediaType('multipart/mixed; boundary="a\\"b c"')?.params.get('boundary'), 'a"b c');
  });
});

describe('CsrAttrs', () => {
  // RFC 7030 §4.5.2's example: challengePassword, ecPublicKey with secp384r1, extensionRequest
  // naming macAddress, and ecdsa-with-SHA384.
  const RFC_EXAMPLE =
    'MEEGCSqGSIb3DQEJBzASBgcqhkjOPQIBMQcGBSuBBAAiMBYGCSqGSIb3DQEJDjEJBgcrBgEBAQEWBggqhkjOPQQDAw==';
  const oidTlv = (o: string) => encodeDer((w) => w.oid(o));

  it('decodes the RFC 7030 example and re-encodes it byte for byte', () => {
    const der = decodeBase64Body(RFC_EXAMPLE);
    const attrs = parseCsrAttrs(der);
    assert.deepEqual(attrs, [
      { oid: '1.2.840.113549.1.9.7' },
      { type: '1.2.840.10045.2.1', values: [oidTlv('1.3.132.0.34')] },
      { type: '1.2.840.113549.1.9.14', values: [oidTlv('1.3.6.1.1.1.1.22')] },
      { oid: '1.2.840.10045.4.3.3' },
    ]);
    assert.ok(bytesEqual(encodeCsrAttrs(attrs), der));
  });

  it('openssl asn1parse reads what we write', async () => {
    const der = encodeCsrAttrs([
      { oid: '1.2.840.113549.1.9.7' },
      { type: '1.2.840.10045.2.1', values: [oidTlv('1.2.840.10045.3.1.7')] },
    ]);
    const r = await run('openssl', ['asn1parse', '-inform', 'DER'], { input: der });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /challengePassword/);
    assert.match(r.stdout, /id-ecPublicKey/);
    assert.match(r.stdout, /prime256v1/);
  });

  it('an empty CsrAttrs is valid (SIZE (0..MAX))', () => {
    assert.deepEqual(parseCsrAttrs(encodeCsrAttrs([])), []);
  });

  const hostile: { name: string; der: () => Uint8Array; code: EstErrorCode }[] = [
    { name: 'not a SEQUENCE', der: () => oidTlv('1.2.3'), code: 'malformed-csrattrs' },
    {
      name: 'an INTEGER item',
      der: () => encodeDer((w) => w.sequence((w) => w.integer(1))),
      code: 'malformed-csrattrs',
    },
    {
      name: 'an attribute without values',
      der: () =>
        encodeDer((w) =>
          w.sequence((w) =>
            w.sequence((w) => {
              w.oid('1.2.3');
              w.constructed(0x31, () => {});
            }),
          ),
        ),
      code: 'malformed-csrattrs',
    },
    {
      name: 'attribute values out of DER order',
      der: () =>
        encodeDer((w) =>
          w.sequence((w) =>
            w.sequence((w) => {
              w.oid('1.2.3');
              w.constructed(0x31, (w) => {
                w.oid('1.2.4');
                w.oid('1.2.3');
              });
            }),
          ),
        ),
      code: 'malformed-csrattrs',
    },
    {
      name: 'trailing data',
      der: () => Uint8Array.from([...encodeCsrAttrs([{ oid: '1.2.3' }]), 0]),
      code: 'malformed-csrattrs',
    },
    {
      name: 'more items than the bound',
      der: () => encodeCsrAttrs(Array.from({ length: 65 }, (_, i): AttrOrOid => ({ oid: `1.2.${i}` }))),
      code: 'too-many-items',
    },
  ];
  for (const c of hostile)
    it(`refuses ${c.name} (${c.code})`, () => assert.throws(() => parseCsrAttrs(c.der()), isEst(c.code)));

  it('refuses to encode a value that is not one TLV', () => {
    assert.throws(
      () => encodeCsrAttrs([{ type: '1.2.3', values: [Uint8Array.of(6, 1, 42, 6)] }]),
      isEst('bad-input'),
    );
  });
});

describe('multipart/mixed and the /serverkeygen answer', () => {
  it('round-trips a key and a certificate; openssl reads each part after a shell split', async () => {
    const h = await makeHierarchy('Keygen');
    const id = await h.device('keygen-device');
    const certsOnly = encodeCertsOnly([id.certificate]);
    const { contentType, body } = encodeServerKeygenResponse({
      privateKey: id.key.privateKey.pkcs8,
      certsOnly,
    });
    assert.match(contentType, /^multipart\/mixed; boundary=est-[0-9a-f]{24}$/);
    assert.ok(body.split('\r\n').length > 6 && !/[^\r]\n/.test(body), 'CRLF line ends only');
    const back = parseServerKeygenResponse(contentType, body);
    assert.ok(bytesEqual(back.privateKey, id.key.privateKey.pkcs8));
    assert.ok(bytesEqual(back.parsed.certificates[0]!.der, id.certificate.der));

    // A shell client: split on the boundary, keep each part's body, base64-decode, hand to openssl.
    const boundary = contentType.split('boundary=')[1]!;
    const file = tmp.file('keygen.multipart', body);
    const part = (n: number) =>
      `tr -d '\\r' < ${file} | awk -v b='--${boundary}' -v n=${n} '$0==b||$0==b"--"{p++;h=1;next} p==n&&h&&$0==""{h=0;next} p==n&&!h{print}' | base64 -d`;
    const key = await sh(`${part(1)} | openssl pkey -inform DER -noout -text | head -1`);
    assert.match(key.stdout, /Private-Key: \(256 bit/, key.stderr);
    const cert = await sh(`${part(2)} | openssl pkcs7 -inform DER -print_certs | grep subject`);
    assert.equal(cert.stdout.trim(), 'subject=CN = keygen-device', cert.stderr);
  });

  it('parses LF-only bodies, a quoted boundary, preamble and epilogue, parts in either order', () => {
    const body = [
      'This is the preamble.',
      '--b 1',
      'Content-Type: text/plain',
      '',
      'first',
      'line two',
      '--b 1   ',
      'content-type: application/octet-stream',
      'X-Extra:   spaced   ',
      '',
      '',
      '--b 1--',
      'epilogue',
    ].join('\n');
    const parts = parseMultipartMixed('multipart/mixed; boundary="b 1"', body);
    assert.equal(parts.length, 2);
    assert.equal(new TextDecoder().decode(parts[0]!.body), 'first\nline two');
    assert.equal(parts[1]!.headers.get('x-extra'), 'spaced');
    assert.equal(parts[1]!.body.length, 0);
  });

  const enc = (parts: { headers: Record<string, string>; body: string }[]) =>
    encodeMultipartMixed(parts, 'BB');
  const hostile: { name: string; ct: string | undefined; body: string; code: EstErrorCode }[] = [
    { name: 'no Content-Type', ct: undefined, body: '--BB\r\n\r\nx\r\n--BB--\r\n', code: 'bad-content-type' },
    {
      name: 'multipart/form-data',
      ct: 'multipart/form-data; boundary=BB',
      body: '--BB\r\n\r\nx\r\n--BB--\r\n',
      code: 'bad-content-type',
    },
    {
      name: 'no boundary parameter',
      ct: 'multipart/mixed',
      body: '--BB\r\n\r\nx\r\n--BB--\r\n',
      code: 'malformed-multipart',
    },
    {
      name: 'a boundary never used',
      ct: 'multipart/mixed; boundary=CC',
      body: '--BB\r\n\r\nx\r\n--BB--\r\n',
      code: 'malformed-multipart',
    },
    {
      name: 'no close delimiter',
      ct: 'multipart/mixed; boundary=BB',
      body: '--BB\r\n\r\nx\r\n',
      code: 'malformed-multipart',
    },
    {
      name: 'headers without a blank line',
      ct: 'multipart/mixed; boundary=BB',
      body: '--BB\r\nContent-Type: a/b',
      code: 'malformed-multipart',
    },
    {
      name: 'a malformed header line',
      ct: 'multipart/mixed; boundary=BB',
      body: '--BB\r\nno colon here\r\n\r\nx\r\n--BB--\r\n',
      code: 'malformed-multipart',
    },
    {
      name: 'too many parts',
      ct: 'multipart/mixed; boundary=BB',
      body: enc(Array.from({ length: 9 }, () => ({ headers: {}, body: 'x' }))).body,
      code: 'too-many-items',
    },
  ];
  for (const c of hostile)
    it(`refuses ${c.name} (${c.code})`, () =>
      assert.throws(() => parseMultipartMixed(c.ct, c.body), isEst(c.code)));

  it('a /serverkeygen answer needs exactly one key and one certificate part', () => {
    const keyPart = { headers: { 'Content-Type': 'application/pkcs8' }, body: 'AAAA' };
    const { contentType, body } = enc([keyPart]);
    assert.throws(() => parseServerKeygenResponse(contentType, body), isEst('malformed-multipart'));
    const two = enc([keyPart, keyPart]);
    assert.throws(() => parseServerKeygenResponse(two.contentType, two.body), isEst('malformed-multipart'));
    const enc2 = enc([
      keyPart,
      {
        headers: { 'Content-Type': 'application/pkcs7-mime; smime-type=server-generated-key' },
        body: 'AAAA',
      },
    ]);
    assert.throws(() => parseServerKeygenResponse(enc2.contentType, enc2.body), isEst('bad-content-type'));
  });
});
