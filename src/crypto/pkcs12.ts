import { DerError, DerReader, encodeDer, OID, Tag, utf8Encode } from '../der/index.js';
import type { HashName } from './algorithms.js';
import { defaultProvider } from './default-provider.js';
import { CryptoError } from './errors.js';
import {
  DEFAULT_KDF_LIMITS,
  decryptPrivateKeyInfo,
  encryptPrivateKeyInfo,
  type KdfLimits,
  parseEncryptedPrivateKeyInfo,
} from './pbes2.js';
import { pkcs12Kdf, pkcs12Password } from './pkcs12-kdf.js';
import type { CbcCipher, CryptoProvider } from './provider.js';

/**
 * PKCS#12 (RFC 7292): the `.p12`/`.pfx` files browsers, Windows, Java and device SDKs import an
 * identity (a private key with its certificate chain) from.
 *
 *   PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }   -- §4
 *   MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
 *   AuthenticatedSafe ::= SEQUENCE OF ContentInfo      -- each id-data (plain) or id-encryptedData
 *   EncryptedData ::= SEQUENCE { version INTEGER (0), EncryptedContentInfo }                 -- RFC 5652 §8
 *   EncryptedContentInfo ::= SEQUENCE { contentType OID, contentEncryptionAlgorithm AlgorithmIdentifier,
 *                                       encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
 *   SafeContents ::= SEQUENCE OF SafeBag                                                     -- §4.2
 *   SafeBag ::= SEQUENCE { bagId OID, bagValue [0] EXPLICIT ANY, bagAttributes SET OF PKCS12Attribute OPTIONAL }
 *   CertBag ::= SEQUENCE { certId OID (x509Certificate), certValue [0] EXPLICIT OCTET STRING }
 *
 * Reading is strict DER (BER's indefinite lengths, which some Windows exports use, are refused
 * with `bad-pkcs12`), every loop is bounded by the DER reader's element limit, and KDF iteration
 * counts are capped by `KdfLimits` (a hostile file picks them). The password is checked by the
 * MAC before anything is decrypted: a wrong one is `bad-passphrase`.
 *
 * Writing has two profiles:
 *   - 'aes-256' (default; what OpenSSL 3 writes by default): PBES2 (PBKDF2-HMAC-SHA256 +
 *     AES-256-CBC) for the key and the certificates, HMAC-SHA256 MAC. Iterations 600 000 for
 *     PBKDF2 (our PBES2 floor, pbes2.ts) and 2048 for the MAC (OpenSSL's; the PKCS#12 KDF runs
 *     in JavaScript here and the MAC adds nothing to an attacker's cost beyond PBKDF2's).
 *   - 'legacy' (`openssl pkcs12 -legacy`, for devices whose stacks predate PBES2 in PKCS#12):
 *     pbeWithSHAAnd3-KeyTripleDES-CBC for key and certificates, HMAC-SHA1 MAC, 2048 iterations.
 *     OpenSSL's own -legacy output encrypts certificates with 40-bit RC2, which we read (with
 *     OpenSSL's legacy provider) but never write.
 */

/** RFC 7292 Appendix D and RFC 2985 object identifiers used here. */
const P12 = {
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  crlBag: '1.2.840.113549.1.12.10.1.4',
  secretBag: '1.2.840.113549.1.12.10.1.5',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
} as const;

const BAG_NAMES: Record<string, string> = {
  [P12.keyBag]: 'keyBag',
  [P12.pkcs8ShroudedKeyBag]: 'pkcs8ShroudedKeyBag',
  [P12.certBag]: 'certBag',
  [P12.crlBag]: 'crlBag',
  [P12.secretBag]: 'secretBag',
  [P12.safeContentsBag]: 'safeContentsBag',
};

/** RFC 7292 Appendix C: the PKCS#12 password-based encryption schemes (SHA-1 KDF). */
const PBE: Record<string, { name: string; cipher: CbcCipher; keyLength: number }> = {
  '1.2.840.113549.1.12.1.3': {
    name: 'pbeWithSHAAnd3-KeyTripleDES-CBC',
    cipher: 'des-ede3-cbc',
    keyLength: 24,
  },
  '1.2.840.113549.1.12.1.5': { name: 'pbeWithSHAAnd128BitRC2-CBC', cipher: 'rc2-cbc', keyLength: 16 },
  '1.2.840.113549.1.12.1.6': { name: 'pbeWithSHAAnd40BitRC2-CBC', cipher: 'rc2-40-cbc', keyLength: 5 },
};
const PBE_3DES = '1.2.840.113549.1.12.1.3';

