// Name.parse has a fast path for plain RFC 4514 text; it must give exactly what the general
// parser gives (same DER, same parsed values), and leave everything else to the general parser
// (which then parses it or names the error).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Name, parseRfc4514 } from '../../src/x509/name.js';

const general = (text: string) => Name.fromRdns(parseRfc4514(text));

const SAME: readonly string[] = [
  'CN=device-0123456789abcdef,O=Acme',
  'CN=dev',
  'cn=dev,o=Acme,c=US',
  'CN = dev , O = Acme Corp ,C=DE',
  '  CN=dev;O=Acme',
  'CN=a=b,OU=x.y/z',
  'CN=',
  'CN=dev  ',
  'serialNumber=SN0042,CN=sensor,OU=Sensors,O=Example Fleet GmbH,L=Berlin,ST=BE,C=DE',
  'emailAddress=ops@example.com,DC=example,DC=com',
  'E=ops@example.com,CN=x',
  `CN=${'x'.repeat(130)},O=${'y'.repeat(300)}`,
  'UID=alice,street=Main St 1,postalCode=10115,title=Dr,GN=Al,SN=Ice,dnQualifier=q1',
  'jurisdictionC=DE,organizationIdentifier=VATDE-123,businessCategory=Private Organization',
  // Left to the general parser (escapes, quotes, '+', '#', dotted types, non-ASCII): same result either way.
  'CN=a\\,b,O=Acme',
  'CN="quoted, value",O=Acme',
  'CN=a+OU=b,O=Acme',
  'CN=#0c0378797a',
  '2.5.4.3=dev,O=Acme',
  'oid.2.5.4.3=dev',
  'CN=Jürgen,O=Ünited',
  'CN=dev\\ ',
  '',
];

describe('Name.parse: fast path equals the general parser', () => {
  for (const text of SAME)
    it(JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text), () => {
      const a = Name.parse(text);
      const b = general(text);
      assert.deepEqual(a.der, b.der);
      assert.deepEqual(a.rdns, b.rdns);
      assert.equal(a.toString(), b.toString());
    });

  for (const [text, message] of [
    ['C=USA', /countryName must be two letters/],
    ['C=D*', /PrintableString/],
    ['serialNumber=a@b', /PrintableString/],
    ['XX=1', /unknown attribute type "XX"/],
    ['CN=a,', /missing "="/],
    ['CN', /missing "="/],
  ] as const)
    it(`rejects ${JSON.stringify(text)} as before`, () => {
      assert.throws(() => Name.parse(text), message);
      assert.throws(() => general(text), message);
    });
});
