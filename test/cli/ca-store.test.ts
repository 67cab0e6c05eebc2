// One CA directory, many `fleetpki` processes at once — the five ways the file-based CLI lost data,
// each now impossible because every command works through the store's transactions:
//   1. 20 parallel `ca sign` keep 20 records, and each of the 20 can be revoked after;
//   2. a `ca revoke` made while a `ca sign` runs is in the next CRL;
//   3. CRL numbers strictly increase under concurrent `crl create` (read back from the CRLs);
//   4. `kill -9` at each stage of `ca sign` leaves no certificate or a recorded one — never a
//      certificate file the CA does not know — and the recovery pass resolves every reservation;
//   5. concurrent `ca init` on one directory: exactly one wins, the directory holds its CA only.
// Real processes of the real CLI (bundled once, see test/helpers/cli-bundle.ts).
// clock-shift: skip — what this file tests runs in child processes, which keep the real clock
// (scripts/test.sh --clock-sensitive leaves it out: shifting this process's clock tests nothing).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Authority } from '../../src/ca/authority.js';
import { loadConfig } from '../../src/ca/config.js';
import { KeyStore } from '../../src/ca/keys.js';
import { openStore, type Store } from '../../src/ca/store/index.js';
import { generateKeyPair, importPrivateKey, KeySigner } from '../../src/crypto/index.js';
import { CsrBuilder } from '../../src/issue/index.js';
import { serialKey } from '../../src/revocation/status-source.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { parseCrl } from '../../src/x509/crl.js';
import { cliBundle, fleetpkiAsync, type ProcResult } from '../helpers/cli-bundle.js';

const PASS = 'store-test-pass';
const env = { FLEETPKI_PASSPHRASE: PASS };
let work: string;
const ca = () => join(work, 'ca');

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'fleetpki-ca-store-'));
  await cliBundle();
  ok(await fleetpkiAsync(['ca', 'init', '--dir', 'ca'], { cwd: work, env }), 'ca init');
});
after(() => rmSync(work, { recursive: true, force: true }));

