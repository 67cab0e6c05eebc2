// `fleetpki enroll` against the small real EST endpoint of test/est/endpoint.ts: first enrollment
// with a token or a bootstrap certificate, files written together with the right modes, the chain
// openssl verifies, renewal only when due (or forced), typed refusals.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importPrivateKey } from '../../src/crypto/index.js';
import { bytesEqual } from '../../src/der/index.js';
import { nextCheckDelay, renewalDue } from '../../src/est/enroll.js';
import { parseCertificate, parseCertificates } from '../../src/x509/index.js';
import { type Endpoint, startEndpoint } from '../est/endpoint.js';
import { type Hierarchy, type Identity, makeHierarchy, tempDir } from '../helpers/fleet.js';
import { run } from '../helpers/proc.js';
import { fleetpki } from './pki-cli.js';

let fleet: Hierarchy;
let bootstrap: Hierarchy;
let claim: Identity;
let ep: Endpoint;
const tmp = tempDir('cli-enroll');

before(async () => {
  [fleet, bootstrap] = await Promise.all([makeHierarchy('Enroll Fleet'), makeHierarchy('Enroll Factory')]);
  claim = await bootstrap.device('claim-77');
  ep = await startEndpoint(fleet, bootstrap, await fleet.server('est'));
  tmp.file('root.pem', fleet.rootPem);
  tmp.file('claim.pem', claim.chainPem);
  tmp.file('claim.key', claim.keyPem);
});
after(async () => {
  await ep?.close();
  tmp.remove();
});

const CLI = join(import.meta.dirname, '../../src/cli/main.ts');
const base = () => ['enroll', '--est', ep.url, '--ca', 'root.pem'];

describe('fleetpki enroll', () => {
  it('first enrollment with a token: device.key (0600) and device.crt (leaf + issuing CA) that openssl verifies', async () => {
    ep.tokens.set('dev-1', 'pw1');
    const r = await fleetpki(
      [...base(), '--token', 'dev-1:pw1', '--subject', 'CN=device-cli-1', '--out', 'd1', '--json'],
      { cwd: tmp.dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.action, 'enrolled');
    assert.equal(s.subject, 'CN=device-cli-1');
    assert.equal(statSync(join(tmp.dir, 'd1/device.key')).mode & 0o777, 0o600);
    const chain = parseCertificates(readFileSync(join(tmp.dir, 'd1/device.crt'), 'utf8'));
    assert.deepEqual(
      chain.map((c) => c.subject.toString()),
      ['CN=device-cli-1', 'CN=Enroll Fleet Issuing CA,O=fleetpki test'],
    );
    const v = await run(
      'openssl',
      [
        'verify',
        '-x509_strict',
        '-purpose',
        'sslclient',
        '-CAfile',
        'root.pem',
        '-untrusted',
        'd1/device.crt',
        'd1/device.crt',
      ],
      {
        cwd: tmp.dir,
      },
    );
    assert.equal(v.stdout.trim(), 'd1/device.crt: OK', v.stderr);
    const key = await importPrivateKey(readFileSync(join(tmp.dir, 'd1/device.key'), 'utf8'));
    assert.ok(
      bytesEqual(key.spki, chain[0]!.subjectPublicKeyInfo.der),
      'device.key is the key of device.crt',
    );
  });

  it('first enrollment with a bootstrap certificate, then --renew: not due; --renew --force: a new key, same subject', async () => {
    const first = await fleetpki(
      [
        ...base(),
        '--cert',
        'claim.pem',
        '--key',
        'claim.key',
        '--subject',
        'CN=device-cli-2',
        '--san',
        'uri:urn:dev:2',
        '--out',
        'd2',
      ],
      { cwd: tmp.dir },
    );
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^enrolled CN=device-cli-2 serial [0-9a-f]+ until /);
    const before = readFileSync(join(tmp.dir, 'd2/device.crt'), 'utf8');
    const keyBefore = readFileSync(join(tmp.dir, 'd2/device.key'), 'utf8');
    const notDue = await fleetpki([...base(), '--renew', '--out', 'd2'], { cwd: tmp.dir });
    assert.equal(notDue.code, 0, notDue.stderr);
    assert.match(notDue.stdout, /^not due CN=device-cli-2 /);
    assert.equal(readFileSync(join(tmp.dir, 'd2/device.crt'), 'utf8'), before);
    const renewed = await fleetpki([...base(), '--renew', '--force', '--out', 'd2'], { cwd: tmp.dir });
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.match(renewed.stdout, /^renewed CN=device-cli-2 /);
    const after = parseCertificate(readFileSync(join(tmp.dir, 'd2/device.crt'), 'utf8'));
    assert.notEqual(after.serialHex, parseCertificate(before).serialHex);
    assert.deepEqual(after.subjectAltName, parseCertificate(before).subjectAltName);
    assert.notEqual(readFileSync(join(tmp.dir, 'd2/device.key'), 'utf8'), keyBefore);
    assert.deepEqual(ep.log.slice(-1), ['simplereenroll cert 200']);
  });

  const refusals: { name: string; args: () => string[]; code: number; stderr: RegExp; absent?: string }[] = [
    {
      name: 'a first enrollment without a subject, before making its directory',
      args: () => ['--token', 'dev-1:pw1', '--out', 'd4'],
      code: 2,
      stderr: /a first enrollment needs --subject/,
      absent: 'd4',
    },
    {
      name: '--renew with nothing to renew and no subject',
      args: () => ['--token', 'dev-1:pw1', '--renew', '--out', 'd4'],
      code: 2,
      stderr: /needs --subject .*; there is no d4\/device\.crt to renew/,
      absent: 'd4',
    },
    {
      name: 'an unknown token',
      args: () => ['--token', 'nobody:x', '--subject', 'CN=x', '--out', 'd3'],
      code: 1,
      stderr: /unauthorized \(HTTP 401\)/,
    },
    {
      name: 'no credentials',
      args: () => ['--subject', 'CN=x', '--out', 'd3'],
      code: 2,
      stderr: /needs --token or --cert/,
    },
    {
      name: 'a token without a password',
      args: () => ['--token', 'nobody', '--subject', 'CN=x', '--out', 'd3'],
      code: 2,
      stderr: /USER:PASS/,
    },
    {
      name: 'a server outside the trust anchor',
      args: () => ['--ca', 'claim.pem', '--token', 'a:b', '--subject', 'CN=x', '--out', 'd3'],
      code: 1,
      stderr: /^fleetpki: tls: .*unknown-issuer/,
    },
  ];
  for (const c of refusals)
    it(`refuses ${c.name} (exit ${c.code})`, async () => {
      const r = await fleetpki([...base(), ...c.args()], { cwd: tmp.dir });
      assert.equal(r.code, c.code, r.stderr);
      assert.match(r.stderr, c.stderr);
      if (c.absent) assert.equal(existsSync(join(tmp.dir, c.absent)), false, `${c.absent} was made`);
    });
});

