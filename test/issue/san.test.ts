// subjectAltName text → GeneralName (the CLI's --san syntax).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toHex } from '../../src/der/index.js';
import { IssueError, parseGeneralName, parseGeneralNames } from '../../src/issue/index.js';

describe('parseGeneralName', () => {
  const ok: [string, string, string][] = [
    ['dns:example.com', 'dNSName', 'example.com'],
    ['DNS:*.fleet.example', 'dNSName', '*.fleet.example'],
    ['ip:192.0.2.1', 'iPAddress', 'c0000201'],
    ['ip:::1', 'iPAddress', '00000000000000000000000000000001'],
    ['ip:2001:db8::42', 'iPAddress', '20010db8000000000000000000000042'],
    ['ip:::ffff:10.0.0.1', 'iPAddress', '00000000000000000000ffff0a000001'],
    ['uri:https://x.example/p', 'uniformResourceIdentifier', 'https://x.example/p'],
    ['email:ops@fleet.example', 'rfc822Name', 'ops@fleet.example'],
  ];
  for (const [text, type, value] of ok)
    test(text, () => {
      const g = parseGeneralName(text);
      assert.equal(g.type, type);
      const v = (g as { value: string | Uint8Array }).value;
      assert.equal(typeof v === 'string' ? v : toHex(v), value);
    });

  for (const bad of [
    'example.com',
    'dns:',
    'dns:bad name',
    'ip:256.0.0.1',
    'ip:01.2.3.4',
    'ip:1::2::3',
    'ip:1:2:3:4:5:6:7:8:9',
    'uri:no-scheme',
    'email:nobody',
    'dns:ünïcode.example',
    'x400:foo',
  ])
    test(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => parseGeneralName(bad),
        (e: unknown) => e instanceof IssueError && e.code === 'bad-input',
      );
    });

  test('comma list', () => {
    assert.equal(parseGeneralNames('dns:a,dns:b, ip:127.0.0.1').length, 3);
  });

  // parseGeneralNames reads the common entries (dns:, uri:) in place; every other input goes
  // through parseGeneralName. The two must agree on every input: same names, or the same error.
  test('the in-place reading of a list agrees with parseGeneralName, entry by entry', () => {
    const entries = [
      'dns:device-00ab.fleet.example',
      'DNS:*.fleet.example',
      'Dns:a',
      'dns:example.com.',
      'dns:_srv.example',
      'dns:-bad.example',
      'dns:a-.example',
      'dns:a..b',
      'dns:.a',
      'dns:*.',
      'dns:*',
      'dns:*.*.x',
      `dns:${'a'.repeat(63)}.x`,
      `dns:${'a'.repeat(64)}.x`,
      'dns: spaced.example',
      'dns :x.example',
      'dns:x y',
      'dns:\u00e9.example',
      'dns:\u00a0x.example',
      'dnsx:y',
      'dns:',
      'uri:urn:dev:00ab',
      'URI:https://x.example/p?q=1#f',
      'uri:h:',
      'uri:h:x',
      'uri:1h:x',
      'uri:h+s.-9:x',
      'uri:h_s:x',
      'uri:no-scheme',
      'uri:h:a b',
      'uri:h:\u00e9',
      'uri::x',
      'ip:192.0.2.1',
      'email:ops@fleet.example',
      'x400:foo',
      '\tdns:tab.example\n',
      '\u00a0dns:nbsp.example',
      '',
      ' ',
    ];
    const outcome = (f: () => unknown) => {
      try {
        return JSON.stringify(f(), (_k, v) => (v instanceof Uint8Array ? toHex(v) : v));
      } catch (e) {
        return e instanceof IssueError ? `${e.code}: ${e.message}` : `other: ${String(e)}`;
      }
    };
    const slow = (items: string[]) => () => {
      const out = items
        .map((x) => x.trim())
        .filter((x) => x !== '')
        .map((x) => parseGeneralName(x));
      if (out.length === 0) throw new IssueError('bad-input', 'empty subjectAltName list');
      return out;
    };
    let compared = 0;
    for (const a of entries)
      for (const b of entries) {
        const list = [a, b];
        assert.equal(
          outcome(() => parseGeneralNames(list.join(','))),
          outcome(slow(list)),
          list.join(','),
        );
        assert.equal(
          outcome(() => parseGeneralNames(list)),
          outcome(slow(list)),
          JSON.stringify(list),
        );
        compared++;
      }
    assert.equal(compared, entries.length ** 2);
  });
});
