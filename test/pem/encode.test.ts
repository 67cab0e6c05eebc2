// base64 and PEM encoding: the text must be byte for byte what OpenSSL writes (64-character lines,
// a final newline) and what Node's own base64 gives, for every length class (0, 1 and 2 octets of
// padding; a last line that is full or not), and decode back to the same octets.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { generateKeyPair, KeySigner } from '../../src/crypto/index.js';
import { CertificateBuilder } from '../../src/issue/index.js';
import { base64Decode, base64Encode, decodePem, encodePem } from '../../src/pem/index.js';

/** Deterministic octets (no two runs differ). */
const octets = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 151 + 7) & 0xff);

const LENGTHS = [0, 1, 2, 3, 4, 5, 46, 47, 48, 49, 50, 95, 96, 97, 600, 1500, 65_537];

describe('base64Encode', () => {
  for (const n of LENGTHS)
    it(`${n} octets: as Node's base64, and back`, () => {
      const b = octets(n);
      const text = base64Encode(b);
      assert.equal(text, Buffer.from(b).toString('base64'));
      assert.deepEqual(base64Decode(text), b);
    });

  for (const [n, line] of [
    [0, 64],
    [48, 64],
    [49, 64],
    [57, 76],
    [1000, 76],
    [7, 4],
  ] as const)
    it(`${n} octets in lines of ${line}`, () => {
      const text = base64Encode(octets(n), line);
      const flat = Buffer.from(octets(n)).toString('base64');
      const want = flat.length === 0 ? '' : `${flat.match(new RegExp(`.{1,${line}}`, 'g'))!.join('\n')}\n`;
      assert.equal(text, want);
      assert.deepEqual(base64Decode(text), octets(n));
    });

  for (const bad of [-4, 3, 63, 1.5])
    it(`refuses a line length of ${bad}`, () =>
      assert.throws(() => base64Encode(octets(3), bad), RangeError));
});

describe('encodePem', () => {
  for (const n of [0, 47, 48, 49, 600])
    it(`${n} octets: as OpenSSL writes it, and back`, () => {
      const der = octets(n);
      const pem = encodePem('CERTIFICATE', der);
      assert.equal(pem, encodePemLikeOpenssl('CERTIFICATE', der));
      if (n > 0) {
        const [block] = decodePem(pem);
        assert.equal(block!.label, 'CERTIFICATE');
        assert.deepEqual(block!.der, der);
      }
    });

  it('a real certificate: byte for byte what `openssl x509` writes for its DER', async () => {
    const signer = await KeySigner.create((await generateKeyPair('ec-p256')).privateKey);
    const { der } = await new CertificateBuilder('root').subject('CN=pem-test').sign(signer);
    const pem = execFileSync('openssl', ['x509', '-inform', 'DER', '-outform', 'PEM'], {
      input: der,
      encoding: 'utf8',
    });
    assert.equal(encodePem('CERTIFICATE', der), pem);
  });
});

/** OpenSSL's PEM writer: 64-character lines, each ended by a newline. */
function encodePemLikeOpenssl(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}
