// The service in this process over real HTTPS on 127.0.0.1:0: its Prometheus metrics after real
// traffic (issuance, OCSP through OpenSSL's request encoder, refusals, store operations), the
// TLS certificate renewed without a restart, and a shutdown while issuances are in flight —
// every certificate a client received is in the store afterwards.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { connect, type PeerCertificate } from 'node:tls';
import { openStore } from '../../src/ca/store/index.js';
import { encodePem } from '../../src/pem/pem.js';
import { IssueResponse } from '../../src/server/api/schemas.js';
import { redactUrl, SecretSet } from '../../src/server/logging.js';
import { Service } from '../../src/server/service.js';
import { makeCsr } from '../ca/requests.js';
import { run } from '../helpers/proc.js';
import { api, type HttpResponse, request } from './helpers.js';

const quiet = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

async function startService(dir: string): Promise<Service> {
  return Service.start({
    dataDir: join(dir, 'data'),
    port: 0,
    env: { FLEETPKI_PASSPHRASE: 'lifecycle test passphrase' },
    logDestination: quiet(),
  });
}

/** The serial of the certificate the server presents on a new TLS connection. */
function serverSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const c: PeerCertificate = s.getPeerCertificate();
      s.end();
      resolve(c.serialNumber.toLowerCase().replace(/^0+/, ''));
    });
    s.on('error', reject);
  });
}

