// `fleetpki claim create` (the CLI in this process, test/cli/pki-cli.ts): one claim certificate
// per batch, or N with their own keys and one identity; refusals for a label the configuration
// does not declare and for a configuration without a provisioning section.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { Authority } from '../../src/ca/authority.js';
import { parseConfig } from '../../src/ca/config.js';
import { KeyStore } from '../../src/ca/keys.js';
import { openStore } from '../../src/ca/store/index.js';
import { importKey } from '../../src/crypto/index.js';
import { parseCertificates } from '../../src/x509/index.js';
import { fleetpki } from '../cli/pki-cli.js';

const PASSPHRASE = 'claim cli test passphrase';
const env = { FLEETPKI_PASSPHRASE: PASSPHRASE, DATABASE_URL: undefined };
const dir = mkdtempSync(join(tmpdir(), 'fleetpki-claim-cli-'));
const data = join(dir, 'data');
const config = join(dir, 'ca.yaml');

before(async () => {
  mkdirSync(data, { mode: 0o700 });
  writeFileSync(
    config,
    stringify({
      provisioning: {
        claims: { 'batch-7': { templates: ['t'] } },
        templates: { t: { subject: { CN: 'dev-[0-9]+' } } },
      },
    }),
  );
  const store = await openStore(`sqlite:${join(data, 'fleetpki.db')}`);
  const keys = await KeyStore.open({ dataDir: data, passphrase: PASSPHRASE });
  const { authority } = await Authority.init({ store, keys, config: parseConfig({}), background: 'off' });
  await authority.close();
  keys.close();
  await store.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Claim certificates in the store. */
async function claimCount(): Promise<number> {
  const store = await openStore(`sqlite:${join(data, 'fleetpki.db')}`);
  try {
    return (await store.findCertificates({ profile: 'claim', limit: 500 })).items.length;
  } finally {
    await store.close();
  }
}

describe('fleetpki claim create', () => {
  it('one claim certificate: claim.crt (with its chain) and claim.key (0600)', async () => {
    const out = join(dir, 'one');
    const r = await fleetpki(
      ['claim', 'create', '--data', data, '--config', config, '--label', 'batch-7', '--out', out],
      {
        cwd: dir,
        env,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const chain = parseCertificates(readFileSync(join(out, 'claim.crt'), 'utf8'));
    assert.equal(chain.length, 2);
    assert.equal(chain[0]!.subject.toString(), 'CN=claim-batch-7');
    assert.deepEqual(chain[0]!.extKeyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(statSync(join(out, 'claim.key')).mode & 0o777, 0o600);
    const key = await importKey(readFileSync(join(out, 'claim.key'), 'utf8'));
    assert.deepEqual(key.spki, chain[0]!.subjectPublicKeyInfo.der);
    // The key is never replaced without --force, and nothing is issued for it.
    const issued = await claimCount();
    const again = await fleetpki(
      ['claim', 'create', '--data', data, '--config', config, '--label', 'batch-7', '--out', out],
      {
        cwd: dir,
        env,
      },
    );
    assert.equal(again.code, 2, again.stdout);
    assert.match(again.stderr, /exists/);
    assert.equal(await claimCount(), issued);
  });

  it('--count 3: claim-1..3, one identity, three keys and serials', async () => {
    const out = join(dir, 'three');
    const r = await fleetpki(
      [
        'claim',
        'create',
        '--data',
        data,
        '--config',
        config,
        '--label',
        'batch-7',
        '--count',
        '3',
        '--out',
        out,
        '--json',
      ],
      { cwd: dir, env },
    );
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { identity: string; serial: string }[];
    assert.equal(rows.length, 3);
    assert.equal(new Set(rows.map((x) => x.serial)).size, 3);
    const keys = new Set<string>();
    for (let i = 1; i <= 3; i++) {
      const c = parseCertificates(readFileSync(join(out, `claim-${i}.crt`), 'utf8'))[0]!;
      assert.equal(c.subject.commonName, 'claim-batch-7');
      keys.add(Buffer.from(c.subjectPublicKeyInfo.der).toString('hex'));
      assert.equal(statSync(join(out, `claim-${i}.key`)).mode & 0o777, 0o600);
    }
    assert.equal(keys.size, 3);
  });

  const BAD: [string, string[], RegExp][] = [
    [
      'a label the configuration does not declare',
      ['--config', config, '--label', 'batch-8'],
      /no claim label "batch-8"/,
    ],
    ['no provisioning section', ['--label', 'batch-7'], /no provisioning section/],
    ['a bad count', ['--config', config, '--label', 'batch-7', '--count', '0'], /--count/],
  ];
  for (const [name, args, msg] of BAD)
    it(`refuses ${name} (exit 2, nothing written)`, async () => {
      const out = join(dir, `bad-${name.length}`);
      const r = await fleetpki(['claim', 'create', '--data', data, ...args, '--out', out], { cwd: dir, env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.throws(() => statSync(join(out, 'claim.key')));
    });
});
