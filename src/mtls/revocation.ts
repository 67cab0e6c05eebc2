import { bytesEqual } from '../der/bytes.js';
import {
  createRevocationChecker,
  type PolicyRevocationChecker,
  type RevocationPolicy,
} from '../revocation/checker.js';
import { RevocationError } from '../revocation/errors.js';
import type { SerialStatus, StatusSource } from '../revocation/status-source.js';
import type { RevocationChecker, RevocationContext, RevocationStatus } from '../verify/policy.js';
import type { Certificate } from '../x509/certificate.js';
import type { CertificateList } from '../x509/crl.js';

/**
 * Revocation sources for peers verified in a TLS handshake. Any verify-layer `RevocationChecker`
 * works; these two cover what a relying party next to the CA has:
 *  - `StatusLookupRevocation`: the CA's own records (its store) answer directly, no CRL or OCSP
 *    round trip — the status the CA service's store provides, by issuer and serial;
 *  - `CrlRevocation`: given CRLs (RFC 5280 §6.3), replaced as fresh ones are published.
 * Both answer synchronously when they can, so `verifyPathSync` runs them inside the handshake.
 */

/** A status question: the certificate, its issuer in the validated path, its serial. */
export interface StatusQuery {
  cert: Certificate;
  issuer: Certificate;
  /** `cert.serialHex` (lower-case hex of the INTEGER content, no sign octet). */
  serialHex: string;
  /** Position in the path (leaf = 0). */
  index: number;
  /** Validation time, epoch ms. */
  time: number;
}

/**
 * Answers a `StatusQuery`: the status the issuing CA recorded, or `undefined` when it never issued
 * that serial (verification then treats the status as unknown: refused under the default policy).
 * A synchronous answer keeps verification inside the handshake; a Promise makes it asynchronous.
 */
export type StatusLookup = (q: StatusQuery) => SerialStatus | undefined | Promise<SerialStatus | undefined>;

function toStatus(s: SerialStatus | undefined): RevocationStatus {
  if (s === undefined) return { status: 'unknown', why: 'the issuer has no record of this serial' };
  if (s.status === 'good') return { status: 'good' };
  return { status: 'revoked', reason: s.reason ?? 'unspecified', revocationDate: s.revocationTime };
}

/**
 * A `RevocationChecker` over a `StatusLookup`. `scope` `chain` (default) asks about every
 * certificate below the anchor — the CA's store knows its intermediates too — `leaf` only about
 * the peer's own certificate.
 *
 *   const revocation = new StatusLookupRevocation(({ serialHex }) => store.status('int', serialHex));
 */
export class StatusLookupRevocation implements RevocationChecker {
  readonly scope: 'leaf' | 'chain';

  constructor(
    private readonly lookup: StatusLookup,
    opts: { scope?: 'leaf' | 'chain' } = {},
  ) {
    this.scope = opts.scope ?? 'chain';
  }

  private query(ctx: RevocationContext): StatusQuery | undefined {
    if (this.scope === 'leaf' && ctx.index > 0) return undefined;
    return {
      cert: ctx.cert,
      issuer: ctx.issuer,
      serialHex: ctx.cert.serialHex,
      index: ctx.index,
      time: ctx.time,
    };
  }

  check(ctx: RevocationContext): RevocationStatus | Promise<RevocationStatus> {
    const q = this.query(ctx);
    if (!q) return { status: 'good' };
    const s = this.lookup(q);
    return s instanceof Promise ? s.then(toStatus) : toStatus(s);
  }

  /** Throws `RevocationError('async-required')` when the lookup answers with a Promise. */
  checkSync(ctx: RevocationContext): RevocationStatus {
    const q = this.query(ctx);
    if (!q) return { status: 'good' };
    const s = this.lookup(q);
    if (s instanceof Promise) {
      s.catch(() => {}); // the asynchronous path will ask again
      throw new RevocationError('async-required', 'the status lookup is asynchronous');
    }
    return toStatus(s);
  }
}

/**
 * A `StatusLookup` over the revocation layer's `StatusSource` (what the OCSP responder and the CRL
 * publisher read): the path's issuer is matched to one of `issuers` by subject and public key —
 * so a re-issued CA certificate with the same name and key still matches — and its id asked.
 */
export function lookupFromStatusSource(
  source: StatusSource,
  issuers: readonly { id: string; certificate: Certificate }[],
): StatusLookup {
  // Issuer certificates come from the path (parsed once by the caches): remember their ids.
  const ids = new WeakMap<Certificate, string | null>();
  return (q) => {
    let id = ids.get(q.issuer);
    if (id === undefined) {
      const entry = issuers.find(
        (i) =>
          bytesEqual(i.certificate.subject.der, q.issuer.subject.der) &&
          bytesEqual(i.certificate.subjectPublicKeyInfo.der, q.issuer.subjectPublicKeyInfo.der),
      );
      id = entry ? entry.id : null;
      ids.set(q.issuer, id);
    }
    return id === null ? undefined : source.lookup(id, q.serialHex);
  };
}

/**
 * Given CRLs as a revocation source, replaceable while servers run (`update` on each
 * publication; connections verified afterwards see the new CRLs). Processing is the revocation
 * layer's (RFC 5280 §6.3.3: signer, scope, freshness, delta CRLs); sources are only the CRLs at
 * hand, so it answers synchronously. A stale CRL makes the status unknown — refused by default —
 * which is why publishers replace CRLs well before nextUpdate.
 */
export class CrlRevocation implements RevocationChecker {
  private inner: PolicyRevocationChecker;

  constructor(
    crls: readonly (CertificateList | Uint8Array | string)[],
    private readonly policy: Partial<Omit<RevocationPolicy, 'crls' | 'sources'>> = {},
  ) {
    this.inner = this.make(crls);
  }

  private make(crls: readonly (CertificateList | Uint8Array | string)[]): PolicyRevocationChecker {
    return createRevocationChecker({ ...this.policy, sources: ['crl'], crls });
  }

  /** Replaces the CRLs (parsed now; a bad CRL throws and the previous ones stay in force). */
  update(crls: readonly (CertificateList | Uint8Array | string)[]): void {
    this.inner = this.make(crls);
  }

  check(ctx: RevocationContext): Promise<RevocationStatus> {
    return this.inner.check(ctx);
  }

  checkSync(ctx: RevocationContext): RevocationStatus {
    return this.inner.checkSync(ctx);
  }
}
