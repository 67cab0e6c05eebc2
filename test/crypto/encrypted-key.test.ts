import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CryptoError,
  exportKey,
  generateKeyPair,
  importPrivateKey,
  type KeyPair,
  nodeCrypto,
  type PrivateKey,
} from '../../src/crypto/index.js';
import { parseEncryptedPrivateKeyInfo } from '../../src/crypto/pbes2.js';
import { bytesEqual, encodeDer, OID } from '../../src/der/index.js';

/**
 * Encrypted PKCS#8 (PBES2) interop with the real `openssl` CLI, both directions.
 * Note: OpenSSL (3.0 here, still in 3.4) refuses scrypt needing more than ~16–32 MiB
 * (openssl/openssl#24650), so scrypt N=2^17, r=8 (128 MiB) is NOT readable by `openssl pkey`;
 * that is why our default is PBKDF2-HMAC-SHA256 600 000 + AES-256-CBC (readable everywhere).
 */

function openssl(args: string[], input?: string): string {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl not found on PATH (install the openssl CLI): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

let dir: string;
let ec: KeyPair;
let ed: KeyPair;
let rsa: KeyPair;
const PASS = 'correct horse battery staple';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-enc-'));
  [ec, ed, rsa] = await Promise.all([
    generateKeyPair('ec-p256'),
    generateKeyPair('ed25519'),
    generateKeyPair('rsa-2048'),
  ]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The SPKI OpenSSL derives from a (possibly encrypted) key file. */
function opensslSpki(file: string, pass: string): Uint8Array {
  const der = execFileSync('openssl', [
    'pkey',
    '-in',
    file,
    '-passin',
    `pass:${pass}`,
    '-pubout',
    '-outform',
    'DER',
  ]);
  return new Uint8Array(der);
}

describe('keys we encrypt are read by openssl pkey', () => {
  const cases = [
    {
      name: 'PBKDF2-HMAC-SHA256 600000 + AES-256-CBC (P-256)',
      key: () => ec,
      enc: { kdf: { kdf: 'pbkdf2' as const } },
    },
    {
      name: 'PBKDF2-HMAC-SHA512 600000 + AES-128-CBC (Ed25519)',
      key: () => ed,
      enc: { kdf: { kdf: 'pbkdf2' as const, hash: 'SHA-512' as const }, cipher: 'aes-128-cbc' as const },
    },
    {
      name: 'scrypt N=2^14 r=8 p=1 + AES-256-CBC (RSA-2048)',
      key: () => rsa,
      enc: { kdf: { kdf: 'scrypt' as const, N: 1 << 14 } },
    },
  ];
  for (const c of cases)
    test(c.name, async () => {
      const pem = await exportKey(c.key().privateKey, {
        format: 'pkcs8',
        passphrase: PASS,
        encryption: c.enc,
      });
      assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      const f = join(dir, `ours-${c.name.length}.pem`);
      writeFileSync(f, pem);
      assert.ok(bytesEqual(opensslSpki(f, PASS), c.key().publicKey.spki));
      // ...and a wrong passphrase fails in OpenSSL too (the file really is encrypted).
      const r = spawnSync('openssl', ['pkey', '-in', f, '-passin', 'pass:wrong', '-noout']);
      assert.notEqual(r.status, 0);
    });
});

describe('default encryption (PBKDF2-HMAC-SHA256 600 000, AES-256-CBC)', () => {
  let pem: string;
  test('writes the documented parameters', async () => {
    pem = await exportKey(ec.privateKey, { format: 'pkcs8', passphrase: PASS });
    const der = new Uint8Array(
      execFileSync('openssl', ['base64', '-d'], { input: pem.split('\n').slice(1, -2).join('\n') }),
    );
    const p = parseEncryptedPrivateKeyInfo(der);
    assert.deepEqual(p.kdf.kdf === 'pbkdf2' ? [p.kdf.iterations, p.kdf.prf, p.cipher.name] : [], [
      600_000,
      'SHA-256',
      'aes-256-cbc',
    ]);
  });
  test('openssl pkey reads the default', () => {
    const out = openssl(['pkey', '-passin', `pass:${PASS}`, '-pubout'], pem);
    assert.match(out, /BEGIN PUBLIC KEY/);
  });
  test('scrypt N=2^17, r=8, p=1 option round-trips', async () => {
    const spem = await exportKey(ec.privateKey, {
      format: 'pkcs8',
      passphrase: PASS,
      encryption: { kdf: { kdf: 'scrypt' } },
    });
    const back = await importPrivateKey(spem, { passphrase: PASS });
    assert.ok(bytesEqual(back.pkcs8, ec.privateKey.pkcs8));
  });
  test('round trip', async () => {
    const back = await importPrivateKey(pem, { passphrase: PASS });
    assert.ok(bytesEqual(back.pkcs8, ec.privateKey.pkcs8));
  });
  test('wrong passphrase → bad-passphrase', async () => {
    await assert.rejects(importPrivateKey(pem, { passphrase: 'nope' }), isCode('bad-passphrase'));
  });
  test('no passphrase → passphrase-required', async () => {
    await assert.rejects(importPrivateKey(pem), isCode('passphrase-required'));
  });
});

function isCode(code: string) {
  return (e: unknown) => e instanceof CryptoError && e.code === code;
}

describe('keys OpenSSL encrypts are read by us', () => {
  const cases: { name: string; make: (plain: string, out: string) => void }[] = [
    {
      name: 'genpkey EC P-256 -aes-256-cbc (PBKDF2 hmacWithSHA256)',
      make: (_p, out) =>
        openssl([
          'genpkey',
          '-algorithm',
          'EC',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-aes-256-cbc',
          '-pass',
          `pass:${PASS}`,
          '-out',
          out,
        ]),
    },
    {
      name: 'genpkey Ed25519 -aes-128-cbc',
      make: (_p, out) =>
        openssl(['genpkey', '-algorithm', 'ED25519', '-aes-128-cbc', '-pass', `pass:${PASS}`, '-out', out]),
    },
    {
      name: 'pkcs8 -topk8 -v2 aes-128-cbc -v2prf hmacWithSHA1',
      make: (p, out) =>
        openssl([
          'pkcs8',
          '-topk8',
          '-in',
          p,
          '-v2',
          'aes-128-cbc',
          '-v2prf',
          'hmacWithSHA1',
          '-passout',
          `pass:${PASS}`,
          '-out',
          out,
        ]),
    },
    {
      name: 'pkcs8 -topk8 -v2 aes-192-cbc',
      make: (p, out) =>
        openssl(['pkcs8', '-topk8', '-in', p, '-v2', 'aes-192-cbc', '-passout', `pass:${PASS}`, '-out', out]),
    },
    {
      name: 'pkcs8 -topk8 -v2 des3 (DES-EDE3-CBC)',
      make: (p, out) =>
        openssl(['pkcs8', '-topk8', '-in', p, '-v2', 'des3', '-passout', `pass:${PASS}`, '-out', out]),
    },
    {
      name: 'pkcs8 -topk8 -scrypt (N=16384 r=8 p=1)',
      make: (p, out) =>
        openssl(['pkcs8', '-topk8', '-in', p, '-scrypt', '-passout', `pass:${PASS}`, '-out', out]),
    },
    {
      name: 'pkcs8 -topk8 -v2 aes-256-cbc of an RSA key',
      make: (_p, out) => {
        const plain = join(dir, 'rsa-plain.pem');
        openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', plain]);
        openssl([
          'pkcs8',
          '-topk8',
          '-in',
          plain,
          '-v2',
          'aes-256-cbc',
          '-passout',
          `pass:${PASS}`,
          '-out',
          out,
        ]);
      },
    },
  ];
  let plain: string;
  before(() => {
    plain = join(dir, 'plain.pem');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', plain]);
  });
  cases.forEach((c, i) => {
    test(c.name, async () => {
      const out = join(dir, `openssl-${i}.pem`);
      c.make(plain, out);
      const k: PrivateKey = await importPrivateKey(readFileSync(out, 'utf8'), { passphrase: PASS });
      assert.ok(bytesEqual(k.spki, opensslSpki(out, PASS)), 'same public key as OpenSSL derives');
      await assert.rejects(
        importPrivateKey(readFileSync(out, 'utf8'), { passphrase: 'wrong' }),
        isCode('bad-passphrase'),
      );
    });
  });
});

describe('hostile KDF parameters are refused before any work', () => {
  /** EncryptedPrivateKeyInfo with the given KDF AlgorithmIdentifier and 32 bytes of junk. */
  const wrap = (kdf: (w: Parameters<Parameters<typeof encodeDer>[0]>[0]) => void) =>
    encodeDer((w) =>
      w.sequence((w) => {
        w.sequence((w) => {
          w.oid(OID.pbes2);
          w.sequence((w) => {
            w.sequence(kdf);
            w.sequence((w) => w.oid(OID.aes256Cbc).octetString(new Uint8Array(16)));
          });
        });
        w.octetString(new Uint8Array(32));
      }),
    );
  const cases = [
    {
      name: 'PBKDF2 iterationCount 2^31-1',
      der: wrap((w) =>
        w.oid(OID.pbkdf2).sequence((w) => w.octetString(new Uint8Array(8)).integer(0x7fffffff)),
      ),
      code: 'kdf-limit',
    },
    {
      name: 'scrypt N=2^24 r=8 (2 GiB)',
      der: wrap((w) =>
        w.oid(OID.scrypt).sequence((w) =>
          w
            .octetString(new Uint8Array(8))
            .integer(1 << 24)
            .integer(8)
            .integer(1),
        ),
      ),
      code: 'kdf-limit',
    },
    {
      name: 'scrypt p=1000',
      der: wrap((w) =>
        w
          .oid(OID.scrypt)
          .sequence((w) => w.octetString(new Uint8Array(8)).integer(1024).integer(1).integer(1000)),
      ),
      code: 'kdf-limit',
    },
    {
      name: 'scrypt N not a power of two',
      der: wrap((w) =>
        w
          .oid(OID.scrypt)
          .sequence((w) => w.octetString(new Uint8Array(8)).integer(1000).integer(8).integer(1)),
      ),
      code: 'bad-encrypted-key',
    },
    {
      name: 'PBKDF2 keyLength 16 with AES-256',
      der: wrap((w) =>
        w.oid(OID.pbkdf2).sequence((w) => w.octetString(new Uint8Array(8)).integer(1000).integer(16)),
      ),
      code: 'bad-encrypted-key',
    },
  ];
  for (const c of cases)
    test(c.name, async () => {
      // "Before any work" is checked by what was called, not by how long it took.
      let kdfCalls = 0;
      const provider = Object.create(nodeCrypto) as typeof nodeCrypto;
      provider.pbkdf2 = (...a) => {
        kdfCalls++;
        return nodeCrypto.pbkdf2(...a);
      };
      provider.scrypt = (...a) => {
        kdfCalls++;
        return nodeCrypto.scrypt(...a);
      };
      await assert.rejects(importPrivateKey(c.der, { passphrase: 'x', provider }), isCode(c.code));
      assert.equal(kdfCalls, 0, 'a KDF ran');
    });
});
