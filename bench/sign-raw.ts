/**
 * Micro-bench: raw `crypto.sign` rate (the physical limit) vs `KeySigner.signSync` on the same
 * key, for P-256, Ed25519 and RSA-2048. Run: `node --import tsx bench/sign-raw.ts [seconds]`.
 * (The full issuance bench with peers lives in bench/run.ts.)
 */
import { createPrivateKey, sign } from 'node:crypto';
import { generateKeyPair, KeySigner, type KeyType } from '../src/crypto/index.js';

const seconds = Number(process.argv[2] ?? 1);
// A TBSCertificate-sized message (a typical device certificate's TBS is ~400–600 bytes).
const tbs = new Uint8Array(512).fill(0x5a);

function rate(fn: () => void): number {
  for (let i = 0; i < 50; i++) fn(); // warm-up
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
  }
  return n / ((performance.now() - t0) / 1000);
}

const rows: { type: KeyType; hash: string | null }[] = [
  { type: 'ec-p256', hash: 'sha256' },
  { type: 'ed25519', hash: null },
  { type: 'rsa-2048', hash: 'sha256' },
];
for (const { type, hash } of rows) {
  const { privateKey } = await generateKeyPair(type);
  const keyObject = createPrivateKey({ key: Buffer.from(privateKey.pkcs8), format: 'der', type: 'pkcs8' });
  const signer = await KeySigner.create(privateKey);
  const signSync = signer.signSync!;
  // Interleaved rounds, best of each: the first loop run otherwise pays JIT and CPU ramp-up.
  let raw = 0;
  let ours = 0;
  for (let round = 0; round < 3; round++) {
    raw = Math.max(
      raw,
      rate(() => sign(hash, tbs, keyObject)),
    );
    ours = Math.max(
      ours,
      rate(() => signSync(tbs)),
    );
  }
  console.log(
    `${type.padEnd(9)} raw crypto.sign ${raw.toFixed(0).padStart(7)}/s   KeySigner.signSync ${ours.toFixed(0).padStart(7)}/s   ratio ${((ours / raw) * 100).toFixed(1)}%`,
  );
}
