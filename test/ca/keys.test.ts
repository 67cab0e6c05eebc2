// ca/secrets.ts, ca/keys.ts, ca/pkcs11-uri.ts: where the passphrase comes from, key files under
// unique names and owner-only modes, refusal of group/other-readable secrets, PKCS#11 URIs.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CaError } from '../../src/ca/errors.js';
import { KeyStore, openKeys } from '../../src/ca/keys.js';
import { parsePkcs11Uri } from '../../src/ca/pkcs11-uri.js';
import { passphraseFile, resolvePassphrase } from '../../src/ca/secrets.js';
import { openStore } from '../../src/ca/store/index.js';
import { exportKey, generateKeyPair } from '../../src/crypto/index.js';
import { caFixture } from './fixture.js';

const root = mkdtempSync(join(tmpdir(), 'fleetpki-keys-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const isCode = (code: string) => (e: unknown) => e instanceof CaError && e.code === code;

describe('passphrase', () => {
  test('option, then environment, then DATA/secrets/passphrase', () => {
    const dataDir = fresh();
    assert.deepEqual(resolvePassphrase({ dataDir, passphrase: 'opt', env: { FLEETPKI_PASSPHRASE: 'env' } }), {
      passphrase: 'opt',
      source: 'option',
    });
    assert.equal(resolvePassphrase({ dataDir, env: { FLEETPKI_PASSPHRASE: 'env' } }).source, 'env');
    assert.throws(() => resolvePassphrase({ dataDir, env: {} }), isCode('passphrase-required'));
  });

  test('a first start generates one into DATA/secrets/passphrase (0600, directory 0700), later starts read it', () => {
    const dataDir = fresh();
    const g = resolvePassphrase({ dataDir, env: {}, generate: true });
    assert.equal(g.source, 'generated');
    assert.ok(g.passphrase.length >= 40, 'at least 32 random bytes');
    assert.equal(statSync(passphraseFile(dataDir)).mode & 0o777, 0o600);
    assert.equal(statSync(join(dataDir, 'secrets')).mode & 0o777, 0o700);
    const again = resolvePassphrase({ dataDir, env: {}, generate: true });
    assert.deepEqual(again, { passphrase: g.passphrase, source: 'data-dir', path: passphraseFile(dataDir) });
  });

  test('eight concurrent first starts (processes) agree on one passphrase', async () => {
    const dataDir = fresh();
    const { execFile } = await import('node:child_process');
    const script = `import { resolvePassphrase } from ${JSON.stringify(new URL('../../src/ca/secrets.ts', import.meta.url).pathname)};
      process.stdout.write(resolvePassphrase({ dataDir: ${JSON.stringify(dataDir)}, env: {}, generate: true }).passphrase);`;
    const run = () =>
      new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], (err, out) =>
          err ? reject(err) : resolve(out),
        ),
      );
    const got = await Promise.all(Array.from({ length: 8 }, run));
    assert.equal(new Set(got).size, 1, got.join(' '));
    assert.equal(got[0], resolvePassphrase({ dataDir, env: {} }).passphrase);
  });

  test('a passphrase file readable by others is refused', () => {
    const dataDir = fresh();
    resolvePassphrase({ dataDir, env: {}, generate: true });
    chmodSync(passphraseFile(dataDir), 0o644);
    assert.throws(() => resolvePassphrase({ dataDir, env: {} }), isCode('key-file-permissions'));
  });
});

