import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DerError, fromHex, OID, toHex } from '../../../src/der/index.js';
import { X509Error } from '../../../src/x509/errors.js';
import * as X from '../../../src/x509/extensions/index.js';
import type { GeneralName } from '../../../src/x509/general-name.js';
import { Name } from '../../../src/x509/name.js';

/**
 * Unit tables for every extension codec: canonical vectors (decode → expected value, and the
 * encoder reproduces the bytes), typed round trips, tolerated non-canonical inputs, and hostile
 * encodings with the error code they must raise.
 */

type Codec = { parse: (v: Uint8Array, offset?: number) => unknown; encode: (v: never) => Uint8Array };
const C = {
  basicConstraints: { parse: X.parseBasicConstraints, encode: X.encodeBasicConstraints },
  keyUsage: { parse: X.parseKeyUsage, encode: X.encodeKeyUsage },
  extKeyUsage: { parse: X.parseExtKeyUsage, encode: X.encodeExtKeyUsage },
  subjectAltName: { parse: X.parseSubjectAltName, encode: X.encodeSubjectAltName },
  issuerAltName: { parse: X.parseIssuerAltName, encode: X.encodeIssuerAltName },
  subjectKeyIdentifier: { parse: X.parseSubjectKeyIdentifier, encode: X.encodeSubjectKeyIdentifier },
  authorityKeyIdentifier: { parse: X.parseAuthorityKeyIdentifier, encode: X.encodeAuthorityKeyIdentifier },
  nameConstraints: { parse: X.parseNameConstraints, encode: X.encodeNameConstraints },
  certificatePolicies: { parse: X.parseCertificatePolicies, encode: X.encodeCertificatePolicies },
  policyMappings: { parse: X.parsePolicyMappings, encode: X.encodePolicyMappings },
  policyConstraints: { parse: X.parsePolicyConstraints, encode: X.encodePolicyConstraints },
  inhibitAnyPolicy: { parse: X.parseInhibitAnyPolicy, encode: X.encodeInhibitAnyPolicy },
  cRLDistributionPoints: { parse: X.parseCRLDistributionPoints, encode: X.encodeCRLDistributionPoints },
  freshestCRL: { parse: X.parseFreshestCRL, encode: X.encodeFreshestCRL },
  authorityInfoAccess: { parse: X.parseAuthorityInfoAccess, encode: X.encodeAuthorityInfoAccess },
  subjectInfoAccess: { parse: X.parseSubjectInfoAccess, encode: X.encodeSubjectInfoAccess },
  subjectDirectoryAttributes: {
    parse: X.parseSubjectDirectoryAttributes,
    encode: X.encodeSubjectDirectoryAttributes,
  },
  cRLNumber: { parse: X.parseCRLNumber, encode: X.encodeCRLNumber },
  deltaCRLIndicator: { parse: X.parseDeltaCRLIndicator, encode: X.encodeDeltaCRLIndicator },
  issuingDistributionPoint: {
    parse: X.parseIssuingDistributionPoint,
    encode: X.encodeIssuingDistributionPoint,
  },
  reasonCode: { parse: X.parseReasonCode, encode: X.encodeReasonCode },
  invalidityDate: { parse: X.parseInvalidityDate, encode: X.encodeInvalidityDate },
  certificateIssuer: { parse: X.parseCertificateIssuer, encode: X.encodeCertificateIssuer },
  signedCertificateTimestampList: {
    parse: X.parseSignedCertificateTimestampList,
    encode: X.encodeSignedCertificateTimestampList,
  },
  ocspNoCheck: { parse: X.parseOcspNoCheck, encode: X.encodeOcspNoCheck },
  holdInstructionCode: { parse: X.parseHoldInstructionCode, encode: X.encodeHoldInstructionCode },
} satisfies Record<string, Codec>;
type Ext = keyof typeof C;

const enc = (ext: Ext, v: unknown): Uint8Array => (C[ext].encode as (v: unknown) => Uint8Array)(v);
const h = (s: string): Uint8Array => fromHex(s.replace(/\s+/g, ''));
const ku = X.keyUsage;
const rf = (...bits: (typeof X.REASON_FLAG_BITS)[number][]): X.ReasonFlags => {
  const v = X.reasonFlagsFromMask(0);
  for (const b of bits) v[b] = true;
  return v;
};
const dns = (value: string): GeneralName => ({ type: 'dNSName', value });
const uri = (value: string): GeneralName => ({ type: 'uniformResourceIdentifier', value });
const ip = (...b: number[]): GeneralName => ({ type: 'iPAddress', value: Uint8Array.from(b) });
const dirName = (s: string): GeneralName => ({ type: 'directoryName', value: Name.parse(s) });