const DIGEST_OIDS: Record<string, HashName> = {
  [OID.sha1]: 'SHA-1',
  [OID.sha256]: 'SHA-256',
  [OID.sha384]: 'SHA-384',
  [OID.sha512]: 'SHA-512',
};
const DIGEST_OID: Record<string, string> = {
  'SHA-1': OID.sha1,
  'SHA-256': OID.sha256,
  'SHA-384': OID.sha384,
  'SHA-512': OID.sha512,
};

/** How a piece of the file is encrypted (no secrets). */
export type Pkcs12Encryption =
  | { scheme: 'PBES2'; kdf: 'PBKDF2'; prf: HashName; iterations: number; saltLength: number; cipher: string }
  | { scheme: 'PBES2'; kdf: 'scrypt'; N: number; r: number; p: number; saltLength: number; cipher: string }
  | {
      scheme: string;
      kdf: 'PKCS#12 KDF';
      hash: 'SHA-1';
      iterations: number;
      saltLength: number;
      cipher: string;
    }
  | { scheme: string; unsupported: string };

/** The MAC's parameters (RFC 7292 §4 MacData). */
export interface Pkcs12Mac {
  hash: HashName;
  iterations: number;
  saltLength: number;
}

/** The structure of a PFX as far as it can be read without the password. */
export interface Pkcs12Structure {
  mac: Pkcs12Mac | undefined;
  /** The AuthenticatedSafe's ContentInfos in order; bag types only for plain (unencrypted) ones. */
  safes: { encryption?: Pkcs12Encryption; bags?: string[] }[];
}

/** Bag attributes that tie a key to its certificate and name them (RFC 2985 §5.5.1, §5.5.2). */
export interface Pkcs12Attributes {
  friendlyName?: string;
  localKeyId?: Uint8Array;
}

/** What a PFX holds, decrypted. */
export interface Pkcs12Contents extends Pkcs12Structure {
  /** PKCS#8 PrivateKeyInfo DER (decrypted when it was shrouded). Handle as secrets. */
  keys: (Pkcs12Attributes & { pkcs8: Uint8Array })[];
  /** X.509 certificates (DER), in file order. */
  certificates: (Pkcs12Attributes & { der: Uint8Array })[];
}

/** Options of `readPkcs12`: the provider, and caps on the iteration counts a file may ask for. */
export interface Pkcs12ReadOptions {
  provider?: CryptoProvider;
  kdfLimits?: Readonly<KdfLimits>;
}

/** Options of `writePkcs12`. */
export interface Pkcs12WriteOptions {
  provider?: CryptoProvider;
  /** Default 'aes-256' (see the module comment). */
  profile?: 'aes-256' | 'legacy';
  /** friendlyName of the key and its certificate (RFC 2985 §5.5.1). */
  friendlyName?: string;
}

function malformed(e: unknown): never {
  if (e instanceof DerError)
    throw new CryptoError('bad-pkcs12', `malformed PKCS#12: ${e.message}`, { cause: e });
  throw e;
}

interface RawSafe {
  /** Plain SafeContents DER, or the encrypted content with its algorithm. */
  plain?: Uint8Array;
  encrypted?: { algorithm: Uint8Array; algorithmOid: string; content: Uint8Array };
}

interface RawPfx {
  authSafe: Uint8Array;
  safes: RawSafe[];
  mac?: { hash: HashName; digest: Uint8Array; salt: Uint8Array; iterations: number };
}

