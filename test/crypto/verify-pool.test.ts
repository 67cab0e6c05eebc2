import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import type { HashName, SignatureAlgorithm } from '../../src/crypto/algorithms.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { VerifyPool } from '../../src/crypto/verify-pool.js';
import { fromHex } from '../../src/der/index.js';

/**
 * VerifyPool answers exactly as the node provider does: every Wycheproof case of these files is
 * submitted at once (so the jobs go to the threads in batches) and each answer — true, false or
 * the CryptoError code — must equal `nodeCrypto.verify` on the same input. Then the pool's own
 * duties: jobs queued at close, and a thread that dies, still get their answers.
 */
const DIR = new URL('../../../shared/testdata/wycheproof/', import.meta.url);
const FILES = [
  'ecdsa_secp256r1_sha256_test.json',
  'ecdsa_secp384r1_sha384_test.json',
  'ecdsa_secp521r1_sha512_test.json',
  'ed25519_test.json',
  'rsa_signature_2048_sha256_test.json',
  'rsa_pss_2048_sha256_mgf1_32_test.json',
];

interface Case {
  name: string;
  alg: SignatureAlgorithm;
  spki: Uint8Array;
  msg: Uint8Array;
  sig: Uint8Array;
}

function cases(file: string): Case[] {
  const data = JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as {
    testGroups: {
      type: string;
      publicKeyDer: string;
      sha?: string;
      mgfSha?: string;
      sLen?: number;
      tests: { tcId: number; msg: string; sig: string }[];
    }[];
  };
  return data.testGroups.flatMap((g) => {
    const alg: SignatureAlgorithm =
      g.type === 'EcdsaVerify'
        ? { kind: 'ecdsa', hash: g.sha as HashName }
        : g.type === 'RsassaPkcs1Verify'
          ? { kind: 'rsa-pkcs1', hash: g.sha as HashName }
          : g.type === 'RsassaPssVerify'
            ? { kind: 'rsa-pss', hash: g.sha as HashName, mgfHash: g.mgfSha as HashName, saltLength: g.sLen! }
            : { kind: 'ed25519' };
    const spki = fromHex(g.publicKeyDer);
    return g.tests.map((t) => ({
      name: `${file} tcId ${t.tcId}`,
      alg,
      spki,
      msg: fromHex(t.msg),
      sig: fromHex(t.sig),
    }));
  });
}

/** An answer as comparable data: the boolean, or the error's code. */
async function answer(f: () => boolean | Promise<boolean>): Promise<string> {
  try {
    return String(await f());
  } catch (e) {
    return e instanceof CryptoError ? `CryptoError ${e.code}` : `other ${String(e)}`;
  }
}

describe('VerifyPool', () => {
  let pool: VerifyPool;
  before(async () => {
    pool = await VerifyPool.start({ threads: 2 });
  });
  after(() => pool.close());

  for (const file of FILES)
    test(`${file}: the same answers as nodeCrypto.verify`, async () => {
      const list = cases(file);
      const got = await Promise.all(
        list.map((c) => answer(() => pool.verifyAsync(c.alg, c.spki, c.msg, c.sig))),
      );
      const want = await Promise.all(
        list.map((c) => answer(() => nodeCrypto.verify(c.alg, c.spki, c.msg, c.sig))),
      );
      const differ = list
        .filter((_, i) => got[i] !== want[i])
        .map((c, i) => `${c.name}: ${got[i]} ≠ ${want[i]}`);
      assert.deepEqual(differ, []);
      assert.ok(want.includes('true') && want.includes('false'), 'the file has valid and invalid cases');
    });

  test('errors keep their CryptoError code (ECDSA algorithm with an Ed25519 key)', async () => {
    const ed = cases('ed25519_test.json')[0]!;
    await assert.rejects(
      pool.verifyAsync({ kind: 'ecdsa', hash: 'SHA-256' }, ed.spki, ed.msg, ed.sig),
      (e: unknown) => e instanceof CryptoError && e.code === 'algorithm-key-mismatch',
    );
  });
});

describe('VerifyPool keeps every answer', () => {
  const list = cases('ecdsa_secp256r1_sha256_test.json').slice(0, 300);
  const want = list.map((c) => nodeCrypto.verify(c.alg, c.spki, c.msg, c.sig));

  test('jobs queued when the pool closes are answered on the calling thread', async () => {
    const pool = await VerifyPool.start({ threads: 1 });
    const pending = list.map((c) => pool.verifyAsync(c.alg, c.spki, c.msg, c.sig));
    await pool.close();
    assert.deepEqual(await Promise.all(pending), want);
    // After close, verification still works (inline).
    const c = list[0]!;
    assert.equal(await pool.verifyAsync(c.alg, c.spki, c.msg, c.sig), want[0]);
  });

  test('a thread that dies: its jobs and later ones are answered on the calling thread', async () => {
    const pool = await VerifyPool.start({ threads: 1 });
    try {
      const first = list.map((c) => pool.verifyAsync(c.alg, c.spki, c.msg, c.sig));
      // The pool's only thread, ended from outside (as a crash would).
      const worker = (pool as unknown as { threads: { worker: Worker }[] }).threads[0]!.worker;
      await worker.terminate();
      assert.deepEqual(await Promise.all(first), want);
      const later = list.map((c) => pool.verifyAsync(c.alg, c.spki, c.msg, c.sig));
      assert.deepEqual(await Promise.all(later), want);
    } finally {
      await pool.close();
    }
  });
});

describe('VerifyPool start', () => {
  // The pool's threads from a given script (VerifyPool.start uses ours).
  const withThreads = (code: string, n: number) =>
    (VerifyPool as unknown as { withThreads(c: string, n: number): Promise<VerifyPool> }).withThreads(
      code,
      n,
    );
  /** Blocks this thread, so that a thread started just before ends before its events are read. */
  const block = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

  for (const busy of [false, true])
    test(`a thread whose script does not load: start fails with thread-failed${busy ? ' (its end read in one go)' : ''}`, async () => {
      const started = withThreads('throw new Error("no script")', 2);
      // Node then emits the thread's 'online', 'error' and 'exit' together, when it reads the exit.
      if (busy) block(500);
      await assert.rejects(started, (e: unknown) => e instanceof CryptoError && e.code === 'thread-failed');
    });

  test('a thread that ends right after it is ready: its jobs are answered on the calling thread', async () => {
    const code = `require('node:worker_threads').parentPort.postMessage({ ready: true }); process.exit(3);`;
    const started = withThreads(code, 1);
    block(500);
    const pool = await started.catch((e: unknown) => {
      // Ended before ready as seen from here: also a clean failure.
      assert.ok(e instanceof CryptoError && e.code === 'thread-failed');
      return undefined;
    });
    if (!pool) return;
    try {
      const c = cases('ed25519_test.json')[0]!;
      assert.equal(
        await pool.verifyAsync(c.alg, c.spki, c.msg, c.sig),
        nodeCrypto.verify(c.alg, c.spki, c.msg, c.sig),
      );
    } finally {
      await pool.close();
    }
  });
});
