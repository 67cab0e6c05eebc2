import type * as Pkcs11Types from 'pkcs11js';
import { DerReader, encodeDer, Tag } from '../der/index.js';
import {
  CURVES,
  type CurveName,
  checkAlgorithmFitsKey,
  defaultSignatureAlgorithm,
  type KeyAlgorithm,
  type SignatureAlgorithm,
  supportedCurve,
} from './algorithms.js';
import { defaultProvider } from './default-provider.js';
import { ecdsaP1363ToDer } from './ecdsa-sig.js';
import { CryptoError } from './errors.js';
import { ecSpki, parseSpkiInfo, rsaSpki } from './key-info.js';
import type { CryptoProvider } from './provider.js';
import type { Signer } from './signer.js';

/**
 * A Signer whose private key lives in a PKCS#11 token (HSM, smart card, SoftHSM2) and never
 * leaves it: keys are generated on the token as sensitive and non-extractable, and only
 * digests/data go in and signatures come out. Uses the `pkcs11js` addon, imported lazily so
 * the rest of fleetpki works without it.
 *
 * Mechanisms: ECDSA hashes in the provider and signs with CKM_ECDSA (SoftHSM 2.6.1 has no
 * CKM_ECDSA_SHA256), then converts the token's r||s to DER (RFC 3279 §2.2.3); RSA PKCS#1 v1.5
 * uses CKM_SHA{256,384,512}_RSA_PKCS (the token hashes). RSA-PSS and EdDSA on tokens are not
 * wired up (`unsupported-algorithm`).
 *
 * Sessions: one R/W session per signer, logged in as CKU_USER. pkcs11js calls are synchronous,
 * so signatures never interleave within a session. Call `close()` when done (logs out, closes
 * the session and finalizes the module when its last user goes).
 *
 *   const signer = await Pkcs11Signer.open({ tokenLabel: 'ca', pin, keyLabel: 'issuing-ca' });
 *   const sig = signer.signSync(tbs);
 *   signer.close();
 */
export interface Pkcs11SignerOptions {
  /** PKCS#11 module path; default `$PKCS11_MODULE` or SoftHSM2's Debian path. */
  module?: string;
  tokenLabel: string;
  pin: string;
  /** Find the key by CKA_LABEL and/or CKA_ID (at least one). */
  keyLabel?: string;
  keyId?: Uint8Array;
  /** Default from the key: P-256→ecdsa/SHA-256, …, RSA→rsa-pkcs1/SHA-256. */
  algorithm?: SignatureAlgorithm;
  /** Used for digests (ECDSA) — default provider. */
  provider?: CryptoProvider;
}

/**
 * Options of `Pkcs11Signer.generate`: where to find the token, plus the new key's label and type.
 */
export interface Pkcs11GenerateOptions extends Pkcs11SignerOptions {
  keyLabel: string;
  keyType: 'ec-p256' | 'ec-p384' | 'ec-p521' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';
}

type P11Module = typeof Pkcs11Types;
/** PKCS#11 constants by name (CKA_*, CKO_*, CKK_*, CKM_*, …), as `Pkcs11Signer.pkcs11` gives them. */
export type Pkcs11Constants = Readonly<Record<`CK${string}`, number>>;
type P11 = InstanceType<P11Module['PKCS11']>;
type Handle = Buffer;

const DEFAULT_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

interface LoadedModule {
  lib: P11Module;
  p11: P11;
  users: number;
}
const loaded = new Map<string, LoadedModule>();

/** The package the PKCS#11 signer loads on first use (an optional dependency of fleetpki). */
const PKCS11JS = 'pkcs11js';

