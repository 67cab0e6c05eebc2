// subjectAltName has an exact-length encoder for the common names (DNS, email, URI, IP); it must
// give the general writer's bytes, and leave everything else (and every error) to the writer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeDer } from '../../../src/der/writer.js';
import { makeExtension } from '../../../src/x509/encode.js';
import {
  encodeSubjectAltName,
  parseSubjectAltName,
  subjectAltNameExtension,
} from '../../../src/x509/extensions/subject-alt-name.js';
import { type GeneralName, writeGeneralNames } from '../../../src/x509/general-name.js';
import { Name } from '../../../src/x509/name.js';

const viaWriter = (v: GeneralName[]) => encodeDer((w) => writeGeneralNames(w, v));
const ip = (...b: number[]) => Uint8Array.from(b);

const CASES: [string, GeneralName[]][] = [
  [
    'device DNS + URN',
    [
      { type: 'dNSName', value: 'device-0123456789abcdef.fleet.example' },
      { type: 'uniformResourceIdentifier', value: 'urn:dev:0123456789abcdef' },
    ],
  ],
  [
    'IPv4 + IPv6 + email',
    [
      { type: 'iPAddress', value: ip(127, 0, 0, 1) },
      { type: 'iPAddress', value: ip(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) },
      { type: 'rfc822Name', value: 'ops@example.com' },
    ],
  ],
  [
    'long DNS name (long-form lengths)',
    [{ type: 'dNSName', value: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.example` }],
  ],
  [
    'many names (content over 255 octets)',
    Array.from({ length: 20 }, (_, i) => ({ type: 'dNSName' as const, value: `host-${i}.fleet.example` })),
  ],
  ['empty DNS value', [{ type: 'dNSName', value: '' }]],
  ['directoryName (general writer)', [{ type: 'directoryName', value: Name.parse('CN=x,O=y') }]],
  ['registeredID (general writer)', [{ type: 'registeredID', value: '1.2.3.4' }]],
  [
    'over 64 KiB (general writer, three length octets)',
    Array.from({ length: 1200 }, (_, i) => ({
      type: 'dNSName' as const,
      value: `host-${i}.${'x'.repeat(50)}.example`,
    })),
  ],
];

describe('subjectAltName encoding: exact-length path equals the general writer', () => {
  for (const [name, v] of CASES)
    it(name, () => {
      const a = encodeSubjectAltName(v);
      assert.deepEqual(a, viaWriter(v));
      assert.equal(parseSubjectAltName(a).length, v.length);
    });

  it('non-ASCII is refused by the general writer, as before', () => {
    assert.throws(() => encodeSubjectAltName([{ type: 'dNSName', value: 'bücher.example' }]), /IA5String/);
  });
  it('an empty list and a 5-octet address are refused, as before', () => {
    assert.throws(() => encodeSubjectAltName([]), /must not be empty/);
    assert.throws(() => encodeSubjectAltName([{ type: 'iPAddress', value: ip(1, 2, 3, 4, 5) }]), /length 5/);
  });

  // Issuance writes the whole Extension at once; it must be makeExtension's bytes around the above.
  for (const [name, v] of CASES)
    for (const critical of [false, true])
      it(`the Extension in one piece: ${name}${critical ? ', critical' : ''}`, () => {
        const e = subjectAltNameExtension(v, critical);
        const w = makeExtension('2.5.29.17', critical, encodeSubjectAltName(v));
        assert.deepEqual(
          { oid: e.oid, critical: e.critical, value: [...e.value], der: [...e.der] },
          { oid: w.oid, critical: w.critical, value: [...w.value], der: [...w.der] },
        );
      });
  it('the Extension in one piece refuses what the encoder refuses', () => {
    assert.throws(() => subjectAltNameExtension([], false), /must not be empty/);
    assert.throws(
      () => subjectAltNameExtension([{ type: 'dNSName', value: 'bücher.example' }], false),
      /IA5String/,
    );
  });
});
