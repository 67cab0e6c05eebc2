// The CSR pool of `npm run bench -- ca`: P-256 device CSRs, each with its own key and subject
// (`CN=device-<16 hex>`, what the built-in `device` profile accepts), made once and kept in
// .tmp/bench-ca/ (making 16 k of them takes a while on a loaded 2-core machine) so every run, and
// every CA in a run, gets the same kind of request. Each request of the bench takes the next CSR.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Signer } from '../src/crypto/signer.js';
import { CsrBuilder } from '../src/issue/csr.js';

/** One pooled request: its subject CN (step-ca's token names it) and the CSR as PEM and DER. */
export interface PooledCsr {
  cn: string;
  pem: string;
  der: Uint8Array;
}

/** A fresh P-256 key as a synchronous Signer over node:crypto (CSRs only: the bench's own keys). */
function p256Signer(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signSync = (tbs: Uint8Array) => new Uint8Array(sign('sha256', tbs, privateKey));
  return {
    algorithm: { kind: 'ecdsa', hash: 'SHA-256' },
    publicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    sign: signSync,
    signSync,
  };
}

/**
 * `size` CSRs, read from `dir/csr-pool-<size>.pem` when it exists, else made and written there
 * (one PEM block after another; the CN is read back from the subject).
 */
export async function csrPool(dir: string, size: number, say: (s: string) => void): Promise<PooledCsr[]> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `csr-pool-${size}.pem`);
  if (existsSync(file)) {
    const blocks = readFileSync(file, 'utf8').split(/(?=-----BEGIN CERTIFICATE REQUEST-----)/);
    const out = blocks.filter((b) => b.trim()).map((pem) => ({ pem, ...fromPem(pem) }));
    if (out.length === size) return out;
  }
  say(`making ${size} P-256 CSRs (once; kept in ${file})`);
  const out: PooledCsr[] = [];
  for (let i = 0; i < size; i++) {
    const cn = `device-${randomBytes(8).toString('hex')}`;
    const csr = await new CsrBuilder().subject(`CN=${cn}`).sign(p256Signer());
    out.push({ cn, pem: csr.toPem(), der: csr.der });
  }
  writeFileSync(`${file}.part`, out.map((c) => c.pem).join(''));
  renameSync(`${file}.part`, file);
  return out;
}

function fromPem(pem: string): { cn: string; der: Uint8Array } {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = new Uint8Array(Buffer.from(b64, 'base64'));
  // The CN is the only attribute: find `device-` followed by 16 hex digits in the DER.
  const m = /device-[0-9a-f]{16}/.exec(Buffer.from(der).toString('latin1'));
  if (!m) throw new Error('pooled CSR without a device CN');
  return { cn: m[0], der };
}
