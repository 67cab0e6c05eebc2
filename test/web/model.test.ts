// The dashboard's view models, outside the browser: the inventory's URL ⇄ admin API query, chart
// axes and UTC day ranges, the chain-of-trust model from a real chain (examples/device-chain.pem),
// the client-side routes, and the formatting of names.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { CaInfo, CertificateDetail } from '../../src/server/api/schemas.js';
import { commonName, relative, shortHex } from '../../src/web/app/format.js';
import { chainNodes, pemBlocks } from '../../src/web/app/model/chain.js';
import { filtersOf, searchOf, sortOf, urlOf } from '../../src/web/app/model/inventory-query.js';
import { dayRange, niceScale } from '../../src/web/app/model/scale.js';
import { parseRoute } from '../../src/web/app/router.js';
import { parseCertificates } from '../../src/x509/certificate.js';

const NOW = Date.UTC(2026, 11, 31, 23, 30); // half an hour before a new year, UTC
const DAY = 86_400_000;

describe('inventory URL → admin API query', () => {
  const rows: { name: string; url: string; want: Record<string, unknown> }[] = [
    { name: 'no filter: newest first, 50', url: '', want: { sort: 'issuedAt', order: 'desc', limit: 50 } },
    {
      name: 'a bare SAN is a DNS name',
      url: 'san=device-1.fleet.example',
      want: { sort: 'issuedAt', order: 'desc', limit: 50, san: 'dns:device-1.fleet.example' },
    },
    {
      name: 'a typed SAN and a prefix are passed as they are',
      url: 'san=ip:10.0.0.1&subject=device-00&serial=4f2a',
      want: {
        sort: 'issuedAt',
        order: 'desc',
        limit: 50,
        san: 'ip:10.0.0.1',
        subject: 'device-00',
        serial: '4f2a',
      },
    },
    {
      name: 'an expiry window sorts by expiry, soonest first, from now',
      url: 'expires=7d&status=valid',
      want: {
        sort: 'notAfter',
        order: 'asc',
        limit: 50,
        status: 'valid',
        expiresAfter: new Date(NOW).toISOString(),
        expiresBefore: new Date(NOW + 7 * DAY).toISOString(),
      },
    },
    {
      name: 'a custom window covers whole UTC days, the last one included',
      url: 'expires=custom&from=2027-01-01&to=2027-01-03&sort=issuedAt&order=asc',
      want: {
        sort: 'issuedAt',
        order: 'asc',
        limit: 50,
        expiresAfter: '2027-01-01T00:00:00.000Z',
        expiresBefore: '2027-01-04T00:00:00.000Z',
      },
    },
    {
      name: 'a malformed custom day is ignored, not sent',
      url: 'expires=custom&from=yesterday',
      want: { sort: 'notAfter', order: 'asc', limit: 50 },
    },
    {
      name: 'profile, issuer, page size and cursor',
      url: 'profile=device&issuer=issuing&limit=100&cursor=abc',
      want: {
        sort: 'issuedAt',
        order: 'desc',
        limit: 100,
        profile: 'device',
        issuer: 'issuing',
        cursor: 'abc',
      },
    },
  ];
  for (const r of rows)
    test(r.name, () => {
      const q = new URLSearchParams(r.url);
      const f = filtersOf(q);
      const limit = Number(q.get('limit') ?? 50);
      assert.deepEqual(searchOf(f, sortOf(q, f), limit, q.get('cursor') ?? undefined, NOW), r.want);
    });

  test('the URL written for a query reads back as the same query', () => {
    for (const r of rows) {
      const q = new URLSearchParams(r.url);
      const f = filtersOf(q);
      const sort = sortOf(q, f);
      const limit = q.get('limit') ?? '50';
      const url = urlOf(f, sort, limit, q.get('cursor') ?? undefined);
      const back = new URL(url, 'https://x');
      assert.equal(back.pathname, '/certificates');
      const f2 = filtersOf(back.searchParams);
      assert.deepEqual(f2, f, r.name);
      assert.equal(sortOf(back.searchParams, f2), sort, r.name);
    }
  });
});

