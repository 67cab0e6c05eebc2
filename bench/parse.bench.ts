// `npm run bench -- parse` (issue 2, acceptance 5): certificates/s parsed from DER, reading the
// same fields everywhere (subject, issuer, serial, notAfter, SAN, keyUsage), on one corpus:
// the Debian bundle + PKITS certificates + a fixed sample of x509-limbo certificates, decoded to
// DER before timing. Peers run in the same process and run: @peculiar/x509, pkijs, node-forge,
// @fidm/x509, Node's crypto.X509Certificate; Go's x509.ParseCertificate runs on the same corpus
// file (bench/go/parsebench). A peer that refuses some certificates (node-forge parses RSA
// only) is timed on the ones it parses, and the count is shown.
// Env: FLEETPKI_BENCH_MS (time per row, default 2000), FLEETPKI_BENCH_LIMBO (limbo sample, 2000).
// @peculiar/x509 needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASN1 as FidmAsn1 } from '@fidm/asn1';
import { Certificate as FidmCertificate } from '@fidm/x509';
import * as peculiar from '@peculiar/x509';
import forge from 'node-forge';
import * as pkijs from 'pkijs';
import { encodePem } from '../src/pem/index.js';
import { parseCertificate } from '../src/x509/certificate.js';
import { debianCertificates, limboItems, pkitsItems, sample } from '../test/x509/corpus.js';
import { type BenchResult, buildGoTool, external, measure, printTable, writeResults } from './harness.js';

const limboSample = Number(process.env.FLEETPKI_BENCH_LIMBO) || 2000;
const corpus: Uint8Array[] = [
  ...debianCertificates(),
  ...pkitsItems().filter((i) => i.kind === 'certificate'),
  ...sample(
    limboItems().filter((i) => i.kind === 'certificate'),
    limboSample,
  ),
]
  .map((i) => i.der)
  // Only what fleetpki itself accepts, so every row reads the same certificates where it can.
  .filter((der) => {
    try {
      parseCertificate(der);
      return true;
    } catch {
      return false;
    }
  });

/** One certificate: parse and read the fields (a sink keeps the JIT from dropping the work). */
type Reader = (der: Uint8Array) => unknown;
let sink = 0;
const touch = (...xs: unknown[]) => {
  for (const x of xs) if (x !== undefined && x !== null) sink++;
};

const readers: Record<string, Reader> = {
  fleetpki: (der) => {
    const c = parseCertificate(der);
    touch(c.subject.toString(), c.issuer.toString(), c.serialHex, c.notAfter, c.subjectAltName, c.keyUsage);
  },
  'node X509Certificate': (der) => {
    const c = new X509Certificate(der);
    touch(c.subject, c.issuer, c.serialNumber, c.validTo, c.subjectAltName, c.keyUsage);
  },
  '@fidm/x509': (der) => {
    const c = new FidmCertificate(FidmAsn1.fromDER(Buffer.from(der.buffer, der.byteOffset, der.byteLength)));
    touch(c.subject.toString(), c.issuer.toString(), c.serialNumber, c.validTo, c.dnsNames, c.keyUsage);
  },
  '@peculiar/x509': (der) => {
    const c = new peculiar.X509Certificate(der as Uint8Array<ArrayBuffer>);
    const san = c.getExtension(peculiar.SubjectAlternativeNameExtension);
    const ku = c.getExtension(peculiar.KeyUsagesExtension);
    touch(c.subject, c.issuer, c.serialNumber, c.notAfter, san?.names.items, ku?.usages);
  },
  pkijs: (der) => {
    const c = pkijs.Certificate.fromBER(der as Uint8Array<ArrayBuffer>);
    const name = (n: pkijs.RelativeDistinguishedNames) =>
      n.typesAndValues.map((t) => `${t.type}=${t.value.valueBlock.value}`).join(',');
    let san: unknown;
    let ku: unknown;
    for (const e of c.extensions ?? []) {
      if (e.extnID === '2.5.29.17') san = e.parsedValue;
      else if (e.extnID === '2.5.29.15') ku = e.parsedValue;
    }
    touch(name(c.subject), name(c.issuer), c.serialNumber.valueBlock.valueHexView, c.notAfter.value, san, ku);
  },
  'node-forge': (der) => {
    let bin = '';
    for (let i = 0; i < der.length; i++) bin += String.fromCharCode(der[i]!);
    const c = forge.pki.certificateFromAsn1(forge.asn1.fromDer(bin));
    const name = (n: forge.pki.Certificate['subject']) =>
      n.attributes.map((a) => `${a.shortName ?? a.type}=${a.value}`).join(',');
    touch(
      name(c.subject),
      name(c.issuer),
      c.serialNumber,
      c.validity.notAfter,
      c.getExtension('subjectAltName'),
      c.getExtension('keyUsage'),
    );
  },
};

/** The subset of the corpus a reader can handle. */
function accepted(read: Reader): Uint8Array[] {
  return corpus.filter((der) => {
    try {
      read(der);
      return true;
    } catch {
      return false;
    }
  });
}

console.log(
  `corpus: ${corpus.length} certificates (Debian bundle, PKITS, ${limboSample} x509-limbo sample), DER`,
);
const results: BenchResult[] = [];
for (const [name, read] of Object.entries(readers)) {
  const ok = accepted(read);
  const note = ok.length === corpus.length ? '' : `parses ${ok.length}/${corpus.length}`;
  const r = await measure(
    name,
    () => {
      for (const der of ok) read(der);
    },
    { opsPerCall: ok.length, note },
  );
  results.push(r);
}

// Go's crypto/x509 on the same certificates (PEM file; decoded to DER before its timing loop).
const tmp = fileURLToPath(new URL('../.tmp/', import.meta.url));
mkdirSync(tmp, { recursive: true });
const corpusFile = join(tmp, 'bench-parse-corpus.pem');
writeFileSync(corpusFile, corpus.map((d) => encodePem('CERTIFICATE', d)).join(''));
try {
  const bin = await buildGoTool('parsebench');
  const ms = Number(process.env.FLEETPKI_BENCH_MS) || 2000;
  const r = spawnSync(bin, ['-duration', `${ms}ms`, corpusFile], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr || `exit ${r.status}`);
  const out = JSON.parse(r.stdout) as { certsPerSec: number; certs: number; rejected: number; go: string };
  results.push(
    external(
      `go crypto/x509 (${out.go})`,
      out.certsPerSec,
      out.rejected ? `parses ${out.certs}/${corpus.length}` : undefined,
    ),
  );
} catch (e) {
  console.log(`go parsebench unavailable: ${(e as Error).message}`);
}

printTable(
  'certificate parsing, certs/s (parse + subject, issuer, serial, notAfter, SAN, keyUsage)',
  results,
  'fleetpki',
  'certs/s',
);
const ours = results.find((r) => r.name === 'fleetpki')!.opsPerSec;
const js = results.filter((r) => r.name !== 'fleetpki' && !r.name.startsWith('go '));
const fastestJs = js.reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
const go = results.find((r) => r.name.startsWith('go '));
console.log(
  `\nfleetpki vs fastest JS peer (${fastestJs.name}): ${(ours / fastestJs.opsPerSec).toFixed(2)}x (goal ≥ 3x)` +
    (go ? `; vs Go: ${(ours / go.opsPerSec).toFixed(2)}x (goal ≥ 1x)` : ''),
);
writeResults('parse', { corpus: corpus.length, results, sink });
