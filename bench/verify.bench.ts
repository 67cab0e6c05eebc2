// `npm run bench -- verify`: chains/s for a 3-certificate ECDSA P-256 chain (root → issuing CA →
// server leaf) at a fixed time, next to the raw crypto.verify limit (2 verifications per chain),
// pkijs' CertificateChainValidationEngine and Go's crypto/x509 (bench/go/verifybench).
// node-forge verifies RSA chains only, so it has no row for this EC chain.
// Also times the pathological inputs of issue 4 (goal: each ends in < 100 ms).
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import { generateKeyPair, KeySigner } from '../src/crypto/index.js';
import { CertificateBuilder, Issuer } from '../src/issue/index.js';
import {
  CertificateCache,
  profilePolicy,
  SignatureCache,
  type VerifyInputs,
  verifyPathSync,
} from '../src/verify/index.js';
import { type Certificate, parseCertificate } from '../src/x509/certificate.js';
import { Name } from '../src/x509/name.js';
import { type BenchResult, buildGoTool, external, measure, printTable, writeResults } from './harness.js';

const NOW = Date.parse('2030-06-01T00:00:00Z');
const DAY = 86_400_000;

const rootKey = await generateKeyPair('ec-p256');
const rootSigner = await KeySigner.create(rootKey.privateKey);
const root = await new CertificateBuilder('root')
  .subject('CN=Bench Root,O=fleetpki')
  .notBefore(NOW - 100 * DAY)
  .notAfter(NOW + 100 * DAY)
  .sign(rootSigner);
const rootIssuer = Issuer.fromCertificate(root.certificate, rootSigner);
const intKey = await generateKeyPair('ec-p256');
const int = await new CertificateBuilder('intermediate')
  .subject('CN=Bench Issuing CA,O=fleetpki')
  .publicKey(intKey.publicKey)
  .issuer(rootIssuer)
  .notBefore(NOW - 50 * DAY)
  .notAfter(NOW + 50 * DAY)
  .sign();
const intIssuer = Issuer.fromCertificate(int.certificate, await KeySigner.create(intKey.privateKey));
const leafKey = await generateKeyPair('ec-p256');
const leaf = await new CertificateBuilder('server')
  .subject('CN=broker')
  .publicKey(leafKey.publicKey)
  .issuer(intIssuer)
  .subjectAltName(['dns:broker.example.com'])
  .notBefore(NOW - DAY)
  .notAfter(NOW + 10 * DAY)
  .sign();

const rootDer = root.certificate.der;
const intDer = int.certificate.der;
const leafDer = leaf.certificate.der;
const policy = profilePolicy('iot', { purpose: 'serverAuth' });
const results: BenchResult[] = [];

// The physical limit: two ECDSA verifications per chain with pre-imported keys.
{
  const rootPub = createPublicKey({
    key: Buffer.from(rootDer.length ? root.certificate.subjectPublicKeyInfo.der : []),
    format: 'der',
    type: 'spki',
  });
  const intPub = createPublicKey({
    key: Buffer.from(int.certificate.subjectPublicKeyInfo.der),
    format: 'der',
    type: 'spki',
  });
  const li = leaf.certificate;
  const ic = int.certificate;
  results.push(
    await measure('raw crypto.verify ×2', () => {
      if (!nodeVerify('sha256', li.tbs, intPub, li.signatureValue)) throw new Error('leaf');
      if (!nodeVerify('sha256', ic.tbs, rootPub, ic.signatureValue)) throw new Error('int');
    }),
  );
}

const check = (ok: boolean) => {
  if (!ok) throw new Error('chain did not verify');
};
// Each fleetpki row: one verifyPathSync per iteration with the given inputs and caches.
type Row = Partial<VerifyInputs>;
const ours = (name: string, row: Row) =>
  measure(name, () =>
    check(
      verifyPathSync({
        leaf: leafDer,
        intermediates: [intDer],
        trustAnchors: [rootDer],
        time: NOW,
        policy,
        hostname: 'broker.example.com',
        ...row,
      }).ok,
    ),
  );
