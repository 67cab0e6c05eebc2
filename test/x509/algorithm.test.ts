import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DerReader, encodeDer, OID } from '../../src/der/index.js';
import {
  encodeSignatureAlgorithm,
  parseSignatureAlgorithm,
  readAlgorithmIdentifier,
  type SignatureAlgorithm,
  X509Error,
} from '../../src/x509/index.js';

const alg = (oid: string, params?: (w: Parameters<Parameters<typeof encodeDer>[0]>[0]) => void) => {
  const der = encodeDer((w) =>
    w.sequence((w) => {
      w.oid(oid);
      params?.(w);
    }),
  );
  return readAlgorithmIdentifier(DerReader.from(der, 'alg'), 'alg');
};
const hashAlg = (w: Parameters<Parameters<typeof encodeDer>[0]>[0], oid: string) =>
  w.sequence((w) => w.oid(oid).null());

describe('signature AlgorithmIdentifier parameter rules', () => {
  const ok: [string, ReturnType<typeof alg>, SignatureAlgorithm][] = [
    [
      'RSA PKCS#1 with NULL',
      alg(OID.sha256WithRSAEncryption, (w) => w.null()),
      { kind: 'rsa-pkcs1', hash: 'SHA-256' },
    ],
    [
      'RSA PKCS#1 with absent params (RFC 4055 §5)',
      alg(OID.sha384WithRSAEncryption),
      { kind: 'rsa-pkcs1', hash: 'SHA-384' },
    ],
    ['ECDSA absent', alg(OID.ecdsaWithSHA256), { kind: 'ecdsa', hash: 'SHA-256' }],
    ['Ed25519 absent', alg(OID.ed25519), { kind: 'ed25519' }],
    [
      'PSS SHA-256 salt 32',
      alg(OID.rsassaPss, (w) =>
        w.sequence((w) => {
          w.explicit(0, (w) => hashAlg(w, OID.sha256));
          w.explicit(1, (w) => w.sequence((w) => w.oid(OID.mgf1).sequence((w) => w.oid(OID.sha256).null())));
          w.explicit(2, (w) => w.integer(32));
        }),
      ),
      { kind: 'rsa-pss', hash: 'SHA-256', mgfHash: 'SHA-256', saltLength: 32 },
    ],
    [
      'PSS all defaults',
      alg(OID.rsassaPss, (w) => w.sequence(() => {})),
      { kind: 'rsa-pss', hash: 'SHA-1', mgfHash: 'SHA-1', saltLength: 20 },
    ],
  ];
  for (const [label, a, expected] of ok)
    it(label, () => {
      assert.deepEqual(parseSignatureAlgorithm(a), expected);
    });

  const bad: [string, ReturnType<typeof alg>, string][] = [
    ['ECDSA with NULL params', alg(OID.ecdsaWithSHA256, (w) => w.null()), 'bad-algorithm-parameters'],
    ['Ed25519 with NULL params', alg(OID.ed25519, (w) => w.null()), 'bad-algorithm-parameters'],
    [
      'RSA with non-NULL params',
      alg(OID.sha256WithRSAEncryption, (w) => w.integer(0)),
      'bad-algorithm-parameters',
    ],
    ['PSS without params', alg(OID.rsassaPss), 'bad-algorithm-parameters'],
    [
      'PSS with encoded default salt 20',
      alg(OID.rsassaPss, (w) => w.sequence((w) => w.explicit(2, (w) => w.integer(20)))),
      'bad-algorithm-parameters',
    ],
    [
      'PSS with MGF hash differing',
      alg(OID.rsassaPss, (w) =>
        w.sequence((w) => {
          w.explicit(0, (w) => hashAlg(w, OID.sha256));
          w.explicit(1, (w) => w.sequence((w) => w.oid(OID.mgf1).sequence((w) => w.oid(OID.sha384).null())));
        }),
      ),
      'bad-algorithm-parameters',
    ],
    [
      'PSS trailerField 2',
      alg(OID.rsassaPss, (w) => w.sequence((w) => w.explicit(3, (w) => w.integer(2)))),
      'bad-algorithm-parameters',
    ],
    ['unknown OID', alg('1.2.3.4'), 'unknown-algorithm'],
  ];
  for (const [label, a, code] of bad)
    it(`rejects: ${label}`, () => {
      assert.throws(
        () => parseSignatureAlgorithm(a),
        (e: unknown) => e instanceof X509Error && e.code === code,
      );
    });

  const roundTrip: SignatureAlgorithm[] = [
    { kind: 'rsa-pkcs1', hash: 'SHA-256' },
    { kind: 'ecdsa', hash: 'SHA-384' },
    { kind: 'ed25519' },
    { kind: 'rsa-pss', hash: 'SHA-256', mgfHash: 'SHA-256', saltLength: 32 },
    { kind: 'rsa-pss', hash: 'SHA-1', mgfHash: 'SHA-1', saltLength: 20 },
  ];
  for (const s of roundTrip)
    it(`encode → parse: ${JSON.stringify(s)}`, () => {
      const der = encodeSignatureAlgorithm(s);
      assert.deepEqual(parseSignatureAlgorithm(readAlgorithmIdentifier(DerReader.from(der, 'a'), 'a')), s);
    });
});
