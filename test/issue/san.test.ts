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
});
