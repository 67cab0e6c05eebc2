import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bytesEqual, DerReader, OID, toHex } from '../../../src/der/index.js';
import { decodePem, encodePem } from '../../../src/pem/index.js';
import * as X from '../../../src/x509/extensions/index.js';
import type { GeneralName } from '../../../src/x509/general-name.js';
import { ipToString } from '../../../src/x509/general-name.js';
import type { Name } from '../../../src/x509/name.js';

/**
 * Real-world extension values: the Debian CA bundle and NIST PKITS (certificates and CRLs).
 * Extensions are pulled out of the TBS with the DER reader directly (independent of
 * certificate.ts), decoded through the registry with absolute offsets, re-encoded, and compared
 * field by field with what OpenSSL prints (`openssl pkcs7 -print_certs -text`).
 */

const BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const PKITS = '../shared/testdata/pkits';

interface RawExt {
  oid: string;
  critical: boolean;
  value: Uint8Array;
  /** Absolute offset of the extnValue content in its certificate / CRL. */
  offset: number;
}

function readExtensionList(r: DerReader, out: RawExt[]): void {
  const s = r.readSequence('Extensions');
  s.forEach('Extension', (e) => {
    const x = e.readSequence('Extension');
    const oid = x.readOid('extnID');
    const critical = x.peekTag() === 0x01 ? x.readBoolean('critical') : false;
    const value = x.readOctetString('extnValue');
    x.finish();
    out.push({ oid, critical, value, offset: x.pos - value.length });
  });
}

/** Certificate → TBSCertificate → [3] extensions (v3 only). */
function certExtensions(der: Uint8Array): RawExt[] {
  const c = DerReader.from(der, 'Certificate').readSequence('Certificate');
  const t = c.readSequence('tbsCertificate');
  if (t.peekTag() === 0xa0) t.readAny('version');
  for (const f of ['serialNumber', 'signature', 'issuer', 'validity', 'subject', 'subjectPublicKeyInfo'])
    t.readAny(f);
  const out: RawExt[] = [];
  while (!t.atEnd()) {
    const tag = t.peekTag();
    if (tag === 0xa3) readExtensionList(t.readExplicit(3, 'extensions'), out);
    else t.readAny('uniqueID');
  }
  return out;
}

/** CertificateList → TBSCertList: crlExtensions and every crlEntryExtensions. */
function crlExtensions(der: Uint8Array): RawExt[] {
  const c = DerReader.from(der, 'CertificateList').readSequence('CertificateList');
  const t = c.readSequence('tbsCertList');
  if (t.peekTag() === 0x02) t.readAny('version');
  for (const f of ['signature', 'issuer', 'thisUpdate']) t.readAny(f);
  if (t.peekTag() === 0x17 || t.peekTag() === 0x18) t.readAny('nextUpdate');
  const out: RawExt[] = [];
  if (t.peekTag() === 0x30) {
    const revoked = t.readSequence('revokedCertificates');
    revoked.forEach('entry', (r) => {
      const e = r.readSequence('entry');
      e.readAny('userCertificate');
      e.readAny('revocationDate');
      if (!e.atEnd()) readExtensionList(e, out);
    });
  }
  if (t.peekTag() === 0xa0) readExtensionList(t.readExplicit(0, 'crlExtensions'), out);
  return out;
}