const [l, i, r] = [leafDer, intDer, rootDer].map((d) => parseCertificate(d)) as [
  Certificate,
  Certificate,
  Certificate,
];
results.push(await ours('fleetpki (parse each time)', {}));
results.push(
  await ours('fleetpki (parse each time, signature cache)', { signatureCache: new SignatureCache() }),
);
// DER in, as a TLS server receives it, with both shared caches (each distinct certificate parsed
// once, each distinct signature verified once).
results.push(
  await ours('fleetpki (DER in, certificate + signature caches)', {
    signatureCache: new SignatureCache(),
    certificateCache: new CertificateCache(),
  }),
);
results.push(await ours('fleetpki (pre-parsed)', { leaf: l, intermediates: [i], trustAnchors: [r] }));
// Only the leaf is new per connection: intermediates/anchors parsed once, signatures cached.
results.push(
  await ours('fleetpki (leaf parsed, CA certs pre-parsed, cache)', {
    intermediates: [i],
    trustAnchors: [r],
    hostname: undefined,
    signatureCache: new SignatureCache(),
  }),
);

// pkijs: parse each time, as a relying party receiving DER does.
{
  const toAb = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  const abs = [toAb(rootDer), toAb(intDer), toAb(leafDer)];
  results.push(
    await measure(
      'pkijs CertificateChainValidationEngine',
      async () => {
        const [r, i, l] = abs.map((a) => pkijs.Certificate.fromBER(a));
        const engine = new pkijs.CertificateChainValidationEngine({
          trustedCerts: [r!],
          certs: [l!, i!],
          checkDate: new Date(NOW),
        });
        const res = await engine.verify();
        if (!res.result) throw new Error(`pkijs: ${res.resultMessage}`);
      },
      { durationMs: 1500 },
    ),
  );
}
results.push(
  external(
    'node-forge',
    Number.NaN,
    'n/a: verifyCertificateChain supports RSA only; this chain is ECDSA P-256',
  ),
);

