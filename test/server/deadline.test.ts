// The handler deadline over real HTTPS: a handler that never answers gets the `timeout` problem
// (503) once the deadline passes, the connection stays usable, and handlers that answer in time
// are untouched — the service's own sweep, not fastify's per-request AbortController.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
// The Node entry of crypto/ makes node:crypto the default provider (as the CLI's imports do).
import '../../src/crypto/index.js';
import { Service } from '../../src/server/service.js';
import { request } from './helpers.js';

const quiet = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

describe('handler deadline', () => {
  let dir: string;
  let svc: Service;
  let root: string;
  const headers = { 'x-probe': 'letmein' };
  let answerLater: (() => void) | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpki-deadline-'));
    svc = await Service.start({
      dataDir: join(dir, 'data'),
      port: 0,
      env: { FLEETPKI_PASSPHRASE: 'deadline test passphrase' },
      logDestination: quiet(),
      limits: { handlerTimeoutMs: 400 },
      extensions: [
        {
          name: 'probe',
          async register(app, ctx) {
            ctx.auth.define('probe', {
              method: 'probe-header',
              authenticate: (req) =>
                req.headers['x-probe'] === 'letmein'
                  ? { method: 'probe-header', id: 'p1', requester: 'test:probe' }
                  : undefined,
            });
            // Answers only when the test says so (after the deadline has passed).
            app.get(
              '/.well-known/est/hang',
              { config: { auth: 'probe' } },
              () =>
                new Promise((resolve) => {
                  answerLater = () => resolve({ late: true });
                }),
            );
            app.get('/.well-known/est/quick', { config: { auth: 'probe' } }, async () => ({ quick: true }));
          },
        },
      ],
    });
    root = readFileSync(svc.rootPath, 'utf8');
  });
  after(async () => {
    answerLater?.();
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a handler that does not answer gets the timeout problem; its late answer is dropped', async () => {
    const r = await request(`${svc.url}/.well-known/est/hang`, { ca: root, headers });
    assert.equal(r.status, 503);
    assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
    assert.equal(r.json<{ code: string }>().code, 'timeout');
    answerLater!();
    // The service goes on answering.
    const q = await request(`${svc.url}/.well-known/est/quick`, { ca: root, headers });
    assert.equal(q.status, 200);
    assert.deepEqual(q.json(), { quick: true });
  });

  test('handlers that answer in time are not touched', async () => {
    for (let i = 0; i < 5; i++) {
      const q = await request(`${svc.url}/.well-known/est/quick`, { ca: root, headers });
      assert.equal(q.status, 200);
    }
    const health = await request(`${svc.url}/healthz`, { ca: root });
    assert.equal(health.status, 200);
  });
});