async function loadPkcs11js(): Promise<P11Module> {
  try {
    // A variable specifier: bundlers leave the optional native addon alone, and nothing loads it
    // until a PKCS#11 signer is opened.
    const m = (await import(PKCS11JS)) as { default?: P11Module } & P11Module;
    return m.default ?? m;
  } catch (e) {
    const absent =
      (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' &&
      String((e as Error).message).includes(`'${PKCS11JS}'`);
    throw new CryptoError(
      'missing-dependency',
      absent
        ? `the PKCS#11 signer needs the optional dependency ${PKCS11JS}, which is not installed: run \`npm install ${PKCS11JS}\` (it builds a native addon)`
        : `the optional dependency ${PKCS11JS} is installed but does not load (${(e as Error).message}): reinstall it with \`npm install ${PKCS11JS}\``,
      { cause: e },
    );
  }
}

function p11Error(e: unknown, what: string): CryptoError {
  if (e instanceof CryptoError) return e;
  return new CryptoError('pkcs11-error', `${what}: ${(e as Error).message}`, { cause: e });
}

async function acquire(path: string): Promise<LoadedModule> {
  let m = loaded.get(path);
  if (!m) {
    const lib = await loadPkcs11js();
    const p11 = new lib.PKCS11();
    try {
      p11.load(path);
      p11.C_Initialize();
    } catch (e) {
      throw p11Error(e, `cannot initialise PKCS#11 module ${path}`);
    }
    m = { lib, p11, users: 0 };
    loaded.set(path, m);
  }
  m.users++;
  return m;
}

function release(path: string): void {
  const m = loaded.get(path);
  if (!m || --m.users > 0) return;
  loaded.delete(path);
  try {
    m.p11.C_Finalize();
  } catch {
    // Finalize failing leaves nothing for us to clean up; the process keeps running.
  }
}

const RSA_MECH: Record<string, 'CKM_SHA256_RSA_PKCS' | 'CKM_SHA384_RSA_PKCS' | 'CKM_SHA512_RSA_PKCS'> = {
  'SHA-256': 'CKM_SHA256_RSA_PKCS',
  'SHA-384': 'CKM_SHA384_RSA_PKCS',
  'SHA-512': 'CKM_SHA512_RSA_PKCS',
};

/**
 * A `Signer` over a key on a PKCS#11 token (see `Pkcs11SignerOptions` above for the design).
 * Open one with `Pkcs11Signer.open` or `generate`; without the optional dependency `pkcs11js`
 * both fail with `CryptoError('missing-dependency')` naming what to install.
 */
export class Pkcs11Signer implements Signer {
  readonly signSync: (tbs: Uint8Array) => Uint8Array;
  private closed = false;

  private constructor(
    readonly algorithm: SignatureAlgorithm,
    readonly publicKey: Uint8Array,
    readonly keyAlgorithm: KeyAlgorithm,
    private readonly mod: LoadedModule,
    private readonly modulePath: string,
    private readonly session: Handle,
    /** The token's handle of the private key (valid while the session is open). */
    readonly privateKeyHandle: Handle,
    provider: CryptoProvider,
  ) {
    const { p11, lib } = mod;
    const alg = algorithm;
    checkAlgorithmFitsKey(alg, keyAlgorithm);
    if (alg.kind === 'ecdsa' && keyAlgorithm.kind === 'ec') {
      const curve = CURVES[keyAlgorithm.curve];
      const hash = alg.hash;
      const mech = { mechanism: lib.CKM_ECDSA };
      this.signSync = (tbs) => {
        this.checkOpen();
        const digest = provider.digest(hash, tbs);
        try {
          p11.C_SignInit(session, mech, privateKeyHandle);
          const raw = p11.C_Sign(
            session,
            Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength),
            Buffer.alloc(2 * curve.size),
          );
          return ecdsaP1363ToDer(raw, curve);
        } catch (e) {
          throw p11Error(e, 'C_Sign');
        }
      };
    } else if (alg.kind === 'rsa-pkcs1' && RSA_MECH[alg.hash]) {
      const mech = { mechanism: lib[RSA_MECH[alg.hash]!] };
      const size = Math.ceil((keyAlgorithm as { modulusBits: number }).modulusBits / 8);
      this.signSync = (tbs) => {
        this.checkOpen();
        try {
          p11.C_SignInit(session, mech, privateKeyHandle);
          return p11.C_Sign(
            session,
            Buffer.from(tbs.buffer, tbs.byteOffset, tbs.byteLength),
            Buffer.alloc(size),
          );
        } catch (e) {
          throw p11Error(e, 'C_Sign');
        }
      };
    } else {
      throw new CryptoError('unsupported-algorithm', `PKCS#11 signer cannot sign ${alg.kind}`);
    }
    if (!provider.supportsSync && alg.kind === 'ecdsa')
      throw new CryptoError(
        'sync-unsupported',
        'the PKCS#11 signer needs a synchronous digest (Node provider)',
      );
  }

  sign(tbs: Uint8Array): Uint8Array {
    return this.signSync(tbs);
  }

  private checkOpen(): void {
    if (this.closed) throw new CryptoError('pkcs11-error', 'the PKCS#11 signer is closed');
  }

  /** Opens a session on the token and finds an existing key pair by label/id. */
  static async open(o: Pkcs11SignerOptions): Promise<Pkcs11Signer> {
    return Pkcs11Signer.connect(o, (mod, session) => {
      const priv = findOne(mod, session, mod.lib.CKO_PRIVATE_KEY, o);
      const pub = findOne(mod, session, mod.lib.CKO_PUBLIC_KEY, o);
      return { priv, pub };
    });
  }

  /**
   * Generates a key pair on the token: private key CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_TOKEN
   * (persistent), CKA_PRIVATE (needs login); then opens a signer on it.
   */
  static async generate(o: Pkcs11GenerateOptions): Promise<Pkcs11Signer> {
    return Pkcs11Signer.connect(o, (mod, session) => {
      const { lib, p11 } = mod;
      const id = Buffer.from(o.keyId ?? provRandom(o.provider, 16));
      const common = [
        { type: lib.CKA_TOKEN, value: true },
        { type: lib.CKA_LABEL, value: o.keyLabel },
        { type: lib.CKA_ID, value: id },
      ];
      const privTemplate = [
        { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
        ...common,
        { type: lib.CKA_PRIVATE, value: true },
        { type: lib.CKA_SENSITIVE, value: true },
        { type: lib.CKA_EXTRACTABLE, value: false },
        { type: lib.CKA_SIGN, value: true },
      ];
      const pubTemplate: { type: number; value: unknown }[] = [
        { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY },
        ...common,
        { type: lib.CKA_VERIFY, value: true },
      ];
      let mechanism: number;
      if (o.keyType.startsWith('ec-')) {
        const curve: CurveName =
          o.keyType === 'ec-p256' ? 'P-256' : o.keyType === 'ec-p384' ? 'P-384' : 'P-521';
        pubTemplate.push({
          type: lib.CKA_EC_PARAMS,
          value: Buffer.from(encodeDer((w) => w.oid(CURVES[curve].oid))),
        });
        mechanism = lib.CKM_EC_KEY_PAIR_GEN;
      } else {
        pubTemplate.push({ type: lib.CKA_MODULUS_BITS, value: Number(o.keyType.slice(4)) });
        pubTemplate.push({ type: lib.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) });
        mechanism = lib.CKM_RSA_PKCS_KEY_PAIR_GEN;
      }
      try {
        const kp = p11.C_GenerateKeyPair(
          session,
          { mechanism },
          pubTemplate as Pkcs11Types.Template,
          privTemplate as Pkcs11Types.Template,
        );
        return { priv: kp.privateKey, pub: kp.publicKey };
      } catch (e) {
        throw p11Error(e, 'C_GenerateKeyPair');
      }
    });
  }

  private static async connect(
    o: Pkcs11SignerOptions,
    getKeys: (mod: LoadedModule, session: Handle) => { priv: Handle; pub: Handle },
  ): Promise<Pkcs11Signer> {
    const path = o.module ?? process.env.PKCS11_MODULE ?? DEFAULT_MODULE;
    const mod = await acquire(path);
    const { lib, p11 } = mod;
    let session: Handle | undefined;
    try {
      const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === o.tokenLabel);
      if (!slot) throw new CryptoError('key-not-found', `no token labelled "${o.tokenLabel}"`);
      session = p11.C_OpenSession(slot, lib.CKF_RW_SESSION | lib.CKF_SERIAL_SESSION);
      try {
        p11.C_Login(session, lib.CKU_USER, o.pin);
      } catch (e) {
        // PKCS#11 v2.40 §5.6: login state is per application and token, so a second signer on a
        // token this process is already logged in to (two CA keys on one HSM) finds it logged in.
        if (!/CKR_USER_ALREADY_LOGGED_IN/.test((e as Error).message)) throw p11Error(e, 'C_Login');
      }
      const { priv, pub } = getKeys(mod, session);
      const spki = readPublicKey(mod, session, pub);
      const keyAlgorithm = parseSpkiInfo(spki).algorithm;
      const algorithm = o.algorithm ?? defaultSignatureAlgorithm(keyAlgorithm);
      return new Pkcs11Signer(
        algorithm,
        spki,
        keyAlgorithm,
        mod,
        path,
        session,
        priv,
        o.provider ?? defaultProvider(),
      );
    } catch (e) {
      if (session) {
        try {
          p11.C_CloseSession(session);
        } catch {
          // The session is unusable either way; the original error is what matters.
        }
      }
      release(path);
      throw p11Error(e, 'PKCS#11');
    }
  }

  /**
   * Reads one attribute of the private key object. For a sensitive key, CKA_VALUE must fail
   * (CKR_ATTRIBUTE_SENSITIVE) — tests use this to show the key cannot be extracted.
   */
  readPrivateKeyAttribute(type: number): Uint8Array {
    this.checkOpen();
    try {
      return this.mod.p11.C_GetAttributeValue(this.session, this.privateKeyHandle, [{ type }])[0]!
        .value as Buffer;
    } catch (e) {
      throw p11Error(e, 'C_GetAttributeValue');
    }
  }

  /**
   * The PKCS#11 constants of the loaded module (CKA_VALUE, CKO_PRIVATE_KEY, …), for callers that
   * need them. Typed without pkcs11js's own types, so that fleetpki's declarations do not require
   * the optional dependency.
   */
  get pkcs11(): Pkcs11Constants {
    return this.mod.lib as unknown as Pkcs11Constants;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const { p11 } = this.mod;
    // No C_Logout: it would log out every other session of this process on the token (other
    // signers). Closing the application's last session on a token logs it out (PKCS#11 v2.40 §5.6).
    try {
      p11.C_CloseSession(this.session);
    } finally {
      release(this.modulePath);
    }
  }
}

