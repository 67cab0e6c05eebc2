// The extension codec table is closed: path validation trusts what the basicConstraints,
// nameConstraints and policy codecs return, so no code loaded into the same process may add or
// replace a codec. Each row below is one way a dependency could try.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { OID } from '../../../src/der/index.js';
import * as root from '../../../src/index.js';
import * as portable from '../../../src/portable.js';
import * as X from '../../../src/x509/index.js';

const chain = X.parseCertificates(
  readFileSync(new URL('../../../examples/device-chain.pem', import.meta.url)),
);
const ca = chain.find((c) => c.basicConstraints?.cA)!;
const before = { bc: ca.basicConstraints, nc: X.extensionCodec(OID.nameConstraints) };

describe('extension codec table', () => {
  it('no entry point exports a way to register or replace a codec', () => {
    for (const [label, mod] of Object.entries({ x509: X, root, portable }))
      for (const name of Object.keys(mod))
        assert.doesNotMatch(name, /^(register|set|add|replace).*(Extension|Codec)/i, `${label}: ${name}`);
  });

  const attempts: [string, () => void][] = [
    [
      'assigning parse on the returned codec',
      () => {
        (X.extensionCodec(OID.basicConstraints) as { parse: unknown }).parse = () => ({ cA: false });
      },
    ],
    [
      'redefining parse with defineProperty',
      () => {
        Object.defineProperty(X.extensionCodec(OID.nameConstraints)!, 'parse', { value: () => ({}) });
      },
    ],
    [
      'renaming a codec',
      () => {
        (X.extensionCodec(OID.keyUsage) as { name: string }).name = 'evil';
      },
    ],
    [
      'adding a property to a codec',
      () => {
        (X.extensionCodec(OID.basicConstraints) as unknown as Record<string, unknown>).extra = 1;
      },
    ],
  ];
  for (const [name, attempt] of attempts)
    it(`refuses ${name}`, () => {
      assert.throws(attempt, TypeError);
    });

  it('decodes as before after every attempt', () => {
    for (const [, attempt] of attempts) assert.throws(attempt);
    assert.equal(X.extensionCodec(OID.nameConstraints), before.nc);
    assert.equal(X.extensionName(OID.keyUsage), 'keyUsage');
    const again = X.parseCertificate(ca.der);
    assert.deepEqual(again.basicConstraints, before.bc);
    assert.equal(again.basicConstraints?.cA, true);
    assert.ok(Object.isFrozen(X.extensionCodec(OID.basicConstraints)));
  });
});
