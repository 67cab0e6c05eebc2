// The Authority on a real PostgreSQL (a throwaway cluster on 127.0.0.1): three instances sharing
// one store and one data directory (the key files), as `fleetpki serve` runs behind a load
// balancer. Exactly one of three concurrent first starts creates the CA; certificates issued on
// one instance are found on the others; a revocation on instance 1 is `revoked` in OCSP on
// instance 3 after its next poll; CRL numbers strictly increase whichever instance publishes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { Authority } from '../../src/ca/authority.js';
import { parseConfig } from '../../src/ca/config.js';
import { KeyStore } from '../../src/ca/keys.js';
import type { IssuedResult } from '../../src/ca/pipeline.js';
import { openStore, type Store } from '../../src/ca/store/index.js';
import { registerOcspRoutes } from '../../src/server/ocsp.js';
import { type PgCluster, startPostgres } from '../helpers/postgres.js';
import { assertVerified, PASSPHRASE, pem, runAsync } from './fixture.js';
import { freshSigner, makeCsr } from './requests.js';

let cluster: PgCluster;
const dir = mkdtempSync(join(tmpdir(), 'fleetpki-ca-pg-'));
const instances: { ca: Authority; store: Store; keys: KeyStore; created: boolean }[] = [];
const servers: FastifyInstance[] = [];

before(async () => {
  cluster = startPostgres();
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE fleetpki');
  await admin.end();
  const url = cluster.url('fleetpki');
  const config = parseConfig({ urls: { base: 'http://127.0.0.1:9' } });
  const start = async () => {
    const store = await openStore(url);
    const keys = await KeyStore.open({ dataDir: dir, passphrase: PASSPHRASE });
    const { authority, created } = await Authority.init({ store, keys, config, background: 'off' });
    return { ca: authority, store, keys, created };
  };
  instances.push(...(await Promise.all([start(), start(), start()])));
});

after(async () => {
  for (const s of servers) await s.close();
  for (const i of instances) {
    await i.ca.close();
    i.keys.close();
    await i.store.close();
  }
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ocspUrl(ca: Authority): Promise<string> {
  const app = Fastify();
  await registerOcspRoutes(app, { responder: await ca.ocspResponder() });
  await app.listen({ port: 0, host: '127.0.0.1' });
  servers.push(app);
  const a = app.server.address();
  return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/ocsp`;
}

describe('three instances on one PostgreSQL', () => {
  test('exactly one of three concurrent first starts creates the CA; all use it', () => {
    assert.deepEqual(instances.map((i) => i.created).sort(), [false, false, true]);
    const roots = new Set(instances.map((i) => i.ca.rootCertificate().serialHex));
    assert.equal(roots.size, 1);
  });

  test('issued on 1, verified by OpenSSL, found on 2; revoked on 1, revoked in OCSP on 3 after a poll', async () => {
    const [one, two, three] = instances as [
      (typeof instances)[0],
      (typeof instances)[0],
      (typeof instances)[0],
    ];
    const url3 = await ocspUrl(three.ca);
    const r = (await one.ca.issue(await makeCsr({ subject: 'CN=device-pg' }, await freshSigner()), {
      profile: 'device',
      requester: 'est:pg',
    })) as IssuedResult;
    assert.equal(r.status, 'issued');
    writeFileSync(join(dir, 'root.pem'), pem(one.ca.rootCertificate().der));
    writeFileSync(join(dir, 'int.pem'), pem(r.chain[0]!.der));
    writeFileSync(join(dir, 'leaf.pem'), pem(r.der));
    assertVerified(dir, 'leaf.pem', { root: 'root.pem', untrusted: 'int.pem', purpose: 'sslclient' });
    assert.equal((await two.ca.get(r.serialHex))?.fingerprint, r.fingerprint);

    const ask = async () => {
      const o = await runAsync(
        'openssl',
        ['ocsp', '-issuer', 'int.pem', '-cert', 'leaf.pem', '-url', url3, '-CAfile', 'root.pem', '-no_nonce'],
        { cwd: dir },
      );
      assert.match(o.stdout + o.stderr, /Response verify OK/);
      return /leaf\.pem: (\w+)/.exec(o.stdout)?.[1];
    };
    assert.equal(await ask(), 'good', 'instance 3 caches a good answer');
    await one.ca.revoke(r.serialHex, 'keyCompromise', { requester: 'admin:token:pg' });
    await three.ca.pollStatusChanges();
    assert.equal(await ask(), 'revoked');
  });

  test('CRL numbers strictly increase whichever instance publishes', async () => {
    const numbers: bigint[] = [];
    for (let round = 0; round < 3; round++)
      for (const i of instances) numbers.push((await i.ca.publishCrl('issuing')).crlNumber);
    for (let k = 1; k < numbers.length; k++) assert.ok(numbers[k]! > numbers[k - 1]!, numbers.join(','));
    const concurrent = await Promise.all(instances.map((i) => i.ca.publishCrl('issuing')));
    assert.equal(new Set(concurrent.map((c) => c.crlNumber)).size, 3, 'no two CRLs share a number');
  });

  test('a certificate issued concurrently on all three is stored once each, under distinct serials', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, async (_, k) =>
        instances[k % 3]!.ca.issue(await makeCsr({ subject: `CN=device-pg-${k}` }, await freshSigner()), {
          profile: 'device',
          requester: 'est:pg',
        }),
      ),
    );
    const serials = results.map((r) => (r as IssuedResult).serialHex);
    assert.equal(new Set(serials).size, 30);
    for (const s of serials) assert.equal((await instances[0]!.ca.get(s))?.state, 'issued');
  });
});