/** Hex of one TLV (short or long length form) around the hex of its parts: keeps vectors readable. */
function T(tag: number, ...parts: string[]): string {
  const body = parts.join('');
  const n = body.length / 2;
  const len =
    n < 0x80
      ? n.toString(16).padStart(2, '0')
      : n < 0x100
        ? `81${n.toString(16).padStart(2, '0')}`
        : `82${n.toString(16).padStart(4, '0')}`;
  return `${tag.toString(16).padStart(2, '0')}${len}${body}`;
}
const A = (s: string): string => toHex(new TextEncoder().encode(s));
const SEQ = (...p: string[]): string => T(0x30, ...p);
const oidHex = (o: string): string => toHex(X.encodeExtKeyUsage([o])).slice(4);

// ---- canonical vectors: hex decodes to the value, and the value encodes to the same hex ----

const CRL_URI = T(0x86, A('http://x.example/crl'));
const VECTORS: [label: string, ext: Ext, hex: string, value: unknown][] = [
  ['BC end entity (empty SEQUENCE)', 'basicConstraints', '3000', { cA: false }],
  ['BC CA without pathLen', 'basicConstraints', '30030101ff', { cA: true }],
  ['BC CA pathLen 0', 'basicConstraints', '30060101ff020100', { cA: true, pathLenConstraint: 0 }],
  [
    'BC pathLen 2^31-1',
    'basicConstraints',
    '30090101ff02047fffffff',
    { cA: true, pathLenConstraint: 0x7fffffff },
  ],
  [
    'BC pathLen without cA (decoded; verifier rejects)',
    'basicConstraints',
    '3003020103',
    { cA: false, pathLenConstraint: 3 },
  ],
  ['KU digitalSignature', 'keyUsage', '03020780', ku('digitalSignature')],
  ['KU keyCertSign|cRLSign', 'keyUsage', '03020106', ku('keyCertSign', 'cRLSign')],
  ['KU decipherOnly (second octet)', 'keyUsage', '0303070080', ku('decipherOnly')],
  ['KU digitalSignature|keyEncipherment', 'keyUsage', '030205a0', ku('digitalSignature', 'keyEncipherment')],
  [
    'EKU serverAuth, clientAuth',
    'extKeyUsage',
    SEQ(oidHex(OID.serverAuth), oidHex(OID.clientAuth)),
    [OID.serverAuth, OID.clientAuth],
  ],
  [
    'SAN dNSName + IPv4 + IPv6',
    'subjectAltName',
    SEQ(T(0x82, A('example.com')), T(0x87, '7f000001'), T(0x87, `${'00'.repeat(15)}01`)),
    [dns('example.com'), ip(127, 0, 0, 1), ip(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)],
  ],
  [
    'IAN email',
    'issuerAltName',
    SEQ(T(0x81, A('ca@example.org'))),
    [{ type: 'rfc822Name', value: 'ca@example.org' }],
  ],
  ['SKI 4 bytes', 'subjectKeyIdentifier', '040401020304', h('01020304')],
  ['AKI keyIdentifier only', 'authorityKeyIdentifier', '30068004aabbccdd', { keyIdentifier: h('aabbccdd') }],
  [
    'AKI issuer + serial',
    'authorityKeyIdentifier',
    SEQ(T(0xa1, T(0xa4, toHex(Name.parse('CN=Root CA').der))), '820100'),
    { authorityCertIssuer: [dirName('CN=Root CA')], authorityCertSerialNumber: h('00') },
  ],
  [
    'NC permitted DNS, excluded IPv4 10/8',
    'nameConstraints',
    SEQ(T(0xa0, SEQ(T(0x82, A('example.com')))), T(0xa1, SEQ(T(0x87, '0a000000ff000000')))),
    {
      permittedSubtrees: [{ base: dns('example.com'), minimum: 0 }],
      excludedSubtrees: [{ base: ip(10, 0, 0, 0, 255, 0, 0, 0), minimum: 0 }],
    },
  ],
  [
    'CP anyPolicy with CPS',
    'certificatePolicies',
    SEQ(SEQ(oidHex(OID.anyPolicy), SEQ(SEQ(oidHex(OID.cps), T(0x16, A('http://example.org/')))))),
    [
      {
        policyIdentifier: OID.anyPolicy,
        policyQualifiers: [
          {
            policyQualifierId: OID.cps,
            qualifier: h(T(0x16, A('http://example.org/'))),
            cpsUri: 'http://example.org/',
          },
        ],
      },
    ],
  ],
  [
    'CP UserNotice VisibleString explicitText (QuoVadis style)',
    'certificatePolicies',
    SEQ(SEQ(oidHex('1.2.3'), SEQ(SEQ(oidHex(OID.userNotice), SEQ(T(0x1a, A('Any use'))))))),
    [
      {
        policyIdentifier: '1.2.3',
        policyQualifiers: [
          {
            policyQualifierId: OID.userNotice,
            qualifier: h(SEQ(T(0x1a, A('Any use')))),
            userNotice: { explicitText: 'Any use', explicitTextType: 'visibleString' },
          },
        ],
      },
    ],
  ],
  [
    'PM one mapping',
    'policyMappings',
    '300e300c06042a03040506042a030406',
    [{ issuerDomainPolicy: '1.2.3.4.5', subjectDomainPolicy: '1.2.3.4.6' }],
  ],
  ['PC both', 'policyConstraints', '3006800100810101', { requireExplicitPolicy: 0, inhibitPolicyMapping: 1 }],
  ['PC inhibitPolicyMapping only', 'policyConstraints', '3003810102', { inhibitPolicyMapping: 2 }],
  ['inhibitAnyPolicy 0', 'inhibitAnyPolicy', '020100', 0],
  [
    'CRLDP fullName URI',
    'cRLDistributionPoints',
    SEQ(SEQ(T(0xa0, T(0xa0, CRL_URI)))),
    [{ distributionPoint: { fullName: [uri('http://x.example/crl')] } }],
  ],
  [
    'CRLDP reasons + cRLIssuer',
    'cRLDistributionPoints',
    SEQ(SEQ('81020348', T(0xa2, T(0x82, A('ca.example'))))),
    [{ reasons: rf('keyCompromise', 'superseded'), cRLIssuer: [dns('ca.example')] }],
  ],
  [
    'freshestCRL',
    'freshestCRL',
    SEQ(SEQ(T(0xa0, T(0xa0, T(0x86, A('http://x.example/delta')))))),
    [{ distributionPoint: { fullName: [uri('http://x.example/delta')] } }],
  ],
  [
    'AIA OCSP + caIssuers',
    'authorityInfoAccess',
    SEQ(SEQ(oidHex(OID.ocsp), T(0x86, A('http://o/'))), SEQ(oidHex(OID.caIssuers), T(0x86, A('http://c/')))),
    [
      { accessMethod: OID.ocsp, accessLocation: uri('http://o/') },
      { accessMethod: OID.caIssuers, accessLocation: uri('http://c/') },
    ],
  ],
  [
    'SIA caRepository',
    'subjectInfoAccess',
    SEQ(SEQ(oidHex(OID.caRepository), T(0x86, A('http://r/')))),
    [{ accessMethod: OID.caRepository, accessLocation: uri('http://r/') }],
  ],
  [
    'SDA one attribute, two values (sorted)',
    'subjectDirectoryAttributes',
    SEQ(SEQ(oidHex('1.3.6.1.5.5.7.9.1'), T(0x31, '130141', '13014d'))),
    [{ type: '1.3.6.1.5.5.7.9.1', values: [h('130141'), h('13014d')] }],
  ],
  ['cRLNumber 0', 'cRLNumber', '020100', 0n],
  ['cRLNumber 128 (sign octet)', 'cRLNumber', '02020080', 128n],
  ['cRLNumber 20 octets', 'cRLNumber', `021500${'ff'.repeat(20)}`, (1n << 160n) - 1n],
  ['deltaCRLIndicator', 'deltaCRLIndicator', '020107', 7n],
  [
    'IDP fullName + onlyContainsUserCerts',
    'issuingDistributionPoint',
    SEQ(T(0xa0, T(0xa0, CRL_URI)), '8101ff'),
    {
      distributionPoint: { fullName: [uri('http://x.example/crl')] },
      onlyContainsUserCerts: true,
      onlyContainsCACerts: false,
      indirectCRL: false,
      onlyContainsAttributeCerts: false,
    },
  ],
  [
    'IDP onlySomeReasons + indirectCRL',
    'issuingDistributionPoint',
    '3007830206408401ff',
    {
      onlyContainsUserCerts: false,
      onlyContainsCACerts: false,
      onlySomeReasons: rf('keyCompromise'),
      indirectCRL: true,
      onlyContainsAttributeCerts: false,
    },
  ],
  ['reasonCode keyCompromise', 'reasonCode', '0a0101', 'keyCompromise'],
  ['reasonCode removeFromCRL (8)', 'reasonCode', '0a0108', 'removeFromCRL'],
  ['reasonCode aACompromise (10)', 'reasonCode', '0a010a', 'aACompromise'],
  ['invalidityDate', 'invalidityDate', T(0x18, A('20240102030405Z')), Date.UTC(2024, 0, 2, 3, 4, 5)],
  ['certificateIssuer', 'certificateIssuer', SEQ(T(0x82, A('ca.example'))), [dns('ca.example')]],
  ['SCT list kept raw', 'signedCertificateTimestampList', '0405000301abcd', h('000301abcd')],
  ['ocspNoCheck NULL', 'ocspNoCheck', '0500', true],
  ['holdInstructionCode reject', 'holdInstructionCode', '06072a8648ce380203', '1.2.840.10040.2.3'],
];

