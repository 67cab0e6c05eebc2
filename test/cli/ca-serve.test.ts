// The CLI and `fleetpki serve` on one CA directory, `fleetpki backup` while serve runs, and
// `fleetpki audit verify` on an intact log and on logs edited, reordered, cut or made unreadable
// (each named by its first bad record).
import assert from 'node:assert/strict';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { generateKeyPair, KeySigner } from '../../src/crypto/index.js';
import { CsrBuilder } from '../../src/issue/index.js';
import { serialKey } from '../../src/revocation/status-source.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { cliBundle, fleetpkiAsync, type ProcResult } from '../helpers/cli-bundle.js';
import { clientFor, issuingCa, startInstance } from '../helpers/service.js';

const PASS = 'ca-serve-pass';
const env = { FLEETPKI_PASSPHRASE: PASS, DATABASE_URL: undefined };
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'fleetpki-ca-serve-'));
  await cliBundle();
  ok(await cli(['ca', 'init', '--dir', 'ca']), 'ca init');
  // Other instances' revocations are polled every 500 ms (config.yaml is read by serve too).
  writeFileSync(
    join(work, 'ca', 'config.yaml'),
    `${readFileSync(join(work, 'ca', 'config.yaml'), 'utf8')}ocsp:\n  pollIntervalMs: 500\n`,
  );
});
after(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[], e: Record<string, string | undefined> = env) =>
  fleetpkiAsync(args, { cwd: work, env: e });

