import { DerError, DerReader, encodeDer, OID, Tag, utf8Encode } from '../der/index.js';
import type { HashName } from './algorithms.js';
import { CryptoError } from './errors.js';
import type { CbcCipher, CryptoProvider } from './provider.js';

/**
 * Encrypted PKCS#8 (RFC 5958 §3 EncryptedPrivateKeyInfo) with PBES2 (RFC 8018 §6.2), written on
 * top of the provider's KDF and cipher.
 *
 *   EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier {PBES2},
 *                                          encryptedData OCTET STRING }
 *   PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier }
 *   PBKDF2-params ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER, keyLength INTEGER OPTIONAL,
 *                                prf AlgorithmIdentifier DEFAULT hmacWithSHA1 }     -- RFC 8018 §A.2
 *   scrypt-params ::= SEQUENCE { salt OCTET STRING, costParameter INTEGER, blockSize INTEGER,
 *                                parallelizationParameter INTEGER, keyLength INTEGER OPTIONAL } -- RFC 7914 §7
 *   encryptionScheme: aes{128,192,256}-CBC-PAD (params: 16-byte IV), des-EDE3-CBC (8-byte IV).
 *
 * Writing defaults: PBKDF2-HMAC-SHA256 with 600 000 iterations (OWASP 2023 figure) + AES-256-CBC.
 * scrypt N=2^17, r=8, p=1 (128 MiB; stronger against GPUs) is one option away (`kdf: 'scrypt'`),
 * but it is not the default: OpenSSL 3.0–3.4 refuse scrypt above ~32 MiB of memory when reading
 * (openssl/openssl#24650), and a CA key that `openssl pkey` cannot open breaks backup/restore
 * and every tool our users already run.
 */

/**
 * Caps on attacker-controlled KDF parameters when *reading*, so a hostile file cannot make us
 * spin or allocate for minutes. Defaults allow 16× our own write defaults:
 * - `maxPbkdf2Iterations` 10 000 000 (~3–5 s of HMAC-SHA256 on one core here);
 * - `maxScryptMemory` 1 GiB for 128·N·r (N=2^20, r=8 is exactly 1 GiB);
 * - `maxScryptWork` 2^24 for N·r·p (= 2^17·8·16: 16× our default's work);
 * - `maxScryptParallelism` 16.
 */
export interface KdfLimits {
  maxPbkdf2Iterations: number;
  maxScryptMemory: number;
  maxScryptWork: number;
  maxScryptParallelism: number;
}

export const DEFAULT_KDF_LIMITS: Readonly<KdfLimits> = Object.freeze({
  maxPbkdf2Iterations: 10_000_000,
  maxScryptMemory: 1024 * 1024 * 1024,
  maxScryptWork: 1 << 24,
  maxScryptParallelism: 16,
});

export type KdfOptions =
  | { kdf: 'scrypt'; N?: number; r?: number; p?: number }
  | { kdf: 'pbkdf2'; iterations?: number; hash?: 'SHA-256' | 'SHA-384' | 'SHA-512' };

export interface EncryptOptions {
  /** Default `{ kdf: 'scrypt' }`. */
  kdf?: KdfOptions;
  /** Default 'aes-256-cbc'. */
  cipher?: 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc';
}

export const SCRYPT_DEFAULTS = Object.freeze({ N: 1 << 17, r: 8, p: 1 });
export const PBKDF2_MIN_ITERATIONS = 600_000;

