import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatIpAddress,
  matchDnsName,
  matchEmail,
  normalizeDnsReference,
  parseIpAddress,
  parseMailbox,
  parseUriHost,
} from '../../src/verify/names.js';

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);

describe('matchDnsName (RFC 9525)', () => {
  const rows: [string, string, string, boolean][] = [
    ['exact', 'example.com', 'example.com', true],
    ['case-insensitive', 'EXAMPLE.com', 'example.COM', true],
    ['trailing dot on reference', 'example.com', 'example.com.', true],
    ['trailing dot on presented', 'example.com.', 'example.com', true],
    ['different domain', 'example.com', 'example2.com', false],
    ['apex vs subdomain', 'example.com', 'abc.example.com', false],
    ['subdomain vs apex', 'abc.example.com', 'example.com', false],
    ['wildcard one label', '*.example.com', 'foo.example.com', true],
    ['wildcard A-label reference', '*.example.com', 'xn--bliss-1b3c148a.example.com', true],
    ['wildcard does not span labels', '*.example.com', 'foo.bar.example.com', false],
    ['wildcard does not match apex', '*.example.com', 'example.com', false],
    ['partial wildcard', 'ba*.example.com', 'baz.example.com', false],
    ['partial wildcard suffix', '*z.example.com', 'baz.example.com', false],
    ['wildcard not leftmost', 'foo.*.example.com', 'foo.bar.example.com', false],
    ['wildcard inside A-label', 'xn--*-1b3c148a.example.com', 'xn--bliss-1b3c148a.example.com', false],
    ['bare wildcard', '*', 'example.com', false],
    ['wildcard over TLD', '*.com', 'example.com', false],
    ['A-labels case-insensitive', 'XN--N3H.com', 'xn--n3h.com', true],
    ['U-label presented', '😜.example.com', 'xn--628h.example.com', false],
    ['underscore presented', 'foo_bar.example.com', 'foo_bar.example.com', false],
    ['IP literal as DNS reference', '8.8.8.8', '8.8.8.8', false],
    ['empty reference', 'example.com', '', false],
    ['double dot reference', 'example.com', 'example..com', false],
    ['label too long', `${'a'.repeat(64)}.com`, `${'a'.repeat(64)}.com`, false],
    ['leading hyphen', '-a.com', '-a.com', false],
    ['wildcard reference is not a name', '*.example.com', '*.example.com', false],
  ];
  for (const [name, presented, reference, expected] of rows)
    it(name, () => assert.equal(matchDnsName(presented, reference), expected));
  it('normalizes', () => assert.equal(normalizeDnsReference('Foo.Example.COM.'), 'foo.example.com'));
});

describe('parseIpAddress', () => {
  const rows: [string, string, string | undefined][] = [
    ['v4', '192.0.2.1', 'c0000201'],
    ['v4 zero', '0.0.0.0', '00000000'],
    ['v4 leading zero', '192.168.001.001', undefined],
    ['v4 hex', '0xC0A80101', undefined],
    ['v4 too few', '1.2.3', undefined],
    ['v4 too many', '1.2.3.4.5', undefined],
    ['v4 overflow', '256.1.1.1', undefined],
    ['v4 empty part', '1..2.3', undefined],
    ['v6 loopback', '::1', '00000000000000000000000000000001'],
    ['v6 any', '::', '00000000000000000000000000000000'],
    ['v6 full', '2001:0db8:0000:0000:0000:0000:0000:0001', '20010db8000000000000000000000001'],
    ['v6 compressed middle', '2001:db8::1:0:0:1', '20010db8000000000001000000000001'],
    ['v6 trailing ::', '2001:db8::', '20010db8000000000000000000000000'],
    ['v6 upper case', '2001:DB8::8A2E:370:7334', '20010db80000000000008a2e03707334'],
    ['v6 embedded v4', '::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['v6 two ::', '1::2::3', undefined],
    ['v6 too many groups', '1:2:3:4:5:6:7:8:9', undefined],
    ['v6 :: standing for nothing', '1:2:3:4::5:6:7:8', undefined],
    ['v6 group too long', '12345::', undefined],
    ['v6 single leading colon', ':1::', undefined],
    ['v6 trailing colon', '1::2:', undefined],
    ['v6 zone id', 'fe80::1%eth0', undefined],
    ['v6 v4 not last', '::1.2.3.4:5', undefined],
    ['v6 seven groups', '1:2:3:4:5:6:7', undefined],
  ];
  for (const [name, text, expected] of rows)
    it(name, () => assert.equal(hex(parseIpAddress(text)), expected));
});

describe('formatIpAddress (RFC 5952)', () => {
  const rows: [string, string][] = [
    ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001'],
    ['2001:db8::1:0:0:1', '2001:db8:0:0:1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['192.0.2.1', '192.0.2.1'],
  ];
  for (const [expected, input] of rows)
    it(input, () => assert.equal(formatIpAddress(parseIpAddress(input)!), expected));
});

describe('email', () => {
  const rows: [string, string, string, boolean][] = [
    ['exact', 'foo@example.com', 'foo@example.com', true],
    ['domain case', 'foo@EXAMPLE.com', 'foo@example.com', true],
    ['local part case matters', 'Foo@example.com', 'foo@example.com', false],
    ['asterisk is literal', '*@example.com', 'user@example.com', false],
    ['two at signs', 'invalid@invalid@example.com', 'invalid@invalid@example.com', false],
    ['quoted local part with @', '"a@b"@example.com', '"a@b"@example.com', true],
  ];
  for (const [name, p, r, expected] of rows) it(name, () => assert.equal(matchEmail(p, r), expected));
  it('rejects empty local part', () => assert.equal(parseMailbox('@example.com'), undefined));
  it('rejects dot at start', () => assert.equal(parseMailbox('.a@example.com'), undefined));
});

describe('parseUriHost', () => {
  const rows: [string, string, string | undefined][] = [
    ['https host', 'https://Example.com/path', 'dns:example.com'],
    ['userinfo and port', 'mqtts://user:pw@broker.example.com:8883/x', 'dns:broker.example.com'],
    ['ipv6', 'https://[::1]:443/', 'ip:00000000000000000000000000000001'],
    ['ipv4', 'http://192.0.2.1/', 'ip:c0000201'],
    ['urn has no host', 'urn:uuid:1234', undefined],
    ['empty host', 'file:///etc/passwd', undefined],
    ['bad port', 'https://example.com:x/', undefined],
  ];
  for (const [name, uri, expected] of rows)
    it(name, () => {
      const h = parseUriHost(uri);
      assert.equal(
        h === undefined ? undefined : h.kind === 'dns' ? `dns:${h.name}` : `ip:${hex(h.address)}`,
        expected,
      );
    });
});