describe('service lifecycle', () => {
  const dirs: string[] = [];
  const services: Service[] = [];
  after(async () => {
    for (const s of services) await s.close().catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const fresh = () => {
    const d = mkdtempSync(join(tmpdir(), 'fleetpki-life-'));
    dirs.push(d);
    return d;
  };

  test('metrics: issuance count and latency, OCSP requests and responses, errors by code, store latency', async () => {
    const dir = fresh();
    const svc = await startService(dir);
    services.push(svc);
    const root = readFileSync(svc.rootPath, 'utf8');
    const token = readFileSync(svc.admin.tokenPath, 'utf8').trim();
    const csr = encodePem('CERTIFICATE REQUEST', (await makeCsr({ subject: 'CN=device-metrics' })).der);
    const r = await api(svc.url, '/api/v1/certificates', {
      token,
      ca: root,
      json: { csr, profile: 'device' },
    });
    assert.equal(r.status, 201, r.text);
    const body = IssueResponse.parse(r.json());
    assert.equal(body.status, 'issued');
    assert.equal((await api(svc.url, '/api/v1/cas', { ca: root })).status, 401);
    await api(svc.url, '/api/v1/certificates', { token, ca: root, json: { csr: 'junk', profile: 'device' } });

    // A real OCSP request (OpenSSL's encoder), POSTed twice: signed, then from the front cache.
    if (body.status !== 'issued') return;
    writeFileSync(join(dir, 'leaf.pem'), body.pem);
    writeFileSync(
      join(dir, 'int.pem'),
      body.chainPem.slice(0, body.chainPem.indexOf('-----END CERTIFICATE-----') + 26),
    );
    const q = await run('openssl', [
      'ocsp',
      '-issuer',
      join(dir, 'int.pem'),
      '-cert',
      join(dir, 'leaf.pem'),
      '-no_nonce',
      '-reqout',
      join(dir, 'req.der'),
    ]);
    assert.equal(q.code, 0, q.stderr);
    const der = readFileSync(join(dir, 'req.der'));
    for (let i = 0; i < 2; i++) {
      const o = await request(`${svc.url}/ocsp`, {
        ca: root,
        headers: { 'content-type': 'application/ocsp-request' },
        body: der,
      });
      assert.equal(o.status, 200);
      assert.equal(o.headers['content-type'], 'application/ocsp-response');
      assert.match(String(o.headers['cache-control']), /max-age=\d+, public, no-transform, must-revalidate/);
    }
    await request(`${svc.url}/ocsp`, {
      ca: root,
      headers: { 'content-type': 'application/ocsp-request' },
      body: 'x',
    });

    const m = (await request(`${svc.url}/metrics`, { ca: root })).text;
    const value = (re: RegExp) => Number(re.exec(m)?.[1] ?? Number.NaN);
    assert.equal(value(/^fleetpki_issuance_total\{profile="device",result="issued"\} (\d+)$/m), 1);
    assert.equal(value(/^fleetpki_issuance_total\{profile="device",result="refused"\} (\d+)$/m), 1);
    assert.equal(value(/^fleetpki_issuance_duration_seconds_count\{result="issued"\} (\d+)$/m), 1);
    assert.equal(value(/^fleetpki_ocsp_requests_total\{method="POST"\} (\d+)$/m), 3);
    assert.equal(
      value(/^fleetpki_ocsp_responses_total\{status="successful",source="responder"\} (\d+)$/m),
      1,
    );
    assert.equal(value(/^fleetpki_ocsp_responses_total\{status="successful",source="front"\} (\d+)$/m), 1);
    assert.equal(
      value(/^fleetpki_ocsp_responses_total\{status="malformedRequest",source="responder"\} (\d+)$/m),
      1,
    );
    assert.equal(value(/^fleetpki_http_errors_total\{code="unauthorized",status="401"\} (\d+)$/m), 1);
    assert.equal(value(/^fleetpki_http_errors_total\{code="malformed-csr",status="400"\} (\d+)$/m), 1);
    assert.ok(
      value(/^fleetpki_store_operation_duration_seconds_count\{op="complete",result="ok"\} (\d+)$/m) >= 3,
    );
    assert.ok(value(/^fleetpki_ca_signatures_total (\d+)$/m) >= 5, 'certificates, CRLs and OCSP signed');
    assert.equal(value(/^fleetpki_requests_in_flight (\d+)$/m), 0);
    assert.match(m, /^fleetpki_process_cpu_user_seconds_total /m);
  });

  test('the TLS certificate is renewed without a restart; new connections get the new one', async () => {
    const svc = await startService(fresh());
    services.push(svc);
    const root = readFileSync(svc.rootPath, 'utf8');
    const first = await serverSerial(svc.port, root);
    const renewed = await svc.renewTlsCertificate();
    const second = await serverSerial(svc.port, root);
    assert.notEqual(first, second);
    assert.equal(second, renewed.serialHex.replace(/^0+/, ''));
    assert.equal((await request(`${svc.url}/healthz`, { ca: root })).status, 200);
  });

  test('shutdown with issuances in flight: all finish, and every certificate a client got is stored', async () => {
    const dir = fresh();
    const svc = await startService(dir);
    const root = readFileSync(svc.rootPath, 'utf8');
    const token = readFileSync(svc.admin.tokenPath, 'utf8').trim();
    const csrs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        makeCsr({ subject: `CN=device-drain-${i}` }).then((c) => encodePem('CERTIFICATE REQUEST', c.der)),
      ),
    );
    const answers = csrs.map((csr) =>
      api(svc.url, '/api/v1/certificates', { token, ca: root, json: { csr, profile: 'device' } }).then(
        (r): HttpResponse | Error => r,
        (e: Error) => e,
      ),
    );
    // Close as soon as the Authority is working on at least one of them.
    for (let i = 0; i < 2000 && svc.authority.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 1));
    assert.ok(svc.authority.inFlight > 0, 'an issuance is in flight');
    await svc.close();
    const results = await Promise.all(answers);
    const serials: string[] = [];
    for (const r of results) {
      if (r instanceof Error) {
        assert.match(String((r as NodeJS.ErrnoException).code), /ECONNREFUSED|ECONNRESET|EPIPE/, r.message);
        continue;
      }
      if (r.status === 503) {
        assert.match(r.text, /shutting-down|closed|Service Unavailable/);
        continue;
      }
      assert.equal(r.status, 201, r.text);
      const b = IssueResponse.parse(r.json());
      if (b.status === 'issued') serials.push(b.certificate.serial);
    }
    assert.ok(serials.length >= 1, 'the issuance in flight finished');
    const store = await openStore(`sqlite:${join(dir, 'data', 'fleetpki.db')}`);
    try {
      for (const s of serials) {
        const rec = (await store.findBySerial(s))[0];
        assert.equal(rec?.state, 'issued', `certificate ${s} is stored`);
      }
      assert.equal(
        (await store.unresolvedReservations(Date.now() + 1, 10)).length,
        0,
        'no reservation left open',
      );
    } finally {
      await store.close();
    }
  });
});

