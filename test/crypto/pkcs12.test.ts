// PKCS#12 (RFC 7292) against OpenSSL in both directions: what we write, `openssl pkcs12` reads
// (default and legacy profiles, EC/RSA/Ed25519 keys, a chain); what OpenSSL writes (its default,
// its -legacy with RC2-40 certificates, the empty password), we read. A wrong password, a
// truncated file and hostile iteration counts end in typed errors.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CryptoError } from '../../src/crypto/errors.js';
import { generateKeyPair, importPrivateKey, type KeyType } from '../../src/crypto/index.js';
import { readPkcs12, readPkcs12Structure, writePkcs12 } from '../../src/crypto/pkcs12.js';
import { encodeDer } from '../../src/der/index.js';
import { decodePem } from '../../src/pem/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

function openssl(args: string[], input?: string): string {
  try {
    return execFileSync('openssl', args, {
      cwd: dir,
      input,
      encoding: 'latin1',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error('openssl not found on PATH (CI installs it)');
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

const ders = (pem: string, label: string) =>
  decodePem(pem)
    .filter((b) => b.label === label)
    .map((b) => b.der);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A key of `type` with a self-signed certificate and a second (unrelated) certificate as "chain". */
function material(type: KeyType | 'openssl-rsa'): { keyFile: string; certs: Uint8Array[] } {
  const keyFile = join(dir, `${type}.key`);
  const algo: Record<string, string[]> = {
    'ec-p256': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    'rsa-2048': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
    ed25519: ['-algorithm', 'ed25519'],
  };
  openssl(['genpkey', ...algo[type]!, '-out', keyFile]);
  openssl(['req', '-x509', '-key', keyFile, '-subj', `/CN=${type}`, '-days', '2', '-out', `${type}.crt`]);
  const leaf = ders(readFileSync(join(dir, `${type}.crt`), 'latin1'), 'CERTIFICATE')[0]!;
  const other = ders(readFileSync(join(root, 'examples/device-chain.pem'), 'latin1'), 'CERTIFICATE')[1]!;
  return { keyFile, certs: [leaf, other] };
}

function legacyProviderLoaded(): boolean {
  try {
    createCipheriv('rc2-40-cbc', Buffer.alloc(5), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-pkcs12-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('PKCS#12: ours read by openssl pkcs12', () => {
  for (const type of ['ec-p256', 'rsa-2048', 'ed25519'] as const)
    for (const profile of ['aes-256', 'legacy'] as const)
      it(`${type}, ${profile}: openssl recovers the same key and both certificates`, async () => {
        const { keyFile, certs } = material(type);
        const key = await importPrivateKey(readFileSync(keyFile, 'latin1'));
        const p12 = await writePkcs12(key, certs, 'p12 pässword', { profile, friendlyName: 'device key' });
        writeFileSync(join(dir, 'ours.p12'), p12);
        // -info prints the structure on stderr, the PEM on stdout.
        const args = ['pkcs12', '-in', 'ours.p12', '-passin', 'pass:p12 pässword', '-info', '-nodes'];
        const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const info = r.stdout + r.stderr;
        assert.match(info, profile === 'legacy' ? /MAC: sha1/ : /MAC: sha256/);
        assert.match(
          info,
          profile === 'legacy' ? /pbeWithSHA1And3-KeyTripleDES-CBC/ : /PBES2, PBKDF2, AES-256-CBC/,
        );
        assert.match(info, /friendlyName: device key/);
        const keys = ders(info, 'PRIVATE KEY');
        assert.equal(keys.length, 1);
        assert.equal(hex(keys[0]!), hex(key.pkcs8));
        assert.deepEqual(ders(info, 'CERTIFICATE').map(hex), certs.map(hex));
        // A wrong password is refused by OpenSSL too.
        assert.throws(() => openssl(['pkcs12', '-in', 'ours.p12', '-passin', 'pass:wrong', '-noout']));
      });
});

describe('PKCS#12: openssl pkcs12 -export read by us', () => {
  it('default (PBES2/AES-256, HMAC-SHA256): key and certificates, localKeyId ties them', async () => {
    const { keyFile, certs } = material('ec-p256');
    writeFileSync(
      join(dir, 'chain.pem'),
      `-----BEGIN CERTIFICATE-----\n${Buffer.from(certs[1]!).toString('base64')}\n-----END CERTIFICATE-----\n`,
    );
    openssl([
      'pkcs12',
      '-export',
      '-in',
      'ec-p256.crt',
      '-certfile',
      'chain.pem',
      '-inkey',
      keyFile,
      '-name',
      'dev',
      '-passout',
      'pass:secret-1',
      '-out',
      'o.p12',
    ]);
    const der = new Uint8Array(readFileSync(join(dir, 'o.p12')));
    const s = readPkcs12Structure(der);
    assert.deepEqual(s.mac, { hash: 'SHA-256', iterations: 2048, saltLength: 8 });
    const c = await readPkcs12(der, 'secret-1');
    const key = await importPrivateKey(readFileSync(keyFile, 'latin1'));
    assert.equal(c.keys.length, 1);
    assert.equal(hex(c.keys[0]!.pkcs8), hex(key.pkcs8));
    assert.deepEqual(c.certificates.map((x) => hex(x.der)).sort(), certs.map(hex).sort());
    const leaf = c.certificates.find((x) => x.friendlyName === 'dev')!;
    assert.equal(hex(leaf.der), hex(certs[0]!));
    assert.equal(hex(leaf.localKeyId!), hex(c.keys[0]!.localKeyId!));
  });

  it('the empty password (-passout pass:)', async () => {
    const { keyFile } = material('ed25519');
    openssl([
      'pkcs12',
      '-export',
      '-in',
      'ed25519.crt',
      '-inkey',
      keyFile,
      '-passout',
      'pass:',
      '-out',
      'e.p12',
    ]);
    const c = await readPkcs12(new Uint8Array(readFileSync(join(dir, 'e.p12'))), '');
    assert.equal(c.keys.length, 1);
    assert.equal(c.certificates.length, 1);
  });

  it('-legacy (RC2-40 certificates, 3DES key, HMAC-SHA1): read with OpenSSL’s legacy provider, typed error without', async () => {
    const { keyFile, certs } = material('ec-p256');
    openssl([
      'pkcs12',
      '-export',
      '-legacy',
      '-in',
      'ec-p256.crt',
      '-inkey',
      keyFile,
      '-passout',
      'pass:old-dev',
      '-out',
      'l.p12',
    ]);
    const der = new Uint8Array(readFileSync(join(dir, 'l.p12')));
    assert.equal(readPkcs12Structure(der).safes[0]!.encryption?.scheme, 'pbeWithSHAAnd40BitRC2-CBC');
    if (legacyProviderLoaded()) {
      const c = await readPkcs12(der, 'old-dev');
      assert.equal(hex(c.certificates[0]!.der), hex(certs[0]!));
    } else
      await assert.rejects(readPkcs12(der, 'old-dev'), (e: unknown) => {
        assert.ok(e instanceof CryptoError);
        assert.equal(e.code, 'unsupported-algorithm');
        assert.match(e.message, /--openssl-legacy-provider/);
        return true;
      });
    // With the legacy provider (as `NODE_OPTIONS=--openssl-legacy-provider` gives it), the whole file reads.
    const script = `import { readPkcs12 } from ${JSON.stringify(join(root, 'src/crypto/pkcs12.ts'))};
      import ${JSON.stringify(join(root, 'src/crypto/index.ts'))};
      import { readFileSync } from 'node:fs';
      const c = await readPkcs12(new Uint8Array(readFileSync(process.argv[2])), 'old-dev');
      console.log(JSON.stringify({ keys: c.keys.length, cert: Buffer.from(c.certificates[0].der).toString('hex') }));`;
    writeFileSync(join(dir, 'read-legacy.mts'), script);
    const r = spawnSync(
      process.execPath,
      [
        '--openssl-legacy-provider',
        '--import',
        import.meta.resolve('tsx'),
        join(dir, 'read-legacy.mts'),
        join(dir, 'l.p12'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { keys: 1, cert: hex(certs[0]!) });
  });

  it('our legacy profile needs no legacy provider on either side (3DES only)', async () => {
    const { privateKey } = await generateKeyPair('ec-p256');
    const { certs } = material('ec-p256');
    const c = await readPkcs12(await writePkcs12(privateKey, certs, 'pw', { profile: 'legacy' }), 'pw');
    assert.equal(hex(c.keys[0]!.pkcs8), hex(privateKey.pkcs8));
  });
});

describe('PKCS#12: bad input is a typed error', () => {
  let good: Uint8Array;
  before(async () => {
    const { privateKey } = await generateKeyPair('ec-p256');
    good = await writePkcs12(privateKey, [], 'right-password', { profile: 'legacy' });
  });

  const expectCode = async (p: Promise<unknown>, code: string) =>
    assert.rejects(p, (e: unknown) => e instanceof CryptoError && e.code === code);

  it('wrong password → bad-passphrase (the MAC, before any decryption)', () =>
    expectCode(readPkcs12(good, 'wrong-password'), 'bad-passphrase'));

  it('truncated → bad-pkcs12', () =>
    expectCode(readPkcs12(good.subarray(0, good.length - 9), 'right-password'), 'bad-pkcs12'));

  it('not a PFX at all → bad-pkcs12', () =>
    expectCode(readPkcs12(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x02]), 'x'), 'bad-pkcs12'));

  it('a MAC iteration count of 2^31−1 → kdf-limit, without spending it', async () => {
    // An empty AuthenticatedSafe with a hostile MacData.iterations.
    const hostile = encodeDer((w) =>
      w.sequence((w) => {
        w.integer(3);
        w.sequence((w) =>
          w.oid('1.2.840.113549.1.7.1').explicit(0, (w) => w.octetString(new Uint8Array([0x30, 0]))),
        );
        w.sequence((w) => {
          w.sequence((w) => w.sequence((w) => w.oid('1.3.14.3.2.26').null()).octetString(new Uint8Array(20)));
          w.octetString(new Uint8Array(8));
          w.integer(0x7fffffff);
        });
      }),
    );
    await expectCode(readPkcs12(hostile, 'x'), 'kdf-limit');
  });
});