function provRandom(p: CryptoProvider | undefined, n: number): Uint8Array {
  return (p ?? defaultProvider()).randomBytes(n);
}

function findOne(mod: LoadedModule, session: Handle, cls: number, o: Pkcs11SignerOptions): Handle {
  const { lib, p11 } = mod;
  if (o.keyLabel === undefined && o.keyId === undefined)
    throw new CryptoError('key-not-found', 'give keyLabel and/or keyId to find the key');
  const t: Pkcs11Types.Template = [{ type: lib.CKA_CLASS, value: cls }];
  if (o.keyLabel !== undefined) t.push({ type: lib.CKA_LABEL, value: o.keyLabel });
  if (o.keyId !== undefined) t.push({ type: lib.CKA_ID, value: Buffer.from(o.keyId) });
  p11.C_FindObjectsInit(session, t);
  let found: Handle[];
  try {
    found = p11.C_FindObjects(session, 2);
  } finally {
    p11.C_FindObjectsFinal(session);
  }
  const what = `${cls === lib.CKO_PRIVATE_KEY ? 'private' : 'public'} key ${o.keyLabel ?? ''}`;
  if (found.length === 0) throw new CryptoError('key-not-found', `no ${what} on the token`);
  if (found.length > 1) throw new CryptoError('key-not-found', `more than one ${what}; give keyId too`);
  return found[0]!;
}