function readPfx(der: Uint8Array): RawPfx {
  try {
    const top = DerReader.from(der, 'PFX');
    const pfx = top.readSequence('PFX');
    const version = pfx.readSmallInt('version', 255);
    if (version !== 3) throw new CryptoError('bad-pkcs12', `PFX version ${version} (only v3 exists)`);
    const ci = pfx.readSequence('authSafe');
    const type = ci.readOid('contentType');
    if (type !== OID.data)
      throw new CryptoError(
        'unsupported-algorithm',
        `PFX authSafe of type ${type} (public-key integrity mode)`,
      );
    const content = ci.readExplicit(0, 'content');
    const authSafe = content.readOctetString('AuthenticatedSafe');
    content.finish();
    ci.finish();
    let mac: RawPfx['mac'];
    const md = pfx.readOptionalSequence('macData');
    if (md) {
      const di = md.readSequence('mac');
      const alg = di.readSequence('digestAlgorithm');
      const oid = alg.readOid('algorithm');
      if (!alg.atEnd()) alg.readNull('parameters');
      alg.finish();
      const hash = DIGEST_OIDS[oid];
      if (!hash) throw new CryptoError('unsupported-algorithm', `PKCS#12 MAC digest ${oid}`);
      const digest = di.readOctetString('digest');
      di.finish();
      const salt = md.readOctetString('macSalt');
      const iterations = md.atEnd() ? 1 : md.readSmallInt('iterations');
      md.finish();
      mac = { hash, digest, salt, iterations };
    }
    pfx.finish();
    top.finish();
    const r = DerReader.from(authSafe, 'AuthenticatedSafe');
    const seq = r.readSequence('AuthenticatedSafe');
    const safes: RawSafe[] = [];
    seq.forEach('ContentInfo', (s) => {
      const c = s.readSequence('ContentInfo');
      const t = c.readOid('contentType');
      const content = c.readExplicit(0, 'content');
      if (t === OID.data) safes.push({ plain: content.readOctetString('SafeContents') });
      else if (t === P12.encryptedData) {
        const ed = content.readSequence('EncryptedData');
        ed.readSmallInt('version', 2);
        const eci = ed.readSequence('EncryptedContentInfo');
        eci.readOid('contentType');
        const algorithm = eci.readTlvBytes(Tag.SEQUENCE, 'contentEncryptionAlgorithm');
        const algorithmOid = DerReader.from(algorithm, 'contentEncryptionAlgorithm')
          .readSequence('contentEncryptionAlgorithm')
          .readOid('algorithm');
        const enc = eci.readValue(0x80, 'encryptedContent');
        eci.finish();
        ed.finish();
        safes.push({ encrypted: { algorithm, algorithmOid, content: enc } });
      } else
        throw new CryptoError(
          'unsupported-algorithm',
          `AuthenticatedSafe content type ${t} (enveloped data)`,
        );
      content.finish();
      c.finish();
    });
    r.finish();
    return { authSafe, safes, mac };
  } catch (e) {
    return malformed(e);
  }
}

/** PBES2 or PKCS#12-PBE parameters of an AlgorithmIdentifier (no cryptography). */
function encryptionOf(algorithm: Uint8Array): Pkcs12Encryption {
  const r = DerReader.from(algorithm, 'AlgorithmIdentifier').readSequence('AlgorithmIdentifier');
  const oid = r.readOid('algorithm');
  const pbe = PBE[oid];
  if (pbe) {
    const p = r.readSequence('pkcs-12PbeParams');
    const salt = p.readOctetString('salt');
    const iterations = p.readSmallInt('iterations');
    p.finish();
    r.finish();
    return {
      scheme: pbe.name,
      kdf: 'PKCS#12 KDF',
      hash: 'SHA-1',
      iterations,
      saltLength: salt.length,
      cipher: pbe.cipher,
    };
  }
  if (oid === OID.pbes2) {
    // Parsed by pbes2.ts, on the same AlgorithmIdentifier wrapped as an EncryptedPrivateKeyInfo.
    const p = parseEncryptedPrivateKeyInfo(asEpki(algorithm, new Uint8Array(0)));
    return p.kdf.kdf === 'pbkdf2'
      ? {
          scheme: 'PBES2',
          kdf: 'PBKDF2',
          prf: p.kdf.prf,
          iterations: p.kdf.iterations,
          saltLength: p.kdf.salt.length,
          cipher: p.cipher.name,
        }
      : {
          scheme: 'PBES2',
          kdf: 'scrypt',
          N: p.kdf.N,
          r: p.kdf.r,
          p: p.kdf.p,
          saltLength: p.kdf.salt.length,
          cipher: p.cipher.name,
        };
  }
  return { scheme: oid, unsupported: `encryption scheme ${oid} is not supported` };
}

/** SEQUENCE { algorithm, OCTET STRING } — the EncryptedPrivateKeyInfo shape (RFC 5958 §3). */
function asEpki(algorithm: Uint8Array, content: Uint8Array): Uint8Array {
  return encodeDer((w) => w.sequence((w) => w.raw(algorithm).octetString(content)), content.length + 128);
}