// Go crypto/x509 via bench/go/verifybench.
const tmp = mkdtempSync(join(tmpdir(), 'fleetpki-bench-verify-'));
try {
  const bin = await buildGoTool('verifybench');
  writeFileSync(join(tmp, 'root.pem'), root.toPem());
  writeFileSync(join(tmp, 'int.pem'), int.toPem());
  writeFileSync(join(tmp, 'leaf.pem'), leaf.toPem());
  const r = spawnSync(
    bin,
    [
      '-root',
      join(tmp, 'root.pem'),
      '-intermediate',
      join(tmp, 'int.pem'),
      '-leaf',
      join(tmp, 'leaf.pem'),
      '-time',
      new Date(NOW).toISOString(),
      '-eku',
      'server',
      '-duration',
      '1s',
    ],
    { encoding: 'utf8' },
  );
  if (r.status === 0) {
    const j = JSON.parse(r.stdout);
    results.push(external('go crypto/x509 (parse each time)', j.parseAndVerifyPerSec, j.go));
    results.push(external('go crypto/x509 (pre-parsed)', j.preParsedPerSec, j.go));
  } else
    results.push(
      external('go crypto/x509', Number.NaN, `verifybench failed: ${r.stderr || r.stdout}`.slice(0, 120)),
    );
} catch (e) {
  results.push(external('go crypto/x509', Number.NaN, `not run: ${(e as Error).message}`.slice(0, 120)));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const table = printTable(
  'verify: 3-certificate ECDSA P-256 chain (chains/s)',
  results,
  'raw crypto.verify ×2',
  'chains/s',
);

// ---- pathological inputs (time to a verdict) ----
const patho: Record<string, { ms: number; coldMs: number; code: string }> = {};
/** First (JIT-cold) run, then the median of five more. */
function timeVerdict(f: () => ReturnType<typeof verifyPathSync>): {
  ms: number;
  coldMs: number;
  code: string;
} {
  const times: number[] = [];
  let code = '';
  for (let k = 0; k < 6; k++) {
    const t0 = performance.now();
    const r = f();
    times.push(performance.now() - t0);
    code = r.ok ? 'valid' : r.code;
  }
  return { coldMs: times[0]!, ms: times.slice(1).sort((a, b) => a - b)[2]!, code };
}
{
  const n = 500;
  const keys = await Promise.all(Array.from({ length: n }, () => generateKeyPair('ec-p256')));
  const signers = await Promise.all(keys.map((k) => KeySigner.create(k.privateKey)));
  const subject = Name.parse('CN=Mesh CA,O=fleetpki');
  const issuers = signers.map((s) => Issuer.selfSigned(subject, s));
  const certs: Certificate[] = [];
  for (let j = 0; j < n; j++)
    for (const d of [1, 7])
      certs.push(
        new CertificateBuilder('intermediate')
          .subject(subject)
          .publicKey(keys[j]!.publicKey)
          .issuer(issuers[(j + d) % n]!)
          .pathLenConstraint(null)
          .notBefore(NOW - DAY)
          .notAfter(NOW + DAY)
          .signSync().certificate,
      );
  const meshLeaf = new CertificateBuilder('server')
    .subject('CN=leaf')
    .publicKey(leafKey.publicKey)
    .issuer(issuers[0]!)
    .subjectAltName(['dns:leaf.example.com'])
    .notBefore(NOW - DAY)
    .notAfter(NOW + DAY)
    .signSync().certificate;
  patho['mesh of 500 cross-signed intermediates (1000 certs, one subject)'] = timeVerdict(() =>
    verifyPathSync({
      purpose: 'serverAuth',
      leaf: meshLeaf,
      intermediates: certs,
      trustAnchors: [root.certificate],
      time: NOW,
    }),
  );
}
{
  const permitted = Array.from({ length: 1024 }, (_, k) => ({
    base: { type: 'dNSName' as const, value: `p${k}.example` },
    minimum: 0,
  }));
  const excluded = Array.from({ length: 1024 }, (_, k) => ({
    base: { type: 'dNSName' as const, value: `x${k}.example` },
    minimum: 0,
  }));
  const caKey = await generateKeyPair('ec-p256');
  const ca = await new CertificateBuilder('intermediate')
    .subject('CN=Many Constraints')
    .publicKey(caKey.publicKey)
    .issuer(rootIssuer)
    .pathLenConstraint(null)
    .nameConstraints({ permittedSubtrees: permitted, excludedSubtrees: excluded })
    .notBefore(NOW - DAY)
    .notAfter(NOW + DAY)
    .sign();
  const caIssuer = Issuer.fromCertificate(ca.certificate, await KeySigner.create(caKey.privateKey));
  const ncLeaf = await new CertificateBuilder('server')
    .subject('CN=many')
    .publicKey(leafKey.publicKey)
    .issuer(caIssuer)
    .subjectAltName(Array.from({ length: 1024 }, (_, k) => `dns:h${k}.p${k}.example`))
    .notBefore(NOW - DAY)
    .notAfter(NOW + DAY)
    .sign();
  patho['1024 permitted + 1024 excluded subtrees vs 1024 SANs'] = timeVerdict(() =>
    verifyPathSync({
      purpose: 'serverAuth',
      leaf: ncLeaf.certificate,
      intermediates: [ca.certificate],
      trustAnchors: [root.certificate],
      time: NOW,
    }),
  );
}
console.log('\npathological inputs (time to a verdict; goal < 100 ms):');
for (const [k, v] of Object.entries(patho))
  console.log(`  ${k}: ${v.ms.toFixed(1)} ms (first run ${v.coldMs.toFixed(1)} ms) → ${v.code}`);

writeResults('verify', { results, pathological: patho, table });