function openssl(args: string[], input?: string): string {
  try {
    return execFileSync('openssl', args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('openssl not found on PATH (CI installs it)');
    throw e;
  }
}

/** Splits `openssl pkcs7 -print_certs -text` output into per-certificate maps of extension title → value lines. */
function opensslExtensions(pemFile: string): Map<string, { critical: boolean; lines: string[] }>[] {
  const p7 = openssl(['crl2pkcs7', '-nocrl', '-certfile', pemFile]);
  const text = openssl(['pkcs7', '-print_certs', '-text', '-noout'], p7);
  const certs: Map<string, { critical: boolean; lines: string[] }>[] = [];
  let cur: Map<string, { critical: boolean; lines: string[] }> | undefined;
  let ext: { critical: boolean; lines: string[] } | undefined;
  let inExt = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Certificate:')) {
      cur = new Map();
      certs.push(cur);
      inExt = false;
      ext = undefined;
      continue;
    }
    if (line.startsWith('        X509v3 extensions:')) {
      inExt = true;
      continue;
    }
    if (!inExt || !cur) continue;
    if (/^ {0,11}\S/.test(line)) {
      inExt = false;
      continue;
    }
    const m = /^ {12}(\S.*?):( critical)?\s*$/.exec(line);
    if (m) {
      ext = { critical: m[2] !== undefined, lines: [] };
      cur.set(m[1]!, ext);
    } else if (ext) {
      ext.lines.push(...splitLike(line));
    }
  }
  return certs;
}

/**
 * OpenSSL sometimes runs two fields into one line ("CN = x                Reasons:"), so both
 * sides are split at runs of two or more spaces and trimmed before comparing.
 */
