// `fleetpki key convert` / `key export` end to end, checked by OpenSSL; `inspect` of PKCS#12
// files (ours and OpenSSL's), CSR signature status, OpenSSH hints and the input size bound.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAX_INPUT_BYTES } from '../../src/cli/inspect.js';
import { type CliRun, fleetpki, fleetpkiProcess, openssl } from './pki-cli.js';

let dir: string;
const KEY_PASS = 'key-pass-1';
const P12_PASS = 'p12-pass-1';
const env = { FLEETPKI_PASSPHRASE: KEY_PASS, FLEETPKI_NEW_PASSPHRASE: P12_PASS };
const ok = (r: CliRun) => assert.equal(r.code, 0, r.stderr);

function oneLine(r: CliRun, re: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, re);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-key-export-'));
  ok(
    await fleetpki(['key', 'generate', '--type', 'ec-p256', '--encrypt', '--out', 'ec.key'], {
      cwd: dir,
      env,
    }),
  );
  ok(
    await fleetpki(['key', 'generate', '--type', 'rsa-2048', '--encrypt', '--out', 'rsa.key'], {
      cwd: dir,
      env,
    }),
  );
  ok(await fleetpki(['ca', 'init', '--dir', 'ca'], { cwd: dir, env }));
  ok(
    await fleetpki(['csr', 'create', '--key', 'ec.key', '--subject', 'CN=dev-p12', '--out', 'ec.csr'], {
      cwd: dir,
      env,
    }),
  );
  ok(
    await fleetpki(
      ['ca', 'sign', '--dir', 'ca', '--csr', 'ec.csr', '--profile', 'device', '--out', 'ec.crt'],
      {
        cwd: dir,
        env,
      },
    ),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('key convert: what key generate --encrypt wrote, in the form a device needs', () => {
  for (const [name, args, check] of [
    ['EC → SEC1 PEM (decrypted)', ['--in', 'ec.key', '--to', 'sec1'], ['ec', '-check', '-noout']],
    ['RSA → PKCS#1 PEM (decrypted)', ['--in', 'rsa.key', '--to', 'pkcs1'], ['rsa', '-check', '-noout']],
    [
      'EC → PKCS#8 DER',
      ['--in', 'ec.key', '--to', 'pkcs8', '--outform', 'der'],
      ['pkey', '-inform', 'DER', '-noout'],
    ],
    ['EC → SPKI (public key)', ['--in', 'ec.key', '--to', 'spki'], ['pkey', '-pubin', '-noout']],
    [
      'EC → PKCS#8 re-encrypted with a new passphrase',
      ['--in', 'ec.key', '--to', 'pkcs8', '--encrypt'],
      ['pkey', '-passin', `pass:${P12_PASS}`, '-noout'],
    ],
  ] as const)
    test(name, async () => {
      const out = `conv-${name.replace(/\W/g, '')}`;
      const has = (a: string) => (args as readonly string[]).includes(a);
      const r = await fleetpki(['key', 'convert', ...args, '--out', out], { cwd: dir, env });
      ok(r);
      const o = openssl([...check, '-in', out], dir);
      assert.equal(o.code, 0, o.stderr);
      if (!has('spki')) assert.equal(statSync(join(dir, out)).mode & 0o777, 0o600);
      // The public key is still the one of the original.
      const a = openssl(['pkey', '-in', 'ec.key', '-passin', `pass:${KEY_PASS}`, '-pubout'], dir).stdout;
      if (name.startsWith('EC')) {
        const inform = has('der') ? ['-inform', 'DER'] : [];
        const pass = has('--encrypt') ? ['-passin', `pass:${P12_PASS}`] : [];
        const pubin = has('spki') ? ['-pubin'] : [];
        assert.equal(openssl(['pkey', ...pubin, ...inform, ...pass, '-in', out, '-pubout'], dir).stdout, a);
      }
    });

  for (const [name, args, message] of [
    ['EC as PKCS#1', ['--in', 'ec.key', '--to', 'pkcs1'], /PKCS#1 applies to RSA keys only/],
    ['--encrypt with SEC1', ['--in', 'ec.key', '--to', 'sec1', '--encrypt'], /--encrypt needs --to pkcs8/],
    ['wrong passphrase', ['--in', 'ec.key', '--to', 'sec1'], /bad-passphrase/],
    [
      'existing output without --force',
      ['--in', 'ec.key', '--to', 'sec1', '--out', 'ec.key'],
      /already exists/,
    ],
    ['--to bogus', ['--in', 'ec.key', '--to', 'bogus'], /'bogus' is invalid/],
  ] as const)
    test(`bad input: ${name} → exit 2, one line, nothing written`, async () => {
      const before = readFileSync(join(dir, 'ec.key'), 'latin1');
      const e = name === 'wrong passphrase' ? { ...env, FLEETPKI_PASSPHRASE: 'not-the-pass' } : env;
      const outArgs = (args as readonly string[]).includes('--out') ? [] : ['--out', 'never-written.key'];
      oneLine(await fleetpki(['key', 'convert', ...args, ...outArgs], { cwd: dir, env: e }), message);
      assert.throws(() => statSync(join(dir, 'never-written.key')));
      assert.equal(readFileSync(join(dir, 'ec.key'), 'latin1'), before);
    });
});

describe('key export: PKCS#12 that OpenSSL reads; inspect reads ours and OpenSSL’s', () => {
  for (const legacy of [false, true])
    test(`key export${legacy ? ' --legacy' : ''} → openssl pkcs12 recovers key and chain`, async () => {
      const out = legacy ? 'legacy.p12' : 'id.p12';
      const args = ['key', 'export', '--key', 'ec.key', '--cert', 'ca/intermediate.crt', '--cert', 'ec.crt'];
      ok(
        await fleetpki([...args, '--name', 'dev-p12', ...(legacy ? ['--legacy'] : []), '--out', out], {
          cwd: dir,
          env,
        }),
      );
      assert.equal(statSync(join(dir, out)).mode & 0o777, 0o600);
      const r = spawnSync(
        'openssl',
        ['pkcs12', '-in', out, '-passin', `pass:${P12_PASS}`, '-info', '-nodes'],
        {
          cwd: dir,
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, legacy ? /MAC: sha1.*\n[\s\S]*3-KeyTripleDES/ : /MAC: sha256[\s\S]*AES-256-CBC/);
      // Leaf first (the key's certificate), then the chain; the key is the one we gave.
      const subjects = [...r.stdout.matchAll(/^subject=(.*)$/gm)].map((m) => m[1]);
      assert.deepEqual(subjects, ['CN = dev-p12', 'CN = fleetpki Issuing CA']);
      const k = openssl(['pkey', '-in', 'ec.key', '-passin', `pass:${KEY_PASS}`], dir).stdout;
      assert.ok(r.stdout.includes(k), 'the exported key differs');
    });

  test('inspect of our PKCS#12 with the password: summary, certificates, key (never its value)', async () => {
    const r = await fleetpki(['inspect', 'id.p12', '--json'], {
      cwd: dir,
      env: { FLEETPKI_PASSPHRASE: P12_PASS },
    });
    ok(r);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(
      doc.objects.map((o: { type: string }) => o.type),
      ['pkcs12', 'certificate', 'certificate', 'private-key'],
    );
    assert.equal(doc.objects[0].status, 'verified');
    assert.equal(doc.objects[1].subject, 'CN=dev-p12');
    assert.equal(doc.objects[3].spkiSha256, doc.objects[1].subjectPublicKeyInfo.spkiSha256);
  });

  test('inspect without a password (no terminal): the locked summary only', async () => {
    const r = await fleetpki(['inspect', 'id.p12'], { cwd: dir, env: { FLEETPKI_PASSPHRASE: undefined } });
    ok(r);
    assert.match(r.stdout, /Status: locked/);
    assert.match(r.stdout, /PBES2[\s\S]*PBKDF2 \(HMAC-SHA-256, 600000 iterations/);
    assert.doesNotMatch(r.stdout, /^Certificate \[/m);
  });

  test('inspect with a wrong password: exit 2, one line', async () => {
    oneLine(
      await fleetpki(['inspect', 'id.p12'], { cwd: dir, env: { FLEETPKI_PASSPHRASE: 'wrong-pass' } }),
      /PKCS#12: bad-passphrase: wrong password/,
    );
  });

  test('inspect of OpenSSL’s -legacy PKCS#12 (RC2-40) with NODE_OPTIONS=--openssl-legacy-provider', () => {
    assert.equal(
      openssl(
        [
          'pkcs12',
          '-export',
          '-legacy',
          '-in',
          'ec.crt',
          '-inkey',
          'ec.key',
          '-passin',
          `pass:${KEY_PASS}`,
          '-passout',
          'pass:',
          '-out',
          'ossl-legacy.p12',
        ],
        dir,
      ).code,
      0,
    );
    const r = fleetpkiProcess(['inspect', 'ossl-legacy.p12'], {
      cwd: dir,
      env: { NODE_OPTIONS: '--openssl-legacy-provider', FLEETPKI_PASSPHRASE: undefined },
    });
    ok(r);
    assert.match(r.stdout, /Scheme: pbeWithSHAAnd40BitRC2-CBC/);
    assert.match(r.stdout, /Subject: CN=dev-p12/);
    assert.match(r.stdout, /Private Key \[DER, PKCS#12 #2\]/);
  });

  test('key convert reads the key out of a PKCS#12 file', async () => {
    ok(
      await fleetpki(['key', 'convert', '--in', 'id.p12', '--to', 'sec1', '--out', 'from-p12.key'], {
        cwd: dir,
        env: { FLEETPKI_PASSPHRASE: P12_PASS },
      }),
    );
    const a = openssl(['pkey', '-in', 'from-p12.key', '-pubout'], dir).stdout;
    const b = openssl(['pkey', '-in', 'ec.key', '-passin', `pass:${KEY_PASS}`, '-pubout'], dir).stdout;
    assert.equal(a, b);
  });

  test('key export refuses a key that matches none of the certificates', async () => {
    oneLine(
      await fleetpki(['key', 'export', '--key', 'rsa.key', '--cert', 'ec.crt', '--out', 'bad.p12'], {
        cwd: dir,
        env,
      }),
      /no --cert certificate has the public key of rsa\.key/,
    );
    assert.throws(() => statSync(join(dir, 'bad.p12')));
  });
});

describe('inspect: what a new user brings', () => {
  test('a CSR says whether its signature verifies; a tampered one says INVALID', async () => {
    const good = await fleetpki(['inspect', 'ec.csr'], { cwd: dir });
    ok(good);
    assert.match(good.stdout, /Signature Check: valid/);
    const pem = readFileSync(join(dir, 'ec.csr'), 'utf8');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 3]! ^= 0x01; // inside the signature's s value
    writeFileSync(join(dir, 'tampered.csr'), der);
    const bad = await fleetpki(['inspect', 'tampered.csr', '--json'], { cwd: dir });
    ok(bad);
    assert.equal(JSON.parse(bad.stdout).objects[0].signature.status, 'invalid');
  });

  for (const [name, content, hint] of [
    [
      'an OpenSSH .pub file',
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB6wW0zbbMaA4Ccs0Cq5w2Zk0HY5Wm0kSNmW9+h4e5Xv dev@host\n',
      /OpenSSH public key \(ssh-ed25519\).*ssh-keygen -e -m PKCS8/,
    ],
    [
      'an OpenSSH private key',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
      /OpenSSH private key.*ssh-keygen -p -m PKCS8/,
    ],
    [
      'an ECDSA .pub file',
      'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= x\n',
      /OpenSSH public key \(ecdsa-sha2-nistp256\)/,
    ],
  ] as const)
    test(`${name} gets a hint: what it is, how to convert it`, async () => {
      writeFileSync(join(dir, 'ssh-input'), content);
      oneLine(await fleetpki(['inspect', 'ssh-input'], { cwd: dir }), hint);
    });

  test(`inspect refuses a file above ${MAX_INPUT_BYTES / 1048576} MiB before reading it`, async () => {
    const big = join(dir, 'big.pem');
    writeFileSync(big, '');
    truncateSync(big, MAX_INPUT_BYTES + 1); // sparse: no disk, no memory
    oneLine(
      await fleetpki(['inspect', 'big.pem'], { cwd: dir }),
      /big\.pem: 64\.0 MiB is more than inspect reads \(64 MiB\)/,
    );
  });
});
