// `fleetpki inspect` on OCSP requests and responses made by OpenSSL's own responder (file mode):
// the status, reason and times we show equal what `openssl ocsp -resp_text` says.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliError } from '../../src/cli/errors.js';
import { InspectDocumentSchema } from '../../src/cli/inspect/schema.js';
import { inspectFile } from '../../src/cli/inspect.js';

/** The --json document, checked against the published schema (schemas/inspect.schema.json). */
// biome-ignore lint/suspicious/noExplicitAny: the tests read fields by name.
const conforming = (text: string): { objects: any[] } => InspectDocumentSchema.parse(JSON.parse(text));

const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function ocsp(cert: string, name: string): void {
  run('openssl', ['ocsp', '-issuer', 'int.pem', '-cert', cert, '-no_nonce', '-reqout', `${name}.req`]);
  run('openssl', [
    'ocsp',
    '-index',
    'index.txt',
    '-rsigner',
    'ocsp.pem',
    '-rkey',
    'ocsp.key',
    '-CA',
    'int.pem',
    '-reqin',
    `${name}.req`,
    '-respout',
    `${name}.resp`,
    '-nmin',
    '5',
  ]);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-inspect-ocsp-'));
  execFileSync('bash', [join(root, '../shared/peers/gen-test-pki.sh'), dir], { stdio: 'ignore' });
  ocsp('device.pem', 'good');
  ocsp('revoked.pem', 'revoked');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('inspect: OCSP', () => {
  it('a good response: status, responder, certID serial as OpenSSL reads it', () => {
    const o = conforming(inspectFile(join(dir, 'good.resp'), { json: true })).objects[0]!;
    assert.equal(o.type, 'ocsp-response');
    assert.equal(o.responseStatus, 'successful');
    assert.equal(o.responses[0].certStatus, 'good');
    const serial = run('openssl', ['x509', '-in', join(dir, 'device.pem'), '-noout', '-serial'])
      .trim()
      .split('=')[1]!;
    assert.equal(
      o.responses[0].certId.serialNumber.replace(/:/g, '').toUpperCase(),
      serial.replace(/^0+/, ''),
    );
    assert.match(o.responderId, /CN=/);
  });

  it('a revoked response carries the reason and time OpenSSL prints', () => {
    const o = conforming(inspectFile(join(dir, 'revoked.resp'), { json: true })).objects[0]!;
    const r = o.responses[0];
    assert.equal(r.certStatus, 'revoked');
    assert.equal(r.revocationReason, 'keyCompromise');
    const text = run('openssl', ['ocsp', '-respin', join(dir, 'revoked.resp'), '-resp_text', '-noverify']);
    const when = /Revocation Time: (.+)/.exec(text)![1]!;
    assert.equal(Date.parse(r.revocationTime), Date.parse(when));
    const shown = inspectFile(join(dir, 'revoked.resp'), {});
    assert.match(shown, /Cert Status: revoked/);
    assert.match(shown, /Revocation Reason: keyCompromise/);
  });

  it('a request shows its CertID', () => {
    const o = conforming(inspectFile(join(dir, 'good.req'), { json: true })).objects[0]!;
    assert.equal(o.type, 'ocsp-request');
    assert.equal(o.requests.length, 1);
    assert.equal(o.requests[0].certId.hashAlgorithm, 'SHA-1');
    assert.equal(o.signed, false);
  });

  it('a truncated response is a one-line decode error', () => {
    const f = join(dir, 'cut.resp');
    execFileSync('bash', [
      '-c',
      `head -c 40 ${JSON.stringify(join(dir, 'good.resp'))} > ${JSON.stringify(f)}`,
    ]);
    assert.throws(
      () => inspectFile(f, {}),
      (e: unknown) => e instanceof CliError && /truncated/.test(e.message),
    );
  });
});