describe('extensions: routes with their own credential kind (the EST and dashboard plug point)', () => {
  test('a route in another credential set takes only that credential; unknown sets never open a route', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetpki-ext-'));
    const svc = await Service.start({
      dataDir: join(dir, 'data'),
      port: 0,
      env: { FLEETPKI_PASSPHRASE: 'extension test passphrase' },
      logDestination: quiet(),
      extensions: [
        {
          name: 'probe',
          async register(app, ctx) {
            ctx.auth.define('probe', {
              method: 'probe-header',
              authenticate: (req) =>
                req.headers['x-probe'] === 'letmein'
                  ? { method: 'probe-header', id: 'p1', requester: 'est:probe' }
                  : undefined,
            });
            app.get('/.well-known/est/probe', { config: { auth: 'probe' } }, async (req) => ({
              requester: req.principal?.requester,
            }));
            app.get('/.well-known/est/typo', { config: { auth: 'no-such-set' } }, async () => ({
              open: true,
            }));
          },
        },
      ],
    });
    try {
      const root = readFileSync(svc.rootPath, 'utf8');
      const token = readFileSync(svc.admin.tokenPath, 'utf8').trim();
      const url = `${svc.url}/.well-known/est/probe`;
      assert.equal((await request(url, { ca: root })).status, 401);
      assert.equal(
        (await request(url, { ca: root, headers: { authorization: `Bearer ${token}` } })).status,
        401,
      );
      const ok = await request(url, { ca: root, headers: { 'x-probe': 'letmein' } });
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.json(), { requester: 'est:probe' });
      // The admin API does not take the extension's credential.
      assert.equal(
        (await request(`${svc.url}/api/v1/cas`, { ca: root, headers: { 'x-probe': 'letmein' } })).status,
        401,
      );
      const typo = await request(`${svc.url}/.well-known/est/typo`, {
        ca: root,
        headers: { 'x-probe': 'letmein' },
      });
      assert.equal(typo.status, 500);
      assert.ok(!typo.text.includes('open'));
    } finally {
      await svc.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('log scrubbing', () => {
  const secrets = new SecretSet();
  secrets.add('hunter2-passphrase');
  secrets.add('p@ss w/rd');
  const rows: { name: string; input: string; absent: string[] }[] = [
    {
      name: 'a known secret, verbatim',
      input: '{"msg":"x hunter2-passphrase y"}',
      absent: ['hunter2-passphrase'],
    },
    {
      name: 'a known secret, URL-encoded',
      input: 'postgres://u:p%40ss%20w%2Frd@h/db',
      absent: ['p%40ss%20w%2Frd'],
    },
    {
      name: 'any URL userinfo password',
      input: '"connect postgres://fleet:s3cretpw@127.0.0.1:5432/fleet failed"',
      absent: ['s3cretpw'],
    },
    {
      name: 'a Bearer header value',
      input: 'authorization: Bearer abcdefghijklmnop',
      absent: ['abcdefghijklmnop'],
    },
    {
      name: 'our token format',
      input: `token fpk_0123456789abcdef_${'Z'.repeat(43)}`,
      absent: ['Z'.repeat(43)],
    },
    {
      name: 'a PEM private key (escaped newlines, as in JSON)',
      input: '"-----BEGIN PRIVATE KEY-----\\nMIGHAgEAMBMGByqGSM49\\n-----END PRIVATE KEY-----"',
      absent: ['MIGHAgEAMBMGByqGSM49'],
    },
  ];
  for (const r of rows)
    test(r.name, () => {
      const out = secrets.scrub(r.input);
      for (const a of r.absent) assert.ok(!out.includes(a), out);
      assert.ok(out.includes('[REDACTED]'), out);
    });
  test('redactUrl keeps the URL usable for humans', () => {
    assert.equal(
      redactUrl('postgres://fleet:pw@db.example:5432/fleet'),
      'postgres://fleet:REDACTED@db.example:5432/fleet',
    );
    assert.equal(redactUrl('sqlite:/var/lib/fleetpki/fleetpki.db'), 'sqlite:/var/lib/fleetpki/fleetpki.db');
  });
});
