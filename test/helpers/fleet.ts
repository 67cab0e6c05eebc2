// A small fleet PKI built by fleetpki's own builders for the mTLS, EST and broker tests:
// root → issuing intermediate → devices (clientAuth) and servers (serverAuth), CRLs from the
// intermediate, and a separate "rogue" hierarchy nobody trusts. Everything is real: keys from
// node:crypto, certificates and CRLs signed by src/issue.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportKey, generateKeyPair, type KeyPair, KeySigner } from '../../src/crypto/index.js';
import { CertificateBuilder, CrlBuilder, type IssuedCertificate, Issuer } from '../../src/issue/index.js';
import type { Certificate } from '../../src/x509/index.js';

export interface Identity {
  name: string;
  cert: IssuedCertificate;
  certificate: Certificate;
  key: KeyPair;
  /** Unencrypted PKCS#8 PEM. */
  keyPem: string;
  /** The leaf's PEM. */
  certPem: string;
  /** Leaf then issuing intermediate (what devices send; RECIPES §4). */
  chainPem: string;
}

export interface Hierarchy {
  root: IssuedCertificate;
  rootIssuer: Issuer;
  int: IssuedCertificate;
  intIssuer: Issuer;
  rootPem: string;
  intPem: string;
  /** Issues a device certificate (profile device: clientAuth) with a SAN URI. */
  device(cn: string, opts?: LeafOptions): Promise<Identity>;
  /** Issues a server certificate (profile server: serverAuth) for localhost and 127.0.0.1. */
  server(cn: string, opts?: LeafOptions): Promise<Identity>;
  /** The intermediate's CRL listing the given certificates (keyCompromise). */
  crl(
    revoked?: readonly Certificate[],
    opts?: { thisUpdate?: number; nextUpdate?: number; number?: number },
  ): Promise<Uint8Array>;
  /** The root's (empty) CRL, for chain-wide CRL checks. */
  rootCrl(): Promise<Uint8Array>;
}

export interface LeafOptions {
  san?: string[];
  notBefore?: number;
  notAfter?: number;
  extKeyUsage?: string[];
}

let crlNumber = 1;

export async function makeHierarchy(label: string): Promise<Hierarchy> {
  const [rk, ik] = await Promise.all([generateKeyPair('ec-p256'), generateKeyPair('ec-p256')]);
  const rootSigner = await KeySigner.create(rk.privateKey);
  // CAs valid from a month ago, so that tests can issue already-expired leaves under them.
  const since = Date.now() - 30 * 86_400_000;
  const root = await new CertificateBuilder('root')
    .subject(`CN=${label} Root,O=fleetpki test`)
    .notBefore(since)
    .sign(rootSigner);
  const rootIssuer = Issuer.fromCertificate(root.certificate, rootSigner);
  const int = await new CertificateBuilder('intermediate')
    .subject(`CN=${label} Issuing CA,O=fleetpki test`)
    .publicKey(ik.publicKey)
    .issuer(rootIssuer)
    .notBefore(since)
    .sign();
  const intIssuer = Issuer.fromCertificate(int.certificate, await KeySigner.create(ik.privateKey));
  const intPem = int.toPem();

  async function leaf(
    profile: 'device' | 'server',
    cn: string,
    san: string[],
    o: LeafOptions,
  ): Promise<Identity> {
    const key = await generateKeyPair('ec-p256');
    const b = new CertificateBuilder(profile)
      .subject(`CN=${cn}`)
      .publicKey(key.publicKey)
      .issuer(intIssuer)
      .subjectAltName(o.san ?? san);
    if (o.notBefore !== undefined) b.notBefore(o.notBefore);
    if (o.notAfter !== undefined) b.notAfter(o.notAfter);
    if (o.extKeyUsage) b.extKeyUsage(o.extKeyUsage);
    const cert = await b.sign();
    const keyPem = await exportKey(key.privateKey, { format: 'pkcs8' });
    return {
      name: cn,
      cert,
      certificate: cert.certificate,
      key,
      keyPem,
      certPem: cert.toPem(),
      chainPem: cert.toPem() + intPem,
    };
  }

  return {
    root,
    rootIssuer,
    int,
    intIssuer,
    rootPem: root.toPem(),
    intPem,
    device: (cn, o = {}) => leaf('device', cn, [`uri:urn:fleetpki:device:${cn}`], o),
    server: (cn, o = {}) => leaf('server', cn, ['dns:localhost', 'ip:127.0.0.1'], o),
    crl: async (revoked = [], o = {}) => {
      const b = new CrlBuilder(intIssuer).crlNumber(o.number ?? crlNumber++);
      if (o.thisUpdate !== undefined) b.thisUpdate(o.thisUpdate);
      if (o.nextUpdate !== undefined) b.nextUpdate(o.nextUpdate);
      for (const c of revoked) b.revoke({ serialNumber: c.serialNumber, reason: 'keyCompromise' });
      return (await b.sign()).der;
    },
    rootCrl: async () => (await new CrlBuilder(rootIssuer).crlNumber(crlNumber++).sign()).der,
  };
}

/** A temporary directory removed by `remove()`. */
export function tempDir(prefix: string): {
  dir: string;
  file: (name: string, data?: string | Uint8Array) => string;
  remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), `fleetpki-${prefix}-`));
  return {
    dir,
    file: (name, data) => {
      const p = join(dir, name);
      if (data !== undefined) writeFileSync(p, data);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