describe('extensions: canonical vectors decode and re-encode byte-identically', () => {
  for (const [label, ext, hex, value] of VECTORS)
    it(label, () => {
      const der = h(hex);
      assert.deepStrictEqual(C[ext].parse(der), value);
      assert.equal(toHex(enc(ext, value)), toHex(der));
    });
});

// ---- typed round trips: parse(encode(v)) deep-equals v ----

const ROUND_TRIPS: [label: string, ext: Ext, value: unknown][] = [
  ['KU every bit', 'keyUsage', X.keyUsageFromMask(0x1ff)],
  ['EKU many', 'extKeyUsage', [OID.serverAuth, OID.clientAuth, OID.codeSigning, '1.3.6.1.4.1.99999.1']],
  [
    'SAN all nine forms except x400/edi',
    'subjectAltName',
    [
      { type: 'otherName', typeId: OID.upn, value: h('0c0475406578') },
      { type: 'rfc822Name', value: 'a@b.example' },
      dns('*.example.com'),
      dirName('CN=x,O=y,C=US'),
      uri('https://example.com/p?q'),
      ip(192, 168, 1, 1),
      { type: 'registeredID', value: '1.2.3.4' },
    ],
  ],
  [
    'AKI all three fields',
    'authorityKeyIdentifier',
    {
      keyIdentifier: h('0102'),
      authorityCertIssuer: [dirName('CN=Root')],
      authorityCertSerialNumber: h('00ff'),
    },
  ],
  [
    'AKI negative serial kept as INTEGER content',
    'authorityKeyIdentifier',
    { authorityCertIssuer: [dns('a.example')], authorityCertSerialNumber: h('ff7f') },
  ],
  [
    'NC min/max decoded and exposed',
    'nameConstraints',
    { permittedSubtrees: [{ base: dirName('O=Acme'), minimum: 1, maximum: 3 }] },
  ],
  [
    'NC IPv6 constraint',
    'nameConstraints',
    {
      excludedSubtrees: [
        {
          base: ip(...new Array(16).fill(0x20), ...new Array(8).fill(0xff), ...new Array(8).fill(0)),
          minimum: 0,
        },
      ],
    },
  ],
  [
    'CP UserNotice with noticeRef, every DisplayText type',
    'certificatePolicies',
    (['utf8String', 'ia5String', 'visibleString', 'bmpString'] as const).map((t, i) => ({
      policyIdentifier: `1.2.3.${i}`,
      policyQualifiers: [
        {
          policyQualifierId: OID.userNotice,
          qualifier: new Uint8Array(0),
          userNotice: {
            noticeRef: { organization: `Org ${t}`, noticeNumbers: [1, 2, 300], organizationType: t },
            explicitText: `Text ${t}`,
            explicitTextType: t,
          },
        },
      ],
    })),
  ],
  [
    'CP unknown qualifier kept raw',
    'certificatePolicies',
    [
      {
        policyIdentifier: '1.2.3',
        policyQualifiers: [{ policyQualifierId: '1.2.9', qualifier: h('020105') }],
      },
    ],
  ],
  [
    'CRLDP nameRelativeToCRLIssuer',
    'cRLDistributionPoints',
    [{ distributionPoint: { nameRelativeToCRLIssuer: Name.parse('CN=CRL1').rdns[0] } }],
  ],
  [
    'IDP all flags',
    'issuingDistributionPoint',
    {
      onlyContainsUserCerts: true,
      onlyContainsCACerts: true,
      onlySomeReasons: X.reasonFlagsFromMask(0x1ff),
      indirectCRL: true,
      onlyContainsAttributeCerts: true,
    },
  ],
  ['cRLNumber large', 'cRLNumber', 0x0123456789abcdef0123456789n],
];

