import type { BoundedMap } from '../cache/bounded-map.js';
import { bytesEqual } from '../der/bytes.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import { boundedCache } from './build.js';

/**
 * Parsed certificates by their exact DER, shared across verifications. A TLS server sees the
 * same intermediates (and, per device, the same leaf) in handshake after handshake; with this
 * cache each distinct certificate is parsed once. Lookups hash the DER (FNV-1a) and confirm with
 * a byte comparison, so a hit returns the object parsed from identical bytes. Bounded, least
 * recently used first (cache/ `BoundedMap`).
 *
 *   const certs = new CertificateCache();
 *   verifyPathSync({ leaf: der, intermediates: [intDer], trustAnchors, certificateCache: certs });
 */
export class CertificateCache {
  /** By FNV-1a of the DER; a bucket holds the (rare) certificates whose hashes collide. */
  private readonly map: BoundedMap<number, Certificate[]> | undefined;

  /** `maxEntries` 0: every certificate is parsed anew. */
  constructor(readonly maxEntries = 10_000) {
    this.map = boundedCache(maxEntries, 'CertificateCache');
  }

  /** The parsed certificate for `der` (parsed now on a miss; parse errors are thrown as usual). */
  get(der: Uint8Array): Certificate {
    if (!this.map) return parseCertificate(der);
    const h = fnv1a(der);
    const bucket = this.map.get(h);
    if (bucket) for (const c of bucket) if (bytesEqual(c.der, der)) return c;
    const cert = parseCertificate(der);
    this.map.set(h, bucket ? [...bucket.slice(-(MAX_BUCKET - 1)), cert] : [cert]);
    return cert;
  }

  /** Distinct hashes held (certificates, but for collisions): at most `maxEntries`. */
  get size(): number {
    return this.map?.size ?? 0;
  }
}

/** Certificates kept per hash: colliding DER (FNV-1a is not collision-resistant) cannot grow a bucket. */
const MAX_BUCKET = 4;

function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}
