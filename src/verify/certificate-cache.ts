import { bytesEqual } from '../der/bytes.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';

/**
 * Parsed certificates by their exact DER, shared across verifications. A TLS server sees the
 * same intermediates (and, per device, the same leaf) in handshake after handshake; with this
 * cache each distinct certificate is parsed once. Lookups hash the DER (FNV-1a) and confirm with
 * a byte comparison, so a hit returns the object parsed from identical bytes. Bounded LRU.
 *
 *   const certs = new CertificateCache();
 *   verifyPathSync({ leaf: der, intermediates: [intDer], trustAnchors, certificateCache: certs });
 */
export class CertificateCache {
  private readonly map = new Map<number, Certificate[]>();
  private count = 0;

  constructor(readonly maxEntries = 10_000) {}

  /** The parsed certificate for `der` (parsed now on a miss; parse errors are thrown as usual). */
  get(der: Uint8Array): Certificate {
    const h = fnv1a(der);
    const bucket = this.map.get(h);
    if (bucket)
      for (const c of bucket)
        if (bytesEqual(c.der, der)) {
          // Most recently used last, so eviction takes the oldest bucket first.
          this.map.delete(h);
          this.map.set(h, bucket);
          return c;
        }
    const cert = parseCertificate(der);
    if (this.count >= this.maxEntries) {
      const oldest = this.map.entries().next().value;
      if (oldest) {
        this.map.delete(oldest[0]);
        this.count -= oldest[1].length;
      }
    }
    if (bucket) bucket.push(cert);
    else this.map.set(h, [cert]);
    this.count++;
    return cert;
  }

  get size(): number {
    return this.count;
  }
}

function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}
