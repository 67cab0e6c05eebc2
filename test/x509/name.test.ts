import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeDer, OID, Tag, toHex } from '../../src/der/index.js';
import { Name, X509Error } from '../../src/x509/index.js';

describe('Name: RFC 4514 text → DER → text', () => {
  const rows: [string, string, string][] = [
    ['simple', 'CN=device-001,O=Acme,C=US', 'CN=device-001,O=Acme,C=US'],
    ['spaces around separators', ' CN = a , O = b ', 'CN=a,O=b'],
    ['escaped comma', 'CN=Acme\\, Inc.,C=US', 'CN=Acme\\, Inc.,C=US'],
    ['escaped plus and quote', 'CN=a\\+b\\"c', 'CN=a\\+b\\"c'],
    ['leading hash and space escaped', 'CN=\\#x,O=\\ y', 'CN=\\#x,O=\\ y'],
    ['trailing escaped space kept', 'CN=x\\ ', 'CN=x\\ '],
    ['hex-escaped UTF-8', 'CN=caf\\C3\\A9', 'CN=café'],
    ['multi-valued RDN', 'CN=a+OU=b,O=c', 'CN=a+OU=b,O=c'],
    ['quoted value', 'CN="a,b"', 'CN=a\\,b'],
    ['dotted OID type', '2.5.4.3=x', 'CN=x'],
    [
      'emailAddress and DC',
      'emailAddress=a@b.example,DC=example,DC=com',
      'emailAddress=a@b.example,DC=example,DC=com',
    ],
    ['empty name', '', ''],
  ];
  for (const [label, input, expected] of rows)
    it(label, () => {
      const n = Name.parse(input);
      assert.equal(n.toString(), expected);
      assert.equal(Name.fromDer(n.der).toString(), expected);
    });

  it('DER order is the reverse of the text', () => {
    const n = Name.parse('CN=leaf,O=Acme,C=US');
    assert.deepEqual(
      n.rdns.map((r) => r[0]!.type),
      [OID.countryName, OID.organizationName, OID.commonName],
    );
    assert.equal(n.commonName, 'leaf');
  });

  it('string types follow RFC 5280 defaults', () => {
    const n = Name.parse('C=US,serialNumber=123,emailAddress=a@b.c,CN=x');
    const tags = Object.fromEntries(n.rdns.map((r) => [r[0]!.type, r[0]!.tag]));
    assert.equal(tags[OID.countryName], Tag.PrintableString);
    assert.equal(tags[OID.serialNumber], Tag.PrintableString);
    assert.equal(tags[OID.emailAddress], Tag.IA5String);
    assert.equal(tags[OID.commonName], Tag.UTF8String);
  });

  const bad: [string, string][] = [
    ['unknown attribute type', 'FOO=bar'],
    ['missing equals', 'CN'],
    ['country of three letters', 'C=USA'],
    ['dangling escape', 'CN=x\\'],
  ];
  for (const [label, input] of bad)
    it(`rejects: ${label}`, () => {
      assert.throws(
        () => Name.parse(input),
        (e: unknown) => e instanceof X509Error,
      );
    });
});

describe('Name: RFC 5280 §7.1 comparison', () => {
  const atv = (type: string, tag: number, value: string) =>
    encodeDer((w) =>
      w.setOf((w) =>
        w.sequence((w) => {
          w.oid(type);
          if (tag === Tag.PrintableString) w.printableString(value);
          else if (tag === Tag.IA5String) w.ia5String(value);
          else w.utf8String(value, tag);
        }),
      ),
    );
  const name = (...rdns: Uint8Array[]) =>
    Name.fromDer(
      encodeDer((w) =>
        w.sequence((w) => {
          for (const r of rdns) w.raw(r);
        }),
      ),
    );
  const rows: [string, Name, Name, boolean][] = [
    [
      'PrintableString vs UTF8String, same text',
      name(atv(OID.commonName, Tag.PrintableString, 'Test CA')),
      name(atv(OID.commonName, Tag.UTF8String, 'Test CA')),
      true,
    ],
    [
      'case-insensitive',
      name(atv(OID.organizationName, Tag.UTF8String, 'ACME Corp')),
      name(atv(OID.organizationName, Tag.PrintableString, 'acme corp')),
      true,
    ],
    [
      'whitespace folded and trimmed',
      name(atv(OID.commonName, Tag.PrintableString, '  Test   CA ')),
      name(atv(OID.commonName, Tag.PrintableString, 'Test CA')),
      true,
    ],
    [
      'different values',
      name(atv(OID.commonName, Tag.UTF8String, 'A')),
      name(atv(OID.commonName, Tag.UTF8String, 'B')),
      false,
    ],
    [
      'different attribute types',
      name(atv(OID.commonName, Tag.UTF8String, 'A')),
      name(atv(OID.organizationName, Tag.UTF8String, 'A')),
      false,
    ],
    [
      'different RDN counts',
      name(atv(OID.commonName, Tag.UTF8String, 'A')),
      name(atv(OID.organizationName, Tag.UTF8String, 'O'), atv(OID.commonName, Tag.UTF8String, 'A')),
      false,
    ],
    ['RDN order matters', Name.parse('CN=a,O=b'), Name.parse('O=b,CN=a'), false],
    ['multi-valued RDN order does not', Name.parse('CN=a+OU=b'), Name.parse('OU=b+CN=a'), true],
  ];
  for (const [label, a, b, eq] of rows)
    it(label, () => {
      assert.equal(a.equals(b), eq);
      assert.equal(b.equals(a), eq);
      assert.equal(a.key === b.key, eq);
    });

  it('rejects an empty RDN', () => {
    const der = encodeDer((w) => w.sequence((w) => w.setOf(() => {})));
    assert.throws(
      () => Name.fromDer(der),
      (e: unknown) => e instanceof X509Error && e.code === 'bad-name',
    );
  });

  it('keeps non-string values as #hex', () => {
    const der = encodeDer((w) =>
      w.sequence((w) => w.setOf((w) => w.sequence((w) => w.oid('1.2.3.4').integer(5)))),
    );
    const n = Name.fromDer(der);
    assert.equal(n.toString(), `1.2.3.4=#${toHex(Uint8Array.of(2, 1, 5))}`);
  });
});
