// Fleet provisioning through the real commands, each in its own process: `fleetpki claim create`
// on a CA data directory, `fleetpki serve --mqtt mqtts://…` against a REAL Mosquitto configured for
// that CA, and `fleetpki provision` on the device side, which writes device.key (0600) and
// device.crt and proves the identity by publishing on its own topic. The result passes
// `openssl verify -x509_strict -purpose sslclient`; the broker and serve are stopped in `after`.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { Authority } from '../../src/ca/authority.js';
import { loadConfig } from '../../src/ca/config.js';
import { KeyStore } from '../../src/ca/keys.js';
import { openStore } from '../../src/ca/store/index.js';
import { parseCertificates } from '../../src/x509/index.js';
import { assertVerified } from '../ca/fixture.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';
import { run } from '../helpers/proc.js';
import { type ServeProcess, spawnServe } from '../server/helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = import.meta.resolve('tsx');
const PASSPHRASE = 'cli provisioning test passphrase';
const env = { FLEETPKI_PASSPHRASE: PASSPHRASE, DATABASE_URL: undefined };

const dir = mkdtempSync(join(tmpdir(), 'fleetpki-prov-cli-'));
const data = join(dir, 'data');
const configFile = join(dir, 'ca.yaml');
let broker: Broker | undefined;
let serve: ServeProcess | undefined;

function fleetpki(args: string[]) {
  const e: NodeJS.ProcessEnv = { ...process.env, FLEETPKI_PASSPHRASE: PASSPHRASE };
  delete e.DATABASE_URL;
  return run(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), ...args], {
    cwd: dir,
    env: e,
    timeoutMs: 120_000,
  });
}

before(async () => {
  writeFileSync(
    configFile,
    stringify({
      provisioning: {
        claims: { 'line-1': { templates: ['sensor'] } },
        templates: {
          sensor: {
            attributes: { serialNumber: { required: true, pattern: '[A-Z0-9]{4,20}' } },
            subject: { CN: 'sensor-{serialNumber}' },
          },
        },
      },
    }),
  );
  // The CA of the data directory, made here; the broker's certificate and the first CRL from it.
  mkdirSync(data, { mode: 0o700 });
  const store = await openStore(`sqlite:${join(data, 'fleetpki.db')}`);
  const keys = await KeyStore.open({ dataDir: data, passphrase: PASSPHRASE });
  const { authority: ca } = await Authority.init({
    store,
    keys,
    config: loadConfig(configFile),
    background: 'off',
  });
  writeFileSync(join(dir, 'root.pem'), ca.rootCertificate().toPem());
  await ca.close();
  keys.close();
  await store.close();
  // The broker from `fleetpki broker-config` (certificate, CRL file, the provisioning ACL); the
  // listener port is set per start attempt.
  const bc = await fleetpki([
    'broker-config',
    '--data',
    data,
    '--config',
    configFile,
    '--out',
    join(dir, 'broker'),
    '--port',
    '1',
  ]);
  assert.equal(bc.code, 0, bc.stderr);
  const confFile = join(dir, 'broker', 'mosquitto.conf');
  const conf = readFileSync(confFile, 'utf8');
  const acl = readFileSync(join(dir, 'broker', 'acl'), 'utf8');
  for (const line of [
    'pattern readwrite devices/%u/#',
    'pattern read provisioning/%u/response/%c/#',
    'user claim-line-1',
    'topic write provisioning/claim-line-1/request/#',
    'user fleetpki-provisioning',
    'topic read provisioning/+/request/#',
    'topic write provisioning/+/response/#',
  ])
    assert.ok(acl.split('\n').includes(line), `ACL line ${line}:\n${acl}`);
  broker = await startMosquitto((port) => {
    writeFileSync(confFile, conf.replace(/^listener 1 /m, `listener ${port} `));
    return confFile;
  });
});

after(async () => {
  await serve?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('fleetpki claim create → serve --mqtt → provision', () => {
  it('provisions a device through the real commands', async () => {
    const claim = await fleetpki([
      'claim',
      'create',
      '--data',
      data,
      '--config',
      configFile,
      '--label',
      'line-1',
      '--out',
      join(dir, 'claim'),
    ]);
    assert.equal(claim.code, 0, claim.stderr);
    assert.match(claim.stdout, /^claim-line-1 serial [0-9a-f]+ until /);
    assert.equal(statSync(join(dir, 'claim', 'claim.key')).mode & 0o777, 0o600);

    serve = await spawnServe(
      ['--data', data, '--config', configFile, '--port', '0', '--mqtt', `mqtts://127.0.0.1:${broker!.port}`],
      { cwd: dir, env },
    );
    // Ready once its MQTT client has subscribed (the JSON log line on stderr).
    for (let i = 0; i < 600 && !/provisioning: subscribed/.test(serve.stderr()); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(serve.stderr(), /provisioning: subscribed/);

    const out = join(dir, 'device');
    const p = await fleetpki([
      'provision',
      '--mqtt',
      `mqtts://127.0.0.1:${broker!.port}`,
      '--ca',
      join(dir, 'root.pem'),
      '--claim-cert',
      join(dir, 'claim', 'claim.crt'),
      '--claim-key',
      join(dir, 'claim', 'claim.key'),
      '--template',
      'sensor',
      '--attr',
      'serialNumber=CLI00001',
      '--protocol',
      '3.1.1',
      '--format',
      'cbor',
      '--out',
      out,
    ]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(
      p.stdout,
      /^provisioned CN=sensor-CLI00001 serial [0-9a-f]+ .*published on devices\/sensor-CLI00001\/provisioned/,
    );
    assert.equal(statSync(join(out, 'device.key')).mode & 0o777, 0o600);
    const chain = parseCertificates(readFileSync(join(out, 'device.crt'), 'utf8'));
    assert.equal(chain.length, 2, 'leaf then the issuing CA');
    assert.equal(chain[0]!.subject.commonName, 'sensor-CLI00001');
    writeFileSync(join(out, 'leaf.pem'), chain[0]!.toPem());
    writeFileSync(join(out, 'int.pem'), chain[1]!.toPem());
    assertVerified(out, join(out, 'leaf.pem'), {
      root: join(dir, 'root.pem'),
      untrusted: join(out, 'int.pem'),
      purpose: 'sslclient',
    });

    // A refusal is exit 1 with the answer's code.
    const bad = await fleetpki([
      'provision',
      '--mqtt',
      `mqtts://127.0.0.1:${broker!.port}`,
      '--ca',
      join(dir, 'root.pem'),
      '--claim-cert',
      join(dir, 'claim', 'claim.crt'),
      '--claim-key',
      join(dir, 'claim', 'claim.key'),
      '--template',
      'sensor',
      '--attr',
      'serialNumber=CLI00002',
      '--subject',
      'CN=sensor-SOMEONE-ELSE',
      '--out',
      join(dir, 'device2'),
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^fleetpki: subject-not-allowed: /);
    assert.equal(await serve.stop(), 0);
    serve = undefined;
  });
});