function bagTypes(safeContents: Uint8Array): string[] {
  const out: string[] = [];
  const r = DerReader.from(safeContents, 'SafeContents');
  r.readSequence('SafeContents').forEach('SafeBag', (b) => {
    const bag = b.readSequence('SafeBag');
    const id = bag.readOid('bagId');
    out.push(BAG_NAMES[id] ?? id);
    bag.readAny('bagValue');
    if (!bag.atEnd()) bag.readAny('bagAttributes');
    bag.finish();
  });
  return out;
}

/** What can be said about a PFX without its password: MAC parameters and how each part is protected. */
export function readPkcs12Structure(der: Uint8Array): Pkcs12Structure {
  const pfx = readPfx(der);
  try {
    return {
      mac: pfx.mac && { hash: pfx.mac.hash, iterations: pfx.mac.iterations, saltLength: pfx.mac.salt.length },
      safes: pfx.safes.map((s) =>
        s.encrypted ? { encryption: encryptionOf(s.encrypted.algorithm) } : { bags: bagTypes(s.plain!) },
      ),
    };
  } catch (e) {
    return malformed(e);
  }
}

function checkIterations(n: number, limits: Readonly<KdfLimits>, what: string): void {
  if (n < 1) throw new CryptoError('bad-pkcs12', `${what} iteration count must be ≥ 1`);
  if (n > limits.maxPbkdf2Iterations)
    throw new CryptoError('kdf-limit', `${what} iteration count ${n} exceeds ${limits.maxPbkdf2Iterations}`);
}

/** Decrypts content protected by a PKCS#12 PBE scheme or PBES2 (the password as RFC 7292 and OpenSSL use it). */
async function decryptContent(
  algorithm: Uint8Array,
  content: Uint8Array,
  password: string,
  provider: CryptoProvider,
  limits: Readonly<KdfLimits>,
): Promise<Uint8Array> {
  const enc = encryptionOf(algorithm);
  if ('unsupported' in enc) throw new CryptoError('unsupported-algorithm', enc.unsupported);
  if (enc.scheme === 'PBES2')
    // PBES2 takes the password's UTF-8 bytes (RFC 8018 §6.2; OpenSSL does the same inside PKCS#12).
    return decryptPrivateKeyInfo(
      asEpki(algorithm, content),
      utf8Encode(password),
      provider,
      () => true,
      limits,
    );
  const r = DerReader.from(algorithm, 'AlgorithmIdentifier').readSequence('AlgorithmIdentifier');
  const pbe = PBE[r.readOid('algorithm')]!;
  const p = r.readSequence('pkcs-12PbeParams');
  const salt = p.readOctetString('salt');
  const iterations = p.readSmallInt('iterations');
  checkIterations(iterations, limits, 'PKCS#12 PBE');
  const pw = pkcs12Password(password);
  const key = await pkcs12Kdf(provider, 'SHA-1', 1, pw, salt, iterations, pbe.keyLength);
  const iv = await pkcs12Kdf(provider, 'SHA-1', 2, pw, salt, iterations, 8);
  return provider.cbc('decrypt', pbe.cipher, key, iv, content);
}

function readAttributes(bag: DerReader): Pkcs12Attributes {
  const out: Pkcs12Attributes = {};
  if (bag.atEnd()) return out;
  bag.readSetOf('bagAttributes').forEach('PKCS12Attribute', (a) => {
    const attr = a.readSequence('PKCS12Attribute');
    const id = attr.readOid('attrId');
    const values = attr.readSetOf('attrValues');
    if (id === P12.friendlyName) out.friendlyName = values.readStringOf(Tag.BMPString, 'friendlyName');
    else if (id === P12.localKeyId) out.localKeyId = values.readOctetString('localKeyId');
    else values.forEach('value', (v) => void v.readAny('value'));
    if (!values.atEnd()) values.fail('unexpected-tag', `${id}: more than one value`);
    attr.finish();
  });
  return out;
}

/** Constant-time comparison of two MACs. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * Reads a PFX: verifies the MAC with `password` (a wrong one is `bad-passphrase`), decrypts every
 * part and returns the keys (PKCS#8) and certificates. The empty string is a valid password
 * (OpenSSL's `-passout pass:`).
 */