function ok(r: ProcResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code ?? r.signal}\n${r.stderr}`);
}

let csrCount = 0;
/** A fresh device CSR file (CN=device-<n>); returns its name. */
async function deviceCsr(): Promise<string> {
  const n = ++csrCount;
  const signer = await KeySigner.create((await generateKeyPair('ec-p256')).privateKey);
  const csr = await new CsrBuilder().subject(`CN=device-${n}`).sign(signer);
  const name = `dev-${n}.csr`;
  writeFileSync(join(work, name), csr.toPem());
  return name;
}

const sign = (csr: string, out: string, extraEnv: Record<string, string> = {}) =>
  fleetpkiAsync(['ca', 'sign', '--dir', 'ca', '--csr', csr, '--profile', 'device', '--out', out], {
    cwd: work,
    env: { ...env, ...extraEnv },
  });

const serialOf = (file: string) =>
  serialKey(parseCertificate(readFileSync(join(work, file), 'utf8')).serialHex);

async function withStore<T>(f: (s: Store) => Promise<T>): Promise<T> {
  const s = await openStore(`sqlite:${join(ca(), 'fleetpki.db')}`, { sqlite: { writer: 'inline' } });
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

/** Serials listed by a PEM CRL file, and its cRLNumber. */
function readCrl(file: string): { number: bigint; serials: Set<string> } {
  const crl = parseCrl(readFileSync(join(work, file), 'utf8'));
  return {
    number: crl.cRLNumber!,
    serials: new Set(crl.revokedCertificates.map((r) => serialKey(r.serialNumber))),
  };
}

describe('one CA directory, many fleetpki processes', () => {
  test('20 ca sign in parallel: 20 records, each revocable after (and on the CRL)', async () => {
    const csrs = await Promise.all(Array.from({ length: 20 }, () => deviceCsr()));
    const runs = await Promise.all(csrs.map((c, i) => sign(c, `par-${i}.crt`)));
    for (const [i, r] of runs.entries()) ok(r, `sign ${i}`);
    const serials = csrs.map((_, i) => serialOf(`par-${i}.crt`));
    assert.equal(new Set(serials).size, 20);
    const stored = await withStore(async (s) => {
      const out = new Map<string, string>();
      for (const serial of serials) {
        const [rec] = await s.findBySerial(serial);
        assert.equal(rec?.state, 'issued', serial);
        // The record holds the very certificate the client received.
        assert.deepEqual(
          Buffer.from(rec.der!),
          Buffer.from(
            parseCertificate(readFileSync(join(work, `par-${serials.indexOf(serial)}.crt`), 'utf8')).der,
          ),
        );
        out.set(serial, rec.issuerId);
      }
      return out;
    });
    assert.equal(stored.size, 20);

    const revokes = await Promise.all(
      serials.map((s) =>
        fleetpkiAsync(['ca', 'revoke', '--dir', 'ca', s, '--reason', 'keyCompromise'], { cwd: work, env }),
      ),
    );
    for (const [i, r] of revokes.entries()) ok(r, `revoke ${i}`);
    ok(await fleetpkiAsync(['crl', 'create', '--dir', 'ca', '--out', 'par.crl'], { cwd: work, env }), 'crl');
    const { serials: listed } = readCrl('par.crl');
    for (const s of serials) assert.ok(listed.has(s), `${s} is on the CRL`);
  });

  test('a ca revoke made while a ca sign runs is in the next CRL (5 rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      const victim = await deviceCsr();
      ok(await sign(victim, `victim-${round}.crt`), 'sign victim');
      const serial = serialOf(`victim-${round}.crt`);
      const other = await deviceCsr();
      const [s, r] = await Promise.all([
        sign(other, `during-${round}.crt`),
        fleetpkiAsync(['ca', 'revoke', '--dir', 'ca', serial, '--reason', 'keyCompromise'], {
          cwd: work,
          env,
        }),
      ]);
      ok(s, 'sign during revoke');
      ok(r, 'revoke during sign');
      ok(
        await fleetpkiAsync(['crl', 'create', '--dir', 'ca', '--out', `round-${round}.crl`], {
          cwd: work,
          env,
        }),
        'crl',
      );
      assert.ok(readCrl(`round-${round}.crl`).serials.has(serial), `round ${round}: ${serial} on the CRL`);
      // …and the certificate issued meanwhile is recorded and not revoked.
      const during = serialOf(`during-${round}.crt`);
      const rec = await withStore(async (st) => (await st.findBySerial(during))[0]);
      assert.equal(rec?.state, 'issued');
      assert.equal(rec?.revocation, undefined);
    }
  });

  test('CRL numbers strictly increase under concurrent crl create (read from the CRLs)', async () => {
    ok(await fleetpkiAsync(['crl', 'create', '--dir', 'ca', '--out', 'base.crl'], { cwd: work, env }), 'crl');
    const base = readCrl('base.crl').number;
    const n = 8;
    const runs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        fleetpkiAsync(['crl', 'create', '--dir', 'ca', '--out', `conc-${i}.crl`], { cwd: work, env }),
      ),
    );
    for (const [i, r] of runs.entries()) ok(r, `crl ${i}`);
    const numbers = Array.from({ length: n }, (_, i) => readCrl(`conc-${i}.crl`).number).sort((a, b) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    assert.deepEqual(
      numbers,
      Array.from({ length: n }, (_, i) => base + BigInt(i + 1)),
      'each concurrent CRL got its own number, after the previous ones',
    );
    // The root's counter is its own (RFC 5280 §5.2.3 is per issuer), and moves on just as well.
    const roots = await Promise.all(
      [0, 1, 2].map((i) =>
        fleetpkiAsync(['crl', 'create', '--dir', 'ca', '--issuer', 'root', '--out', `root-${i}.crl`], {
          cwd: work,
          env,
        }),
      ),
    );
    for (const [i, r] of roots.entries()) ok(r, `root crl ${i}`);
    assert.equal(new Set([0, 1, 2].map((i) => readCrl(`root-${i}.crl`).number)).size, 3);
  });

  for (const point of ['before-reserve', 'after-reserve', 'after-sign', 'after-complete'] as const)
    test(`kill -9 ${point}: no certificate, or a recorded one; recovery resolves the reservation`, async () => {
      const csr = await deviceCsr();
      const subject = `CN=device-${csrCount}`;
      const out = `killed-${point}.crt`;
      const r = await sign(csr, out, { FLEETPKI_TEST_KILL_AT: point });
      assert.equal(r.signal, 'SIGKILL', `killed at ${point}: ${r.code} ${r.stderr}`);
      // The file is written only after the certificate is stored; here nothing reached the client.
      assert.ok(!existsSync(join(work, out)), 'no certificate file');
      const rows = await withStore(
        async (s) =>
          (await s.findCertificates({ subject, states: ['reserved', 'issued', 'void'], limit: 10 })).items,
      );
      const expected = {
        'before-reserve': [],
        'after-reserve': ['reserved'],
        'after-sign': ['reserved'],
        'after-complete': ['issued'],
      }[point];
      assert.deepEqual(
        rows.map((x) => x.state),
        expected,
      );
      // The recovery pass (what every open runs for reservations older than the grace period):
      // nothing stays reserved, a voided serial is never `good`, a stored one is revocable.
      await recoverNow();
      await withStore(async (s) => {
        for (const x of rows) {
          const [now] = await s.findBySerial(x.serialHex);
          if (point === 'after-complete') {
            assert.equal(now?.state, 'issued');
            assert.equal((await s.status(x.issuerId, x.serialHex))?.status, 'good');
          } else {
            assert.equal(now?.state, 'void');
            assert.equal(await s.status(x.issuerId, x.serialHex), undefined);
          }
        }
        assert.equal((await s.unresolvedReservations(Date.now() + 1, 10)).length, 0);
      });
      if (point === 'after-complete') {
        const serial = rows[0]!.serialHex;
        ok(
          await fleetpkiAsync(['ca', 'revoke', '--dir', 'ca', serial, '--reason', 'superseded'], {
            cwd: work,
            env,
          }),
          'the recorded certificate is revocable',
        );
      }
      // The same request succeeds afterwards.
      ok(await sign(csr, `after-${point}.crt`), 'sign after the crash');
    });

  test('concurrent ca init on one directory: exactly one wins, the directory holds its CA', async () => {
    const n = 5;
    const runs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        fleetpkiAsync(['ca', 'init', '--dir', 'race', '--json'], {
          cwd: work,
          env: { FLEETPKI_PASSPHRASE: `racer-${i}-passphrase` },
        }),
      ),
    );
    const winners = runs.flatMap((r, i) => (r.code === 0 ? [i] : []));
    assert.equal(winners.length, 1, runs.map((r) => `${r.code}: ${r.stderr}`).join('\n'));
    for (const [i, r] of runs.entries()) {
      if (i === winners[0]) continue;
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /already (holds a CA|exists)/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    const w = winners[0]!;
    const race = join(work, 'race');
    // The losers removed the keys they made: two key files, the winner's, under their two names.
    assert.equal(readdirSync(join(race, 'keys')).length, 2);
    const summary = JSON.parse(runs[w]!.stdout);
    const root = parseCertificate(readFileSync(join(race, 'root.crt'), 'utf8'));
    assert.equal(root.serialHex, summary.root.serial);
    for (const [crt, key] of [
      ['root.crt', 'root.key'],
      ['intermediate.crt', 'intermediate.key'],
    ]) {
      const k = await importPrivateKey(readFileSync(join(race, key!)), {
        passphrase: `racer-${w}-passphrase`,
      });
      const c = parseCertificate(readFileSync(join(race, crt!), 'utf8'));
      assert.deepEqual(
        Buffer.from(k.spki),
        Buffer.from(c.subjectPublicKeyInfo.der),
        `${key} is ${crt}'s key`,
      );
    }
    const stored = await openStore(`sqlite:${join(race, 'fleetpki.db')}`, { sqlite: { writer: 'inline' } });
    try {
      const issuers = await stored.listIssuers();
      assert.deepEqual(issuers.map((i) => i.id).sort(), ['issuing', 'root']);
      assert.deepEqual(Buffer.from(issuers.find((i) => i.id === 'root')!.certificate), Buffer.from(root.der));
    } finally {
      await stored.close();
    }
    // And it works: the winner's passphrase signs.
    const csr = await deviceCsr();
    const r = await fleetpkiAsync(
      ['ca', 'sign', '--dir', 'race', '--csr', csr, '--profile', 'device', '--out', 'race.crt'],
      { cwd: work, env: { FLEETPKI_PASSPHRASE: `racer-${w}-passphrase` } },
    );
    ok(r, 'sign with the winner');
  });
});

/** Runs the Authority's recovery pass on the test CA now (every reservation counts as stale). */
async function recoverNow(): Promise<void> {
  const store = await openStore(`sqlite:${join(ca(), 'fleetpki.db')}`, { sqlite: { writer: 'inline' } });
  const keys = await KeyStore.open({ dataDir: ca(), passphrase: PASS });
  try {
    const config = loadConfig(join(ca(), 'config.yaml'));
    const authority = await Authority.open({ store, keys, config, background: 'off' });
    await authority.recover({ before: Date.now() + 1 });
    await authority.close();
  } finally {
    keys.close();
    await store.close();
  }
}