function splitLike(line: string): string[] {
  return line
    .split(/ {2,}/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

// ---- OpenSSL-style rendering of our decoded values ----

const ONELINE_SHORT: Record<string, string> = {
  [OID.countryName]: 'C',
  [OID.stateOrProvinceName]: 'ST',
  [OID.localityName]: 'L',
  [OID.organizationName]: 'O',
  [OID.organizationalUnitName]: 'OU',
  [OID.commonName]: 'CN',
  [OID.streetAddress]: 'street',
  [OID.emailAddress]: 'emailAddress',
  [OID.serialNumber]: 'serialNumber',
  [OID.domainComponent]: 'DC',
};
/** X509_NAME_oneline ("/C=US/O=x"), used by OpenSSL for SAN and AKI directory names. */
const oneline = (n: Name): string =>
  n.rdns
    .map((rdn) => `/${rdn.map((a) => `${ONELINE_SHORT[a.type] ?? a.type}=${a.value}`).join('+')}`)
    .join('');

function gn(g: GeneralName, dirForm: 'oneline' | 'rfc2253'): string {
  switch (g.type) {
    case 'dNSName':
      return `DNS:${g.value}`;
    case 'rfc822Name':
      return `email:${g.value}`;
    case 'uniformResourceIdentifier':
      return `URI:${g.value}`;
    case 'iPAddress':
      return `IP Address:${ipToString(g.value)}`;
    case 'directoryName':
      return `DirName:${dirForm === 'oneline' ? oneline(g.value) : g.value.toOpenSslString()}`;
    default:
      return `${g.type}`;
  }
}

const policyText = (oid: string): string => (oid === OID.anyPolicy ? 'X509v3 Any Policy' : oid);
const hexColon = (b: Uint8Array): string => toHex(b, ':').toUpperCase();

const KU_TEXT = [
  'Digital Signature',
  'Non Repudiation',
  'Key Encipherment',
  'Data Encipherment',
  'Key Agreement',
  'Certificate Sign',
  'CRL Sign',
  'Encipher Only',
  'Decipher Only',
];
const EKU_TEXT: Record<string, string> = {
  [OID.serverAuth]: 'TLS Web Server Authentication',
  [OID.clientAuth]: 'TLS Web Client Authentication',
  [OID.codeSigning]: 'Code Signing',
  [OID.emailProtection]: 'E-mail Protection',
  [OID.timeStampingEku]: 'Time Stamping',
  [OID.OCSPSigning]: 'OCSP Signing',
  [OID.anyExtendedKeyUsage]: 'Any Extended Key Usage',
};

/** Our value rendered as the value lines OpenSSL prints, keyed by OpenSSL's extension title. */
const RENDER: Record<string, { title: string; render: (v: never) => string[] }> = {
  [OID.basicConstraints]: {
    title: 'X509v3 Basic Constraints',
    render: (v: X.BasicConstraints) => [
      `CA:${v.cA ? 'TRUE' : 'FALSE'}${v.pathLenConstraint !== undefined ? `, pathlen:${v.pathLenConstraint}` : ''}`,
    ],
  },
  [OID.keyUsage]: {
    title: 'X509v3 Key Usage',
    render: (v: X.KeyUsage) => [X.KEY_USAGE_BITS.flatMap((b, i) => (v[b] ? [KU_TEXT[i]!] : [])).join(', ')],
  },
  [OID.extKeyUsage]: {
    title: 'X509v3 Extended Key Usage',
    render: (v: X.ExtKeyUsage) => [v.map((o) => EKU_TEXT[o] ?? o).join(', ')],
  },
  [OID.subjectKeyIdentifier]: {
    title: 'X509v3 Subject Key Identifier',
    render: (v: Uint8Array) => [hexColon(v)],
  },
  [OID.authorityKeyIdentifier]: {
    title: 'X509v3 Authority Key Identifier',
    render: (v: X.AuthorityKeyIdentifier) => {
      if (v.keyIdentifier && !v.authorityCertIssuer && !v.authorityCertSerialNumber)
        return [hexColon(v.keyIdentifier)];
      const out: string[] = [];
      if (v.keyIdentifier) out.push(`keyid:${hexColon(v.keyIdentifier)}`);
      for (const g of v.authorityCertIssuer ?? []) out.push(gn(g, 'oneline'));
      // OpenSSL prints the serial's magnitude (no 00 sign octet).
      const sn = v.authorityCertSerialNumber;
      if (sn) out.push(`serial:${hexColon(sn.length > 1 && sn[0] === 0 ? sn.subarray(1) : sn)}`);
      return out;
    },
  },
  [OID.subjectAltName]: {
    title: 'X509v3 Subject Alternative Name',
    render: (v: GeneralName[]) => [v.map((g) => gn(g, 'oneline')).join(', ')],
  },
  [OID.cRLDistributionPoints]: {
    title: 'X509v3 CRL Distribution Points',
    render: (v: X.CRLDistributionPoints) =>
      v.flatMap((d) => [
        ...(d.distributionPoint?.fullName
          ? ['Full Name:', ...d.distributionPoint.fullName.map((g) => gn(g, 'rfc2253'))]
          : []),
      ]),
  },
  [OID.authorityInfoAccess]: {
    title: 'Authority Information Access',
    render: (v: X.AuthorityInfoAccess) =>
      v.map(
        (a) =>
          `${a.accessMethod === OID.ocsp ? 'OCSP' : a.accessMethod === OID.caIssuers ? 'CA Issuers' : a.accessMethod} - ${gn(a.accessLocation, 'oneline')}`,
      ),
  },
  [OID.certificatePolicies]: {
    title: 'X509v3 Certificate Policies',
    render: (v: X.CertificatePolicies) =>
      v.flatMap((p) => [
        `Policy: ${policyText(p.policyIdentifier)}`,
        ...(p.policyQualifiers ?? []).flatMap((q) => {
          if (q.cpsUri !== undefined) return [`CPS: ${q.cpsUri}`];
          if (!q.userNotice) return [];
          const u = q.userNotice;
          const lines = ['User Notice:'];
          if (u.noticeRef)
            lines.push(
              `Organization: ${u.noticeRef.organization}`,
              `Number${u.noticeRef.noticeNumbers.length > 1 ? 's' : ''}: ${u.noticeRef.noticeNumbers.join(', ')}`,
            );
          // OpenSSL 3.0 prints BMPString explicit text as nothing; compare the label only then.
          if (u.explicitText !== undefined)
            lines.push(
              u.explicitTextType === 'bmpString' ? 'Explicit Text:' : `Explicit Text: ${u.explicitText}`,
            );
          return lines;
        }),
      ]),
  },
  [OID.nameConstraints]: {
    title: 'X509v3 Name Constraints',
    render: (v: X.NameConstraints) => [
      ...(v.permittedSubtrees
        ? ['Permitted:', ...v.permittedSubtrees.map((s) => gn(s.base, 'rfc2253'))]
        : []),
      ...(v.excludedSubtrees ? ['Excluded:', ...v.excludedSubtrees.map((s) => gn(s.base, 'rfc2253'))] : []),
    ],
  },
  [OID.policyMappings]: {
    title: 'X509v3 Policy Mappings',
    render: (v: X.PolicyMappings) => [
      v.map((m) => `${policyText(m.issuerDomainPolicy)}:${policyText(m.subjectDomainPolicy)}`).join(', '),
    ],
  },
  [OID.policyConstraints]: {
    title: 'X509v3 Policy Constraints',
    render: (v: X.PolicyConstraints) => [
      [
        ...(v.requireExplicitPolicy !== undefined
          ? [`Require Explicit Policy:${v.requireExplicitPolicy}`]
          : []),
        ...(v.inhibitPolicyMapping !== undefined ? [`Inhibit Policy Mapping:${v.inhibitPolicyMapping}`] : []),
      ].join(', '),
    ],
  },
  [OID.inhibitAnyPolicy]: { title: 'X509v3 Inhibit Any Policy', render: (v: number) => [String(v)] },
};

interface Corpus {
  label: string;
  ders: Uint8Array[];
  exts: RawExt[][];
}

function loadBundle(): Corpus {
  const ders = decodePem(readFileSync(BUNDLE, 'utf8'), 100_000)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => b.der);
  return { label: 'Debian', ders, exts: ders.map(certExtensions) };
}

function loadPkitsCerts(): Corpus {
  const files = readdirSync(join(PKITS, 'certs')).sort();
  const ders = files.map((f) => new Uint8Array(readFileSync(join(PKITS, 'certs', f))));
  return { label: 'PKITS', ders, exts: ders.map(certExtensions) };
}

/** Decodes every known extension; returns per-extension-name counts and the non-canonical ones. */
function decodeAll(exts: RawExt[][]): { counts: Map<string, number>; nonCanonical: string[] } {
  const counts = new Map<string, number>();
  const nonCanonical: string[] = [];
  exts.forEach((list, i) => {
    for (const e of list) {
      const codec = X.extensionCodec(e.oid);
      if (!codec) continue;
      const v = X.decodeExtension(
        { oid: e.oid, critical: e.critical, value: e.value, der: e.value },
        e.offset,
      );
      counts.set(codec.name, (counts.get(codec.name) ?? 0) + 1);
      if (!bytesEqual(codec.encode(v), e.value)) nonCanonical.push(`#${i} ${codec.name} ${toHex(e.value)}`);
    }
  });
  return { counts, nonCanonical };
}

describe('extensions: Debian CA bundle', () => {
  const corpus = loadBundle();

  it('has a realistic number of certificates', () => {
    assert.ok(corpus.ders.length >= 100, `${corpus.ders.length} certificates`);
  });

  it('every known extension decodes and re-encodes byte-identically (one documented exception)', () => {
    const { counts, nonCanonical } = decodeAll(corpus.exts);
    for (const name of [
      'basicConstraints',
      'keyUsage',
      'subjectKeyIdentifier',
      'authorityKeyIdentifier',
      'certificatePolicies',
      'cRLDistributionPoints',
    ])
      assert.ok((counts.get(name) ?? 0) > 0, `no ${name} in the bundle`);
    assert.ok([...counts.values()].reduce((a, b) => a + b, 0) > 400);
    // Trustwave Global ECC P256/P384 roots: keyUsage `03 03 07 06 00` (a spare zero octet),
    // tolerated on input (see readNamedBits) and written minimally by the encoder.
    for (const n of nonCanonical) assert.match(n, / keyUsage 0303070600$/);
    assert.ok(nonCanonical.length <= 2, nonCanonical.join('\n'));
  });

  describe('matches `openssl -text` for every certificate', () => {
    let dir = '';
    let ossl: ReturnType<typeof opensslExtensions> = [];
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'fleetpki-ext-'));
      const pem = join(dir, 'bundle.pem');
      writeFileSync(pem, corpus.ders.map((d) => encodePem('CERTIFICATE', d)).join(''));
      ossl = opensslExtensions(pem);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    for (const oid of Object.keys(RENDER))
      it(RENDER[oid]!.title, () => {
        assert.equal(ossl.length, corpus.ders.length);
        compareWithOpenssl(corpus, ossl, oid);
      });
  });
});

