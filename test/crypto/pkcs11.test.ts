import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CryptoError, Pkcs11Signer, verifySignature } from '../../src/crypto/index.js';

/**
 * PKCS#11 signer against a real SoftHSM2 token in a temp dir (../shared/RECIPES.md §10).
 * Needs `softhsm2-util` on PATH and the module at $PKCS11_MODULE or SoftHSM2's Debian path.
 */
const MODULE = process.env.PKCS11_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
const TOKEN = 'fleetpki-test';
const PIN = '1234';
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-hsm-'));
  mkdirSync(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  // Must be set before C_Initialize (the module reads it then).
  process.env.SOFTHSM2_CONF = conf;
  const r = spawnSync('softhsm2-util', [
    '--init-token',
    '--free',
    '--label',
    TOKEN,
    '--so-pin',
    '12345678',
    '--pin',
    PIN,
  ]);
  if (r.error)
    throw new Error(`softhsm2-util not found on PATH (apt-get install softhsm2): ${r.error.message}`);
  assert.equal(r.status, 0, `softhsm2-util failed: ${r.stderr}`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const data = new TextEncoder().encode('tbsCertificate bytes');

describe('Pkcs11Signer on SoftHSM2', () => {
  test('generate a non-extractable P-256 key, sign, verify with node:crypto; CKA_VALUE is sensitive', async () => {
    const signer = await Pkcs11Signer.generate({
      module: MODULE,
      tokenLabel: TOKEN,
      pin: PIN,
      keyLabel: 'issuing-ca',
      keyType: 'ec-p256',
    });
    try {
      assert.deepEqual(signer.algorithm, { kind: 'ecdsa', hash: 'SHA-256' });
      const sig = signer.signSync(data);
      assert.equal(sig[0], 0x30, 'DER Ecdsa-Sig-Value');
      const pub = createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' });
      assert.equal(nodeVerify('sha256', data, pub, sig), true);
      assert.equal(verifySignature(signer.algorithm, signer.publicKey, data, sig), true);
      const lib = signer.pkcs11;
      assert.throws(
        () => signer.readPrivateKeyAttribute(lib.CKA_VALUE),
        (e: unknown) =>
          e instanceof CryptoError && e.code === 'pkcs11-error' && /CKR_ATTRIBUTE_SENSITIVE/.test(e.message),
      );
      // The attributes say so too: sensitive, never extractable.
      assert.equal(signer.readPrivateKeyAttribute(lib.CKA_SENSITIVE)[0], 1);
      assert.equal(signer.readPrivateKeyAttribute(lib.CKA_EXTRACTABLE)[0], 0);
    } finally {
      signer.close();
    }
  });

  test('re-open the key by label (what a restarted CA does) and sign', async () => {
    const signer = await Pkcs11Signer.open({
      module: MODULE,
      tokenLabel: TOKEN,
      pin: PIN,
      keyLabel: 'issuing-ca',
    });
    try {
      const sig = await signer.sign(data);
      assert.equal(verifySignature(signer.algorithm, signer.publicKey, data, sig), true);
    } finally {
      signer.close();
    }
  });

  test('RSA-2048 on the token with CKM_SHA256_RSA_PKCS', async () => {
    const signer = await Pkcs11Signer.generate({
      module: MODULE,
      tokenLabel: TOKEN,
      pin: PIN,
      keyLabel: 'rsa',
      keyType: 'rsa-2048',
    });
    try {
      const sig = signer.signSync(data);
      const pub = createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' });
      assert.equal(nodeVerify('sha256', data, pub, sig), true);
    } finally {
      signer.close();
    }
  });

  const failures = [
    {
      name: 'wrong PIN',
      o: { pin: '0000', keyLabel: 'issuing-ca' },
      code: 'pkcs11-error',
      re: /CKR_PIN_INCORRECT/,
    },
    {
      name: 'unknown key label',
      o: { pin: PIN, keyLabel: 'nope' },
      code: 'key-not-found',
      re: /no private key/,
    },
    {
      name: 'unknown token',
      o: { pin: PIN, keyLabel: 'issuing-ca', tokenLabel: 'other' },
      code: 'key-not-found',
      re: /no token/,
    },
  ];
  for (const f of failures)
    test(f.name, async () => {
      await assert.rejects(
        Pkcs11Signer.open({ module: MODULE, tokenLabel: TOKEN, ...f.o }),
        (e: unknown) => e instanceof CryptoError && e.code === f.code && f.re.test(e.message),
      );
    });
});