describe('extensions: typed values round-trip (parse(encode(v)) == v)', () => {
  for (const [label, ext, value] of ROUND_TRIPS)
    it(label, () => {
      const der = enc(ext, value);
      const back = C[ext].parse(der) as Record<string, unknown>;
      if (ext === 'certificatePolicies') {
        // `qualifier` is an output (the TLV as decoded); compare it against the bytes written.
        for (const p of back as unknown as X.PolicyInformation[])
          for (const q of p.policyQualifiers ?? []) if (q.userNotice) q.qualifier = new Uint8Array(0);
      }
      assert.deepStrictEqual(back, value);
      assert.equal(toHex(enc(ext, back)), toHex(der));
    });
});

// ---- tolerated non-canonical encodings: decode, and the encoder writes the canonical form ----

const TOLERATED: [label: string, ext: Ext, hex: string, canonical: string][] = [
  ['BC explicit cA FALSE (webpki/Go tolerance)', 'basicConstraints', '3003010100', '3000'],
  ['BC explicit cA FALSE with pathLen', 'basicConstraints', '3006010100020101', '3003020101'],
  ['KU spare zero octet (Trustwave Global ECC roots)', 'keyUsage', '0303070600', '03020106'],
  ['KU unused-bits 0 instead of 1', 'keyUsage', '03020006', '03020106'],
  ['IDP explicit FALSE booleans', 'issuingDistributionPoint', '30068101008401ff', '30038401ff'],
];

