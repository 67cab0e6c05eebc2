import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Authority } from '../ca/authority.js';
import type { CaLogger } from '../ca/logger.js';
import { checkMode, readSecretFile } from '../ca/secrets.js';
import { exportKey, generateKeyPair } from '../crypto/keys.js';
import { writePkcs12 } from '../crypto/pkcs12.js';
import { KeySigner } from '../crypto/signer.js';
import { CsrBuilder } from '../issue/csr.js';
import { decodePemOne } from '../pem/pem.js';
import { parseCertificates } from '../x509/certificate.js';
import { createToken, tokenIsRegistered } from './auth/bearer.js';
import { exists, SECRET_MODE, withLockFile, writeFileAtomic } from './files.js';

/**
 * The admin credential a first start creates, under `DATA/admin/` (directory 0700, files 0600):
 * - `admin.crt` (leaf then chain) and `admin.key` (PKCS#8, unencrypted: curl and browsers take it
 *   as is — it is protected by its mode, like an SSH key): an `admin`-profile client certificate
 *   issued by the CA itself, for mTLS to the admin API;
 * - `admin.p12` (the same certificate, chain and key as PKCS#12, for a browser) and
 *   `admin.p12.password` (its random password);
 * - `token`: a bearer token (`fpk_<id>_<secret>`) whose hash only is in the store.
 * Later starts reuse them; a certificate that is missing, revoked, unknown to the store (a new
 * database) or within 30 days of expiry is replaced, as is a token the store does not know.
 */
export interface AdminCredential {
  dir: string;
  certPath: string;
  keyPath: string;
  tokenPath: string;
  /** The same certificate and key as PKCS#12 (for browsers), and the file holding its password. */
  p12Path: string;
  p12PasswordPath: string;
  p12Password: string;
  token: string;
  /** What this start made anew. */
  created: { certificate: boolean; token: boolean };
  /** SHA-256 of the admin certificate. */
  fingerprint: string;
}

/** Replace the admin certificate when it has fewer days left than this. */
const RENEW_DAYS = 30;
const ADMIN_CN = 'fleetpki-admin';

export function adminPaths(dataDir: string) {
  const dir = join(dataDir, 'admin');
  return {
    dir,
    certPath: join(dir, 'admin.crt'),
    keyPath: join(dir, 'admin.key'),
    tokenPath: join(dir, 'token'),
    p12Path: join(dir, 'admin.p12'),
    p12PasswordPath: join(dir, 'admin.p12.password'),
    lockPath: join(dir, '.lock'),
  };
}

/** Refuses admin credential files that group or others can access (`key-file-permissions`). */
export function checkAdminFiles(dataDir: string): void {
  const p = adminPaths(dataDir);
  for (const f of [p.keyPath, p.tokenPath, p.certPath, p.p12Path, p.p12PasswordPath])
    if (exists(f)) checkMode(f);
}

export async function ensureAdminCredential(
  ca: Authority,
  dataDir: string,
  log: CaLogger,
  now: () => number = Date.now,
): Promise<AdminCredential> {
  const p = adminPaths(dataDir);
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  return withLockFile(p.lockPath, async () => {
    checkAdminFiles(dataDir);
    let token = readSecretFile(p.tokenPath);
    let tokenCreated = false;
    if (token === undefined || !(await tokenIsRegistered(ca.store, token))) {
      token = (await createToken(ca.store, 'admin (first start)', now())).token;
      writeFileAtomic(p.tokenPath, `${token}\n`, SECRET_MODE);
      tokenCreated = true;
      log.info({ path: p.tokenPath }, 'admin bearer token created');
    }
    let fingerprint = await currentCertificate(ca, p.certPath, p.keyPath, now());
    const certCreated = fingerprint === undefined;
    if (!fingerprint) {
      fingerprint = await issueAdminCertificate(ca, p.certPath, p.keyPath);
      log.info({ path: p.certPath, fingerprint }, 'admin client certificate issued');
    }
    // PKCS#12 for browsers (RFC 7292, PBES2/AES-256 + PBKDF2), with a random password beside it.
    let p12Password = readSecretFile(p.p12PasswordPath);
    if (certCreated || p12Password === undefined || !exists(p.p12Path)) {
      p12Password = randomBytes(18).toString('base64url');
      const key = decodePemOne(readFileSync(p.keyPath, 'utf8'), ['PRIVATE KEY']).der;
      const certs = parseCertificates(readFileSync(p.certPath, 'utf8')).map((c) => c.der);
      const pfx = await writePkcs12({ pkcs8: key }, certs, p12Password, { friendlyName: ADMIN_CN });
      writeFileAtomic(p.p12PasswordPath, `${p12Password}\n`, SECRET_MODE);
      writeFileAtomic(p.p12Path, pfx, SECRET_MODE);
    }
    return {
      dir: p.dir,
      certPath: p.certPath,
      keyPath: p.keyPath,
      tokenPath: p.tokenPath,
      p12Path: p.p12Path,
      p12PasswordPath: p.p12PasswordPath,
      p12Password,
      token,
      created: { certificate: certCreated, token: tokenCreated },
      fingerprint,
    };
  });
}

/** The fingerprint of a usable stored admin certificate, or undefined. */
async function currentCertificate(
  ca: Authority,
  certPath: string,
  keyPath: string,
  now: number,
): Promise<string | undefined> {
  if (!exists(certPath) || !exists(keyPath)) return undefined;
  let leaf: ReturnType<typeof parseCertificates>[number] | undefined;
  try {
    leaf = parseCertificates(readFileSync(certPath, 'utf8'))[0];
  } catch {
    return undefined;
  }
  if (!leaf || leaf.notAfter - now < RENEW_DAYS * 86_400_000) return undefined;
  const recs = await ca.store.findBySerial(leaf.serialHex);
  const rec = recs.find((r) => r.state === 'issued' && r.profile === 'admin' && !r.revocation);
  if (!rec) return undefined;
  return rec.fingerprint;
}

async function issueAdminCertificate(ca: Authority, certPath: string, keyPath: string): Promise<string> {
  const pair = await generateKeyPair('ec-p256');
  const csr = await new CsrBuilder().subject(`CN=${ADMIN_CN}`).sign(await KeySigner.create(pair.privateKey));
  const r = await ca.issue(csr.der, { profile: 'admin', requester: 'system' });
  if (r.status !== 'issued') throw new Error('the admin profile must not need approval');
  // Key first: a certificate on disk always has its key beside it.
  writeFileAtomic(keyPath, await exportKey(pair.privateKey, { format: 'pkcs8' }), SECRET_MODE);
  writeFileAtomic(
    certPath,
    [r.certificate, ...r.chain.slice(0, -1)].map((c) => c.toPem()).join(''),
    SECRET_MODE,
  );
  return r.fingerprint;
}
