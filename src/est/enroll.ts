import type { KeyType } from '../crypto/algorithms.js';
import { generateKeyPair, type PrivateKey } from '../crypto/keys.js';
import { KeySigner, type Signer } from '../crypto/signer.js';
import { bytesEqual } from '../der/bytes.js';
import { CsrBuilder } from '../issue/csr.js';
import { verifyPath } from '../verify/index.js';
import type { Certificate } from '../x509/certificate.js';
import type { GeneralName } from '../x509/general-name.js';
import type { Name } from '../x509/name.js';
import type { EstClient } from './client.js';
import { EstError } from './errors.js';

/**
 * The device's enrollment flow on top of `EstClient`: make a key (or use the given signer), make
 * the CSR, enroll (/simpleenroll) or renew (/simplereenroll, keeping subject and SAN as RFC 7030
 * §4.2.2 requires, with a fresh key unless told otherwise), then check what came back with our
 * path validation against the device's trust anchors (purpose clientAuth) and assemble the chain
 * the device will present: its certificate, then the CA certificates from /cacerts up to (not
 * including) the anchor. Nothing is written here; the caller stores key and chain (atomically).
 *
 *   const r = await enrollDevice(est, { subject: 'CN=device-001', trustAnchors: [root] });
 *   // r.privateKey, r.chain (leaf first)
 */
export interface EnrollDeviceOptions {
  /** Subject for a first enrollment (RFC 4514 text or a Name). */
  subject?: string | Name;
  /** subjectAltName for a first enrollment (`uri:…`, `dns:…`, …). */
  san?: readonly (string | GeneralName)[];
  /** Renew this certificate (the client must authenticate with it); subject and SAN are copied. */
  renew?: Certificate;
  /** Key for the new certificate: generate one of this type (default `ec-p256`), or use a signer. */
  keyType?: KeyType;
  signer?: Signer;
  /** The device's anchors for checking the issued chain (usually the client's own). */
  trustAnchors: readonly Certificate[];
  /** Validation time (tests). */
  now?: () => number;
}

export interface EnrolledDevice {
  /** The new key, when one was generated (absent when a signer was given). */
  privateKey?: PrivateKey;
  certificate: Certificate;
  /** The certificate followed by the CA certificates below the anchor, in path order. */
  chain: Certificate[];
}

export async function enrollDevice(est: EstClient, o: EnrollDeviceOptions): Promise<EnrolledDevice> {
  let privateKey: PrivateKey | undefined;
  let signer = o.signer;
  if (!signer) {
    privateKey = (await generateKeyPair(o.keyType ?? 'ec-p256')).privateKey;
    signer = await KeySigner.create(privateKey);
  }
  const b = new CsrBuilder();
  if (o.renew) {
    b.subject(o.renew.subject);
    if (o.renew.subjectAltName) b.subjectAltName(o.renew.subjectAltName);
  } else {
    if (o.subject === undefined) throw new EstError('bad-input', 'a first enrollment needs a subject');
    b.subject(o.subject);
    if (o.san?.length) b.subjectAltName(o.san);
  }
  const csr = await b.sign(signer);
  const issued = o.renew ? await est.simplereenroll(csr) : await est.simpleenroll(csr);
  if (o.renew && !bytesEqual(issued.certificate.subject.der, o.renew.subject.der))
    throw new EstError('bad-input', 'the renewed certificate does not keep the subject (RFC 7030 §4.2.2)');

  // Build and check the path with the CA certificates the server distributes. The client's caches
  // already hold what it checked of the server's chain (usually the same intermediate and root).
  const cas = await est.cacerts();
  const v = await verifyPath({
    leaf: issued.certificate,
    intermediates: [...issued.certificates, ...cas],
    trustAnchors: o.trustAnchors,
    purpose: 'clientAuth',
    time: o.now?.(),
    signatureCache: est.verifier.signatureCache,
    certificateCache: est.verifier.certificateCache,
  });
  if (!v.ok)
    throw new EstError('no-certificate', `the issued certificate does not validate: ${v.code}: ${v.message}`);
  return { privateKey, certificate: issued.certificate, chain: v.chain.slice(0, -1) };
}

/**
 * Whether a certificate should be renewed now: when less than `fraction` (default ⅓) of its
 * lifetime remains — the usual point for automated renewal (e.g. ACME clients renew at ⅓ left).
 */
export function renewalDue(cert: Certificate, now = Date.now(), fraction = 1 / 3): boolean {
  const life = cert.notAfter - cert.notBefore;
  return cert.notAfter - now < life * fraction;
}

/**
 * How long a watcher sleeps before looking again: until the renewal point (bounded by
 * `maxMs`, default an hour, so clock changes and new thresholds are noticed), or — after
 * `failures` consecutive failures — an exponential backoff from `baseMs` (default 5 s) to `maxMs`;
 * both spread by ±`jitter` (default 20 %) so a fleet does not renew in lockstep.
 */
export function nextCheckDelay(
  cert: Certificate | undefined,
  o: {
    now?: number;
    fraction?: number;
    failures?: number;
    baseMs?: number;
    maxMs?: number;
    jitter?: number;
    random?: () => number;
  } = {},
): number {
  const now = o.now ?? Date.now();
  const max = o.maxMs ?? 3_600_000;
  const jitter = o.jitter ?? 0.2;
  const rnd = o.random ?? Math.random;
  let ms: number;
  if (o.failures && o.failures > 0)
    ms = Math.min(max, (o.baseMs ?? 5000) * 2 ** Math.min(o.failures - 1, 30));
  else if (!cert) ms = 0;
  else {
    const due = cert.notAfter - (cert.notAfter - cert.notBefore) * (o.fraction ?? 1 / 3);
    ms = Math.min(max, Math.max(0, due - now));
  }
  return Math.max(0, Math.round(ms * (1 + jitter * (2 * rnd() - 1))));
}