export async function readPkcs12(
  der: Uint8Array,
  password: string,
  options: Pkcs12ReadOptions = {},
): Promise<Pkcs12Contents> {
  const provider = options.provider ?? defaultProvider();
  const limits = options.kdfLimits ?? DEFAULT_KDF_LIMITS;
  const structure = readPkcs12Structure(der);
  const pfx = readPfx(der);
  if (pfx.mac) {
    checkIterations(pfx.mac.iterations, limits, 'PKCS#12 MAC');
    const n = pfx.mac.digest.length;
    const key = await pkcs12Kdf(
      provider,
      pfx.mac.hash,
      3,
      pkcs12Password(password),
      pfx.mac.salt,
      pfx.mac.iterations,
      n,
    );
    const mac = await provider.hmac(pfx.mac.hash, key, pfx.authSafe);
    if (!sameBytes(mac, pfx.mac.digest))
      throw new CryptoError(
        'bad-passphrase',
        'PKCS#12 MAC does not verify: wrong password (or a corrupted file)',
      );
  }
  const keys: Pkcs12Contents['keys'] = [];
  const certificates: Pkcs12Contents['certificates'] = [];
  for (const s of pfx.safes) {
    const contents = s.encrypted
      ? await decryptContent(s.encrypted.algorithm, s.encrypted.content, password, provider, limits)
      : s.plain!;
    const bags: { id: string; value: Uint8Array; attrs: Pkcs12Attributes }[] = [];
    try {
      const r = DerReader.from(contents, 'SafeContents');
      r.readSequence('SafeContents').forEach('SafeBag', (b) => {
        const bag = b.readSequence('SafeBag');
        const id = bag.readOid('bagId');
        const value = bag.readExplicit(0, 'bagValue');
        const tlv = value.readAny('bagValue');
        value.finish();
        bags.push({ id, value: tlv.der, attrs: readAttributes(bag) });
        bag.finish();
      });
      r.finish();
    } catch (e) {
      malformed(e);
    }
    for (const b of bags) {
      if (b.id === P12.keyBag) keys.push({ ...b.attrs, pkcs8: b.value });
      else if (b.id === P12.pkcs8ShroudedKeyBag) {
        const ai = DerReader.from(b.value, 'EncryptedPrivateKeyInfo').readSequence('EncryptedPrivateKeyInfo');
        const algorithm = ai.readTlvBytes(Tag.SEQUENCE, 'encryptionAlgorithm');
        const content = ai.readOctetString('encryptedData');
        keys.push({
          ...b.attrs,
          pkcs8: await decryptContent(algorithm, content, password, provider, limits),
        });
      } else if (b.id === P12.certBag) {
        try {
          const cb = DerReader.from(b.value, 'CertBag').readSequence('CertBag');
          const certId = cb.readOid('certId');
          const v = cb.readExplicit(0, 'certValue').readOctetString('certValue');
          cb.finish();
          if (certId === P12.x509Certificate) certificates.push({ ...b.attrs, der: v });
        } catch (e) {
          malformed(e);
        }
      }
      // CRL, secret and nested bags are listed in `safes` but not returned.
    }
  }
  return { ...structure, keys, certificates };
}

async function pbeEncrypt(
  plain: Uint8Array,
  password: string,
  profile: 'aes-256' | 'legacy',
  provider: CryptoProvider,
): Promise<{ algorithm: Uint8Array; content: Uint8Array }> {
  if (profile === 'aes-256') {
    const epki = await encryptPrivateKeyInfo(plain, utf8Encode(password), provider, {
      kdf: { kdf: 'pbkdf2', hash: 'SHA-256' },
      cipher: 'aes-256-cbc',
    });
    const r = DerReader.from(epki, 'EncryptedPrivateKeyInfo').readSequence('EncryptedPrivateKeyInfo');
    return {
      algorithm: r.readTlvBytes(Tag.SEQUENCE, 'algorithm'),
      content: r.readOctetString('encryptedData'),
    };
  }
  const salt = provider.randomBytes(8);
  const pw = pkcs12Password(password);
  const key = await pkcs12Kdf(provider, 'SHA-1', 1, pw, salt, LEGACY_ITERATIONS, 24);
  const iv = await pkcs12Kdf(provider, 'SHA-1', 2, pw, salt, LEGACY_ITERATIONS, 8);
  const content = await provider.cbc('encrypt', 'des-ede3-cbc', key, iv, plain);
  const algorithm = encodeDer((w) =>
    w.sequence((w) => w.oid(PBE_3DES).sequence((w) => w.octetString(salt).integer(LEGACY_ITERATIONS))),
  );
  return { algorithm, content };
}