describe('extensions: tolerated non-canonical encodings', () => {
  for (const [label, ext, hex, canonical] of TOLERATED)
    it(label, () => {
      const v = C[ext].parse(h(hex));
      assert.equal(toHex(enc(ext, v)), canonical);
    });
});

// ---- hostile encodings ----

const HOSTILE: [label: string, ext: Ext, hex: string, code: string][] = [
  ['BC trailing byte after SEQUENCE', 'basicConstraints', '30030101ff00', 'trailing-data'],
  ['BC trailing field in SEQUENCE', 'basicConstraints', '30090101ff0201000201ff', 'trailing-data'],
  ['BC BOOLEAN 01', 'basicConstraints', '3003010101', 'bad-boolean'],
  ['BC negative pathLen', 'basicConstraints', '30060101ff0201ff', 'integer-out-of-range'],
  ['BC pathLen 2^31', 'basicConstraints', '300a0101ff02050080000000', 'integer-out-of-range'],
  ['BC non-minimal pathLen', 'basicConstraints', '30070101ff02020001', 'bad-integer'],
  ['BC SET instead of SEQUENCE', 'basicConstraints', '31030101ff', 'unexpected-tag'],
  ['BC indefinite length', 'basicConstraints', '30800101ff0000', 'indefinite-length'],
  ['BC truncated', 'basicConstraints', '30050101ff', 'truncated'],
  ['KU no bits (empty BIT STRING)', 'keyUsage', '030100', 'bad-extension'],
  ['KU all-zero octet', 'keyUsage', '03020000', 'bad-extension'],
  ['KU non-zero padding bits', 'keyUsage', '03020781', 'bad-bit-string'],
  ['KU unused bits 8', 'keyUsage', '03020880', 'bad-bit-string'],
  ['KU undefined bit 9', 'keyUsage', '0303060040', 'bad-extension'],
  ['KU OCTET STRING instead of BIT STRING', 'keyUsage', '040180', 'unexpected-tag'],
  ['EKU empty', 'extKeyUsage', '3000', 'empty-sequence'],
  ['EKU INTEGER element', 'extKeyUsage', '3003020101', 'unexpected-tag'],
  ['EKU OID with non-minimal arc', 'extKeyUsage', '300406022a80', 'bad-oid'],
  ['SAN empty', 'subjectAltName', '3000', 'empty-sequence'],
  [
    'SAN iPAddress 8 octets (constraint form)',
    'subjectAltName',
    '300a8708c0a80000ffffff00',
    'bad-general-name',
  ],
  ['SAN iPAddress 5 octets', 'subjectAltName', '30078705c0a8000001', 'bad-general-name'],
  ['SAN tag [9] is no GeneralName', 'subjectAltName', '3003890141', 'unexpected-tag'],
  ['SAN dNSName with 8-bit byte', 'subjectAltName', '30038201e9', 'bad-string'],
  ['SAN directoryName not constructed', 'subjectAltName', '300484023000', 'unexpected-tag'],
  ['IAN empty', 'issuerAltName', '3000', 'empty-sequence'],
  ['certificateIssuer empty', 'certificateIssuer', '3000', 'empty-sequence'],
  ['SKI BIT STRING', 'subjectKeyIdentifier', '03020001', 'unexpected-tag'],
  ['AKI fields out of order', 'authorityKeyIdentifier', '30068201018001aa', 'trailing-data'],
  ['AKI empty authorityCertIssuer', 'authorityKeyIdentifier', '3002a100', 'empty-sequence'],
  ['AKI serial longer than its SEQUENCE', 'authorityKeyIdentifier', '3004820200', 'truncated'],
  ['AKI serial with redundant 00', 'authorityKeyIdentifier', '300482020001', 'bad-integer'],
  ['NC empty SEQUENCE', 'nameConstraints', '3000', 'empty-sequence'],
  ['NC empty permittedSubtrees', 'nameConstraints', '3002a000', 'empty-sequence'],
  ['NC IPv4 constraint without mask', 'nameConstraints', '300aa008300687040a000000', 'bad-general-name'],
  [
    'NC IPv6 address without mask',
    'nameConstraints',
    SEQ(T(0xa0, SEQ(T(0x87, `${'00'.repeat(15)}01`)))),
    'bad-general-name',
  ],
  ['NC explicit minimum 0', 'nameConstraints', '300ca00a30088203612e62800100', 'default-value-encoded'],
  ['NC negative maximum', 'nameConstraints', '300ca00a30088203612e628101ff', 'integer-out-of-range'],
  [
    'NC subtree with junk after maximum',
    'nameConstraints',
    '300fa00d300b8203612e62810101020100',
    'trailing-data',
  ],
  ['CP empty', 'certificatePolicies', '3000', 'empty-sequence'],
  ['CP duplicate policy', 'certificatePolicies', '300c300406022a03300406022a03', 'bad-extension'],
  ['CP empty policyQualifiers', 'certificatePolicies', '3008300606022a033000', 'empty-sequence'],
  [
    'CP CPS as UTF8String',
    'certificatePolicies',
    SEQ(SEQ('06022a03', SEQ(SEQ(oidHex(OID.cps), '0c0161')))),
    'unexpected-tag',
  ],
  [
    'CP explicitText as PrintableString',
    'certificatePolicies',
    SEQ(SEQ('06022a03', SEQ(SEQ(oidHex(OID.userNotice), SEQ('13026869'))))),
    'unexpected-tag',
  ],
  [
    'CP UserNotice with trailing element',
    'certificatePolicies',
    SEQ(SEQ('06022a03', SEQ(SEQ(oidHex(OID.userNotice), SEQ('0c026869', '0500'))))),
    'trailing-data',
  ],
  ['PM empty', 'policyMappings', '3000', 'empty-sequence'],
  ['PM missing subjectDomainPolicy', 'policyMappings', '3006300406022a03', 'truncated'],
  ['PC empty SEQUENCE', 'policyConstraints', '3000', 'empty-sequence'],
  ['PC negative SkipCerts', 'policyConstraints', '30038001ff', 'integer-out-of-range'],
  ['PC fields out of order', 'policyConstraints', '3006810100800100', 'trailing-data'],
  ['inhibitAnyPolicy negative', 'inhibitAnyPolicy', '0201ff', 'integer-out-of-range'],
  ['inhibitAnyPolicy ENUMERATED', 'inhibitAnyPolicy', '0a0101', 'unexpected-tag'],
  ['CRLDP empty', 'cRLDistributionPoints', '3000', 'empty-sequence'],
  [
    'CRLDP DistributionPointName [2]',
    'cRLDistributionPoints',
    SEQ(SEQ(T(0xa0, T(0xa2, '8200')))),
    'unexpected-tag',
  ],
  ['CRLDP empty fullName', 'cRLDistributionPoints', '30063004a002a000', 'empty-sequence'],
  [
    'CRLDP nameRelativeToCRLIssuer unsorted',
    'cRLDistributionPoints',
    SEQ(SEQ(T(0xa0, T(0xa1, SEQ('060355040a', '0c0162'), SEQ('0603550403', '0c0161'))))),
    'set-not-sorted',
  ],
  ['CRLDP reasons with bit 9', 'cRLDistributionPoints', SEQ(SEQ('8103060040')), 'bad-extension'],
  ['freshestCRL empty', 'freshestCRL', '3000', 'empty-sequence'],
  ['AIA empty', 'authorityInfoAccess', '3000', 'empty-sequence'],
  ['AIA missing accessLocation', 'authorityInfoAccess', SEQ(SEQ(oidHex(OID.ocsp))), 'unexpected-tag'],
  ['SIA empty', 'subjectInfoAccess', '3000', 'empty-sequence'],
  ['SDA empty', 'subjectDirectoryAttributes', '3000', 'empty-sequence'],
  [
    'SDA attribute without values',
    'subjectDirectoryAttributes',
    SEQ(SEQ('060155', '3100')),
    'empty-sequence',
  ],
  [
    'SDA values unsorted',
    'subjectDirectoryAttributes',
    SEQ(SEQ('060155', T(0x31, '13014d', '130141'))),
    'set-not-sorted',
  ],
  ['cRLNumber negative', 'cRLNumber', '0201ff', 'integer-out-of-range'],
  ['cRLNumber 21 octets', 'cRLNumber', `0215${'01'.repeat(21)}`, 'integer-out-of-range'],
  ['deltaCRLIndicator negative', 'deltaCRLIndicator', '020180', 'integer-out-of-range'],
  ['IDP empty SEQUENCE', 'issuingDistributionPoint', '3000', 'empty-sequence'],
  ['IDP BOOLEAN 01', 'issuingDistributionPoint', '3003810101', 'bad-boolean'],
  ['IDP BOOLEAN length 2', 'issuingDistributionPoint', '30048102ffff', 'bad-boolean'],
  ['IDP flags out of order', 'issuingDistributionPoint', '30068401ff8101ff', 'trailing-data'],
  ['reasonCode 7 (unused)', 'reasonCode', '0a0107', 'bad-extension'],
  ['reasonCode 11', 'reasonCode', '0a010b', 'bad-extension'],
  ['reasonCode negative', 'reasonCode', '0a01ff', 'integer-out-of-range'],
  ['reasonCode as INTEGER', 'reasonCode', '020101', 'unexpected-tag'],
  ['invalidityDate as UTCTime', 'invalidityDate', '170d3234303130323033303430355a', 'unexpected-tag'],
  ['invalidityDate with fraction', 'invalidityDate', '181132303234303130323033303430352e355a', 'bad-time'],
  ['invalidityDate without Z', 'invalidityDate', '180e3230323430313032303330343035', 'bad-time'],
  ['SCT list as BIT STRING', 'signedCertificateTimestampList', '03020000', 'unexpected-tag'],
  ['ocspNoCheck NULL with content', 'ocspNoCheck', '050100', 'bad-null'],
  ['ocspNoCheck empty extnValue', 'ocspNoCheck', '', 'truncated'],
  ['holdInstructionCode empty OID', 'holdInstructionCode', '0600', 'bad-oid'],
];

