// Differential test: random chains (validity, basicConstraints, pathLenConstraint, name
// constraints, SANs, EKU) built with fleetpki's builders are verified by fleetpki, by
// `openssl verify -x509_strict` and by Go's crypto/x509 (bench/go/goverify). Every verdict must
// agree; a disagreement is a bug here or needs a documented exception in KNOWN below.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CertificateBuilder, Issuer } from '../../src/build/index.js';
import { generateKeyPair, type KeyPair, KeySigner } from '../../src/crypto/index.js';
import { profilePolicy, verifyPathSync } from '../../src/verify/index.js';
import { Name } from '../../src/x509/name.js';
import { goVerifier, run, tempDir } from '../interop/helpers.js';

const NOW = Date.parse('2030-06-01T00:00:00Z');
const DAY = 86_400_000;
const CHAINS = 30;

/** mulberry32: a small seeded PRNG so that a failing chain can be rebuilt. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Shape {
  intIsCa: boolean;
  intPathLen: number | null;
  secondInt: boolean;
  nc: boolean;
  sanInside: boolean;
  leafTime: 'valid' | 'expired' | 'future';
  leafEku: 'server' | 'client';
  purpose: 'server' | 'client';
}

function shape(r: () => number): Shape {
  return {
    intIsCa: r() > 0.15,
    intPathLen: r() > 0.5 ? 0 : null,
    secondInt: r() > 0.6,
    nc: r() > 0.5,
    sanInside: r() > 0.4,
    leafTime: r() > 0.8 ? 'expired' : r() > 0.9 ? 'future' : 'valid',
    leafEku: r() > 0.5 ? 'server' : 'client',
    purpose: r() > 0.3 ? 'server' : 'client',
  };
}

/** Documented disagreements: none so far. */
const KNOWN: Record<string, string> = {};

describe('differential: fleetpki vs openssl verify vs Go crypto/x509', () => {
  const tmp = tempDir('verify-diff');
  let keys: KeyPair[];
  let go: string;
  before(async () => {
    keys = await Promise.all(Array.from({ length: 4 }, () => generateKeyPair('ec-p256')));
    go = await goVerifier();
  });
  after(() => tmp.remove());

  for (let n = 0; n < CHAINS; n++)
    it(`chain ${n}`, async () => {
      const s = shape(prng(1000 + n));
      const [rk, ik, i2k, lk] = keys;
      const rs = await KeySigner.create(rk!.privateKey);
      const root = await new CertificateBuilder('root')
        .subject(`CN=Diff Root ${n}`)
        .notBefore(NOW - 400 * DAY)
        .notAfter(NOW + 400 * DAY)
        .sign(rs);
      const rootIssuer = Issuer.fromCertificate(root.certificate, rs);
      const intName = `CN=Diff CA ${n}`;
      let ib = s.intIsCa
        ? new CertificateBuilder('intermediate').pathLenConstraint(s.intPathLen)
        : new CertificateBuilder('device');
      ib = ib
        .subject(intName)
        .publicKey(ik!.publicKey)
        .issuer(rootIssuer)
        .notBefore(NOW - 300 * DAY)
        .notAfter(NOW + 300 * DAY);
      if (s.nc && s.intIsCa)
        ib = ib.nameConstraints({
          permittedSubtrees: [{ base: { type: 'dNSName', value: 'fleet.example' }, minimum: 0 }],
        });
      const int = await ib.sign();
      // Sign below the intermediate with its key even when it is not a CA (the case to reject).
      let parent = Issuer.selfSigned(Name.parse(intName), await KeySigner.create(ik!.privateKey));
      const pems = [int.toPem()];
      if (s.secondInt) {
        const int2 = await new CertificateBuilder('intermediate')
          .subject(`CN=Diff Sub CA ${n}`)
          .publicKey(i2k!.publicKey)
          .issuer(parent)
          .pathLenConstraint(null)
          .notBefore(NOW - 200 * DAY)
          .notAfter(NOW + 200 * DAY)
          .sign();
        pems.push(int2.toPem());
        parent = Issuer.selfSigned(
          Name.parse(`CN=Diff Sub CA ${n}`),
          await KeySigner.create(i2k!.privateKey),
        );
      }
      const host = s.sanInside ? `dev${n}.fleet.example` : `dev${n}.other.example`;
      const nb = s.leafTime === 'future' ? NOW + 10 * DAY : NOW - 100 * DAY;
      const na = s.leafTime === 'expired' ? NOW - 10 * DAY : NOW + 100 * DAY;
      const leaf = await new CertificateBuilder(s.leafEku === 'server' ? 'server' : 'device')
        .subject(`CN=Diff Leaf ${n}`)
        .publicKey(lk!.publicKey)
        .issuer(parent)
        .subjectAltName([`dns:${host}`])
        .notBefore(nb)
        .notAfter(na)
        .sign();

      const ours = verifyPathSync({
        leaf: leaf.certificate,
        intermediates: pems,
        trustAnchors: [root.certificate],
        time: NOW,
        hostname: host,
        policy: profilePolicy('rfc5280', { purpose: s.purpose === 'server' ? 'serverAuth' : 'clientAuth' }),
      });
      const rootF = tmp.file(`root${n}.pem`, root.toPem());
      const intF = tmp.file(`int${n}.pem`, pems.join(''));
      const leafF = tmp.file(`leaf${n}.pem`, leaf.toPem());
      const ossl = run('openssl', [
        'verify',
        '-x509_strict',
        '-attime',
        String(Math.floor(NOW / 1000)),
        '-purpose',
        s.purpose === 'server' ? 'sslserver' : 'sslclient',
        '-verify_hostname',
        host,
        '-CAfile',
        rootF,
        '-untrusted',
        intF,
        leafF,
      ]);
      const g = run(go, [
        '-roots',
        rootF,
        '-intermediates',
        intF,
        '-eku',
        s.purpose,
        '-dns',
        host,
        '-time',
        new Date(NOW).toISOString(),
        leafF,
      ]);
      const verdicts = {
        fleetpki: ours.ok ? 'valid' : `invalid (${ours.code})`,
        openssl:
          ossl.code === 0
            ? 'valid'
            : `invalid (${(ossl.stdout + ossl.stderr).match(/error \d+ at \d+ depth lookup: ([^\n]*)/)?.[1] ?? ossl.code})`,
        go: g.code === 0 ? 'valid' : `invalid (${g.stdout.trim()})`,
      };
      const agree = (a: string, b: string) => a.startsWith('valid') === b.startsWith('valid');
      const msg = `${JSON.stringify(s)}\n${JSON.stringify(verdicts, null, 1)}`;
      if (process.env.FLEETPKI_DIFF_DEBUG) console.log(n, verdicts.fleetpki, verdicts.openssl);
      if (KNOWN[`chain ${n}`]) return;
      assert.ok(agree(verdicts.fleetpki, verdicts.openssl), `openssl disagrees: ${msg}`);
      assert.ok(agree(verdicts.fleetpki, verdicts.go), `Go disagrees: ${msg}`);
    });
});