function ok(r: ProcResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code ?? r.signal}\n${r.stdout}${r.stderr}`);
}

async function csrFile(name: string, cn: string): Promise<string> {
  const signer = await KeySigner.create((await generateKeyPair('ec-p256')).privateKey);
  writeFileSync(join(work, name), (await new CsrBuilder().subject(`CN=${cn}`).sign(signer)).toPem());
  return name;
}

describe('the CLI and serve on one CA directory', () => {
  test('serve without the passphrase of a ca init directory refuses, generating nothing', async () => {
    await assert.rejects(
      startInstance('no-pass', ['--data', 'ca'], { cwd: work, env: { FLEETPKI_PASSPHRASE: undefined } }),
      /passphrase-required/,
    );
    assert.ok(!existsSync(join(work, 'ca', 'secrets', 'passphrase')));
  });

  test('serve runs the CA ca init made; CLI and service see each other’s certificates and revocations', async () => {
    ok(
      await cli([
        'ca',
        'sign',
        '--dir',
        'ca',
        '--csr',
        await csrFile('cli.csr', 'device-cli'),
        '--profile',
        'device',
        '--out',
        'cli.crt',
      ]),
      'sign',
    );
    const cliSerial = serialKey(parseCertificate(readFileSync(join(work, 'cli.crt'), 'utf8')).serialHex);
    const inst = await startInstance('serve', ['--data', 'ca'], { cwd: work, env });
    const client = clientFor(inst, join(work, 'ca'));
    try {
      assert.match(inst.stdout(), /existing CA/);
      const chain = await client.request('GET', '/ca/chain.pem', { auth: false });
      assert.equal(
        chain.body.toString(),
        readFileSync(join(work, 'ca', 'intermediate.crt'), 'utf8') +
          readFileSync(join(work, 'ca', 'root.crt'), 'utf8'),
      );
      // The service knows what the CLI issued…
      const got = await client.request('GET', `/api/v1/certificates/${cliSerial}`);
      assert.equal(got.status, 200, got.body.toString());
      // …and the CLI revokes what the service issued; the running service answers revoked by OCSP.
      const apiCert = await client.issue(
        readFileSync(join(work, await csrFile('api.csr', 'device-api')), 'utf8'),
      );
      const apiSerial = serialKey(apiCert.serialHex);
      const issuer = issuingCa(join(work, 'ca'));
      assert.equal(await client.ocspStatus(issuer, apiSerial), 'good');
      ok(
        await cli(['ca', 'revoke', '--dir', 'ca', apiSerial, '--reason', 'keyCompromise']),
        'revoke by the CLI',
      );
      const t0 = performance.now();
      let status = await client.ocspStatus(issuer, apiSerial);
      while (status !== 'revoked' && performance.now() - t0 < 500 + 3000) {
        await new Promise((r) => setTimeout(r, 50));
        status = await client.ocspStatus(issuer, apiSerial);
      }
      assert.equal(status, 'revoked');
      // A backup while the service runs.
      const b = await cli(['backup', '--data', 'ca', '--out', 'online.db', '--json']);
      ok(b, 'backup');
      const summary = JSON.parse(b.stdout);
      assert.equal(summary.integrity, 'ok');
      assert.equal(summary.audit.ok, true);
      assert.ok(summary.certificates.issued >= 3);
      assert.equal(summary.keyFiles.length, 2);
    } finally {
      client.close();
      assert.equal((await inst.stop()).code, 0);
    }
  });
});

describe('fleetpki backup and audit verify', () => {
  let head: string;

  test('backup: the copy checks out and restores to a working CA', async () => {
    const r = await cli(['backup', '--data', 'ca', '--out', 'b1.db']);
    ok(r, 'backup');
    head = /--expect-head ([0-9]+:[0-9a-f]{64})/.exec(r.stdout)![1]!;
    assert.match(r.stdout, /integrity ok/);
    assert.match(r.stdout, /keys\/root-[0-9a-f]+\.key/);
    // Restore: the store plus what the summary says a backup needs besides it.
    const restored = join(work, 'restored');
    mkdirSync(restored, { mode: 0o700 });
    cpSync(join(work, 'ca', 'keys'), join(restored, 'keys'), { recursive: true });
    copyFileSync(join(work, 'ca', 'config.yaml'), join(restored, 'config.yaml'));
    copyFileSync(join(work, 'b1.db'), join(restored, 'fleetpki.db'));
    ok(
      await cli(['audit', 'verify', '--data', 'restored', '--expect-head', head]),
      'audit of the restored store',
    );
    ok(
      await cli([
        'ca',
        'sign',
        '--dir',
        'restored',
        '--csr',
        await csrFile('r.csr', 'device-restored'),
        '--profile',
        'device',
        '--out',
        'r.crt',
      ]),
      'the restored CA signs',
    );
    assert.ok(existsSync(join(restored, 'root.crt')), 'the CA files are put back');
  });

  test('audit verify: intact → 0; --expect-head of a later head → still 0', async () => {
    const r = await cli(['audit', 'verify', '--data', 'ca', '--expect-head', head]);
    ok(r, 'audit verify');
    assert.match(r.stdout, /audit log intact: \d+ records/);
  });

  const tamper: [string, string, RegExp][] = [
    [
      'an edited record',
      `DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 3`,
      /record 3: hash-mismatch/,
    ],
    [
      'two records swapped',
      `DROP TRIGGER audit_no_update; UPDATE audit SET seq = 1000 WHERE seq = 3;
       UPDATE audit SET seq = 3 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = 1000`,
      /record 3: broken-link/,
    ],
    [
      'a removed record',
      `DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 3`,
      /record 4: seq-gap/,
    ],
    [
      'detail no longer JSON',
      `DROP TRIGGER audit_no_update; UPDATE audit SET detail = '{broken' WHERE seq = 2`,
      /record 2: unreadable/,
    ],
  ];
  for (const [name, sql, want] of tamper)
    test(`audit verify: ${name} → exit 1 naming it`, async () => {
      const dir = join(work, `tampered-${name.replace(/\W+/g, '-')}`);
      mkdirSync(dir);
      copyFileSync(join(work, 'b1.db'), join(dir, 'fleetpki.db'));
      const db = new Database(join(dir, 'fleetpki.db'));
      db.exec(sql);
      db.close();
      const r = await cli(['audit', 'verify', '--data', dir]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, want);
    });

  test('audit verify: the last records removed → exit 1 only against the head noted earlier', async () => {
    const dir = join(work, 'truncated');
    mkdirSync(dir);
    copyFileSync(join(work, 'b1.db'), join(dir, 'fleetpki.db'));
    const db = new Database(join(dir, 'fleetpki.db'));
    db.exec('DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)');
    db.close();
    ok(await cli(['audit', 'verify', '--data', dir]), 'a chain cut at its end is still a chain');
    const r = await cli(['audit', 'verify', '--data', dir, '--expect-head', head]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /truncated/);
  });

  test('backup and audit verify refuse a directory without a store (exit 2, nothing created)', async () => {
    for (const args of [
      ['backup', '--data', 'nowhere', '--out', 'x.db'],
      ['audit', 'verify', '--data', 'nowhere'],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /no store at/);
    }
    assert.ok(!existsSync(join(work, 'nowhere')));
    assert.ok(!existsSync(join(work, 'x.db')));
  });
});
