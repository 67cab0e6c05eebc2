// Child process of bench/ocsp.bench.ts: one CRL measurement per process so that peak RSS
// (process.resourceUsage().maxRSS) belongs to that measurement alone.
//   node --import tsx bench/crl-1m-worker.ts build|parse-fleetpki|parse-fleetpki-lookup|parse-pkijs DIR N
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { importPrivateKey, KeySigner } from '../src/crypto/index.js';
import { CrlPublisher } from '../src/revocation/crl-publisher.js';
import type { RevokedSerial, StatusSource } from '../src/revocation/status-source.js';
import { parseCertificate, parseCrl } from '../src/x509/index.js';

const [mode, dir, nText] = process.argv.slice(2);
const n = Number(nText);
const file = join(dir!, `crl-${n}.der`);
const out = (o: Record<string, unknown>) =>
  console.log(JSON.stringify({ ...o, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));

if (mode === 'build') {
  // 16-byte serials as a CA using random serials issues them (CA/B BR §7.1: ≥ 64 bits of entropy).
  const entries: RevokedSerial[] = new Array(n);
  const t0base = Date.parse('2030-01-01T00:00:00Z');
  const reasons = ['keyCompromise', 'superseded', 'cessationOfOperation', 'unspecified'] as const;
  for (let i = 0; i < n; i++) {
    const s = new Uint8Array(16);
    s[0] = 0x10 + (i % 0x60);
    s[12] = i >>> 24;
    s[13] = (i >>> 16) & 0xff;
    s[14] = (i >>> 8) & 0xff;
    s[15] = i & 0xff;
    entries[i] = { serialNumber: s, revocationTime: t0base + (i % 86_400) * 1000, reason: reasons[i % 4] };
  }
  const source: StatusSource = { lookup: () => undefined, revoked: () => entries };
  const pub = await CrlPublisher.create({
    issuers: [
      {
        id: 'int',
        certificate: parseCertificate(readFileSync(join(dir!, 'int.pem'), 'utf8')),
        signer: await KeySigner.create(await importPrivateKey(readFileSync(join(dir!, 'int.key'), 'utf8'))),
      },
    ],
    source,
  });
  const t0 = performance.now();
  const crl = await pub.publish('int');
  const ms = performance.now() - t0;
  writeFileSync(file, crl.der);
  out({ ms, entries: crl.entries, bytes: crl.der.length });
} else {
  const der = new Uint8Array(readFileSync(file));
  const t0 = performance.now();
  let entries = 0;
  if (mode === 'parse-fleetpki' || mode === 'parse-fleetpki-lookup') {
    const crl = parseCrl(der);
    // Parsing validates every entry but keeps only offsets; entries are decoded on demand.
    entries = crl.revokedCount;
    // With lookup: also build the serial index a revocation check needs.
    if (mode === 'parse-fleetpki-lookup' && !crl.find(crl.entryAt(n >> 1).serialNumber))
      throw new Error('lookup failed');
  } else if (mode === 'parse-pkijs') {
    // pkijs' fromBER uses asn1js' defaults (at most 10 000 nodes, 16 MiB): a 1M-entry CRL needs
    // the limits raised, so parse with asn1js directly and hand pkijs the schema.
    const asn = asn1js.fromBER(der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength), {
      maxNodes: 1e9,
      maxContentLength: 1 << 30,
    });
    if (asn.offset === -1) throw new Error(asn.result.error);
    const crl = new pkijs.CertificateRevocationList({ schema: asn.result });
    entries = crl.revokedCertificates?.length ?? 0;
  }
  out({ ms: performance.now() - t0, entries });
}
