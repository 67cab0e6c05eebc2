import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runVerify } from '../../src/cli/verify.js';
import { makeTestPki, type TestPki } from './pki.js';

/** `fleetpki verify … --crl FILE` against the OpenSSL-made CRL of the test PKI (exit 0 / 1 / 2). */
let pki: TestPki;
before(() => {
  pki = makeTestPki();
});
after(() => pki?.cleanup());

describe('fleetpki verify --crl', () => {
  const cases: [string, string[], number, RegExp][] = [
    ['good device with the issuing CA CRL', ['device.pem', '--crl', 'crl.pem'], 0, /^OK/],
    [
      'revoked device',
      ['revoked.pem', '--crl', 'crl.pem'],
      1,
      /INVALID: revoked at certificate 0.*keyCompromise/,
    ],
    [
      'whole chain needs the root CRL too',
      ['device.pem', '--crl', 'crl.pem', '--revocation-scope', 'chain'],
      1,
      /revocation-unknown at certificate 1/,
    ],
    [
      'whole chain with both CRLs (one PEM bundle)',
      ['device.pem', '--crl', 'crl-chain.pem', '--revocation-scope', 'chain'],
      0,
      /^OK/,
    ],
    [
      'a CRL from another CA does not cover the device',
      ['device.pem', '--crl', 'root-crl.pem'],
      1,
      /revocation-unknown/,
    ],
    ['unreadable CRL file', ['device.pem', '--crl', 'nope.pem'], 2, /cannot read CRL/],
  ];
  for (const [name, args, code, re] of cases)
    it(name, async () => {
      let out = '';
      const [leaf, ...rest] = args;
      const abs = (a: string) => (a.endsWith('.pem') ? pki.path(a) : a);
      const rc = await runVerify(
        [
          abs(leaf!),
          '--trusted',
          pki.path('root.pem'),
          '--untrusted',
          pki.path('int.pem'),
          '--purpose',
          'any',
          '--profile',
          'rfc5280',
          ...rest.map(abs),
        ],
        { out: (s) => (out += s), err: (s) => (out += s) },
      );
      assert.equal(rc, code, out);
      assert.match(out, re);
    });
});
