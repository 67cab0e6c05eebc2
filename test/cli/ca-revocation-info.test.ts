// `fleetpki ca init --crl-url --ocsp-url` records the URLs in DIR/config.yaml and `ca sign` puts them into
// the certificates the intermediate issues (checked with our parser and `openssl x509 -text`).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { OID } from '../../src/der/index.js';
import { parseCertificate } from '../../src/x509/index.js';
import { fleetpki, openssl } from './pki-cli.js';

let dir: string;
const env = { FLEETPKI_PASSPHRASE: 'ca-pass-2' };
const CRL = 'http://127.0.0.1:8888/crl/intermediate.crl';
const OCSP = 'http://127.0.0.1:8888/ocsp';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetpki-cli-ca-urls-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function csr(name: string, cn: string): void {
  assert.equal(
    openssl(
      ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`],
      dir,
    ).code,
    0,
  );
  assert.equal(
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir).code,
    0,
  );
}

describe('fleetpki ca: CRL and OCSP URLs', () => {
  test('init --crl-url --ocsp-url stores them in config.yaml', async () => {
    const r = await fleetpki(['ca', 'init', '--dir', 'ca', '--crl-url', CRL, '--ocsp-url', OCSP, '--json'], {
      cwd: dir,
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).crlUrls, [CRL]);
    const config = parseYaml(readFileSync(join(dir, 'ca/config.yaml'), 'utf8'));
    assert.deepEqual(config.urls, { crl: [CRL], ocsp: [OCSP] });
  });

  test('sign puts cRLDistributionPoints and AIA OCSP into a device certificate', async () => {
    csr('dev', 'device-url');
    const r = await fleetpki(
      ['ca', 'sign', '--dir', 'ca', '--csr', 'dev.csr', '--profile', 'device', '--out', 'dev.crt'],
      {
        cwd: dir,
        env,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const c = parseCertificate(readFileSync(join(dir, 'dev.crt'), 'utf8'));
    assert.deepEqual(c.cRLDistributionPoints?.[0]?.distributionPoint?.fullName, [
      { type: 'uniformResourceIdentifier', value: CRL },
    ]);
    assert.deepEqual(c.authorityInfoAccess, [
      { accessMethod: OID.ocsp, accessLocation: { type: 'uniformResourceIdentifier', value: OCSP } },
    ]);
    const t = openssl(['x509', '-in', 'dev.crt', '-noout', '-text'], dir);
    assert.equal(t.code, 0, t.stderr);
    assert.ok(t.stdout.includes(`URI:${CRL}`), t.stdout);
    assert.ok(t.stdout.includes(`OCSP - URI:${OCSP}`), t.stdout);
    const v = openssl(
      ['verify', '-x509_strict', '-CAfile', 'ca/root.crt', '-untrusted', 'ca/intermediate.crt', 'dev.crt'],
      dir,
    );
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  test('an intermediate signed by the root does not get the intermediate’s URLs', async () => {
    csr('sub', 'Sub CA');
    const r = await fleetpki(
      ['ca', 'sign', '--dir', 'ca', '--csr', 'sub.csr', '--profile', 'intermediate', '--out', 'sub.crt'],
      { cwd: dir, env },
    );
    assert.equal(r.code, 0, r.stderr);
    const c = parseCertificate(readFileSync(join(dir, 'sub.crt'), 'utf8'));
    assert.equal(c.extension(OID.cRLDistributionPoints), undefined);
    assert.equal(c.extension(OID.authorityInfoAccess), undefined);
  });

  const bad: [string, string[]][] = [
    ['file: CRL URL', ['--crl-url', 'file:///tmp/x.crl']],
    ['OCSP URL without host', ['--ocsp-url', 'http:///ocsp']],
  ];
  for (const [name, args] of bad) {
    test(`init refuses a bad URL (${name}): exit 2, nothing written`, async () => {
      const r = await fleetpki(['ca', 'init', '--dir', `bad-${name.length}`, ...args], { cwd: dir, env });
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, /--(crl|ocsp)-url/);
      assert.throws(() => readFileSync(join(dir, `bad-${name.length}`, 'config.yaml')));
    });
  }
});