function compareWithOpenssl(corpus: Corpus, ossl: ReturnType<typeof opensslExtensions>, oid: string): number {
  const { title, render } = RENDER[oid]!;
  let compared = 0;
  corpus.exts.forEach((list, i) => {
    const e = list.find((x) => x.oid === oid);
    const theirs = ossl[i]!.get(title);
    assert.equal(e !== undefined, theirs !== undefined, `${corpus.label} #${i}: ${title} presence`);
    if (!e || !theirs) return;
    const v = X.decodeExtension({ oid, critical: e.critical, value: e.value, der: e.value });
    const ours = render(v as never).flatMap(splitLike);
    assert.deepEqual(ours, theirs.lines, `${corpus.label} #${i}: ${title}`);
    assert.equal(e.critical, theirs.critical, `${corpus.label} #${i}: ${title} critical`);
    compared++;
  });
  return compared;
}

describe('extensions: NIST PKITS certificates and CRLs', () => {
  const certs = loadPkitsCerts();

  it('every known certificate extension decodes and re-encodes byte-identically', () => {
    const { counts, nonCanonical } = decodeAll(certs.exts);
    assert.deepEqual(nonCanonical, []);
    for (const name of [
      'nameConstraints',
      'policyMappings',
      'policyConstraints',
      'inhibitAnyPolicy',
      'freshestCRL',
      'subjectAltName',
    ])
      assert.ok((counts.get(name) ?? 0) > 0, `no ${name} in PKITS`);
  });

  it('every known CRL and CRL entry extension decodes and re-encodes byte-identically', () => {
    const files = readdirSync(join(PKITS, 'crls')).sort();
    const exts = files.map((f) => crlExtensions(new Uint8Array(readFileSync(join(PKITS, 'crls', f)))));
    const { counts, nonCanonical } = decodeAll(exts);
    assert.deepEqual(nonCanonical, []);
    for (const name of [
      'cRLNumber',
      'reasonCode',
      'issuingDistributionPoint',
      'deltaCRLIndicator',
      'certificateIssuer',
    ])
      assert.ok((counts.get(name) ?? 0) > 0, `no ${name} in PKITS CRLs`);
  });

  describe('matches `openssl -text`', () => {
    let dir = '';
    let ossl: ReturnType<typeof opensslExtensions> = [];
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'fleetpki-ext-'));
      const pem = join(dir, 'pkits.pem');
      writeFileSync(pem, certs.ders.map((d) => encodePem('CERTIFICATE', d)).join(''));
      ossl = opensslExtensions(pem);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const oids = [
      OID.basicConstraints,
      OID.keyUsage,
      OID.subjectKeyIdentifier,
      OID.nameConstraints,
      OID.policyMappings,
      OID.policyConstraints,
      OID.inhibitAnyPolicy,
      OID.certificatePolicies,
      OID.subjectAltName,
    ];
    for (const oid of oids)
      it(RENDER[oid]!.title, () => {
        assert.equal(ossl.length, certs.ders.length);
        assert.ok(compareWithOpenssl(certs, ossl, oid) > 0);
      });
  });
});