const CIPHERS: Record<string, { name: CbcCipher; keyLength: number; ivLength: number }> = {
  [OID.aes128Cbc]: { name: 'aes-128-cbc', keyLength: 16, ivLength: 16 },
  [OID.aes192Cbc]: { name: 'aes-192-cbc', keyLength: 24, ivLength: 16 },
  [OID.aes256Cbc]: { name: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
  [OID.desEde3Cbc]: { name: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
};
const CIPHER_OID: Record<string, string> = {
  'aes-128-cbc': OID.aes128Cbc,
  'aes-192-cbc': OID.aes192Cbc,
  'aes-256-cbc': OID.aes256Cbc,
};
const PRF: Record<string, HashName> = {
  [OID.hmacWithSHA1]: 'SHA-1',
  [OID.hmacWithSHA256]: 'SHA-256',
  [OID.hmacWithSHA384]: 'SHA-384',
  [OID.hmacWithSHA512]: 'SHA-512',
};
const PRF_OID: Record<string, string> = {
  'SHA-256': OID.hmacWithSHA256,
  'SHA-384': OID.hmacWithSHA384,
  'SHA-512': OID.hmacWithSHA512,
};

export const passphraseBytes = (p: string | Uint8Array): Uint8Array =>
  typeof p === 'string' ? utf8Encode(p) : p;

export async function encryptPrivateKeyInfo(
  pkcs8: Uint8Array,
  passphrase: string | Uint8Array,
  provider: CryptoProvider,
  options: EncryptOptions = {},
): Promise<Uint8Array> {
  const pass = passphraseBytes(passphrase);
  const cipherName = options.cipher ?? 'aes-256-cbc';
  const cipherOid = CIPHER_OID[cipherName];
  if (!cipherOid) throw new CryptoError('unsupported-algorithm', `cipher ${cipherName}`);
  const { keyLength } = CIPHERS[cipherOid]!;
  const salt = provider.randomBytes(16);
  const iv = provider.randomBytes(16);
  const kdf = options.kdf ?? { kdf: 'pbkdf2' };
  let key: Uint8Array;
  let kdfAlg: Uint8Array;
  if (kdf.kdf === 'scrypt') {
    const N = kdf.N ?? SCRYPT_DEFAULTS.N;
    const r = kdf.r ?? SCRYPT_DEFAULTS.r;
    const p = kdf.p ?? SCRYPT_DEFAULTS.p;
    checkScrypt(N, r, p, DEFAULT_KDF_LIMITS);
    key = await provider.scrypt(pass, salt, { N, r, p }, keyLength);
    kdfAlg = encodeDer((w) =>
      w.sequence((w) => {
        w.oid(OID.scrypt);
        w.sequence((w) => {
          w.octetString(salt);
          w.integer(N);
          w.integer(r);
          w.integer(p);
          w.integer(keyLength);
        });
      }),
    );
  } else {
    const iterations = kdf.iterations ?? PBKDF2_MIN_ITERATIONS;
    const hash = kdf.hash ?? 'SHA-256';
    if (iterations < PBKDF2_MIN_ITERATIONS)
      throw new CryptoError(
        'unsupported-algorithm',
        `PBKDF2 needs at least ${PBKDF2_MIN_ITERATIONS} iterations`,
      );
    key = await provider.pbkdf2(pass, salt, iterations, hash, keyLength);
    kdfAlg = encodeDer((w) =>
      w.sequence((w) => {
        w.oid(OID.pbkdf2);
        w.sequence((w) => {
          w.octetString(salt);
          w.integer(iterations);
          w.integer(keyLength);
          w.sequence((w) => w.oid(PRF_OID[hash]!).null());
        });
      }),
    );
  }
  const encrypted = await provider.cbc('encrypt', cipherName, key, iv, pkcs8);
  return encodeDer(
    (w) =>
      w.sequence((w) => {
        w.sequence((w) => {
          w.oid(OID.pbes2);
          w.sequence((w) => {
            w.raw(kdfAlg);
            w.sequence((w) => w.oid(cipherOid).octetString(iv));
          });
        });
        w.octetString(encrypted);
      }),
    encrypted.length + 128,
  );
}

function checkScrypt(N: number, r: number, p: number, limits: Readonly<KdfLimits>): void {
  // Limits first: they also keep N below 2^31 for the bitwise power-of-two test.
  if (
    128 * N * r > limits.maxScryptMemory ||
    N * r * p > limits.maxScryptWork ||
    p > limits.maxScryptParallelism
  )
    throw new CryptoError('kdf-limit', `scrypt N=${N} r=${r} p=${p} exceeds the configured limits`);
  // RFC 7914 §2: N a power of two > 1; r, p positive.
  if (!(N > 1 && N < 2 ** 31 && (N & (N - 1)) === 0) || r < 1 || p < 1)
    throw new CryptoError('bad-encrypted-key', `invalid scrypt parameters N=${N} r=${r} p=${p}`);
}

interface ParsedPbes2 {
  kdf:
    | { kdf: 'pbkdf2'; salt: Uint8Array; iterations: number; prf: HashName; keyLength?: number }
    | { kdf: 'scrypt'; salt: Uint8Array; N: number; r: number; p: number; keyLength?: number };
  cipher: { name: CbcCipher; keyLength: number; iv: Uint8Array };
  encryptedData: Uint8Array;
}

/** Reads an EncryptedPrivateKeyInfo with PBES2 parameters (no cryptography). */
export function parseEncryptedPrivateKeyInfo(der: Uint8Array): ParsedPbes2 {
  try {
    const top = DerReader.from(der, 'EncryptedPrivateKeyInfo');
    const epki = top.readSequence('EncryptedPrivateKeyInfo');
    const alg = epki.readSequence('encryptionAlgorithm');
    const oid = alg.readOid('algorithm');
    if (oid !== OID.pbes2)
      throw new CryptoError('unsupported-algorithm', `encryption scheme ${oid} (only PBES2 is supported)`);
    const params = alg.readSequence('PBES2-params');
    const kdfSeq = params.readSequence('keyDerivationFunc');
    const kdfOid = kdfSeq.readOid('algorithm');
    let kdf: ParsedPbes2['kdf'];
    const kp = kdfSeq.readSequence('parameters');
    const salt = kp.readOctetString('salt');
    if (kdfOid === OID.pbkdf2) {
      // RFC 8018 §A.2: iterationCount INTEGER (1..MAX); the cap is applied by the caller's limits.
      const iterations = kp.readSmallInt('iterationCount');
      const keyLength = kp.peekTag() === Tag.INTEGER ? kp.readSmallInt('keyLength', 1024) : undefined;
      let prf: HashName = 'SHA-1';
      const prfSeq = kp.readOptionalSequence('prf');
      if (prfSeq) {
        const prfOid = prfSeq.readOid('algorithm');
        if (!prfSeq.atEnd()) prfSeq.readNull('parameters');
        prfSeq.finish();
        const h = PRF[prfOid];
        if (!h) throw new CryptoError('unsupported-algorithm', `PBKDF2 PRF ${prfOid}`);
        prf = h;
      }
      kdf = { kdf: 'pbkdf2', salt, iterations, prf, keyLength };
    } else if (kdfOid === OID.scrypt) {
      const N = kp.readSmallInt('costParameter', Number.MAX_SAFE_INTEGER);
      const r = kp.readSmallInt('blockSize');
      const p = kp.readSmallInt('parallelizationParameter');
      const keyLength = kp.atEnd() ? undefined : kp.readSmallInt('keyLength', 1024);
      kdf = { kdf: 'scrypt', salt, N, r, p, keyLength };
    } else {
      throw new CryptoError('unsupported-algorithm', `key derivation function ${kdfOid}`);
    }
    kp.finish();
    kdfSeq.finish();
    const enc = params.readSequence('encryptionScheme');
    const encOid = enc.readOid('algorithm');
    const c = CIPHERS[encOid];
    if (!c) throw new CryptoError('unsupported-algorithm', `cipher ${encOid}`);
    const iv = enc.readOctetString('iv');
    if (iv.length !== c.ivLength)
      throw new CryptoError('bad-encrypted-key', `IV must be ${c.ivLength} bytes`);
    enc.finish();
    params.finish();
    alg.finish();
    const encryptedData = epki.readOctetString('encryptedData');
    epki.finish();
    top.finish();
    if (kdf.keyLength !== undefined && kdf.keyLength !== c.keyLength)
      throw new CryptoError('bad-encrypted-key', `KDF keyLength ${kdf.keyLength} does not fit ${c.name}`);
    return { kdf, cipher: { name: c.name, keyLength: c.keyLength, iv }, encryptedData };
  } catch (e) {
    if (e instanceof DerError)
      throw new CryptoError('bad-encrypted-key', `malformed EncryptedPrivateKeyInfo: ${e.message}`, {
        cause: e,
      });
    throw e;
  }
}

/**
 * Decrypts an EncryptedPrivateKeyInfo to PKCS#8 DER. A wrong passphrase is `bad-passphrase`
 * (padding failure, or plaintext that is not a PrivateKeyInfo — `check` is that test).
 */
export async function decryptPrivateKeyInfo(
  der: Uint8Array,
  passphrase: string | Uint8Array,
  provider: CryptoProvider,
  check: (pkcs8: Uint8Array) => boolean,
  limits: Readonly<KdfLimits> = DEFAULT_KDF_LIMITS,
): Promise<Uint8Array> {
  const p = parseEncryptedPrivateKeyInfo(der);
  const pass = passphraseBytes(passphrase);
  let key: Uint8Array;
  if (p.kdf.kdf === 'pbkdf2') {
    if (p.kdf.iterations < 1) throw new CryptoError('bad-encrypted-key', 'PBKDF2 iterationCount must be ≥ 1');
    if (p.kdf.iterations > limits.maxPbkdf2Iterations)
      throw new CryptoError(
        'kdf-limit',
        `PBKDF2 iterationCount ${p.kdf.iterations} exceeds ${limits.maxPbkdf2Iterations}`,
      );
    key = await provider.pbkdf2(pass, p.kdf.salt, p.kdf.iterations, p.kdf.prf, p.cipher.keyLength);
  } else {
    checkScrypt(p.kdf.N, p.kdf.r, p.kdf.p, limits);
    key = await provider.scrypt(pass, p.kdf.salt, { N: p.kdf.N, r: p.kdf.r, p: p.kdf.p }, p.cipher.keyLength);
  }
  const plain = await provider.cbc('decrypt', p.cipher.name, key, p.cipher.iv, p.encryptedData);
  if (!check(plain))
    throw new CryptoError('bad-passphrase', 'decryption produced no valid key (wrong passphrase?)');
  return plain;
}
