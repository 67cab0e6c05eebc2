import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { HashName, SignatureAlgorithm } from '../../src/crypto/algorithms.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import type { CryptoProvider } from '../../src/crypto/provider.js';
import { webCrypto } from '../../src/crypto/webcrypto.js';
import { fromHex } from '../../src/der/index.js';

/**
 * Project Wycheproof signature vectors (../shared/testdata/wycheproof/, see its README.md):
 * every `valid` case must verify and every `invalid` one must not, with both providers.
 * `acceptable` cases (legacy encodings, e.g. a DigestInfo without NULL) may go either way;
 * we print how many we accept.
 */
const DIR = new URL('../../../shared/testdata/wycheproof/', import.meta.url);

const FILES = readdirSync(DIR).filter(
  (f) =>
    (f.startsWith('ecdsa_') && !f.includes('p1363')) ||
    f.startsWith('rsa_signature_') ||
    f.startsWith('rsa_pss_') ||
    f.startsWith('ed25519') ||
    f.startsWith('ed448'),
);

interface WTest {
  tcId: number;
  comment: string;
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface WGroup {
  type: string;
  publicKeyDer: string;
  sha?: string;
  mgfSha?: string;
  sLen?: number;
  tests: WTest[];
}

function algorithmOf(g: WGroup): SignatureAlgorithm {
  switch (g.type) {
    case 'EcdsaVerify':
      return { kind: 'ecdsa', hash: g.sha as HashName };
    case 'RsassaPkcs1Verify':
      return { kind: 'rsa-pkcs1', hash: g.sha as HashName };
    case 'RsassaPssVerify':
      return { kind: 'rsa-pss', hash: g.sha as HashName, mgfHash: g.mgfSha as HashName, saltLength: g.sLen! };
    case 'EddsaVerify':
      return JSON.stringify(g).includes('edwards448') ? { kind: 'ed448' } : { kind: 'ed25519' };
    default:
      throw new Error(`unexpected group type ${g.type}`);
  }
}

const totals = { valid: 0, invalid: 0, acceptableAccepted: 0, acceptableRejected: 0, unsupported: 0 };

async function runFile(file: string, provider: CryptoProvider, sync: boolean) {
  const data = JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as { testGroups: WGroup[] };
  const wrong: string[] = [];
  const counts = { valid: 0, invalid: 0, acceptableAccepted: 0, acceptableRejected: 0, unsupported: 0 };
  for (const g of data.testGroups) {
    const alg = algorithmOf(g);
    const spki = fromHex(g.publicKeyDer);
    for (const t of g.tests) {
      let ok: boolean;
      try {
        const msg = fromHex(t.msg);
        const sig = fromHex(t.sig);
        ok = sync ? provider.verify(alg, spki, msg, sig) : await provider.verifyAsync(alg, spki, msg, sig);
      } catch (e) {
        if (e instanceof CryptoError && e.code === 'unsupported-algorithm') {
          counts.unsupported++;
          continue;
        }
        throw e;
      }
      if (t.result === 'acceptable') ok ? counts.acceptableAccepted++ : counts.acceptableRejected++;
      else if (ok === (t.result === 'valid')) counts[t.result]++;
      else wrong.push(`tcId ${t.tcId} (${t.result}, ${t.comment})`);
    }
  }
  for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += counts[k];
  console.log(`# ${provider.name} ${file}: ${JSON.stringify(counts)}`);
  assert.deepEqual(wrong, [], `${file}: ${wrong.length} disagreement(s)`);
  return counts;
}

describe('Wycheproof with the node provider (sync verify)', () => {
  for (const f of FILES)
    test(f, async () => {
      const c = await runFile(f, nodeCrypto, true);
      assert.equal(c.unsupported, 0, 'node provider must support every algorithm here');
    });
});

describe('Wycheproof with the WebCrypto provider (async verify)', () => {
  for (const f of FILES) test(f, () => runFile(f, webCrypto, false).then(() => undefined));
  test('totals', () => {
    console.log(`# Wycheproof totals (both providers): ${JSON.stringify(totals)}`);
    assert.ok(totals.valid > 0 && totals.invalid > 0);
  });
});
