// verifyPath on an asynchronous-only provider (WebCrypto, as in browsers and edge runtimes):
// signatures are deferred during path building and settled per candidate path. The public
// suites must give the same verdicts as with node:crypto, except where WebCrypto lacks the
// algorithm (DSA: PKITS 4.1.4/4.1.5 become unsupported-algorithm).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type CaseResult,
  loadLimbo,
  loadPkits,
  runLimboCase,
  runPkitsCase,
} from '../../scripts/conformance-lib.js';
import { webCrypto } from '../../src/crypto/index.js';
import { verifyPathSync } from '../../src/verify/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const divergences = new Set<string>(
  JSON.parse(readFileSync(join(root, 'conformance/divergences.json'), 'utf8')).divergences.map(
    (d: { suite: string; id: string }) => `${d.suite} ${d.id}`,
  ),
);
const WEBCRYPTO_LACKS = new Set(['pkits 4.1.4', 'pkits 4.1.5']);
const unexpected = (suite: string, rs: CaseResult[]) =>
  rs
    .filter(
      (r) =>
        r.verdict === 'fail' &&
        !divergences.has(`${suite} ${r.id}`) &&
        !WEBCRYPTO_LACKS.has(`${suite} ${r.id}`),
    )
    .map((r) => `${r.id}: expected ${r.expected}, got ${r.got}`);

describe('verifyPath with the WebCrypto provider (deferred signatures)', () => {
  it('x509-limbo: every non-BetterTLS case and every 32nd BetterTLS case', async () => {
    let n = 0;
    const cases = loadLimbo(join(root, '../shared/testdata/x509-limbo/limbo.json')).filter(
      (c) => !c.id.startsWith('bettertls::') || n++ % 32 === 0,
    );
    const results: CaseResult[] = [];
    for (const c of cases) results.push(await runLimboCase(c, 'own', webCrypto));
    assert.deepEqual(unexpected('limbo', results), []);
    assert.ok(results.length > 400);
  });

  it('NIST PKITS: every run (DSA excepted)', async () => {
    const { manifest, dir } = loadPkits(join(root, '../shared/testdata/pkits'));
    const results: CaseResult[] = [];
    for (const t of manifest.tests) results.push(await runPkitsCase(t, dir, manifest, webCrypto));
    assert.deepEqual(unexpected('pkits', results), []);
    const dsa = results.filter((r) => WEBCRYPTO_LACKS.has(`pkits ${r.id}`));
    assert.ok(
      dsa.every((r) => r.got?.includes('unsupported-algorithm')),
      JSON.stringify(dsa),
    );
  });

  it('verifyPathSync refuses an asynchronous provider with a typed result', () => {
    const cert = (n: string) =>
      new Uint8Array(readFileSync(join(root, `../shared/testdata/pkits/certs/${n}.crt`)));
    const r = verifyPathSync({
      leaf: cert('ValidCertificatePathTest1EE'),
      intermediates: [cert('GoodCACert')],
      trustAnchors: [cert('TrustAnchorRootCertificate')],
      time: Date.parse('2021-01-01T00:00:00Z'),
      policy: 'rfc5280',
      crypto: webCrypto,
    });
    assert.equal(r.ok ? 'ok' : r.code, 'invalid-input');
  });
});