describe('fleetpki enroll --watch (a real process)', () => {
  it('enrolls, keeps running, and stops cleanly on SIGTERM', async () => {
    ep.tokens.set('watcher', 'pw');
    const p = spawn(
      process.execPath,
      [
        '--import',
        import.meta.resolve('tsx'),
        CLI,
        ...base(),
        '--token',
        'watcher:pw',
        '--subject',
        'CN=device-watch',
        '--out',
        'dw',
        '--watch',
      ],
      {
        cwd: tmp.dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    p.stderr.on('data', (d) => {
      err += d;
    });
    await new Promise<void>((resolve, reject) => {
      p.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve();
      });
      p.once('exit', (code) => reject(new Error(`exited ${code} before enrolling: ${err}`)));
    });
    assert.match(out, /^enrolled CN=device-watch /);
    const code = await new Promise<number | null>((resolve) => {
      p.once('exit', (c) => resolve(c));
      p.kill('SIGTERM');
    });
    assert.equal(code, 0, err);
  });
});

describe('renewal timing', () => {
  it('renewalDue at a third of the lifetime left; nextCheckDelay sleeps until then (capped), backs off on failures, with jitter', async () => {
    const t0 = Date.UTC(2030, 0, 1);
    const c = (
      await fleet.device('timing', { notBefore: Date.now() - 1000, notAfter: Date.now() + 90 * 86_400_000 })
    ).certificate;
    const life = c.notAfter - c.notBefore;
    assert.equal(renewalDue(c, c.notAfter - life / 3 - 1000), false);
    assert.equal(renewalDue(c, c.notAfter - life / 3 + 1000), true);
    const mid = () => 0.5; // no jitter
    assert.equal(nextCheckDelay(c, { now: c.notBefore, random: mid }), 3_600_000);
    assert.equal(nextCheckDelay(c, { now: c.notAfter - life / 3 + 5000, random: mid }), 0);
    assert.equal(
      nextCheckDelay(c, { now: c.notAfter - life / 3 - 60_000, random: mid, maxMs: 10 * 3_600_000 }),
      60_000,
    );
    assert.deepEqual(
      [1, 2, 3, 12].map((failures) => nextCheckDelay(c, { now: t0, failures, random: mid })),
      [5000, 10_000, 20_000, 3_600_000],
    );
    assert.equal(nextCheckDelay(c, { now: c.notBefore, random: () => 0 }), 0.8 * 3_600_000);
    assert.equal(nextCheckDelay(c, { now: c.notBefore, random: () => 1 }), 1.2 * 3_600_000);
  });
});