function codeOf(e: unknown): string {
  if (e instanceof DerError || e instanceof X509Error) return e.code;
  throw e;
}

describe('extensions: hostile encodings are rejected with their code', () => {
  for (const [label, ext, hex, code] of HOSTILE)
    it(label, () => {
      let got: string | undefined;
      try {
        C[ext].parse(h(hex));
      } catch (e) {
        got = codeOf(e);
      }
      assert.equal(got, code);
    });
});

describe('extensions: registry and offsets', () => {
  it('every extension is registered under its OID and name', () => {
    const expected: [string, string][] = [
      [OID.basicConstraints, 'basicConstraints'],
      [OID.keyUsage, 'keyUsage'],
      [OID.extKeyUsage, 'extKeyUsage'],
      [OID.subjectAltName, 'subjectAltName'],
      [OID.issuerAltName, 'issuerAltName'],
      [OID.subjectKeyIdentifier, 'subjectKeyIdentifier'],
      [OID.authorityKeyIdentifier, 'authorityKeyIdentifier'],
      [OID.nameConstraints, 'nameConstraints'],
      [OID.certificatePolicies, 'certificatePolicies'],
      [OID.policyMappings, 'policyMappings'],
      [OID.policyConstraints, 'policyConstraints'],
      [OID.inhibitAnyPolicy, 'inhibitAnyPolicy'],
      [OID.cRLDistributionPoints, 'cRLDistributionPoints'],
      [OID.freshestCRL, 'freshestCRL'],
      [OID.authorityInfoAccess, 'authorityInfoAccess'],
      [OID.subjectInfoAccess, 'subjectInfoAccess'],
      [OID.subjectDirectoryAttributes, 'subjectDirectoryAttributes'],
      [OID.cRLNumber, 'cRLNumber'],
      [OID.deltaCRLIndicator, 'deltaCRLIndicator'],
      [OID.issuingDistributionPoint, 'issuingDistributionPoint'],
      [OID.reasonCode, 'reasonCode'],
      [OID.invalidityDate, 'invalidityDate'],
      [OID.certificateIssuer, 'certificateIssuer'],
      ['1.3.6.1.4.1.11129.2.4.2', 'signedCertificateTimestampList'],
      [OID.ocspNoCheck, 'ocspNoCheck'],
      [OID.holdInstructionCode, 'holdInstructionCode'],
    ];
    for (const [oid, name] of expected) assert.equal(X.extensionName(oid), name, oid);
  });

  it('errors carry absolute offsets (extnValue offset added)', () => {
    // The bad BOOLEAN is at offset 2 inside the value; the value sits at offset 100.
    for (const base of [0, 100]) {
      try {
        X.parseBasicConstraints(h('3003010101'), base);
        assert.fail('expected an error');
      } catch (e) {
        assert.ok(e instanceof DerError);
        assert.equal(e.offset, base + 2);
        assert.match(e.message, new RegExp(`\\(offset ${base + 2}\\)$`));
        assert.deepEqual(e.path.slice(0, 2), ['extnValue', 'BasicConstraints']);
      }
    }
  });

  it('X509Error offsets are shifted too', () => {
    try {
      X.parseSubjectAltName(h('300a8708c0a80000ffffff00'), 50);
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof X509Error);
      assert.equal(e.code, 'bad-general-name');
      assert.equal(e.offset, 52);
    }
  });

  it('decodeExtension wraps codec errors as bad-extension with the name in the path', () => {
    const value = h('3003010101');
    try {
      X.decodeExtension({ oid: OID.basicConstraints, critical: true, value, der: value }, 10);
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof X509Error);
      assert.equal(e.code, 'bad-extension');
      assert.equal(e.offset, 12);
      assert.equal(e.path?.[0], 'basicConstraints');
      assert.equal(e.message.match(/offset/g)?.length, 1);
    }
  });

  it('unknown OIDs are not decoded', () => {
    const value = h('0500');
    assert.equal(X.decodeExtension({ oid: '1.2.3.4', critical: false, value, der: value }), undefined);
  });
});