/** Builds the SPKI from the public key object's attributes. */
function readPublicKey(mod: LoadedModule, session: Handle, pub: Handle): Uint8Array {
  const { lib, p11 } = mod;
  const [type] = p11.C_GetAttributeValue(session, pub, [{ type: lib.CKA_KEY_TYPE }]);
  // CK_ULONG in host byte order (little-endian on every platform we run on); key types are small.
  const keyType = (type!.value as Buffer).readUInt32LE(0);
  if (keyType === lib.CKK_EC) {
    const [params, point] = p11.C_GetAttributeValue(session, pub, [
      { type: lib.CKA_EC_PARAMS },
      { type: lib.CKA_EC_POINT },
    ]);
    const pr = DerReader.from(params!.value as Buffer, 'CKA_EC_PARAMS');
    const curveOid = pr.readOid('namedCurve');
    pr.finish();
    const curve = supportedCurve(curveOid);
    if (!curve) throw new CryptoError('unsupported-key-type', `token key on curve ${curveOid}`);
    // PKCS#11 v2.40 §2.3.3: CKA_EC_POINT is DER OCTET STRING(04||X||Y); some modules give the bare point.
    let pt = point!.value as Buffer as Uint8Array;
    if (pt[0] === Tag.OCTET_STRING) {
      const r = DerReader.from(pt, 'CKA_EC_POINT');
      pt = r.readOctetString('ECPoint');
      r.finish();
    }
    return ecSpki(curve.name, pt);
  }
  if (keyType === lib.CKK_RSA) {
    const [n, e] = p11.C_GetAttributeValue(session, pub, [
      { type: lib.CKA_MODULUS },
      { type: lib.CKA_PUBLIC_EXPONENT },
    ]);
    return rsaSpki(n!.value as Buffer, e!.value as Buffer);
  }
  throw new CryptoError('unsupported-key-type', `token key type ${keyType}`);
}