describe('chart axes', () => {
  const scales: [number, { max: number; step: number }][] = [
    [0, { max: 1, step: 1 }],
    [1, { max: 1, step: 1 }],
    [4, { max: 4, step: 1 }],
    [5, { max: 6, step: 2 }],
    [9, { max: 10, step: 5 }],
    [37, { max: 40, step: 10 }],
    [180, { max: 200, step: 50 }],
    [1234, { max: 1500, step: 500 }],
    [999_999, { max: 1_000_000, step: 250_000 }],
  ];
  for (const [n, want] of scales)
    test(`niceScale(${n})`, () => {
      const s = niceScale(n);
      assert.deepEqual(s, want);
      assert.ok(s.max >= n && s.max / s.step <= 5);
    });

  test('UTC days across a month, a year and a leap day', () => {
    assert.deepEqual(dayRange('2026-12-30', 4), ['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
    assert.deepEqual(dayRange('2028-02-28', 3), ['2028-02-28', '2028-02-29', '2028-03-01']);
    assert.equal(dayRange('2026-12-05', 90).length, 90);
    assert.equal(dayRange('2026-12-05', 90).at(-1), '2027-03-04');
  });
});

describe('chain of trust model', () => {
  const pem = readFileSync(new URL('../../examples/device-chain.pem', import.meta.url), 'utf8');
  const [leaf, int, root] = parseCertificates(pem) as [
    ReturnType<typeof parseCertificates>[number],
    ReturnType<typeof parseCertificates>[number],
    ReturnType<typeof parseCertificates>[number],
  ];
  const ca = (c: typeof root, id: string, role: 'root' | 'intermediate'): CaInfo => ({
    id,
    lineage: id,
    role,
    status: 'active',
    isDefault: role === 'intermediate',
    subject: c.subject.toString(),
    serial: c.serialHex,
    notBefore: new Date(c.notBefore).toISOString(),
    notAfter: new Date(c.notAfter).toISOString(),
    keyAlgorithm: 'EC P-256',
    keyStorage: 'file',
    fingerprint: 'ab'.repeat(32),
    createdAt: new Date(c.notBefore).toISOString(),
    // Line breaks differ from the chain's on purpose: blocks are compared without whitespace.
    certificatePem: c.toPem().replaceAll('\n', '\r\n'),
    ocsp: { served: role === 'intermediate', responsesSent: 0 },
    chainPath: `/ca/${id}/chain.pem`,
    issued: 1,
  });
  const detail: CertificateDetail = {
    issuer: 'fleet-issuing-1',
    serial: leaf.serialHex,
    state: 'issued',
    status: 'valid',
    profile: 'device',
    subject: leaf.subject.toString(),
    sans: [],
    notBefore: new Date(leaf.notBefore).toISOString(),
    notAfter: new Date(leaf.notAfter).toISOString(),
    requester: 'admin:token:0123456789abcdef',
    chainPem: int.toPem() + root.toPem(),
  };

  test('pemBlocks finds each certificate of a bundle', () => {
    assert.equal(pemBlocks(pem).length, 3);
    assert.equal(pemBlocks('no PEM here').length, 0);
  });

  test('the nodes run from the root to the certificate, matched to the hierarchy', () => {
    const nodes = chainNodes(detail, [
      ca(int, 'fleet-issuing-1', 'intermediate'),
      ca(root, 'fleet-root', 'root'),
    ]);
    assert.deepEqual(
      nodes.map((n) => [n.role, n.subject, n.caId, n.known]),
      [
        ['root', root.subject.toString(), 'fleet-root', true],
        ['intermediate', int.subject.toString(), 'fleet-issuing-1', true],
        ['leaf', leaf.subject.toString(), undefined, true],
      ],
    );
  });

  test('a CA of the chain that the hierarchy does not hold is shown as unknown, not guessed', () => {
    const nodes = chainNodes(detail, [ca(root, 'fleet-root', 'root')]);
    assert.deepEqual(
      nodes.map((n) => [n.role, n.known]),
      [
        ['root', true],
        ['intermediate', false],
        ['leaf', true],
      ],
    );
  });
});

describe('routes and names', () => {
  const routes: [string, unknown][] = [
    ['/', { view: 'overview' }],
    ['/hierarchy', { view: 'hierarchy' }],
    ['/expiry', { view: 'expiry' }],
    ['/enrollment', { view: 'enrollment' }],
    ['/certificates/issuing/4f2a', { view: 'certificate', issuer: 'issuing', serial: '4f2a' }],
    ['/certificates/a%2Fb/4f2a', { view: 'certificate', issuer: 'a/b', serial: '4f2a' }],
    ['/certificates/issuing', { view: 'not-found' }],
    ['/nothing', { view: 'not-found' }],
  ];
  for (const [path, want] of routes)
    test(`route ${path}`, () => assert.deepEqual(parseRoute({ pathname: path, search: '' }), want));

  const names: [string, string][] = [
    ['CN=device-1,O=Acme', 'device-1'],
    ['O=Acme,CN=device-2', 'device-2'],
    ['CN=Acme\\, Inc. Device,O=Acme', 'Acme, Inc. Device'],
    ['O=Acme', 'O=Acme'],
    ['', '(empty subject)'],
  ];
  for (const [subject, want] of names)
    test(`commonName(${JSON.stringify(subject)})`, () => assert.equal(commonName(subject), want));

  test('relative times and short hex', () => {
    assert.equal(relative(NOW + 3 * DAY, NOW), 'in 3 days');
    assert.equal(relative(NOW - 5 * 3_600_000, NOW), '5 hours ago');
    assert.equal(relative(NOW + 400 * DAY, NOW), 'in 1 year');
    assert.equal(shortHex('00112233445566778899', 4), '0011…8899');
    assert.equal(shortHex('abcd', 4), 'abcd');
  });
});