describe('extensions: encoder input checks', () => {
  const rows: [string, () => unknown][] = [
    ['KU with no bits', () => X.encodeKeyUsage(X.keyUsageFromMask(0))],
    ['empty EKU', () => X.encodeExtKeyUsage([])],
    ['empty SAN', () => X.encodeSubjectAltName([])],
    ['SAN with an 8-octet iPAddress', () => X.encodeSubjectAltName([ip(1, 2, 3, 4, 255, 0, 0, 0)])],
    [
      'NC with a 4-octet iPAddress',
      () => X.encodeNameConstraints({ permittedSubtrees: [{ base: ip(1, 2, 3, 4), minimum: 0 }] }),
    ],
    ['NC with nothing', () => X.encodeNameConstraints({})],
    [
      'duplicate policies',
      () => X.encodeCertificatePolicies([{ policyIdentifier: '1.2' }, { policyIdentifier: '1.2' }]),
    ],
    ['empty policyConstraints', () => X.encodePolicyConstraints({})],
    [
      'empty IDP',
      () =>
        X.encodeIssuingDistributionPoint({
          onlyContainsUserCerts: false,
          onlyContainsCACerts: false,
          indirectCRL: false,
          onlyContainsAttributeCerts: false,
        }),
    ],
    ['negative CRL number', () => X.encodeCRLNumber(-1n)],
    ['21-octet CRL number', () => X.encodeCRLNumber(1n << 160n)],
    ['unknown CRLReason', () => X.encodeReasonCode('bogus' as X.CRLReason)],
    ['inhibitAnyPolicy -1', () => X.encodeInhibitAnyPolicy(-1)],
  ];
  for (const [label, fn] of rows)
    it(label, () => {
      assert.throws(fn, (e: unknown) => e instanceof X509Error || e instanceof DerError);
    });
});

describe('isContiguousMask', () => {
  const rows: [string, number[], boolean][] = [
    ['/0', [0, 0, 0, 0], true],
    ['/8', [255, 0, 0, 0], true],
    ['/20', [255, 255, 240, 0], true],
    ['/32', [255, 255, 255, 255], true],
    ['hole', [255, 0, 255, 0], false],
    ['non-prefix octet', [255, 0b10100000, 0, 0], false],
    ['bits after a partial octet', [255, 0b11110000, 1, 0], false],
  ];
  for (const [label, mask, want] of rows)
    it(label, () => assert.equal(X.isContiguousMask(Uint8Array.from(mask)), want));
});