/** Iterations of the legacy scheme and of every MAC: OpenSSL's default (PKCS12_DEFAULT_ITER). */
const LEGACY_ITERATIONS = 2048;

/**
 * Writes a PFX holding one private key and its certificates (leaf first, then the chain), in
 * the layout OpenSSL uses: an encrypted SafeContents of certificate bags, then a plain one with
 * the shrouded key bag; the key and the leaf share a localKeyId (the leaf's SHA-1, as OpenSSL).
 */
export async function writePkcs12(
  key: { pkcs8: Uint8Array } | undefined,
  certificates: readonly Uint8Array[],
  password: string,
  options: Pkcs12WriteOptions = {},
): Promise<Uint8Array> {
  const provider = options.provider ?? defaultProvider();
  const profile = options.profile ?? 'aes-256';
  if (!key && certificates.length === 0)
    throw new CryptoError('bad-format', 'a PKCS#12 file needs a key or a certificate');
  const localKeyId = certificates[0]
    ? await provider.digestAsync('SHA-1', certificates[0])
    : new Uint8Array([1]);
  const attributes = (w: Parameters<Parameters<typeof encodeDer>[0]>[0], withId: boolean) =>
    w.setOf((w) => {
      if (options.friendlyName !== undefined)
        w.sequence((w) =>
          w
            .oid(P12.friendlyName)
            .setOf((w) => w.tlv(Tag.BMPString, pkcs12Password(options.friendlyName!).slice(0, -2))),
        );
      if (withId) w.sequence((w) => w.oid(P12.localKeyId).setOf((w) => w.octetString(localKeyId)));
    });
  const hasAttributes = (withId: boolean) => withId || options.friendlyName !== undefined;
  const safes: Uint8Array[] = [];
  if (certificates.length) {
    const certContents = encodeDer((w) =>
      w.sequence((w) => {
        certificates.forEach((c, i) => {
          w.sequence((w) => {
            w.oid(P12.certBag).explicit(0, (w) =>
              w.sequence((w) => w.oid(P12.x509Certificate).explicit(0, (w) => w.octetString(c))),
            );
            if (i === 0 && hasAttributes(key !== undefined)) attributes(w, key !== undefined);
          });
        });
      }),
    );
    const { algorithm, content } = await pbeEncrypt(certContents, password, profile, provider);
    safes.push(
      encodeDer((w) =>
        w.sequence((w) =>
          w
            .oid(P12.encryptedData)
            .explicit(0, (w) =>
              w.sequence((w) =>
                w.integer(0).sequence((w) => w.oid(OID.data).raw(algorithm).tlv(0x80, content)),
              ),
            ),
        ),
      ),
    );
  }
  if (key) {
    const { algorithm, content } = await pbeEncrypt(key.pkcs8, password, profile, provider);
    const keyContents = encodeDer((w) =>
      w.sequence((w) =>
        w.sequence((w) => {
          w.oid(P12.pkcs8ShroudedKeyBag).explicit(0, (w) =>
            w.sequence((w) => w.raw(algorithm).octetString(content)),
          );
          if (hasAttributes(certificates.length > 0)) attributes(w, certificates.length > 0);
        }),
      ),
    );
    safes.push(
      encodeDer((w) => w.sequence((w) => w.oid(OID.data).explicit(0, (w) => w.octetString(keyContents)))),
    );
  }
  const authSafe = encodeDer((w) =>
    w.sequence((w) => {
      for (const s of safes) w.raw(s);
    }),
  );
  const hash: HashName = profile === 'legacy' ? 'SHA-1' : 'SHA-256';
  const macLength = hash === 'SHA-1' ? 20 : 32;
  const salt = provider.randomBytes(8);
  const macKey = await pkcs12Kdf(
    provider,
    hash,
    3,
    pkcs12Password(password),
    salt,
    LEGACY_ITERATIONS,
    macLength,
  );
  const mac = await provider.hmac(hash, macKey, authSafe);
  return encodeDer(
    (w) =>
      w.sequence((w) => {
        w.integer(3);
        w.sequence((w) => w.oid(OID.data).explicit(0, (w) => w.octetString(authSafe)));
        w.sequence((w) => {
          w.sequence((w) => w.sequence((w) => w.oid(DIGEST_OID[hash]!).null()).octetString(mac));
          w.octetString(salt);
          w.integer(LEGACY_ITERATIONS);
        });
      }),
    authSafe.length + 256,
  );
}
