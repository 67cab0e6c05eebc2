// Loads the public corpora the codec is held to (issue 2, acceptance 1), pre-decoded to DER:
// the Debian ca-certificates bundle, every unique certificate and CRL in x509-limbo, and the
// NIST PKITS certificates and CRLs. Shared data is found relative to the repo (../shared/...).
// Also used by bench/parse.bench.ts and scripts/fuzz.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePem } from '../../src/pem/index.js';

export const TESTDATA = fileURLToPath(new URL('../../../shared/testdata/', import.meta.url));
export const DEBIAN_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface CorpusItem {
  /** Where it comes from, e.g. `limbo:rfc5280::san::malformed:peer`, `pkits:UIDCACert.crt`, `debian:12`. */
  id: string;
  /** x509-limbo testcase id (the first one using this object), for limbo items. */
  testcase?: string;
  kind: 'certificate' | 'crl';
  der: Uint8Array;
}

function need(path: string, what: string): void {
  if (!existsSync(path)) throw new Error(`${what} not found at ${path}`);
}

/** Every certificate of the Debian bundle (about 150). */
export function debianCertificates(): CorpusItem[] {
  need(DEBIAN_BUNDLE, 'the Debian ca-certificates bundle (apt-get install ca-certificates)');
  return decodePem(readFileSync(DEBIAN_BUNDLE, 'latin1'))
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b, i) => ({ id: `debian:${i + 1}`, kind: 'certificate' as const, der: b.der }));
}

interface LimboCase {
  id: string;
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  crls?: string[];
}

let limboCache: CorpusItem[] | undefined;

/** Every unique certificate and CRL PEM in limbo.json (~30 000), first use wins for the id. */
export function limboItems(): CorpusItem[] {
  if (limboCache) return limboCache;
  const file = join(TESTDATA, 'x509-limbo', 'limbo.json');
  need(file, 'x509-limbo');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { testcases: LimboCase[] };
  const seen = new Set<string>();
  const out: CorpusItem[] = [];
  const add = (pem: string, t: LimboCase, role: string, kind: CorpusItem['kind']) => {
    if (seen.has(pem)) return;
    seen.add(pem);
    const b = decodePem(pem)[0];
    if (!b) throw new Error(`limbo ${t.id}: ${role} is not PEM`);
    out.push({ id: `limbo:${t.id}:${role}`, testcase: t.id, kind, der: b.der });
  };
  for (const t of doc.testcases) {
    for (const [i, p] of t.trusted_certs.entries()) add(p, t, `trusted[${i}]`, 'certificate');
    for (const [i, p] of t.untrusted_intermediates.entries()) add(p, t, `untrusted[${i}]`, 'certificate');
    add(t.peer_certificate, t, 'peer', 'certificate');
    for (const [i, p] of (t.crls ?? []).entries()) add(p, t, `crl[${i}]`, 'crl');
  }
  limboCache = out;
  return out;
}

/** PKITS: 405 certificates (`certs/*.crt`) and 173 CRLs (`crls/*.crl`), DER files. */
export function pkitsItems(): CorpusItem[] {
  const dir = join(TESTDATA, 'pkits');
  need(dir, 'NIST PKITS');
  const out: CorpusItem[] = [];
  for (const [sub, kind] of [
    ['certs', 'certificate'],
    ['crls', 'crl'],
  ] as const)
    for (const f of readdirSync(join(dir, sub)).sort())
      out.push({ id: `pkits:${f}`, kind, der: new Uint8Array(readFileSync(join(dir, sub, f))) });
  return out;
}

/** A deterministic pseudo-random sample (xorshift32), so benches and tests see the same subset. */
export function sample<T>(items: readonly T[], n: number, seed = 0x9e3779b9): T[] {
  if (n >= items.length) return [...items];
  const idx = items.map((_, i) => i);
  let s = seed >>> 0 || 1;
  for (let i = idx.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, n).map((i) => items[i]!);
}
