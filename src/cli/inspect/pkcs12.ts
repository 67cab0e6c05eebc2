/**
 * `fleetpki inspect` of a PKCS#12 file (.p12/.pfx, RFC 7292): a summary object (MAC, how each
 * part is encrypted), then the certificates and the keys it holds — the keys described like any
 * other key, never dumped. Reading the contents needs the password: `--passphrase-file`,
 * FLEETPKI_PASSPHRASE, the empty password (tried first, as `openssl pkcs12 -passout pass:` files
 * use it), or a prompt on a terminal. Without one, only the summary is shown ('locked').
 */
import { CryptoError } from '../../crypto/errors.js';
import {
  type Pkcs12Contents,
  type Pkcs12Encryption,
  readPkcs12,
  readPkcs12Structure,
} from '../../crypto/pkcs12.js';
import { parseCertificate } from '../../x509/certificate.js';
import { CliError } from '../errors.js';
import { getPassphrase } from '../pki-files.js';
import { pkcs8View } from './keys.js';
import { type Loaded, looksLikePfx } from './load.js';
import type { EncryptionView, Pkcs12View, Source, ViewBody } from './schema.js';

/** A PFX decrypted before the (synchronous) load. */
export interface UnlockedPkcs12 {
  der: Uint8Array;
  contents: Pkcs12Contents;
}

function encryptionView(e: Pkcs12Encryption): EncryptionView {
  if ('unsupported' in e) return { scheme: e.scheme, unsupported: e.unsupported };
  if (e.kdf === 'PKCS#12 KDF')
    return {
      scheme: e.scheme,
      kdf: { name: 'PKCS#12 KDF', hash: e.hash, iterations: e.iterations, saltLength: e.saltLength },
      cipher: e.cipher,
    };
  return {
    scheme: 'PBES2',
    kdf:
      e.kdf === 'PBKDF2'
        ? { name: 'PBKDF2', prf: `HMAC-${e.prf}`, iterations: e.iterations, saltLength: e.saltLength }
        : { name: 'scrypt', N: e.N, r: e.r, p: e.p, saltLength: e.saltLength },
    cipher: e.cipher,
  };
}

function summary(der: Uint8Array, unlocked: boolean): ViewBody<Pkcs12View> {
  const s = readPkcs12Structure(der);
  return {
    type: 'pkcs12',
    mac: s.mac && {
      algorithm: `HMAC-${s.mac.hash}`,
      kdf: 'PKCS#12 KDF',
      iterations: s.mac.iterations,
      saltLength: s.mac.saltLength,
    },
    contents: s.safes.map((x) => ({
      encryption: x.encryption && encryptionView(x.encryption),
      bags: x.bags,
    })),
    status: unlocked ? 'verified' : 'locked',
    note: unlocked
      ? undefined
      : 'give the password (--passphrase-file FILE or FLEETPKI_PASSPHRASE) to see the certificates and keys',
  };
}

/** The synchronous loader `loadObjects` calls for a PFX: the summary, then what `unlocked` holds for it. */
export function pkcs12Loader(unlocked?: UnlockedPkcs12): (der: Uint8Array, source: Source) => Loaded[] {
  return (der, source) => {
    const mine = unlocked && unlocked.der.length === der.length && Buffer.compare(unlocked.der, der) === 0;
    const out: Loaded[] = [
      { source, der, parsed: { kind: 'view', view: summary(der, !!mine), redact: true } },
    ];
    if (!mine) return out;
    let i = 0;
    const inner = (): Source => ({ ...source, container: 'PKCS#12', index: ++i });
    for (const c of unlocked.contents.certificates)
      out.push({
        source: inner(),
        der: c.der,
        parsed: { kind: 'certificate', value: parseCertificate(c.der) },
      });
    for (const k of unlocked.contents.keys)
      out.push({
        source: inner(),
        der: k.pkcs8,
        parsed: { kind: 'view', view: pkcs8View(k.pkcs8), redact: true },
      });
    return out;
  };
}

/**
 * Decrypts `bytes` when they are a PFX and a password can be had (see the module comment);
 * undefined when they are not a PFX, or no password is available (the summary is then 'locked').
 * A wrong password is a one-line CliError (exit 2).
 */
export async function unlockPkcs12(
  bytes: Uint8Array,
  passphraseFile?: string,
): Promise<UnlockedPkcs12 | undefined> {
  if (!looksLikePfx(bytes)) return undefined;
  const attempt = async (password: string) => ({ der: bytes, contents: await readPkcs12(bytes, password) });
  const given = passphraseFile !== undefined || process.env.FLEETPKI_PASSPHRASE !== undefined;
  try {
    if (!given) {
      try {
        return await attempt('');
      } catch (e) {
        if (!(e instanceof CryptoError && e.code === 'bad-passphrase')) throw e;
      }
      if (!process.stdin.isTTY) return undefined;
    }
    return await attempt(await getPassphrase({ passphraseFile, purpose: 'the PKCS#12 file' }));
  } catch (e) {
    if (e instanceof CryptoError)
      throw new CliError(
        e.code === 'bad-passphrase'
          ? 'PKCS#12: bad-passphrase: wrong password (the MAC does not verify)'
          : `PKCS#12: ${e.code}: ${e.message}`,
      );
    throw e;
  }
}