describe('key files', () => {
  test('created encrypted, 0600, under unique names; loaded back; removed', async () => {
    const dataDir = fresh();
    const ks = await KeyStore.open({ dataDir, passphrase: 'correct horse' });
    const a = await ks.createKeyFile('ec-p256', 'issuing');
    const b = await ks.createKeyFile('ec-p256', 'issuing');
    assert.equal(a.ref.kind, 'file');
    assert.notEqual((a.ref as { path: string }).path, (b.ref as { path: string }).path);
    const file = join(dataDir, (a.ref as { path: string }).path);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    const other = await KeyStore.open({ dataDir, passphrase: 'correct horse' });
    const s = await other.signer(a.ref, a.publicKey);
    assert.deepEqual(hex(s.publicKey), hex(a.publicKey));
    await assert.rejects(other.signer(a.ref, b.publicKey), isCode('bad-issuer'));
    const wrong = await KeyStore.open({ dataDir, passphrase: 'wrong' });
    await assert.rejects(wrong.signer(a.ref), isCode('bad-passphrase'));
    ks.removeKey(a.ref);
    assert.throws(() => statSync(file));
  });

  test('open refuses a key directory with a group- or other-readable key file', async () => {
    const dataDir = fresh();
    const ks = await KeyStore.open({ dataDir, passphrase: 'p' });
    const k = await ks.createKeyFile('ec-p256', 'root');
    chmodSync(join(dataDir, (k.ref as { path: string }).path), 0o640);
    await assert.rejects(KeyStore.open({ dataDir, passphrase: 'p' }), isCode('key-file-permissions'));
  });

  test('an imported key file is stored re-encrypted with the store passphrase', async () => {
    const dataDir = fresh();
    const kp = await generateKeyPair('ec-p256');
    const src = join(dataDir, 'import.pem');
    writeFileSync(src, await exportKey(kp.privateKey, { format: 'pkcs8', passphrase: 'source pass' }), {
      mode: 0o600,
    });
    const ks = await KeyStore.open({ dataDir, passphrase: 'store pass' });
    await assert.rejects(ks.importKeyFile(src, 'imported'), isCode('bad-passphrase'));
    const k = await ks.importKeyFile(src, 'imported', 'source pass');
    assert.equal(hex(k.publicKey), hex(kp.publicKey.spki));
    const again = await KeyStore.open({ dataDir, passphrase: 'store pass' });
    assert.equal(hex((await again.signer(k.ref)).publicKey), hex(kp.publicKey.spki));
  });
});

describe('PKCS#11 URIs (RFC 7512)', () => {
  const cases: { name: string; uri: string; want?: object; error?: RegExp }[] = [
    {
      name: 'token and object',
      uri: 'pkcs11:token=fleet-ca;object=issuing-1;type=private',
      want: { token: 'fleet-ca', object: 'issuing-1' },
    },
    {
      name: 'percent-encoded id, module path and pin-source',
      uri: 'pkcs11:token=My%20CA;id=%01%a2?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin',
      want: {
        token: 'My CA',
        id: Uint8Array.of(1, 0xa2),
        modulePath: '/usr/lib/softhsm/libsofthsm2.so',
        pinSource: '/run/pin',
      },
    },
    { name: 'pin-value is refused', uri: 'pkcs11:token=t;object=o?pin-value=1234', error: /pin-value/ },
    { name: 'pin-value in the path too', uri: 'pkcs11:token=t;object=o;pin-value=1234', error: /pin-value/ },
    { name: 'no token', uri: 'pkcs11:object=o', error: /token/ },
    { name: 'no object or id', uri: 'pkcs11:token=t', error: /object or id/ },
    { name: 'a public key', uri: 'pkcs11:token=t;object=o;type=public', error: /private/ },
    { name: 'not a pkcs11 URI', uri: 'file:/x', error: /pkcs11:/ },
    { name: 'bad escape', uri: 'pkcs11:token=%zz;object=o', error: /percent/ },
  ];
  for (const c of cases)
    test(c.name, () => {
      if (c.error) assert.throws(() => parsePkcs11Uri(c.uri), c.error);
      else assert.deepEqual(parsePkcs11Uri(c.uri), c.want);
    });
});

describe('openKeys (what serve and the CLI call)', () => {
  test('a fresh store gets a generated passphrase; a store with a CA never does', async () => {
    const dataDir = fresh();
    const store = await openStore(`sqlite:${join(dataDir, 'fleetpki.db')}`);
    try {
      const first = await openKeys({ dataDir, store, env: {} });
      assert.equal(first.passphrase.source, 'generated');
      assert.equal(first.passphrase.path, passphraseFile(dataDir));
      assert.equal('passphrase' in first.passphrase, false, 'the passphrase itself is not handed around');
      assert.equal(first.keys.hasPassphrase, true);
    } finally {
      await store.close();
    }

    const f = await caFixture({ dir: fresh() });
    await f.close();
    const again = await openStore(f.dbUrl);
    try {
      await assert.rejects(
        openKeys({ dataDir: f.dir, store: again, env: {} }),
        isCode('passphrase-required'),
      );
      const viaEnv = await openKeys({ dataDir: f.dir, store: again, env: { FLEETPKI_PASSPHRASE: 'x' } });
      assert.equal(viaEnv.passphrase.source, 'env');
    } finally {
      await again.close();
    }
  });
});
