// `fleetpki key generate`: every CLI key type, encrypted keys readable by `openssl pkey -passin`,
// mode 0600, bad input → exit 2 with one line and no file.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fleetpki, fleetpkiProcess, openssl } from './pki-cli.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-cli-key-'));
  writeFileSync(join(dir, 'pw'), 'correct horse\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('fleetpki key generate', () => {
  for (const [type, text] of [
    ['ec-p256', /prime256v1|P-256/],
    ['ec-p384', /secp384r1|P-384/],
    ['ed25519', /ED25519/],
    ['rsa-2048', /2048 bit/],
  ] as const)
    test(`${type} to a 0600 file, readable by openssl`, async () => {
      const out = join(dir, `${type}.key`);
      const r = await fleetpki(['key', 'generate', '--type', type, '--out', out, '--json'], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.type, type);
      assert.equal(j.encrypted, false);
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const o = openssl(['pkey', '-in', out, '-noout', '-text'], dir);
      assert.equal(o.code, 0, o.stderr);
      assert.match(o.stdout, text);
    });

  test('--encrypt with --passphrase-file: openssl pkey -passin reads it, a wrong passphrase fails', async () => {
    const out = join(dir, 'enc.key');
    const r = await fleetpki(
      ['key', 'generate', '--type', 'ec-p256', '--encrypt', '--passphrase-file', 'pw', '--out', out],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /encrypted/);
    assert.match(readFileSync(out, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    assert.equal(openssl(['pkey', '-in', out, '-passin', 'pass:correct horse', '-noout'], dir).code, 0);
    assert.notEqual(openssl(['pkey', '-in', out, '-passin', 'pass:wrong', '-noout'], dir).code, 0);
  });

  test('--encrypt takes FLEETPKI_PASSPHRASE', async () => {
    const out = join(dir, 'env.key');
    const r = await fleetpki(['key', 'generate', '--type', 'ed25519', '--encrypt', '--out', out], {
      cwd: dir,
      env: { FLEETPKI_PASSPHRASE: 'from-env' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(openssl(['pkey', '-in', out, '-passin', 'pass:from-env', '-noout'], dir).code, 0);
  });

  test('without --out the PEM goes to stdout (real child process)', () => {
    const r = fleetpkiProcess(['key', 'generate', '--type', 'ed25519'], { cwd: dir });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^-----BEGIN PRIVATE KEY-----\n/);
  });

  for (const [name, args, message] of [
    ['unknown type', ['--type', 'dsa-1024'], /argument 'dsa-1024' is invalid/],
    ['--encrypt without a passphrase source', ['--type', 'ec-p256', '--encrypt'], /passphrase/],
    ['missing --type', [], /required option/],
  ] as const)
    test(`bad input: ${name} → exit 2, one line, no file`, async () => {
      const out = join(dir, `bad-${name.replace(/\W/g, '')}.key`);
      const r = await fleetpki(['key', 'generate', ...args, '--out', out], {
        cwd: dir,
        env: { FLEETPKI_PASSPHRASE: undefined },
      });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(out));
    });
});
